"""One run at a time per job: a Redis lock, renewed while the run lives, released only by its owner.

The lock's lifetime is short (LOCK_TTL) and a background thread renews it, so a worker killed mid-run
frees the job within LOCK_TTL seconds instead of never; the thread stops renewing once the run has
lasted JOB_TIME_LIMIT, so a hung run frees it too. The lock also names the run holding it, so a second
trigger can join that run.

A run that finds its lock gone (it expired, another run took it) writes nothing more: every batch of
writes first checks `ensure_lock_held()` and raises LockLost, so the run fails with what it committed
so far, which is whole batches. A scheduled run that cannot reach Redis does not run unlocked: it
raises LockUnavailable and is retried later; only a command, run by a person, may run unlocked.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import LockError
from redis.lock import Lock

log = logging.getLogger(__name__)

# Delete the run key only while it still names our run: an expired lock's key may be another run's by now.
_DELETE_IF_OURS = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class LockLost(RuntimeError):
    """The job's lock expired or was taken while the run was writing: the run stops."""


class LockUnavailable(RuntimeError):
    """Redis cannot be reached to take the job's lock: the run does not start (a scheduled one is retried)."""


_held: contextvars.ContextVar[JobLock | None] = contextvars.ContextVar("job_lock", default=None)


class JobLock:
    def __init__(self, job: str):
        self.job = job
        self.name = f"t5g:lock:job:{job}"
        self.acquired = False
        self.degraded = False  # Redis unreachable: a command ran without a lock
        self.lost = False  # the renewal found the lock no longer ours
        self.run_id: int | None = None
        self._lock: Lock | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def _run_key(self) -> str:
        return f"{self.name}:run"

    def acquire(self, *, unlocked_ok: bool = False) -> bool:
        """Take the lock if it is free. Redis unreachable: LockUnavailable, or with `unlocked_ok` (a command run by
        a person, while no scheduled run can take the lock either) run without one."""
        try:
            conn = get_redis_connection("default")
            self._lock = Lock(conn, self.name, timeout=settings.LOCK_TTL, blocking=False, thread_local=False)
            self.acquired = bool(self._lock.acquire())
        except redis.RedisError as exc:
            if not unlocked_ok:
                raise LockUnavailable(f"job {self.job}: Redis unreachable, not run without its lock ({exc})") from exc
            log.warning("job %s: Redis unreachable (%s); running without a lock", self.job, exc)
            self.acquired, self.degraded = True, True
            return True
        if self.acquired:
            self._thread = threading.Thread(target=self._renew, name=f"lock-{self.job}", daemon=True)
            self._thread.start()
        return self.acquired

    def _renew(self) -> None:
        give_up_at = time.monotonic() + settings.JOB_TIME_LIMIT
        while not self._stop.wait(settings.LOCK_TTL / 3):
            if time.monotonic() > give_up_at:
                log.error(
                    "job %s: running for over %ss; its lock is no longer renewed", self.job, settings.JOB_TIME_LIMIT
                )
                return
            try:
                self._lock.extend(settings.LOCK_TTL, replace_ttl=True)
            except LockError:  # redis-py raises (LockNotOwnedError) rather than returning False
                log.error("job %s: lost its lock; the run stops before its next write", self.job)
                self.lost = True
                return
            except redis.RedisError as exc:
                # Nobody can take the lock while Redis is unreachable either: the run goes on.
                log.warning("job %s: could not renew its lock: %s", self.job, exc)

    def held(self) -> bool:
        """Still ours, as far as can be known: with Redis unreachable nobody else can take it either."""
        if self.degraded:
            return True
        if self.lost:
            return False
        try:
            return bool(self._lock and self._lock.owned())
        except redis.RedisError:
            return True

    def set_run(self, run_id: int) -> None:
        self.run_id = run_id
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
            conn = get_redis_connection("default")
            if self.run_id is not None:
                conn.eval(_DELETE_IF_OURS, 1, self._run_key, str(self.run_id))
            self._lock.release()
        except LockError:
            log.warning("job %s: its lock had expired before release", self.job)
        except redis.RedisError as exc:
            log.warning("job %s: could not release its lock (it expires by itself): %s", self.job, exc)


@contextmanager
def job_lock(job: str, *, unlocked_ok: bool = False) -> Iterator[JobLock]:
    lock = JobLock(job)
    lock.acquire(unlocked_ok=unlocked_ok)
    token = _held.set(lock if lock.acquired else None)
    try:
        yield lock
    finally:
        _held.reset(token)
        lock.release()


def ensure_lock_held() -> None:
    """Before a run writes a batch: raise LockLost if the running job's lock is no longer its own."""
    lock = _held.get()
    if lock is not None and not lock.held():
        raise LockLost(
            f"job {lock.job}: lost its lock (it expired or another run took it); stopped before writing more"
        )
