"""Notifications: the new-cards digest and Slack messages, delivery with retries, failures recorded, the resend."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cards.models import Card, TeamMember
from cards.notifications import card_failed, new_cards
from sandbox import environment
from t5g import notify
from t5g.models import Notification
from t5g.tasks import resend_notifications, send_notification
from tests.factories import make_case
from tests.processes import celery_worker, free_port, wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def notifying(upstreams, settings, eager, mailoutbox):
    """The sandbox's Slack, channels of this test's own (the sandbox is shared), and two addresses."""
    suffix = uuid.uuid4().hex[:8]
    settings.SLACK_HIGH_CHANNEL = f"#t5g-high-{suffix}"
    settings.SLACK_LOW_CHANNEL = f"#t5g-low-{suffix}"
    settings.NOTIFY_EMAILS = ["field@example.com", "lead@example.com"]
    settings.EMAIL_SUBJECT_PREFIX = "[T5G]"
    return upstreams


@pytest.fixture
def member(upstreams):
    """A team member as the sandbox's team has them (their Slack id is real there)."""
    m = upstreams.get("team")[0]
    return TeamMember.objects.create(name=m["name"], jira_account_id=m["jira_account_id"], slack_id=m["slack_id"])


def new_card(number: str, *, severity: int, member: TeamMember | None = None, **case_fields) -> Card:
    case = make_case(number, severity=severity, **case_fields)
    return Card.objects.create(
        key=f"KNIECO-{number[-5:]}", case=case, jira_status="To Do", status="New",
        assignee=member.name if member else "", assignee_account_id=member.jira_account_id if member else "",
    )  # fmt: skip


def posted(sandbox, channel: str) -> list[dict]:
    return [m for m in sandbox.get("slack") if m["channel"] == channel]


def test_it_sends_one_digest_and_a_slack_message_per_card_by_severity(
    notifying, settings, member, mailoutbox, django_capture_on_commit_callbacks
):
    urgent = new_card("01900001", severity=1, member=member, account="Acme Telco", summary="Pods restart",
                      description="Since the upgrade <all> pods restart & crash.")  # fmt: skip
    normal = new_card("01900002", severity=3, account="Globex", summary="Slow console", description="It is slow.")

    with django_capture_on_commit_callbacks(execute=True):
        new_cards(keys=[urgent.key, normal.key])

    (email,) = mailoutbox
    assert email.subject == "[T5G] New cards: 01900001, 01900002"
    assert email.to == settings.NOTIFY_EMAILS
    for expected in [
        f"{settings.JIRA_URL}/browse/{urgent.key}", "Case: 01900001 (https://access.redhat.com/support/cases/#/case/01900001)",
        "Account: Acme Telco", "Summary: Pods restart", "Severity: Urgent", f"Assignee: {member.name}",
        "Since the upgrade <all> pods restart & crash.",
        f"{settings.JIRA_URL}/browse/{normal.key}", "Account: Globex", "Severity: Normal", "Assignee: not assigned",
        "It is slow.",
    ]:  # fmt: skip
        assert expected in email.body
    high, low = posted(notifying, settings.SLACK_HIGH_CHANNEL), posted(notifying, settings.SLACK_LOW_CHANNEL)
    (message, reply) = high
    assert f"<{settings.JIRA_URL}/browse/{urgent.key}|{urgent.key}>" in message["text"]
    assert "01900001" in message["text"] and "Urgent" in message["text"] and "Acme Telco" in message["text"]
    assert f"Assigned to <@{member.slack_id}>" in message["text"]
    assert message["thread_ts"] is None
    assert reply["thread_ts"] == message["ts"]
    assert "Since the upgrade &lt;all&gt; pods restart &amp; crash." in reply["text"]  # shown as typed
    assert [m["thread_ts"] is None for m in low] == [True, False]
    assert "Assigned to not assigned" in low[0]["text"] and "Globex" in low[0]["text"]
    rows = Notification.objects.all()
    assert rows.count() == 5 and set(rows.values_list("status", flat=True)) == {"sent"}
    assert Notification.objects.get(slack_ts=message["ts"]).replies.get().slack_ts == reply["ts"]


def test_it_mentions_an_assignee_found_by_name(notifying, settings, member, django_capture_on_commit_callbacks):
    card = new_card("01900003", severity=2)
    Card.objects.filter(pk=card.pk).update(assignee=member.name)  # JIRA gave no account id

    with django_capture_on_commit_callbacks(execute=True):
        new_cards(keys=[card.key])

    (message,) = posted(notifying, settings.SLACK_HIGH_CHANNEL)  # no description, no reply
    assert f"<@{member.slack_id}>" in message["text"]


def test_it_records_a_failing_mail_server_and_still_posts_to_slack(
    notifying, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    card = new_card("01900004", severity=4, description="")

    with django_capture_on_commit_callbacks(execute=True):
        new_cards(keys=[card.key])  # does not raise

    email = Notification.objects.get(kind="email")
    assert (email.status, email.attempts) == ("failed", notify.MAX_ATTEMPTS)
    assert "ConnectionRefusedError" in email.last_error and email.sent_at is None
    assert Notification.objects.get(kind="slack").status == "sent"  # no description: no reply
    assert len(posted(notifying, settings.SLACK_LOW_CHANNEL)) == 1


def test_it_records_a_slack_error_and_fails_the_thread_at_once(
    notifying, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SLACK_TOKEN = "xoxb-not-the-token"
    card = new_card("01900005", severity=1, description="Ping fails.")

    with django_capture_on_commit_callbacks(execute=True):
        new_cards(keys=[card.key])

    message = Notification.objects.get(kind="slack", reply_to=None)
    assert (message.status, message.attempts) == ("failed", 1)  # a bad token is not retried
    assert "invalid_auth" in message.last_error
    assert message.replies.get().status == "failed"
    assert posted(notifying, settings.SLACK_HIGH_CHANNEL) == []
    assert len(mailoutbox) == 1


def test_it_retries_a_slack_outage_and_then_sends(notifying, settings, django_capture_on_commit_callbacks):
    notifying.faults({"path": "/slack/api/chat.postMessage", "kind": "error", "status": 503, "count": 2})

    with django_capture_on_commit_callbacks(execute=True):
        sent = notify.enqueue(kind="slack", to=settings.SLACK_LOW_CHANNEL, body="hello")

    sent.refresh_from_db()
    assert (sent.status, sent.attempts) == ("sent", 3)
    assert "503" in sent.last_error  # the last failure stays on record
    assert [m["text"] for m in posted(notifying, settings.SLACK_LOW_CHANNEL)] == ["hello"]


def test_it_sends_a_message_queued_twice_once(notifying, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = notify.enqueue(kind="slack", to=settings.SLACK_LOW_CHANNEL, body="once")
    send_notification.delay(sent.pk)  # a redelivery, or the resend racing the first try

    assert len(posted(notifying, settings.SLACK_LOW_CHANNEL)) == 1
    sent.refresh_from_db()
    assert (sent.status, sent.attempts) == ("sent", 1)


def test_it_warns_in_the_low_channel_when_a_card_could_not_be_created(
    notifying, settings, django_capture_on_commit_callbacks
):
    case = make_case("01900006", severity=1, account="Initech")

    with django_capture_on_commit_callbacks(execute=True):
        card_failed(case=case, error="JIRA create issue: HTTP 400 " + "x" * 1000)

    (message,) = posted(notifying, settings.SLACK_LOW_CHANNEL)
    assert message["text"].startswith(":warning:")
    assert "01900006" in message["text"] and "Initech" in message["text"] and "HTTP 400" in message["text"]
    assert len(message["text"]) < 600  # the error is trimmed
    assert posted(notifying, settings.SLACK_HIGH_CHANNEL) == []


def test_it_skips_what_is_not_configured(upstreams, settings, eager, mailoutbox, django_capture_on_commit_callbacks):
    settings.NOTIFY_EMAILS, settings.SLACK_HIGH_CHANNEL, settings.SLACK_LOW_CHANNEL = [], "", ""
    card = new_card("01900007", severity=1)

    with django_capture_on_commit_callbacks(execute=True):
        new_cards(keys=[card.key])
        card_failed(case=card.case, error="boom")

    assert not Notification.objects.exists() and mailoutbox == []


def test_it_keeps_a_message_pending_when_the_broker_is_down(
    notifying, settings, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("Redis is down")

    monkeypatch.setattr(send_notification, "apply_async", broker_down)
    card = new_card("01900008", severity=3)

    with django_capture_on_commit_callbacks(execute=True):
        new_cards(keys=[card.key])  # does not raise

    assert set(Notification.objects.values_list("status", flat=True)) == {"pending"}


def test_it_resends_what_was_left_pending(notifying, settings, mailoutbox, django_capture_on_commit_callbacks):
    card = new_card("01900009", severity=2, description="Nodes reboot.")
    with django_capture_on_commit_callbacks(execute=False):  # committed, but never queued: the broker was down
        new_cards(keys=[card.key])
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    fresh = notify.enqueue(kind="slack", to=settings.SLACK_LOW_CHANNEL, body="just now")  # its own queueing is due

    with django_capture_on_commit_callbacks(execute=True):
        resend_notifications.delay()

    assert set(Notification.objects.exclude(pk=fresh.pk).values_list("status", flat=True)) == {"sent"}
    Notification.objects.get(pk=fresh.pk, status="pending")
    assert len(mailoutbox) == 1
    (message, reply) = posted(notifying, settings.SLACK_HIGH_CHANNEL)
    assert reply["thread_ts"] == message["ts"]  # the reply went after its thread's first message


def test_it_never_raises_into_the_caller(notifying):
    broken = notify.enqueue(kind="pigeon", to="#t5g", body="coo")
    assert broken.pk is None and broken.status == "failed" and "pigeon" in broken.last_error


def test_it_reads_new_cards_in_a_bounded_number_of_queries(notifying, member, django_capture_on_commit_callbacks):
    def selects(count: int) -> int:
        keys = [new_card(f"0191{count}{i:03d}", severity=1 + i % 4, member=member).key for i in range(count)]
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=False):
            new_cards(keys=keys)
        return sum(q["sql"].lstrip().upper().startswith("SELECT") for q in queries.captured_queries)

    assert selects(1) == selects(6) == 2


@pytest.mark.django_db(transaction=True)
def test_it_is_delivered_by_a_worker_from_the_notifications_queue(upstreams, log_dir):
    channel = f"#t5g-worker-{uuid.uuid4().hex[:8]}"
    with celery_worker(log_dir=log_dir, **environment(upstreams.url)):
        sent = notify.enqueue(kind="slack", to=channel, body="from the worker")  # no transaction: queued at once
        wait_for(lambda: Notification.objects.get(pk=sent.pk).status == "sent", timeout=30, what="delivery")
    assert [m["text"] for m in posted(upstreams, channel)] == ["from the worker"]
