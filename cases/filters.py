"""What a CaseQuery selects, as SQL: its filters, its sort order and the table's joined columns.

Built to stay fast at 100k cases on SQLite, whose joins look rows up one at a time: filters on cards,
escalations and details are `number IN (subquery)`, not joins; a sort computes only its own columns;
the joined columns (with_columns) are added to a page's few rows, not to the whole set.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import (
    BooleanField,
    DurationField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    FloatField,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)

# Django's CASE expression; `Case` is the model here.
from django.db.models import Case as Switch
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from bugs.models import Issue
from cards.models import Card, CardComment, InternalStatus
from escalations.models import Escalation

from . import search
from .models import Case, Detail
from .query import NO_CARD, RANK, UNMAPPED, CaseQuery, sort_keys

TRENDS_LABEL = "Trends"
NOT_DONE = [s for s in InternalStatus.values if s != InternalStatus.DONE] + [""]

Type = Escalation.Type


# --- sets of case numbers, as subqueries --------------------------------------------------------------------
def _cards() -> QuerySet[Card]:
    """The cards the table shows: each case's active card, unless it left JIRA."""
    return Card.objects.filter(active=True, removed_at__isnull=True, case_id__isnull=False)


def _card_cases(**lookups) -> QuerySet:
    return _cards().filter(**lookups).values("case_id")


def labelled_cases(label: str) -> QuerySet:
    """Cases whose card carries `label` exactly, not as a part of another label (the quotes of the JSON list's text,
    as for the trends view)."""
    return (
        _cards()
        .alias(label_text=Cast("labels", TextField()))
        .filter(label_text__contains=f'"{label}"')
        .values("case_id")
    )


def telco_links() -> QuerySet:
    """Links of cases to JIRA bugs with a Telco priority level (Issue.telco_priority)."""
    return Issue.cases.through.objects.filter(issue__telco_priority__isnull=False, issue__removed_at__isnull=True)


def telco_cases(levels: tuple[int, ...]) -> QuerySet:
    """Cases linked to a JIRA bug of one of these Telco priority levels."""
    return telco_links().filter(issue__telco_priority__in=levels).values("case_id")


def trends_cards() -> QuerySet[Card]:
    """The live cards labelled Trends (the trends view's, and the trends cards' layout in reports)."""
    # Labels are a JSON list: matching its text with the quotes is exact and works on SQLite and
    # PostgreSQL alike (SQLite has no JSON containment lookup).
    return _cards().alias(label_text=Cast("labels", TextField())).filter(label_text__contains=f'"{TRENDS_LABEL}"')


def escalated_cases(*types: str) -> QuerySet:
    # An escalation that left upstream keeps its row, marked removed: the case is no longer escalated.
    return Escalation.objects.filter(type__in=types, removed_at__isnull=True).values("case_id")


def crit_sit_cases() -> list[QuerySet]:
    """A crit sit in the portal's case details, or as the escalation's reason: the cases of each."""
    return [
        Detail.objects.filter(crit_sit=True, removed_at__isnull=True).values("case_id"),
        escalated_cases(Type.CRIT_SIT),
    ]


def crit_sit_q() -> Q:
    details, escalations = crit_sit_cases()
    return Q(number__in=details) | Q(number__in=escalations)


def escalated_q() -> Q:
    """On the prio-list or a crit sit."""
    return crit_sit_q() | Q(number__in=escalated_cases(Type.PRIO_LIST))


def _flag(condition: Q) -> Switch:
    return Switch(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def _prio_rank() -> Switch:
    # Prio-list first, then potential escalations, then the rest.
    return Switch(
        When(number__in=escalated_cases(Type.PRIO_LIST), then=Value(0)),
        When(number__in=escalated_cases(Type.POTENTIAL), then=Value(1)),
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


def search_q(q: str) -> Q:
    """The full-text index (cases.search) has every word of `q`: summaries, comments, bug titles, the case number
    and card key (a pasted `03412345`, `T5G-123`, or their start). Seven digits are also the
    case with that number (a spreadsheet drops the leading zero)."""
    q = q.strip()
    wanted = Q(pk__in=[])
    if q.isdigit() and len(q) == 7:
        wanted |= Q(number=q.zfill(8))
    if (words := search.matching(q)) is not None:
        wanted |= Q(number__in=words)
    return wanted


# --- the filters --------------------------------------------------------------------------------------------
def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def filtered(*, query: CaseQuery) -> QuerySet[Case]:
    """The cases the query selects, unsorted, with no joins."""
    qs = Case.objects.order_by()
    if query.view == "open":
        qs = qs.exclude(status="Closed").filter(removed_at__isnull=True)
    elif query.view == "trends":
        qs = qs.filter(number__in=trends_cards().values("case_id"))
    elif query.view == "commented":
        # Open or closed, as the old /table/: a card commented on lately is being worked. Read through the
        # comments' created_at index, so the cost follows the recent comments, not all of them.
        since = timezone.now() - timedelta(days=query.days)
        recent = CardComment.objects.filter(created_at__gte=since, removed_at__isnull=True).values("card_id")
        qs = qs.filter(number__in=_cards().filter(key__in=recent).values("case_id"))
    if query.q:
        qs = qs.filter(search_q(query.q))
    if query.severity:
        qs = qs.filter(severity__in=query.severity)
    if query.prio:
        wanted = Q(pk__in=[])
        if "yes" in query.prio:
            wanted |= Q(number__in=escalated_cases(Type.PRIO_LIST))
        if "potential" in query.prio:
            wanted |= Q(number__in=escalated_cases(Type.POTENTIAL))
        if "no" in query.prio:
            wanted |= ~Q(number__in=escalated_cases(Type.PRIO_LIST, Type.POTENTIAL))
        qs = qs.filter(wanted)
    if query.critsit:
        qs = qs.filter(crit_sit_q() if query.critsit == "yes" else ~crit_sit_q())
    if query.escalated:
        qs = qs.filter(escalated_q() if query.escalated == "yes" else ~escalated_q())
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
    if query.telco:
        qs = qs.filter(number__in=telco_cases(query.telco))
    if query.daily_telco:
        daily = Q(number__in=labelled_cases(settings.DAILY_TELCO_LABEL))
        qs = qs.filter(daily if query.daily_telco == "yes" else ~daily)
    if query.opened_after:
        qs = qs.filter(created_at__gte=_start_of(query.opened_after))
    if query.opened_before:
        qs = qs.filter(created_at__lt=_start_of(query.opened_before + timedelta(days=1)))
    return qs


# --- order and columns --------------------------------------------------------------------------------------
def ordered(qs: QuerySet[Case], *, sort: str, now: datetime) -> QuerySet[Case]:
    """`qs` in the order `sort` asks for (CaseQuery.sort: columns, primary first). Only the sort's own columns
    are computed for every row. Ties end on severity (unless sorted by it) and the case number, so paging
    is stable."""
    # Best match first (RANK) needs the search's scores: cases.selectors orders by them, and severity here
    # breaks their ties.
    keys = [
        ("severity", descending) if column == RANK else (column, descending) for column, descending in sort_keys(sort)
    ]
    aliases, order = {}, []
    for i, (column, descending) in enumerate(keys):
        alias, expr, reverse = _sort_key(column, now=now, name=f"sort_{i}")
        aliases.update(alias)
        # Rows without a card (nulls) stay last in both directions.
        order.append(expr.desc(nulls_last=True) if descending != reverse else expr.asc(nulls_last=True))
    columns = [column for column, _ in keys]
    if columns == ["severity"]:
        # The default: severity, then the prio-list, then crit sits.
        aliases.update(prio_rank=_prio_rank(), crit=_flag(crit_sit_q()))
        order += ["prio_rank", F("crit").desc()]
    elif "severity" not in columns:
        order.append("severity")
    return qs.alias(**aliases).order_by(*order, "number")


CARD_SORTS = {"status": "status", "assignee": "assignee", "card": "key"}
CASE_SORTS = {"case": "number", "severity": "severity", "summary": "summary", "product": "product",
              "account": "account", "case_status": "status", "updated": "upstream_updated_at"}  # fmt: skip


def _sort_key(column: str, *, now: datetime, name: str) -> tuple[dict, F, bool]:
    """What sorting by `column` needs: the aliases to compute, the expression and whether ascending puts
    its largest values first (crit sits: "Yes" before "No")."""
    if column in CASE_SORTS:
        return {}, F(CASE_SORTS[column]), False
    if column == "prio":
        return {name: _prio_rank()}, F(name), False
    if column == "critsit":
        return {name: _flag(crit_sit_q())}, F(name), True
    if column == "telco":
        # The most urgent Telco priority among the case's linked JIRA bugs (P1 first); cases without one last.
        links = Issue.cases.through.objects.filter(case_id=OuterRef("number"), issue__removed_at__isnull=True)
        best = links.values("case_id").annotate(best=Min("issue__telco_priority")).values("best")
        return {name: Subquery(best[:1])}, F(name), False
    if column in CARD_SORTS:
        # One value per case: the card the table shows.
        value = Subquery(_cards().filter(case_id=OuterRef("number")).values(CARD_SORTS[column])[:1])
        return {name: value}, F(name), False
    if column == "days_open":
        return {name: _days_open(now)}, F(name), False
    raise ValueError(f"no sort column {column!r}")


def _active_card() -> FilteredRelation:
    # The same condition as _cards(): a LEFT JOIN that an index answers (Card index card_live_by_case).
    return FilteredRelation("cards", condition=Q(cards__active=True, cards__removed_at__isnull=True))


def with_columns(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Each case with the table's joined columns (see cases.selectors.case_rows)."""
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
