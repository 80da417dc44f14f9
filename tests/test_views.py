"""Issue 15's views: the recently commented table, multi-column sort, the card layouts of all cards and
trends, copy buttons, and the header's "data as of" each source."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cards.models import CardComment
from cases.forms import CaseQueryForm
from t5g.models import SyncRun
from t5g.sync.runner import run_job
from tests.factories import make_card, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    client = Client()
    client.force_login(get_user_model().objects.create_user("member"))
    return client


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content.decode()[:2000]
    return re.findall(r'<tr id="case-(\w+)"', response.content.decode())


def comment(card, cid: str, when, body: str = "a word") -> CardComment:
    return CardComment.objects.create(id=cid, card=card, body=body, author="Bob", created_at=when)


# --- view=commented --------------------------------------------------------------------------------------
@pytest.fixture
def commented():
    """Cards commented on 2, 10 and 40 days ago; a closed case commented today; a deleted comment; no card."""
    comment(make_card(make_case("05000001", severity=2)), "c1", ago(days=2))
    comment(make_card(make_case("05000002", severity=1)), "c2", ago(days=10))
    comment(make_card(make_case("05000003", severity=3)), "c3", ago(days=40))
    comment(make_card(make_case("05000004", severity=4, status="Closed")), "c4", ago(hours=1))
    CardComment.objects.filter(pk=comment(make_card(make_case("05000005")), "c5", ago(hours=1)).pk).update(
        removed_at=ago(minutes=1)
    )
    make_case("05000006")


def test_it_shows_the_cases_commented_on_in_the_last_seven_days_by_default(client, commented):
    response = client.get("/cases/", {"view": "commented"})
    # Closed cases too (the old /table/ showed every card commented on); a deleted comment does not count.
    assert numbers(response) == ["05000001", "05000004"]
    html = response.content.decode()
    assert "Recently commented" in html and 'name="days" min="1" max="90" value="7"' in html


def test_it_takes_the_window_of_the_commented_view_in_days(client, commented):
    assert numbers(client.get("/cases/", {"view": "commented", "days": 14})) == ["05000002", "05000001", "05000004"]
    assert numbers(client.get("/cases/", {"view": "commented", "days": 90})) == [
        "05000002", "05000001", "05000003", "05000004"
    ]  # fmt: skip
    # The window composes with the filters and stays in every link of the page.
    response = client.get("/cases/", {"view": "commented", "days": 14, "severity": 1})
    assert numbers(response) == ["05000002"]
    # "clear all" keeps the window.
    assert '<a href="/cases/?view=commented&amp;days=14">clear all</a>' in response.content.decode().replace(
        ' hx-get="/cases/?view=commented&amp;days=14"', ""
    )
    assert "/cases/?view=commented&amp;days=14&amp;severity=1&amp;sort=-severity" in response.content.decode()


def test_it_refuses_a_bad_window_and_ignores_days_outside_the_commented_view(client, commented):
    response = client.get("/cases/", {"view": "commented", "days": 0})
    assert response.status_code == 400
    assert "“days”: a whole number of days from 1 to 90." in unescape(response.content.decode())
    assert numbers(client.get("/cases/", {"view": "commented", "days": 0}, HTTP_HX_REQUEST="true")) == [
        "05000001", "05000004"
    ]  # fmt: skip
    assert CaseQueryForm(QueryDict("view=all&days=30")).query().querystring() == "view=all"


# --- multi-column sort -----------------------------------------------------------------------------------
@pytest.fixture
def sortable():
    make_case("06000001", severity=2, account="Beta", created_at=ago(days=5))
    make_case("06000002", severity=2, account="Alpha", created_at=ago(days=9))
    make_case("06000003", severity=1, account="Beta", created_at=ago(days=1))
    make_case("06000004", severity=2, account="Alpha", created_at=ago(days=2))
    make_case("06000005", severity=1, account="Alpha", created_at=ago(days=1))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("sort=account,-days_open", ["06000002", "06000004", "06000005", "06000001", "06000003"]),
        ("sort=account,days", ["06000005", "06000004", "06000002", "06000003", "06000001"]),  # an alias
        ("sort=-severity,account", ["06000002", "06000004", "06000001", "06000005", "06000003"]),
        ("sort=severity&sort=-account", ["06000003", "06000005", "06000001", "06000002", "06000004"]),  # repeated
        # Ties on every key end on the case number: pages never overlap.
        ("sort=severity,account", ["06000005", "06000003", "06000002", "06000004", "06000001"]),
        ("sort=account", ["06000005", "06000002", "06000004", "06000003", "06000001"]),  # single sorts unchanged
    ],
)
def test_it_sorts_by_several_columns(client, sortable, params, expected):
    assert numbers(client.get(f"/cases/?{params}")) == expected


def test_it_keeps_the_sort_keys_in_the_canonical_url_once_each(client, sortable):
    query = CaseQueryForm(QueryDict("sort=-severity&sort=days,account,-severity")).query()
    assert query.sort == "-severity,days_open,account"
    assert query.querystring() == "sort=-severity,days_open,account"
    assert CaseQueryForm(QueryDict(query.querystring())).query() == query
    response = client.get("/cases/", {"sort": "nope,account"}, HTTP_HX_REQUEST="true")
    assert "no column named &#x27;nope&#x27;" in response.content.decode()
    assert client.get("/cases/", {"sort": "case,summary,product,account,updated"}).status_code == 400  # 5 keys


def header(html: str, label: str) -> str:
    found = re.search(rf"<th[^>]*>(?:(?!</th>).)*?>{label}\b(?:(?!</th>).)*</th>", html, re.S)
    assert found, label
    return found.group(0)


def test_it_marks_each_sorted_column_with_its_direction_and_place(client, sortable):
    html = client.get("/cases/", {"sort": "account,-days_open"}).content.decode()
    account, days, case = header(html, "Account"), header(html, "Days open"), header(html, "Case")
    # aria-sort on the primary sort's header only (WAI-ARIA: one at a time); the place is said to readers too.
    assert 'aria-sort="ascending"' in account and "▲<sup>1</sup>" in account
    assert "aria-sort" not in days and "▼<sup>2</sup>" in days and "(sort 2, descending)" in days
    assert "aria-sort" not in case and "sort-mark" not in case
    # A click sorts by the column alone (turning it when it is the primary); a shift-click adds or turns it.
    links = {name: dict(re.findall(r'(href|data-sort-add)="/cases/\?([^"]*)"', header(html, name))) for name in
             ("Account", "Days open", "Case")}  # fmt: skip
    assert links["Account"] == {"href": "sort=-account", "data-sort-add": "sort=-account,-days_open"}
    assert links["Days open"] == {"href": "sort=days_open", "data-sort-add": "sort=account,days_open"}
    assert links["Case"] == {"href": "sort=case", "data-sort-add": "sort=account,-days_open,case"}
    # At the most keys, a shift-click replaces the last one: the primary sorts stay.
    full = CaseQueryForm(QueryDict("sort=account,-days_open,case,status")).query()
    assert full.sorted_also_by("summary") == "sort=account,-days_open,case,summary"
    assert full.sorted_also_by("case") == "sort=account,-days_open,-case,status"
    # One sort key: no numbers.
    assert "<sup>" not in header(client.get("/cases/", {"sort": "account"}).content.decode(), "Account")


def test_it_sorts_by_several_columns_in_a_bounded_number_of_queries(client, sortable):
    client.get("/cases/")
    with CaptureQueriesContext(connection) as one:
        client.get("/cases/", {"sort": "account", "per": 2})
    with CaptureQueriesContext(connection) as four:
        client.get("/cases/", {"sort": "account,-days,status,prio", "per": 2})
    assert len(four) == len(one)


# --- copy buttons ----------------------------------------------------------------------------------------
def test_it_offers_to_copy_a_case_number_and_its_summary_line(client, settings):
    settings.JIRA_URL = "https://jira.example.com"
    make_card(make_case("07000001", severity=1, account="Acme <Telco>", summary='Pods "restart"'), key="T5G-9")
    html = client.get("/cases/").content.decode()
    row = html[html.index('<tr id="case-07000001"') :]
    assert 'class="copy" title="Copy case number" data-copy="07000001"' in row
    line = re.search(r'data-copy="(07000001 [^"]*)"', row).group(1)
    assert unescape(line) == '07000001 Urgent Acme <Telco>: Pods "restart" https://jira.example.com/browse/T5G-9'


def test_it_offers_to_copy_the_weekly_report(client):
    comment(make_card(make_case("07000002")), "w1", ago(hours=1))
    html = client.get("/weekly/").content.decode()
    button = '<button type="button" class="copy copy-text" data-copy-target=".weekly" hidden>Copy the report</button>'
    assert button in html
    assert html.count('<div class="weekly">') == 1


# --- card layouts: all cards and trends ------------------------------------------------------------------
@pytest.fixture
def cards():
    quiet = make_card(make_case("08000001", account="Alpha", upstream_updated_at=ago(days=30)))
    comment(quiet, "q1", ago(days=20), body="said weeks ago")
    make_card(make_case("08000002", account="Beta", status="Closed", upstream_updated_at=ago(days=30)))
    trending = make_card(make_case("08000003", account="Beta", upstream_updated_at=ago(days=30)), labels=["Trends"])
    comment(trending, "t1", ago(days=60), body="trend noted")
    make_card(make_case("08000004", account="Gamma", upstream_updated_at=ago(hours=1)), labels=["Trendsetter"])


def card_numbers(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'<article class="card" id="case-(\w+)"', response.content.decode())


def test_it_lays_out_all_cards_grouped_by_account_and_status(client, cards):
    response = client.get("/updates/", {"scope": "all"})
    assert card_numbers(response) == ["08000001", "08000003", "08000002"] + ["08000004"]
    html = response.content.decode()
    assert "<h1>All cards</h1>" in html and "said weeks ago" in html  # newest comments, whatever their age
    assert 'name="days"' not in html  # no window
    assert '<a class="table-view" href="/cases/?view=all">Table view</a>' in html
    assert 'href="/updates/?scope=all" class="current" aria-current="page"' in html


def test_it_lays_out_the_trends_cards(client, cards):
    response = client.get("/updates/", {"scope": "trends"})
    assert card_numbers(response) == ["08000003"]  # the label exactly: not "Trendsetter"
    html = response.content.decode()
    assert "trend noted" in html and 'href="/cases/?view=trends">Table view</a>' in html


def test_it_keeps_the_recent_updates_as_they_were_with_a_table_view_of_the_commented(client, cards):
    response = client.get("/updates/", {"days": 3})
    assert card_numbers(response) == ["08000004"]
    assert 'href="/cases/?view=commented&amp;days=3">Table view</a>' in response.content.decode()


def test_it_pages_a_layout_with_its_scope_in_the_links(client):
    for i in range(55):
        make_card(make_case(f"0900{i:04d}", account="Zeta", upstream_updated_at=ago(days=30)))
    page = client.get("/updates/", {"scope": "all"}).content.decode()
    assert 'href="?scope=all&amp;page=2" rel="next"' in page
    assert len(card_numbers(client.get("/updates/", {"scope": "all", "page": 2}))) == 5


def test_it_refuses_an_unknown_layout_clearly(client, cards):
    response = client.get("/updates/", {"scope": "mine"})
    assert response.status_code == 400
    assert "Choose one of recent, all, trends." in response.content.decode()


# --- data as of ------------------------------------------------------------------------------------------
def finished(source: str, outcome: str, at) -> None:
    SyncRun.objects.create(source=source, trigger="schedule", outcome=outcome, started_at=at, finished_at=at)


def as_of(html: str) -> str:
    found = re.search(r'<p class="as-of">.*?</p>', html, re.S)
    assert found, "no data-as-of line"
    return found.group(0)


def test_it_shows_when_each_source_last_synced_in_the_header(client, settings):
    settings.DISPLAY_TIME_ZONE = "UTC"
    now = timezone.now()
    finished("cases", "success", now - timedelta(minutes=5))
    finished("cards", "success", now - timedelta(days=3))
    finished("bugs", "success", now - timedelta(minutes=10))
    finished("bugs", "failed", now - timedelta(minutes=1))
    line = as_of(client.get("/cases/").content.decode())
    recent = now - timedelta(minutes=5)
    assert f'Cases <time datetime="{recent.isoformat(timespec="seconds")}'[:40] in line
    shown = f"{recent:%H:%M}" if recent.date() == now.date() else ""
    assert f">{shown}</time>" in line
    old = now - timedelta(days=3)
    assert f'>{old:%b} {old.day} {old:%H:%M}</time> <span class="flag">(stale)</span>' in line
    assert 'class="source failing">Bugs' in line and "(failing)" in line
    assert "Escalations never" in line
    # Data sources only, not the automations (portal → JIRA cards, bug tagging, priority sync).
    assert "tagging" not in line and "priority" not in line
    assert '<p class="as-of">' not in Client().get("/cases/").content.decode()  # signed out: not shown


def test_it_reads_the_data_as_of_from_the_cache_until_a_run_ends(client):
    client.get("/weekly/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/weekly/")
    assert not [q for q in queries if "t5g_syncrun" in q["sql"]]  # from the cache
    # A run's end shows at once.
    run_job(job="stats", trigger="manual")
    line = as_of(client.get("/weekly/").content.decode())
    assert re.search(r"Stats <time[^>]*>\d\d:\d\d</time>", line)


def test_it_leaves_the_data_as_of_out_of_htmx_fragments(client):
    finished("cases", "success", ago(minutes=5))
    assert "as-of" not in client.get("/cases/", HTTP_HX_REQUEST="true").content.decode()


def test_it_keeps_the_table_s_links_canonical_with_several_sort_keys(client, sortable):
    response = client.get("/cases/", {"sort": "account,-days_open", "per": 2})
    table = response.content.decode().split('<div id="cases">', 1)[1]
    found = [
        urlsplit(unescape(h)).query for h in re.findall(r'(?:href|hx-get|data-sort-add)="(/cases/\?[^"]*)"', table)
    ]
    assert len(found) > 20
    for qs in found:
        form = CaseQueryForm(QueryDict(qs))
        assert form.messages() == [], qs
        assert form.query().querystring() == qs, qs
        assert ("per", "2") in parse_qsl(qs)


def test_it_answers_the_api_with_the_same_views_and_sorts(client, commented, sortable):
    found = client.get("/api/cases/", {"view": "commented", "days": 14, "sort": "-severity,case"}).json()
    assert [row["number"] for row in found["results"]] == ["05000004", "05000001", "05000002"]  # Low first
    bad = client.get("/api/cases/", {"sort": "severity,nope"})
    assert bad.status_code == 400 and "no column named 'nope'" in str(bad.json())
