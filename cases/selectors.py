"""Read logic of the cases table (/cases/), reusable by other pages and the API.

A CaseQuery is what the table's query string says (parsed by cases.forms.CaseQueryForm).
case_rows() is the filtered, sorted set with the table's columns; facets() counts it; case_page()
is one page of it as the table shows it; export_rows() streams all of it; case_detail() is one
expanded row.

Built to stay fast at 100k cases on SQLite, whose joins look rows up one at a time:
- filters on cards, escalations and details are `number IN (subquery)`, not joins;
- a costly filter (free text, labels, card fields) is run once, and when it matches few cases the
  counts and the page work on their numbers (_selection);
- facets: severity, product and account group a covering index each (Case.Meta.indexes); internal
  statuses join each case to its active card in one pass over two covering indexes in case-number
  order; prio-list and crit sit start from the few escalated cases;
- a page's case numbers are found from case columns and flags alone; only those rows are joined
  to their card, escalation and detail.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from math import ceil
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
    Window,
)

# Django's CASE expression; `Case` is the model here.
from django.db.models import Case as Switch
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, RowNumber, Substr
from django.utils import timezone

from bugs.models import Bug, Issue
from cards.models import Card, CardComment, InternalStatus
from escalations.models import Escalation

from .models import Case, CaseComment, Detail, SlaPartner

VIEWS = ("open", "all", "trends")
TRENDS_LABEL = "Trends"
DEFAULT_PER = 50
MAX_PER = 200
# The accounts and products facets list this many values (the most frequent); the rest are counted.
FACET_TOP = 30
# The expanded row lists at most this many comments of each kind, newest first.
ROW_COMMENTS = 50
# The table's "most recent comment" cell (and the exports) read at most this much of a comment:
# JIRA comments can be whole logs.
COMMENT_PREVIEW = 1000

PRIO_VALUES = ("yes", "potential", "no")
YES_NO = ("yes", "no")
NO_CARD = "none"
UNMAPPED = "unmapped"
STATUS_VALUES = (*InternalStatus.values, UNMAPPED, NO_CARD)
NOT_DONE = [s for s in InternalStatus.values if s != InternalStatus.DONE] + [""]

# JIRA bug severities on the scale of case severities (1 = Urgent).
ISSUE_SEVERITY = {"critical": 1, "urgent": 1, "important": 2, "high": 2, "moderate": 3, "normal": 3, "low": 4}

Type = Escalation.Type


# --- sets of case numbers, as subqueries --------------------------------------------------------------------
def _cards() -> QuerySet[Card]:
    """The cards the table shows: each case's active card, unless it left JIRA."""
    return Card.objects.filter(active=True, removed_at__isnull=True, case_id__isnull=False)


def _card_cases(**lookups) -> QuerySet:
    return _cards().filter(**lookups).values("case_id")


def _escalated_cases(*types: str) -> QuerySet:
    # An escalation that left upstream keeps its row, marked removed: the case is no longer escalated.
    return Escalation.objects.filter(type__in=types, removed_at__isnull=True).values("case_id")


def _crit_sit_q() -> Q:
    """A crit sit in the portal's case details, or as the escalation's reason."""
    return Q(number__in=Detail.objects.filter(crit_sit=True, removed_at__isnull=True).values("case_id")) | Q(
        number__in=_escalated_cases(Type.CRIT_SIT)
    )


def _escalated_q() -> Q:
    """On the prio-list or a crit sit."""
    return _crit_sit_q() | Q(number__in=_escalated_cases(Type.PRIO_LIST))


def _flag(condition: Q) -> Switch:
    return Switch(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def _prio_rank() -> Switch:
    # Prio-list first, then potential escalations, then the rest.
    return Switch(
        When(number__in=_escalated_cases(Type.PRIO_LIST), then=Value(0)),
        When(number__in=_escalated_cases(Type.POTENTIAL), then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


def _days_open(now: datetime):
    """Days from opening to closing (or now), for sorting."""
    end = Coalesce("closed_at", Value(now))
    if connection.vendor == "sqlite":
        # Django's datetime subtraction calls back into Python once per row on SQLite; julianday() is native.
        return Func(end, function="julianday", output_field=FloatField()) - Func(
            F("created_at"), function="julianday", output_field=FloatField()
        )
    return ExpressionWrapper(end - F("created_at"), output_field=DurationField())


# --- the query ---------------------------------------------------------------------------------------------
SORTS = ("case", "severity", "prio", "critsit", "summary", "product", "account", "case_status", "status",
         "assignee", "card", "days_open", "updated")  # fmt: skip
# Other names a link may use for a column.
SORT_ALIASES = {"number": "case", "crit_sit": "critsit", "internal_status": "status", "jira_card": "card",
                "days": "days_open", "last_updated": "updated"}  # fmt: skip
DEFAULT_SORT = "severity"
# Parameter order of the canonical query string (cache keys, links).
PARAMS = ("view", "q", "severity", "prio", "critsit", "product", "account", "status", "case_status", "assignee",
          "escalated", "closed_not_done", "opened_after", "opened_before", "sort", "page", "per")  # fmt: skip
MULTI = ("severity", "prio", "product", "account", "status", "case_status", "assignee")
# What selects rows, as opposed to how they are shown.
NOT_FILTERS = ("sort", "page", "per")


@dataclass(frozen=True)
class CaseQuery:
    """What a cases-table URL asks for. Multi-valued filters are sorted tuples, so equal queries are equal."""

    view: str = "open"
    q: str = ""
    severity: tuple[int, ...] = ()
    prio: tuple[str, ...] = ()
    critsit: str = ""  # "yes", "no" or "" (either)
    product: tuple[str, ...] = ()
    account: tuple[str, ...] = ()
    status: tuple[str, ...] = ()  # internal statuses, "unmapped" or "none" (no card)
    case_status: tuple[str, ...] = ()
    assignee: tuple[str, ...] = ()
    escalated: str = ""  # "yes", "no" or ""
    closed_not_done: bool = False
    opened_after: date | None = None
    opened_before: date | None = None
    sort: str = DEFAULT_SORT  # a name of SORTS, "-" in front for descending
    page: int = 1
    per: int = DEFAULT_PER

    def __post_init__(self):
        for name in MULTI:
            object.__setattr__(self, name, tuple(sorted(set(getattr(self, name)))))

    def params(self) -> list[tuple[str, str]]:
        """The query as (name, value) pairs in a fixed order, defaults left out."""
        out: list[tuple[str, str]] = []
        for name in PARAMS:
            value = getattr(self, name)
            if value == getattr(DEFAULT_QUERY, name):
                continue
            if name in MULTI:
                out += [(name, str(v)) for v in value]
            elif name == "closed_not_done":
                out.append((name, "1"))
            elif isinstance(value, date):
                out.append((name, value.isoformat()))
            else:
                out.append((name, str(value)))
        return out

    def querystring(self, **changes) -> str:
        """The canonical query string (no "?"), with `changes` applied; changing a filter goes back to page 1."""
        query = self
        if changes:
            if "page" not in changes:
                changes["page"] = 1
            query = replace(self, **changes)
        return urlencode(query.params())

    def toggled(self, name: str, value) -> str:
        """The query string with `value` added to or removed from the multi-valued filter `name`."""
        values = getattr(self, name)
        changed = tuple(v for v in values if v != value) if value in values else (*values, value)
        return self.querystring(**{name: changed})

    def sorted_by(self, column: str) -> str:
        """The query string sorting by `column`: ascending, or descending when it is already ascending."""
        return self.querystring(sort=f"-{column}" if self.sort == column else column)

    @property
    def filters(self) -> CaseQuery:
        """The same selection, default sort and paging: what facets and counts depend on."""
        return replace(self, **{n: getattr(DEFAULT_QUERY, n) for n in NOT_FILTERS})


DEFAULT_QUERY = CaseQuery()


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _filtered(*, query: CaseQuery) -> QuerySet[Case]:
    """The cases the query selects, unsorted, with no joins."""
    qs = Case.objects.order_by()
    if query.view == "open":
        qs = qs.exclude(status="Closed").filter(removed_at__isnull=True)
    elif query.view == "trends":
        # Labels are a JSON list: matching its text with the quotes is exact and works on SQLite and
        # PostgreSQL alike (SQLite has no JSON containment lookup).
        trends = _cards().alias(label_text=Cast("labels", TextField())).filter(label_text__contains=f'"{TRENDS_LABEL}"')
        qs = qs.filter(number__in=trends.values("case_id"))
    if query.q:
        q = query.q
        on_card = _cards().filter(Q(key__icontains=q) | Q(assignee__icontains=q)).values("case_id")
        qs = qs.filter(
            Q(number__icontains=q)
            | Q(summary__icontains=q)
            | Q(account__icontains=q)
            | Q(product__icontains=q)
            | Q(number__in=on_card)
        )
    if query.severity:
        qs = qs.filter(severity__in=query.severity)
    if query.prio:
        wanted = Q(pk__in=[])
        if "yes" in query.prio:
            wanted |= Q(number__in=_escalated_cases(Type.PRIO_LIST))
        if "potential" in query.prio:
            wanted |= Q(number__in=_escalated_cases(Type.POTENTIAL))
        if "no" in query.prio:
            wanted |= ~Q(number__in=_escalated_cases(Type.PRIO_LIST, Type.POTENTIAL))
        qs = qs.filter(wanted)
    if query.critsit:
        qs = qs.filter(_crit_sit_q() if query.critsit == "yes" else ~_crit_sit_q())
    if query.escalated:
        qs = qs.filter(_escalated_q() if query.escalated == "yes" else ~_escalated_q())
    if query.product:
        qs = qs.filter(product__in=query.product)
    if query.account:
        qs = qs.filter(account__in=query.account)
    if query.status:
        statuses = [s for s in query.status if s in InternalStatus.values] + ([""] if UNMAPPED in query.status else [])
        wanted = Q(number__in=_card_cases(status__in=statuses))
        if NO_CARD in query.status:
            wanted |= ~Q(number__in=_card_cases())
        qs = qs.filter(wanted)
    if query.case_status:
        qs = qs.filter(status__in=query.case_status)
    if query.assignee:
        qs = qs.filter(number__in=_card_cases(assignee__in=query.assignee))
    if query.closed_not_done:
        qs = qs.filter(status="Closed", number__in=_card_cases(status__in=NOT_DONE))
    if query.opened_after:
        qs = qs.filter(created_at__gte=_start_of(query.opened_after))
    if query.opened_before:
        qs = qs.filter(created_at__lt=_start_of(query.opened_before + timedelta(days=1)))
    return qs


# Filters that cost a scan of a large table (text search, labels) or a subquery: a query using one
# finds its cases once, and when they are few, counts and pages them by number. FEW stays well under
# SQLite's oldest limit on query parameters (32,766).
COSTLY = ("q", "prio", "critsit", "escalated", "status", "assignee", "closed_not_done")
FEW = 10_000


@dataclass
class _Selection:
    qs: QuerySet[Case]
    # For a costly filter matching few cases: each case's (severity, product, account), to count in Python.
    rows: list[tuple[int, str, str]] | None = None


def _selection(*, query: CaseQuery) -> _Selection:
    """_filtered(), or, for a costly filter matching at most FEW cases, those cases by number."""
    qs = _filtered(query=query)
    if query.view == "trends" or any(getattr(query, name) for name in COSTLY):
        found = list(qs.values_list("number", "severity", "product", "account")[: FEW + 1])
        if len(found) <= FEW:
            numbers = [number for number, *_ in found]
            return _Selection(Case.objects.filter(number_in(numbers)).order_by(), [tuple(rest) for _, *rest in found])
    return _Selection(qs)


def number_in(numbers: list[str]) -> Q:
    """number IN (the list), sent as one JSON parameter: Django prepares each parameter of an IN list in
    Python, which for thousands of numbers costs more than running the query."""
    if connection.vendor == "postgresql":
        values = "SELECT jsonb_array_elements_text(%s::jsonb)"
    else:
        values = "SELECT value FROM json_each(%s)"
    return Q(number__in=RawSQL(values, [json.dumps(numbers)]))


def _sort_column(sort: str) -> tuple[str, bool]:
    column = sort.lstrip("-")
    return SORT_ALIASES.get(column, column), sort.startswith("-")


def _ordered(qs: QuerySet[Case], *, sort: str, now: datetime) -> QuerySet[Case]:
    """`qs` in the order `sort` asks for. Only the sort's own columns are computed for every row."""
    column, descending = _sort_column(sort)

    def key(expr, *, reverse: bool = False):
        # Rows without a card (nulls) stay last in both directions.
        return expr.desc(nulls_last=True) if descending != reverse else expr.asc(nulls_last=True)

    if column == "severity":
        # The default: severity, then the prio-list, then crit sits.
        qs = qs.alias(prio_rank=_prio_rank(), crit=_flag(_crit_sit_q()))
        return qs.order_by(key(F("severity")), "prio_rank", F("crit").desc(), "number")
    if column == "prio":
        return qs.alias(prio_rank=_prio_rank()).order_by(key(F("prio_rank")), "severity", "number")
    if column == "critsit":
        return qs.alias(crit=_flag(_crit_sit_q())).order_by(key(F("crit"), reverse=True), "severity", "number")
    card_columns = {"status": "status", "assignee": "assignee", "card": "key"}
    if column in card_columns:
        # One value per case: the card the table shows.
        value = Subquery(_cards().filter(case_id=OuterRef("number")).values(card_columns[column])[:1])
        return qs.alias(sort_key=value).order_by(key(F("sort_key")), "severity", "number")
    expr = {
        "case": F("number"),
        "summary": F("summary"),
        "product": F("product"),
        "account": F("account"),
        "case_status": F("status"),
        "days_open": _days_open(now),
        "updated": F("upstream_updated_at"),
    }[column]
    # Ties: severity, then the case number, so paging is stable.
    return qs.alias(sort_key=expr).order_by(key(F("sort_key")), "severity", "number")


def _active_card() -> FilteredRelation:
    # The same condition as _cards(): a LEFT JOIN that an index answers (Card index card_live_by_case).
    return FilteredRelation("cards", condition=Q(cards__active=True, cards__removed_at__isnull=True))


def _with_columns(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Each case with the table's joined columns (see case_rows)."""
    return qs.alias(
        card=_active_card(),
        esc=FilteredRelation("escalation", condition=Q(escalation__removed_at__isnull=True)),
        det=FilteredRelation("detail", condition=Q(detail__removed_at__isnull=True)),
    ).annotate(
        card_key=F("card__key"),
        internal_status=F("card__status"),
        jira_status=F("card__jira_status"),
        assignee=F("card__assignee"),
        contributors=F("card__contributors"),
        prio=Switch(
            When(esc__type=Type.PRIO_LIST, then=Value("yes")),
            When(esc__type=Type.POTENTIAL, then=Value("potential")),
            default=Value("no"),
        ),
        prio_link=F("esc__link"),
        crit_sit=_flag(Q(det__crit_sit=True) | Q(esc__type=Type.CRIT_SIT)),
    )


def case_rows(*, query: CaseQuery) -> QuerySet[Case]:
    """The cases the query selects, in its order, each with the table's columns as attributes:
    card_key, internal_status (None: no card; "": its JIRA status is not mapped), jira_status, assignee,
    contributors, prio ("yes", "potential", "no"), prio_link, crit_sit.

    Fine for a few hundred rows or for streaming; a page of a large set is cheaper with case_page()."""
    return _with_columns(_ordered(_filtered(query=query), sort=query.sort, now=timezone.now()))


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
    return counts, _page(selection.qs, query=query, total=counts["total"])


def _facets(selection: _Selection, *, query: CaseQuery) -> dict:
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
        Q(number__in=Escalation.objects.filter(removed_at__isnull=True).values("case_id")) | _crit_sit_q()
    )
    flags = qs.filter(escalated_or_crit).aggregate(
        prio_list=Count("number", filter=Q(number__in=_escalated_cases(Type.PRIO_LIST))),
        potential=Count("number", filter=Q(number__in=_escalated_cases(Type.POTENTIAL))),
        crit=Count("number", filter=_crit_sit_q()),
        escalated=Count("number", filter=_escalated_q()),
    )
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
class Page:
    """Where one page sits in a list of `total` items, `per` a page (the table's and the reports' pages)."""

    total: int
    number: int
    per: int

    @property
    def num_pages(self) -> int:
        return max(1, ceil(self.total / self.per))

    @property
    def start(self) -> int:
        return (self.number - 1) * self.per + 1 if self.total else 0

    @property
    def end(self) -> int:
        return min(self.total, self.number * self.per)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages


@dataclass(kw_only=True)
class CasePage(Page):
    rows: list[Case]


def case_page(*, query: CaseQuery, total: int | None = None) -> CasePage:
    """One page of case_rows() (a page past the end shows the last one). Each row also has
    latest_comment (a dict: created_at, author, body (at most COMMENT_PREVIEW characters)) or None, and
    sla_class ("sla-warning", "sla-alert" or ""). Five queries however many rows, four with `total`
    (from facets())."""
    return _page(_selection(query=query).qs, query=query, total=total)


def _page(qs: QuerySet[Case], *, query: CaseQuery, total: int | None) -> CasePage:
    if total is None:
        total = qs.count()
    number = min(query.page, max(1, ceil(total / query.per)))
    offset = (number - 1) * query.per
    # The page's case numbers first, from case columns and flags alone; then only those rows joined.
    numbers = list(
        _ordered(qs, sort=query.sort, now=timezone.now()).values_list("number", flat=True)[offset : offset + query.per]
    )
    found = {row.number: row for row in _with_columns(Case.objects.filter(number__in=numbers))}
    rows = [found[n] for n in numbers if n in found]
    comments = latest_comments(card_keys=[r.card_key for r in rows if r.card_key])
    partners = {p.account: p for p in SlaPartner.objects.filter(account__in={r.account for r in rows})}
    for row in rows:
        row.latest_comment = comments.get(row.card_key)
        row.sla_class = sla_class(case=row, partner=partners.get(row.account))
    return CasePage(rows=rows, total=total, number=number, per=query.per)


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
    issues = list(case.issues.order_by("-upstream_updated_at", "key"))
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
