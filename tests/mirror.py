"""Does the database equal the sandbox? T5G's side of sandbox/mirror.py, and the comparison.

`db_rows` builds, from T5G's tables, the rows the sandbox builds from its world (the same key fields,
the same text for times), so one checksum per entity compares them: a missing row, an extra one and a
stale value all show. When a checksum differs, `compare` fetches the sandbox's rows of that entity and
names the keys that differ, with both sides' values.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
from django.db.models import Q

from bugs.models import Bug, Issue
from cards.models import Card, CardComment
from cases.models import Case, CaseComment, Detail
from escalations.models import Escalation
from sandbox.mirror import digest
from sandbox.mirror import iso as _iso

ENTITIES = ("cases", "details", "case_comments", "cards", "card_comments", "bugs", "issues", "escalations")


def iso(at: datetime | None) -> str | None:
    return _iso(at.astimezone(UTC)) if at else None


def db_rows(*, since: datetime | None, unreadable: list[str] = ()) -> dict[str, list[list]]:
    """Each entity's rows as the database holds them (see sandbox/mirror.py for what `since` and `unreadable`
    leave out of the details, comments and links)."""
    cases = Case.objects.filter(removed_at__isnull=True)
    read = cases.exclude(number__in=unreadable)
    read = read if since is None else read.filter(~Q(status="Closed") | Q(upstream_updated_at__gte=since))
    bugs_of: dict[str, list[int]] = defaultdict(list)
    for case, bug in Bug.cases.through.objects.filter(case__in=read).values_list("case_id", "bug_id"):
        bugs_of[case].append(bug)
    case_fields = ("number", "status", "severity", "upstream_updated_at", "closed_at", "account", "owner")
    details = Detail.objects.filter(case__in=read)
    case_comments = CaseComment.objects.filter(case__in=read, removed_at__isnull=True)
    cards = Card.objects.filter(removed_at__isnull=True)
    card_fields = ("key", "case_id", "jira_status", "assignee_account_id", "priority", "upstream_updated_at")
    card_comments = CardComment.objects.filter(removed_at__isnull=True, card__removed_at__isnull=True)
    bugs = Bug.objects.filter(cases__in=read).distinct()
    issues = Issue.objects.filter(cases__in=read).distinct()
    escalations = Escalation.objects.filter(removed_at__isnull=True, case__removed_at__isnull=True)
    return {
        "cases": [
            [n, status, severity, iso(modified), iso(closed), account, owner]
            for n, status, severity, modified, closed, account, owner in cases.values_list(*case_fields)
        ],
        "details": [
            [n, iso(modified), crit, iso(resolved), sorted(notified), sorted(bugs_of[n])]
            for n, modified, crit, resolved, notified in details.values_list(
                "case_id", "upstream_updated_at", "crit_sit", "resolved_at", "notified_users"
            )
        ],
        "case_comments": [
            [pk, case, iso(created), public]
            for pk, case, created, public in case_comments.values_list("id", "case_id", "created_at", "public")
        ],
        "cards": [
            [key, case, status, who, priority, iso(at)]
            for key, case, status, who, priority, at in cards.values_list(*card_fields)
        ],
        "card_comments": [
            [pk, card, iso(created)] for pk, card, created in card_comments.values_list("id", "card_id", "created_at")
        ],
        # A bug our key may not read: its fields unknown (the portal's stub keeps a summary, not the bug's).
        "bugs": [
            [pk, None, None, True] if restricted else [pk, status, iso(at), False]
            for pk, status, at, restricted in bugs.values_list("id", "status", "upstream_updated_at", "restricted")
        ],
        "issues": [
            [key, status, iso(at)] for key, status, at in issues.values_list("key", "status", "upstream_updated_at")
        ],
        "escalations": [[case, kind] for case, kind in escalations.values_list("case_id", "type")],
    }


@dataclass
class Finding:
    entity: str
    db_count: int
    sandbox_count: int
    same: bool
    differences: list[str] = field(default_factory=list)  # "key: db [...] / sandbox [...]", the first few

    def __str__(self) -> str:
        figure = f"{self.entity}: {self.db_count:,} rows in the database, {self.sandbox_count:,} in the sandbox"
        return figure + (", checksums equal" if self.same else ", checksums DIFFER")


def mirror_summary(url: str, *, since: datetime | None) -> dict:
    params = {"since": since.isoformat()} if since else {}
    return requests.get(f"{url}/_sandbox/mirror", params=params, timeout=120).json()


def compare(url: str, *, since: datetime | None, show: int = 10) -> list[Finding]:
    """Every entity of the database against the sandbox at `url`; differing keys named (the first `show`)."""
    summary = mirror_summary(url, since=since)
    upstream, ours = summary["entities"], db_rows(since=since, unreadable=summary["unreadable"])
    findings = []
    for entity in ENTITIES:
        rows, theirs = ours[entity], upstream[entity]
        finding = Finding(entity, len(rows), theirs["count"], digest(rows) == theirs["digest"])
        finding.same = finding.same and finding.db_count == finding.sandbox_count
        if not finding.same:
            params = {"rows": entity, **({"since": since.isoformat()} if since else {})}
            sandbox_rows = requests.get(f"{url}/_sandbox/mirror", params=params, timeout=120).json()["rows"]
            finding.differences = differences(rows, sandbox_rows)[:show]
        findings.append(finding)
    return findings


def differences(db: list[list], sandbox: list[list]) -> list[str]:
    """The keys (first fields) whose rows differ, with each side's row (None: the side lacks it)."""
    mine, theirs = _by_key(db), _by_key(sandbox)
    out = []
    for key in sorted(mine.keys() | theirs.keys(), key=str):
        if mine.get(key) != theirs.get(key):
            out.append(f"{key}: database {mine.get(key)} / sandbox {theirs.get(key)}")
    return out


def _by_key(rows: list[list]) -> dict:
    # JSON turns the sandbox's tuples into lists and keeps the rest: compare as the checksum does.
    return {row[0]: [list(v) if isinstance(v, tuple) else v for v in row[1:]] for row in rows}
