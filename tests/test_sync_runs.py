"""Runs under real conditions: a Celery worker, two triggers at once, a killed worker, Redis going away."""

import signal
import threading
import time

import pytest
from django.test import override_settings

from cases.models import Case, Detail
from t5g.models import SyncRun
from t5g.sync.runner import run_job
from t5g.sync.tasks import run_job as run_job_task
from tests.conftest import redis_settings
from tests.processes import RedisServer, celery_worker, wait_for, worker_env

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_runs_one_job_once_when_triggered_twice(upstreams, log_dir):
    upstreams.faults({"path": "/portal/hydra/rest/search", "kind": "latency", "ms": 2000})
    with celery_worker(log_dir=log_dir, concurrency=2, **worker_env(upstreams)):
        first = run_job_task.delay("cases", trigger="manual")
        time.sleep(0.5)
        second = run_job_task.delay("cases", trigger="manual")
        assert first.get(timeout=60) == second.get(timeout=60)
    assert SyncRun.objects.filter(source="cases").count() == 1
    assert Case.objects.count() == upstreams.state()["cases"]


def test_it_recovers_from_a_worker_killed_mid_run(upstreams, log_dir):
    run_job(job="cases", trigger="manual")
    total = Case.objects.count()
    upstreams.faults({"path": "/portal/hydra/rest/v1/", "kind": "latency", "ms": 60})
    env = worker_env(upstreams, LOCK_TTL="2")
    with celery_worker(log_dir=log_dir, name="doomed", **env) as worker:
        run_job_task.delay("details", trigger="manual")
        wait_for(lambda: Detail.objects.count() >= 100, timeout=60, what="the first batches of details")
        worker.stop(signal.SIGKILL)
    written = Detail.objects.count()
    assert 0 < written < total
    assert written % 100 == 0  # whole batches only: one transaction each
    killed = SyncRun.objects.get(source="details")
    assert killed.outcome == "running"

    upstreams.faults()
    time.sleep(2.5)  # the dead worker's lock expires by itself (LOCK_TTL)
    with celery_worker(log_dir=log_dir, name="healthy", **env):
        run_id = run_job_task.delay("details", trigger="manual").get(timeout=120)
    assert SyncRun.objects.get(pk=run_id).outcome == "success"
    killed.refresh_from_db()
    assert killed.outcome == "failed" and "abandoned" in killed.error
    assert Detail.objects.count() == total


def test_it_finishes_a_run_when_redis_goes_away(upstreams, log_dir):
    run_job(job="cases", trigger="manual")
    upstreams.faults({"path": "/portal/hydra/rest/v1/", "kind": "latency", "ms": 40})
    redis = RedisServer(log_dir)
    outcome = {}
    with override_settings(**redis_settings(redis.url)):

        def details():
            try:
                outcome["run"] = run_job(job="details", trigger="manual")
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                outcome["error"] = exc

        thread = threading.Thread(target=details)
        thread.start()
        wait_for(lambda: SyncRun.objects.filter(source="details").exists(), timeout=30, what="the run to start")
        redis.stop()
        thread.join(timeout=120)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["run"].outcome == "success"
    assert Detail.objects.count() == Case.objects.count() == upstreams.state()["cases"]
