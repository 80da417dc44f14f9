"""/health/: database, cache, broker, a live worker, beat, and every source's last sync."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from t5g.models import FailingRecord, SyncRun
from t5g.sync.registry import refreshed
from t5g.sync.schedules import setup_schedules
from tests.processes import celery_worker

# The checks run in threads with their own database connections: they must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


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


def test_it_is_healthy_with_everything_running_and_needs_no_sign_in(log_dir):
    healthy_sources()
    beat_ran()
    with celery_worker(log_dir=log_dir):
        response = Client().get("/health/?format=json")
    assert response.status_code == 200, response.json()
    assert set(response.json().values()) == {"OK"}
    assert len(response.json()) == 5 + len(refreshed())


def test_it_shows_a_failing_source_as_failing(log_dir):
    healthy_sources()
    SyncRun.objects.create(source="cards", trigger="schedule", outcome="failed", finished_at=timezone.now())
    beat_ran()
    with celery_worker(log_dir=log_dir):
        response = Client().get("/health/", HTTP_ACCEPT="application/json")
    assert response.status_code == 500
    assert check(response, "Source(source='cards')").startswith("Unavailable: Cards: last run failed at")
    assert check(response, "Source(source='cases')") == "OK"


def test_it_says_when_no_worker_answers_and_beat_is_silent():
    healthy_sources()
    beat_ran(minutes_ago=90)
    response = Client().get("/health/?format=json")
    assert response.status_code == 500
    assert check(response, "Worker") == "Unavailable: Celery workers unavailable"
    assert "is beat running?" in check(response, "Beat")
    assert check(response, "Database") == "OK" and check(response, "Broker") == "OK"


def test_it_warns_about_a_source_that_never_synced():
    beat_ran()
    response = Client().get("/health/?format=json")
    assert check(response, "Source(source='stats')") == "Warning: Stats: stale, last success never"


def test_it_warns_about_records_a_source_cannot_read_for_more_than_a_day():
    healthy_sources()
    beat_ran()
    now = timezone.now()
    FailingRecord.objects.create(source="issues", key="01000001", reason="HTTP 403", since=now - timedelta(hours=2))
    FailingRecord.objects.create(source="details", key="01000002", reason="HTTP 404", since=now - timedelta(days=2))
    response = Client().get("/health/?format=json")
    assert check(response, "Source(source='issues')") == "OK"  # a refusal of a few hours: shown on the home page
    assert check(response, "Source(source='details')").startswith(
        "Warning: Details: 1 record(s) cannot be read, the first since"
    )


def test_it_keeps_readiness_to_what_pages_need():
    SyncRun.objects.create(source="cards", trigger="schedule", outcome="failed", finished_at=timezone.now())
    response = Client().get("/health/ready/?format=json")
    assert response.status_code == 200
    assert set(response.json().values()) == {"OK"}


def test_it_gives_beat_time_to_record_its_first_runs():
    setup_schedules()  # just made: beat has not saved a run yet
    assert check(Client().get("/health/?format=json"), "Beat") == "OK"
    PeriodicTask.objects.update(date_changed=timezone.now() - timedelta(hours=1))
    silent = check(Client().get("/health/?format=json"), "Beat")
    assert silent == "Unavailable: no schedule has ever run: is beat running?"
