"""The queries a day's stats are built from: seven grouped queries, whatever the number of cases.

Everything is "as of" the end of a day, from the mirrored history: a case existed from its
created_at, was open until it closed (closed_at; a Closed case without one closed at its
last change), and left the query at removed_at. What has no history (severity, status,
bug links, card flags) is taken as it is now.

Rows come grouped by (account, engineer[, severity, status]): the services add groups up
into scopes, so the work in Python grows with the number of groups, never of cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    When,
)
from django.db.models import Case as SqlCase
from django.db.models.functions import Coalesce

from cards.models import Card
from cases.models import Case, CaseComment
from escalations.models import Escalation

from .models import DailyStats

WEEK = timedelta(days=7)
# Histogram buckets in days: (label, from, to); the last one is open-ended.
BUCKETS = [("<1", None, 1), ("1-3", 1, 3), ("3-7", 3, 7), ("7-14", 7, 14), ("14-30", 14, 30), ("30-90", 30, 90),
           ("90+", 90, None)]  # fmt: skip
# Durations from case creation to these Detail times, by the name the metrics use.
DURATIONS = {"relief_days": "relief_at", "resolution_days": "resolved_at"}
# Grouping levels of the scopes: None is the whole team.
LEVELS = (None, "account", "engineer")


@dataclass(frozen=True)
class Day:
    day: date
    start: datetime
    end: datetime  # exclusive: the next midnight (UTC), or now while the day is not over

    @classmethod
    def of(cls, day: date, *, now: datetime) -> Day:
        start = datetime.combine(day, time.min, tzinfo=UTC)
        return cls(day=day, start=start, end=min(now, start + timedelta(days=1)))

    @property
    def week_start(self) -> datetime:
        return self.end - WEEK


def flag(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def active_at(at: datetime, field: str = "removed_at") -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": at})


def cases_as_of(d: Day) -> QuerySet:
    """Cases on the query at the end of the day, with their engineer (the active card's assignee)."""
    return (
        Case.objects.filter(active_at(d.end), created_at__lt=d.end)
        # A join, not a subquery per case: a case has at most one active card.
        .annotate(active_card=FilteredRelation("cards", condition=Q(cards__active=True)))
        .annotate(
            engineer=F("active_card__assignee"),
            # The status is the authority (a reopened case may keep its closed date); a Closed case
            # without a date closed at its last change.
            closed_on=SqlCase(When(status="Closed", then=Coalesce("closed_at", "upstream_updated_at"))),
        )
        .annotate(is_open=flag(Q(closed_on__isnull=True) | Q(closed_on__gte=d.end)))
    )


def _in(d: Day, field: str, start: datetime) -> Q:
    return Q(**{f"{field}__gte": start, f"{field}__lt": d.end})


def _escalation(d: Day, kind: str) -> Exists:
    started = Q(escalated_at__isnull=True) | Q(escalated_at__lt=d.end)
    return Exists(Escalation.objects.filter(active_at(d.end), started, case=OuterRef("pk"), type=kind))


def case_groups(d: Day) -> list[dict]:
    """Case counts by (account, engineer, severity, status), over the cases open at the day's end or
    opened or closed during its week."""
    commented = CaseComment.objects.filter(case=OuterRef("pk"), created_at__gte=d.week_start, created_at__lt=d.end)
    card_escalated = Card.objects.filter(active_at(d.end), case=OuterRef("pk"), active=True, escalated=True)
    cases = cases_as_of(d).annotate(
        updated=flag(
            _in(d, "upstream_updated_at", d.week_start) | _in(d, "created_at", d.week_start) | Exists(commented)
        ),
        prio_list=flag(_escalation(d, Escalation.Type.PRIO_LIST) | Exists(card_escalated)),
        # A case both on the prio-list and in crit sit has a prio-list escalation row: read the detail too.
        crit=flag(Q(_escalation(d, Escalation.Type.CRIT_SIT)) | Q(detail__crit_sit=True)),
        has_bugs=flag(
            Exists(Case.bugs.through.objects.filter(case=OuterRef("pk")))
            | Exists(Case.issues.through.objects.filter(case=OuterRef("pk")))
        ),
    )
    is_open = Q(is_open=True)
    return list(
        cases.filter(is_open | _in(d, "created_at", d.week_start) | _in(d, "closed_on", d.week_start))
        .values("account", "engineer", "severity", "status")
        .annotate(
            open_cases=Count("pk", filter=is_open),
            opened_today=Count("pk", filter=_in(d, "created_at", d.start)),
            opened_week=Count("pk", filter=_in(d, "created_at", d.week_start)),
            closed_today=Count("pk", filter=_in(d, "closed_on", d.start)),
            closed_week=Count("pk", filter=_in(d, "closed_on", d.week_start)),
            no_updates=Count("pk", filter=is_open & Q(updated=False)),
            escalated=Count("pk", filter=is_open & Q(prio_list=True)),
            crit_sit=Count("pk", filter=is_open & Q(crit=True)),
            total_escalations=Count("pk", filter=is_open & (Q(prio_list=True) | Q(crit=True))),
            no_bugs=Count("pk", filter=is_open & Q(has_bugs=False)),
        )
        .order_by()
    )


def bug_counts(d: Day, level: str | None) -> list[dict]:
    """Distinct Bugzilla bugs and JIRA issues linked to open cases, and those without a target.

    Distinct counts do not add up across groups (two accounts may share a bug): one query per level.
    """
    no_target_bz = Q(bugs__restricted=False, bugs__target_release__in=["", "---"])  # restricted: unknown, not missing
    no_target_jira = Q(issues__fix_versions=[]) | Q(issues__fix_versions=["---"])
    counts = {
        "bz": Count("bugs", distinct=True),
        "jira": Count("issues", distinct=True),
        "bz_no_target": Count("bugs", distinct=True, filter=no_target_bz),
        "jira_no_target": Count("issues", distinct=True, filter=no_target_jira),
    }
    cases = cases_as_of(d).filter(is_open=True)
    if level is None:
        return [cases.aggregate(**counts)]
    return list(cases.values(level).annotate(**counts).order_by())


class DaysBetween(Func):
    """end - start in days, a float, in each database's own SQL: Django's portable duration
    arithmetic calls a Python function per row on SQLite (measured 10x slower over 100,000 cases)."""

    arity = 2
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="(julianday(%(expressions)s))", arg_joiner=") - julianday(", **extra
        )

    def as_postgresql(self, compiler, connection, **extra):
        template = "(EXTRACT(EPOCH FROM (%(expressions)s))::float8 / 86400)"
        return self.as_sql(compiler, connection, template=template, arg_joiner=" - ", **extra)


def _days_to(field: str) -> DaysBetween:
    return DaysBetween(F(f"detail__{field}"), F("created_at"))


def _reached(d: Day, field: str) -> Q:
    return Q(**{f"detail__{field}__lt": d.end})


def durations(d: Day, name: str) -> list[tuple[int, str, str | None, float]]:
    """(severity, account, engineer, days) of each case that reached relief / resolution by the day's end.

    One plain query: medians do not add up across groups, and window functions over the
    case-with-engineer join were slow on PostgreSQL (over a minute at 10,000 cases), while
    100,000 small tuples summarise in Python in well under a second.
    """
    field = DURATIONS[name]
    return list(
        cases_as_of(d)
        .filter(_reached(d, field))
        .annotate(took=_days_to(field))
        .values_list("severity", "account", "engineer", "took")
    )


# --- Reads of the stored stats (the pages, the API and the exports) ------------------------------


def latest_stats(*, scope: str) -> DailyStats | None:
    """The newest day's row of a scope, or None when the scope was never computed."""
    return DailyStats.objects.filter(scope=scope).order_by("-date").first()


def scope_exists(*, scope: str) -> bool:
    return DailyStats.objects.filter(scope=scope).exists()


def stats_history(*, scope: str, start: date, end: date, keys: Sequence[str]) -> list[dict]:
    """{"date", key: value…} per stored day of a scope from start to end (both included), oldest first.

    Only the named top-level metrics are read out of the JSON, in the database: a whole row of the
    "all" scope carries every account's and engineer's breakdown, and a chart needs a dozen numbers.
    A key missing from an old row comes back as None.
    """
    return list(
        DailyStats.objects.filter(scope=scope, date__gte=start, date__lte=end)
        .order_by("date")
        .values("date", **{key: F(f"metrics__{key}") for key in keys})
    )


def stats_rows(*, scope: str, start: date, end: date) -> QuerySet[DailyStats]:
    """The whole rows of a scope from start to end (both included), oldest first (a query set, to page)."""
    return DailyStats.objects.filter(scope=scope, date__gte=start, date__lte=end).order_by("date")
