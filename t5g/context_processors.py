from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from . import live
from .cache import cached, served_old
from .sync.freshness import source_freshness
from .sync.refresh import current_refresh
from .sync.registry import jobs
from .sync.runner import RUNS_FEED

# A run's end bumps RUNS_FEED, so this only bounds how late "stale" shows when no run ends at all.
DATA_AS_OF_SECONDS = 60


def t5g(request) -> dict:
    context = {"READ_ONLY": settings.READ_ONLY, "DEMO_NOTICE": settings.DEMO_NOTICE}
    if getattr(request, "user", None) and request.user.is_authenticated:
        # One indexed query: the refresh widget in every page's header.
        context["current_refresh"] = current_refresh()
        # What the page was rendered from: it asks whether that changed (t5g/live.py). A view's previous copy
        # (served while another request builds the new one) asks again at once.
        context["live_generation"] = live.OLD if served_old() else live.current()
        context["LIVE_POLL_SECONDS"] = settings.LIVE_POLL_SECONDS
        # Called by the template only where it shows (whole pages, not htmx fragments).
        context["data_as_of"] = data_as_of
    return context


def data_as_of() -> dict:
    """When each data source last synced, for the header: from the cache (0.2-0.3 ms), rebuilt when a run ends.
    Pages are ~10-20 ms warm, and the freshness query scans every run: 0.9 ms at 1,000 runs, 81 ms at 100,000
    on SQLite (measured), so it is paid once per run's end, not on every page."""
    sources, _ = cached("data-as-of", feeds=(RUNS_FEED,), build=_data_as_of, timeout=DATA_AS_OF_SECONDS)
    return sources


def _data_as_of() -> dict:
    zone = ZoneInfo(settings.DISPLAY_TIME_ZONE)
    today = timezone.localdate(timezone=zone)
    # The sources of data (jobs in a refresh), not the automations.
    sources = {job.name for job in jobs() if job.refresh is not None}
    return {
        "zone": settings.DISPLAY_TIME_ZONE,
        "sources": [
            {
                "label": f.label,
                "at": f.last_success,
                "shown": _short(f.last_success, zone=zone, today=today) if f.last_success else "never",
                "stale": f.stale,
                "failing": f.failing,
            }
            for f in source_freshness()
            if f.source in sources
        ],
    }


def _short(at: datetime, *, zone: ZoneInfo, today) -> str:
    local = at.astimezone(zone)
    return f"{local:%H:%M}" if local.date() == today else f"{local:%b} {local.day} {local:%H:%M}"
