"""The cases table in a real browser: filters kept in the URL, expanded rows, exports of what the table shows."""

import csv
import io
import re
from collections import Counter
from html import unescape

import openpyxl
from django.db.models import Count
from playwright.sync_api import expect

from bugs.models import Bug
from cards.models import Card, CardComment
from cases.models import Case
from t5g.templatetags.markup import comment_html

ROWS = "table.case-table > tbody > tr[id^='case-']"


def shown_cases(page) -> list[str]:
    return [row_id.removeprefix("case-") for row_id in page.locator(ROWS).evaluate_all("rows => rows.map(r => r.id)")]


def view_state(page) -> dict:
    """What a person sees of the view: its rows in order and every filter and sort control."""
    return {
        "rows": shown_cases(page),
        "count": page.locator(".cases-head h1 .count").inner_text(),
        "chips": page.locator(".chips .chip").all_inner_texts(),
        "checked": page.locator(".facets-panel [role=checkbox][aria-checked=true]").all_inner_texts(),
        "search": page.get_by_label("Search").input_value(),
        "sorted": page.locator("thead th[aria-sort]").all_inner_texts(),
        "view": page.get_by_role("navigation", name="Views").locator("[aria-current=page]").inner_text(),
    }


def busiest_urgent_account() -> str:
    counts = Counter(Case.objects.filter(severity=1).exclude(account="").values_list("account", flat=True))
    return counts.most_common(1)[0][0]


def filter_urgent_cases_of(page, account: str) -> None:
    """All cases, Urgent only, searched by account, longest open first: each step through the page's own controls."""
    page.goto("/cases/")
    page.get_by_role("navigation", name="Views").get_by_role("link", name="All cases").click()
    expect(page).to_have_url(re.compile(r"view=all"))
    severity = page.locator(".facet", has=page.get_by_role("heading", name="Severity", exact=True))
    severity.get_by_role("checkbox", name=re.compile("Urgent")).click()
    expect(page).to_have_url(re.compile(r"severity=1"))
    search = page.get_by_label("Search")
    search.fill(account)
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q="))
    page.locator("thead").get_by_role("link", name=re.compile(r"^Days open")).click()
    expect(page.locator("thead th[aria-sort]")).to_have_text(re.compile(r"Days open"))
    expect(page.locator(ROWS).first).to_be_visible()


def test_it_shows_the_same_view_again_from_its_bookmarked_url(member_page, stack, orm):
    page = member_page
    account = busiest_urgent_account()
    filter_urgent_cases_of(page, account)
    expect(page.locator(".chips .chip")).not_to_have_count(0)
    for row in page.locator(ROWS).all():
        expect(row.locator(".sev")).to_have_text("Urgent")
    before = view_state(page)
    bookmark = page.url

    page.reload()
    assert view_state(page) == before
    # A bookmark opened in another tab, with nothing left over from the session in the page.
    other = page.context.new_page()
    other.goto(bookmark)
    assert view_state(other) == before
    assert before["search"] == account and before["view"] == "All cases"
    expected = Case.objects.filter(severity=1, account=account).count()
    per = int(other.get_by_label("Rows").input_value())
    assert len(before["rows"]) == min(expected, per) and before["count"].startswith(str(expected))


def test_it_expands_a_row_to_its_bugs_and_comments(member_page, stack, orm):
    page = member_page
    case = (
        Case.objects.annotate(n_bugs=Count("bugs", distinct=True), n_comments=Count("cards__comments", distinct=True))
        .filter(n_bugs__gt=0, n_comments__gt=0, cards__active=True)
        .order_by("-n_comments", "number")
        .first()
    )
    assert case, "the sandbox gave no case with both bugs and card comments"
    bugs = list(Bug.objects.filter(cases=case).values_list("id", flat=True))
    card = Card.objects.get(case=case, active=True)
    newest = CardComment.objects.filter(card=card).order_by("-created_at").first()

    page.goto(f"/cases/?view=all&q={case.number}")
    expect(page.locator(ROWS)).to_have_count(1)
    expand = page.locator(f"#case-{case.number} a.expand")
    with page.expect_response(re.compile(rf"/cases/{case.number}/row/")) as fetched:
        expand.click()
    assert fetched.value.status == 200
    detail = page.locator(f"#detail-{case.number}")
    expect(detail).to_be_visible()
    expect(expand).to_have_attribute("aria-expanded", "true")
    expect(detail.locator("h3", has_text="Bugs")).to_have_text(f"Bugs ({len(bugs)})")
    for bug in bugs:
        expect(detail).to_contain_text(str(bug))
    expect(detail).to_contain_text(card.key)
    # As the page shows it: its wiki markup rendered (t5g/markup.py), or plain text until then.
    first_text = next(t for t in re.split(r"<[^>]+>", str(comment_html(newest))) if t.strip())
    expect(detail.locator("ol.comments").first).to_contain_text(unescape(first_text).strip()[:80])

    # A second click folds it away without another request.
    expand.click()
    expect(detail).to_have_count(0)
    expect(expand).to_have_attribute("aria-expanded", "false")


def exported_cases(rows: list[list]) -> list[str]:
    header, *body = rows
    assert header[0] == "Case", f"unexpected export header {header}"
    return [str(r[0]) for r in body if r]


def test_it_exports_exactly_the_rows_of_the_filtered_table(member_page, stack, orm, tmp_path):
    page = member_page
    filter_urgent_cases_of(page, busiest_urgent_account())
    shown = shown_cases(page)
    per = int(page.get_by_label("Rows").input_value())
    assert len(shown) < per, "the filter must fit one page for the table to show every exported row"

    with page.expect_download() as download:
        page.locator(".exports").get_by_role("link", name="CSV").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.suffix == ".csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert exported_cases(rows) == shown

    with page.expect_download() as download:
        page.locator(".exports").get_by_role("link", name="XLSX").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.suffix == ".xlsx"
    sheet = openpyxl.load_workbook(path, read_only=True).active
    assert exported_cases([list(r) for r in sheet.iter_rows(values_only=True)]) == shown


def test_it_selects_several_values_of_a_facet(member_page, stack, orm):
    page = member_page
    page.goto("/cases/?view=all")
    severity = page.locator(".facet", has=page.get_by_role("heading", name="Severity", exact=True))
    severity.get_by_role("checkbox", name=re.compile("Urgent")).click()
    expect(page).to_have_url(re.compile(r"severity=1"))
    # The other severities stay, with their counts, to be added.
    high = severity.get_by_role("checkbox", name=re.compile("High"))
    expect(high).to_have_attribute("aria-checked", "false")
    high.click()
    expect(page).to_have_url(re.compile(r"severity=1&severity=2|severity=2&severity=1"))
    expect(severity.locator("[role=checkbox][aria-checked=true]")).to_have_count(2)
    wanted = Case.objects.filter(severity__in=[1, 2]).count()
    expect(page.locator(".cases-head h1 .count")).to_have_text(f"{wanted} case{'s' if wanted != 1 else ''}")
