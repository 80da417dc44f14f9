"""What the parser tables (tests/test_parse_*.py) share: upstream time forms and a record builder."""

from datetime import UTC, datetime

# One instant as each upstream writes it, and as every parser must return it: aware, in UTC.
PORTAL_TIME = "2026-11-28T10:15:02Z"  # the support portal and Bugzilla
JIRA_TIME = "2026-11-28T10:15:02.000+0000"  # JIRA REST v2
AT = datetime(2026, 11, 28, 10, 15, 2, tzinfo=UTC)

MISSING = object()  # a field the upstream left out, as against one it sent as null (None)


def changed(base: dict, changes: dict) -> dict:
    """`base` with fields replaced, added, or removed (MISSING)."""
    out = {**base, **changes}
    return {k: v for k, v in out.items() if v is not MISSING}


def picked(row: dict, expected: dict) -> dict:
    """The fields of `row` that `expected` names: a table row lists only the fields its rule is about."""
    return {k: row[k] for k in expected}
