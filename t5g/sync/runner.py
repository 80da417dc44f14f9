"""The one way a sync or automation job runs: from beat, the refresh button or a command.

A job (declared by its app, t5g/sync/registry.py) names a service `fn(*, run, full, since, dry_run,
progress)` that does the work and adds its counts to `run`. run_job takes the job's lock, records the
run around the service, and sends an alert on the first failure of a streak and a notice on recovery.
A second trigger while the job runs joins the running run.
"""

from __future__ import annotations

import logging

from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from t5g.cache import bump
from t5g.clients.scrub import scrub
from t5g.counters import flush_upstream_counts
from t5g.models import SyncRun

from . import alerts
from .batches import Progress, no_progress
from .locks import job_lock
from .registry import get_job
from .warm import queue_warm

log = logging.getLogger(__name__)


def run_job(
    *,
    job: str,
    trigger: str,
    task_id: str = "",
    full: bool = False,
    dry_run: bool = False,
    final: bool = True,
    progress: Progress = no_progress,
    unlocked_ok: bool = False,
    **options,
) -> SyncRun:
    """Run one job and record it; re-raises the job's error after recording it.

    Returns the running run instead (with `joined` set) when the job already runs.
    `final=False` marks a failure the caller will retry. A dry run writes nothing, not
    even its run record. With Redis unreachable the job's lock cannot be taken: LockUnavailable,
    unless `unlocked_ok` (a command run by a person) lets it run without.
    """
    service = import_string(get_job(job).service)
    if dry_run:
        run = SyncRun(source=job, trigger=trigger, full=full)
        service(run=run, full=full, dry_run=True, progress=progress, **options)
        return run
    with job_lock(job, unlocked_ok=unlocked_ok) as lock:
        if not lock.acquired:
            running = SyncRun.objects.filter(pk=lock.running_run_id()).first() or (
                SyncRun.objects.filter(source=job, outcome=SyncRun.Outcome.RUNNING).first()
            )
            log.info("job %s is already running (run %s): joining it", job, running and running.pk)
            if running:
                running.joined = True
            return running
        _abandon_stale_runs(job)
        run = SyncRun.objects.create(source=job, trigger=trigger, full=full, task_id=task_id)
        lock.set_run(run.pk)
        log.info("job %s started (run %s, trigger %s%s)", job, run.pk, trigger, ", full" if full else "")
        try:
            service(run=run, full=full, dry_run=False, progress=progress, **options)
        except Exception as exc:
            _finish(run, SyncRun.Outcome.FAILED if final else SyncRun.Outcome.RETRY, f"{type(exc).__name__}: {exc}")
            log.exception("job %s failed (run %s)%s", job, run.pk, "" if final else "; it will be retried")
            if final:
                alerts.job_failed(run)
            raise
        finally:
            flush_upstream_counts()  # this run's upstream requests, on /metrics now rather than in a second
        _finish(run, SyncRun.Outcome.SUCCESS)
        if run.created + run.updated >= BIG_WRITE:
            _refresh_planner_statistics()
        log.info(
            "job %s succeeded (run %s) in %.1fs: fetched %s, created %s, updated %s, unchanged %s, rejected %s",
            job, run.pk, run.duration.total_seconds(), run.fetched, run.created, run.updated, run.unchanged,
            run.rejected,
        )  # fmt: skip
        alerts.job_recovered(run)
        if run.created or run.updated:
            queue_warm()  # the pages people open, rendered before they ask
        return run


# After a run writes this many rows, the query planner's statistics are refreshed.
BIG_WRITE = 1000


def _refresh_planner_statistics() -> None:
    """Right after a bulk load, PostgreSQL's planner still thinks the tables are empty and picks
    nested loops that take minutes (measured: a stats query at 10,000 cases); autovacuum would
    analyze them only later. SQLite's `PRAGMA optimize` (3.40) analyzes only the tables this connection's
    queries used: after a first sync, each job in its own process, some tables had no statistics and the load
    test's pages cost 16 ms of CPU a request against 12 with every table analyzed. A full ANALYZE takes 0.25 s at
    100,000 cases; a sampled one (analysis_limit=1000) misled the planner (page 3 of all cases 288 ms cold, 96 ms
    with full statistics)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


RUNS_FEED = "sync-runs"


def _finish(run: SyncRun, outcome: str, error: str = "") -> None:
    # The error shows in admin, in alerts and on /health/: never with a key an upstream's error quoted.
    run.outcome, run.error, run.finished_at = outcome, scrub(error), timezone.now()
    run.save()
    # The header's "data as of" (t5g.context_processors) is cached on this feed.
    bump(RUNS_FEED)


def _abandon_stale_runs(job: str) -> None:
    """Runs still "running" while we hold the lock were cut short: their worker died. Each is a failure of the
    job like any other, alerted as one: unalerted, it would open a failure streak nobody was told of (the
    failures after it then count as already alerted) and its successor would announce a recovery from nothing."""
    running = SyncRun.objects.filter(source=job, outcome=SyncRun.Outcome.RUNNING)
    for pk in running.order_by("pk").values_list("pk", flat=True):
        # Only if still running: a run that lost its lock (Redis restarted) may be finishing by itself meanwhile.
        abandoned = {"outcome": SyncRun.Outcome.FAILED, "error": "abandoned: its worker stopped mid-run",
                     "finished_at": timezone.now()}  # fmt: skip
        if running.filter(pk=pk).update(**abandoned):
            log.warning("job %s: marked run %s failed, abandoned by its worker", job, pk)
            alerts.job_failed(SyncRun.objects.get(pk=pk), retried=False)
