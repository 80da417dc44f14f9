"""The records a job cannot read: counted as rejected, logged once, kept in the database until read again.

A per-record fetch (a case's details, its JIRA links, a batch of bugs) that the upstream refuses for that record
(restricted, deleted, an error of its own) must not stop the run, nor every later run: the service goes on
without it, the record keeps its previous copy and is tried again on later runs. Each one is a FailingRecord
row, so the home page and /health/ show how many records each job cannot read, and since when, rather than a
warning repeated in the logs forever.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.utils import timezone

from t5g.models import FailingRecord, SyncRun

from .registry import get_job

log = logging.getLogger(__name__)


def record_failures(run: SyncRun, failed: dict[str, str], *, what: str, dry_run: bool) -> None:
    """Count and keep the records this run could not read, {key: reason}. Each is logged (with its reason) when
    it starts failing or fails for another reason, not again on every run."""
    run.rejected += len(failed)
    if not failed:
        return
    stored = {r.key: r for r in FailingRecord.objects.filter(source=run.source, key__in=list(failed))}
    for key, reason in failed.items():
        old = stored.get(key)
        if old is None or old.reason != reason:
            log.warning("%s: cannot read %s, kept its previous copy (tried again on later runs): %s", what, key, reason)
        else:
            log.debug("%s: %s still cannot be read (since %s): %s", what, key, old.since, reason)
    if dry_run:
        return
    now = timezone.now()
    for key, reason in failed.items():
        if key in stored:
            row = stored[key]
            row.reason, row.last_failed_at, row.failures = reason, now, row.failures + 1
        else:
            stored[key] = FailingRecord(source=run.source, key=key, reason=reason, since=now, last_failed_at=now)
    rows = [stored[key] for key in failed]
    FailingRecord.objects.bulk_create([r for r in rows if r.pk is None])
    FailingRecord.objects.bulk_update([r for r in rows if r.pk is not None], ["reason", "last_failed_at", "failures"])
    # A record no run tried for a while is no longer wanted (its case left the query, say): not failing anymore.
    forget = now - 2 * get_job(run.source).stale_after
    FailingRecord.objects.filter(source=run.source, last_failed_at__lt=forget).delete()


def clear_failures(run: SyncRun, keys: Iterable[str], *, dry_run: bool) -> None:
    """These records were read: whatever failed before is over."""
    keys = list(keys)
    if keys and not dry_run:
        FailingRecord.objects.filter(source=run.source, key__in=keys).delete()
