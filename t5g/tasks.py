"""The Celery tasks of notifications (t5g/notify.py); the sync engine's are in t5g/sync/tasks.py."""

from celery import shared_task

from . import notify


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
