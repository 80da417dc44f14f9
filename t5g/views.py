from datetime import timedelta

from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from cards.models import Card, InternalStatus
from cases.models import Case

from .cache import cached
from .models import Refresh
from .sync.freshness import source_freshness
from .sync.refresh import start_refresh

NEW_CASE_DAYS = 7
# The home page lists at most this many of them (most severe first); the table has the rest.
NEW_CASE_LIMIT = 100


def _home_content() -> str:
    since = timezone.now() - timedelta(days=NEW_CASE_DAYS)
    recent = Case.objects.filter(created_at__gte=since, removed_at__isnull=True)
    new_cases = list(
        recent.order_by("severity", "-created_at").values(
            "number", "account", "severity", "summary", "status", "created_at"
        )[:NEW_CASE_LIMIT]
    )
    total = len(new_cases) if len(new_cases) < NEW_CASE_LIMIT else recent.count()
    counts = dict(
        Card.objects.filter(active=True, removed_at__isnull=True)
        .values_list("status")
        .annotate(n=Count("key"))
        .values_list("status", "n")
    )
    statuses = [label for _, label in InternalStatus.choices]
    chart = {
        "type": "bar",
        "data": {
            "labels": statuses,
            "datasets": [{"label": "Cards", "data": [counts.get(s, 0) for s in statuses]}],
        },
        "options": {"plugins": {"legend": {"display": False}}},
    }
    return render_to_string(
        "t5g/home_content.html",
        {
            "new_cases": new_cases,
            "total": total,
            "since": since.date(),
            "days": NEW_CASE_DAYS,
            "chart": chart,
            "unmapped": counts.get("", 0),
        },
    )


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    content, degraded = cached("home", feeds=("cases", "cards"), build=_home_content, timeout=300)
    # Freshness is read on every view: it is one small query and must never be behind.
    return render(request, "t5g/home.html", {"content": content, "degraded": degraded, "freshness": source_freshness()})


@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    """Start a background sync of every source, or attach to the one running."""
    refresh, _ = start_refresh(user=request.user)
    if request.headers.get("HX-Request"):
        return render(request, "t5g/refresh.html", {"refresh": refresh})
    if request.accepts("application/json") and not request.accepts("text/html"):
        return JsonResponse(_refresh_json(refresh), status=202, headers={"Location": refresh_url(refresh)})
    nxt = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return redirect(nxt if safe else "home")


@require_GET
def refresh_status(request: HttpRequest, pk: int) -> HttpResponse:
    refresh = get_object_or_404(Refresh, pk=pk)
    if request.headers.get("HX-Request") or request.GET.get("fragment"):
        return render(request, "t5g/refresh.html", {"refresh": refresh})
    return JsonResponse(_refresh_json(refresh))


def refresh_url(refresh: Refresh) -> str:
    return reverse("refresh_status", args=[refresh.pk])


def _refresh_json(refresh: Refresh) -> dict:
    return {
        "id": refresh.pk,
        "state": refresh.state,
        "phase": refresh.phase,
        "step": refresh.step,
        "steps": refresh.steps,
        "percent": refresh.percent,
        "summary": refresh.summary,
        "error": refresh.error,
        "created_at": refresh.created_at,
        "finished_at": refresh.finished_at,
    }
