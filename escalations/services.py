"""Escalation sync: which mirrored cases are escalated, and why (the strongest reason wins)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cards.models import Card
from cases.models import Case, Detail
from t5g.clients.jira import JiraClient, case_numbers, fields_of, issue_key, jira_client, name_of
from t5g.clients.records import parse_time, text
from t5g.links import jira_issue_url
from t5g.models import SyncRun
from t5g.sync.batches import Progress, no_progress, parse_all
from t5g.sync.upsert import mark_removed, upsert

from .models import Escalation

log = logging.getLogger(__name__)
Type = Escalation.Type


def board_jql() -> str:
    return (
        f'project = {settings.JIRA_ESCALATION_PROJECT} AND labels = "{settings.JIRA_ESCALATION_LABEL}" '
        "AND status != Closed ORDER BY created ASC"
    )


def parse_entry(issue: dict, *, links_field: str) -> dict:
    """One board issue -> the cases it escalates."""
    f = fields_of(issue)
    return {
        "key": issue_key(issue),
        "summary": text(f.get("summary"), field="summary"),
        "status": name_of(f.get("status"), field="status"),
        "created_at": parse_time(f.get("created"), field="created", required=True),
        "cases": case_numbers(f.get(links_field), field="SFDC Case Links"),
    }


def read_board(client: JiraClient, *, run: SyncRun) -> list[dict]:
    links = client.field("SFDC Case Links")
    issues = [i for _, page in client.search(board_jql(), ["summary", "status", "created", links]) for i in page]
    return parse_all(issues, lambda i: parse_entry(i, links_field=links), run=run, what="escalations")


def escalation_rows(client: JiraClient, board: list[dict]) -> dict[str, dict]:
    """Case number -> its Escalation row, weakest reasons first so the stronger overwrite them."""
    rows: dict[str, dict] = {}
    potential = Card.objects.filter(potential_escalation=True, active=True, removed_at__isnull=True)
    for case, key in potential.values_list("case_id", "key"):
        rows[case] = _row(case, Type.POTENTIAL, source=key, link=jira_issue_url(key),
                          reason=f"Card {key} is labelled {settings.JIRA_POTENTIAL_ESCALATION_LABEL}")  # fmt: skip
    for case in Detail.objects.filter(crit_sit=True, removed_at__isnull=True).values_list("case_id", flat=True):
        rows[case] = _row(case, Type.CRIT_SIT, source="portal crit sit", reason="Crit sit in the support portal")
    on_board: set[str] = set()
    for entry in board:  # oldest first: a case on several entries keeps the first one
        for case in set(entry["cases"]) - on_board:
            on_board.add(case)
            rows[case] = _row(case, Type.PRIO_LIST, source=entry["key"], link=jira_issue_url(entry["key"]),
                              reason=f"{entry['key']} ({entry['status']}): {entry['summary']}",
                              escalated_at=entry["created_at"])  # fmt: skip
    mirrored = set(Case.objects.filter(removed_at__isnull=True, number__in=list(rows)).values_list("pk", flat=True))
    return {case: row for case, row in rows.items() if case in mirrored}


def _row(case: str, kind: str, *, source: str, reason: str, link: str = "", escalated_at=None) -> dict:
    # upstream_updated_at stays empty: the rows are derived from several upstreams, and a full read
    # under the job's lock replaces them whole, so "newer wins" must not keep an older reason.
    return {"case_id": case, "type": kind, "source": source[:100], "link": link[:200], "reason": reason,
            "escalated_at": escalated_at, "upstream_updated_at": None, "removed_at": None}  # fmt: skip


def keep_escalated_at(rows: dict[str, dict], *, now: datetime) -> None:
    """Reasons with no time of their own (crit sit, label) date from when first seen with that reason."""
    stored = Escalation.objects.filter(pk__in=list(rows), removed_at__isnull=True)
    known = {case: (kind, at) for case, kind, at in stored.values_list("case_id", "type", "escalated_at")}
    for case, row in rows.items():
        if row["escalated_at"] is None:
            kind, at = known.get(case, (None, None))
            row["escalated_at"] = at if kind == row["type"] and at else now


def flag_escalated_cards(prio_cases: set[str]) -> None:
    """Card.escalated: the active card of a case on the prio-list. Set-based."""
    Card.objects.filter(escalated=True).exclude(active=True, case_id__in=prio_cases).update(escalated=False)
    Card.objects.filter(escalated=False, active=True, case_id__in=prio_cases).update(escalated=True)


def sync_escalations(
    *, run: SyncRun, full: bool = False, since: datetime | None = None, dry_run: bool = False,
    progress: Progress = no_progress,
) -> None:  # fmt: skip
    """Always a full read (the board is small): cases no longer escalated keep their row, marked removed."""
    client = jira_client()
    board = read_board(client, run=run)
    progress(1, 2, "escalation board")
    rows = escalation_rows(client, board)
    keep_escalated_at(rows, now=timezone.now())
    with transaction.atomic():
        upsert(Escalation, list(rows.values()), run=run, dry_run=dry_run)
        removed = mark_removed(Escalation.objects.all(), set(rows), run=run, dry_run=dry_run)
        if not dry_run:
            flag_escalated_cards({case for case, row in rows.items() if row["type"] == Type.PRIO_LIST})
    unmirrored = {c for entry in board for c in entry["cases"]} - set(rows)
    log.info(
        "escalations: %s escalated (%s no longer), %s board case(s) not mirrored",
        len(rows), removed, len(unmirrored),
    )  # fmt: skip
    progress(2, 2, "escalations")
