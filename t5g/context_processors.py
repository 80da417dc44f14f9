from django.conf import settings

from . import live
from .sync.refresh import current_refresh


def t5g(request) -> dict:
    context = {"READ_ONLY": settings.READ_ONLY, "DEMO_NOTICE": settings.DEMO_NOTICE}
    if getattr(request, "user", None) and request.user.is_authenticated:
        # One indexed query: the refresh widget in every page's header.
        context["current_refresh"] = current_refresh()
        # What the page was rendered from: it asks whether that changed (t5g/live.py).
        context["live_generation"] = live.current()
        context["LIVE_POLL_SECONDS"] = settings.LIVE_POLL_SECONDS
    return context
