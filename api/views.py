"""The read-only JSON API under /api/: cases, cards, bugs, JIRA issues, escalations, stats and freshness.

GET (and HEAD) only; who may call and how errors answer: api.auth. Lists are paged and cached:
api.paging. Times are ISO 8601 in UTC.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils import timezone

from bugs.models import Bug, Issue
from cards.models import Card
from cases.forms import CaseQueryForm
from cases.models import Case
from cases.selectors import case_detail, case_rows
from escalations.models import Escalation
from stats import selectors as stats_selectors
from t5g.sync.freshness import source_freshness

from . import serializers
from .auth import ApiError, api_view
from .paging import MAX_PER, cached_list, list_name, paged, paging

STATS_DAYS = 90


def _date(request: HttpRequest, name: str, default: date) -> date:
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"{name}: expected a date as YYYY-MM-DD, got {raw[:40]!r}.") from None


def _yes(request: HttpRequest, name: str) -> bool:
    return request.GET.get(name, "").lower() in ("yes", "1", "true")


def _live(rows: QuerySet, request: HttpRequest) -> QuerySet:
    """Rows that left upstream stay in the database for history: left out unless ?include_removed=yes."""
    return rows if _yes(request, "include_removed") else rows.filter(removed_at__isnull=True)


@api_view
def index(request: HttpRequest) -> dict:
    names = ["cases", "cards", "bugs", "issues", "escalations", "stats", "freshness"]
    return {
        "endpoints": {name: request.build_absolute_uri(reverse(f"api_{name}")) for name in names},
        "case": request.build_absolute_uri(reverse("api_case", args=["NUMBER"])),
        "auth": "the session of a signed-in user, or Authorization: Bearer <key> (an API token from the admin)",
        "paging": f"?page=N&per=N (at most {MAX_PER}); answers count, page, per and results",
    }


def _without(params: QueryDict, *names: str) -> QueryDict:
    rest = params.copy()
    for name in names:
        rest.pop(name, None)
    return rest


@api_view
def cases(request: HttpRequest) -> dict:
    """The cases the cases table would show for the same query string (cases.forms.CaseQueryForm:
    view, q, severity, account, assignee, prio, critsit, escalated, …), in its order."""
    # The API pages on its own (a bigger `per` than the table's).
    form = CaseQueryForm(_without(request.GET, "page", "per"))
    if not form.is_valid():
        raise ApiError(400, "Some filters are not valid.", details=form.messages())
    query = form.query()
    page, per = paging(request)
    # The table's own canonical query string: equal queries share one cache entry.
    name = request.path + "?" + urlencode([*query.params(), ("page", page), ("per", per)])
    return cached_list(
        request,
        name=name,
        feeds=("cases", "cards", "escalations"),
        build=lambda: paged(request, case_rows(query=query), serializers.case_row),
    )


@api_view
def case(request: HttpRequest, number: str) -> dict:
    found = case_detail(number=number)
    if found is None:
        raise ApiError(404, f"No case {number[:40]!r}.")
    detail = getattr(found.case, "detail", None)  # read with the case
    escalation = Escalation.objects.filter(case_id=number, removed_at__isnull=True).first()
    card = None
    if found.card is not None:
        card = {
            **serializers.card(found.card),
            "comments": [serializers.comment(c) for c in found.card_comments],
            "more_comments": found.more_card_comments,
        }
    return {
        **serializers.case(found.case),
        "description": found.case.description,
        "detail": None
        if detail is None
        else {
            "crit_sit": detail.crit_sit,
            "group_name": detail.group_name,
            "notified_users": detail.notified_users,
            "relief_at": detail.relief_at,
            "resolved_at": detail.resolved_at,
        },
        "card": card,
        "bugs": [serializers.bug(bug) for bug in found.bugs],
        "issues": [serializers.issue(issue) for issue in found.issues],
        "escalation": None if escalation is None else serializers.escalation(escalation),
        "comments": [serializers.comment(c) for c in found.case_comments],
        "more_comments": found.more_case_comments,
    }


@api_view
def cards(request: HttpRequest) -> dict:
    """Cards, most recently updated first; filters: status (internal), assignee, case, q (key or summary), active."""

    def build() -> dict:
        rows = _live(Card.objects.all(), request)
        if status := request.GET.getlist("status"):
            rows = rows.filter(status__in=[s if s != "unmapped" else "" for s in status])
        if assignee := request.GET.getlist("assignee"):
            rows = rows.filter(assignee__in=assignee)
        if number := request.GET.get("case"):
            rows = rows.filter(case_id=number)
        if q := request.GET.get("q", "").strip():
            rows = rows.filter(Q(key__icontains=q) | Q(summary__icontains=q))
        if active := request.GET.get("active"):
            rows = rows.filter(active=active.lower() in ("yes", "1", "true"))
        return paged(request, rows.order_by("-upstream_updated_at", "key"), serializers.card)

    return cached_list(request, feeds=("cards",), build=build)


def _linked_cases() -> Prefetch:
    return Prefetch("cases", queryset=Case.objects.order_by("number").only("number"), to_attr="linked")


def _linked_list(request: HttpRequest, rows, *, search, order: str, serialize) -> dict:
    """Bugs or JIRA issues with their cases, most recently changed first; filters: case, status, q."""

    def build() -> dict:
        found = _live(rows, request)
        if number := request.GET.get("case"):
            found = found.filter(cases=number)
        if status := request.GET.getlist("status"):
            found = found.filter(status__in=status)
        if q := request.GET.get("q", "").strip():
            found = found.filter(search(q))
        found = found.order_by("-upstream_updated_at", order).prefetch_related(_linked_cases())
        return paged(request, found, serializers.with_cases(serialize))

    # The links to cases come with the cases' sync too.
    return cached_list(request, feeds=("bugs", "cases"), build=build)


@api_view
def bugs(request: HttpRequest) -> dict:
    """Bugzilla bugs with their cases; q searches the summary."""
    return _linked_list(
        request, Bug.objects.all(), search=lambda q: Q(summary__icontains=q), order="id", serialize=serializers.bug
    )


@api_view
def issues(request: HttpRequest) -> dict:
    """JIRA bugs linked to cases, with their cases; q searches the key and summary."""
    return _linked_list(
        request,
        Issue.objects.all(),
        search=lambda q: Q(key__icontains=q) | Q(summary__icontains=q),
        order="key",
        serialize=serializers.issue,
    )


@api_view
def escalations(request: HttpRequest) -> dict:
    """Escalated cases, newest escalation first; filters: type (prio_list, crit_sit, potential), case."""
    kinds = request.GET.getlist("type")
    if unknown := set(kinds) - set(Escalation.Type.values):
        raise ApiError(400, f"type: expected one of {', '.join(Escalation.Type.values)}, got {sorted(unknown)}.")

    def build() -> dict:
        rows = _live(Escalation.objects.all(), request)
        if kinds:
            rows = rows.filter(type__in=kinds)
        if number := request.GET.get("case"):
            rows = rows.filter(case_id=number)
        return paged(request, rows.order_by("-escalated_at", "case_id"), serializers.escalation)

    return cached_list(request, feeds=("escalations",), build=build)


@api_view
def stats(request: HttpRequest) -> dict:
    """The stored daily stats of a scope ("all", "account:<name>", "engineer:<name>") from start to end
    (both included; default the last 90 days), oldest first."""
    today = timezone.now().date()
    end = _date(request, "end", today)
    start = _date(request, "start", end - timedelta(days=STATS_DAYS))
    if start > end:
        raise ApiError(400, "start: must not be after end.")
    scope = request.GET.get("scope", "all")

    def build() -> dict:
        rows = stats_selectors.stats_rows(scope=scope, start=start, end=end)
        return paged(
            request,
            rows,
            lambda row: {"date": row.date, "computed_at": row.computed_at, "metrics": row.metrics},
            scope=scope,
            start=start,
            end=end,
        )

    # The default dates are today's: the name holds the dates used, so that a new day is a new entry.
    name = list_name(request, scope=scope, start=start.isoformat(), end=end.isoformat())
    return cached_list(request, name=name, feeds=("stats",), build=build)


@api_view
def freshness(request: HttpRequest) -> dict:
    return {
        "results": [
            {
                "source": f.source,
                "label": f.label,
                "last_success": f.last_success,
                "last_failure": f.last_failure,
                "failing": f.failing,
                "stale": f.stale,
            }
            for f in source_freshness()
        ]
    }
