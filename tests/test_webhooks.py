"""JIRA's webhooks: /hooks/jira/ authenticates, coalesces and re-reads through the normal sync path; the sandbox
sends them as JIRA does (registrations, signatures, faults); dropped ones are caught by the schedule."""

from __future__ import annotations

import hashlib
import hmac
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_redis import get_redis_connection

from cards.models import Card, CardComment
from t5g.models import SyncRun
from t5g.sync.hooks import _keys, last_received, reread
from t5g.sync.runner import run_job
from tests.processes import celery_worker, wait_for, worker_env

SECRET = "hook-secret-for-tests"


def signed_post(client, body: dict, *, secret: str = SECRET, **extra):
    raw = json.dumps(body).encode()
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return client.post("/hooks/jira/", raw, content_type="application/json", HTTP_X_HUB_SIGNATURE=f"sha256={digest}",
                       **extra)  # fmt: skip


def event(key: str, name: str = "comment_created") -> dict:
    return {"webhookEvent": name, "issue": {"id": "1", "key": key, "fields": {}}}


def pending() -> set[str]:
    return {k.decode() for k in get_redis_connection("default").smembers(_keys("jira")[0])}


@pytest.fixture
def hooks_on(settings, upstreams):
    settings.JIRA_WEBHOOK_SECRET = SECRET
    settings.WEBHOOK_COALESCE_SECONDS = 1.0
    get_redis_connection("default").delete(*_keys("jira"))
    yield upstreams
    get_redis_connection("default").delete(*_keys("jira"))


def synced_card(upstreams) -> Card:
    run_job(job="cards", trigger="manual")
    return Card.objects.filter(removed_at__isnull=True).order_by("key").first()


# --- authentication ----------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_refuses_calls_without_or_with_a_wrong_signature_and_reads_nothing(client, hooks_on):
    raw = json.dumps(event("KNIECO-1")).encode()
    assert client.post("/hooks/jira/", raw, content_type="application/json").status_code == 401
    assert signed_post(client, event("KNIECO-1"), secret="not-the-secret").status_code == 401
    bad = client.post("/hooks/jira/", raw, content_type="application/json", HTTP_X_HUB_SIGNATURE="sha1=00")
    assert bad.status_code == 401
    assert client.post("/hooks/jira/?token=wrong", raw, content_type="application/json").status_code == 401
    assert pending() == set() and last_received("jira") is None
    assert hooks_on.requests()["jira"] == 0


@pytest.mark.django_db
def test_it_is_off_without_a_secret(client, settings):
    settings.JIRA_WEBHOOK_SECRET = ""
    answer = signed_post(client, event("KNIECO-1"))
    assert answer.status_code == 404
    assert "JIRA_WEBHOOK_SECRET" in answer.json()["error"]


@pytest.mark.django_db
def test_it_takes_the_secret_in_the_url_from_an_old_server(client, hooks_on):
    raw = json.dumps(event("KNIECO-7")).encode()
    answer = client.post(f"/hooks/jira/?token={SECRET}", raw, content_type="application/json")
    assert answer.status_code == 202
    assert pending() == {"KNIECO-7"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", json.dumps({"webhookEvent": "jira:issue_updated"}).encode(),
     json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"key": "KNIECO-1; DROP"}}).encode()],
)  # fmt: skip
def test_it_answers_400_to_a_signed_body_that_names_no_issue(client, hooks_on, body):
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = client.post("/hooks/jira/", body, content_type="application/json", HTTP_X_HUB_SIGNATURE=f"sha256={digest}")
    assert answer.status_code == 400
    assert pending() == set()


@pytest.mark.django_db
def test_it_ignores_events_it_does_not_follow(client, hooks_on):
    answer = signed_post(client, {"webhookEvent": "sprint_started", "sprint": {"id": 1}})
    assert answer.status_code == 202
    assert pending() == set()


# --- coalescing and the re-read ----------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_it_rereads_a_card_once_for_a_burst_of_fifty_calls(client, hooks_on, log_dir):
    card = synced_card(hooks_on)
    hooks_on.post(f"cards/{card.key}/comments", {"body": "a comment the burst is about"})
    hooks_on.reset_requests()
    for _ in range(50):
        assert signed_post(client, event(card.key)).status_code == 202
    assert pending() == {card.key}
    assert last_received("jira")["count"] == 50
    with celery_worker(log_dir=log_dir, **worker_env(hooks_on)):
        wait_for(lambda: SyncRun.objects.filter(source="card_hooks", outcome="success").exists(), timeout=30,
                 what="the re-read")  # fmt: skip
    runs = SyncRun.objects.filter(source="card_hooks")
    assert runs.count() == 1 and runs.get().trigger == "webhook"
    assert not SyncRun.objects.filter(source="issue_hooks").exists()  # the card is no linked issue: nothing to run
    reads = {k: v for k, v in hooks_on.requests().items() if k.startswith("GET ") and "/issue/" in k}
    assert sum(reads.values()) == 1, reads
    assert CardComment.objects.filter(card=card, body="a comment the burst is about").exists()
    assert pending() == set()


@pytest.mark.django_db(transaction=True)
def test_it_marks_a_card_removed_when_jira_no_longer_shows_it(hooks_on):
    card = synced_card(hooks_on)
    get_redis_connection("default").sadd(_keys("jira")[0], card.key, "KNIECO-999999")
    hooks_on.faults({"path": f"/jira/rest/api/2/issue/{card.key}", "kind": "error", "status": 404})
    reread(upstream="jira")
    card.refresh_from_db()
    assert card.removed_at is not None and not card.active
    assert not Card.objects.filter(key="KNIECO-999999").exists()


# --- the sandbox sends them; a dropped one is caught by the schedule ------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_it_registers_once_and_shows_and_removes_its_webhook(hooks_on, settings, live_server):
    settings.SITE_URL = live_server.url
    out = StringIO()
    call_command("jira_webhook", "register", stdout=out)
    call_command("jira_webhook", "register", stdout=out)
    assert "already registered" in out.getvalue()
    registrations = hooks_on.get("webhooks")["registrations"]
    assert len(registrations) == 1 and registrations[0]["url"] == f"{live_server.url}/hooks/jira/"
    assert registrations[0]["secret"] is True and SECRET not in out.getvalue()
    status = StringIO()
    call_command("jira_webhook", "status", stdout=status)
    assert "enabled" in status.getvalue() and "no call received yet" in status.getvalue()
    call_command("jira_webhook", "remove", stdout=StringIO())
    assert hooks_on.get("webhooks")["registrations"] == []


@pytest.mark.django_db
def test_it_registers_nothing_in_read_only_mode(hooks_on, settings):
    settings.READ_ONLY = True
    with pytest.raises(CommandError):
        call_command("jira_webhook", "register", stdout=StringIO())
    assert hooks_on.get("webhooks")["registrations"] == []
    assert hooks_on.requests()["writes"] == 0


@pytest.mark.django_db(transaction=True)
def test_it_shows_a_sandbox_comment_in_seconds_and_the_schedule_catches_a_dropped_one(
    hooks_on, settings, live_server, log_dir
):
    settings.SITE_URL = live_server.url
    card = synced_card(hooks_on)
    call_command("jira_webhook", "register", stdout=StringIO())
    try:
        with celery_worker(log_dir=log_dir, **worker_env(hooks_on)):
            hooks_on.post(f"cards/{card.key}/comments", {"body": "seen through a webhook"})
            wait_for(lambda: CardComment.objects.filter(card=card, body="seen through a webhook").exists(),
                     timeout=30, what="the webhook's re-read")  # fmt: skip
            hooks_on.faults({"path": "/hooks/", "kind": "hook_drop"})
            hooks_on.post(f"cards/{card.key}/comments", {"body": "its webhook was dropped"})
            wait_for(lambda: any(d["outcome"] == "dropped" for d in hooks_on.get("webhooks")["delivered"]),
                     timeout=10, what="the dropped delivery")  # fmt: skip
            assert not CardComment.objects.filter(body="its webhook was dropped").exists()
        run_job(job="cards", trigger="schedule")
        assert CardComment.objects.filter(card=card, body="its webhook was dropped").exists()
    finally:
        call_command("jira_webhook", "remove", stdout=StringIO())


@pytest.mark.django_db
def test_it_shows_the_last_webhook_in_admin(client, admin_client, hooks_on):
    assert "No JIRA webhook received yet" in admin_client.get("/admin/t5g/syncrun/").content.decode()
    signed_post(client, event("KNIECO-42", "jira:issue_updated"))
    page = admin_client.get("/admin/t5g/syncrun/").content.decode()
    assert "Last JIRA webhook received" in page and "jira:issue_updated KNIECO-42" in page
