"""/health/: database, cache, broker, a live worker, beat, and every source's last sync, for monitors and staff."""

import time
from datetime import timedelta

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from t5g.models import FailingRecord, SyncRun
from t5g.sync.registry import refreshed
from t5g.sync.schedules import setup_schedules
from tests.processes import celery_worker, web_server

# The checks run in threads with their own database connections: they must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "health-token"


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


def monitor() -> Client:
    """A monitor presenting the metrics token, as Prometheus does."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


def healthy_sources() -> None:
    now = timezone.now()
    SyncRun.objects.bulk_create(
        SyncRun(source=job.name, trigger="schedule", outcome="success", finished_at=now) for job in refreshed()
    )


def beat_ran(minutes_ago: int = 1) -> None:
    setup_schedules()
    PeriodicTask.objects.filter(name="case_sync").update(last_run_at=timezone.now() - timedelta(minutes=minutes_ago))


def check(response, name: str) -> str:
    return next(v for k, v in response.json().items() if k.startswith(name))


def test_it_is_healthy_with_everything_running(log_dir):
    healthy_sources()
    beat_ran()
    with celery_worker(log_dir=log_dir):
        response = monitor().get("/health/?format=json")
    assert response.status_code == 200, response.json()
    assert set(response.json().values()) == {"OK"}
    assert len(response.json()) == 5 + len(refreshed())


def test_it_shows_a_failing_source_as_failing(log_dir):
    healthy_sources()
    SyncRun.objects.create(source="cards", trigger="schedule", outcome="failed", finished_at=timezone.now())
    beat_ran()
    with celery_worker(log_dir=log_dir):
        response = monitor().get("/health/", HTTP_ACCEPT="application/json")
    assert response.status_code == 500
    assert check(response, "Source(source='cards')").startswith("Unavailable: Cards: last run failed at")
    assert check(response, "Source(source='cases')") == "OK"


def test_it_says_when_no_worker_answers_and_beat_is_silent():
    healthy_sources()
    beat_ran(minutes_ago=90)
    response = monitor().get("/health/?format=json")
    assert response.status_code == 500
    assert check(response, "Worker") == "Unavailable: Celery workers unavailable"
    assert "is beat running?" in check(response, "Beat")
    assert check(response, "Database") == "OK" and check(response, "Broker") == "OK"


def test_it_warns_about_a_source_that_never_synced():
    beat_ran()
    response = monitor().get("/health/?format=json")
    assert check(response, "Source(source='stats')") == "Warning: Stats: stale, last success never"


def test_it_warns_about_records_a_source_cannot_read_for_more_than_a_day():
    healthy_sources()
    beat_ran()
    now = timezone.now()
    FailingRecord.objects.create(source="issues", key="01000001", reason="HTTP 403", since=now - timedelta(hours=2))
    FailingRecord.objects.create(source="details", key="01000002", reason="HTTP 404", since=now - timedelta(days=2))
    response = monitor().get("/health/?format=json")
    assert check(response, "Source(source='issues')") == "OK"  # a refusal of a few hours: shown on the home page
    assert check(response, "Source(source='details')").startswith(
        "Warning: Details: 1 record(s) cannot be read, the first since"
    )


def test_it_keeps_readiness_to_what_pages_need():
    SyncRun.objects.create(source="cards", trigger="schedule", outcome="failed", finished_at=timezone.now())
    response = Client().get("/health/ready/?format=json")
    assert response.status_code == 200
    assert set(response.json().values()) == {"OK"}


def test_it_gives_beat_time_to_record_its_first_runs(settings):
    settings.HEALTH_CACHE_SECONDS = 0  # asked twice, about two states
    setup_schedules()  # just made: beat has not saved a run yet
    assert check(monitor().get("/health/?format=json"), "Beat") == "OK"
    PeriodicTask.objects.update(date_changed=timezone.now() - timedelta(hours=1))
    silent = check(monitor().get("/health/?format=json"), "Beat")
    assert silent == "Unavailable: no schedule has ever run: is beat running?"


# --- who may see it, and how often it runs -------------------------------------------------------------------------
def test_it_shows_everything_only_to_monitors_and_staff(settings):
    User = get_user_model()
    anonymous = Client().get("/health/?format=json")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Bearer"
    assert b"Database" not in anonymous.content
    assert Client(HTTP_AUTHORIZATION="Bearer wrong").get("/health/?format=json").status_code == 401
    member, staff = Client(), Client()
    member.force_login(User.objects.create_user("member"))
    staff.force_login(User.objects.create_user("boss", is_staff=True))
    assert member.get("/health/?format=json").status_code == 403
    for client in (staff, monitor()):
        assert "Database(alias='default')" in client.get("/health/?format=json").json()
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", ["127.0.0.1"]  # a monitor known by its address
    assert "Database(alias='default')" in Client().get("/health/?format=json").json()


def test_it_runs_its_checks_at_most_once_in_ten_seconds(settings):
    settings.HEALTH_CACHE_SECONDS = 10
    healthy_sources()
    beat_ran()
    started = time.monotonic()
    first = monitor().get("/health/?format=json")  # no worker: its ping waits its 2 s
    assert time.monotonic() - started >= 2
    SyncRun.objects.create(source="cards", trigger="schedule", outcome="failed", finished_at=timezone.now())
    started = time.monotonic()
    again = Client(HTTP_ACCEPT="text/plain", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").get("/health/")
    assert time.monotonic() - started < 1  # answered from the last result, in any format
    assert again.status_code == first.status_code == 500
    assert "Source(source='cards'): OK" in again.content.decode()
    assert again.content.decode().count("Unavailable: Celery workers unavailable") == 1


def test_it_never_shows_the_public_an_error_s_text(log_dir):
    # A database that cannot be reached, named by host and user, as a misconfigured deploy would.
    database = "postgres://leaky-user:hunter2@db-host.invalid:5432/t5g"
    with web_server(log_dir=log_dir, DATABASE_URL=database, METRICS_TOKEN=TOKEN) as url:
        ready = requests.get(f"{url}/health/ready/?format=json", timeout=30)
        full = requests.get(f"{url}/health/?format=json", timeout=30)
        html = requests.get(f"{url}/health/ready/", timeout=30)
        monitored = requests.get(f"{url}/health/?format=json", headers={"Authorization": f"Bearer {TOKEN}"},
                                 timeout=30)  # fmt: skip
    assert ready.status_code == 500
    assert ready.json()["Database(alias='default')"] == "Unavailable: unavailable"
    assert next(v for k, v in ready.json().items() if k.startswith("Cache")) == "OK"
    assert full.status_code == 401
    for response in (ready, full, html):
        assert "db-host" not in response.text and "leaky-user" not in response.text
    # Monitors may see what went wrong, never the password.
    assert monitored.status_code == 500 and "hunter2" not in monitored.text
