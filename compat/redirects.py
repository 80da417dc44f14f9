"""The old dashboard's page URLs (predecessor.md §1.1) answered with a permanent redirect to T5G's page for them.

Bookmarks and links in old mails and JIRA comments keep working. The old case table's DataTables deep-link
parameters (`search.search`, `order`, `searchPanes.preSelect`) become the cases table's `q`, `sort` and
facets where a T5G column matches. A redirect needs no sign-in: the page it leads to asks for one, and
comes back to the new address.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.urls import reverse

from cases.models import Severity

# The old table's columns (templates/macros/macros.html::cases_table) → the cases table's sort names.
OLD_SORT_COLUMNS = {1: "case", 2: "severity", 3: "prio", 4: "critsit", 5: "summary", 6: "product",
                    7: "account", 8: "case_status", 9: "status", 10: "assignee", 11: "card", 13: "days_open",
                    14: "updated"}  # fmt: skip
# The cases table takes at most this many sort keys (cases.query.MAX_SORTS, which apps other than cases may
# not import); the test sends more and checks the page answers.
MAX_SORTS = 4
# The old search panes' columns → the cases table's facets; a value mapper per facet (None: drop the value).
OLD_PRIO = {"yes": "yes", "potentially": "potential", "no": "no"}
OLD_PANES = {
    2: ("severity", lambda v: _severity(v)),  # defined below
    3: ("prio", lambda v: OLD_PRIO.get(v.strip().lower())),
    6: ("product", lambda v: v),
    7: ("account", lambda v: v),
    9: ("status", lambda v: v),
}
# DataTables' deep link writes JavaScript object literals ({column:2,rows:["High"]}): keys unquoted.
_BARE_KEY = re.compile(r"([{,]\s*)([A-Za-z_]\w*)\s*:")


def _severity(value: str) -> str | None:
    """ "High", "2 (High)", "2" → "2"."""
    word = value.strip().lower()
    for number, label in Severity.choices:
        if word in (label.lower(), str(number), f"{number} ({label.lower()})"):
            return str(number)
    return None


def _loose_json(raw: str) -> object:
    try:
        return json.loads(_BARE_KEY.sub(r'\1"\2":', raw))
    except ValueError:
        return None


def _sort(raw: str) -> str | None:
    """order=[[2,"desc"],[3,"desc"]] (or order=2,desc) → the columns T5G can sort by, in order: "-severity,-prio"
    (the table's multi-column sort; a column without a match, like the comments, is left out)."""
    order = _loose_json(raw)
    if not isinstance(order, list):
        order = [raw.split(",")]
    if order and not isinstance(order[0], list):
        order = [order]
    keys: dict[str, str] = {}
    for item in order:
        if not isinstance(item, list) or not item:
            continue
        try:
            column = OLD_SORT_COLUMNS.get(int(item[0]))
        except (TypeError, ValueError):
            continue
        if column and column not in keys:
            keys[column] = "-" if len(item) > 1 and str(item[1]).lower() == "desc" else ""
    return ",".join(f"{d}{c}" for c, d in list(keys.items())[:MAX_SORTS]) or None


def _facets(raw: str) -> list[tuple[str, str]]:
    """searchPanes.preSelect=[{column:2,rows:["High"]}] → [("severity", "2")]."""
    panes = _loose_json(raw)
    found: list[tuple[str, str]] = []
    for pane in panes if isinstance(panes, list) else []:
        if not isinstance(pane, dict) or not isinstance(pane.get("rows"), list):
            continue
        try:
            name, convert = OLD_PANES[int(pane.get("column"))]
        except (KeyError, TypeError, ValueError):
            continue
        found += [(name, value) for row in pane["rows"] if isinstance(row, str) and (value := convert(row))]
    return found


def table_params(request: HttpRequest) -> list[tuple[str, str]]:
    """The cases table's parameters equivalent to an old table URL's deep-link parameters."""
    params: list[tuple[str, str]] = []
    if q := request.GET.get("search.search", "").strip():
        params.append(("q", q))
    params += _facets(request.GET.get("searchPanes.preSelect", ""))
    if sort := _sort(request.GET.get("order", "")):
        params.append(("sort", sort))
    return params


def _to(url: str, params: list[tuple[str, str]] | None = None) -> HttpResponsePermanentRedirect:
    return HttpResponsePermanentRedirect(url + ("?" + urlencode(params) if params else ""))


@login_not_required
def home(request: HttpRequest, **_) -> HttpResponsePermanentRedirect:
    return _to(reverse("home"))


@login_not_required
def stats(request: HttpRequest) -> HttpResponsePermanentRedirect:
    return _to(reverse("stats"))


@login_not_required
def cases_view(request: HttpRequest, *, view: str) -> HttpResponsePermanentRedirect:
    """An old table → the cases table's view of the same cards (`commented`: the old /table/, cards commented
    on in the last 7 days), its deep link carried over."""
    return _to(reverse("cases"), [("view", view), *table_params(request)])


@login_not_required
def updates_view(request: HttpRequest, *, scope: str) -> HttpResponsePermanentRedirect:
    """An old card layout (/updates/all, /trends/) → the updates page's layout of the same cards."""
    return _to(reverse("updates"), [("scope", scope)])


@login_not_required
def account(request: HttpRequest, *, name: str) -> HttpResponsePermanentRedirect:
    return _to(reverse("account", args=[name.rstrip("/")]))


@login_not_required
def engineer(request: HttpRequest, *, name: str) -> HttpResponsePermanentRedirect:
    return _to(reverse("engineer", args=[name.rstrip("/")]))


@login_not_required
def api(request: HttpRequest, *, name: str) -> HttpResponsePermanentRedirect:
    """An old /api/<name> → /api/v0/<name>, its query string kept."""
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(reverse(f"api_v0_{name}") + (f"?{query}" if query else ""))
