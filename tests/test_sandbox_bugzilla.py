"""The sandbox's Bugzilla, driven with python-bugzilla 3.3.0 exactly as T5G will drive it.

The portal (plain requests) only says which bugs the team's cases link; everything about
the bugs themselves goes through the real client. These tests change a few bugs of the
shared sandbox (whiteboards, comments, statuses), each picked by the test that changes it.
"""

import uuid

import bugzilla
import pytest
import requests

API_KEY = "sandbox-bugzilla-key"
TOKEN_PATH = "/sso/auth/realms/redhat-external/protocol/openid-connect/token"
TEAM_QUERY = "case_tags:*shift_telco5g*"
FIELDS = ["id", "status", "summary", "target_release", "cf_internal_whiteboard", "last_change_time"]


def connect(sandbox, api_key=API_KEY, root="rest") -> bugzilla.Bugzilla:
    return bugzilla.Bugzilla(url=f"{sandbox.url}/bugzilla/{root}", api_key=api_key, use_creds=False)


@pytest.fixture(scope="module")
def linked(sandbox) -> dict[int, str]:
    """Every bug the team's cases link, by id, with the status the portal shows for it."""
    session = requests.Session()
    r = session.post(
        sandbox.url + TOKEN_PATH,
        data={"grant_type": "refresh_token", "client_id": "rhsm-api", "refresh_token": "sandbox-offline-token"},
        timeout=10,
    )
    r.raise_for_status()
    session.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    portal = f"{sandbox.url}/portal/hydra/rest"
    found = session.get(
        f"{portal}/search/cases", params={"q": TEAM_QUERY, "rows": 5000, "fl": "case_number"}, timeout=30
    )
    found.raise_for_status()
    bugs = {}
    for doc in found.json()["response"]["docs"]:
        case = session.get(f"{portal}/v1/cases/{doc['case_number']}", timeout=10)
        case.raise_for_status()
        for link in case.json()["bugzillas"]:
            bugs[int(link["bugzillaNumber"])] = link["status"]
    assert len(bugs) == sandbox.state()["bugs"]
    return bugs


@pytest.fixture(scope="module")
def split(sandbox, linked) -> tuple[list[int], list[int]]:
    """The linked bugs the API key may see, and those it may not (restricted)."""
    ids = sorted(linked)
    seen = {b.id for b in connect(sandbox).getbugs(ids, include_fields=["id"])}
    return [i for i in ids if i in seen], [i for i in ids if i not in seen]


def test_it_serves_every_linked_bug_in_batches_with_the_fields_asked_for(clean_sandbox, linked):
    bz = connect(clean_sandbox)
    ids = sorted(linked)
    found = []
    for start in range(0, len(ids), 25):
        found += bz.getbugs(ids[start : start + 25], include_fields=list(FIELDS))
    assert len({b.id for b in found}) == len(found)
    visible = {b.id for b in found}
    restricted = set(ids) - visible
    assert restricted and len(restricted) < len(ids) / 5  # a few restricted ones, left out as faults
    for bug in found:
        raw = bug.get_raw_data()
        assert set(raw) == set(FIELDS)
        assert raw["status"] == linked[bug.id]
        assert isinstance(raw["target_release"], list) and raw["target_release"]
        assert raw["last_change_time"].endswith("Z")
    requests_made = clean_sandbox.requests()
    assert requests_made["GET /bugzilla/rest/bug"] == -(-len(ids) // 25)
    assert requests_made["writes"] == 0


def test_it_returns_red_hat_field_shapes_for_one_bug(clean_sandbox, split):
    bug = connect(clean_sandbox).getbug(split[0][0])
    raw = bug.get_raw_data()
    for name in ("summary", "status", "resolution", "severity", "priority", "product", "assigned_to", "qa_contact",
                 "cf_internal_whiteboard", "creation_time", "last_change_time", "is_open"):  # fmt: skip
        assert name in raw
    assert isinstance(raw["component"], list) and isinstance(raw["target_release"], list)
    assert raw["assigned_to_detail"]["email"] == raw["assigned_to"]
    assert "comments" not in raw  # an extra field: only when asked for
    assert bug.bug_status == raw["status"]  # python-bugzilla's own aliases work


def test_it_refuses_a_restricted_bug_unless_permissive(clean_sandbox, split):
    public, restricted = split
    bz = connect(clean_sandbox)
    with pytest.raises(bugzilla.BugzillaError) as refused:
        bz.getbug(restricted[0])
    assert refused.value.code == 102
    assert f"You are not authorized to access bug #{restricted[0]}" in str(refused.value)

    assert [b.id for b in bz.getbugs([public[0], restricted[0]])] == [public[0]]  # permissive: a fault
    with pytest.raises(bugzilla.BugzillaError) as strict:
        bz.getbugs([public[0], restricted[0]], permissive=False)
    assert strict.value.code == 102


def test_it_reports_an_unknown_bug(clean_sandbox, split):
    bz = connect(clean_sandbox)
    with pytest.raises(bugzilla.BugzillaError) as unknown:
        bz.getbug(99)
    assert unknown.value.code == 101 and "Bug #99 does not exist." in str(unknown.value)
    assert [b.id for b in bz.getbugs([99, split[0][0]])] == [split[0][0]]
    with pytest.raises(bugzilla.BugzillaError) as alias:
        bz.getbug("CVE-2099-0001")
    assert alias.value.code == 100


def test_it_updates_the_internal_whiteboard_visibly_and_counts_a_write(clean_sandbox, split):
    bz = connect(clean_sandbox)
    bug_id = split[0][1]
    before = bz.getbug(bug_id)
    whiteboard = f"Telco Telco:Case T5G-{uuid.uuid4().hex[:8]}"

    answer = bz.update_bugs([bug_id], {"cf_internal_whiteboard": whiteboard, "minor_update": True})

    (changed,) = answer["bugs"]
    assert changed["id"] == bug_id
    assert changed["changes"]["cf_internal_whiteboard"] == {
        "removed": before.cf_internal_whiteboard,
        "added": whiteboard,
    }
    after = bz.getbug(bug_id)
    assert after.cf_internal_whiteboard == whiteboard
    assert after.last_change_time == changed["last_change_time"] > before.last_change_time
    counts = clean_sandbox.requests()
    assert counts["writes"] == 1 and counts["PUT /bugzilla/rest/bug/{id}"] == 1


def test_it_adds_comments_after_the_description(clean_sandbox, split):
    bz = connect(clean_sandbox)
    bug = bz.getbug(split[0][2])
    note = f"T5G note {uuid.uuid4().hex}"

    answer = bug.addcomment(note, private=True)

    assert answer["bugs"][0]["changes"] == {}  # a comment is not a field change
    comments = bug.getcomments()
    assert comments[0]["count"] == 0 and comments[0]["text"].startswith("Description of problem:")
    assert comments[-1]["text"] == note and comments[-1]["is_private"] is True
    assert comments[-1]["count"] == len(comments) - 1
    assert comments[-1]["creation_time"] == bz.getbug(bug.id).last_change_time
    assert len({c["id"] for c in comments}) == len(comments)


def test_it_changes_status_and_requires_a_resolution_to_close(clean_sandbox, split):
    bz = connect(clean_sandbox)
    bug = bz.getbug(split[0][3])
    bug.setstatus("ON_QA", comment="Moving to QA")
    assert bz.getbug(bug.id).status == "ON_QA"
    with pytest.raises(bugzilla.BugzillaError) as refused:
        bz.update_bugs([bug.id], bz.build_update(status="CLOSED"))
    assert refused.value.code == 121
    bz.update_bugs([bug.id], bz.build_update(status="CLOSED", resolution="ERRATA"))
    closed = bz.getbug(bug.id)
    assert (closed.status, closed.resolution, closed.is_open) == ("CLOSED", "ERRATA", False)


def test_it_rejects_a_wrong_api_key(clean_sandbox, split):
    bz = connect(clean_sandbox, api_key="not-the-key")  # /version is login-exempt: construction works
    for call in (lambda: bz.getbug(split[0][0]), lambda: bz.getbugs(split[0][:3]),
                 lambda: bz.update_bugs([split[0][0]], {"cf_internal_whiteboard": "x"})):  # fmt: skip
        with pytest.raises(bugzilla.BugzillaError) as refused:
            call()
        assert refused.value.code == 306
        assert "The API key you specified is invalid" in str(refused.value)
    assert clean_sandbox.requests()["writes"] == 1  # the refused PUT still reached the server


def test_it_serves_anonymous_callers_public_bugs_only(clean_sandbox, split):
    anonymous = connect(clean_sandbox, api_key=None)
    assert anonymous.getbug(split[0][0]).id == split[0][0]
    with pytest.raises(bugzilla.BugzillaError) as hidden:
        anonymous.getbug(split[1][0])
    assert hidden.value.code == 102 and "log in" in str(hidden.value)
    with pytest.raises(bugzilla.BugzillaError) as refused:
        anonymous.update_bugs([split[0][0]], {"cf_internal_whiteboard": "x"})
    assert refused.value.code == 410
    assert anonymous.logged_in is False
    assert connect(clean_sandbox).logged_in is True


def test_it_behaves_as_bugzilla_redhat_com_under_the_redhat_root(clean_sandbox, split):
    bz = connect(clean_sandbox, root=".redhat.com/rest")
    assert isinstance(bz, bugzilla.RHBugzilla)  # Bearer auth, extra_fields, Red Hat converters
    bug = bz.getbug(split[0][4])
    assert isinstance(bug.component, str) and bug.components == [bug.component]
    assert bug.comments[0]["count"] == 0 and bug.description == bug.comments[0]["text"]
    whiteboard = f"Telco RH-{uuid.uuid4().hex[:8]}"
    bz.update_bugs([bug.id], bz.build_update(internal_whiteboard=whiteboard, minor_update=True))
    assert connect(clean_sandbox).getbug(bug.id).cf_internal_whiteboard == whiteboard
    with pytest.raises(bugzilla.BugzillaError) as refused:
        connect(clean_sandbox, api_key="not-the-key", root=".redhat.com/rest").getbug(bug.id)
    assert refused.value.code == 306


def test_it_searches_without_showing_restricted_bugs(clean_sandbox, split):
    bz = connect(clean_sandbox)
    query = bz.build_query(product="OpenShift Container Platform", include_fields=["id", "status"])
    found = bz.query(query)
    ids = {b.id for b in found}
    assert set(split[0]) <= ids and not ids & set(split[1])
    modified = bz.query(bz.build_query(status="MODIFIED", include_fields=["id", "status"]))
    assert modified and all(b.status == "MODIFIED" for b in modified)


def test_it_restricts_a_bug_on_request_as_bugzilla_hides_a_bug_made_private(clean_sandbox, split):
    bug_id = split[0][-1]
    url, key = f"{clean_sandbox.url}/bugzilla/rest", {"Bugzilla_api_key": API_KEY}
    try:
        assert clean_sandbox.post(f"bugs/{bug_id}/access", {"access": "restricted"}).status_code == 200
        many = requests.get(f"{url}/bug", params={**key, "id": [bug_id, split[0][0]], "permissive": 1}, timeout=10)
        assert many.status_code == 200 and [b["id"] for b in many.json()["bugs"]] == [split[0][0]]
        assert many.json()["faults"] == [
            {"id": bug_id, "faultCode": 102, "faultString": f"You are not authorized to access bug #{bug_id}."}
        ]
        one = requests.get(f"{url}/bug/{bug_id}", params=key, timeout=10)
        assert one.status_code == 401 and one.json()["code"] == 102 and one.json()["error"] is True
        assert connect(clean_sandbox).getbugs([bug_id, split[0][0]], include_fields=["id"])[0].id == split[0][0]
    finally:
        clean_sandbox.post(f"bugs/{bug_id}/access", {"access": "visible"})
    assert requests.get(f"{url}/bug/{bug_id}", params=key, timeout=10).status_code == 200
