"""Pages rendered ahead: after a sync makes new data, the worker renders the most-used pages, so the first person
to open one after a sync does not wait for a cold page (at 100,000 cases a cold table is 170–270 ms, warm 10–20).

Which pages: the home page, the default cases table and stats, and the pages most requested today and yesterday
(counted per page and query by t5g.popular.PageCounter). They are requested through Django's own request
handler (django.test.Client: the whole middleware stack, the same views and cache keys as a person's request)
as a member account of its own, `t5g-warmer`, which has no password and no staff rights. One warm runs at a
time a few seconds after the last write (WARM_DELAY_SECONDS): a refresh's seven jobs cause one or two, not seven.
"""

from __future__ import annotations

import contextlib
import logging
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from t5g.counters import popular_pages, redis_connection

log = logging.getLogger(__name__)

DEFAULT_PAGES = ["/", "/cases/", "/stats/"]
POPULAR = 10
WARMER = "t5g-warmer"
QUEUED = "t5g:warm:queued"
_client: Client | None = None


def queue_warm() -> None:
    """Ask for a warm once the writes settle; one is queued at a time. Never fails its caller."""
    if not settings.WARM_PAGES:
        return
    from .tasks import warm_pages  # the tasks module imports this one

    try:
        if redis_connection().set(QUEUED, 1, nx=True, ex=int(settings.WARM_DELAY_SECONDS) + 120):
            warm_pages.apply_async(countdown=settings.WARM_DELAY_SECONDS)
    except Exception:  # noqa: BLE001 - a page cold once is the worst outcome
        log.debug("pages not queued for warming", exc_info=True)


def _warmer() -> Client:
    global _client
    if _client is None:
        user, created = get_user_model().objects.get_or_create(username=WARMER, defaults={"is_active": True})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        host = urlsplit(settings.SITE_URL).hostname or "localhost"
        client = Client(SERVER_NAME=host, raise_request_exception=False, secure=settings.SITE_URL.startswith("https"))
        client.force_login(user)
        _client = client
    return _client


def warm_pages() -> dict[str, float]:
    """Render the pages; returns each page's time in ms (logged)."""
    with contextlib.suppress(Exception):  # Redis down: the flag expires by itself
        redis_connection().delete(QUEUED)  # a write from now on queues the next warm
    pages = list(dict.fromkeys([*DEFAULT_PAGES, *popular_pages(POPULAR)]))
    client, timings = _warmer(), {}
    for page in pages:
        started = time.perf_counter()
        answer = client.get(page, headers={"X-T5G-Warm": "1"})
        timings[page] = round((time.perf_counter() - started) * 1000, 1)
        if answer.status_code != 200:
            log.warning("warming %s: HTTP %s", page, answer.status_code)
    log.info("warmed %s page(s) in %.0f ms", len(pages), sum(timings.values()))
    return timings
