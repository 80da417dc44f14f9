import logging
import random

from celery import shared_task
from django.conf import settings

from . import jobs, notify

log = logging.getLogger(__name__)


@shared_task(name="t5g.run_job", bind=True, max_retries=4)
def run_job(self, job: str, trigger: str = "schedule", **options) -> int | None:
    """Thin: every periodic task points here with its job name (see setup_schedules).

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
        run = jobs.run_job(
            job=job, trigger=trigger, task_id=self.request.id or "", final=final, progress=progress, **options
        )
    except Exception as exc:
        if final:
            raise
        delay = settings.JOB_RETRY_BACKOFF * 2**self.request.retries * random.uniform(0.5, 1.0)
        raise self.retry(exc=exc, countdown=delay) from exc
    return run.pk if run else None


@shared_task(name="t5g.send_notification", bind=True, max_retries=None)
def send_notification(self, notification_id: int) -> None:
    """Deliver one notification. The row counts the tries (five, with exponential backoff): Celery's own
    retry count restarts when the resend queues a message again."""
    delay = notify.deliver(notification_id)
    if delay is not None:
        raise self.retry(countdown=delay)


@shared_task(name="t5g.resend_notifications")
def resend_notifications() -> int:
    """Every ten minutes: queue again the notifications that are stuck (t5g/notify.py)."""
    return notify.resend()


@shared_task(name="t5g.refresh", bind=True)
def refresh(self, refresh_id: int) -> None:
    """The refresh button's background sync (t5g/refresh.py)."""
    from .refresh import run_refresh

    run_refresh(refresh_id=refresh_id, task_id=self.request.id or "")
