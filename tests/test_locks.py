"""One run at a time per job, for real: a run that lost its lock stops writing, a scheduled run never runs
unlocked, a hung run ends at its time limit, and a run releases only what is its own."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django_redis import get_redis_connection

from cases.models import Case
from t5g.models import SyncRun
from t5g.sync.locks import JobLock, LockLost, LockUnavailable
from t5g.sync.runner import run_job
from t5g.sync.tasks import run_job as run_job_task
from tests.conftest import redis_settings
from tests.processes import celery_worker, wait_for, worker_env

pytestmark = pytest.mark.django_db


def test_it_stops_a_run_that_lost_its_lock(upstreams, settings):
    settings.SYNC_WRITE_BATCH = 50
    taken = []

    def lock_taken_meanwhile(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        # After the first batch of cases is written, the lock expires and another worker takes the job.
        if not taken and sql.startswith('INSERT INTO "cases_case"'):
            taken.append(sql)
            get_redis_connection("default").set("t5g:lock:job:cases", "another-worker")
        return result

    with connection.execute_wrapper(lock_taken_meanwhile), pytest.raises(LockLost):
        run_job(job="cases", trigger="schedule")
    run = SyncRun.objects.get(source="cases")
    assert run.outcome == "failed" and "lost its lock" in run.error
    assert Case.objects.count() == 50  # the batch written while the lock was its own, and no more


def test_it_never_runs_a_scheduled_job_without_its_lock(settings):
    with override_settings(**redis_settings("redis://127.0.0.1:9/0")), pytest.raises(LockUnavailable):
        run_job(job="create_cards", trigger="schedule")
    assert not SyncRun.objects.exists()  # nothing ran: the task is retried later


def test_it_lets_a_person_run_a_command_without_redis(settings, upstreams):
    settings.CASE_QUERY = "case_number:00000000"  # matches nothing: a quick success
    with override_settings(**redis_settings("redis://127.0.0.1:9/0")):
        call_command("sync", "cases", "--no-progress")
    assert SyncRun.objects.get(source="cases").outcome == "success"


def test_it_releases_only_its_own_run_key():
    first = JobLock("locks-test")
    assert first.acquire()
    first.set_run(1)
    get_redis_connection("default").delete(first.name)  # its lock expired...
    second = JobLock("locks-test")
    assert second.acquire()  # ...and another run took the job
    second.set_run(2)
    first.release()
    try:
        assert second.running_run_id() == 2 and second.held()
    finally:
        second.release()


@pytest.mark.django_db(transaction=True)
def test_it_stops_a_hung_run_at_its_time_limit(upstreams, log_dir, settings):
    upstreams.faults({"path": "/portal/", "kind": "hang", "ms": 60_000})
    # Every process sends its tasks with the limits of its own settings (JOB_TIME_LIMIT), as this one does.
    assert (run_job_task.soft_time_limit, run_job_task.time_limit) == (
        settings.JOB_TIME_LIMIT, settings.JOB_TIME_LIMIT + 60
    )  # fmt: skip
    env = worker_env(upstreams, JOB_TIME_LIMIT="2", UPSTREAM_READ_TIMEOUT="120", JOB_RETRY_BACKOFF="30")
    with celery_worker(log_dir=log_dir, **env):
        run_job_task.apply_async(kwargs={"job": "cases"}, soft_time_limit=2, time_limit=62)  # as beat would, there

        def ended():
            return SyncRun.objects.filter(source="cases").exclude(outcome=SyncRun.Outcome.RUNNING).first()

        run = wait_for(ended, timeout=30, what="the hung run to be stopped")
    assert run.outcome == "retry" and "SoftTimeLimitExceeded" in run.error
    lock = JobLock("cases")
    assert lock.acquire()  # and its lock went with it
    lock.release()
