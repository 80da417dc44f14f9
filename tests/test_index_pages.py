"""The account and engineer indexes (/accounts/, /engineers/): every name with its counts, a server-side
filter (?q=, no JavaScript needed), links to each name's page and to its open cases, and the nav's links."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cards.models import TeamMember
from escalations.models import Escalation
from tests.factories import make_card, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    user = get_user_model().objects.create_user("member", "member@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def cases():
    """Acme: Urgent (card of Ada, escalated on the board), Normal (card of Bob, escalated in JIRA), one closed;
    Globex: one Low without a card. Team: Ada, and Cyd (away, no cards)."""
    a = make_case("01000001", severity=1)
    make_card(a, assignee="Ada")
    Escalation.objects.create(case=a, type="prio_list", escalated_at=timezone.now() - timedelta(days=1))
    b = make_case("01000002", severity=3)
    make_card(b, assignee="Bob", escalated=True)
    make_case("01000003", status="Closed")
    make_case("01000004", account="Globex <Ltd>", severity=4)
    TeamMember.objects.create(name="Ada")
    TeamMember.objects.create(name="Cyd", active=False)


def rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [" ".join(row.split()) for row in body.split("<tr>")[1:]]


def test_it_lists_every_account_with_its_counts_most_open_first(client, cases):
    page = client.get("/accounts/").content.decode()

    acme, globex = rows(page)
    assert 'href="/accounts/Acme%20Telco/"' in acme
    assert "/cases/?account=Acme+Telco" in acme
    # open 2, Urgent or High 1, escalated 2 (the board's and JIRA's), all cases 3
    assert '<td class="num">1</td> <td class="num">2</td> <td class="num">3</td>' in acme
    assert "Globex &lt;Ltd&gt;" in globex  # upstream text is escaped
    assert "2 accounts with cases mirrored" in page


def test_it_filters_accounts_on_the_server_without_javascript(client, cases):
    page = client.get("/accounts/", {"q": "  glob  "}).content.decode()

    assert len(rows(page)) == 1 and "Globex" in rows(page)[0]
    assert 'value="glob"' in page  # the filter box keeps what was searched
    assert "1 account match" in page
    assert "Nothing matches" in client.get("/accounts/", {"q": "nobody"}).content.decode()


def test_it_lists_assignees_and_team_members_with_their_counts(client, cases):
    page = client.get("/engineers/").content.decode()

    ada, bob, cyd = rows(page)
    assert 'href="/engineers/Ada/"' in ada and "/cases/?assignee=Ada" in ada and ">member<" in ada
    assert '<td class="num">1</td> <td class="num">1</td>' in ada  # Urgent, escalated on the board
    assert '<td class="num">0</td> <td class="num">1</td>' in bob and "not in the team" in bob  # JIRA's flag
    assert "member, away" in cyd and ">0<" in cyd
    assert len(rows(client.get("/engineers/", {"q": "CY"}).content.decode())) == 1


def test_it_reads_an_index_in_a_bounded_number_of_queries(client, cases):
    for n in range(5, 40):
        make_card(make_case(f"0100{n:04}", account=f"Account {n}"), assignee=f"Engineer {n}")
    for url in ("/accounts/", "/engineers/"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"q": "e"}).status_code == 200
        assert len(queries) <= 8, (url, [q["sql"] for q in queries])


def test_it_links_the_indexes_from_the_nav(client):
    page = client.get("/accounts/").content.decode()
    assert 'href="/accounts/"' in page and 'href="/engineers/"' in page


def test_it_sends_a_signed_out_visitor_to_sign_in(cases):
    assert Client().get("/engineers/").status_code == 302
