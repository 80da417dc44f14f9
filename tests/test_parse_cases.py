"""The support portal's records, parsed: a case from the search API, and a case's details from /v1/cases/{number}.

Pure function calls, no database and no sandbox: tests/test_sync_cases.py reads the same records over HTTP.
"""

from datetime import UTC, datetime

import pytest

from cases.services import parse_case, parse_detail
from t5g.clients.records import RecordError
from tests.records import AT, JIRA_TIME, MISSING, PORTAL_TIME, changed, picked

NUMBER = "03012345"


# --- a case, as the portal's search (Hydra, Solr docs) sends it -----------------------------------------------
def case(**changes) -> dict:
    """A minimal case the portal could send: only what a case cannot do without."""
    base = {"case_number": NUMBER, "case_severity": "2 (High)",
            "case_createdDate": PORTAL_TIME, "case_lastModifiedDate": PORTAL_TIME}  # fmt: skip
    return changed(base, changes)


def test_it_reads_a_minimal_case_with_defaults_for_everything_else():
    assert parse_case(case()) == {
        "number": NUMBER, "owner": "", "severity": 2, "account": "", "summary": "", "status": "Unknown",
        "product": "", "product_version": "", "description": "", "tags": [],
        "created_at": AT, "closed_at": None, "upstream_updated_at": AT, "removed_at": None,
    }  # fmt: skip


def test_it_maps_every_field_of_a_full_case():
    # As the portal sends one (sandbox/portal.py search_doc); the account number and the first bug are not read.
    doc = case(
        case_owner="Jane Doe", case_severity="1 (Urgent)", case_account_name="Acme Telco",
        case_accountNumber="1234567", case_summary="OVN pods crash after upgrade", case_status="Closed",
        case_product=["OpenShift Container Platform"], case_version="4.16", case_description="Since 4.16.3 ...",
        case_tags=["shift_telco5g", "cnv"], case_closedDate="2026-11-30T08:00:00Z", case_bugzillaNumber="2012345",
    )  # fmt: skip
    assert parse_case(doc) == {
        "number": NUMBER, "owner": "Jane Doe", "severity": 1, "account": "Acme Telco",
        "summary": "OVN pods crash after upgrade", "status": "Closed", "product": "OpenShift Container Platform",
        "product_version": "4.16", "description": "Since 4.16.3 ...", "tags": ["shift_telco5g", "cnv"],
        "created_at": AT, "closed_at": datetime(2026, 11, 30, 8, 0, tzinfo=UTC), "upstream_updated_at": AT,
        "removed_at": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        pytest.param(case(case_owner=None), {"owner": ""}, id="null owner is blank"),
        pytest.param(case(case_status=MISSING), {"status": "Unknown"}, id="missing status is Unknown"),
        pytest.param(case(case_status=None), {"status": "Unknown"}, id="null status is Unknown"),
        pytest.param(case(case_closedDate=None), {"closed_at": None}, id="null closed date is open"),
        pytest.param(case(case_tags=None), {"tags": []}, id="null tags are none"),
        pytest.param(case(case_tags="a, b;c"), {"tags": ["a", "b", "c"]}, id="tags as text split on , and ;"),
        pytest.param(case(case_product=["OCP", "RHEL"]), {"product": "OCP"}, id="first of several products"),
        pytest.param(case(case_product="OCP; RHEL"), {"product": "OCP"}, id="products as text"),
        pytest.param(case(case_product=[]), {"product": ""}, id="no product"),
        pytest.param(case(case_severity="4 (Low)"), {"severity": 4}, id="severity as the portal words it"),
        pytest.param(case(case_severity="3"), {"severity": 3}, id="severity as a bare digit"),
        pytest.param(case(case_severity=1), {"severity": 1}, id="severity as a number"),
        pytest.param(case(case_number=" 03012345 "), {"number": NUMBER}, id="case number padded"),
        pytest.param(case(case_number=12345678), {"number": "12345678"}, id="case number as a JSON number"),
        pytest.param(case(case_summary=42), {"summary": "42"}, id="number where text is expected"),
        pytest.param(
            case(case_summary="Überlast ネットワーク 🚨", case_account_name="Ça Télécom"),
            {"summary": "Überlast ネットワーク 🚨", "account": "Ça Télécom"},
            id="unicode kept",
        ),
        pytest.param(case(case_summary="x" * 100_000), {"summary": "x" * 100_000}, id="long summary kept whole"),
        pytest.param(case(case_owner="é" * 300), {"owner": "é" * 200}, id="owner cut to 200 characters"),
        pytest.param(case(case_account_name="a" * 300), {"account": "a" * 255}, id="account cut to 255"),
        pytest.param(case(case_status="s" * 60), {"status": "s" * 50}, id="status cut to 50"),
        pytest.param(case(case_product=["p" * 300]), {"product": "p" * 200}, id="product cut to 200"),
        pytest.param(case(case_version="4" * 60), {"product_version": "4" * 50}, id="version cut to 50"),
        pytest.param(
            case(case_createdDate=JIRA_TIME, case_closedDate="2026-11-28T15:45:02+05:30"),
            {"created_at": AT, "closed_at": AT},
            id="other ISO forms of a time",
        ),
    ],
)
def test_it_accepts(doc, expected):
    assert picked(parse_case(doc), expected) == expected


@pytest.mark.parametrize("value", [PORTAL_TIME, JIRA_TIME, "2026-11-28T11:15:02+01:00"])
def test_it_reads_each_time_form_as_aware_utc(value):
    parsed = parse_case(case(case_createdDate=value, case_closedDate=value, case_lastModifiedDate=value))
    for field in ("created_at", "closed_at", "upstream_updated_at"):
        assert parsed[field] == AT and parsed[field].tzinfo is AT.tzinfo, field


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        pytest.param(case(case_number=MISSING), "case number", id="no case number"),
        pytest.param(case(case_number=3012345), "case number", id="case number that lost its leading zero"),
        pytest.param(case(case_number="030123456"), "case number", id="case number of 9 digits"),
        pytest.param(case(case_number="0301234A"), "case number", id="case number with a letter"),
        pytest.param(case(case_number=[NUMBER]), "case number", id="case number in a list"),
        pytest.param(
            case(case_number="٠٣٠١٢٣٤٥"),
            "case number",
            id="case number in Arabic-Indic digits",
        ),
        pytest.param(case(case_severity=MISSING), "severity", id="no severity"),
        pytest.param(case(case_severity="Urgent"), "severity", id="severity as a word"),
        pytest.param(case(case_severity="5 (Info)"), "severity", id="severity out of range"),
        pytest.param(case(case_severity=0), "severity", id="severity zero"),
        pytest.param(case(case_createdDate=MISSING), "created is missing", id="no created date"),
        pytest.param(case(case_createdDate=None), "created is missing", id="null created date"),
        pytest.param(case(case_lastModifiedDate=""), "last modified is missing", id="blank last modified"),
        pytest.param(case(case_createdDate=1764324902), "created: expected a time", id="epoch number for a time"),
        pytest.param(case(case_createdDate="2026-11-28T10:15:02"), "created: time without a zone", id="no zone"),
        pytest.param(case(case_closedDate="yesterday"), "closed: not a time", id="closed date not a time"),
        pytest.param(case(case_closedDate={"at": PORTAL_TIME}), "closed: expected a time", id="time in an object"),
        pytest.param(case(case_summary=["a"]), "summary: expected text", id="list where text is expected"),
        pytest.param(case(case_owner={"name": "Jane"}), "owner: expected text", id="object for the owner"),
        pytest.param(case(case_tags={"a": 1}), "tags: expected a list of strings", id="object for the tags"),
        pytest.param(case(case_tags=["a", None]), "tags: expected a list of strings", id="null among the tags"),
        pytest.param(case(case_product={"name": "OCP"}), "product", id="object for the product"),
    ],
)
def test_it_refuses(doc, message):
    with pytest.raises(RecordError, match=message):
        parse_case(doc)


# --- a case's details, comments and Bugzilla links, from /v1/cases/{number} -------------------------------------
def detail(**changes) -> dict:
    return changed({"caseNumber": NUMBER, "lastModifiedDate": PORTAL_TIME}, changes)


def comment(**changes) -> dict:
    """Details holding one comment (a minimal one, with changes)."""
    return detail(comments=[changed({"id": "a0X1", "createdDate": PORTAL_TIME}, changes)])


def bug_link(**changes) -> dict:
    """Details holding one Bugzilla link."""
    return detail(bugzillas=[changed({"bugzillaNumber": "2012345"}, changes)])


def test_it_reads_minimal_details():
    assert parse_detail(NUMBER, detail()) == {
        "detail": {"case_id": NUMBER, "crit_sit": False, "group_name": "", "notified_users": [], "relief_at": None,
                   "resolved_at": None, "upstream_updated_at": AT, "removed_at": None},
        "comments": [],
        "bugs": {},
    }  # fmt: skip


def test_it_maps_every_field_of_full_details():
    body = detail(
        summary="OVN pods crash", status="Waiting on Red Hat", critSit=True, groupName="Telco 5G",
        notifiedUsers=[{"ssoUsername": "jdoe"}, {"ssoUsername": "asmith"}], reliefAt=JIRA_TIME, resolvedAt=None,
        comments=[{"id": "a0X1", "createdBy": "Jane Doe", "commentBody": "Logs attached.", "createdDate": PORTAL_TIME,
                   "lastModifiedDate": PORTAL_TIME, "isPublic": False}],
        bugzillas=[{"bugzillaNumber": "2012345", "bugzillaLink": "https://bugzilla.redhat.com/show_bug.cgi?id=2012345",
                    "summary": "ovnkube-node crash", "status": "POST", "linkedAt": PORTAL_TIME}],
    )  # fmt: skip
    assert parse_detail(NUMBER, body) == {
        "detail": {"case_id": NUMBER, "crit_sit": True, "group_name": "Telco 5G", "notified_users": ["jdoe", "asmith"],
                   "relief_at": AT, "resolved_at": None, "upstream_updated_at": AT, "removed_at": None},
        "comments": [{"id": "a0X1", "case_id": NUMBER, "author": "Jane Doe", "body": "Logs attached.", "public": False,
                      "created_at": AT, "upstream_updated_at": AT, "removed_at": None}],
        "bugs": {2012345: {"summary": "ovnkube-node crash", "status": "POST"}},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(detail(groupName=None), {"group_name": ""}, id="null group is blank"),
        pytest.param(detail(groupName="g" * 300), {"group_name": "g" * 200}, id="group cut to 200"),
        pytest.param(detail(notifiedUsers=None), {"notified_users": []}, id="null notified users are none"),
        pytest.param(
            detail(notifiedUsers=["jdoe", {"ssoUsername": "asmith"}]),
            {"notified_users": ["asmith"]},
            id="notified users that are not objects are skipped",
        ),
        pytest.param(detail(critSit=None), {"crit_sit": False}, id="null crit sit is none"),
        pytest.param(detail(resolvedAt=JIRA_TIME), {"resolved_at": AT}, id="JIRA form of a time"),
    ],
)
def test_it_accepts_details(body, expected):
    assert picked(parse_detail(NUMBER, body)["detail"], expected) == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"isPublic": MISSING}, {"public": True}, id="public unless told"),
        pytest.param({"lastModifiedDate": None}, {"upstream_updated_at": None}, id="never edited"),
        pytest.param({"createdBy": None}, {"author": ""}, id="by nobody known"),
        pytest.param({"id": 123}, {"id": "123"}, id="id as a number"),
        pytest.param({"id": "i" * 100}, {"id": "i" * 64}, id="id cut to 64"),
        pytest.param({"createdBy": "é" * 300}, {"author": "é" * 200}, id="author cut to 200"),
        pytest.param({"commentBody": "日本語 🚨\n" * 10_000}, {"body": "日本語 🚨\n" * 10_000}, id="long unicode body"),
    ],
)
def test_it_accepts_comments(changes, expected):
    assert picked(parse_detail(NUMBER, comment(**changes))["comments"][0], expected) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(bug_link(bugzillaNumber=2012345), {2012345: {"summary": "", "status": ""}}, id="number"),
        pytest.param(
            bug_link(summary=None, status="s" * 40),
            {2012345: {"summary": "", "status": "s" * 30}},
            id="restricted bug without summary, status cut to 30",
        ),
        pytest.param(detail(bugzillas=None, comments=None), {}, id="null bugs and comments are none"),
    ],
)
def test_it_accepts_bug_links(body, expected):
    assert parse_detail(NUMBER, body)["bugs"] == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(detail(caseNumber="03099999"), "not this case's answer", id="another case's answer"),
        pytest.param(detail(caseNumber=int(NUMBER)), "not this case's answer", id="case number as a JSON number"),
        pytest.param([detail()], "not this case's answer", id="a list, not an object"),
        pytest.param(detail(lastModifiedDate=MISSING), "lastModifiedDate is missing", id="no last modified"),
        pytest.param(detail(reliefAt=1764324902), "reliefAt: expected a time", id="number for a time"),
        pytest.param(detail(resolvedAt="2026-11-28"), "resolvedAt: time without a zone", id="date without time"),
        pytest.param(detail(notifiedUsers="jdoe"), "notifiedUsers: expected a list", id="text for notified users"),
        pytest.param(detail(notifiedUsers=[{"ssoUsername": ["x"]}]), "ssoUsername", id="list for a user name"),
        pytest.param(detail(groupName=["Telco"]), "groupName: expected text", id="list for the group"),
        pytest.param(comment(createdDate=None), "comment createdDate is missing", id="comment without a date"),
        pytest.param(comment(lastModifiedDate="today"), "comment lastModifiedDate", id="comment edit not a time"),
        pytest.param(comment(commentBody={"text": "x"}), "commentBody: expected text", id="object for a comment body"),
        pytest.param(
            comment(id=MISSING),
            "comment id",
            id="comment without an id",
        ),
        pytest.param(
            comment(id=None),
            "comment id",
            id="comment with a null id",
        ),
        pytest.param(bug_link(bugzillaNumber=MISSING), "bugzillaNumber", id="bug link without a number"),
        pytest.param(bug_link(bugzillaNumber="BZ2012345"), "bugzillaNumber", id="bug number with letters"),
        pytest.param(bug_link(bugzillaNumber=-1), "bugzillaNumber", id="negative bug number"),
        pytest.param(bug_link(summary=["x"]), "bug summary: expected text", id="list for a bug summary"),
    ],
)
def test_it_refuses_details(body, message):
    with pytest.raises(RecordError, match=message):
        parse_detail(NUMBER, body)
