"""Email and Slack notifications: a row per message (Notification), delivered by a Celery task with retries.

`enqueue` records the message and queues its delivery once the caller's transaction commits. Nothing
here raises into the caller: a notification must never break card creation or a sync. A message
whose queueing failed (the broker is down) stays pending, and the periodic `resend` queues it again.
A Slack reply waits for its thread's first message: it is sent once that one is, with its ts.
Delivery is at least once: a worker that dies between sending and recording sends again later.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from slack_sdk.errors import SlackApiError

from .clients.scrub import scrub
from .clients.slack import post_message
from .models import Notification

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 15  # then 30, 60, 120: about four minutes from the first try to the fifth
# A pending message this old, with no attempt this recent, was never queued (or its queue was lost).
RESEND_AFTER = timedelta(minutes=5)
# Far longer than a send takes (the SMTP and Slack timeouts): the worker sending it died.
STALE_SENDING = timedelta(minutes=15)
# Slack's answers that no retry can change: fail at once rather than five times.
PERMANENT_SLACK_ERRORS = frozenset({
    "not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired", "no_permission",
    "channel_not_found", "is_archived", "not_in_channel", "no_text", "msg_too_long", "invalid_blocks",
})  # fmt: skip


# --- queueing -------------------------------------------------------------------------------------------------
def enqueue(
    *, kind: str, to: str | Sequence[str], body: str, subject: str = "", reply_to: Notification | None = None
) -> Notification:
    """Record a message and queue it after the surrounding transaction commits.

    `to` is email addresses (a list, or one string) or a Slack channel. A message that cannot even be
    recorded is logged and returned unsaved, marked failed.
    """
    try:
        notification = Notification(
            kind=kind, to=recipients(to), subject=one_line(subject), body=body, reply_to=reply_to
        )
        notification.full_clean(exclude=["reply_to"])
        with transaction.atomic():  # a savepoint: a failed insert leaves the caller's transaction usable
            notification.save()
    except Exception as exc:  # noqa: BLE001 - never into the caller
        log.exception("could not record a %s notification to %s", kind, to)
        return Notification(kind=kind, to=str(to), subject=str(subject), body=str(body),
                            status=Notification.Status.FAILED, last_error=describe(exc))  # fmt: skip
    # A reply is queued too: if its thread's first message is not sent yet, the reply's delivery does nothing
    # and that message's, once sent, queues the reply again; whichever comes last finds both ready.
    queue_after_commit(notification.pk)
    return notification


def recipients(to: str | Sequence[str]) -> str:
    return to.strip() if isinstance(to, str) else ", ".join(a.strip() for a in to if a.strip())


def one_line(subject: str) -> str:
    """A header cannot hold a line break (Django refuses the message): whitespace runs become one space."""
    return " ".join(subject.split())


def queue_after_commit(notification_id: int) -> None:
    transaction.on_commit(lambda: queue(notification_id))


def queue(notification_id: int) -> None:
    """Hand a message to the notifications queue; if the broker is down it stays pending for the resend."""
    from .tasks import send_notification  # the tasks module imports this one

    try:
        # No publish retries: the resend is the retry, and the caller must not wait on a dead broker.
        send_notification.apply_async(args=[notification_id], retry=False)
    except Exception:  # noqa: BLE001 - never into the caller
        log.warning("could not queue notification %s; it stays pending and is resent later", notification_id,
                    exc_info=True)  # fmt: skip


# --- delivery -----------------------------------------------------------------------------------------------------
def deliver(notification_id: int) -> float | None:
    """Try to send one message once. Returns the seconds to wait before trying again, or None when done
    (sent, failed for good, or not this delivery's to send)."""
    notification = claim(notification_id)
    if notification is None:
        return None
    try:
        send(notification)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
        return record_failure(notification, exc)
    record_sent(notification)
    return None


def claim(notification_id: int) -> Notification | None:
    """Mark a pending message as being sent, atomically: a message queued twice goes out once.

    A reply is only claimed once its thread's first message is sent.
    """
    ready = Q(reply_to__isnull=True) | Q(reply_to__status=Notification.Status.SENT)
    taken = (
        Notification.objects.filter(ready, pk=notification_id, status=Notification.Status.PENDING)
        .update(status=Notification.Status.SENDING, attempts=F("attempts") + 1, attempted_at=timezone.now())
    )  # fmt: skip
    if not taken:
        log.debug("notification %s: not pending or not ready; nothing to send", notification_id)
        return None
    return Notification.objects.select_related("reply_to").get(pk=notification_id)


def send(notification: Notification) -> None:
    if notification.kind == Notification.Kind.EMAIL:
        send_email(notification)
    else:
        thread = notification.reply_to.slack_ts if notification.reply_to else None
        notification.slack_ts = post_message(channel=notification.to, text=notification.body, thread_ts=thread)


def send_email(notification: Notification) -> None:
    # Django's SMTP backend waits forever by default: a dead mail server must not hold a worker.
    connection = get_connection(timeout=settings.EMAIL_TIMEOUT or settings.UPSTREAM_READ_TIMEOUT)
    message = EmailMessage(
        subject=notification.subject, body=notification.body, to=notification.addresses, connection=connection
    )
    message.send()


def record_sent(notification: Notification) -> None:
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.SENT, sent_at=now, slack_ts=notification.slack_ts
    )
    log.info("notification %s sent (%s to %s)", notification.pk, notification.kind, notification.to)
    for reply in notification.replies.filter(status=Notification.Status.PENDING).values_list("pk", flat=True):
        queue_after_commit(reply)


def record_failure(notification: Notification, exc: Exception) -> float | None:
    """Back to pending with a delay for the next try, or failed for good (after the last try, or on an error
    no retry can fix)."""
    error = describe(exc)
    final = notification.attempts >= MAX_ATTEMPTS or is_permanent(exc)
    status = Notification.Status.FAILED if final else Notification.Status.PENDING
    Notification.objects.filter(pk=notification.pk).update(status=status, last_error=error)
    if not final:
        log.warning("notification %s: try %s failed, retrying: %s", notification.pk, notification.attempts, error)
        return RETRY_BASE_SECONDS * 2 ** (notification.attempts - 1) * random.uniform(0.75, 1.25)
    log.error("notification %s failed after %s tries: %s", notification.pk, notification.attempts, error)
    fail_replies(Notification.objects.filter(reply_to=notification))
    return None


def is_permanent(exc: Exception) -> bool:
    return isinstance(exc, SlackApiError) and exc.response.get("error") in PERMANENT_SLACK_ERRORS


def describe(exc: Exception) -> str:
    return scrub(f"{type(exc).__name__}: {exc}")[:2000]


def fail_replies(replies) -> int:
    return replies.filter(status=Notification.Status.PENDING).update(
        status=Notification.Status.FAILED, last_error="not sent: the first message of its thread failed"
    )


# --- the periodic resend and the admin's "send again" --------------------------------------------------------------
def resend() -> int:
    """Queue again what is stuck: pending for a while with no try lately (its queueing failed or was lost), or
    "being sent" for far longer than a send takes (its worker died). Returns how many were queued."""
    now = timezone.now()
    stale = Notification.objects.filter(status=Notification.Status.SENDING, attempted_at__lt=now - STALE_SENDING)
    stale.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=Notification.Status.FAILED, last_error="its worker stopped while sending it"
    )
    stale.update(status=Notification.Status.PENDING)
    fail_replies(Notification.objects.filter(reply_to__status=Notification.Status.FAILED))
    quiet = Q(attempted_at__isnull=True) | Q(attempted_at__lt=now - RESEND_AFTER)
    ready = Q(reply_to__isnull=True) | Q(reply_to__status=Notification.Status.SENT)
    stuck = Notification.objects.filter(
        quiet, ready, status=Notification.Status.PENDING, created_at__lt=now - RESEND_AFTER
    )
    ids = list(stuck.order_by("created_at").values_list("pk", flat=True))
    for notification_id in ids:
        queue(notification_id)
    if ids:
        log.info("resent %s stuck notification(s)", len(ids))
    return len(ids)


def send_again(*, ids: list[int]) -> int:
    """Failed messages get five new tries (after their cause was fixed: a mail server, a token)."""
    count = Notification.objects.filter(pk__in=ids, status=Notification.Status.FAILED).update(
        status=Notification.Status.PENDING, attempts=0, attempted_at=None
    )
    for notification_id in ids:
        queue_after_commit(notification_id)
    return count
