"""Cache keys with a generation number that a sync bumps (the djangoproject.com dashboard's idea).

A view caches under f"{name}:{generation}" of the feeds it reads ("cases", "cards", ...); a sync
bumps the feeds its job declares (Job.feeds) after each commit, so no page is ever older than the
database. With Redis down, generation() is 0 and every get is a miss: pages come from the database.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction
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


def cached(name: str, *, feeds: Sequence[str], build: Callable[[], T], timeout: int | None = None) -> tuple[T, bool]:
    """build()'s value, cached under `name` and the generations of the data it reads.

    Returns (value, degraded): degraded is True when Redis is unreachable and the value came
    straight from the database. A sync bumping one of `feeds` makes every older entry unreachable.
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
    key = f"view:{name}:" + ".".join(str(values.get(k, 0)) for k in keys)
    value = cache.get(key)
    record_view_cache(hit=value is not None)
    if value is None:
        value = build()
        cache.set(key, value, timeout)
    return value, False
