"""Reads of the cases table (/cases/), reusable by other pages and the API.

case_rows() is what a CaseQuery (cases.query) selects, sorted, with the table's columns; facets() counts
it; case_page() is one page of it as the table shows it; export_rows() streams all of it; case_detail()
is one expanded row; cases_to_refresh() is what the per-case syncs read. The SQL of the filters, the
sort and the columns is in cases.filters.

Built to stay fast at 100k cases on SQLite:
- a costly filter (free text, labels, card fields) is run once, and when it matches few cases the
  counts and the page work on their numbers (_selection);
- facets: one statement groups the selection by severity, product, account and the card status copied
  onto each case, from covering indexes (Case.Meta.indexes), a costly selection evaluated once for all
  of them; prio-list, crit sit, Telco priority and the Daily Telco list start from their few cases;
- a page's case numbers are found from case columns and flags alone; only those rows are joined
  to their card, escalation and detail.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from math import ceil

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber, Substr
from django.utils import timezone

from bugs.models import Bug, Issue
from cards.models import Card, CardComment
from t5g.cache import cached
from t5g.paging import Page

from . import search
from .filters import (
    NOT_DONE,
    Type,
    crit_sit_cases,
    escalated_cases,
    filtered,
    labelled_cases,
    ordered,
    telco_links,
    with_columns,
)
from .filters import trends_cards as trends_cards  # re-exported: reports' trends layout shows the same cards
from .models import Case, CaseComment, SlaPartner
from .query import DEFAULT_SORT, NO_CARD, PRIO_VALUES, RANK, STATUS_VALUES, UNMAPPED, CaseQuery

# The accounts and products facets list this many values (the most frequent); the rest are counted.
FACET_TOP = 30
# The expanded row lists at most this many comments of each kind, newest first.
ROW_COMMENTS = 50
# JIRA bug severities on the scale of case severities (1 = Urgent).
ISSUE_SEVERITY = {"critical": 1, "urgent": 1, "important": 2, "high": 2, "moderate": 3, "normal": 3, "low": 4}
# The table's "most recent comment" cell (and the exports) read at most this much of a comment:
# JIRA comments can be whole logs.
COMMENT_PREVIEW = 1000

# Filters that cost a scan of a large table (text search, labels) or a subquery: a query using one
# finds its cases once, and when they are few, counts, ranks and pages them by number (sent as one JSON
# parameter, number_in); when they are many, the facets evaluate it once (_grouped).
COSTLY = ("q", "prio", "critsit", "escalated", "status", "assignee", "closed_not_done", "telco", "daily_telco")
FEW = 10_000


@dataclass
class _Selection:
    qs: QuerySet[Case]
    costly: bool = False
    # For a costly filter matching at most FEW cases, once known: each one's severity, by number (the page ranks
    # and pages them by number).
    severities: dict[str, int] | None = None
    # In the default order: the cases of the page asked for, in order, when the facets' statement read them.
    window: list[str] | None = None


def _selection(*, query: CaseQuery) -> _Selection:
    return _Selection(
        filtered(query=query),
        costly=query.view in ("trends", "commented") or any(getattr(query, name) for name in COSTLY),
    )


def _narrowed(
    selection: _Selection, found: dict[str, int] | None = None, window: list[str] | None = None
) -> _Selection:
    """A costly selection matching at most FEW cases as those cases by number (`found`: the ones it matches, as far
    as FEW + 1 of them, when _grouped read them already), with its page's cases when _grouped read them (`window`)."""
    if not selection.costly or selection.severities is not None:
        return selection
    if found is None:
        found = dict(selection.qs.values_list("number", "severity")[: FEW + 1])
    if len(found) > FEW:
        return replace(selection, window=window)
    qs = Case.objects.filter(number_in(list(found))).order_by()
    return _Selection(qs, costly=True, severities=found, window=window)


def number_in(numbers: list[str]) -> Q:
    """number IN (the list), sent as one JSON parameter: Django prepares each parameter of an IN list in
    Python, which for thousands of numbers costs more than running the query."""
    return Q(number__in=RawSQL(_json_values(), [json.dumps(numbers)]))


def _json_values() -> str:
    """The values of a JSON list (one parameter) as a subquery's rows."""
    if connection.vendor == "postgresql":
        return "SELECT jsonb_array_elements_text(%s::jsonb)"
    return "SELECT value FROM json_each(%s)"


def case_rows(*, query: CaseQuery) -> QuerySet[Case]:
    """The cases the query selects, in its order, each with the table's columns as attributes:
    card_key, internal_status (None: no card; "": its JIRA status is not mapped), jira_status, assignee,
    contributors, prio ("yes", "potential", "no"), prio_link, crit_sit.

    Fine for a few hundred rows or for streaming; a page of a large set is cheaper with case_page()."""
    return with_columns(ordered(filtered(query=query), sort=query.sort, now=timezone.now()))


# --- facets ------------------------------------------------------------------------------------------------
@dataclass
class Facet:
    """Counts of one filter's values in the current set, most frequent first; `more` values not listed."""

    name: str
    counts: list[tuple[object, int]] = field(default_factory=list)
    more: int = 0


FacetsOf = Callable[[CaseQuery], dict]


def facets(*, query: CaseQuery, facets_of: FacetsOf | None = None) -> dict:
    """Counts of the cases the query selects ("total") by severity, prio-list, crit sit, escalated,
    internal status, case closed but card not done, product and account (the FACET_TOP most frequent).

    One statement over the selection (see _counts), and for each facet chosen from, the counts of the query
    without it: facets_of(that query) when given (the views' cache: usually the unfiltered table's, built already),
    else counted here."""
    return _facets(_selection(query=query), query=query, facets_of=facets_of, page=False)[0]


def facets_and_page(*, query: CaseQuery, facets_of: FacetsOf | None = None) -> tuple[dict, CasePage]:
    """facets() and case_page() with the filters evaluated once (a costly filter costs once: the facets'
    statement also reads the cases it matches, when they are few, for the page)."""
    selection = _selection(query=query)
    counts, found, window = _facets(selection, query=query, facets_of=facets_of)
    return counts, _page(_narrowed(selection, found, window), query=query, total=counts["total"])


# Facets whose values combine with OR (severity=1&severity=2): each is counted without its own filter, so the
# values not chosen keep their counts and stay there to add (AND across facets, as the filters apply).
OR_FACETS = ("severity", "prio", "status", "product", "account", "telco")


def _facets(
    selection: _Selection, *, query: CaseQuery, facets_of: FacetsOf | None, page: bool = True
) -> tuple[dict, dict[str, int] | None, list[str] | None]:
    """The counts; for a costly selection, the severities of the cases it matches (FEW + 1 at most) and, with
    `page`, in the default order, the cases of the page `query` asks for, in order (see _grouped)."""
    flagged = _flagged()
    window = None
    if selection.costly and page and query.sort in (RANK, DEFAULT_SORT):
        # Best match first is the default order past FEW matches: only then is the window read for it.
        window = ((query.page - 1) * query.per, query.per, FEW if query.sort == RANK else 0)
    counts, found, numbers = _counts(selection, flagged=flagged, rows=selection.costly, window=window)
    for name in OR_FACETS:
        if getattr(query, name):
            # One more count per facet chosen from (usually one): the set without that facet's filter.
            relaxed = replace(query, **{name: ()})
            if facets_of:
                counts[name] = facets_of(relaxed)[name]
            else:
                counts[name] = _counts(_selection(query=relaxed), flagged=flagged)[0][name]
    return counts, found, numbers


def _counts(
    selection: _Selection, *, flagged: _Flagged, rows: bool = False, window: tuple[int, int, int] | None = None
) -> tuple[dict, dict[str, int] | None, list[str] | None]:
    """The facets' counts of the selection, from one pass over it (_grouped) and the few flagged cases; `rows`:
    also the severities of the cases it matches (FEW + 1 at most); `window`: also a page of them in the default
    order (see _grouped)."""
    groups, matched, found, numbers = _grouped(
        selection.qs, flagged=flagged, once=selection.costly, rows=rows, window=window
    )
    severity = {int(value): n for value, n, _ in groups["severity"]}
    total = sum(severity.values())
    # The cases by their active card's status (Case.card_status, copied onto each case: no join).
    status: Counter = Counter()
    closed_not_done = 0
    for card_status, n, closed in groups["card_status"]:
        status[{None: NO_CARD, "": UNMAPPED}.get(card_status, card_status)] += n
        if card_status in NOT_DONE:
            closed_not_done += closed
    prio = {"yes": len(matched & flagged.prio_list), "potential": len(matched & flagged.potential)}
    prio["no"] = total - prio["yes"] - prio["potential"]
    crit = matched & flagged.crit_sit
    # A case with a P1 and a P2 bug counts under both, as either filter finds it.
    telco = [(level, n) for level, cases in sorted(flagged.telco.items()) if (n := len(matched & cases))]

    def yes_no(yes: int) -> list[tuple[str, int]]:
        return [(v, n) for v, n in (("yes", yes), ("no", total - yes)) if n]

    counts = {
        "total": total,
        "severity": Facet("severity", sorted(severity.items())),
        "prio": Facet("prio", [(v, prio[v]) for v in PRIO_VALUES if prio[v]]),
        "critsit": Facet("critsit", yes_no(len(crit))),
        "escalated": Facet("escalated", yes_no(len(crit | (matched & flagged.prio_list)))),
        "status": Facet("status", [(s, status[s]) for s in STATUS_VALUES if status.get(s)]),
        "closed_not_done": Facet("closed_not_done", [(True, closed_not_done)] if closed_not_done else []),
        "telco": Facet("telco", telco),
        "daily_telco": Facet("daily_telco", yes_no(len(matched & flagged.daily_telco))),
        "product": _top_of(Counter({value: n for value, n, _ in groups["product"]}), "product"),
        "account": _top_of(Counter({value: n for value, n, _ in groups["account"]}), "account"),
    }
    return counts, found, numbers


@dataclass
class _Flagged:
    """The few cases (hundreds, a few thousand at 100,000) a facet counts by a flag."""

    prio_list: set[str] = field(default_factory=set)
    potential: set[str] = field(default_factory=set)
    crit_sit: set[str] = field(default_factory=set)  # in the case's details or as the escalation's reason
    daily_telco: set[str] = field(default_factory=set)
    telco: dict[int, set[str]] = field(default_factory=dict)  # level -> cases linked to a JIRA bug of that level

    def all(self) -> set[str]:
        return self.prio_list | self.potential | self.crit_sit | self.daily_telco | set().union(*self.telco.values())

    def prio_rank(self, number: str) -> int:
        """As cases.filters' prio rank: the prio-list first, then potential escalations, then the rest."""
        return 0 if number in self.prio_list else 1 if number in self.potential else 2


# What the table reads: a sync of any of these makes every cached copy of its pages (and of _flagged()) old.
TABLE_FEEDS = ("cases", "cards", "bugs", "escalations")


def _flagged() -> _Flagged:
    """The flagged sets, read once per change of the data (measured at 100,000 cases: 30 ms, most of it the Daily
    Telco label's scan of every card, in each of the table's facets that missed the cache)."""
    return cached("cases-flagged", feeds=TABLE_FEEDS, build=_read_flagged, timeout=3600, old_ok=False)[0]


def _read_flagged() -> _Flagged:
    def cases(qs: QuerySet) -> set[str]:
        return set(qs.values_list("case_id", flat=True))

    flagged = _Flagged(
        prio_list=cases(escalated_cases(Type.PRIO_LIST)),
        potential=cases(escalated_cases(Type.POTENTIAL)),
        crit_sit=set().union(*map(cases, crit_sit_cases())),
        daily_telco=cases(labelled_cases(settings.DAILY_TELCO_LABEL)),
    )
    for case, level in telco_links().values_list("case_id", "issue__telco_priority"):
        flagged.telco.setdefault(level, set()).add(case)
    return flagged


def _grouped(
    qs: QuerySet[Case],
    *,
    flagged: _Flagged,
    once: bool,
    rows: bool = False,
    window: tuple[int, int, int] | None = None,
) -> tuple[dict[str, list[tuple]], set[str], dict[str, int] | None, list[str] | None]:
    """One statement over the selection: its groups by severity, product, account and card status (value, count,
    how many closed), which of the flagged cases it holds, with `rows` the severity of each case it matches (FEW + 1
    at most), and with `window` (offset, count, more than) those cases in the default order (cases.filters.ordered:
    severity, prio-list, potential, crit sit, number), sorted from what the statement read already, when it matches
    more than that many (else None).

    `once`: the selection is evaluated once, into a table, for a costly one (measured at 100,000 cases on SQLite,
    a word in half of them: a statement per facet evaluated the search each time, 7 x 40 ms; the page's query read
    each matched case again to sort them, 50 of 200 ms); otherwise each group reads its own covering index
    (Case.Meta.indexes: all 100,000 cases grouped in 88 ms, against 208 ms through a table of them)."""
    groups: dict[str, list[tuple]] = {name: [] for name in ("severity", "product", "account", "card_status")}
    matched, found, numbers = set(), {} if rows else None, None
    columns = qs.order_by().values_list("number", "severity", "product", "account", "card_status", "status")
    try:
        selection, params = columns.query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (a search without a word)
        return groups, matched, found, numbers
    closed = "SUM(CASE WHEN status = 'Closed' THEN 1 ELSE 0 END)"
    parts = [
        f"SELECT '{name}', CAST({name} AS TEXT), COUNT(*), {closed if name == 'card_status' else 0} FROM m "
        f"GROUP BY {name}"
        for name in ("severity", "product", "account", "card_status")
    ]
    if every := flagged.all():
        parts.append(f"SELECT 'flagged', number, 1, 0 FROM m WHERE number IN ({_json_values()})")
        params = (*params, json.dumps(sorted(every)))
    if rows:
        parts.append(f"SELECT 'row', number, severity, 0 FROM (SELECT number, severity FROM m LIMIT {FEW + 1}) AS r")
    if window:
        # The page's cases picked here by the same order put in Python below (the flags as JSON lists).
        prio = f"CASE WHEN number IN ({_json_values()}) THEN 0 WHEN number IN ({_json_values()}) THEN 1 ELSE 2 END"
        crit = f"CASE WHEN number IN ({_json_values()}) THEN 0 ELSE 1 END"
        offset, count, more_than = window
        parts.append(
            f"SELECT 'window', number, severity, 0 FROM (SELECT number, severity FROM m "
            f"WHERE (SELECT COUNT(*) FROM m) > {int(more_than)} "
            f"ORDER BY severity, {prio}, {crit}, number LIMIT {int(count)} OFFSET {int(offset)}) AS w"
        )
        params = (*params, *(json.dumps(sorted(s)) for s in (flagged.prio_list, flagged.potential, flagged.crit_sit)))
    sql = f"WITH m AS {'' if once else 'NOT '}MATERIALIZED ({selection}) " + " UNION ALL ".join(parts)
    page = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for name, value, n, closed_n in cursor.fetchall():
            if name == "flagged":
                matched.add(value)
            elif name == "row":
                found[value] = n
            elif name == "window":
                page.append((n, flagged.prio_rank(value), value not in flagged.crit_sit, value))
            else:
                groups[name].append((value, n, closed_n))
    if page:
        numbers = [number for *_, number in sorted(page)]
    return groups, matched, found, numbers


def _top_of(counts: Counter, name: str) -> Facet:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return Facet(name, ranked[:FACET_TOP], more=max(0, len(ranked) - FACET_TOP))


# --- a page of the table -----------------------------------------------------------------------------------
@dataclass(kw_only=True)
class CasePage(Page):
    rows: list[Case]


def case_page(*, query: CaseQuery, total: int | None = None) -> CasePage:
    """One page of case_rows() (a page past the end shows the last one). Each row also has
    latest_comment (a dict: created_at, author, body (at most COMMENT_PREVIEW characters)) or None,
    sla_class ("sla-warning", "sla-alert" or "") and, for a search, match (a cases.search.Snippet or None).
    Five queries however many rows, four with `total` (from facets()); a search adds two."""
    return _page(_narrowed(_selection(query=query)), query=query, total=total)


def _page(selection: _Selection, *, query: CaseQuery, total: int | None) -> CasePage:
    qs = selection.qs
    if total is None:
        total = qs.count()
    number = min(query.page, max(1, ceil(total / query.per)))
    offset = (number - 1) * query.per
    # The page's case numbers first, from case columns and flags alone; then only those rows joined.
    if query.q and query.sorts[0][0] == RANK and selection.severities is not None:
        numbers = best_first(q=query.q, severities=selection.severities)[offset : offset + query.per]
    elif selection.window is not None and number == query.page:
        numbers = selection.window
    else:
        # More than FEW matches (a word in most cases) keep the default order: ranking them all costs more
        # than it tells.
        in_order = ordered(qs, sort=query.sort, now=timezone.now()).values_list("number", flat=True)
        numbers = list(in_order[offset : offset + query.per])
    found = {row.number: row for row in with_columns(Case.objects.filter(number__in=numbers))}
    rows = [found[n] for n in numbers if n in found]
    comments = latest_comments(card_keys=[r.card_key for r in rows if r.card_key])
    partners = {p.account: p for p in SlaPartner.objects.filter(account__in={r.account for r in rows})}
    matches = search.snippets(query.q, numbers=numbers) if query.q else {}
    for row in rows:
        row.latest_comment = comments.get(row.card_key)
        row.sla_class = sla_class(case=row, partner=partners.get(row.account))
        row.match = matches.get(row.number)
    return CasePage(rows=rows, total=total, number=number, per=query.per)


def best_first(*, q: str, severities: dict[str, int]) -> list[str]:
    """The cases matching `q` (number -> severity) best match first: a case whose number holds `q` or whose card
    `q` names leads (people paste them), then by the search's relevance, then by severity and number. In Python:
    the candidates are at most FEW, and SQL would sort them all again by its own default order (40 ms of a
    search of 10,000 cases at 100,000)."""
    scores = search.scores(q, numbers=list(severities))
    q = q.strip()
    named = set(Card.objects.filter(key=q.upper(), case_id__isnull=False).values_list("case_id", flat=True))
    return sorted(severities, key=lambda n: (q not in n and n not in named, -scores.get(n, 0.0), severities[n], n))


def latest_comments(*, card_keys: list[str]) -> dict[str, dict]:
    """Card key -> its newest comment (created_at, author, body cut to COMMENT_PREVIEW), in one query."""
    if not card_keys:
        return {}
    newest = (
        CardComment.objects.filter(card_id__in=card_keys, removed_at__isnull=True)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("card_id")], order_by=[F("created_at").desc(), F("id").desc()])
        )
        .filter(rank=1)
        .values("card_id", "created_at", "author", preview=Substr("body", 1, COMMENT_PREVIEW))
    )
    return {c["card_id"]: {**c, "body": c["preview"]} for c in newest}


def sla_class(*, case: Case, partner: SlaPartner | None) -> str:
    """How a partner's case stands against its SLA: "sla-alert" at or past it, "sla-warning" past half."""
    days = partner and partner.days_for(case.severity)
    if not days:
        return ""
    if case.days_open >= days:
        return "sla-alert"
    return "sla-warning" if case.days_open > days / 2 else ""


# --- new cases ------------------------------------------------------------------------------------------
def new_cases(*, since: datetime, limit: int) -> tuple[list[dict], int]:
    """The `limit` most severe, then newest, cases opened since `since` and still on the query, as dicts
    (number, account, severity, summary, status, created_at), and how many there are: one query, two when
    there are more than `limit`."""
    recent = Case.objects.filter(created_at__gte=since, removed_at__isnull=True)
    found = list(
        recent.order_by("severity", "-created_at").values(
            "number", "account", "severity", "summary", "status", "created_at"
        )[:limit]
    )
    return found, len(found) if len(found) < limit else recent.count()


# --- exports -----------------------------------------------------------------------------------------------
EXPORT_COLUMNS = ("Case", "Severity", "On prio-list", "Crit sit", "Summary", "Product", "Account", "Case status",
                  "Internal status", "Assignee", "Contributors", "JIRA card", "Most recent comment at",
                  "Most recent comment", "Days open", "Last updated")  # fmt: skip


def export_rows(*, query: CaseQuery) -> Iterator[dict]:
    """Every case the query selects, in its order, as dicts of plain values (the table's columns),
    read in one streamed query."""
    newest = CardComment.objects.filter(card_id=OuterRef("card_key"), removed_at__isnull=True).order_by(
        "-created_at", "-id"
    )
    rows = (
        case_rows(query=query)
        .annotate(
            comment_at=Subquery(newest.values("created_at")[:1]),
            comment=Subquery(newest.values(preview=Substr("body", 1, COMMENT_PREVIEW))[:1]),
        )
        .values(
            "number",
            "severity",
            "prio",
            "crit_sit",
            "summary",
            "product",
            "account",
            "status",
            "internal_status",
            "jira_status",
            "assignee",
            "contributors",
            "card_key",
            "comment_at",
            "comment",
            "created_at",
            "closed_at",
            "upstream_updated_at",
        )  # fmt: skip
    )
    now = timezone.now()
    for row in rows.iterator(chunk_size=2000):
        row["days_open"] = ((row["closed_at"] or now) - row["created_at"]).days
        yield row


# --- one expanded row --------------------------------------------------------------------------------------
@dataclass
class CaseDetail:
    case: Case
    card: Card | None
    group_name: str
    bugs: list[Bug]
    issues: list[Issue]  # each with `mismatch`: "mismatch-low", "mismatch-high" or ""
    card_comments: list[CardComment]
    case_comments: list[CaseComment]
    more_card_comments: bool
    more_case_comments: bool


def issue_mismatch(*, issue_severity: str, case_severity: int) -> str:
    """ "mismatch-low" when the JIRA bug is rated less severe than its case, "mismatch-high" when more."""
    rank = ISSUE_SEVERITY.get((issue_severity or "").strip().lower())
    if rank is None or rank == case_severity:
        return ""
    return "mismatch-low" if rank > case_severity else "mismatch-high"


def case_detail(*, number: str) -> CaseDetail | None:
    """What the expanded row of a case shows, in six queries however many bugs, issues and comments."""
    case = Case.objects.select_related("detail").filter(number=number).first()
    if case is None:
        return None
    detail = getattr(case, "detail", None)
    card = Card.objects.filter(case_id=number, active=True).first()  # one at most (a unique constraint)
    bugs = list(case.bugs.order_by("-upstream_updated_at", "id"))
    # The most urgent Telco priority first (P1), then the others by their last change.
    issues = list(case.issues.order_by(F("telco_priority").asc(nulls_last=True), "-upstream_updated_at", "key"))
    for issue in issues:
        issue.mismatch = issue_mismatch(issue_severity=issue.severity, case_severity=case.severity)
    newest_first = ("-created_at", "-id")
    card_comments = []
    if card:
        card_comments = list(card.comments.filter(removed_at__isnull=True).order_by(*newest_first)[: ROW_COMMENTS + 1])
    case_comments = list(case.comments.filter(removed_at__isnull=True).order_by(*newest_first)[: ROW_COMMENTS + 1])
    return CaseDetail(
        case=case,
        card=card,
        group_name=detail.group_name if detail else "",
        bugs=bugs,
        issues=issues,
        card_comments=card_comments[:ROW_COMMENTS],
        case_comments=case_comments[:ROW_COMMENTS],
        more_card_comments=len(card_comments) > ROW_COMMENTS,
        more_case_comments=len(case_comments) > ROW_COMMENTS,
    )


# --- what the per-case syncs read ---------------------------------------------------------------------------
def cases_to_refresh(*, seen: str, read_at: str, full: bool, since: datetime | None) -> list[str]:
    """Cases whose copy of something (details, JIRA links) is behind the case, or old and open.

    `seen` names the field holding the case's last-modified time when that copy was read
    (comparing two upstream times stays exact whatever our clock says); `read_at` when.
    Without `since`, only cases open or changed in the last HISTORY_DAYS: a first load reads one
    request per case, and years of closed cases nobody opens again would make it hours long. A case
    read while open keeps its copy; `since` backfills older history on purpose.
    """
    cases = Case.objects.filter(removed_at__isnull=True)
    if since:
        cases = cases.filter(upstream_updated_at__gte=since)
    elif settings.HISTORY_DAYS:
        cutoff = timezone.now() - timedelta(days=settings.HISTORY_DAYS)
        cases = cases.filter(~Q(status="Closed") | Q(upstream_updated_at__gte=cutoff))
    if not since and not full:
        too_old = timezone.now() - timedelta(hours=settings.REFRESH_AFTER_HOURS)
        cases = cases.filter(
            Q(**{f"{seen}__isnull": True})
            | Q(**{f"{seen}__lt": F("upstream_updated_at")})
            | (Q(**{f"{read_at}__lt": too_old}) & ~Q(status="Closed"))
        )
    return list(cases.order_by("upstream_updated_at").values_list("number", flat=True))
