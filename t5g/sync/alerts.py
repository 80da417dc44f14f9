"""Alerts about jobs: once when a job starts failing, once when it recovers.

Queued as notifications (t5g/notify.py): by email to ALERT_EMAILS and to Slack's SLACK_ALERT_CHANNEL,
delivered and retried by the notifications queue, so a slow mail server or Slack never holds up the
job (nor its lock) that raised the alert, and an alert that cannot be sent never breaks it.
"""

from __future__ import annotations

from django.conf import settings

from t5g import notify
from t5g.models import Notification, SyncRun

from .registry import label_of


def _previous_final_outcome(run: SyncRun) -> str | None:
    finished = (SyncRun.Outcome.SUCCESS, SyncRun.Outcome.FAILED)
    previous = SyncRun.objects.filter(source=run.source, outcome__in=finished, pk__lt=run.pk).order_by("-pk").first()
    return previous.outcome if previous else None


def job_failed(run: SyncRun, *, retried: bool = True) -> None:
    """`retried`: the run failed after its retries (not cut short by its worker's death)."""
    if _previous_final_outcome(run) == SyncRun.Outcome.FAILED:
        return  # already alerted for this streak
    send(
        f"T5G: {label_of(run.source)} sync is failing",
        f"Run {run.pk} of {label_of(run.source)} failed at {run.finished_at:%Y-%m-%d %H:%M} UTC"
        f"{' after its retries' if retried else ''}:\n"
        f"{run.error}\n\nThe dashboard keeps showing the last good data, marked stale.",
    )


def job_recovered(run: SyncRun) -> None:
    if _previous_final_outcome(run) != SyncRun.Outcome.FAILED:
        return
    send(
        f"T5G: {label_of(run.source)} sync recovered",
        f"Run {run.pk} of {label_of(run.source)} succeeded at {run.finished_at:%Y-%m-%d %H:%M} UTC.",
    )


def send(subject: str, body: str) -> None:
    if settings.ALERT_EMAILS:
        notify.enqueue(kind=Notification.Kind.EMAIL, to=settings.ALERT_EMAILS, subject=subject, body=body)
    if settings.SLACK_ALERT_CHANNEL:
        notify.enqueue(kind=Notification.Kind.SLACK, to=settings.SLACK_ALERT_CHANNEL, body=f"*{subject}*\n{body}")
