"""Case and case-detail syncs from the support portal."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bugs.models import Bug
from cards.selectors import active_card_status, card_status_out_of_step
from t5g.clients.portal import portal_client
from t5g.clients.records import RecordError, case_number, chunks, parse_time, str_list, text
from t5g.models import SyncRun
from t5g.sync.batches import Progress, Throttled, no_progress, parse_all, read_each, regroup
from t5g.sync.failures import clear_failures, record_failures
from t5g.sync.upsert import mark_removed, upsert, watermark

from . import search
from .models import Case, CaseComment, Detail
from .selectors import cases_to_refresh, number_in

log = logging.getLogger(__name__)


# --- cases ------------------------------------------------------------------------------------
def parse_case(doc: dict) -> dict:
    severity = str(doc.get("case_severity") or "")[:1]
    if severity not in ("1", "2", "3", "4"):
        raise RecordError(f"severity: {doc.get('case_severity')!r}")
    products = str_list(doc.get("case_product"), field="product")
    return {
        "number": case_number(doc.get("case_number")),
        "owner": text(doc.get("case_owner"), field="owner", max_length=200),
        "severity": int(severity),
        "account": text(doc.get("case_account_name"), field="account", max_length=255),
        "summary": text(doc.get("case_summary"), field="summary"),
        "status": text(doc.get("case_status"), field="status", max_length=50) or "Unknown",
        "product": (products[0] if products else "")[:200],
        "product_version": text(doc.get("case_version"), field="version", max_length=50),
        "description": text(doc.get("case_description"), field="description"),
        "tags": str_list(doc.get("case_tags"), field="tags"),
        "created_at": parse_time(doc.get("case_createdDate"), field="created", required=True),
        "closed_at": parse_time(doc.get("case_closedDate"), field="closed"),
        "upstream_updated_at": parse_time(doc.get("case_lastModifiedDate"), field="last modified", required=True),
        "removed_at": None,
    }


def sync_cases(
    *, run: SyncRun, full: bool = False, since: datetime | None = None, dry_run: bool = False,
    progress: Progress = no_progress,
) -> None:  # fmt: skip
    """Cases on the team's query, changed since the newest stored change (all of them when full).

    A full run also marks the cases that left the query.
    """
    client = portal_client()
    report = Throttled(progress)
    seen: set[str] = set()
    pages = client.iter_cases(
        query=settings.CASE_QUERY, modified_since=watermark(job=run.source, since=since, full=full)
    )
    for total, docs in regroup(pages, size=settings.SYNC_WRITE_BATCH):
        seen.update(str(d.get("case_number")) for d in docs)
        store_cases(docs, run=run, dry_run=dry_run)
        report(len(seen), total, "cases")
    if full:
        # A case is taken for gone only when the portal says so: those the read did not bring are looked up by
        # number, and any still on the query are stored rather than marked removed.
        unseen = [n for n in Case.objects.filter(removed_at__isnull=True).values_list("pk", flat=True) if n not in seen]
        found = client.cases_by_number(query=settings.CASE_QUERY, numbers=unseen) if unseen else []
        if found:
            log.warning("cases: %s case(s) on the query were missing from the full read: read again", len(found))
            seen.update(str(d.get("case_number")) for d in found)
            store_cases(found, run=run, dry_run=dry_run)
        removed = mark_removed(Case.objects.all(), seen, run=run, dry_run=dry_run)
        log.info("cases: %s left the query", removed)


def store_cases(docs: list[dict], *, run: SyncRun, dry_run: bool) -> None:
    """A batch of search results: parsed, upserted, reopened cases noted, card statuses brought in step."""
    rows = parse_all(docs, parse_case, run=run, what="cases")
    reopened = reopened_cases(rows)
    written = upsert(Case, rows, run=run, dry_run=dry_run)
    if not dry_run:
        search.reindex(numbers=written)
        if reopened:
            Case.objects.filter(pk__in=reopened).update(reopened_at=timezone.now())
        # A case that arrives after its card (they come from different upstreams) takes the card's status.
        cases = Case.objects.filter(number_in(written) & card_status_out_of_step())
        cases.update(card_status=active_card_status())


def reopened_cases(rows: list[dict]) -> list[str]:
    """Cases stored as Closed that come back open: their old card is reopened rather than a new one made."""
    now_open = [r["number"] for r in rows if r["status"] != "Closed"]
    return list(Case.objects.filter(pk__in=now_open, status="Closed").values_list("pk", flat=True))


# --- details, case comments and bug links ----------------------------------------------------------
def comment_id(comment: dict) -> str:
    """A case comment's id: its key in the database, so never blank (two cases' blank ids would collide)."""
    found = text(comment.get("id"), field="comment id", max_length=64)
    if not found:
        raise RecordError("comment id is missing")
    return found


def parse_detail(number: str, body: dict) -> dict:
    """One /v1/cases/{n} answer -> {"detail": row, "comments": rows, "bugs": {id: summary/status}}."""
    if not isinstance(body, dict) or body.get("caseNumber") != number:
        raise RecordError(f"details of {number}: not this case's answer")
    modified = parse_time(body.get("lastModifiedDate"), field="lastModifiedDate", required=True)
    notified = body.get("notifiedUsers") or []
    if not isinstance(notified, list):
        raise RecordError("notifiedUsers: expected a list")
    detail = {
        "case_id": number,
        "crit_sit": bool(body.get("critSit")),
        "group_name": text(body.get("groupName"), field="groupName", max_length=200),
        "notified_users": [text(u.get("ssoUsername"), field="ssoUsername") for u in notified if isinstance(u, dict)],
        "relief_at": parse_time(body.get("reliefAt"), field="reliefAt"),
        "resolved_at": parse_time(body.get("resolvedAt"), field="resolvedAt"),
        "upstream_updated_at": modified,
        "removed_at": None,
    }
    comments = [
        {
            "id": comment_id(c),
            "case_id": number,
            "author": text(c.get("createdBy"), field="createdBy", max_length=200),
            "body": text(c.get("commentBody"), field="commentBody"),
            "public": bool(c.get("isPublic", True)),
            "created_at": parse_time(c.get("createdDate"), field="comment createdDate", required=True),
            "upstream_updated_at": parse_time(c.get("lastModifiedDate"), field="comment lastModifiedDate"),
            "removed_at": None,
        }
        for c in body.get("comments") or []
    ]
    bugs = {}
    for b in body.get("bugzillas") or []:
        number_text = str(b.get("bugzillaNumber", ""))
        if not number_text.isdigit():
            raise RecordError(f"bugzillaNumber: {b.get('bugzillaNumber')!r}")
        bugs[int(number_text)] = {
            "summary": text(b.get("summary"), field="bug summary"),
            "status": text(b.get("status"), field="bug status", max_length=30),
        }
    return {"detail": detail, "comments": comments, "bugs": bugs}


def sync_details(
    *, run: SyncRun, full: bool = False, since: datetime | None = None, dry_run: bool = False,
    progress: Progress = no_progress,
) -> None:  # fmt: skip
    """Details, comments and Bugzilla links of the cases that changed (or whose copy is old)."""
    client = portal_client()
    numbers = cases_to_refresh(seen="detail__upstream_updated_at", read_at="detail__synced_at", full=full, since=since)
    report = Throttled(progress)
    done = 0
    for batch in chunks(numbers, 100):
        # A case the portal refuses (restricted: 403, deleted: 404) or answers wrongly keeps its details and is
        # tried again on later runs; the others are read.
        read, refused = read_each(client.case, batch)
        failed = {number: str(exc) for number, exc in refused.items()}
        parsed = []
        for number, body in read:
            try:
                parsed.append(parse_detail(number, body))
            except (RecordError, KeyError, TypeError, ValueError, AttributeError) as exc:
                failed[number] = f"rejected the answer: {exc}"
        run.fetched += len(batch)
        record_failures(run, failed, what="details", dry_run=dry_run)
        with transaction.atomic():
            details = upsert(Detail, [p["detail"] for p in parsed], run=run, dry_run=dry_run)
            # Comments and bug links are part of the details: counted once, as the details.
            comments = [c for p in parsed for c in p["comments"]]
            written = set(upsert(CaseComment, comments, run=run, dry_run=dry_run, count=False))
            if not dry_run:
                relinked = link_bugs({p["detail"]["case_id"]: p["bugs"] for p in parsed})
                commented = {c["case_id"] for c in comments if c["id"] in written}
                search.reindex(numbers=[*details, *commented, *relinked])
            clear_failures(run, [p["detail"]["case_id"] for p in parsed], dry_run=dry_run)
        done += len(batch)
        report(done, len(numbers), "case details")


def link_bugs(bugs_by_case: dict[str, dict[int, dict]]) -> set[str]:
    """Make each case's Bugzilla links exactly what the portal listed; unknown bugs get a stub row.
    Returns the cases whose links changed."""
    if not bugs_by_case:
        return set()
    wanted = {(case, bug) for case, bugs in bugs_by_case.items() for bug in bugs}
    stubs = {bug: info for bugs in bugs_by_case.values() for bug, info in bugs.items()}
    known = set(Bug.objects.filter(pk__in=list(stubs)).values_list("pk", flat=True))
    Bug.objects.bulk_create(
        [
            Bug(id=bug, summary=info["summary"], status=info["status"])
            for bug, info in stubs.items()
            if bug not in known
        ],
        ignore_conflicts=True,
    )
    Link = Bug.cases.through
    links = Link.objects.filter(case_id__in=list(bugs_by_case))
    stored = set(links.values_list("case_id", "bug_id"))
    links.delete()
    Link.objects.bulk_create([Link(case_id=c, bug_id=b) for c, b in wanted])
    return {case for case, _ in wanted ^ stored}
