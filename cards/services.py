"""JIRA card sync: the team's cards and their comments, and which card is active for each case."""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cases import search
from cases.models import Case
from t5g.clients.jira import (
    JiraClient,
    case_numbers,
    fields_of,
    issue_key,
    jira_client,
    name_of,
    objects_of,
    user_of,
)  # fmt: skip
from t5g.clients.records import RecordError, chunks, parse_time, str_list, text
from t5g.markup import WIKI_MARKUP, jira_to_html
from t5g.models import SyncRun
from t5g.sync.batches import Progress, Throttled, no_progress, parse_all, read_each, regroup
from t5g.sync.upsert import bump_feeds_after_commit, mark_removed, upsert, watermark

from .models import Card, CardComment, StatusMapping
from .selectors import active_card_status, card_status_out_of_step

log = logging.getLogger(__name__)

CASE_IN_SUMMARY = re.compile(r"^\s*(\d{8})\s*:", re.ASCII)
# The Severity field's options: the support portal's words, or the product-security ones.
SEVERITIES = {"urgent": 1, "critical": 1, "high": 2, "important": 2, "normal": 3, "moderate": 3, "low": 4}
SPRINT_NAME = re.compile(r"\bname=([^,\]]*)")  # Server's old "com.atlassian.greenhopper...Sprint@1a2b[...]" form
SPRINT_STATE = re.compile(r"\bstate=([^,\]]*)")
SPRINT_PREFERENCE = {"active": 0, "future": 1}  # then the last one listed


@dataclass(frozen=True)
class CardFields:
    """The custom field ids a card sync reads, found by name once per run."""

    contributors: str
    severity: str
    case_links: str
    sprint: str

    @classmethod
    def of(cls, client: JiraClient) -> CardFields:
        return cls(
            contributors=client.field("Contributors"),
            severity=client.field("Severity"),
            case_links=client.field("SFDC Case Links"),
            sprint=client.field("Sprint"),
        )

    @property
    def wanted(self) -> list[str]:
        return ["summary", "status", "created", "updated", "assignee", "priority", "labels", "comment",
                self.contributors, self.severity, self.case_links, self.sprint]  # fmt: skip


# --- parsing -------------------------------------------------------------------------------------------------
def parse_card(issue: dict, *, fields: CardFields, statuses: dict[str, str]) -> dict:
    """One search result -> {"card": row, "comments": rows, "all_comments": whether every comment came}."""
    f = fields_of(issue)
    key = issue_key(issue)
    summary = text(f.get("summary"), field="summary")
    jira_status = name_of(f.get("status"), field="status", max_length=50)
    if not jira_status:
        raise RecordError("status is missing")
    assignee = user_of(f.get("assignee"), field="assignee")
    labels = str_list(f.get("labels"), field="labels", separator="")
    card = {
        "key": key,
        "jira_id": text(issue.get("id"), field="id", max_length=20),
        "case_id": case_of(summary, f.get(fields.case_links)),
        "summary": summary,
        "jira_status": jira_status,
        "status": statuses.get(jira_status, ""),  # unknown: kept, flagged by the blank
        "created_at": parse_time(f.get("created"), field="created", required=True),
        "assignee": assignee["name"],
        "assignee_account_id": assignee["id"],
        "contributors": [user_of(u, field="contributors")["name"] for u in objects_of(f.get(fields.contributors),
                                                                                      field="contributors")],
        "priority": name_of(f.get("priority"), field="priority", max_length=30),
        "severity": SEVERITIES.get(name_of(f.get(fields.severity), field="severity", key="value").lower()),
        "labels": labels,
        "sprint": sprint_name(f.get(fields.sprint))[:200],
        "potential_escalation": settings.JIRA_POTENTIAL_ESCALATION_LABEL in labels,
        "upstream_updated_at": parse_time(f.get("updated"), field="updated", required=True),
        "removed_at": None,
    }  # fmt: skip
    page = f.get("comment")
    if page is not None and not isinstance(page, dict):
        raise RecordError("comment: expected a page of comments")
    comments = [parse_comment(key, c) for c in objects_of((page or {}).get("comments"), field="comments")]
    total = (page or {}).get("total", len(comments))
    if not isinstance(total, int):
        raise RecordError(f"comment total: expected a number, got {total!r}")
    complete = page is not None and total <= len(comments)
    return {"card": card, "comments": comments, "all_comments": complete}


def parse_comment(card_key: str, c: dict) -> dict:
    comment_id = text(c.get("id"), field="comment id", max_length=32)
    if not comment_id:
        raise RecordError("comment id is missing")
    return {
        "id": comment_id,
        "card_id": card_key,
        "author": user_of(c.get("author"), field="comment author")["name"],
        "body": text(c.get("body"), field="comment body"),
        "created_at": parse_time(c.get("created"), field="comment created", required=True),
        "upstream_updated_at": parse_time(c.get("updated"), field="comment updated"),
        "removed_at": None,
    }


def case_of(summary: str, links) -> str | None:
    """The case a card works: its summary's "NNNNNNNN:" prefix, else the first SFDC case link."""
    if found := CASE_IN_SUMMARY.match(summary):
        return found.group(1)
    numbers = case_numbers(links, field="SFDC Case Links") if links else []
    return numbers[0] if numbers else None


def sprint_name(value) -> str:
    """The sprint a card is in: its active one, else a future one, else the last one it was in."""
    if value is None:
        return ""
    if not isinstance(value, list):
        raise RecordError(f"sprint: expected a list, got {type(value).__name__}")
    sprints = [_sprint(s) for s in value]
    ranked = sorted(enumerate(sprints), key=lambda p: (SPRINT_PREFERENCE.get(p[1][0], 2), -p[0]))
    return ranked[0][1][1] if ranked else ""


def _sprint(value) -> tuple[str, str]:
    """(state, name) of a sprint: an object (Cloud, recent Server) or Server's old toString form."""
    if isinstance(value, dict):
        return str(value.get("state") or "").lower(), text(value.get("name"), field="sprint")
    if isinstance(value, str):
        name, state = SPRINT_NAME.search(value), SPRINT_STATE.search(value)
        return (state.group(1).lower() if state else ""), (name.group(1) if name else "")
    raise RecordError(f"sprint: unexpected {type(value).__name__}")


def status_map() -> dict[str, str]:
    return dict(StatusMapping.objects.values_list("jira_status", "internal_status"))


# --- sync ------------------------------------------------------------------------------------------------------
def cards_jql(client: JiraClient, *, since: datetime | None, ordered: bool = True) -> str:
    jql = f'project = {settings.JIRA_PROJECT} AND labels = "{settings.JIRA_CARD_LABEL}"'
    if since:
        jql += f' AND updated >= "{client.jql_time(since)}"'
    return jql + " ORDER BY updated ASC" if ordered else jql  # oldest change first: see t5g.sync.upsert.watermark


def sync_cards(
    *, run: SyncRun, full: bool = False, since: datetime | None = None, dry_run: bool = False,
    progress: Progress = no_progress,
) -> None:  # fmt: skip
    """The team's cards changed since the newest stored change (all of them when full), with their comments.

    A full run also marks the cards that left the query (label removed, card deleted).
    """
    client = jira_client()
    fields, statuses = CardFields.of(client), status_map()
    since = watermark(job=run.source, since=since, full=full)
    report = Throttled(progress)
    seen: set[str] = set()
    unmapped: Counter[str] = Counter()
    for total, issues in regroup(
        client.search(cards_jql(client, since=since), fields.wanted), size=settings.SYNC_WRITE_BATCH
    ):
        seen.update(str(i.get("key")) for i in issues)
        parsed = parse_all(issues, lambda i: parse_card(i, fields=fields, statuses=statuses), run=run, what="cards")
        store_cards(parsed, run=run, dry_run=dry_run)
        unmapped.update(p["card"]["jira_status"] for p in parsed if not p["card"]["status"])
        report(len(seen), total or 0, "cards")  # 0: not counted (JIRA Cloud does not say)
    if unmapped:
        log.warning(
            "cards: %s card(s) flagged, their JIRA status is not in the status map (%s): add it in admin",
            sum(unmapped.values()), ", ".join(f"{s}: {n}" for s, n in unmapped.most_common()),
        )  # fmt: skip
    if full:
        # A card is taken for gone only when JIRA says so: those the read did not bring are looked up by key on
        # the same query, and any still on it are stored rather than marked removed.
        unseen = [k for k in Card.objects.filter(removed_at__isnull=True).values_list("pk", flat=True) if k not in seen]
        found = still_on_query(client, unseen, fields=fields)
        if found:
            log.warning("cards: %s card(s) on the query were missing from the full read: read again", len(found))
            seen.update(str(i.get("key")) for i in found)
            parsed = parse_all(found, lambda i: parse_card(i, fields=fields, statuses=statuses), run=run, what="cards")
            store_cards(parsed, run=run, dry_run=dry_run)
        removed = mark_removed(Card.objects.all(), seen, run=run, dry_run=dry_run)
        log.info("cards: %s left the query", removed)
        if not dry_run:
            retire_removed()
            set_card_status(card_status_out_of_step())  # whatever drifted, once a night


def still_on_query(client: JiraClient, keys: list[str], *, fields: CardFields) -> list[dict]:
    """The cards among `keys` that are still on the team's query. A search finds most; those it does not are read
    one by one, as JIRA's search index lags its writes (a card made or relabelled a moment ago may be missing from
    it); JIRA not having one (404) or not showing it to us (403) is what proves it gone."""
    found = client.issues_by_key(keys, fields.wanted, within=cards_jql(client, since=None, ordered=False))[0]
    unfound = sorted(set(keys) - {str(i.get("key")) for i in found})
    read, _gone = read_each(lambda key: client.issue(key, [*fields.wanted, "project"]), unfound)
    return found + [issue for _, issue in read if on_query(issue)]


def on_query(issue: dict) -> bool:
    """Whether an issue read by key (with its project) is one of the team's cards."""
    f = issue.get("fields") if isinstance(issue.get("fields"), dict) else {}
    project = f.get("project") if isinstance(f.get("project"), dict) else {}
    return project.get("key") == settings.JIRA_PROJECT and settings.JIRA_CARD_LABEL in (f.get("labels") or [])


# Answers that say the issue is gone for us: deleted, or no longer visible to T5G's account.
GONE = {403, 404, 410}


def reread_cards(
    *, run: SyncRun, keys: Iterable[str] = (), full: bool = False, since: datetime | None = None,
    dry_run: bool = False, progress: Progress = no_progress,
) -> None:  # fmt: skip
    """The cards JIRA's webhooks named (t5g/sync/hooks.py), read by key, not by search (JIRA's search index
    lags its writes), then stored as the card sync stores them. A card read but no longer on the team's query
    (label removed, moved) or that JIRA says is gone is marked removed; a card JIRA could not answer for is left
    as it is, for the scheduled sync. Keys of other issues cost one read and change nothing."""
    wanted = sorted({str(k) for k in keys})
    client = jira_client()
    fields, statuses = CardFields.of(client), status_map()
    read, refused = read_each(lambda key: client.issue(key, [*fields.wanted, "project"]), wanted)
    cards = [issue for _, issue in read if on_query(issue)]
    parsed = parse_all(cards, lambda i: parse_card(i, fields=fields, statuses=statuses), run=run, what="cards")
    store_cards(parsed, run=run, dry_run=dry_run)
    left = {key for key, issue in read if not on_query(issue)}
    left |= {key for key, exc in refused.items() if exc.status in GONE}
    if left and mark_removed(Card.objects.filter(pk__in=left), set(), run=run, dry_run=dry_run) and not dry_run:
        retire_removed()
    progress(len(wanted), len(wanted), "cards")


def store_cards(parsed: list[dict], *, run: SyncRun, dry_run: bool) -> None:
    """A batch of cards and their comments, in one transaction, then the active card of the cases they touch."""
    cards = [p["card"] for p in parsed]
    stored_case = dict(Card.objects.filter(pk__in=[c["key"] for c in cards]).values_list("pk", "case_id"))
    # A new card starts inactive (refresh_active then picks): the default would clash with its case's active card.
    new = [{**c, "active": False} for c in cards if c["key"] not in stored_case]
    with transaction.atomic():
        written = set(upsert(Card, new, run=run, dry_run=dry_run))
        written.update(upsert(Card, [c for c in cards if c["key"] in stored_case], run=run, dry_run=dry_run))
        # Comments are part of their card: counted once, as the card. A comment added or edited moves its card's
        # `updated`, so an unchanged card has unchanged comments: only written cards' comments are written.
        # A comment written (new or edited) is rendered again by render_comments, after the sync: see there.
        comments = [{**c, "body_html": None} for p in parsed if p["card"]["key"] in written for c in p["comments"]]
        upsert(CardComment, comments, run=run, dry_run=dry_run, count=False)
        if not dry_run:
            # A card new to us has no older comments to drop.
            dropped = drop_deleted_comments(
                [p for p in parsed if p["all_comments"] and p["card"]["key"] in stored_case]
            )
            # Only a written card can change which card a case shows: a new card, one back on the query, or
            # one moved to another case (both cases then). A card that lost comments changes its case's search text.
            cases = [c["case_id"] for c in cards if c["key"] in written] + [stored_case.get(k) for k in written]
            cases += [stored_case.get(k) for k in dropped]
            refresh_active(cases)


def drop_deleted_comments(parsed: list[dict]) -> set[str]:
    """Comments no longer on a card JIRA sent in full are marked removed (kept for history). Returns the keys of
    the cards that lost some."""
    keep = {c["id"] for p in parsed for c in p["comments"]}
    stored = CardComment.objects.filter(card_id__in=[p["card"]["key"] for p in parsed], removed_at__isnull=True)
    # Read, then write only what went: usually nothing, and a read is far cheaper than an update that finds nothing.
    gone = {pk: card for pk, card in stored.values_list("pk", "card_id") if pk not in keep}
    if gone:
        CardComment.objects.filter(pk__in=list(gone)).update(removed_at=timezone.now())
    return set(gone.values())


def refresh_active(cases: Iterable[str | None]) -> None:
    """At most one active card per case: the newest still on the query. Set-based, 500 cases a query."""
    for batch in chunks(sorted({c for c in cases if c}), 500):
        newest: dict[str, str] = {}
        active: set[str] = set()
        cards = Card.objects.filter(case_id__in=batch).order_by(
            "case_id", F("created_at").desc(nulls_last=True), "-key"
        )
        for case, key, is_active, removed_at in cards.values_list("case_id", "key", "active", "removed_at"):
            if removed_at is None:
                newest.setdefault(case, key)
            if is_active:
                active.add(key)
        winners = set(newest.values())
        # Off first, then on: the partial unique index is checked row by row. Only the cards that change are
        # named: each key in an IN list costs Django more than the database.
        if off := active - winners:
            Card.objects.filter(pk__in=off).update(active=False)
        if on := winners - active:
            Card.objects.filter(pk__in=on).update(active=True)
        set_card_status(Q(number__in=batch))
        # The index holds each case's active card and its comments.
        search.reindex(numbers=batch)


def set_card_status(cases: Q) -> int:
    """Copy the internal status of their active card onto the cases `cases` selects (Case.card_status)."""
    return Case.objects.filter(cases).update(card_status=active_card_status())


def retire_removed() -> None:
    """Cards that left the query are inactive; another card of their case may take over."""
    with transaction.atomic():
        retired = Card.objects.filter(active=True, removed_at__isnull=False)
        cases = set(retired.values_list("case_id", flat=True))
        retired.update(active=False)
        refresh_active(cases)


def apply_status_mapping(jira_status: str) -> int:
    """After a mapping is edited: the cards in that JIRA status take its (new) internal status at once."""
    internal = StatusMapping.objects.filter(jira_status=jira_status).values_list("internal_status", flat=True).first()
    with transaction.atomic():
        changed = (
            Card.objects.filter(jira_status=jira_status).exclude(status=internal or "").update(status=internal or "")
        )
        set_card_status(card_status_out_of_step())
    return changed


# Comments rendered per run of render_comments, at most: each batch is written in its own short transaction.
RENDER_BATCH = 100


def render_comments(
    *, run: SyncRun, full: bool = False, since: datetime | None = None, dry_run: bool = False,
    progress: Progress = no_progress,
) -> None:  # fmt: skip
    """JIRA comments written since they were last rendered (body_html NULL), newest first, as HTML (t5g.markup),
    for at most COMMENT_RENDER_SECONDS a run; the next run goes on.

    Not done by the card sync: jira2markdown takes ~40 ms for a comment with wiki markup (measured here), which
    would cut a full card sync from thousands of rows a CPU second to tens. Until a comment is rendered, pages
    show it as plain text, escaped and linkified. A comment without markup is stored as "" (shown as plain text).
    """
    pending = CardComment.objects.filter(body_html__isnull=True)
    total = run.fetched = pending.count()
    deadline = time.monotonic() + settings.COMMENT_RENDER_SECONDS
    report = Throttled(progress)
    done = 0
    while done < total and time.monotonic() < deadline:
        batch = list(pending.order_by("-created_at", "-id").values_list("id", "body")[:RENDER_BATCH])
        if not batch:
            break
        rendered = [(pk, body, jira_to_html(body) if WIKI_MARKUP.search(body) else "") for pk, body in batch]
        done += len(batch)
        report(done, total, "rendering comments")
        if dry_run:
            break
        with transaction.atomic():
            for pk, body, html in rendered:
                # Only if the body is still the one rendered: a sync may have stored an edit meanwhile.
                run.updated += CardComment.objects.filter(pk=pk, body=body, body_html__isnull=True).update(
                    body_html=html
                )
            bump_feeds_after_commit(run)
    run.unchanged = total - run.updated
