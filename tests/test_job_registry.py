"""A job is one declaration in its own app (`<app>/jobs.py`): the core schedules it, refreshes it, checks its
health, shows its freshness and bumps the cache feeds it declares, with nothing written in t5g/."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client, modify_settings
from django.utils.module_loading import import_string
from django_celery_beat.models import PeriodicTask

from t5g.cache import generation
from t5g.models import Refresh, SyncRun
from t5g.sync import registry
from t5g.sync.freshness import source_freshness
from t5g.sync.refresh import run_refresh
from t5g.sync.registry import Job, Schedule
from t5g.sync.runner import run_job
from t5g.sync.schedules import setup_schedules

pytestmark = pytest.mark.django_db


@pytest.fixture
def job_app(settings):
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "tests.jobapp"]
    return registry.get_job("ping")


def test_it_collects_the_job_from_its_app(job_app):
    assert job_app.label == "Ping" and job_app.feeds == ("ping",)
    # Refreshed jobs in their order, the declared one after the sources it comes after.
    assert [job.name for job in registry.refreshed()][-2:] == ["stats", "ping"]


def test_it_forgets_the_job_when_its_app_goes():
    with modify_settings(INSTALLED_APPS={"append": "tests.jobapp"}):
        assert "ping" in registry.discover()
    assert "ping" not in registry.discover()


def test_it_schedules_the_job(job_app):
    assert {"ping_sync", "ping_full_sync"} <= set(setup_schedules())
    ping = PeriodicTask.objects.get(name="ping_sync")
    assert (ping.task, ping.kwargs, ping.interval.every) == ("t5g.run_job", '{"job": "ping"}', 5)
    assert PeriodicTask.objects.get(name="ping_full_sync").kwargs == '{"job": "ping", "full": true}'


def test_it_runs_the_job_and_bumps_its_feeds(job_app, django_capture_on_commit_callbacks):
    before = generation("ping")
    with django_capture_on_commit_callbacks(execute=True):
        run = run_job(job="ping", trigger="manual")
    assert (run.source, run.outcome, run.fetched) == ("ping", "success", 1)
    assert generation("ping") != before
    assert generation("cases") == "0"  # only what the job declares


def test_it_refreshes_the_job_in_its_place(job_app, upstreams):
    refresh = Refresh.objects.create(steps=len(registry.refreshed()))
    run_refresh(refresh_id=refresh.pk)
    refresh.refresh_from_db()
    assert refresh.state == "done", refresh.error
    assert [step["source"] for step in refresh.summary][-1] == "ping"


# The health checks run in threads with their own database connections: they must see committed rows.
@pytest.mark.django_db(transaction=True)
def test_it_checks_the_health_and_freshness_of_the_job(job_app, settings):
    by_source = {f.source: f for f in source_freshness()}
    assert by_source["ping"].stale and by_source["ping"].label == "Ping"
    SyncRun.objects.create(source="ping", trigger="schedule", outcome="failed", finished_at=SyncRun().started_at)
    settings.METRICS_TOKEN = "monitor"  # /health/ answers monitors and staff
    health = Client(HTTP_AUTHORIZATION="Bearer monitor").get("/health/?format=json").json()
    assert health["Source(source='ping')"].startswith("Unavailable: Ping: last run failed at")


def test_it_syncs_the_job_by_name(job_app):
    out = StringIO()
    call_command("sync", "ping", "--no-progress", stdout=out)
    assert out.getvalue().startswith("ping: fetched 1")


def test_it_refuses_a_job_nobody_declared():
    with pytest.raises(ValueError, match="unknown job 'pong'"):
        run_job(job="pong", trigger="manual")


@pytest.mark.parametrize(
    "declared, problem",
    [
        ([Job("a", "A", "x.y", ("f",), timedelta(1)), Job("a", "A", "x.y", ("f",), timedelta(1))], "job name"),
        (
            [
                Job("a", "A", "x.y", ("f",), timedelta(1), refresh=1),
                Job("b", "B", "x.y", ("f",), timedelta(1), refresh=1),
            ],
            "refresh place",
        ),  # fmt: skip
        (
            [
                Job("a", "A", "x.y", ("f",), timedelta(1), schedules=(Schedule("s", every=1),)),
                Job("b", "B", "x.y", ("f",), timedelta(1), schedules=(Schedule("s", every=2),)),
            ],
            "schedule name",
        ),  # fmt: skip
        ([Job("a", "A", "x.y", (), timedelta(1))], "cache feeds"),
    ],
)
def test_it_refuses_a_mistaken_declaration(declared, problem):
    with pytest.raises(ImproperlyConfigured, match=problem):
        registry._check(declared)


def test_it_refuses_a_schedule_that_is_neither_interval_nor_crontab():
    with pytest.raises(ImproperlyConfigured, match="give `every` minutes or a crontab `minute`"):
        Schedule("nothing")


def test_it_finds_the_service_of_every_declared_job():
    for job in registry.jobs():
        assert callable(import_string(job.service)), job.name
