"""One run at a time per job: a Redis lock, renewed while the run lives, released only by its owner.

The lock's lifetime is short (LOCK_TTL) and a background thread renews it, so a
worker killed mid-run frees the job within LOCK_TTL seconds instead of never.
The lock also names the run holding it, so a second trigger can join that run.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

import redis
from django.conf import settings
from django_redis import get_redis_connection
from redis.lock import Lock

log = logging.getLogger(__name__)


class JobLock:
    def __init__(self, job: str):
        self.job = job
        self.name = f"t5g:lock:job:{job}"
        self.acquired = False
        self.degraded = False  # Redis unreachable: ran without a lock
        self._lock: Lock | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def _run_key(self) -> str:
        return f"{self.name}:run"

    def acquire(self) -> bool:
        try:
            conn = get_redis_connection("default")
            self._lock = Lock(conn, self.name, timeout=settings.LOCK_TTL, blocking=False, thread_local=False)
            self.acquired = bool(self._lock.acquire())
        except redis.RedisError as exc:
            # With Redis down no Celery task can start either, so only a command can run
            # this job now: run it unlocked rather than not at all.
            log.warning("job %s: Redis unreachable (%s); running without a lock", self.job, exc)
            self.acquired, self.degraded = True, True
            return True
        if self.acquired:
            self._thread = threading.Thread(target=self._renew, name=f"lock-{self.job}", daemon=True)
            self._thread.start()
        return self.acquired

    def _renew(self) -> None:
        while not self._stop.wait(settings.LOCK_TTL / 3):
            try:
                if not self._lock.extend(settings.LOCK_TTL, replace_ttl=True):
                    log.error("job %s: lost its lock", self.job)
                    return
            except redis.RedisError as exc:
                log.warning("job %s: could not renew its lock: %s", self.job, exc)

    def set_run(self, run_id: int) -> None:
        if self.degraded:
            return
        try:
            get_redis_connection("default").set(self._run_key, run_id, ex=settings.LOCK_TTL * 100)
        except redis.RedisError:
            pass  # joining is a convenience; the lock itself is what matters

    def running_run_id(self) -> int | None:
        try:
            value = get_redis_connection("default").get(self._run_key)
        except redis.RedisError:
            return None
        return int(value) if value else None

    def release(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        if self._lock is None or not self.acquired or self.degraded:
            return
        try:
            get_redis_connection("default").delete(self._run_key)
            self._lock.release()
        except redis.exceptions.LockError:
            log.warning("job %s: its lock had expired before release", self.job)
        except redis.RedisError as exc:
            log.warning("job %s: could not release its lock (it expires by itself): %s", self.job, exc)


@contextmanager
def job_lock(job: str):
    lock = JobLock(job)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
