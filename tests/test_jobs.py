import pytest
from django.core import mail
from django.shortcuts import resolve_url
from django.test import override_settings

from t5g.clients.http import UpstreamError
from t5g.models import Notification, SyncRun
from t5g.sync import runner as jobs
from t5g.sync.locks import JobLock
from tests.conftest import point_at_sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def unreachable_portal(settings):
    """A portal nobody answers on: a real connection failure, quickly."""
    settings.PORTAL_URL = "http://127.0.0.1:9/portal"
    settings.SSO_TOKEN_URL = "http://127.0.0.1:9/token"
    settings.PORTAL_OFFLINE_TOKEN = "x"
    settings.UPSTREAM_RETRIES = 0
    settings.ALERT_EMAILS = ["team@example.com"]
    settings.SLACK_ALERT_CHANNEL = ""
    return settings


def test_it_records_a_successful_run():
    run = jobs.run_job(job="create_cards", trigger="manual", task_id="abc")
    run.refresh_from_db()
    assert (run.source, run.trigger, run.outcome, run.task_id) == ("create_cards", "manual", "success", "abc")
    assert run.finished_at >= run.started_at


def test_it_records_a_failed_run_and_reraises(unreachable_portal):
    with pytest.raises(UpstreamError, match="SSO token"):
        jobs.run_job(job="cases", trigger="schedule")
    run = SyncRun.objects.get()
    assert run.outcome == "failed"
    assert run.error.startswith("UpstreamError: SSO token: ConnectionError")
    assert run.finished_at is not None


def test_it_records_a_failure_that_will_be_retried_without_alerting(unreachable_portal):
    with pytest.raises(UpstreamError):
        jobs.run_job(job="cases", trigger="schedule", final=False)
    assert SyncRun.objects.get().outcome == "retry"
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_it_alerts_once_per_failure_streak_and_on_recovery(
    unreachable_portal, sandbox, eager, django_capture_on_commit_callbacks
):
    # Alerts are queued (delivered by the notifications queue, here in this process once each run commits).
    for _ in range(3):
        with pytest.raises(UpstreamError), django_capture_on_commit_callbacks(execute=True):
            jobs.run_job(job="cases", trigger="schedule")
    assert [m.subject for m in mail.outbox] == ["T5G: Cases sync is failing"]
    assert "The dashboard keeps showing the last good data" in mail.outbox[0].body

    mail.outbox.clear()
    point_at_sandbox(unreachable_portal, sandbox)
    unreachable_portal.CASE_QUERY = "case_number:00000000"  # matches nothing: a quick success
    with django_capture_on_commit_callbacks(execute=True):
        jobs.run_job(job="cases", trigger="schedule")
        jobs.run_job(job="cases", trigger="schedule")
    assert [m.subject for m in mail.outbox] == ["T5G: Cases sync recovered"]


def test_it_queues_alerts_rather_than_sending_them_in_the_job(unreachable_portal, settings):
    """The job only records its alert: a slow mail server or Slack cannot keep it (and its lock) waiting."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nobody answers there
    with pytest.raises(UpstreamError):
        jobs.run_job(job="cases", trigger="schedule")
    alert = Notification.objects.get()
    assert (alert.kind, alert.subject, alert.status) == ("email", "T5G: Cases sync is failing", "pending")


def test_it_refuses_an_unknown_job():
    with pytest.raises(ValueError, match="unknown job 'nope'"):
        jobs.run_job(job="nope", trigger="manual")
    assert not SyncRun.objects.exists()


def test_it_joins_a_run_already_in_progress():
    lock = JobLock("create_cards")
    assert lock.acquire()
    try:
        running = SyncRun.objects.create(source="create_cards", trigger="schedule")
        lock.set_run(running.pk)
        joined = jobs.run_job(job="create_cards", trigger="manual")
        assert joined.pk == running.pk and joined.joined
        assert SyncRun.objects.count() == 1
    finally:
        lock.release()


def test_it_marks_runs_cut_short_by_a_dead_worker_failed():
    dead = SyncRun.objects.create(source="create_cards", trigger="schedule")  # never finished, no lock held
    run = jobs.run_job(job="create_cards", trigger="manual")
    dead.refresh_from_db()
    assert dead.outcome == "failed" and "abandoned" in dead.error
    assert run.outcome == "success"


def test_it_writes_nothing_on_a_dry_run():
    run = jobs.run_job(job="create_cards", trigger="manual", dry_run=True)
    assert run.pk is None
    assert not SyncRun.objects.exists()


def test_it_shows_freshness_on_the_home_page(admin_client, unreachable_portal):
    jobs.run_job(job="create_cards", trigger="manual")
    with pytest.raises(UpstreamError):
        jobs.run_job(job="cases", trigger="manual")
    page = admin_client.get("/").content.decode()
    assert '<tr class="failing">\n      <td>Cases</td>' in page
    assert "<td>Portal → JIRA cards</td>\n      <td>never" not in page


def test_it_requires_sign_in_for_the_home_page(client, settings):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def test_it_marks_a_source_stale_when_it_fails_or_falls_behind(unreachable_portal):
    from datetime import timedelta

    from django.utils import timezone

    from t5g.sync.freshness import source_freshness

    jobs.run_job(job="create_cards", trigger="manual")
    SyncRun.objects.create(
        source="stats", trigger="schedule", outcome="success", finished_at=timezone.now() - timedelta(days=3)
    )
    with pytest.raises(UpstreamError):
        jobs.run_job(job="cases", trigger="manual")
    by_source = {f.source: f for f in source_freshness()}
    assert not by_source["create_cards"].stale
    assert by_source["stats"].stale and not by_source["stats"].failing
    assert by_source["cases"].stale and by_source["cases"].failing
    assert by_source["bugs"].stale  # never synced


def test_it_alerts_a_failure_streak_that_began_with_a_run_cut_short_by_a_dead_worker(unreachable_portal):
    """Found by the soak test (tests/soak.py): the abandoned run opened the streak without an alert, so the
    failures after it counted as already alerted and nobody was ever told."""
    dead = SyncRun.objects.create(source="cases", trigger="schedule")  # its worker was killed mid-run
    for _ in range(2):
        with pytest.raises(UpstreamError):
            jobs.run_job(job="cases", trigger="schedule")
    alerts = Notification.objects.values_list("subject", "body")
    assert [subject for subject, _ in alerts] == ["T5G: Cases sync is failing"]
    assert f"Run {dead.pk} of Cases failed at" in alerts[0][1] and "abandoned" in alerts[0][1]


def test_it_tells_the_recovery_from_a_run_cut_short_by_a_dead_worker_after_its_alert():
    """Not a recovery announced from nothing: the abandoned run was alerted first."""
    SyncRun.objects.create(source="create_cards", trigger="schedule")
    with override_settings(ALERT_EMAILS=["team@example.com"], SLACK_ALERT_CHANNEL=""):
        jobs.run_job(job="create_cards", trigger="manual")
    subjects = list(Notification.objects.order_by("pk").values_list("subject", flat=True))
    assert subjects == ["T5G: portal → JIRA cards sync is failing", "T5G: portal → JIRA cards sync recovered"]
