"""Cache keys with a generation number that a sync bumps (the djangoproject.com dashboard's idea).

A view caches under f"{name}:{generation}" of the feeds it reads ("cases", "cards", ...); a sync
bumps the feeds its job declares (Job.feeds) after each commit, so no page is older than the database
but for the moment one request takes to build a view's new copy: meanwhile other requests get the previous one,
and their page, marked, updates itself at once (served_old(), t5g/live.py). With Redis down, generation() is 0 and
every get is a miss: pages come from the database.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_started
from django.db import transaction
from django.dispatch import receiver
from django_redis.exceptions import ConnectionInterrupted

from .counters import record_view_cache

T = TypeVar("T")


def _key(name: str) -> str:
    return f"generation:{name}"


def generation(*names: str) -> str:
    values = cache.get_many([_key(n) for n in names])
    return ".".join(str(values.get(_key(n), 0)) for n in names)


def bump(*names: str) -> None:
    for name in names:
        try:
            cache.incr(_key(name))
        except ValueError:  # not there yet (or Redis down: then nothing is cached anyway)
            cache.add(_key(name), 1, timeout=None)


def bump_after_commit(*names: str) -> None:
    """Bump these generations once the current transaction commits (a job bumps its Job.feeds)."""
    transaction.on_commit(lambda: bump(*names))


# After Redis fails once, a process stops asking it for this long: every page would otherwise
# wait for the connect timeout first.
RETRY_REDIS_AFTER = 5.0
_redis_down_until = 0.0


# After a sync makes a cached view old, one request builds it again while the others are served the old copy, for
# at most this long (then another may try: the first one failed or died). Under churn (webhook re-reads every
# second or two) every view was otherwise cold for everyone at once: at 100,000 cases, 100 members' p95 was 3.6 s,
# the requests queued behind cold builds of the same pages.
REBUILD_SECONDS = 30
# And, however often the data changes, a view made old waits before its next build for VIEW_REBUILD_SPACING times as
# long as its last build took, but never more than MAX_SPACING_SECONDS: rebuilding one view then takes at most a
# hundredth of a core (by default) unless its build takes over 50 ms. Measured at 100,000 cases under the load
# test's churn (a webhook re-read or a sync every ~3.5 s, each making every view old): 288 builds a minute of the
# cases table's pages (~100 ms each) and 172 of account pages (~47 ms) were half of the web workers' CPU, and the
# p95 was 640 ms; with the spacing, 150 ms (docs/benchmarks.md). A 5 ms expanded row is then at most half a second
# behind the database, the cases table 5 s, and a page given an old copy says "updating…" and updates itself once
# the new one is built.
MAX_SPACING_SECONDS = 5
_served_old = ContextVar("served_old", default=False)


def served_old() -> bool:
    """Whether this request was given a view's previous copy (its new one being built by another request): the page
    then says it is not current (t5g/live.py), so that it updates itself in a moment."""
    return _served_old.get()


@receiver(request_started)
def _new_request(**_) -> None:
    _served_old.set(False)


def cached(
    name: str, *, feeds: Sequence[str], build: Callable[[], T], timeout: int | None = None, old_ok: bool = True
) -> tuple[T, bool]:
    """build()'s value, cached under `name` and the generations of the data it reads.

    Returns (value, degraded): degraded is True when Redis is unreachable and the value came
    straight from the database. A sync bumping one of `feeds` makes every older copy old: the next request builds
    it again, and while it does, the others are served the old copy (see served_old()); with `old_ok` False never:
    what other cached values are built from must be current, or they would be cached as new though built from old.
    """
    global _redis_down_until
    if time.monotonic() < _redis_down_until:
        return build(), True
    keys = [_key(n) for n in feeds]
    try:
        # The client, unlike the cache, raises when Redis is down instead of answering "miss".
        values = cache.client.get_many(keys)
    except ConnectionInterrupted:
        _redis_down_until = time.monotonic() + RETRY_REDIS_AFTER
        return build(), True
    if len(name) > 150:
        name = hashlib.sha1(name.encode()).hexdigest()
    current = ".".join(str(values.get(k, 0)) for k in keys)
    key, rebuilding = f"view:{name}", f"view-rebuild:{name}"
    entry = cache.get(key)  # (the generations it was built from, the value, the time it may be built again)
    if entry is not None and entry[0] == current:
        record_view_cache(hit=True)
        return entry[1], False
    locked = entry is not None and old_ok
    if locked and (time.time() < _rebuild_at(entry) or not cache.add(rebuilding, 1, REBUILD_SECONDS)):
        record_view_cache(hit=True)
        _served_old.set(True)
        return entry[1], False
    record_view_cache(hit=False)
    try:
        started = time.monotonic()
        value = build()
        spacing = min(settings.VIEW_REBUILD_SPACING * (time.monotonic() - started), MAX_SPACING_SECONDS)
        cache.set(key, (current, value, time.time() + spacing), timeout)
    finally:
        if locked:
            cache.delete(rebuilding)
    return value, False


def _rebuild_at(entry: tuple) -> float:
    return entry[2] if len(entry) > 2 else 0.0  # an entry cached before the spacing had none
