"""Entries of the escalation board (a JIRA project), parsed from a REST v2 search result.

Pure function calls, no database and no sandbox: tests/test_sync_escalations.py reads the same records over HTTP.
An entry names the cases it escalates in its "SFDC Case Links" custom field, whose id the sync looks up by name.
"""

from datetime import UTC

import pytest

from escalations.services import parse_entry
from t5g.clients.records import RecordError
from tests.records import AT, JIRA_TIME, MISSING, PORTAL_TIME, changed, picked

LINKS = "customfield_10979"  # "SFDC Case Links", as the sandbox numbers it
LINK = "https://access.redhat.com/support/cases/#/case/{}"


def entry(key: str = "RHOCPPRIO-12", **fields) -> dict:
    """A minimal board entry as JIRA's search returns it, with `fields` changed (MISSING removes one)."""
    return {"id": "40001", "key": key, "fields": changed({"created": JIRA_TIME}, fields)}


def parse(issue: dict) -> dict:
    return parse_entry(issue, links_field=LINKS)


def test_it_reads_a_minimal_entry_with_defaults_for_everything_else():
    assert parse(entry()) == {"key": "RHOCPPRIO-12", "summary": "", "status": "", "created_at": AT, "cases": []}


def test_it_maps_every_field_of_a_full_entry():
    raw = entry(
        summary="Acme Telco: upgrade blocked", status={"name": "In Progress", "id": "3"}, updated=JIRA_TIME,
        **{LINKS: f"{LINK.format('03012345')}\n{LINK.format('03054321')}"},
    )  # fmt: skip
    assert parse(raw) == {
        "key": "RHOCPPRIO-12", "summary": "Acme Telco: upgrade blocked", "status": "In Progress",
        "created_at": AT, "cases": ["03012345", "03054321"],
    }  # fmt: skip


def test_it_reads_the_links_under_the_id_it_is_given():
    raw = entry(cf_1="03012345", **{LINKS: "03054321"})
    assert parse_entry(raw, links_field="cf_1")["cases"] == ["03012345"]


@pytest.mark.parametrize(
    ("links", "cases"),
    [
        pytest.param(None, [], id="null links"),
        pytest.param("", [], id="blank links"),
        pytest.param(LINK.format("03012345"), ["03012345"], id="a portal URL"),
        pytest.param("03012345", ["03012345"], id="a bare number"),
        pytest.param("03012345, 03054321; 03099999", ["03012345", "03054321", "03099999"], id="several on a line"),
        pytest.param(f"{LINK.format('03012345')}\r\n03012345\n", ["03012345"], id="the same case twice"),
        pytest.param(["03012345", LINK.format("03054321")], ["03012345", "03054321"], id="a list of links"),
        pytest.param(12345678, ["12345678"], id="a JSON number"),
        pytest.param(3012345, [], id="a number that lost its leading zero"),
        pytest.param("030123456 and 1203012345", [], id="longer numbers are not cases"),
        pytest.param("https://example.com/case/0301234", [], id="seven digits are not a case"),
        pytest.param("see case 03012345.", ["03012345"], id="a number in prose"),
        pytest.param(
            "٠٣٠١٢٣٤٥",
            [],
            id="Arabic-Indic digits are not a case",
        ),
    ],
)
def test_it_finds_the_cases_in_the_links(links, cases):
    assert parse(entry(**{LINKS: links}))["cases"] == cases


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(entry(status=None), {"status": ""}, id="null status"),
        pytest.param(entry(status={"name": "s" * 300}), {"status": "s" * 300}, id="long status kept whole"),
        pytest.param(entry(summary=None), {"summary": ""}, id="null summary"),
        pytest.param(entry(summary="Überlast 🚨" * 5000), {"summary": "Überlast 🚨" * 5000}, id="long unicode"),
        pytest.param(entry(created=PORTAL_TIME), {"created_at": AT}, id="portal form of a time"),
        pytest.param(entry(created="2026-11-28T11:15:02.000+0100"), {"created_at": AT}, id="time with an offset"),
    ],
)
def test_it_accepts(raw, expected):
    parsed = parse(raw)
    assert picked(parsed, expected) == expected
    assert parsed["created_at"].tzinfo is UTC


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(entry(key="rhocpprio-12"), "key: not an issue key", id="lower-case key"),
        pytest.param(entry(key=None), "key: not an issue key", id="null key"),
        pytest.param(
            entry(key="RHOCPPRIO-12\n"),
            "key: not an issue key",
            id="key with a trailing newline",
        ),
        pytest.param({"key": "RHOCPPRIO-12", "fields": []}, "fields: expected an object", id="list for the fields"),
        pytest.param(entry(created=MISSING), "created is missing", id="no created"),
        pytest.param(entry(created="2026-11-28T10:15:02"), "created: time without a zone", id="naive time"),
        pytest.param(entry(created=1764324902000), "created: expected a time", id="epoch millis for a time"),
        pytest.param(entry(created="28/Nov/26 10:15 AM"), "created: not a time", id="rendered date for a time"),
        pytest.param(entry(summary=["x"]), "summary: expected text", id="list for the summary"),
        pytest.param(entry(status="New"), "status: expected an object", id="text for the status"),
        pytest.param(entry(**{LINKS: {"url": LINK.format("03012345")}}), "SFDC Case Links", id="object for the links"),
        pytest.param(entry(**{LINKS: [{"url": "x"}]}), "SFDC Case Links: expected text", id="object among the links"),
    ],
)
def test_it_refuses(raw, message):
    with pytest.raises(RecordError, match=message):
        parse(raw)
