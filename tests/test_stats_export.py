"""Daily stats exported from the admin as CSV and XLSX, for the date range and scope the list is filtered to."""

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from stats.admin import DailyStatsResource
from tests.factories import make_daily_stats

pytestmark = pytest.mark.django_db

EXPORT = "/admin/stats/dailystats/export/"
CHANGELIST = "/admin/stats/dailystats/"
RANGE = {"date__gte": "2025-03-02", "date__lte": "2025-03-04"}


@pytest.fixture
def days():
    relief = {"Urgent": {"count": 4, "mean": 2.0, "median": 1.5, "histogram": {}}, "Low": {"count": 1, "median": 9}}
    for day in range(1, 7):
        make_daily_stats(date(2025, 3, day), open_cases=100 + day, high_prio=day, escalated=2, relief_days=relief)
        make_daily_stats(date(2025, 3, day), "account:Acme Telco", open_cases=day)


def export(admin_client, fmt: int, params: dict):
    """The admin's export form, as a browser submits it: every column ticked, in the chosen format."""
    form = admin_client.get(EXPORT, params)
    assert form.status_code == 200
    data = {"format": str(fmt), "resource": "0"}
    data |= {f"dailystatsresource_{name}": "on" for name in DailyStatsResource().get_export_order()}
    # The form posts back to its own URL: the filters travel in the query string.
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = admin_client.post(f"{EXPORT}?{query}", data)
    assert response.status_code == 200, response.content[:500]
    return response


def test_it_exports_the_filtered_days_as_csv(admin_client, days):
    response = export(admin_client, 0, {**RANGE, "scope": "all"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["date"], r["scope"]) for r in rows] == [(f"2025-03-0{d}", "all") for d in (4, 3, 2)]
    first = rows[0]
    assert (first["open_cases"], first["high_prio"], first["prio_list"], first["crit_sit"]) == ("104", "4", "2", "0")
    assert first["relief_median_urgent"] == "1.5" and first["relief_median_low"] == "9"
    assert first["relief_median_high"] == "" and first["relief_count"] == "5"
    assert list(rows[0])[:3] == ["date", "scope", "computed_at"]


def test_it_exports_every_scope_of_the_range_as_xlsx(admin_client, days):
    response = export(admin_client, 1, RANGE)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, *rows = list(sheet.values)
    by_name = [dict(zip(header, row, strict=True)) for row in rows]
    assert len(by_name) == 6  # three days, two scopes
    assert {r["scope"] for r in by_name} == {"all", "account:Acme Telco"}
    assert {str(r["date"])[:10] for r in by_name} == {"2025-03-02", "2025-03-03", "2025-03-04"}
    acme = next(r for r in by_name if r["scope"] == "account:Acme Telco" and str(r["date"]).startswith("2025-03-03"))
    assert acme["open_cases"] == 3


def test_it_filters_the_list_by_a_typed_date_range(admin_client, days):
    page = admin_client.get(CHANGELIST, {**RANGE, "scope": "all"}).content.decode()
    assert "3 daily stats" in page
    assert 'name="date__gte" value="2025-03-02"' in page and 'name="date__lte" value="2025-03-04"' in page
    assert 'type="hidden" name="scope" value="all"' in page  # the other filters are kept
    assert f'href="{EXPORT}?' in page and "date__gte=2025-03-02" in page  # the export link keeps the range
    assert "6 daily stats" in admin_client.get(CHANGELIST, {"date__gte": "2025-03-04"}).content.decode()
    # A date that is no date: said in words, the list unfiltered (not the admin's "Database error" page).
    response = admin_client.get(CHANGELIST, {"date__gte": "03/02/2025"})
    assert response.status_code == 200
    assert "From: “03/02/2025” is not a date; enter it as YYYY-MM-DD" in response.content.decode()
    assert 'placeholder="YYYY-MM-DD"' in response.content.decode()
