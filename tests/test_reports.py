"""The account, engineer, updates, weekly and stats pages: content, links, grouping, escaping, queries, cache."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bugs.models import Bug, Issue
from cards.models import Card, CardComment, TeamMember
from cases.models import Case, Detail
from escalations.models import Escalation
from stats.services import compute_day
from t5g.cache import bump
from tests.factories import make_card, make_case, make_daily_stats, make_everything

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def client():
    user = get_user_model().objects.create_user("member", "member@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def comment(card, cid: str, body: str, when, author: str = "Bob"):
    return CardComment.objects.create(id=cid, card=card, body=body, author=author, created_at=when)


def chart(page: str, chart_id: str) -> dict:
    """The Chart.js configuration a page embeds for t5g.js under `chart_id`."""
    found = re.search(rf'<script id="{re.escape(chart_id)}" type="application/json">(.*?)</script>', page, re.S)
    assert found, f"no chart {chart_id}"
    return json.loads(found.group(1))


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- account and engineer pages ----------------------------------------------------------------


@pytest.fixture
def acme():
    """Acme Telco: two open cases (one with a card, bug and issue, one on the prio-list), one closed; Globex: one."""
    a = make_case("01000001", severity=1, summary="Pods restart")
    make_card(a, status="Debugging", severity=1)
    b = make_case("01000002", severity=3, summary="Slow API", status="Waiting on Customer")
    make_card(b, status="", jira_status="Weird", assignee="Bob", severity=3)
    Escalation.objects.create(case=b, type="prio_list", escalated_at=ago(days=1))
    make_case("01000003", status="Closed", closed_at=ago(days=1), summary="Old thing")
    g = make_case("01000004", account="Globex", summary="Globex case")
    make_card(g, assignee="Ada")
    bug = Bug.objects.create(id=2000001, summary="kernel panic", status="NEW", target_release="---", qa_contact="qa@x")
    bug.cases.add(a)
    Issue.objects.create(key="OCPBUGS-7", summary="crash loop", status="New", fix_versions=["4.18"]).cases.add(a, b)
    Bug.objects.create(id=2000002, summary="globex only").cases.add(g)
    today = timezone.now().date()
    relief = {"Urgent": {"count": 2, "mean": 1.5, "median": 1.4, "histogram": {"1-3": 2}}}
    make_daily_stats(today - timedelta(days=1), "account:Acme Telco", open_cases=3)
    make_daily_stats(today, "account:Acme Telco", open_cases=2, high_prio=1, relief_days=relief)


def test_it_shows_an_account_s_open_cases_cards_stats_and_bugs(client, acme):
    page = text(client.get("/accounts/Acme Telco/"))
    assert "01000001" in page and "01000002" in page
    assert "01000003" not in page and "Globex case" not in page  # closed; another account
    assert 'href="/cases/?account=Acme+Telco"' in page  # "see in the table"
    assert chart(page, "cards-by-severity")["data"] == {
        "labels": ["Urgent", "Normal"],
        "datasets": [{"label": "Cards", "data": [1, 1], "backgroundColor": ["#c9190b", "#2b6cb0"]}],
    }
    by_status = chart(page, "cards-by-status")
    assert by_status["type"] == "pie"
    assert by_status["data"]["labels"] == ["Debugging", "Unmapped"]
    # Its stats: the latest day, linked to the account's cases in the table, and the history.
    assert 'href="/cases/?view=open&amp;account=Acme+Telco">2</a>' in page
    assert 'href="/cases/?severity=1&amp;severity=2&amp;account=Acme+Telco">1</a>' in page
    history = chart(page, "scope-history")
    assert history["data"]["datasets"][0] == {
        "label": "Open cases",
        "data": [3, 2],
        "pointRadius": 0,
        "borderColor": "#4e79a7",
        "backgroundColor": "#4e79a7",
    }
    relief = chart(page, "account-relief-days")
    assert relief["type"] == "bar" and relief["data"]["datasets"][0]["data"] == [0, 2, 0, 0, 0, 0, 0]
    assert '<td class="num">1.5</td><td class="num">1.4</td>' in page  # mean and median
    # Bugs and JIRA issues of its cases, each with the cases it is linked to; not another account's.
    bugs = page[page.index("Bugs and JIRA issues") :]
    assert "BZ 2000001" in bugs and "kernel panic" in bugs and "OCPBUGS-7" in bugs and "globex only" not in bugs
    assert re.search(r"01000001</a>, <a [^>]*>01000002</a>", bugs)  # OCPBUGS-7 is on both
    assert 'href="https://bugzilla.redhat.com/show_bug.cgi?id=2000001"' in bugs


def test_it_shows_an_engineer_s_cases_without_the_bugs_table(client, acme):
    make_daily_stats(timezone.now().date(), "engineer:Ada", open_cases=2)
    page = text(client.get("/engineers/Ada/"))
    assert "01000001" in page and "01000004" in page and "01000002" not in page  # 2 is Bob's
    assert 'href="/cases/?assignee=Ada"' in page
    assert 'href="/cases/?view=open&amp;assignee=Ada">2</a>' in page
    assert 'href="/accounts/Globex/"' in page
    assert "Bugs and JIRA issues" not in page


def test_it_knows_an_engineer_from_the_team_list_before_any_card(client):
    TeamMember.objects.create(name="Newcomer")
    page = text(client.get("/engineers/Newcomer/"))
    assert "0 open cases" in page and "No stats computed for this engineer yet" in page


def test_it_answers_404_for_an_unknown_account_or_engineer(client, acme):
    assert client.get("/accounts/Nobody Inc/").status_code == 404
    assert client.get("/engineers/Nobody/").status_code == 404


def test_it_takes_account_names_with_slashes_and_markup(client):
    name = f"AT&T / Mobility {HOSTILE}"
    make_case("01000009", account=name)
    page = text(client.get(f"/accounts/{name}/"))
    assert ESCAPED in page and HOSTILE not in page
    assert "01000009" in page


# --- updates --------------------------------------------------------------------------------------


@pytest.fixture
def changes():
    """Cards across two accounts and three case statuses (one the old tool never heard of)."""
    old = ago(days=30)
    a1 = make_case("01000011", account="Beta", severity=2, status="Waiting on Red Hat", upstream_updated_at=old)
    c1 = make_card(a1, assignee="Ada", contributors=["Cy", "Di"])
    comment(c1, "1", "newest", ago(hours=2))
    comment(c1, "2", "older", ago(days=3))
    comment(c1, "3", "ancient", ago(days=20))
    Bug.objects.create(id=3000001, summary="beta bug", target_release="4.19").cases.add(a1)
    Escalation.objects.create(case=a1, type="prio_list")
    magic = "Waiting on Engineering Magic"  # a status the old tool did not know
    a2 = make_case("01000012", account="Beta", severity=1, status=magic, upstream_updated_at=old)
    comment(make_card(a2, assignee="Bob"), "4", "magic", ago(days=1))
    a3 = make_case("01000013", account="Beta", severity=3, status="Closed", upstream_updated_at=ago(days=2))
    make_card(a3)  # no comment: its case changed
    a4 = make_case("01000014", account="Alpha", severity=4, upstream_updated_at=ago(days=1))
    comment(make_card(a4, key="T5G-ALPHA"), "5", HOSTILE, ago(hours=1), author=HOSTILE)
    quiet = make_case("01000015", account="Alpha", upstream_updated_at=old)
    comment(make_card(quiet), "6", "long ago", ago(days=40))


def test_it_groups_updates_by_account_then_case_status_then_card(client, changes):
    page = text(client.get("/updates/"))
    order = ["01000014", "Beta", "Waiting on Red Hat", "01000011", "Waiting on Engineering Magic", "01000012",
             "Closed", "01000013"]  # fmt: skip
    body = page[page.index('<section class="account"') :]
    at = 0
    for s in order:  # each after the one before
        at = body.index(f">{s}<" if s.isdigit() else s, at)
    assert "01000015" not in page  # nothing in the window
    assert 'href="/accounts/Beta/"' in page


def test_it_shows_what_each_card_needs(client, changes, settings):
    settings.JIRA_URL = "https://jira.example.com"
    page = text(client.get("/updates/"))
    card = page[page.index('id="case-01000011"') : page.index('id="case-01000012"')]
    assert 'href="https://access.redhat.com/support/cases/#/case/01000011"' in card
    assert "Debugging" in card and '<span class="sev sev2">High</span>' in card and "On prio-list" in card
    assert "Pods restart" in card and 'href="https://jira.example.com/browse/T5G-01000011"' in card
    assert "Cy, Di" in card and "OpenShift" in card and 'href="/engineers/Ada/"' in card
    assert "beta bug" in card and "4.19" in card
    # The window's comments, newest first; the older ones are left out.
    assert card.index("newest") < card.index("older") and "ancient" not in card


def test_it_takes_a_longer_window(client, changes):
    page = text(client.get("/updates/", {"days": 30}))
    assert "ancient" in page and "Updates in the last 30 days" in page
    assert "01000015" not in page


def test_it_refuses_a_bad_window_clearly(client, changes):
    response = client.get("/updates/", {"days": "lots"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a whole number of days from 1 to 90." in page and "Showing the last 7 days" in page
    for bad in (0, 1000, "2.5"):
        response = client.get("/updates/", {"days": bad})
        assert response.status_code == 400 and "from 1 to 90" in response.content.decode()


def test_it_escapes_hostile_comments_and_keeps_javascript_links_out(client, changes, settings):
    settings.PORTAL_CASE_URL = "javascript:alert(1)//{case}"
    for url in ("/updates/", "/weekly/"):
        page = text(client.get(url))
        assert ESCAPED in page and HOSTILE not in page, url
        assert "javascript:" not in page, url


def make_busy(start: int, count: int) -> None:
    """`count` changed cases across accounts, severities and statuses, each with a card assigned to Ada,
    seven comments in the window, bugs, an issue, an escalation and details."""
    for i in range(start, start + count):
        status = ["Waiting on Red Hat", "Waiting on Customer", "Closed"][i % 3]
        case = make_case(f"0200{i:04d}", account=f"Account {i % 4}", severity=1 + i % 4, status=status)
        card = make_card(case, assignee="Ada")
        for j in range(7):
            comment(card, f"c{i}-{j}", f"comment {j} " * 200, ago(hours=1 + j))
        for j in range(3):
            Bug.objects.get_or_create(id=4000000 + 10 * i + j)[0].cases.add(case)
        Issue.objects.create(key=f"OCPBUGS-{i}").cases.add(case)
        Escalation.objects.create(case=case, type="crit_sit")
        Detail.objects.create(case=case)


PAGES = ["/updates/", "/weekly/", "/accounts/Account 1/", "/engineers/Ada/", "/stats/"]


def test_it_reads_each_page_in_as_many_queries_for_60_rows_as_for_3(client, django_assert_max_num_queries):
    make_busy(0, 3)
    text(client.get("/cases/"))  # the header's "data as of", cached from then on (tests/test_views.py)
    queries = {}
    for url in PAGES:
        with CaptureQueriesContext(connection) as small:
            text(client.get(url))
        queries[url] = len(small.captured_queries)
    # The session, the user and the refresh widget (3), plus the page's own reads: a few per kind of data.
    assert queries == {"/updates/": 9, "/weekly/": 7, "/accounts/Account 1/": 11, "/engineers/Ada/": 7, "/stats/": 5}
    make_busy(3, 60)
    bump("cases", "cards", "bugs", "escalations", "stats")
    for url in PAGES:
        with django_assert_max_num_queries(queries[url]):
            text(client.get(url))


# --- limits ---------------------------------------------------------------------------------------


def changed_cards(count: int, *, account: str = "Zeta", **fields) -> list[str]:
    """`count` cards whose case changed an hour ago (case numbers 0500xxxx), in bulk."""
    numbers = [f"0500{i:04d}" for i in range(count)]
    Case.objects.bulk_create(
        Case(number=n, account=account, severity=1 + i % 4, status="Waiting on Red Hat", summary=f"case {i}",
             created_at=ago(days=3), upstream_updated_at=ago(hours=1), **fields)
        for i, n in enumerate(numbers)
    )  # fmt: skip
    Card.objects.bulk_create(
        Card(key=f"T5G-{n}", case_id=n, jira_status="In Progress", status="Debugging", upstream_updated_at=ago(hours=1))
        for n in numbers
    )
    return numbers


def changed_cards_of(account: str, count: int, *, first: int) -> None:
    for i in range(first, first + count):
        make_card(make_case(f"0600{i:04d}", account=account, upstream_updated_at=ago(hours=1)))


def test_it_pages_the_updates_with_the_window_in_the_links(client):
    changed_cards(60, account="Alpha")
    changed_cards_of("Beta", 60, first=100)
    page = text(client.get("/updates/"))
    assert "cards 1–50 of 120, page 1 of 3" in page
    assert page.count('<article class="card"') == 50
    assert 'href="?page=2" rel="next"' in page and 'href="?page=3"' in page and 'rel="prev"' not in page
    assert "Alpha continues on" in page and "Beta" not in page  # accounts in order, page after page
    second = text(client.get("/updates/", {"page": 2}))
    assert "cards 51–100 of 120, page 2 of 3" in second and 'href="?page=1" rel="prev"' in second
    assert "(continued from" in second and "Beta continues on" in second
    assert second.count('<article class="card"') == 50
    last = text(client.get("/updates/", {"page": 3}))
    assert last.count('<article class="card"') == 20 and 'rel="next"' not in last
    for past_the_end in ("4", "99999999999"):
        assert "page 3 of 3" in text(client.get("/updates/", {"page": past_the_end}))
    assert "page 1 of 3" in text(client.get("/updates/", {"page": "two"}))
    longer = text(client.get("/updates/", {"days": 30, "page": 2}))
    assert "page 2 of 3" in longer and 'href="?days=30&amp;page=3"' in longer


def test_it_shows_the_five_newest_comments_of_a_card_each_cut(client, settings):
    settings.JIRA_URL = "https://jira.example.com"
    card = make_card(make_case("01000031", upstream_updated_at=ago(days=30)))
    comment(card, "long", "x" * 999 + "yz", ago(minutes=1))
    for i in range(6):
        comment(card, f"n{i}", f"note {i}", ago(hours=1 + i))
    comment(card, "old", "from last month", ago(days=20))
    page = text(client.get("/updates/"))
    item = page[page.index('id="case-01000031"') :]
    assert item.count('<li><p class="meta">') == 5
    assert "x" * 999 + "y…" in item and "yz" not in item
    assert "note 3" in item and "note 4" not in item and "from last month" not in item
    assert "The 5 newest of 7 comments in the window" in item
    assert 'href="https://jira.example.com/browse/T5G-01000031" rel="noopener noreferrer">all of them in JIRA' in item


def test_it_shows_at_most_ten_bugs_a_card_with_a_link_to_all(client):
    case = make_case("01000032")
    make_card(case)
    for i in range(12):
        Bug.objects.create(id=7000000 + i, summary=f"bug {i}", upstream_updated_at=ago(hours=i)).cases.add(case)
    for i in range(3):
        Issue.objects.create(key=f"OCPBUGS-9{i}", summary=f"issue {i}").cases.add(case)
    page = text(client.get("/updates/"))
    assert page.count("BZ 70000") == 10 and "bug 0<" in page and "bug 10<" not in page  # newest first
    assert "OCPBUGS-9" not in page
    assert 'And 5 more bugs: <a href="/cases/?q=01000032&amp;view=all">the case in the table</a>' in page


def test_it_lists_the_50_most_severe_open_cases_of_an_account_with_a_link_to_all(client):
    for i in range(60):
        make_case(f"0300{i:04d}", account="Big", severity=1 + i % 4, upstream_updated_at=ago(hours=i))
    make_case("03009999", account="Big", status="Closed", severity=1)
    page = text(client.get("/accounts/Big/"))
    assert "60 open cases" in page
    assert "all 60 cases in the table</a>" in page and 'href="/cases/?account=Big"' in page
    rows = re.findall(r"view=all\">(0300\d{4})</a>", page)
    assert len(rows) == 50 and "03009999" not in rows
    # The 15 urgent, newest first, then the high ones, newest first.
    assert rows[:3] == ["03000000", "03000004", "03000008"] and rows[15] == "03000001"
    assert "No open case has a card." in page


def test_it_lists_an_engineer_s_cases_with_a_link_to_all_of_them(client):
    for i in range(55):
        make_card(make_case(f"0400{i:04d}", severity=1 + i % 4), assignee="Busy", severity=1 + i % 2)
    page = text(client.get("/engineers/Busy/"))
    assert "55 open cases" in page and 'href="/cases/?assignee=Busy">all 55 cases in the table</a>' in page
    assert len(re.findall(r"view=all\">(0400\d{4})</a>", page)) == 50
    by_severity = chart(page, "cards-by-severity")["data"]
    assert by_severity["labels"] == ["Urgent", "High"] and by_severity["datasets"][0]["data"] == [28, 27]
    assert chart(page, "cards-by-status")["data"]["datasets"][0]["data"] == [55]


def test_it_lists_the_100_most_recently_changed_bugs_of_an_account(client):
    cases = [make_case(f"0700{i:04d}", account="Buggy", status="Closed" if i else "Waiting on Red Hat")
             for i in range(12)]  # fmt: skip
    for i in range(103):
        bug = Bug.objects.create(id=8000000 + i, summary=f"bug {i}", upstream_updated_at=ago(hours=i))
        bug.cases.add(cases[i % 12])
    Issue.objects.create(key="OCPBUGS-77", summary="everywhere", upstream_updated_at=ago(hours=500)).cases.add(*cases)
    page = text(client.get("/accounts/Buggy/"))
    bugs = page[page.index("Bugs and JIRA issues") :]
    assert bugs.count("<tr>") == 101  # the header and 100 rows
    assert "The 100 most recently changed of 104 linked to its cases, open or closed" in bugs
    assert 'href="/cases/?view=all&amp;account=Buggy">all its cases in the table</a>' in bugs
    assert "bug 0<" in bugs and "bug 99<" in bugs and "bug 100<" not in bugs and "everywhere" not in bugs
    # A bug linked to many cases lists ten of them.
    Bug.objects.get(pk=8000000).cases.add(*cases)
    bump("bugs")
    row = text(client.get("/accounts/Buggy/")).split("BZ 8000000</a>")[1].split("</tr>")[0]
    assert row.count('view=all">07') == 10 and 'and <a href="/cases/?view=all&amp;account=Buggy">2 more</a>' in row


def test_it_says_when_the_weekly_report_leaves_cards_out(client):
    changed_cards(305)
    page = text(client.get("/weekly/", {"days": 3}))
    report = page[page.index('<div class="weekly">') :]
    assert report.count("[Urgent]") + report.count("[High]") + report.count("[Normal]") + report.count("[Low]") == 300
    assert report.count("[Low]") == 71  # the most severe first: 77 urgent, 76 high, 76 normal, then 71 low
    note = page[: page.index('<div class="weekly">')]
    assert "The 300 most severe, then most recently updated, of 305 cards that changed" in note
    assert '<a href="/updates/?days=3">all 305 in the updates</a>' in note


# --- weekly -------------------------------------------------------------------------------------


def test_it_writes_the_weekly_report_as_a_plain_list_with_the_latest_comment(client, changes):
    page = text(client.get("/weekly/"))
    report = page[page.index('<div class="weekly">') :]
    assert "<table" not in report and "<canvas" not in report
    item = report[report.index(">01000011<") : report.index(">01000012<")]
    assert "[High]" in item and "<strong>Escalated</strong>" in item and "Pods restart" in item
    assert "T5G-01000011" in item and "OpenShift" in item
    assert "newest" in item and "older" not in item  # only the most recent comment
    assert report.index("Alpha") < report.index("Beta")
    assert report.index("Waiting on Red Hat") < report.index("Waiting on Engineering Magic") < report.index("Closed")


def test_it_cuts_the_latest_comment_of_the_weekly_report(client):
    card = make_card(make_case("01000022", upstream_updated_at=ago(hours=1)))
    comment(card, "w3", "a" * 499 + "bc", ago(hours=2))
    report = text(client.get("/weekly/")).split('<div class="weekly">')[1]
    assert "a" * 499 + "b…" in report and "bc" not in report


def test_it_shows_the_latest_comment_even_from_before_the_window(client):
    case = make_case("01000021", upstream_updated_at=ago(hours=1))
    card = make_card(case)
    comment(card, "w1", "said last month", ago(days=30))
    CardComment.objects.filter(pk=comment(card, "w2", "deleted", ago(days=1)).pk).update(removed_at=ago())
    Escalation.objects.create(case=case, type="potential")  # not escalated yet
    report = text(client.get("/weekly/")).split('<div class="weekly">')[1]
    assert "said last month" in report and "deleted" not in report and "Escalated" not in report


# --- stats -------------------------------------------------------------------------------------


@pytest.fixture
def team_stats():
    today = timezone.now().date()
    for n in range(1, 4):
        make_daily_stats(today - timedelta(days=n), open_cases=10 + n)
    resolution = {
        "Urgent": {"count": 3, "mean": 4.0, "median": 3.5, "histogram": {"3-7": 3}},
        "Low": {"count": 1, "mean": 120.0, "median": 120.0, "histogram": {"90+": 1}},
    }
    make_daily_stats(
        today, open_cases=42, high_prio=7, escalated=3, crit_sit=2, total_escalations=4, no_updates=5,
        by_customer={"Acme Telco": 30, "": 2}, by_engineer={"Ada": 20, "(unassigned)": 4},
        by_severity={"Urgent": 5, "High": 2, "Low": 35}, by_status={"Waiting on Red Hat": 40},
        resolution_days=resolution,
    )  # fmt: skip
    return today


def test_it_links_each_of_today_s_numbers_to_its_cases(client, team_stats):
    page = text(client.get("/stats/"))
    for href, value in [
        ("/cases/?view=open", 42),
        ("/cases/?severity=1&amp;severity=2", 7),
        ("/cases/?prio=yes", 3),
        ("/cases/?critsit=yes", 2),
        ("/cases/?escalated=yes", 4),
        ("/cases/?severity=1", 5),
        ("/cases/?severity=4", 35),
        ("/accounts/Acme%20Telco/", 30),
        ("/engineers/Ada/", 20),
    ]:
        assert f'<a href="{href}">{value}</a>' in page, href
    assert "Open, no update in the last week" in page and ">5<" in page
    assert "(no account)" in page and 'href="/engineers/(unassigned)/"' not in page


def test_it_draws_the_history_and_the_histograms(client, team_stats):
    page = text(client.get("/stats/"))
    history = chart(page, "stats-history")
    assert history["type"] == "line" and len(history["data"]["labels"]) == 4
    assert history["data"]["datasets"][0]["data"] == [13, 12, 11, 42]
    resolution = chart(page, "stats-resolution-days")
    assert [d["label"] for d in resolution["data"]["datasets"]] == ["Urgent", "Low"]
    assert resolution["data"]["labels"] == ["<1", "1-3", "3-7", "7-14", "14-30", "30-90", "90+"]
    assert resolution["data"]["datasets"][1]["data"] == [0, 0, 0, 0, 0, 0, 1]
    table = page[page.index("Time to resolution") :]
    cells = r'Urgent</span></td><td class="num">3</td><td class="num">4.0</td><td class="num">3.5</td>'
    assert re.search(cells, table)
    assert "Time to relief" in page and "No case has reached it yet." in page


def test_it_narrows_the_history_to_a_date_range(client, team_stats):
    start = (team_stats - timedelta(days=2)).isoformat()
    end = (team_stats - timedelta(days=1)).isoformat()
    page = text(client.get("/stats/", {"start": start, "end": end}))
    assert chart(page, "stats-history")["data"]["labels"] == [start, end]
    assert f'value="{start}"' in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "yesterday"}, "Start: Enter the date as YYYY-MM-DD"),
        ({"end": "2025-02-30"}, "End: Enter the date as YYYY-MM-DD"),
        ({"start": "2025-03-01", "end": "2025-02-01"}, "The start date is after the end date."),
    ],
)
def test_it_explains_a_bad_date_range(client, team_stats, params, message):
    response = client.get("/stats/", params)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "The date range was not understood" in page
    assert len(chart(page, "stats-history")["data"]["labels"]) == 4  # the last 90 days instead


def test_it_shows_stats_as_the_daily_job_computes_them(client):
    rows = make_everything()
    Card.objects.filter(pk=rows["card"].pk).update(assignee="Ada")
    Detail.objects.filter(pk=rows["case"].pk).update(relief_at=ago(days=1))
    compute_day(day=timezone.now().date(), dry_run=False)
    page = text(client.get("/stats/"))
    assert '<a href="/cases/?view=open">1</a>' in page and '<a href="/cases/?critsit=yes">1</a>' in page
    assert '<a href="/accounts/Acme%20Telco/">1</a>' in page and '<a href="/engineers/Ada/">1</a>' in page
    assert chart(page, "stats-relief-days")["data"]["datasets"][0]["label"] == "High"
    for url in ("/accounts/Acme Telco/", "/engineers/Ada/"):
        assert chart(text(client.get(url)), "scope-history")["data"]["datasets"][0]["data"] == [1], url


def test_it_says_when_no_stats_were_computed_yet(client):
    page = text(client.get("/stats/"))
    assert "No stats computed yet" in page and "No stats stored for these days." in page


def test_it_reads_each_page_in_a_bounded_number_of_queries(client, acme, team_stats, django_assert_max_num_queries):
    for i in range(20):
        case = make_case(f"0300{i:04d}", severity=1 + i % 4)
        make_card(case, assignee="Ada")
        Bug.objects.create(id=5000000 + i).cases.add(case)
    text(client.get("/cases/"))  # the header's "data as of", cached from then on (tests/test_views.py)
    # Session, user and refresh widget (3), plus the page's own reads.
    for url, most in [("/accounts/Acme Telco/", 11), ("/engineers/Ada/", 9), ("/stats/", 5)]:
        with django_assert_max_num_queries(most):
            text(client.get(url))


def test_it_serves_the_second_view_from_the_cache_until_a_sync_bumps_it(
    client, acme, team_stats, django_assert_max_num_queries
):
    for url in ("/accounts/Acme Telco/", "/engineers/Ada/", "/updates/", "/weekly/", "/stats/"):
        text(client.get(url))
    make_card(make_case("01000099", summary="Brand new", upstream_updated_at=timezone.now()))
    make_daily_stats(team_stats + timedelta(days=1), open_cases=99)
    for url in ("/accounts/Acme Telco/", "/engineers/Ada/", "/updates/", "/weekly/"):
        with django_assert_max_num_queries(3):  # the session, the user and the refresh widget only
            assert "01000099" not in text(client.get(url)), url
    assert ">99<" not in text(client.get("/stats/"))
    bump("cases", "stats")
    for url in ("/accounts/Acme Telco/", "/engineers/Ada/", "/updates/", "/weekly/"):
        assert "01000099" in text(client.get(url)), url
    assert ">99</a>" in text(client.get("/stats/"))


def test_it_sends_strangers_to_sign_in():
    for url in ("/accounts/Acme/", "/engineers/Ada/", "/updates/", "/weekly/", "/stats/"):
        assert Client().get(url).status_code == 302, url
