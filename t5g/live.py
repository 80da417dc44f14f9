"""Pages that update themselves: an open page asks, every LIVE_POLL_SECONDS, whether the data changed since it was
rendered, by sending back the generations it was rendered with (t5g/cache.py: every sync bumps the feeds it
wrote). The answer is 204 and no body while nothing changed (a Redis read: no database, no rendering), else the
new generations; the page then fetches itself and swaps its content in place (static/t5g/t5g.js).
Measured in tests/test_live.py: one request per LIVE_POLL_SECONDS per open, visible tab, 0 bytes of body.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from .cache import generation
from .sync.registry import jobs

# The generation of a page given a view's previous copy (t5g/cache.py served_old()): never current, so the page
# asks again, a moment later (static/t5g/t5g.js), and updates itself.
OLD = "old"


def feeds() -> list[str]:
    return sorted({feed for job in jobs() for feed in job.feeds})


def current() -> str:
    """The generations of every feed, as one string: it changes when any sync writes."""
    return generation(*feeds())


@require_GET
def changes(request: HttpRequest) -> HttpResponse:
    now = current()
    if request.GET.get("since") == now:
        return HttpResponse(status=204)
    return JsonResponse({"generation": now, "poll_seconds": settings.LIVE_POLL_SECONDS})
