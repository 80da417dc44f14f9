"""Reads of the cases table (/cases/), reusable by other pages and the API.

case_rows() is what a CaseQuery (cases.query) selects, sorted, with the table's columns; facets() counts
it; case_page() is one page of it as the table shows it; export_rows() streams all of it; case_detail()
is one expanded row; cases_to_refresh() is what the per-case syncs read. The SQL of the filters, the
sort and the columns is in cases.filters.

Built to stay fast at 100k cases on SQLite:
- a costly filter (free text, labels, card fields) is run once, and when it matches few cases the
  counts and the page work on their numbers (_selection);
- facets: severity, product and account group a covering index each (Case.Meta.indexes); internal
  statuses read the card status copied onto each case (one covering index); prio-list and crit sit
  start from the few escalated cases;
- a page's case numbers are found from case columns and flags alone; only those rows are joined
  to their card, escalation and detail.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from math import ceil

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber, Substr
from django.utils import timezone

from bugs.models import Bug, Issue
from cards.models import Card, CardComment
from escalations.models import Escalation
from t5g.paging import Page

from . import search
from .filters import (
    NOT_DONE,
    Type,
    crit_sit_q,
    escalated_cases,
    escalated_q,
    filtered,
    labelled_cases,
    ordered,
    with_columns,
)
from .filters import trends_cards as trends_cards  # re-exported: reports' trends layout shows the same cards
from .models import Case, CaseComment, SlaPartner
from .query import NO_CARD, PRIO_VALUES, RANK, STATUS_VALUES, UNMAPPED, CaseQuery

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
# finds its cases once, and when they are few, counts and pages them by number. FEW stays well under
# SQLite's oldest limit on query parameters (32,766).
COSTLY = ("q", "prio", "critsit", "escalated", "status", "assignee", "closed_not_done", "telco", "daily_telco")
FEW = 10_000


@dataclass
class _Selection:
    qs: QuerySet[Case]
    # For a costly filter matching few cases: each case's (severity, product, account), to count in Python,
    # and their numbers, in the same order.
    rows: list[tuple[int, str, str]] | None = None
    numbers: list[str] = field(default_factory=list)


def _selection(*, query: CaseQuery) -> _Selection:
    """filtered(), or, for a costly filter matching at most FEW cases, those cases by number."""
    qs = filtered(query=query)
    if query.view in ("trends", "commented") or any(getattr(query, name) for name in COSTLY):
        found = list(qs.values_list("number", "severity", "product", "account")[: FEW + 1])
        if len(found) <= FEW:
            numbers = [number for number, *_ in found]
            rows = [tuple(rest) for _, *rest in found]
            return _Selection(Case.objects.filter(number_in(numbers)).order_by(), rows, numbers)
    return _Selection(qs)


def number_in(numbers: list[str]) -> Q:
    """number IN (the list), sent as one JSON parameter: Django prepares each parameter of an IN list in
    Python, which for thousands of numbers costs more than running the query."""
    if connection.vendor == "postgresql":
        values = "SELECT jsonb_array_elements_text(%s::jsonb)"
    else:
        values = "SELECT value FROM json_each(%s)"
    return Q(number__in=RawSQL(values, [json.dumps(numbers)]))


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


def facets(*, query: CaseQuery) -> dict:
    """Counts of the cases the query selects ("total") by severity, prio-list, crit sit, escalated,
    internal status, case closed but card not done, product and account (the FACET_TOP most frequent).

    Five queries, none of them per case; three for a costly filter matching few cases (see _selection)."""
    return _facets(_selection(query=query), query=query)


def facets_and_page(*, query: CaseQuery) -> tuple[dict, CasePage]:
    """facets() and case_page() with the filters evaluated once (a costly filter costs once)."""
    selection = _selection(query=query)
    counts = _facets(selection, query=query)
    return counts, _page(selection, query=query, total=counts["total"])


# Facets whose values combine with OR (severity=1&severity=2): each is counted without its own filter, so the
# values not chosen keep their counts and stay there to add (AND across facets, as the filters apply).
OR_FACETS = ("severity", "prio", "status", "product", "account", "telco")


def _facets(selection: _Selection, *, query: CaseQuery) -> dict:
    counts = _counts(selection)
    for name in OR_FACETS:
        if getattr(query, name):
            # One more count per facet chosen from (usually one): the set without that facet's filter.
            counts[name] = _counts(_selection(query=replace(query, **{name: ()})))[name]
    return counts


def _counts(selection: _Selection) -> dict:
    qs = selection.qs
    if selection.rows is None:
        severity = dict(qs.values_list("severity").annotate(n=Count("*")).values_list("severity", "n"))
        product, account = _top(qs, "product"), _top(qs, "account")
    else:
        # Counted here: SQLite would rather scan a whole index than look up a list of numbers.
        severity = Counter(sev for sev, _, _ in selection.rows)
        product = _top_of(Counter(p for _, p, _ in selection.rows), "product")
        account = _top_of(Counter(a for _, _, a in selection.rows), "account")
    total = sum(severity.values())
    # The cases by their active card's status, copied onto each case (Case.card_status): one covering index, no
    # join (joining 100,000 cases to their cards took half of a cold page's time).
    status: Counter = Counter()
    closed_not_done = 0
    closed = Count("status", filter=Q(status="Closed"))  # a column the index holds: it covers the query
    by_card = qs.order_by().values_list("card_status").annotate(n=Count("*"), closed=closed)
    for card_status, n, closed in by_card:
        status[{None: NO_CARD, "": UNMAPPED}.get(card_status, card_status)] += n
        if card_status in NOT_DONE:
            closed_not_done += closed
    # Then the few escalated cases.
    escalated_or_crit = (
        Q(number__in=Escalation.objects.filter(removed_at__isnull=True).values("case_id")) | crit_sit_q()
    )
    flags = qs.filter(escalated_or_crit).aggregate(
        prio_list=Count("number", filter=Q(number__in=escalated_cases(Type.PRIO_LIST))),
        potential=Count("number", filter=Q(number__in=escalated_cases(Type.POTENTIAL))),
        crit=Count("number", filter=crit_sit_q()),
        escalated=Count("number", filter=escalated_q()),
    )
    # Then the few cases linked to a JIRA bug with a Telco priority (from the indexed levels), and those on the
    # Daily Telco list. A case with a P1 and a P2 bug counts under both, as either filter finds it.
    # Measured at 100,000 cases (SQLite): grouping the selection joined to its issues took 140-190 ms however few
    # issues have a level, and joining the links to the issues 50-110 ms; the issues with a level (an index), their
    # links (by issue), then their cases by number take ~11 ms for 1,000 such issues on 1,500 cases.
    with_level = Issue.objects.filter(telco_priority__isnull=False, removed_at__isnull=True)
    telco = []
    if level_of := dict(with_level.values_list("key", "telco_priority")):
        links = Issue.cases.through.objects.filter(issue_id__in=with_level.values("key"))
        levels = {
            (case, level_of[issue]) for case, issue in links.values_list("case_id", "issue_id") if issue in level_of
        }
        selected = set(qs.filter(number_in(sorted({case for case, _ in levels}))).values_list("number", flat=True))
        telco = sorted(Counter(level for case, level in levels if case in selected).items())
    daily_telco = qs.filter(number__in=labelled_cases(settings.DAILY_TELCO_LABEL)).count()
    prio = {"yes": flags["prio_list"], "potential": flags["potential"]}
    prio["no"] = total - prio["yes"] - prio["potential"]

    def yes_no(yes: int) -> list[tuple[str, int]]:
        return [(v, n) for v, n in (("yes", yes), ("no", total - yes)) if n]

    return {
        "total": total,
        "severity": Facet("severity", sorted(severity.items())),
        "prio": Facet("prio", [(v, prio[v]) for v in PRIO_VALUES if prio[v]]),
        "critsit": Facet("critsit", yes_no(flags["crit"])),
        "escalated": Facet("escalated", yes_no(flags["escalated"])),
        "status": Facet("status", [(s, status[s]) for s in STATUS_VALUES if status.get(s)]),
        "closed_not_done": Facet("closed_not_done", [(True, closed_not_done)] if closed_not_done else []),
        "telco": Facet("telco", telco),
        "daily_telco": Facet("daily_telco", yes_no(daily_telco)),
        "product": product,
        "account": account,
    }


def _top_of(counts: Counter, name: str) -> Facet:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return Facet(name, ranked[:FACET_TOP], more=max(0, len(ranked) - FACET_TOP))


def _top(qs: QuerySet[Case], column: str) -> Facet:
    # Only the top values leave the database, each with the number of values in all (a window over
    # the groups): an account facet at 100k cases has thousands of values.
    top = list(
        qs.values(column)
        .annotate(n=Count("*"), values=Window(Count("*")))
        .order_by("-n", column)
        .values_list(column, "n", "values")[:FACET_TOP]
    )
    return Facet(column, [(value, n) for value, n, _ in top], more=top[0][2] - len(top) if top else 0)


# --- a page of the table -----------------------------------------------------------------------------------
@dataclass(kw_only=True)
class CasePage(Page):
    rows: list[Case]


def case_page(*, query: CaseQuery, total: int | None = None) -> CasePage:
    """One page of case_rows() (a page past the end shows the last one). Each row also has
    latest_comment (a dict: created_at, author, body (at most COMMENT_PREVIEW characters)) or None,
    sla_class ("sla-warning", "sla-alert" or "") and, for a search, match (a cases.search.Snippet or None).
    Five queries however many rows, four with `total` (from facets()); a search adds two."""
    return _page(_selection(query=query), query=query, total=total)


def _page(selection: _Selection, *, query: CaseQuery, total: int | None) -> CasePage:
    qs = selection.qs
    if total is None:
        total = qs.count()
    number = min(query.page, max(1, ceil(total / query.per)))
    offset = (number - 1) * query.per
    # The page's case numbers first, from case columns and flags alone; then only those rows joined.
    if query.q and query.sorts[0][0] == RANK and selection.rows is not None:
        severities = {n: row[0] for n, row in zip(selection.numbers, selection.rows, strict=True)}
        numbers = best_first(q=query.q, severities=severities)[offset : offset + query.per]
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
