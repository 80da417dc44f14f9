"""The old dashboard's page URLs (predecessor.md §1.1, every alias) redirect for good to T5G's pages."""

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import make_card, make_case

pytestmark = pytest.mark.django_db

HOME_ALIASES = ["/home", "/updates/telco5g", "/updates/telco5g/all", "/updates/cnv", "/updates/cnv/all",
                "/updates/telco5g/severity", "/updates/telco5g/all/severity", "/updates/cnv/severity",
                "/updates/cnv/all/severity", "/stats/cnv", "/stats/telco5g"]  # fmt: skip
# Every old page (§1.1) and where it now lives.
OLD_URLS = [
    *((alias, "/") for alias in HOME_ALIASES),
    ("/table/", "/cases/?view=commented"),
    ("/table", "/cases/?view=commented"),
    ("/table/all", "/cases/?view=all"),
    ("/table/trends", "/cases/?view=trends"),
    ("/updates/all", "/updates/?scope=all"),
    ("/trends/", "/updates/?scope=trends"),
    ("/trends", "/updates/?scope=trends"),
    ("/stats", "/stats/"),
    ("/account/Acme%20Telco", "/accounts/Acme%20Telco/"),
    ("/engineer/Ada%20Lovelace", "/engineers/Ada%20Lovelace/"),
]
# The old pages whose paths T5G kept: they answer as they are.
SAME_URLS = ["/updates/", "/weekly/", "/stats/"]


# Not pages: the old sign-in (now SAML's /saml2/), its refresh JSON (now /refresh/) and /metrics (kept).
NOT_PAGES = {"/", "POST /refresh", "POST /progress/status", "GET /status/<task_id>", "/metrics"}
PREDECESSOR = Path(__file__).resolve().parents[2] / "shared" / "reference" / "predecessor.md"


def old_routes() -> set[str]:
    """Every route and alias of predecessor.md §1.1's table, with <account> and <engineer> filled in."""
    text = PREDECESSOR.read_text().split("### 1.1", 1)[1].split("### 1.2", 1)[0]
    routes = set()
    for row in re.findall(r"^\| (.+?) \|", text, re.M):
        routes |= set(re.findall(r"`((?:(?:GET|POST) )?/[^`]*)`", row))
    return {r.replace("<account>", "Acme%20Telco").replace("<engineer>", "Ada%20Lovelace") for r in routes}


@pytest.mark.skipif(not PREDECESSOR.exists(), reason="../shared/reference/predecessor.md is not here")
def test_it_covers_every_route_predecessor_md_lists():
    listed = old_routes()
    covered = {old for old, _ in OLD_URLS}

    assert len(listed) > 20
    assert listed - covered - set(SAME_URLS) - NOT_PAGES == set()


@pytest.fixture
def member():
    client = Client()
    client.force_login(get_user_model().objects.create_user("ana", "ana@example.com", "pw"))
    make_card(make_case("01000001", account="Acme Telco"), assignee="Ada Lovelace")
    return client


@pytest.mark.parametrize("old, new", OLD_URLS)
def test_it_redirects_every_old_url_for_good_to_a_page_that_answers(member, old, new):
    response = member.get(old)

    assert response.status_code == 301
    assert response["Location"] == new
    assert member.get(new).status_code == 200


@pytest.mark.parametrize("path", SAME_URLS)
def test_it_keeps_the_old_paths_t5g_shares(member, path):
    assert member.get(path).status_code == 200


def test_it_redirects_without_asking_to_sign_in_first():
    """A bookmark goes to its new address at once; the page there asks for a sign-in and comes back to it."""
    response = Client().get("/table/all")

    assert (response.status_code, response["Location"]) == (301, "/cases/?view=all")


@pytest.mark.parametrize(
    "query, params",
    [
        ("search.search=kernel%20panic", "q=kernel+panic"),
        # The stats page's severity links (PR #344).
        ('order=[[2,"desc"]]&searchPanes.preSelect=[{column:2,rows:["High"]}]', "severity=2&sort=-severity"),
        # The old default order, then more keys than the table takes: the first four, in order.
        (
            'order=[[2,"desc"],[3,"desc"],[4,"desc"],[13,"asc"],[1,"asc"]]',
            "sort=-severity%2C-prio%2C-critsit%2Cdays_open",
        ),
        ('searchPanes.preSelect=[{"column":2,"rows":["1 (Urgent)","Low"]}]', "severity=1&severity=4"),
        (
            'searchPanes.preSelect=[{column:7,rows:["Acme Telco"]},{column:3,rows:["Potentially"]}]',
            "account=Acme+Telco&prio=potential",
        ),  # fmt: skip
        ('order=[[12,"desc"],[13,"asc"]]', "sort=days_open"),  # the comment column has no sort: left out
        ("order=not-json&searchPanes.preSelect={broken", ""),  # nothing usable: the view alone
    ],
)
def test_it_carries_the_old_tables_deep_link_over(member, query, params):
    response = member.get(f"/table/all?{query}")

    assert response["Location"] == "/cases/?view=all" + (f"&{params}" if params else "")
    assert member.get(response["Location"]).status_code == 200
