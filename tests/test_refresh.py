"""Refresh now: one background sync of every source at a time, its progress visible and resumable."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cases.models import Case
from sandbox import environment
from t5g.models import Refresh, SyncRun, UpstreamWrite
from t5g.sync.refresh import HEARTBEAT, run_refresh, start_refresh
from t5g.sync.registry import refreshed
from t5g.sync.schedules import FIRST_REFRESH, schedule_first_refresh
from tests.processes import celery_worker, wait_for, worker_env

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.django_db(transaction=True)
def test_it_refreshes_every_source_in_a_worker_and_shows_the_progress(admin_client, upstreams, log_dir):
    with celery_worker(log_dir=log_dir, **environment(upstreams.url)):
        response = admin_client.post("/refresh/", **HX)
        assert response.status_code == 200
        refresh = Refresh.objects.get()
        assert b"<progress" in response.content and f"/refresh/{refresh.pk}/".encode() in response.content

        def finished():
            widget = admin_client.get(f"/refresh/{refresh.pk}/", **HX).content.decode()
            return widget if 'data-state="done"' in widget or 'data-state="failed"' in widget else None

        widget = wait_for(finished, timeout=90, what="the refresh to finish", interval=0.5)
    refresh.refresh_from_db()
    assert refresh.state == "done", refresh.error
    assert [r["source"] for r in refresh.summary] == [job.name for job in refreshed()]
    assert refresh.summary[0]["created"] == Case.objects.count() > 0
    assert "Refresh now" in widget and "Cases: " in widget  # the button is back, with what changed
    assert SyncRun.objects.filter(trigger="manual", outcome="success").count() == len(refreshed())


@pytest.mark.django_db
def test_it_attaches_to_the_refresh_already_running(admin_client, admin_user):
    running = Refresh.objects.create(state="running", phase="cards", step=2, steps=len(refreshed()))
    response = admin_client.post("/refresh/", **HX)
    assert Refresh.objects.count() == 1
    assert f"/refresh/{running.pk}/" in response.content.decode()
    refresh, started = start_refresh(user=admin_user)
    assert (refresh, started) == (running, False)
    # A reload shows the same bar: the widget is in every page's header.
    page = admin_client.get("/").content.decode()
    assert f"/refresh/{running.pk}/" in page and "Refreshing Cards (3/7)" in page
    # Every source it syncs, the ones done ticked: a fast phase is seen too.
    assert re.search(r'<li class="done">Cases ✓</li><li class="done">Details ✓</li><li class="current"', page)


@pytest.mark.django_db
def test_it_reports_a_failed_source_and_refreshes_the_others(admin_user, upstreams, settings):
    settings.READ_ONLY = True  # a refresh only reads: read-only mode changes nothing for it
    upstreams.faults({"path": "/bugzilla/", "kind": "error", "status": 500})
    refresh = Refresh.objects.create(steps=len(refreshed()), requested_by=admin_user)
    run_refresh(refresh_id=refresh.pk)
    refresh.refresh_from_db()
    assert refresh.state == "failed"
    assert refresh.error == "bugs failed; the other sources were refreshed."
    summary = {r["source"]: r for r in refresh.summary}
    # One sentence a person can act on, with what the pages show meanwhile; the exception is the run's, for staff.
    assert summary["bugs"]["error"] == "Bugzilla answered 500 Internal Server Error; nothing from it yet."
    assert summary["cases"]["created"] > 0 and "error" not in summary["stats"]
    assert "500" in SyncRun.objects.get(source="bugs").error
    assert refresh.percent == 100
    assert not UpstreamWrite.objects.exists() and upstreams.requests()["writes"] == 0


@pytest.mark.django_db
def test_it_gives_up_on_a_refresh_whose_worker_went_away(admin_user):
    Refresh.objects.create(state="running", steps=7, updated_at=timezone.now() - timedelta(hours=1))
    refresh, started = start_refresh(user=admin_user)  # queued on the real broker; no worker needed
    assert started
    assert list(Refresh.objects.values_list("state", flat=True).order_by("pk")) == ["failed", "queued"]


@pytest.mark.django_db
def test_it_needs_a_signed_in_user_and_a_csrf_token(admin_user):
    assert Client().post("/refresh/").status_code == 302  # to sign-in
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(admin_user)
    assert csrf_client.post("/refresh/").status_code == 403
    assert Refresh.objects.count() == 0


@pytest.mark.django_db
def test_it_answers_json_for_scripts(admin_client):
    response = admin_client.post("/refresh/", HTTP_ACCEPT="application/json")
    assert response.status_code == 202
    status = admin_client.get(response["Location"]).json()
    assert status["state"] == "queued" and status["steps"] == len(refreshed())


@pytest.mark.django_db
def test_it_schedules_a_first_refresh_only_on_a_database_that_never_synced():
    from django_celery_beat.models import PeriodicTask

    refresh = schedule_first_refresh()
    task = PeriodicTask.objects.get(name=FIRST_REFRESH)
    assert task.one_off and task.clocked and task.args == f"[{refresh.pk}]"
    assert schedule_first_refresh() is None


@pytest.mark.django_db
def test_it_gives_up_on_a_running_refresh_whose_heartbeat_stopped(admin_client, admin_user):
    """Found by the soak test (tests/soak.py): a refresh whose worker was killed held the button for fifteen
    minutes; every press attached to it and nothing was refreshed."""
    dead = Refresh.objects.create(state="running", steps=7, updated_at=timezone.now() - timedelta(minutes=2))
    assert "Refreshing" not in admin_client.get("/").content.decode()  # the bar ends without anyone pressing
    dead.refresh_from_db()
    assert dead.state == "failed" and "worker went away" in dead.error
    _, started = start_refresh(user=admin_user)
    assert started


@pytest.mark.django_db
def test_a_queued_refresh_may_wait_longer_for_a_free_worker(admin_user):
    queued = Refresh.objects.create(steps=7, updated_at=timezone.now() - timedelta(minutes=2))
    assert start_refresh(user=admin_user) == (queued, False)


@pytest.mark.django_db(transaction=True)
def test_a_running_refresh_says_it_is_alive_while_a_phase_reports_nothing(admin_user, upstreams, log_dir):
    upstreams.faults({"path": "/portal/hydra/rest/search", "kind": "latency", "ms": 30_000, "count": 1})
    with celery_worker(log_dir=log_dir, **worker_env(upstreams)):
        refresh, _ = start_refresh(user=admin_user)
        started = wait_for(lambda: Refresh.objects.filter(pk=refresh.pk, phase="cases").first(), timeout=30,
                           what="the cases phase").updated_at  # fmt: skip
        # The search answers after 30 s: no progress before, only the heartbeat, which beats every HEARTBEAT
        # seconds from the refresh's start (the phase may begin a while after that on a loaded machine).
        wait_for(lambda: Refresh.objects.get(pk=refresh.pk).updated_at > started, timeout=HEARTBEAT + 8,
                 what="a heartbeat")  # fmt: skip
        assert Refresh.objects.get(pk=refresh.pk).current == 0
