"""Bugzilla bug sync: fills in the bugs the case details link (cases/services.py makes the stubs)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cases import search
from t5g.clients.bugzilla import bugzilla_client
from t5g.clients.records import RecordError, chunks, parse_time, str_list, text
from t5g.models import SyncRun
from t5g.sync.batches import Progress, Throttled, no_progress, parse_all, read_each
from t5g.sync.failures import clear_failures, record_failures
from t5g.sync.upsert import bump_feeds_after_commit, upsert

from .models import Bug

log = logging.getLogger(__name__)


def first(value, *, field: str, max_length: int) -> str:
    """Red Hat lists some single values (component, target_release); other Bugzillas do not."""
    values = str_list(value, field=field, separator="")
    return values[0][:max_length] if values else ""


def parse_bug(raw: dict) -> dict:
    bug_id = raw.get("id")
    if not isinstance(bug_id, int) or isinstance(bug_id, bool) or bug_id <= 0:
        raise RecordError(f"id: {bug_id!r}")
    return {
        "id": bug_id,
        "summary": text(raw.get("summary"), field="summary"),
        "status": text(raw.get("status"), field="status", max_length=30),
        "resolution": text(raw.get("resolution"), field="resolution", max_length=30),
        "severity": text(raw.get("severity"), field="severity", max_length=20),
        "priority": text(raw.get("priority"), field="priority", max_length=20),
        "component": first(raw.get("component"), field="component", max_length=200),
        "target_release": first(raw.get("target_release"), field="target_release", max_length=100) or "---",
        "assignee": text(raw.get("assigned_to"), field="assigned_to", max_length=200),
        "qa_contact": text(raw.get("qa_contact"), field="qa_contact", max_length=200),
        "internal_whiteboard": text(raw.get("cf_internal_whiteboard"), field="cf_internal_whiteboard"),
        "restricted": False,
        "upstream_updated_at": parse_time(raw.get("last_change_time"), field="last_change_time", required=True),
        "removed_at": None,
    }


def bugs_to_refresh(*, full: bool, since: datetime | None) -> list[int]:
    """Linked bugs whose copy may be behind: never filled, read before their case's details, or old on an open case.

    Both sides of "read before" are our own clock (Detail.synced_at vs Bug.synced_at): a case
    whose details were re-read may have changed its bugs. Restricted bugs are retried on those
    terms too, not on every run.
    """
    links = Bug.cases.through.objects.all()
    if since:
        links = links.filter(case__upstream_updated_at__gte=since)
    elif not full:
        too_old = timezone.now() - timedelta(hours=settings.REFRESH_AFTER_HOURS)
        links = links.filter(
            Q(bug__upstream_updated_at__isnull=True, bug__restricted=False)
            | Q(case__detail__synced_at__gt=F("bug__synced_at"))
            | (Q(bug__synced_at__lt=too_old, case__removed_at__isnull=True) & ~Q(case__status="Closed"))
        )
    return list(links.order_by("bug_id").values_list("bug_id", flat=True).distinct())


def mark_restricted(ids: list[int], *, run: SyncRun, dry_run: bool) -> None:
    """Bugzilla does not show these to our key (or no longer knows them): the portal's summary stays. Their version
    is not known meanwhile: the next answer for one is written whatever its last change (a bug left out of one
    answer by a fault, unchanged since, stayed restricted for good: newer-wins saw the same version)."""
    run.fetched += len(ids)
    run.unchanged += len(ids)
    if ids and not dry_run:
        Bug.objects.filter(pk__in=ids).update(restricted=True, upstream_updated_at=None, synced_at=timezone.now())
        bump_feeds_after_commit(run)


def sync_bugs(
    *, run: SyncRun, full: bool = False, since: datetime | None = None, dry_run: bool = False,
    progress: Progress = no_progress,
) -> None:  # fmt: skip
    """Fill in and refresh the linked bugs, a batch per request, batches fetched concurrently."""
    ids = bugs_to_refresh(full=full, since=since)
    if not ids:
        return  # not even the client's /version call: a quiet hour costs Bugzilla nothing
    client = bugzilla_client()
    report = Throttled(progress)
    done = restricted = 0
    batches = [tuple(batch) for batch in chunks(ids, client.batch)]
    # A few requests' worth at a time (as many as the pool runs at once): written as they come.
    for group in chunks(batches, settings.UPSTREAM_CONCURRENCY):
        read, refused = read_each(client.get_bugs, group)
        for batch in refused:
            # Bugzilla refused the whole request: its bugs are read one at a time, so one bug it cannot answer
            # (an error of its own) keeps neither the others nor every later run from being read.
            singles, failed = read_each(lambda bug_id: client.get_bugs([bug_id]), list(batch))
            read += [((bug_id,), answer) for bug_id, answer in singles]
            failed = {str(bug_id): str(exc) for bug_id, exc in failed.items()}
            record_failures(run, failed, what="bugs", dry_run=dry_run)
        for batch, answer in read:
            with transaction.atomic():
                rows = parse_all(answer.bugs, parse_bug, run=run, what="bugs")
                titles = dict(Bug.objects.filter(pk__in=[r["id"] for r in rows]).values_list("pk", "summary"))
                written = set(upsert(Bug, rows, run=run, dry_run=dry_run))
                if not dry_run:
                    # The index holds each case's bug titles: only a bug whose title changed re-indexes its cases
                    # (every bug's cases, at 100,000 cases, took the full sync from 24,000 to 4,000 rows/s).
                    retitled = [r["id"] for r in rows if r["id"] in written and r["summary"] != titles.get(r["id"])]
                    linked = Bug.cases.through.objects.filter(bug_id__in=retitled).values_list("case_id", flat=True)
                    search.reindex(numbers=linked)
                mark_restricted(answer.missing, run=run, dry_run=dry_run)
                clear_failures(run, [str(bug_id) for bug_id in batch], dry_run=dry_run)
            restricted += len(answer.missing)
            done += len(batch)
            report(done, len(ids), "bugs")
    report(done, len(ids), "bugs", force=True)
    log.info("bugs: %s of %s read; %s restricted or unknown to Bugzilla", done, len(ids), restricted)
