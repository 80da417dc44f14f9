"""The team's JIRA cards and their comments, parsed from a REST v2 search result.

Pure function calls, no database and no sandbox: tests/test_sync_cards.py reads the same records over HTTP.
The status map is StatusMapping's rows in production; here it is the argument parse_card takes.
"""

from datetime import UTC

import pytest

from cards.services import CardFields, parse_card
from t5g.clients.records import RecordError
from tests.records import AT, JIRA_TIME, MISSING, PORTAL_TIME, changed, picked

# Custom field ids differ between JIRA instances; CardFields holds the ones found by name (as the sandbox numbers them).
FIELDS = CardFields(contributors="customfield_10466", severity="customfield_10840",
                    case_links="customfield_10979", sprint="customfield_10020")  # fmt: skip
CONTRIBUTORS, SEVERITY, LINKS, SPRINT = FIELDS.contributors, FIELDS.severity, FIELDS.case_links, FIELDS.sprint
STATUSES = {"New": "New", "In Progress": "Eng Working", "Closed": "Done"}
LINK = "https://access.redhat.com/support/cases/#/case/{}"
JANE = {"accountId": "5b10a2844c20165700ede21g", "displayName": "Jane Doe", "emailAddress": "jdoe@redhat.com"}


@pytest.fixture(autouse=True)
def _label(settings):
    settings.JIRA_POTENTIAL_ESCALATION_LABEL = "PotentialEscalation"


def card(key: str = "KNIECO-1", **fields) -> dict:
    """A minimal card as JIRA's search returns it, with `fields` changed (MISSING removes one)."""
    base = {"summary": "03012345: OVN pods crash", "status": {"name": "In Progress"},
            "created": JIRA_TIME, "updated": JIRA_TIME}  # fmt: skip
    return {"id": "10001", "key": key, "fields": changed(base, fields)}


def comment(**changes) -> dict:
    """A card with a page holding one comment (a minimal one, with changes)."""
    one = changed({"id": "20001", "created": JIRA_TIME}, changes)
    return card(comment={"comments": [one], "maxResults": 1, "total": 1, "startAt": 0})


def parse(issue: dict, fields: CardFields = FIELDS) -> dict:
    return parse_card(issue, fields=fields, statuses=STATUSES)


def test_it_reads_a_minimal_card_with_defaults_for_everything_else():
    assert parse(card()) == {
        "card": {"key": "KNIECO-1", "jira_id": "10001", "case_id": "03012345", "summary": "03012345: OVN pods crash",
                 "jira_status": "In Progress", "status": "Eng Working", "created_at": AT, "assignee": "",
                 "assignee_account_id": "", "contributors": [], "priority": "", "severity": None, "labels": [],
                 "sprint": "", "potential_escalation": False, "upstream_updated_at": AT, "removed_at": None},
        "comments": [],
        "all_comments": False,  # the search did not bring the comment field: the sync must not drop stored ones
    }  # fmt: skip


def test_it_maps_every_field_of_a_full_card():
    sprint = {"id": 7, "name": "Telco 2026-48", "state": "active", "boardId": 3, "goal": ""}
    note = {"id": "20001", "author": JANE, "body": "Asked for must-gather.", "created": JIRA_TIME, "updated": JIRA_TIME}
    issue = card(
        priority={"name": "Major", "id": "3"}, assignee=JANE, labels=["field", "PotentialEscalation"],
        **{CONTRIBUTORS: [JANE], SEVERITY: {"value": "Urgent", "id": "27001"}, LINKS: LINK.format("03012345"),
           SPRINT: [sprint]},
        comment={"comments": [note], "maxResults": 1, "total": 1, "startAt": 0},
    )  # fmt: skip
    assert parse(issue) == {
        "card": {"key": "KNIECO-1", "jira_id": "10001", "case_id": "03012345", "summary": "03012345: OVN pods crash",
                 "jira_status": "In Progress", "status": "Eng Working", "created_at": AT, "assignee": "Jane Doe",
                 "assignee_account_id": JANE["accountId"], "contributors": ["Jane Doe"], "priority": "Major",
                 "severity": 1, "labels": ["field", "PotentialEscalation"], "sprint": "Telco 2026-48",
                 "potential_escalation": True, "upstream_updated_at": AT, "removed_at": None},
        "comments": [{"id": "20001", "card_id": "KNIECO-1", "author": "Jane Doe", "body": "Asked for must-gather.",
                      "created_at": AT, "upstream_updated_at": AT, "removed_at": None}],
        "all_comments": True,
    }  # fmt: skip


def test_it_finds_the_custom_fields_by_name():
    class Jira:  # the one JiraClient method CardFields uses; ids as another JIRA instance might number them
        def field(self, name: str) -> str:
            return {"Contributors": "cf_1", "Severity": "cf_2", "SFDC Case Links": "cf_3", "Sprint": "cf_4"}[name]

    fields = CardFields.of(Jira())
    issue = card(summary="No case here", cf_1=[JANE], cf_2={"value": "Low"}, cf_3="03054321", cf_4=[{"name": "S1"}])

    assert fields == CardFields(contributors="cf_1", severity="cf_2", case_links="cf_3", sprint="cf_4")
    assert {"cf_1", "cf_2", "cf_3", "cf_4"} <= set(fields.wanted)
    expected = {"contributors": ["Jane Doe"], "severity": 4, "case_id": "03054321", "sprint": "S1"}
    assert picked(parse(issue, fields)["card"], expected) == expected
    unread = {"contributors": [], "severity": None, "case_id": None, "sprint": ""}
    assert picked(parse(issue)["card"], expected) == unread  # the same record, read with other ids


def sprints(*states: str) -> list[dict]:
    return [{"id": i, "name": f"S{i}-{state}", "state": state} for i, state in enumerate(states, 1)]


OLD_SERVER_SPRINT = "com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=4,rapidViewId=2,state={},name={},goal=]"


@pytest.mark.parametrize(
    ("issue", "expected"),
    [
        pytest.param(card(summary="Check OVN"), {"case_id": None}, id="no case anywhere"),
        pytest.param(
            card(summary="Check OVN", **{LINKS: f"{LINK.format('03099999')}\n03088888"}),
            {"case_id": "03099999"},
            id="case from the first SFDC case link",
        ),
        pytest.param(card(**{LINKS: LINK.format("03099999")}), {"case_id": "03012345"}, id="summary's case wins"),
        pytest.param(card(summary="Check 03012345: x"), {"case_id": None}, id="case number not at the start"),
        pytest.param(card(status={"name": "Needs Info"}), {"jira_status": "Needs Info", "status": ""}, id="unmapped"),
        pytest.param(card(status={"name": "Closed"}), {"status": "Done"}, id="mapped status"),
        pytest.param(card(status={"name": "s" * 60}), {"jira_status": "s" * 50}, id="JIRA status cut to 50"),
        pytest.param(card(**{SEVERITY: {"value": "Critical"}}), {"severity": 1}, id="severity Critical is 1"),
        pytest.param(card(**{SEVERITY: {"value": "high"}}), {"severity": 2}, id="severity High in any case is 2"),
        pytest.param(card(**{SEVERITY: {"value": "Important"}}), {"severity": 2}, id="severity Important is 2"),
        pytest.param(card(**{SEVERITY: {"value": "Moderate"}}), {"severity": 3}, id="severity Moderate is 3"),
        pytest.param(card(**{SEVERITY: {"value": "Normal"}}), {"severity": 3}, id="severity Normal is 3"),
        pytest.param(card(**{SEVERITY: {"value": "Low"}}), {"severity": 4}, id="severity Low is 4"),
        pytest.param(card(**{SEVERITY: {"value": "Sev 1"}}), {"severity": None}, id="unknown severity is none"),
        pytest.param(card(**{SEVERITY: None}), {"severity": None}, id="null severity"),
        pytest.param(card(**{SPRINT: sprints("closed", "active", "future")}), {"sprint": "S2-active"}, id="active"),
        pytest.param(card(**{SPRINT: sprints("future", "closed")}), {"sprint": "S1-future"}, id="else future sprint"),
        pytest.param(card(**{SPRINT: sprints("closed", "closed")}), {"sprint": "S2-closed"}, id="else last sprint"),
        pytest.param(
            card(**{SPRINT: [OLD_SERVER_SPRINT.format("ACTIVE", "Telco 48"), OLD_SERVER_SPRINT.format("CLOSED", "x")]}),
            {"sprint": "Telco 48"},
            id="sprints in JIRA Server's old text form",
        ),
        pytest.param(card(**{SPRINT: None}), {"sprint": ""}, id="in no sprint"),
        pytest.param(card(**{SPRINT: [{"name": "n" * 300}]}), {"sprint": "n" * 200}, id="sprint cut to 200"),
        pytest.param(
            card(assignee={"name": "jdoe", "displayName": "Jane Doe"}),
            {"assignee": "Jane Doe", "assignee_account_id": "jdoe"},
            id="JIRA Server user, known by name",
        ),
        pytest.param(card(assignee=None), {"assignee": "", "assignee_account_id": ""}, id="unassigned"),
        pytest.param(card(**{CONTRIBUTORS: None}), {"contributors": []}, id="null contributors"),
        pytest.param(card(labels=None), {"labels": [], "potential_escalation": False}, id="null labels"),
        pytest.param(card(labels=["a,b"]), {"labels": ["a,b"]}, id="labels never split"),
        pytest.param(card(priority=None), {"priority": ""}, id="null priority"),
        pytest.param(card(priority={"name": "p" * 40}), {"priority": "p" * 30}, id="priority cut to 30"),
        pytest.param({**card(), "id": None}, {"jira_id": ""}, id="no JIRA id"),
        pytest.param(card(summary="03012345: Überlast 🚨" * 1000), {"case_id": "03012345"}, id="long unicode summary"),
    ],
)
def test_it_accepts(issue, expected):
    assert picked(parse(issue)["card"], expected) == expected


@pytest.mark.parametrize(
    ("issue", "expected"),
    [
        pytest.param(comment(updated=MISSING), {"upstream_updated_at": None}, id="never edited"),
        pytest.param(comment(author=None), {"author": ""}, id="by nobody known"),
        pytest.param(comment(id=20001), {"id": "20001"}, id="id as a number"),
        pytest.param(comment(body="Überlast 🚨\n" * 10_000), {"body": "Überlast 🚨\n" * 10_000}, id="long unicode"),
        pytest.param(comment(created="2026-11-28T11:15:02+01:00"), {"created_at": AT}, id="time with an offset"),
    ],
)
def test_it_accepts_comments(issue, expected):
    assert picked(parse(issue)["comments"][0], expected) == expected


@pytest.mark.parametrize(
    ("page", "complete"),
    [
        pytest.param(MISSING, False, id="comment field not asked for"),
        pytest.param(None, False, id="null comment field"),
        pytest.param({"comments": []}, True, id="no comments"),
        pytest.param({"comments": [], "total": 0}, True, id="none of none"),
        pytest.param({"comments": [], "total": 3}, False, id="page shorter than the total"),
    ],
)
def test_it_tells_whether_every_comment_came(page, complete):
    assert parse(card(comment=page))["all_comments"] is complete


@pytest.mark.parametrize(
    ("issue", "message"),
    [
        pytest.param(card(key="knieco-1"), "key: not an issue key", id="lower-case key"),
        pytest.param(card(key="KNIECO-"), "key: not an issue key", id="key without a number"),
        pytest.param({"id": "1", "fields": card()["fields"]}, "key: not an issue key", id="no key"),
        pytest.param(
            card(key="KNIECO-1\n"),
            "key: not an issue key",
            id="key with a trailing newline",
        ),
        pytest.param({"key": "KNIECO-1"}, "fields: expected an object", id="no fields"),
        pytest.param(card(status=MISSING), "status is missing", id="no status"),
        pytest.param(card(status={"name": ""}), "status is missing", id="blank status"),
        pytest.param(card(status="In Progress"), "status: expected an object", id="text for the status"),
        pytest.param(card(created=None), "created is missing", id="null created"),
        pytest.param(card(updated=MISSING), "updated is missing", id="no updated"),
        pytest.param(card(updated=1764324902000), "updated: expected a time", id="epoch millis for a time"),
        pytest.param(card(created="28/Nov/26 10:15 AM"), "created: not a time", id="rendered date for a time"),
        pytest.param(card(summary=["x"]), "summary: expected text", id="list for the summary"),
        pytest.param(card(assignee="jdoe"), "assignee: expected an object", id="text for the assignee"),
        pytest.param(card(assignee={"displayName": ["x"]}), "assignee: expected text", id="list for a user name"),
        pytest.param(card(**{CONTRIBUTORS: JANE}), "contributors: expected a list", id="one user, not a list"),
        pytest.param(card(**{CONTRIBUTORS: ["jdoe"]}), "contributors: expected an object", id="text for a user"),
        pytest.param(card(**{SEVERITY: "Urgent"}), "severity: expected an object", id="text for a select option"),
        pytest.param(card(**{SPRINT: {"name": "S1"}}), "sprint: expected a list", id="one sprint, not a list"),
        pytest.param(card(**{SPRINT: [7]}), "sprint: unexpected int", id="sprint id for a sprint"),
        pytest.param(card(labels={"a": 1}), "labels: expected a list of strings", id="object for the labels"),
        pytest.param(card(priority=["Major"]), "priority: expected an object", id="list for the priority"),
        pytest.param(
            card(summary="Check OVN", **{LINKS: {"url": LINK.format("03012345")}}),
            "SFDC Case Links: expected text",
            id="object for the case links",
        ),
        pytest.param(card(comment=[]), "comment: expected a page of comments", id="list for the comment page"),
        pytest.param(card(comment={"comments": {}}), "comments: expected a list", id="object for the comments"),
        pytest.param(comment(id=MISSING), "comment id is missing", id="comment without an id"),
        pytest.param(comment(id=""), "comment id is missing", id="comment with a blank id"),
        pytest.param(comment(created=None), "comment created is missing", id="comment without a date"),
        pytest.param(comment(body={"type": "doc"}), "comment body: expected text", id="Cloud v3 rich-text body"),
        pytest.param(comment(author="jdoe"), "comment author: expected an object", id="text for the author"),
        pytest.param(
            card(comment={"comments": [], "total": "many"}),
            "comment",
            id="comment total not a number",
        ),
    ],
)
def test_it_refuses(issue, message):
    with pytest.raises(RecordError, match=message):
        parse(issue)


@pytest.mark.parametrize("value", [JIRA_TIME, PORTAL_TIME, "2026-11-28T05:15:02.000-0500"])
def test_it_reads_each_time_form_as_aware_utc(value):
    note = {"id": "20001", "created": value, "updated": value}
    parsed = parse(card(created=value, updated=value, comment={"comments": [note]}))
    card_row, comment_row = parsed["card"], parsed["comments"][0]
    times = [card_row["created_at"], card_row["upstream_updated_at"], comment_row["created_at"],
             comment_row["upstream_updated_at"]]  # fmt: skip
    assert times == [AT] * 4 and all(t.tzinfo is UTC for t in times)
