"""The read-only JSON API under /api/: cases, cards, bugs, JIRA issues, escalations, stats and freshness.

GET (and HEAD) only. Who may call: a signed-in user (the session cookie, as in a browser) or a
script sending `Authorization: Bearer <key>` with the key of an API token (admin: *API tokens*).
The views are exempt from the site's sign-in redirect and do their own authentication, answering
in JSON: 401 with `WWW-Authenticate: Bearer` for no or a bad credential, 403 for a user who is not
active. Lists are paged with `?page=` and `?per=` (at most MAX_PER) and answer
{"count", "page", "per", "results"}; times are ISO 8601 in UTC.

A list's JSON is cached, serialized, under its canonical path and query and the generations of the
data it reads (t5g/cache.py): a sync makes it new, and a repeated call only authenticates and reads
the cache. Authentication always comes first: the cache never answers a caller it has not checked.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.decorators import login_not_required
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.csrf import csrf_exempt

from bugs.models import Bug, Issue
from cards.models import Card, CardComment
from cases.forms import CaseQueryForm
from cases.models import Case, CaseComment, Severity
from cases.reports import bugzilla_url, jira_url, portal_url
from cases.selectors import case_detail, case_rows
from escalations.models import Escalation
from stats import selectors as stats_selectors

from .cache import cached
from .models import ApiToken
from .sync.freshness import source_freshness

METHODS = ("GET", "HEAD")
DEFAULT_PER = 100
MAX_PER = 500
STATS_DAYS = 90
# A token's last use is written at most this often: a script polling every second must not turn
# every read into a write.
TOUCH_EVERY = timedelta(minutes=1)
KEY_PREFIX_LENGTH = 8
# A sync bumps the cached lists; this bounds their age should data change some other way.
LIST_TIMEOUT = 300
SEVERITY_LABELS = dict(Severity.choices)


# --- Tokens ---------------------------------------------------------------------------------------


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str, str]:
    """(key, its SHA-256, its prefix) for a new token: only the hash and the prefix are stored."""
    key = secrets.token_urlsafe(32)
    return key, hash_key(key), key[:KEY_PREFIX_LENGTH]


# --- Authentication, errors, paging ----------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, details: list[str] | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []
        self.headers = headers or {}


def _unauthorized(message: str, *, bad_token: bool = False) -> ApiError:
    challenge = 'Bearer realm="T5G API"' + (', error="invalid_token"' if bad_token else "")
    return ApiError(401, message, headers={"WWW-Authenticate": challenge})


def authenticate(request: HttpRequest) -> None:
    """Accept a bearer token or the session; raise ApiError(401 or 403) otherwise."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise _unauthorized("Send Authorization: Bearer <key>.", bad_token=True)
        # Looked up by its hash: the stored value cannot be used as a key, and comparing hashes
        # leaks nothing about the key through timing.
        token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key.strip())).first()
        if token is None:
            raise _unauthorized("This API key is not valid.", bad_token=True)
        if not token.user.is_active:
            raise ApiError(403, "The user of this API key is not active.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        request.user = token.user
        return
    if request.user.is_authenticated:
        if not request.user.is_active:
            raise ApiError(403, "This user is not active.")
        return
    if SESSION_KEY in request.session:
        # Signed in, but the authentication backends refuse the user now (made inactive since).
        raise ApiError(403, "This user is not active.")
    raise _unauthorized("Sign in, or send Authorization: Bearer <key> (an API token from the admin).")


def _error(error: ApiError) -> JsonResponse:
    body = {"error": error.message}
    if error.details:
        body["details"] = error.details
    return JsonResponse(body, status=error.status, headers=error.headers)


def api_view(view: Callable[..., dict | HttpResponse]) -> Callable[..., HttpResponse]:
    """A read-only API endpoint: `view` returns the JSON body as a dict (or a response already made,
    from the cache), or raises ApiError."""

    # GET only, so no CSRF risk; exempt so that a POST gets the 405 it deserves rather than a CSRF 403.
    @csrf_exempt
    @login_not_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            if request.method not in METHODS:
                raise ApiError(405, f"{request.method} is not allowed: the API is read-only.",
                               headers={"Allow": ", ".join(METHODS)})  # fmt: skip
            authenticate(request)
            body = view(request, *args, **kwargs)
            response = body if isinstance(body, HttpResponse) else JsonResponse(body)
        except ApiError as error:
            response = _error(error)
        # Answers differ per caller and must never sit in a shared cache.
        patch_cache_control(response, private=True, no_store=True)
        patch_vary_headers(response, ("Authorization", "Cookie"))
        return response

    return wrapper


def _positive(request: HttpRequest, name: str, default: int) -> int:
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name}: expected a whole number, got {raw[:40]!r}.") from None
    if value < 1:
        raise ApiError(400, f"{name}: must be 1 or more.")
    return value


def _date(request: HttpRequest, name: str, default: date) -> date:
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"{name}: expected a date as YYYY-MM-DD, got {raw[:40]!r}.") from None


def _paging(request: HttpRequest) -> tuple[int, int]:
    return _positive(request, "page", 1), min(_positive(request, "per", DEFAULT_PER), MAX_PER)


def paged(request: HttpRequest, rows: QuerySet, serialize: Callable[[object], dict], **extra) -> dict:
    """One page of `rows`: two queries (the count, the page) plus the page's prefetches."""
    page, per = _paging(request)
    count = rows.count()
    start = (page - 1) * per
    results = [serialize(row) for row in rows[start : start + per]] if start < count else []
    return {**extra, "count": count, "page": page, "per": per, "results": results}


def _list_name(request: HttpRequest, **resolved: object) -> str:
    """The canonical path and query of a list: parameters sorted, paging and `resolved` (values the
    view worked out, such as default dates) as used. Two calls asking the same share one cache entry."""
    page, per = _paging(request)
    params = {name: values for name, values in request.GET.lists() if name not in resolved}
    params.update(page=[str(page)], per=[str(per)])
    params.update((name, [str(value)]) for name, value in resolved.items())
    return request.path + "?" + urlencode(sorted((name, v) for name, values in params.items() for v in values))


def cached_list(
    request: HttpRequest, *, feeds: tuple[str, ...], build: Callable[[], dict], name: str = ""
) -> HttpResponse:
    """The JSON of build(), serialized once and cached under `name` (by default the request's canonical
    path and query) and the generations of `feeds`, the data it reads. An ApiError raised by build()
    is answered, never cached."""
    body, _ = cached(
        f"api:{name or _list_name(request)}",
        feeds=feeds,
        build=lambda: json.dumps(build(), cls=DjangoJSONEncoder).encode(),
        timeout=LIST_TIMEOUT,
    )
    return HttpResponse(body, content_type="application/json")


def _yes(request: HttpRequest, name: str) -> bool:
    return request.GET.get(name, "").lower() in ("yes", "1", "true")


def _live(rows: QuerySet, request: HttpRequest) -> QuerySet:
    """Rows that left upstream stay in the database for history: left out unless ?include_removed=yes."""
    return rows if _yes(request, "include_removed") else rows.filter(removed_at__isnull=True)


# --- What each kind of row looks like -------------------------------------------------------------


def _severity(value: int | None) -> dict | None:
    return None if value is None else {"value": value, "label": SEVERITY_LABELS.get(value, str(value))}


def _case(case: Case) -> dict:
    return {
        "number": case.number,
        "url": portal_url(case.number),
        "api_url": reverse("api_case", args=[case.number]),
        "severity": _severity(case.severity),
        "account": case.account,
        "summary": case.summary,
        "status": case.status,
        "owner": case.owner,
        "product": case.product,
        "product_version": case.product_version,
        "tags": case.tags,
        "created_at": case.created_at,
        "closed_at": case.closed_at,
        "reopened_at": case.reopened_at,
        "updated_at": case.upstream_updated_at,
        "synced_at": case.synced_at,
        "removed_at": case.removed_at,
    }


def _case_row(case: Case) -> dict:
    """A row of case_rows(): the case with its active card's columns and escalation flags."""
    card = None
    if case.card_key:
        card = {
            "key": case.card_key,
            "url": jira_url(case.card_key),
            "status": case.internal_status,
            "jira_status": case.jira_status,
            "assignee": case.assignee,
            "contributors": case.contributors or [],
        }
    flags = {"prio": case.prio, "prio_link": case.prio_link or "", "crit_sit": case.crit_sit}
    return {**_case(case), "card": card, **flags}


def _card(card: Card) -> dict:
    return {
        "key": card.key,
        "url": jira_url(card.key),
        "case": card.case_id,
        "active": card.active,
        "summary": card.summary,
        "status": card.status,
        "jira_status": card.jira_status,
        "assignee": card.assignee,
        "contributors": card.contributors,
        "priority": card.priority,
        "severity": _severity(card.severity),
        "labels": card.labels,
        "sprint": card.sprint,
        "escalated": card.escalated,
        "potential_escalation": card.potential_escalation,
        "created_at": card.created_at,
        "updated_at": card.upstream_updated_at,
        "synced_at": card.synced_at,
        "removed_at": card.removed_at,
    }


def _comment(comment: CardComment | CaseComment) -> dict:
    row = {
        "id": comment.id,
        "author": comment.author,
        "body": comment.body,
        "created_at": comment.created_at,
        "updated_at": comment.upstream_updated_at,
    }
    if isinstance(comment, CaseComment):
        row["public"] = comment.public
    return row


def _bug(bug: Bug) -> dict:
    return {
        "id": bug.id,
        "url": bugzilla_url(bug.id),
        "summary": bug.summary,
        "status": bug.status,
        "resolution": bug.resolution,
        "severity": bug.severity,
        "priority": bug.priority,
        "component": bug.component,
        "target_release": bug.target_release,
        "assignee": bug.assignee,
        "qa_contact": bug.qa_contact,
        "internal_whiteboard": bug.internal_whiteboard,
        "restricted": bug.restricted,
        "updated_at": bug.upstream_updated_at,
        "synced_at": bug.synced_at,
        "removed_at": bug.removed_at,
    }


def _issue(issue: Issue) -> dict:
    return {
        "key": issue.key,
        "url": jira_url(issue.key),
        "summary": issue.summary,
        "status": issue.status,
        "priority": issue.priority,
        "severity": issue.severity,
        "issue_type": issue.issue_type,
        "assignee": issue.assignee,
        "qa_contact": issue.qa_contact,
        "fix_versions": issue.fix_versions,
        "private_keywords": issue.private_keywords,
        "updated_at": issue.upstream_updated_at,
        "synced_at": issue.synced_at,
        "removed_at": issue.removed_at,
    }


def _with_cases(serialize: Callable[[object], dict]) -> Callable[[object], dict]:
    # The linked cases come prefetched as `linked` (numbers only).
    return lambda row: {**serialize(row), "cases": [case.number for case in row.linked]}


def _escalation(escalation: Escalation) -> dict:
    return {
        "case": escalation.case_id,
        "type": escalation.type,
        "type_label": escalation.get_type_display(),
        "link": escalation.link,
        "escalated_at": escalation.escalated_at,
        "reason": escalation.reason,
        "source": escalation.source,
        "updated_at": escalation.upstream_updated_at,
        "removed_at": escalation.removed_at,
    }


# --- Endpoints ------------------------------------------------------------------------------------


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
    page, per = _paging(request)
    # The table's own canonical query string: equal queries share one cache entry.
    name = request.path + "?" + urlencode([*query.params(), ("page", page), ("per", per)])
    return cached_list(
        request,
        name=name,
        feeds=("cases", "cards", "escalations"),
        build=lambda: paged(request, case_rows(query=query), _case_row),
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
            **_card(found.card),
            "comments": [_comment(c) for c in found.card_comments],
            "more_comments": found.more_card_comments,
        }
    return {
        **_case(found.case),
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
        "bugs": [_bug(bug) for bug in found.bugs],
        "issues": [_issue(issue) for issue in found.issues],
        "escalation": None if escalation is None else _escalation(escalation),
        "comments": [_comment(c) for c in found.case_comments],
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
        return paged(request, rows.order_by("-upstream_updated_at", "key"), _card)

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
        return paged(request, found, _with_cases(serialize))

    # The links to cases come with the cases' sync too.
    return cached_list(request, feeds=("bugs", "cases"), build=build)


@api_view
def bugs(request: HttpRequest) -> dict:
    """Bugzilla bugs with their cases; q searches the summary."""
    return _linked_list(
        request, Bug.objects.all(), search=lambda q: Q(summary__icontains=q), order="id", serialize=_bug
    )


@api_view
def issues(request: HttpRequest) -> dict:
    """JIRA bugs linked to cases, with their cases; q searches the key and summary."""
    return _linked_list(
        request,
        Issue.objects.all(),
        search=lambda q: Q(key__icontains=q) | Q(summary__icontains=q),
        order="key",
        serialize=_issue,
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
        return paged(request, rows.order_by("-escalated_at", "case_id"), _escalation)

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
    name = _list_name(request, scope=scope, start=start.isoformat(), end=end.isoformat())
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


urlpatterns = [
    path("", index, name="api"),
    path("cases/", cases, name="api_cases"),
    path("cases/<str:number>/", case, name="api_case"),
    path("cards/", cards, name="api_cards"),
    path("bugs/", bugs, name="api_bugs"),
    path("issues/", issues, name="api_issues"),
    path("escalations/", escalations, name="api_escalations"),
    path("stats/", stats, name="api_stats"),
    path("freshness/", freshness, name="api_freshness"),
]
