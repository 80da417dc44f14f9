"""Counters every process keeps in Redis for /metrics (t5g/metrics.py): upstream requests and the page cache.

Shared by all processes (web, any worker) through Redis (HINCRBY); with Redis down they are not counted,
and nothing else is affected. Below the clients and the cache: it imports nothing of T5G.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import Counter

log = logging.getLogger(__name__)

UPSTREAM_REQUESTS = "metrics:upstream:requests"  # field "<upstream>|<status>" -> count
UPSTREAM_SECONDS = "metrics:upstream:seconds"  # field "<upstream>" -> total seconds
UPSTREAM_BUCKETS = "metrics:upstream:buckets"  # field "<upstream>|<le>" -> count at or under le
VIEW_CACHE = "metrics:view_cache"  # field "hit" / "miss" -> count
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def redis_connection():
    from django_redis import get_redis_connection

    return get_redis_connection("default")


# Upstream request counts wait in the process and go to Redis at most once a second, at the end of each job
# and at exit: a Redis round trip per request cost a details sync (one request per case) a third of its time.
_pending: Counter[tuple[str, str]] = Counter()
_pending_lock = threading.Lock()
_flushed_at = 0.0
FLUSH_SECONDS = 1.0


def record_upstream(*, upstream: str, status: int | str, seconds: float) -> None:
    """Count one upstream request (its final answer, after retries) and its latency."""
    with _pending_lock:
        _pending[(UPSTREAM_REQUESTS, f"{upstream}|{status}")] += 1
        _pending[(UPSTREAM_SECONDS, upstream)] += seconds
        for le in BUCKETS:
            if seconds <= le:
                _pending[(UPSTREAM_BUCKETS, f"{upstream}|{le}")] += 1
    if time.monotonic() - _flushed_at >= FLUSH_SECONDS:
        flush_upstream_counts()


def flush_upstream_counts() -> None:
    """Add the counts this process holds to Redis's (lost, like any count made while Redis is down, if it fails)."""
    global _flushed_at
    with _pending_lock:
        pending = dict(_pending)
        _pending.clear()
        _flushed_at = time.monotonic()
    if not pending:
        return
    try:
        pipe = redis_connection().pipeline(transaction=False)
        for (key, field), amount in pending.items():
            if key == UPSTREAM_SECONDS:
                pipe.hincrbyfloat(key, field, amount)
            else:
                pipe.hincrby(key, field, amount)
        pipe.execute()
    except Exception:  # noqa: BLE001 - metrics must never break a sync
        log.debug("upstream metrics not recorded", exc_info=True)


atexit.register(flush_upstream_counts)


def record_view_cache(*, hit: bool) -> None:
    try:
        redis_connection().hincrby(VIEW_CACHE, "hit" if hit else "miss", 1)
    except Exception:  # noqa: BLE001 - nor a page
        log.debug("cache metrics not recorded", exc_info=True)


# The pages people open, by day: what the worker renders ahead after a sync (t5g/sync/warm.py).
PAGES = "pages:{day}"  # sorted set: "<path>?<query>" -> requests that day
PAGES_KEPT_SECONDS = 2 * 86400


def record_page(url: str) -> None:
    day = time.strftime("%Y%m%d", time.gmtime())
    try:
        pipe = redis_connection().pipeline(transaction=False)
        pipe.zincrby(PAGES.format(day=day), 1, url)
        pipe.expire(PAGES.format(day=day), PAGES_KEPT_SECONDS)
        pipe.execute()
    except Exception:  # noqa: BLE001 - nor a page
        log.debug("page not counted", exc_info=True)


def popular_pages(count: int) -> list[str]:
    """The `count` pages most requested today and yesterday."""
    now = time.time()
    days = [time.strftime("%Y%m%d", time.gmtime(now - d * 86400)) for d in (0, 1)]
    try:
        conn = redis_connection()
        totals: Counter[str] = Counter()
        for day in days:
            for url, score in conn.zrevrange(PAGES.format(day=day), 0, count * 2, withscores=True):
                totals[url.decode()] += score
    except Exception:  # noqa: BLE001 - then only the default pages are warmed
        log.debug("popular pages unknown", exc_info=True)
        return []
    return [url for url, _ in totals.most_common(count)]
