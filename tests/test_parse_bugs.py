"""The bugs linked to cases, parsed: Bugzilla bugs (REST /bug) and JIRA bugs ("issues", REST v2 search results).

Pure function calls, no database and no sandbox: tests/test_sync_bugs.py and tests/test_sync_issues.py read the
same records over HTTP.
"""

from datetime import UTC

import pytest

from bugs.issues import IssueFields, parse_issue
from bugs.services import parse_bug
from t5g.clients.records import RecordError
from tests.records import AT, JIRA_TIME, MISSING, PORTAL_TIME, changed, picked


# --- Bugzilla ---------------------------------------------------------------------------------------------------
def bug(**changes) -> dict:
    """A minimal bug as Bugzilla's REST API returns it, with changes (MISSING removes a field)."""
    return changed({"id": 2012345, "last_change_time": PORTAL_TIME}, changes)


def test_it_reads_a_minimal_bug_with_defaults_for_everything_else():
    assert parse_bug(bug()) == {
        "id": 2012345, "summary": "", "status": "", "resolution": "", "severity": "", "priority": "",
        "component": "", "target_release": "---", "assignee": "", "qa_contact": "", "internal_whiteboard": "",
        "restricted": False, "upstream_updated_at": AT, "removed_at": None,
    }  # fmt: skip


def test_it_maps_every_field_of_a_full_red_hat_bug():
    # Red Hat's Bugzilla lists component and target_release; *_detail, creation_time and the rest are not read.
    raw = bug(
        summary="ovnkube-node crashes on upgrade", status="POST", resolution="", severity="urgent", priority="high",
        component=["Networking"], target_release=["4.16.z"], assigned_to="jdoe@redhat.com",
        assigned_to_detail={"email": "jdoe@redhat.com"}, qa_contact="qe@redhat.com",
        cf_internal_whiteboard="Telco:Case", creation_time=PORTAL_TIME, version=["4.16"],
    )  # fmt: skip
    assert parse_bug(raw) == {
        "id": 2012345, "summary": "ovnkube-node crashes on upgrade", "status": "POST", "resolution": "",
        "severity": "urgent", "priority": "high", "component": "Networking", "target_release": "4.16.z",
        "assignee": "jdoe@redhat.com", "qa_contact": "qe@redhat.com", "internal_whiteboard": "Telco:Case",
        "restricted": False, "upstream_updated_at": AT, "removed_at": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(bug(component="Node"), {"component": "Node"}, id="component as text (upstream Bugzilla)"),
        pytest.param(bug(component="Node, Etcd"), {"component": "Node, Etcd"}, id="component text never split"),
        pytest.param(bug(component=["Node", "Etcd"]), {"component": "Node"}, id="first of several components"),
        pytest.param(bug(component=["c" * 300]), {"component": "c" * 200}, id="component cut to 200"),
        pytest.param(bug(target_release=[]), {"target_release": "---"}, id="no target release is ---"),
        pytest.param(bug(target_release=None), {"target_release": "---"}, id="null target release is ---"),
        pytest.param(bug(target_release="4.17.0"), {"target_release": "4.17.0"}, id="target release as text"),
        pytest.param(bug(target_release=["t" * 150]), {"target_release": "t" * 100}, id="target release cut to 100"),
        pytest.param(bug(resolution=None), {"resolution": ""}, id="null resolution"),
        pytest.param(bug(qa_contact=None), {"qa_contact": ""}, id="null QA contact"),
        pytest.param(bug(cf_internal_whiteboard=None), {"internal_whiteboard": ""}, id="null whiteboard"),
        pytest.param(bug(status="s" * 40), {"status": "s" * 30}, id="status cut to 30"),
        pytest.param(bug(severity="s" * 40), {"severity": "s" * 20}, id="severity cut to 20"),
        pytest.param(bug(priority="p" * 40), {"priority": "p" * 20}, id="priority cut to 20"),
        pytest.param(bug(assigned_to="é" * 300), {"assignee": "é" * 200}, id="assignee cut to 200"),
        pytest.param(bug(summary="Überlast 🚨" * 5000), {"summary": "Überlast 🚨" * 5000}, id="long unicode summary"),
        pytest.param(bug(last_change_time=JIRA_TIME), {"upstream_updated_at": AT}, id="JIRA form of a time"),
    ],
)
def test_it_accepts_a_bug(raw, expected):
    assert picked(parse_bug(raw), expected) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(bug(id=MISSING), "id", id="no id"),
        pytest.param(bug(id="2012345"), "id", id="id as text"),
        pytest.param(bug(id=0), "id", id="id zero"),
        pytest.param(bug(id=-1), "id", id="negative id"),
        pytest.param(bug(id=True), "id", id="id true"),
        pytest.param(bug(id=2012345.0), "id", id="id as a float"),
        pytest.param(bug(last_change_time=MISSING), "last_change_time is missing", id="no change time"),
        pytest.param(bug(last_change_time=None), "last_change_time is missing", id="null change time"),
        pytest.param(bug(last_change_time="2026-11-28T10:15:02"), "last_change_time: time without a zone", id="naive"),
        pytest.param(bug(last_change_time=1764324902), "last_change_time: expected a time", id="epoch for a time"),
        pytest.param(bug(last_change_time="20261128T10:15:02"), "last_change_time: time without", id="XML-RPC time"),
        pytest.param(bug(last_change_time="Nov 28, 2026"), "last_change_time: not a time", id="words for a time"),
        pytest.param(bug(summary=["x"]), "summary: expected text", id="list for the summary"),
        pytest.param(bug(assigned_to={"email": "jdoe@redhat.com"}), "assigned_to: expected text", id="user object"),
        pytest.param(bug(component={"Networking": []}), "component: expected a list", id="object for the component"),
        pytest.param(bug(target_release=[None]), "target_release: expected a list", id="null in the target release"),
    ],
)
def test_it_refuses_a_bug(raw, message):
    with pytest.raises(RecordError, match=message):
        parse_bug(raw)


# --- JIRA bugs ----------------------------------------------------------------------------------------------------
FIELDS = IssueFields(
    severity="customfield_10840", qa_contact="customfield_10470", private_keywords="customfield_11087",
    whiteboard="customfield_11004",
)  # fmt: skip
SEVERITY, QA, KEYWORDS, WHITEBOARD = FIELDS.severity, FIELDS.qa_contact, FIELDS.private_keywords, FIELDS.whiteboard
JANE = {"accountId": "5b10a2844c20165700ede21g", "displayName": "Jane Doe", "emailAddress": "jdoe@redhat.com"}


def issue(key: str = "OCPBUGS-1234", **fields) -> dict:
    """A minimal JIRA bug as the search returns it, with `fields` changed (MISSING removes one)."""
    return {"id": "30001", "key": key, "fields": changed({"updated": JIRA_TIME}, fields)}


def test_it_reads_a_minimal_issue_with_defaults_for_everything_else():
    assert parse_issue(issue(), fields=FIELDS) == {
        "key": "OCPBUGS-1234", "summary": "", "status": "", "priority": "", "severity": "", "issue_type": "",
        "assignee": "", "qa_contact": "", "fix_versions": [], "private_keywords": [], "internal_whiteboard": "",
        "telco_priority": None, "upstream_updated_at": AT, "removed_at": None,
    }  # fmt: skip


def test_it_maps_every_field_of_a_full_issue():
    raw = issue(
        summary="ovnkube-node crashes on upgrade", status={"name": "ON_QA"}, priority={"name": "Critical"},
        issuetype={"name": "Bug"}, assignee=JANE, fixVersions=[{"name": "4.16.z"}, {"name": "4.17.0"}],
        **{SEVERITY: {"value": "Important"}, QA: {"displayName": "QE Bot"}, KEYWORDS: "Telco,Telco:Priority-2",
           WHITEBOARD: "Telco Telco:Priority-1"},
    )  # fmt: skip
    assert parse_issue(raw, fields=FIELDS) == {
        "key": "OCPBUGS-1234", "summary": "ovnkube-node crashes on upgrade", "status": "ON_QA",
        "priority": "Critical", "severity": "Important", "issue_type": "Bug", "assignee": "jdoe@redhat.com",
        "qa_contact": "QE Bot", "fix_versions": ["4.16.z", "4.17.0"], "private_keywords": ["Telco", "Telco:Priority-2"],
        "internal_whiteboard": "Telco Telco:Priority-1", "telco_priority": 2, "upstream_updated_at": AT,
        "removed_at": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(issue(assignee={**JANE, "emailAddress": None}), {"assignee": "Jane Doe"}, id="e-mail hidden"),
        pytest.param(issue(assignee=None, **{QA: None}), {"assignee": "", "qa_contact": ""}, id="nobody"),
        pytest.param(issue(**{KEYWORDS: " Telco , 5G "}), {"private_keywords": ["Telco", "5G"]}, id="keywords trimmed"),
        pytest.param(issue(**{KEYWORDS: "Telco;Case"}), {"private_keywords": ["Telco;Case"]}, id="keywords split on ,"),
        pytest.param(issue(**{KEYWORDS: ["Telco", "5G"]}), {"private_keywords": ["Telco", "5G"]}, id="keywords list"),
        pytest.param(issue(**{KEYWORDS: None}), {"private_keywords": []}, id="null keywords"),
        pytest.param(issue(fixVersions=None), {"fix_versions": []}, id="null fix versions"),
        pytest.param(issue(**{KEYWORDS: "Telco,Telco:Priority-1"}), {"telco_priority": 1}, id="telco P1 keyword"),
        pytest.param(issue(**{KEYWORDS: "telco:priority-3"}), {"telco_priority": 3}, id="telco keyword any case"),
        pytest.param(issue(**{KEYWORDS: "Telco:Priority-3,Telco:Priority-2"}), {"telco_priority": 2}, id="most urgent"),
        pytest.param(issue(**{KEYWORDS: "Telco:Priority-12"}), {"telco_priority": 12}, id="telco two digits"),
        pytest.param(issue(**{KEYWORDS: "Priority"}), {"telco_priority": None}, id="the word alone"),
        pytest.param(issue(**{KEYWORDS: "Telco:Priority-0"}), {"telco_priority": None}, id="level 0 is none"),
        pytest.param(issue(**{KEYWORDS: "Telco:Priority-x"}), {"telco_priority": None}, id="no number"),
        pytest.param(issue(**{KEYWORDS: "Telco:Priority-1b"}), {"telco_priority": None}, id="not only a number"),
        pytest.param(
            issue(**{KEYWORDS: "Telco", WHITEBOARD: "Telco Telco:Priority-4"}),
            {"telco_priority": 4, "internal_whiteboard": "Telco Telco:Priority-4"},
            id="whiteboard fallback",
        ),  # fmt: skip
        pytest.param(
            issue(**{KEYWORDS: "Telco:Priority-3", WHITEBOARD: "Telco:Priority-1"}),
            {"telco_priority": 3},
            id="keywords before the whiteboard",
        ),
        pytest.param(issue(**{WHITEBOARD: None}), {"internal_whiteboard": "", "telco_priority": None}, id="null wb"),
        pytest.param(issue(**{SEVERITY: None}, priority=None), {"severity": "", "priority": ""}, id="null options"),
        pytest.param(issue(**{SEVERITY: {"value": "v" * 40}}), {"severity": "v" * 30}, id="severity cut to 30"),
        pytest.param(issue(status={"name": "s" * 60}), {"status": "s" * 50}, id="status cut to 50"),
        pytest.param(issue(issuetype={"name": "t" * 60}), {"issue_type": "t" * 50}, id="type cut to 50"),
        pytest.param(issue(summary="Überlast 🚨" * 5000), {"summary": "Überlast 🚨" * 5000}, id="long unicode summary"),
        pytest.param(issue(updated=PORTAL_TIME), {"upstream_updated_at": AT}, id="portal form of a time"),
        pytest.param(issue(updated="2026-11-28T05:15:02.000-0500"), {"upstream_updated_at": AT}, id="offset"),
    ],
)
def test_it_accepts_an_issue(raw, expected):
    parsed = parse_issue(raw, fields=FIELDS)
    assert picked(parsed, expected) == expected
    assert parsed["upstream_updated_at"].tzinfo is UTC


def test_it_reads_the_custom_fields_under_the_ids_it_is_given():
    raw = issue(cf_1={"value": "Low"}, cf_2=JANE, cf_3="Telco")
    fields = IssueFields(severity="cf_1", qa_contact="cf_2", private_keywords="cf_3", whiteboard="cf_4")
    expected = {"severity": "Low", "qa_contact": "jdoe@redhat.com", "private_keywords": ["Telco"]}
    assert picked(parse_issue(raw, fields=fields), expected) == expected
    unread = {"severity": "", "qa_contact": "", "private_keywords": []}
    assert picked(parse_issue(raw, fields=FIELDS), expected) == unread  # the same record, read with other ids


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(issue(key="ocpbugs-1234"), "key: not an issue key", id="lower-case key"),
        pytest.param(issue(key="1234"), "key: not an issue key", id="key without a project"),
        pytest.param(
            issue(key="OCPBUGS-1234\n"),
            "key: not an issue key",
            id="key with a trailing newline",
        ),
        pytest.param({"key": "OCPBUGS-1234", "fields": None}, "fields: expected an object", id="null fields"),
        pytest.param(issue(updated=MISSING), "updated is missing", id="no updated"),
        pytest.param(issue(updated="2026-11-28T10:15:02.000"), "updated: time without a zone", id="naive time"),
        pytest.param(issue(updated=1764324902000), "updated: expected a time", id="epoch millis for a time"),
        pytest.param(issue(summary={"text": "x"}), "summary: expected text", id="object for the summary"),
        pytest.param(issue(status="New"), "status: expected an object", id="text for the status"),
        pytest.param(issue(fixVersions="4.16.z"), "fixVersions: expected a list", id="text for the fix versions"),
        pytest.param(issue(fixVersions=["4.16.z"]), "fixVersions: expected an object", id="text for a version"),
        pytest.param(issue(**{QA: "qe@redhat.com"}), "qa_contact: expected an object", id="text for a user"),
        pytest.param(issue(**{SEVERITY: "Important"}), "severity: expected an object", id="text for an option"),
        pytest.param(issue(**{KEYWORDS: {"a": 1}}), "private keywords", id="object for the keywords"),
    ],
)
def test_it_refuses_an_issue(raw, message):
    with pytest.raises(RecordError, match=message):
        parse_issue(raw, fields=FIELDS)
