"""Faults of the sandbox that real upstreams have and the plain fault kinds do not show: a write done before
the error (a proxy's 502, a malformed or cut-off answer after the upstream committed) and JIRA's search index
lagging its writes. Driven over HTTP, with requests and the `jira` library, against the shared sandbox."""

import time
import uuid

import pytest
import requests
from jira import JIRA

TOKEN_PATH = "/sso/auth/realms/redhat-external/protocol/openid-connect/token"
JIRA_AUTH = {"Authorization": "Bearer sandbox-jira-token"}
LAG_MS = 1500


def jira(sandbox) -> JIRA:
    return JIRA(server=f"{sandbox.url}/jira", token_auth="sandbox-jira-token")


def portal_session(sandbox) -> requests.Session:
    session = requests.Session()
    r = session.post(
        sandbox.url + TOKEN_PATH,
        data={"grant_type": "refresh_token", "client_id": "rhsm-api", "refresh_token": "sandbox-offline-token"},
        timeout=10,
    )
    r.raise_for_status()
    session.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return session


def first_case(sandbox) -> dict:
    """A team case with a linked bug, as the portal details it."""
    portal = portal_session(sandbox)
    found = portal.get(
        f"{sandbox.url}/portal/hydra/rest/search/cases",
        params={"q": "case_tags:*shift_telco5g*", "rows": 50, "fl": "case_number"},
        timeout=30,
    ).json()["response"]["docs"]
    for doc in found:
        case = portal.get(f"{sandbox.url}/portal/hydra/rest/v1/cases/{doc['case_number']}", timeout=10).json()
        if case["bugzillas"]:
            return case
    raise AssertionError("no team case with a bug")


def summary_search(sandbox, tag: str) -> list[dict]:
    r = requests.get(
        f"{sandbox.url}/jira/rest/api/2/search/jql",
        params={"jql": f'summary ~ "{tag}"', "fields": ["summary", "priority", "labels"], "maxResults": 100},
        headers=JIRA_AUTH,
        timeout=10,
    )
    r.raise_for_status()
    return r.json()["issues"]


# --- one write per upstream: what it sends, and how to see that it was done ------------------------------------
def jira_create(sandbox):
    tag = f"after{uuid.uuid4().hex[:10]}"
    body = {"fields": {"project": {"key": "KNIECO"}, "issuetype": {"name": "Story"}, "summary": f"{tag} card"}}

    def send():
        return requests.post(f"{sandbox.url}/jira/rest/api/2/issue", json=body, headers=JIRA_AUTH, timeout=10)

    return "/jira/rest/api/2/issue", send, lambda: len(summary_search(sandbox, tag))


def portal_notified_user(sandbox):
    number, user = first_case(sandbox)["caseNumber"], f"u{uuid.uuid4().hex[:8]}"
    portal = portal_session(sandbox)

    def send():
        url = f"{sandbox.url}/portal/hydra/rest/v1/cases/{number}/notifiedusers"
        return portal.post(url, json={"user": [{"ssoUsername": user}]}, timeout=10)

    return "/portal/hydra/rest/v1/cases/", send, lambda: sandbox.get("notified").count({"case": number, "user": user})


def bugzilla_whiteboard(sandbox):
    bug = first_case(sandbox)["bugzillas"][0]["bugzillaNumber"]
    whiteboard = f"Telco:Case after-{uuid.uuid4().hex[:8]}"
    url, key = f"{sandbox.url}/bugzilla/rest/bug/{bug}", {"Bugzilla_api_key": "sandbox-bugzilla-key"}

    def send():
        return requests.put(url, params=key, json={"cf_internal_whiteboard": whiteboard}, timeout=10)

    def done() -> int:
        found = requests.get(url, params={**key, "include_fields": "cf_internal_whiteboard"}, timeout=10).json()
        return sum(b.get("cf_internal_whiteboard") == whiteboard for b in found.get("bugs", []))

    return "/bugzilla/rest/bug/", send, done


WRITES = [jira_create, portal_notified_user, bugzilla_whiteboard]


def broken(send) -> str:
    """How the answer reached the client: its status, or the transport error, or that its body is not JSON."""
    try:
        response = send()
    except requests.RequestException as exc:
        return type(exc).__name__
    try:
        response.json()
    except ValueError:
        return f"{response.status_code} not JSON"
    return str(response.status_code)


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.__name__)
@pytest.mark.parametrize(
    ("fault", "seen"),
    [
        ({"kind": "error", "status": 502}, "502 not JSON"),
        ({"kind": "malformed"}, "not JSON"),
        ({"kind": "truncate"}, "ChunkedEncodingError"),
    ],
    ids=["error", "malformed", "truncate"],
)
def test_it_does_the_write_then_answers_with_the_fault(clean_sandbox, write, fault, seen):
    path, send, done = write(clean_sandbox)
    clean_sandbox.faults({"path": path, **fault, "after": True, "count": 1})
    assert seen in broken(send)
    clean_sandbox.faults()
    assert done() == 1


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.__name__)
def test_it_answers_an_error_before_the_write_without_after(clean_sandbox, write):
    path, send, done = write(clean_sandbox)
    clean_sandbox.faults({"path": path, "kind": "error", "status": 400, "count": 1})
    assert broken(send) == "400 not JSON"
    clean_sandbox.faults()
    assert done() == 0


def test_it_refuses_after_on_kinds_that_answer_before_the_work(clean_sandbox):
    r = requests.post(
        f"{clean_sandbox.url}/_sandbox/faults", json=[{"path": "/jira/", "kind": "429", "after": True}], timeout=10
    )
    assert r.status_code == 400 and "after" in r.json()["error"]


def test_it_hides_new_and_changed_issues_from_search_while_the_index_lags(clean_sandbox):
    client, tag = jira(clean_sandbox), f"lag{uuid.uuid4().hex[:10]}"
    old = client.create_issue(project="KNIECO", issuetype="Story", summary=f"{tag} old", priority={"name": "Normal"})
    assert [i["key"] for i in summary_search(clean_sandbox, tag)] == [old.key]

    clean_sandbox.faults({"path": "/jira", "kind": "search_lag", "ms": LAG_MS})
    started = time.monotonic()
    new = client.create_issue(project="KNIECO", issuetype="Story", summary=f"{tag} new")
    old.update(fields={"priority": {"name": "Minor"}, "labels": [tag]})

    # The issues themselves are read as they are; searches match on the index, LAG_MS behind.
    assert client.issue(new.key).fields.summary == f"{tag} new"
    assert client.issue(old.key).fields.priority.name == "Minor"
    assert [i["key"] for i in summary_search(clean_sandbox, tag)] == [old.key]
    assert client.search_issues(f"labels = {tag}") == []  # the change is not indexed yet
    assert client.search_issues(f"key = {new.key}") == []  # a valid key, not found yet
    assert time.monotonic() - started < LAG_MS / 1000  # all of the above inside the lag

    time.sleep(LAG_MS / 1000 + 0.2)
    assert {i["key"] for i in summary_search(clean_sandbox, tag)} == {old.key, new.key}
    assert [i.key for i in client.search_issues(f"labels = {tag}")] == [old.key]


def test_it_catches_up_at_once_when_the_lag_is_switched_off(clean_sandbox):
    client, tag = jira(clean_sandbox), f"lag{uuid.uuid4().hex[:10]}"
    clean_sandbox.faults({"path": "/jira", "kind": "search_lag", "ms": 60_000})
    new = client.create_issue(project="KNIECO", issuetype="Story", summary=f"{tag} new")
    assert summary_search(clean_sandbox, tag) == []
    clean_sandbox.faults()
    assert [i["key"] for i in summary_search(clean_sandbox, tag)] == [new.key]
