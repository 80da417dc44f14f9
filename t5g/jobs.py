"""The one way a sync or automation job runs: from beat, the refresh button or a command.

Each job is a service function `fn(*, run: SyncRun, **options)` that does the
work and adds its counts to `run`. run_job records the run around it.
"""

import logging
from collections.abc import Callable

from django.utils import timezone
from django.utils.module_loading import import_string

from .models import SyncRun

log = logging.getLogger(__name__)


def _record_only(*, run: SyncRun, **options) -> None:
    """Placeholder until the sync engine lands: the run is recorded, nothing fetched."""


# Job name (SyncRun.source) -> service. Dotted paths keep apps free of import cycles.
JOBS: dict[str, str] = {source: "t5g.jobs._record_only" for source in SyncRun.Source.values}


def get_service(job: str) -> Callable[..., None]:
    if job not in JOBS:
        raise ValueError(f"unknown job {job!r}; choose from {', '.join(JOBS)}")
    return import_string(JOBS[job])


def run_job(*, job: str, trigger: str, task_id: str = "", full: bool = False, **options) -> SyncRun:
    """Run one job and record it. Re-raises the job's error after recording it."""
    service = get_service(job)
    run = SyncRun.objects.create(source=job, trigger=trigger, full=full, task_id=task_id)
    log.info("job %s started (run %s, trigger %s)", job, run.pk, trigger)
    try:
        service(run=run, full=full, **options)
    except Exception as exc:
        run.outcome = SyncRun.Outcome.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        run.finished_at = timezone.now()
        run.save()
        log.exception("job %s failed (run %s)", job, run.pk)
        raise
    run.outcome = SyncRun.Outcome.SUCCESS
    run.finished_at = timezone.now()
    run.save()
    log.info(
        "job %s succeeded (run %s): fetched %s, created %s, updated %s, unchanged %s, rejected %s",
        job,
        run.pk,
        run.fetched,
        run.created,
        run.updated,
        run.unchanged,
        run.rejected,
    )
    return run
