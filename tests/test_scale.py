"""Scale-out: two Celery workers on separate queues (sync, notifications) beside one web process.

`make test-scale` runs these with the other integration tests on PostgreSQL and a Redis with a
password; they run in the normal suite too.
"""

import signal
import time
import uuid

import pytest
from celery import group

from cases.models import Case, Detail
from t5g import notify
from t5g.models import Notification, SyncRun
from t5g.sync.runner import run_job
from t5g.sync.tasks import run_job as run_job_task
from tests.processes import celery_worker, wait_for, worker_env

pytestmark = pytest.mark.django_db(transaction=True)


def overlapping(runs) -> list:
    """Pairs of runs of one source that were running at the same time."""
    spans = sorted((r.started_at, r.finished_at, r.pk) for r in runs)
    return [(a, b) for a, b in zip(spans, spans[1:], strict=False) if b[0] < a[1]]


def test_it_routes_syncs_and_notifications_to_their_own_workers(upstreams, log_dir):
    channel = f"#t5g-scale-{uuid.uuid4().hex[:8]}"
    env = worker_env(upstreams)
    with (
        celery_worker(log_dir=log_dir, name="sync", queues="sync", **env) as sync,
        celery_worker(log_dir=log_dir, name="notify", queues="notifications", **env) as notifier,
    ):
        run_id = run_job_task.delay("cases", trigger="manual").get(timeout=60)
        sent = notify.enqueue(kind="slack", to=channel, body="from the notifications worker")
        wait_for(lambda: Notification.objects.get(pk=sent.pk).status == "sent", timeout=30, what="delivery")
    assert SyncRun.objects.get(pk=run_id).outcome == "success"
    # "Task <name>[<id>] received": what each worker was given (its start-up banner lists every task).
    assert "Task t5g.run_job[" in sync.log() and "Task t5g.send_notification[" not in sync.log()
    assert "Task t5g.send_notification[" in notifier.log() and "Task t5g.run_job[" not in notifier.log()


def test_it_never_runs_one_job_twice_at_once_across_workers(upstreams, log_dir):
    upstreams.faults({"path": "/portal/hydra/rest/search", "kind": "latency", "ms": 500})
    env = worker_env(upstreams)
    with (
        celery_worker(log_dir=log_dir, name="sync-a", queues="sync", **env),
        celery_worker(log_dir=log_dir, name="sync-b", queues="sync", **env),
    ):
        results = group(run_job_task.s("cases", trigger="manual") for _ in range(6)).apply_async()
        results.get(timeout=120)
    runs = list(SyncRun.objects.filter(source="cases"))
    assert 1 <= len(runs) < 6  # triggers that came while it ran joined it
    assert all(r.outcome == "success" for r in runs)
    assert overlapping(runs) == []
    assert Case.objects.count() == upstreams.state()["cases"]


def test_it_loses_nothing_when_one_of_two_workers_is_killed(upstreams, log_dir):
    run_job(job="cases", trigger="manual")
    total = Case.objects.count()
    upstreams.faults({"path": "/portal/hydra/rest/v1/", "kind": "latency", "ms": 60})
    env = worker_env(upstreams, LOCK_TTL="2")
    with (
        celery_worker(log_dir=log_dir, name="sync-a", queues="sync", **env) as a,
        celery_worker(log_dir=log_dir, name="sync-b", queues="sync", **env) as b,
    ):
        run_job_task.delay("details", trigger="manual")
        wait_for(lambda: Detail.objects.count() >= 100, timeout=60, what="the first batches of details")
        doomed, survivor = (a, b) if "job details started" in a.log() else (b, a)
        doomed.stop(signal.SIGKILL)
        upstreams.faults()
        time.sleep(2.5)  # the dead worker's lock expires by itself (LOCK_TTL)
        run_id = run_job_task.delay("details", trigger="manual").get(timeout=120)
    assert "job details started" in survivor.log()
    assert SyncRun.objects.get(pk=run_id).outcome == "success"
    killed = SyncRun.objects.exclude(pk=run_id).get(source="details")
    assert killed.outcome == "failed" and "abandoned" in killed.error
    assert Detail.objects.count() == total  # the survivor finished what the killed one had started
