"""The home page and the report pages: an account's or an engineer's cases and stats, the recent updates
and the weekly report.

Each page's body (reports.presenters) is rendered once and cached on the generations of the data it
reads (t5g/cache.py); what is read on every view is said where it is.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from t5g.cache import cached
from t5g.sync.freshness import source_freshness

from . import presenters
from .forms import DEFAULT_DAYS, DaysForm, UpdatesForm

REPORT_FEEDS = ("cases", "cards", "bugs", "escalations")
# Pages counting "open for N days" or "changed in the last N days" are relative to now: a sync bumps
# them too, but without one they still must not stay cached for a day.
PAGE_TIMEOUT = 300
# A page number past this is a typo or a probe: it would only fill the cache with copies of the last page.
MAX_PAGE = 10_000


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    content, degraded = cached("home", feeds=("cases", "cards"), build=presenters.home_content, timeout=300)
    # Freshness (and the records each source cannot read) is read on every view: two small queries, never behind.
    return render(
        request,
        "reports/home.html",
        {"content": content, "degraded": degraded, "freshness": source_freshness(failing_records=True, upcoming=True)},
    )


def _digest(name: str) -> str:
    # Names are upstream text: a digest keeps the cache key short and plain.
    return hashlib.sha1(name.encode()).hexdigest()


def _scope_page(request: HttpRequest, *, kind: str, name: str) -> HttpResponse:
    content, degraded = cached(
        f"{kind}:{_digest(name)}",
        feeds=(*REPORT_FEEDS, "stats"),
        build=lambda: presenters.scope_content(kind=kind, name=name),
        timeout=PAGE_TIMEOUT,
    )
    if content is None:
        raise Http404(f"No {kind} named {name!r}.")
    return render(request, "reports/scope.html", {"kind": kind, "name": name, "content": content, "degraded": degraded})


MAX_QUERY = 200  # a filter longer than any account or engineer name is a paste gone wrong


def _index_page(request: HttpRequest, *, kind: str) -> HttpResponse:
    query = " ".join(request.GET.get("q", "").split())[:MAX_QUERY]
    content, degraded = cached(
        f"{kind}-index:{_digest(query)}",
        feeds=REPORT_FEEDS,
        build=lambda: presenters.index_content(kind=kind, query=query),
        timeout=PAGE_TIMEOUT,
    )
    context = {"kind": kind, "query": query, "content": content, "degraded": degraded}
    return render(request, "reports/index.html", context)


@require_GET
def accounts(request: HttpRequest) -> HttpResponse:
    return _index_page(request, kind="account")


@require_GET
def engineers(request: HttpRequest) -> HttpResponse:
    return _index_page(request, kind="engineer")


@require_GET
def account(request: HttpRequest, account: str) -> HttpResponse:
    return _scope_page(request, kind="account", name=account)


@require_GET
def engineer(request: HttpRequest, name: str) -> HttpResponse:
    return _scope_page(request, kind="engineer", name=name)


def _days(request: HttpRequest, form_class: type[DaysForm] = DaysForm) -> tuple[int, DaysForm]:
    form = form_class(request.GET)
    days = form.cleaned_data.get("days") if form.is_valid() else None
    return days or DEFAULT_DAYS, form


def _page(request: HttpRequest) -> int:
    # A bad page number is not worth an error: the first page (or the last, past the end) will do.
    try:
        return min(max(1, int(request.GET.get("page", 1))), MAX_PAGE)
    except ValueError:
        return 1


# The same cards as a table: the old "Table View" button of each layout.
TABLE_VIEWS = {"recent": "commented", "all": "all", "trends": "trends"}


@require_GET
def updates(request: HttpRequest) -> HttpResponse:
    """The card layouts, account → case status → card: ?scope=recent (the default: changed in the last
    ?days=), all (every card) or trends (the cards labelled Trends)."""
    days, form = _days(request, UpdatesForm)
    scope = (form.cleaned_data.get("scope") if "scope" not in form.errors else None) or "recent"
    if scope != "recent":
        days = DEFAULT_DAYS  # no window: one cache entry, whatever ?days= says
    page = _page(request)
    content, degraded = cached(
        f"updates:{scope}:{days}:{page}",
        feeds=REPORT_FEEDS,
        build=lambda: presenters.updates_content(days=days, page=page, scope=scope),
        timeout=PAGE_TIMEOUT,
    )
    table = {"view": TABLE_VIEWS[scope], **({"days": days} if scope == "recent" and days != DEFAULT_DAYS else {})}
    layouts = [(s, title, presenters.updates_url(scope=s, days=days)) for s, title in presenters.SCOPE_TITLES.items()]
    return render(
        request,
        "reports/updates.html",
        {"content": content, "degraded": degraded, "days": days, "form": form, "scope": scope,
         "title": presenters.SCOPE_TITLES[scope], "layouts": layouts,
         "table_url": reverse("cases") + "?" + urlencode(table)},
        status=400 if form.errors else 200,
    )  # fmt: skip


@require_GET
def weekly(request: HttpRequest) -> HttpResponse:
    days, form = _days(request)
    content, degraded = cached(
        f"weekly:{days}", feeds=REPORT_FEEDS, build=lambda: presenters.weekly_content(days=days), timeout=PAGE_TIMEOUT
    )
    return render(
        request,
        "reports/weekly.html",
        {"content": content, "degraded": degraded, "days": days, "form": form},
        status=400 if form.errors else 200,
    )
