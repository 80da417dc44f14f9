"""Counts the pages people open (path and query), for the worker to render them ahead (t5g/sync/warm.py)."""

from __future__ import annotations

from .counters import record_page

# Not pages people wait for, or not pages at all.
SKIPPED = ("/admin/", "/api/", "/health/", "/hooks/", "/metrics", "/static/", "/saml2/", "/login/", "/logout/",
           "/refresh/", "/favicon")  # fmt: skip


class PageCounter:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method == "GET"
            and response.status_code == 200
            and not request.headers.get("X-T5G-Warm")
            and not request.path.startswith(SKIPPED)
            and response.get("Content-Type", "").startswith("text/html")
            and getattr(request, "user", None) is not None
            and request.user.is_authenticated
        ):
            query = request.GET.urlencode()
            record_page(request.path + (f"?{query}" if query else ""))
        return response
