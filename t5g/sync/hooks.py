"""Webhooks to re-reads: a burst of calls about one issue becomes one read of it, through the normal jobs.

A webhook's content is never trusted: only the key it names is kept (t5g/webhooks.py). The keys wait in a Redis
set; the first call of a quiet period queues one task WEBHOOK_COALESCE_SECONDS later, which takes every key
waiting and runs each job declared `on_webhook` for that upstream with them (run_job: the same parsing,
newer-wins writes, audit and cache bumps as a scheduled sync). Order of the steps, so no key is lost: the task
clears the "queued" flag before it takes the keys, so a call arriving meanwhile queues the next task.
A lost webhook (JIRA gave up, Redis was down) costs only time: the scheduled syncs still reconcile.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django_redis import get_redis_connection

from .registry import on_webhook
from .runner import run_job

log = logging.getLogger(__name__)

# A re-read joined a run of the same job still reading an earlier burst: its keys wait this long for the next.
BUSY_RETRY_SECONDS = 5


def _keys(upstream: str) -> tuple[str, str, str]:
    base = f"t5g:hooks:{upstream}"
    return f"{base}:pending", f"{base}:queued", f"{base}:last"


def received(*, upstream: str, key: str, event: str) -> None:
    """Note a webhook's key and queue a re-read unless one is queued. Raises redis' errors (the caller
    answers 503, so the upstream sends again) and Celery's when the task cannot be queued."""
    pending, queued, last = _keys(upstream)
    conn = get_redis_connection("default")
    with conn.pipeline() as pipe:
        pipe.sadd(pending, key)
        pipe.hset(last, mapping={"at": time.time(), "event": event, "key": key})
        pipe.hincrby(last, "count", 1)
        # The flag outlives a lost task (a worker killed before it ran) only by a while.
        pipe.set(queued, 1, nx=True, ex=int(settings.WEBHOOK_COALESCE_SECONDS * 10) + 60)
        first = pipe.execute()[-1]
    if first:
        _queue(upstream, conn=conn, delay=settings.WEBHOOK_COALESCE_SECONDS)


def _queue(upstream: str, *, conn, delay: float) -> None:
    from .tasks import reread  # the tasks module imports this one

    try:
        reread.apply_async(kwargs={"upstream": upstream}, countdown=delay)
    except Exception:
        conn.delete(_keys(upstream)[1])  # the next call queues it
        raise


def reread(*, upstream: str, task_id: str = "") -> list[int]:
    """Run the `upstream` webhook jobs with the keys waiting; returns the runs' ids."""
    pending, queued, _ = _keys(upstream)
    conn = get_redis_connection("default")
    conn.delete(queued)
    with conn.pipeline() as pipe:  # MULTI/EXEC: a key added meanwhile is either taken now or left for the next
        pipe.smembers(pending)
        pipe.delete(pending)
        keys = sorted(k.decode() for k in pipe.execute()[0])
    if not keys:
        return []
    runs = []
    for job in on_webhook(upstream):
        if not (wanted := job.wanted_keys(keys)):
            continue
        try:
            run = run_job(job=job.name, trigger="webhook", task_id=task_id, keys=wanted)
        except Exception:  # noqa: BLE001 - recorded and alerted by run_job; the schedule reconciles these keys
            continue
        if getattr(run, "joined", False):
            # Still reading an earlier burst: these keys wait for the next re-read rather than being lost.
            log.info("webhooks: %s busy, %s key(s) re-read in %ss", job.name, len(keys), BUSY_RETRY_SECONDS)
            conn.sadd(pending, *keys)
            if conn.set(queued, 1, nx=True, ex=BUSY_RETRY_SECONDS * 10 + 60):
                _queue(upstream, conn=conn, delay=BUSY_RETRY_SECONDS)
            continue
        runs.append(run.pk)
    log.info("webhooks: %s key(s) of %s re-read: %s", len(keys), upstream, ", ".join(keys[:20]))
    return runs


def last_received(upstream: str) -> dict | None:
    """The last webhook call accepted from `upstream` ({at, event, key, count}), for admin; None when none came
    or Redis cannot say."""
    try:
        found = get_redis_connection("default").hgetall(_keys(upstream)[2])
    except Exception:  # noqa: BLE001 - admin shows "unknown" rather than failing
        return None
    if not found:
        return None
    values = {k.decode(): v.decode() for k, v in found.items()}
    return {**values, "at": float(values.get("at", 0)), "count": int(values.get("count", 0))}
