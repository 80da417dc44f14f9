"""The sandbox's SSO and support portal, driven with requests as T5G's client will."""

import time
from datetime import UTC, datetime

import pytest
import requests

from tests.sandbox import Sandbox

TOKEN_PATH = "/sso/auth/realms/redhat-external/protocol/openid-connect/token"
TEAM_QUERY = "case_tags:*shift_telco5g*"


def bearer(sandbox, offline="sandbox-offline-token") -> str:
    r = requests.post(
        sandbox.url + TOKEN_PATH,
        data={"grant_type": "refresh_token", "client_id": "rhsm-api", "refresh_token": offline},
        timeout=10,
    )
    r.raise_for_status()
    return r.json()["access_token"]


def portal(sandbox, path, token, **params):
    return requests.get(
        f"{sandbox.url}/portal/hydra/rest{path}",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def search(sandbox, token, q=TEAM_QUERY, **params):
    r = portal(sandbox, "/search/cases", token, q=q, **params)
    r.raise_for_status()
    return r.json()["response"]


def test_it_trades_the_offline_token_for_a_bearer_token(clean_sandbox):
    r = requests.post(
        clean_sandbox.url + TOKEN_PATH,
        data={"grant_type": "refresh_token", "client_id": "rhsm-api", "refresh_token": "sandbox-offline-token"},
        timeout=10,
    )
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0 and body["access_token"]


def test_it_refuses_a_wrong_offline_token(clean_sandbox):
    r = requests.post(
        clean_sandbox.url + TOKEN_PATH,
        data={"grant_type": "refresh_token", "client_id": "rhsm-api", "refresh_token": "stolen"},
        timeout=10,
    )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


def test_it_answers_401_without_a_live_bearer_token(clean_sandbox):
    assert portal(clean_sandbox, "/search/cases", "made-up", q=TEAM_QUERY).status_code == 401
    assert requests.get(f"{clean_sandbox.url}/portal/hydra/rest/v1/cases/03000001", timeout=10).status_code == 401


def test_it_finds_every_team_case(clean_sandbox):
    token = bearer(clean_sandbox)
    found = search(clean_sandbox, token, rows=1000, fl="case_number")
    assert found["numFound"] == clean_sandbox.state()["cases"]
    assert len({d["case_number"] for d in found["docs"]}) == found["numFound"]
    everything = search(clean_sandbox, token, q="*:*", rows=0)["numFound"]
    assert everything > found["numFound"]  # other teams' cases exist and are left out


def test_it_returns_the_fields_asked_for_in_the_order_asked(clean_sandbox):
    token = bearer(clean_sandbox)
    docs = search(
        clean_sandbox, token, rows=50, fl="case_number,case_lastModifiedDate,case_severity",
        sort="case_lastModifiedDate desc",
    )["docs"]  # fmt: skip
    assert all(set(d) == {"case_number", "case_lastModifiedDate", "case_severity"} for d in docs)
    stamps = [d["case_lastModifiedDate"] for d in docs]
    assert stamps == sorted(stamps, reverse=True)
    assert all(d["case_severity"][0] in "1234" and "(" in d["case_severity"] for d in docs)


def test_it_filters_on_dates_status_and_boolean_logic(clean_sandbox):
    token = bearer(clean_sandbox)
    state = clean_sandbox.state()
    open_q = f"{TEAM_QUERY} AND NOT case_status:Closed"
    assert search(clean_sandbox, token, q=open_q, rows=0)["numFound"] == state["open_cases"]
    total = state["cases"]
    recent = search(clean_sandbox, token, q=f"{TEAM_QUERY} AND case_createdDate:[NOW-30DAYS TO *]", rows=0)
    older = search(clean_sandbox, token, q=f"{TEAM_QUERY} AND -case_createdDate:[NOW-30DAYS TO *]", rows=0)
    assert recent["numFound"] + older["numFound"] == total
    assert 0 < recent["numFound"] < total
    either = search(clean_sandbox, token, q=f"{TEAM_QUERY} AND (case_severity:1* OR case_severity:2*)", rows=0)
    one = search(clean_sandbox, token, q=f'{TEAM_QUERY} AND case_severity:"1 (Urgent)"', rows=0)
    two = search(clean_sandbox, token, q=f"{TEAM_QUERY} AND case_severity:2*", rows=0)
    assert either["numFound"] == one["numFound"] + two["numFound"]


def test_it_rejects_a_malformed_query_with_a_clear_error(clean_sandbox):
    token = bearer(clean_sandbox)
    r = portal(clean_sandbox, "/search/cases", token, q="case_status:(Closed")
    assert r.status_code == 400
    assert "missing )" in r.text


def test_it_serves_case_details_and_linked_jiras(clean_sandbox):
    token = bearer(clean_sandbox)
    docs = search(clean_sandbox, token, rows=300, fl="case_number,case_bugzillaNumber")["docs"]
    number = next(d["case_number"] for d in docs if "case_bugzillaNumber" in d)
    detail = portal(clean_sandbox, f"/v1/cases/{number}", token).json()
    assert detail["caseNumber"] == number
    assert isinstance(detail["critSit"], bool)
    assert detail["bugzillas"] and detail["bugzillas"][0]["bugzillaNumber"].isdigit()
    assert all({"id", "createdBy", "commentBody", "createdDate"} <= set(c) for c in detail["comments"])
    linked = [portal(clean_sandbox, f"/cases/{d['case_number']}/jiras", token).json() for d in docs[:100]]
    keys = [j["resourceKey"] for jiras in linked for j in jiras]
    assert any(k.startswith("OCPBUGS-") for k in keys)
    assert portal(clean_sandbox, "/v1/cases/99999999", token).status_code == 404


def test_it_records_notified_users_as_a_write(clean_sandbox):
    token = bearer(clean_sandbox)
    number = search(clean_sandbox, token, rows=1, fl="case_number")["docs"][0]["case_number"]
    r = requests.post(
        f"{clean_sandbox.url}/portal/hydra/rest/v1/cases/{number}/notifiedusers",
        json={"user": [{"ssoUsername": "akowalski"}]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 201
    assert {"case": number, "user": "akowalski"} in clean_sandbox.get("notified")
    detail = portal(clean_sandbox, f"/v1/cases/{number}", token).json()
    assert {"ssoUsername": "akowalski"} in detail["notifiedUsers"]
    counts = clean_sandbox.requests()
    assert counts["writes"] == 1 and counts["portal"] == 3 and counts["sso"] == 1


def test_it_caps_results_at_9999_so_clients_must_window(tmp_path):
    big = Sandbox(log_dir=tmp_path, cases=10_200, seed=2)
    try:
        token = bearer(big)
        numbers: set[str] = set()
        beyond = search(big, token, rows=100, start=9950, fl="case_number", sort="case_lastModifiedDate asc")
        assert beyond["numFound"] == 10_200
        assert len(beyond["docs"]) == 49  # positions 9950..9998 only

        # Windowing on the sort key reaches every case.
        low, pages = "*", 0
        while True:
            q = f"{TEAM_QUERY} AND case_lastModifiedDate:[{low} TO *]"
            page = search(big, token, q=q, rows=5000, fl="case_number,case_lastModifiedDate",
                          sort="case_lastModifiedDate asc, case_number asc")  # fmt: skip
            pages += 1
            numbers.update(d["case_number"] for d in page["docs"])
            if page["numFound"] <= len(page["docs"]):
                break
            low = page["docs"][-1]["case_lastModifiedDate"]
        assert len(numbers) == 10_200
        assert pages >= 3
    finally:
        big.stop()


# --- faults ----------------------------------------------------------------------------------
def test_it_injects_server_errors_a_given_number_of_times(clean_sandbox):
    token = bearer(clean_sandbox)
    clean_sandbox.faults({"path": "/portal/", "kind": "error", "status": 503, "count": 2})
    statuses = [portal(clean_sandbox, "/search/cases", token, q=TEAM_QUERY, rows=1).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_it_injects_rate_limits_with_retry_after(clean_sandbox):
    token = bearer(clean_sandbox)
    clean_sandbox.faults({"path": "/portal/hydra/rest/search", "kind": "429", "retry_after": 3})
    r = portal(clean_sandbox, "/search/cases", token, q=TEAM_QUERY, rows=1)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "3"
    assert portal(clean_sandbox, "/v1/cases/03000001", token).status_code in (200, 404)  # other paths unaffected


def test_it_injects_latency_and_hangs(clean_sandbox):
    token = bearer(clean_sandbox)
    clean_sandbox.faults({"path": "/portal/", "kind": "latency", "ms": 300})
    started = time.monotonic()
    assert portal(clean_sandbox, "/search/cases", token, q=TEAM_QUERY, rows=1).status_code == 200
    assert time.monotonic() - started >= 0.3
    clean_sandbox.faults({"path": "/portal/", "kind": "hang", "ms": 3000})
    with pytest.raises(requests.ReadTimeout):
        requests.get(
            f"{clean_sandbox.url}/portal/hydra/rest/search/cases",
            params={"q": TEAM_QUERY},
            headers={"Authorization": f"Bearer {token}"},
            timeout=(2, 0.5),
        )
    # A hang holds one connection only; the sandbox keeps answering others.
    assert clean_sandbox.state()["cases"] > 0


def test_it_injects_malformed_json(clean_sandbox):
    token = bearer(clean_sandbox)
    clean_sandbox.faults({"path": "/portal/", "kind": "malformed"})
    r = portal(clean_sandbox, "/search/cases", token, q=TEAM_QUERY, rows=20)
    assert r.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        r.json()


def test_it_injects_truncated_pages(clean_sandbox):
    token = bearer(clean_sandbox)
    clean_sandbox.faults({"path": "/portal/", "kind": "truncate"})
    page = search(clean_sandbox, token, rows=40, fl="case_number")
    assert page["numFound"] == clean_sandbox.state()["cases"]
    assert len(page["docs"]) == 20


def test_it_expires_tokens_so_clients_must_reauthenticate(clean_sandbox):
    token = bearer(clean_sandbox)
    clean_sandbox.faults({"path": "/portal/", "kind": "expire_token", "count": 1})
    assert portal(clean_sandbox, "/search/cases", token, q=TEAM_QUERY, rows=1).status_code == 401
    assert portal(clean_sandbox, "/search/cases", token, q=TEAM_QUERY, rows=1).status_code == 401  # revoked for good
    assert portal(clean_sandbox, "/search/cases", bearer(clean_sandbox), q=TEAM_QUERY, rows=1).status_code == 200


def test_it_refuses_malformed_fault_rules(clean_sandbox):
    r = clean_sandbox.post("faults", [{"path": "/portal/", "kind": "gremlins"}])
    assert r.status_code == 400
    assert "kind" in r.json()["error"]


# --- time passes -----------------------------------------------------------------------------
def test_it_changes_records_on_churn_and_shows_them_to_incremental_queries(clean_sandbox):
    token = bearer(clean_sandbox)
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    time.sleep(1.1)
    changed = clean_sandbox.churn(20)
    assert len(changed) == 20
    touched_cases = {c.split()[-1] if c.startswith("new case") else c.split()[1] for c in changed if "case" in c}
    q = f"{TEAM_QUERY} AND case_lastModifiedDate:[{since} TO *]"
    recent = {d["case_number"] for d in search(clean_sandbox, token, q=q, rows=1000, fl="case_number")["docs"]}
    assert touched_cases and touched_cases <= recent


def test_it_creates_and_closes_cases_on_request(clean_sandbox):
    token = bearer(clean_sandbox)
    before = clean_sandbox.state()
    number = clean_sandbox.post("cases", {"account": "Acme Telco", "severity": 1}).json()["number"]
    after = clean_sandbox.state()
    assert (after["cases"], after["open_cases"]) == (before["cases"] + 1, before["open_cases"] + 1)
    doc = search(clean_sandbox, token, q=f"case_number:{number}", rows=1)["docs"][0]
    assert doc["case_severity"] == "1 (Urgent)" and doc["case_status"] == "Waiting on Red Hat"
    assert clean_sandbox.post(f"cases/{number}/close").status_code == 200
    assert clean_sandbox.state()["open_cases"] == before["open_cases"]
    assert search(clean_sandbox, token, q=f"case_number:{number}", rows=1)["docs"][0]["case_status"] == "Closed"


def test_it_can_do_the_work_and_then_hang(clean_sandbox):
    token = bearer(clean_sandbox)
    number = search(clean_sandbox, token, rows=1, fl="case_number")["docs"][0]["case_number"]
    clean_sandbox.faults({"path": "/portal/hydra/rest/v1/", "kind": "hang", "after": True, "ms": 1500})
    with pytest.raises(requests.ReadTimeout):
        requests.post(
            f"{clean_sandbox.url}/portal/hydra/rest/v1/cases/{number}/notifiedusers",
            json={"user": [{"ssoUsername": "hang-after"}]},
            headers={"Authorization": f"Bearer {token}"},
            timeout=(2, 0.5),
        )
    assert {"case": number, "user": "hang-after"} in clean_sandbox.get("notified")  # done, never acknowledged


# --- what our account may not read -------------------------------------------------------------------
def test_it_answers_403_for_a_restricted_case_and_404_for_a_deleted_one(clean_sandbox):
    token = bearer(clean_sandbox)
    docs = search(clean_sandbox, token, rows=2, fl="case_number", sort="case_number asc")["docs"]
    restricted, deleted = (d["case_number"] for d in docs)
    before = clean_sandbox.state()["cases"]
    try:
        assert clean_sandbox.post(f"cases/{restricted}/access", {"access": "restricted"}).status_code == 200
        assert clean_sandbox.post(f"cases/{deleted}/access", {"access": "deleted"}).status_code == 200
        for path in ("/v1/cases/{}", "/cases/{}/jiras"):
            assert portal(clean_sandbox, path.format(restricted), token).status_code == 403
            assert portal(clean_sandbox, path.format(deleted), token).status_code == 404
        # The search still lists a restricted case; a deleted one is gone from it, and from what a sync mirrors.
        assert search(clean_sandbox, token, q=f"case_number:{restricted}")["numFound"] == 1
        assert search(clean_sandbox, token, q=f"case_number:{deleted}")["numFound"] == 0
        assert clean_sandbox.state()["cases"] == before - 1
        assert clean_sandbox.post(f"cases/{deleted}/access", {"access": "gone"}).status_code == 400
    finally:
        for number in (restricted, deleted):
            clean_sandbox.post(f"cases/{number}/access", {"access": "visible"})
    assert portal(clean_sandbox, f"/v1/cases/{restricted}", token).status_code == 200
    assert search(clean_sandbox, token, q=f"case_number:{deleted}")["numFound"] == 1
    assert clean_sandbox.state()["cases"] == before


def test_it_changes_a_record_the_client_holds_between_two_pages_on_churn(clean_sandbox):
    token = bearer(clean_sandbox)
    sort = "case_lastModifiedDate asc, case_number asc"
    fields = "case_number,case_lastModifiedDate"
    everything = [d["case_number"] for d in search(clean_sandbox, token, rows=41, fl=fields, sort=sort)["docs"]]
    clean_sandbox.faults({"path": "/portal/hydra/rest/search/cases", "kind": "churn", "count": 1})
    first = search(clean_sandbox, token, rows=20, fl=fields, sort=sort)["docs"]
    second = search(clean_sandbox, token, rows=20, start=20, fl=fields, sort=sort)["docs"]
    # The first page's first case changed after it was answered: it moved to the end, the others moved up one,
    # so a client paging by offset never sees the case that was 21st.
    assert [d["case_number"] for d in first] == everything[:20]
    assert [d["case_number"] for d in second] == everything[21:41]
    moved = search(clean_sandbox, token, q=f"case_number:{everything[0]}", fl=fields)["docs"][0]
    assert moved["case_lastModifiedDate"] > first[0]["case_lastModifiedDate"]
