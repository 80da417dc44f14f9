"""Alerts about jobs: once when a job starts failing, once when it recovers.

Sent by email (Django's mail, EMAIL_URL) and Slack. An alert that cannot be sent is
logged; it never breaks the run that raised it.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail

from .clients.slack import post_message
from .models import SyncRun

log = logging.getLogger(__name__)


def _previous_final_outcome(run: SyncRun) -> str | None:
    finished = (SyncRun.Outcome.SUCCESS, SyncRun.Outcome.FAILED)
    previous = SyncRun.objects.filter(source=run.source, outcome__in=finished, pk__lt=run.pk).order_by("-pk").first()
    return previous.outcome if previous else None


def job_failed(run: SyncRun) -> None:
    if _previous_final_outcome(run) == SyncRun.Outcome.FAILED:
        return  # already alerted for this streak
    send(
        f"T5G: {run.get_source_display()} sync is failing",
        f"Run {run.pk} of {run.get_source_display()} failed at {run.finished_at:%Y-%m-%d %H:%M} UTC"
        " after its retries:\n"
        f"{run.error}\n\nThe dashboard keeps showing the last good data, marked stale.",
    )


def job_recovered(run: SyncRun) -> None:
    if _previous_final_outcome(run) != SyncRun.Outcome.FAILED:
        return
    send(
        f"T5G: {run.get_source_display()} sync recovered",
        f"Run {run.pk} of {run.get_source_display()} succeeded at {run.finished_at:%Y-%m-%d %H:%M} UTC.",
    )


def send(subject: str, body: str) -> None:
    if settings.ALERT_EMAILS:
        try:
            send_mail(subject, body, None, settings.ALERT_EMAILS)
        except Exception:  # noqa: BLE001 - an alert must never break what it reports on
            log.exception("could not email alert %r", subject)
    if settings.SLACK_ALERT_CHANNEL:
        try:
            post_message(channel=settings.SLACK_ALERT_CHANNEL, text=f"*{subject}*\n{body}")
        except Exception:  # noqa: BLE001
            log.exception("could not post alert %r to Slack", subject)
