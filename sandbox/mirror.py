"""What a complete sync must mirror, row by row, in a form both sides can checksum.

`rows(world, since=...)` gives each entity T5G mirrors as rows of its key fields (the key first):
enough that a missing row, an extra one and a stale value all change the entity's checksum. A
client computes the same rows from its own copy and compares `digest`s; only when they differ
does it need the rows themselves (`/_sandbox/mirror?rows=<entity>`) to name the keys that differ.

`since` is the oldest change of a closed case whose details, comments and links a sync reads
(T5G reads those of open cases, and of closed ones changed since; its HISTORY_DAYS): cases
themselves, cards and escalations are mirrored whatever their age. A restricted case's details,
comments and links cannot be read at all (the per-case endpoints answer 403): a client keeps what it
read before, which the sandbox cannot know, so they are left out on both sides (`unreadable`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import datetime

from .world import BUG_PROJECT, ESCALATION_LABEL, ESCALATION_PROJECT, Case, JiraIssue, World

POTENTIAL_ESCALATION_LABEL = "PotentialEscalation"
CASE_IN_SUMMARY = re.compile(r"^\s*(\d{8})\s*:", re.ASCII)  # a card's case: "01234567: summary"


def iso(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


def line(row: Iterable) -> str:
    """One row as canonical text: JSON, so any text in a field (separators, unicode) stays unambiguous."""
    return json.dumps(list(row), ensure_ascii=False, separators=(",", ":"))


def digest(rows: Iterable[Iterable]) -> str:
    """The checksum of an entity's rows, whatever their order."""
    h = hashlib.sha256()
    for text in sorted(line(r) for r in rows):
        h.update(text.encode())
        h.update(b"\n")
    return h.hexdigest()[:16]


def case_of(card: JiraIssue) -> str | None:
    found = CASE_IN_SUMMARY.match(card.summary)
    return found.group(1) if found else None


def rows(world: World, *, since: datetime | None) -> dict[str, list[list]]:
    """Every mirrored entity's rows; the caller holds world.lock."""
    cases = [c for c in world.cases.values() if c.on_team_query]
    read = [c for c in cases if c.access != "restricted" and (c.is_open or since is None or c.modified >= since)]
    cards = world.cards()
    return {
        "cases": [[c.number, c.status, c.severity, iso(c.modified), iso(c.closed), c.account, c.owner] for c in cases],
        "details": [
            [c.number, iso(c.modified), c.crit_sit, iso(c.resolved_at), sorted(c.notified_users), sorted(c.bugzillas)]
            for c in read
        ],
        "case_comments": [[m.id, c.number, iso(m.created), m.public] for c in read for m in c.comments],
        "cards": [[i.key, case_of(i), i.status, i.assignee or "", i.priority, iso(i.updated)] for i in cards],
        "card_comments": [[m.id, i.key, iso(m.created)] for i in cards for m in i.comments],
        "bugs": [_bug_row(world, b) for b in sorted({b for c in read for b in c.bugzillas})],
        "issues": [
            [i.key, i.status, iso(i.updated)]
            for i in (world.issues.get(k) for k in sorted({k for c in read for k in c.jiras}))
            if i is not None and i.project == BUG_PROJECT
        ],
        "escalations": [[number, kind] for number, kind in _escalations(world, cases, read, cards).items()],
    }


def _bug_row(world: World, bug_id: int) -> list:
    """A bug our key may not read is mirrored as restricted, its fields unknown."""
    bug = world.bugs[bug_id]
    return [bug.id, None, None, True] if bug.restricted else [bug.id, bug.status, iso(bug.last_change), False]


def _escalations(world: World, cases: list[Case], read: list[Case], cards: list[JiraIssue]) -> dict[str, str]:
    """Case -> why it is escalated, the strongest reason winning: on the board, else a crit sit, else its
    active card (the newest) labelled as a potential escalation."""
    mirrored = {c.number for c in cases}
    newest: dict[str, JiraIssue] = {}
    for card in sorted(cards, key=lambda i: (i.created, i.key)):
        if (number := case_of(card)) is not None:
            newest[number] = card
    out = {n: "potential" for n, card in newest.items() if POTENTIAL_ESCALATION_LABEL in card.labels}
    out.update({c.number: "crit_sit" for c in read if c.crit_sit})
    for issue in world.issues.values():
        if issue.project == ESCALATION_PROJECT and ESCALATION_LABEL in issue.labels and issue.status != "Closed":
            out.update({link.rsplit("/", 1)[-1]: "prio_list" for link in issue.custom.get("SFDC Case Links", [])})
    return {n: kind for n, kind in out.items() if n in mirrored}


def cards_of_open_cases(world: World) -> dict:
    """Every open case on the team's query should have exactly one card: those with none, and with several."""
    keys: dict[str, list[str]] = {}
    for card in world.cards():
        if (number := case_of(card)) is not None:
            keys.setdefault(number, []).append(card.key)
    open_cases = [c.number for c in world.cases.values() if c.on_team_query and c.is_open]
    return {
        "open_cases": len(open_cases),
        "without_card": sorted(n for n in open_cases if n not in keys),
        "with_several": {n: keys[n] for n in sorted(open_cases) if len(keys.get(n, [])) > 1},
    }


def summary(world: World, *, since: datetime | None) -> dict:
    """Per entity its count and checksum, and the cards of open cases: what `/_sandbox/mirror` answers."""
    found = rows(world, since=since)
    return {
        "entities": {name: {"count": len(r), "digest": digest(r)} for name, r in found.items()},
        "unreadable": unreadable(world),
        "cards_of_open_cases": cards_of_open_cases(world),
    }


def unreadable(world: World) -> list[str]:
    """Cases on the query whose details, comments and links nobody can read now (restricted)."""
    return sorted(c.number for c in world.cases.values() if c.on_team_query and c.access == "restricted")
