"""/api/v0/: the old dashboard's JSON API in its old shapes (predecessor.md §1.3, §2.1, §3.1, §3.4), its old
paths redirected to it, the same authentication as /api/, and an old script running unchanged."""

import base64
import gzip
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from bugs.models import Bug, Issue
from cards.models import CardComment, TeamMember
from cases.models import Detail
from compat import selectors
from escalations.models import Escalation
from t5g.cache import bump
from tests.factories import make_card, make_case, make_daily_stats, token_for

pytestmark = pytest.mark.django_db

BLOBS = ["cases", "cards", "details", "bugs", "issues", "escalations", "stats"]
CREATED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
SCRIPT = Path(__file__).parent / "old_scripts" / "cases_to_close.py"


@pytest.fixture
def world():
    now = timezone.now()
    a = make_case("01000001", severity=1, summary="Pods restart", product="OpenShift", product_version="4.18",
                  created_at=CREATED, tags=["shift_telco5g", "cnf"], owner="Eve")  # fmt: skip
    card = make_card(a, "T5G-1", assignee="Ada", assignee_account_id="acc-1", contributors=["Cy"],
                     labels=["field", "Daily_Telco_OCP"], priority="Critical", created_at=CREATED)  # fmt: skip
    CardComment.objects.create(id="j1", card=card, author="Ada", body="see <b>logs</b>", created_at=CREATED)
    Detail.objects.create(case=a, crit_sit=True, group_name="Telco", notified_users=["ana"], relief_at=CREATED)
    bug = Bug.objects.create(id=2000001, summary="kernel panic", status="NEW", target_release="",
                             assignee="dev@example.com", upstream_updated_at=CREATED)  # fmt: skip
    bug.cases.add(a)
    issue = Issue.objects.create(key="OCPBUGS-1", summary="crash", status="New", fix_versions=["4.18"],
                                 private_keywords=["Telco:Priority-1"], issue_type="Bug",
                                 upstream_updated_at=CREATED)  # fmt: skip
    issue.cases.add(a)
    Escalation.objects.create(case=a, type="prio_list", link="https://jira.example.com/browse/PRIO-1")
    TeamMember.objects.create(name="Ada", email="ada@example.com")
    closed = make_case("01000002", status="Closed", closed_at=now - timedelta(days=1))
    make_card(closed, "T5G-2", assignee="Bo")  # still open: a case to close
    done = make_case("01000003", status="Closed", closed_at=now - timedelta(days=1))
    make_card(done, "T5G-3", status="Done", jira_status="Closed")
    make_case("01000004", removed_at=now)  # left the query: not in the old blobs
    make_daily_stats(date(2025, 1, 1), open_cases=9)
    make_daily_stats(date(2025, 1, 2), open_cases=10, no_updates=4, opened_today=2, unique_bugs=3,
                     by_customer={"Acme Telco": 10})  # fmt: skip


def test_it_answers_the_old_cases_blob_keyed_by_case_number(session, world):
    cases = session.get("/api/v0/cases").json()

    assert sorted(cases) == ["01000001", "01000002", "01000003"]
    assert cases["01000001"] == {
        "owner": "Eve",
        "severity": "1 (Urgent)",
        "account": "Acme Telco",
        "problem": "Pods restart",
        "status": "Waiting on Red Hat",
        "createdate": "2025-01-02T03:04:05Z",
        "last_update": cases["01000001"]["last_update"],
        "description": "",
        "product": "OpenShift 4.18",
        "product_version": "4.18",
        "tags": ["shift_telco5g", "cnf"],
        "bug": "2000001",
    }
    assert "closeddate" in cases["01000002"] and "bug" not in cases["01000002"]


def test_it_answers_the_old_card_records(session, world):
    cards = session.get("/api/v0/cards").json()

    assert sorted(cards) == ["T5G-1", "T5G-2", "T5G-3"]
    card = cards["T5G-1"]
    assert card["card_status"] == "Debugging"
    assert card["card_created"] == "2025-01-02T03:04:05.000+0000"
    assert card["comments"] == [["see &lt;b&gt;logs&lt;/b&gt;", "2025-01-02T03:04:05.000+0000"]]
    assert card["assignee"] == {"displayName": "Ada", "accountId": "acc-1", "emailAddress": "ada@example.com"}
    assert card["contributor"] == [{"displayName": "Cy", "accountId": None, "emailAddress": None}]
    assert (card["severity"], card["case_number"], card["product"]) == ("Urgent", "01000001", "OpenShift 4.18")
    assert (card["escalated"], card["escalated_link"]) == (True, "https://jira.example.com/browse/PRIO-1")
    assert (card["crit_sit"], card["group_name"], card["notified_users"]) == (True, "Telco", ["ana"])
    assert (card["daily_telco"], card["potential_escalation"]) == (True, False)
    assert card["relief_at"] == "2025-01-02T03:04:05Z" and card["resolved_at"] is None
    assert isinstance(card["case_days_open"], int) and len(card["case_updated_date"]) == len("2025-01-02 03:04")
    assert card["bugzilla"][0]["bugzillaNumber"] == "2000001"
    assert card["issues"][0]["id"] == "OCPBUGS-1"
    assert cards["T5G-2"]["bugzilla"] is None and cards["T5G-2"]["issues"] is None


def test_it_reads_the_big_blobs_a_chunk_at_a_time_into_one_object(session, world, monkeypatch):
    whole = {name: session.get(f"/api/v0/{name}").json() for name in ("cases", "cards")}
    bump("cases")
    monkeypatch.setattr(selectors, "CHUNK", 1)  # one case or card per chunk

    for name, expected in whole.items():
        assert session.get(f"/api/v0/{name}").json() == expected
    assert list(whole["cards"]) == ["T5G-1", "T5G-2", "T5G-3"]


def test_it_answers_the_old_details_bugs_issues_and_escalations(session, world):
    assert session.get("/api/v0/details").json() == {
        "01000001": {
            "crit_sit": True,
            "group_name": "Telco",
            "notified_users": ["ana"],
            "relief_at": "2025-01-02T03:04:05Z",
            "resolved_at": None,
        }  # fmt: skip
    }
    bug = session.get("/api/v0/bugs").json()["01000001"][0]
    assert bug["target_release"] == ["---"] and bug["last_change_time"] == "2025-01-02"
    assert bug["caseNumber"] == "01000001" and bug["bugzillaLink"].endswith("2000001")
    issue = session.get("/api/v0/issues").json()["01000001"][0]
    assert (issue["title"], issue["updated"], issue["fix_versions"]) == ("crash", "2025-01-02", ["4.18"])
    assert issue["private_keywords"] == ["Telco:Priority-1"] and issue["jira_type"] == "Bug"
    assert session.get("/api/v0/escalations").json() == ["01000001"]


def test_it_answers_the_latest_days_stats_in_the_old_keys(session, world):
    stats = session.get("/api/v0/stats").json()

    assert stats["open_cases"] == 10 and stats["daily_opened_cases"] == 2
    assert stats["no_updates"] == 6  # the old key counted the open cases *with* an update that week
    assert stats["bugs"] == {"unique": 3, "no_target": 0}
    assert stats["by_customer"] == {"Acme Telco": 10}


@pytest.mark.parametrize("name", BLOBS)
def test_it_redirects_the_old_unversioned_paths_and_keeps_the_new_api(session, world, name):
    response = session.get(f"/api/{name}?x=1")

    assert (response.status_code, response["Location"]) == (301, f"/api/v0/{name}?x=1")
    answer = session.get(f"/api/v0/{name}")
    assert answer.status_code == 200 and answer["Deprecation"] == "true"
    if name != "details":  # the new API has no details list: a case's details come with /api/cases/<n>/
        assert session.get(f"/api/{name}/").json().keys() >= {"results"}


@pytest.mark.parametrize("name", BLOBS)
def test_it_asks_for_the_same_credentials_as_the_new_api(user, world, name):
    anonymous = Client().get(f"/api/v0/{name}")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")
    key = token_for(user)
    assert Client().get(f"/api/v0/{name}", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    basic = base64.b64encode(f"script:{key}".encode()).decode()
    assert Client().get(f"/api/v0/{name}", HTTP_AUTHORIZATION=f"Basic {basic}").status_code == 200
    wrong = base64.b64encode(b"script:not-a-key").decode()
    assert Client().get(f"/api/v0/{name}", HTTP_AUTHORIZATION=f"Basic {wrong}").status_code == 401
    assert Client().get(f"/api/v0/{name}", HTTP_AUTHORIZATION="Basic %%%").status_code == 401
    assert Client().post(f"/api/v0/{name}", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 405


def test_it_lists_each_old_endpoint_with_its_successor(session):
    endpoints = session.get("/api/v0/").json()["endpoints"]

    assert sorted(endpoints) == sorted(BLOBS)
    assert endpoints["cards"]["successor"] == "http://testserver/api/cards/"


@pytest.mark.django_db(transaction=True)
def test_it_runs_an_old_script_unchanged(live_server, user, world, tmp_path):
    """The old bin/cases_to_close.py's way: GET /api/cases and /api/cards, follow the redirects, compare."""
    netrc = tmp_path / "netrc"
    host = urlsplit(live_server.url).hostname
    netrc.write_text(f"machine {host} login script password {token_for(user)}\n")
    netrc.chmod(0o600)
    env = {**os.environ, "DASH_API": live_server.url, "NETRC": str(netrc)}

    done = subprocess.run([sys.executable, SCRIPT], env=env, capture_output=True, text=True, timeout=60)

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == ["T5G-2 : 01000002 (Bo)"]


def test_it_sends_the_blob_compressed_to_a_caller_that_accepts_gzip(session, world):
    plain = session.get("/api/v0/cards")
    packed = session.get("/api/v0/cards", HTTP_ACCEPT_ENCODING="gzip, deflate")

    assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
    assert json.loads(gzip.decompress(packed.content)) == plain.json()
    assert "Content-Encoding" not in plain
