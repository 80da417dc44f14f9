"""The Celery tasks of the sync engine: thin, every periodic job and the refresh button go through here."""

import logging
import random

from celery import shared_task
from django.conf import settings

from . import hooks, runner, warm

log = logging.getLogger(__name__)


@shared_task(name="t5g.run_job", bind=True, max_retries=4)
def run_job(self, job: str, trigger: str = "schedule", **options) -> int | None:
    """Every periodic job points here with its job name (t5g/sync/schedules.py).

    Five tries with exponential backoff; a failure before the last is recorded as
    "retry", the last as "failed" (and alerted).
    """
    final = self.request.retries >= self.max_retries

    def progress(current: int, total: int, phase: str) -> None:
        try:
            self.update_state(state="PROGRESS", meta={"job": job, "current": current, "total": total, "phase": phase})
        except Exception:  # noqa: BLE001 - progress is a nicety; Redis may be down
            log.debug("could not report progress", exc_info=True)

    try:
        run = runner.run_job(
            job=job, trigger=trigger, task_id=self.request.id or "", final=final, progress=progress, **options
        )
    except Exception as exc:
        if final:
            raise
        delay = settings.JOB_RETRY_BACKOFF * 2**self.request.retries * random.uniform(0.5, 1.0)
        raise self.retry(exc=exc, countdown=delay) from exc
    return run.pk if run else None


@shared_task(name="t5g.refresh", bind=True)
def refresh(self, refresh_id: int) -> None:
    """The refresh button's background sync (t5g/sync/refresh.py)."""
    from .refresh import run_refresh

    run_refresh(refresh_id=refresh_id, task_id=self.request.id or "")


@shared_task(name="t5g.reread")
def reread(upstream: str) -> list[int]:
    """The keys webhooks named, read again (t5g/sync/hooks.py)."""
    return hooks.reread(upstream=upstream, task_id=reread.request.id or "")


@shared_task(name="t5g.warm_pages")
def warm_pages() -> dict[str, float]:
    """The most-used pages rendered ahead after a sync (t5g/sync/warm.py)."""
    return warm.warm_pages()
