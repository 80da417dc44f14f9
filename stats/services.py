"""Daily statistics: one DailyStats row per day and scope ("all", "account:<name>", "engineer:<assignee>").

The predecessor's metrics (predecessor.md 3.4) with its bugs fixed: no_updates counts open cases
WITHOUT an update in the last week, and relief and resolution times are two distributions.
"""

from __future__ import annotations

import logging
import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from cases.models import Severity
from t5g.cache import bump_after_commit
from t5g.models import SyncRun
from t5g.sync.batches import Progress, Throttled, no_progress
from t5g.sync.registry import get_job

from . import selectors
from .models import DailyStats
from .selectors import BUCKETS, DURATIONS, LEVELS, Day

log = logging.getLogger(__name__)

ALL = "all"
CASE_COUNTS = ["open_cases", "opened_today", "opened_week", "closed_today", "closed_week", "no_updates",
               "escalated", "crit_sit", "total_escalations", "no_bugs"]  # fmt: skip
BREAKDOWNS = {"by_customer": "account", "by_engineer": "engineer", "by_severity": "severity", "by_status": "status"}
UNASSIGNED = "(unassigned)"
CLOSED_SINCE = "(closed since)"
BUCKET_LABELS = [label for label, *_ in BUCKETS]


def scope_of(level: str | None, row: dict) -> str | None:
    if level is None:
        return ALL
    return f"{level}:{row[level]}" if row[level] else None


def scopes_of(row: dict) -> list[str]:
    return [scope for level in LEVELS if (scope := scope_of(level, row))]


def empty_metrics() -> dict:
    return {
        **dict.fromkeys(["unique_bugs", "bugs_no_target", "high_prio", *CASE_COUNTS], 0),
        **{name: {} for name in BREAKDOWNS},
        **{name: {} for name in DURATIONS},
    }


def add_case_counts(metrics: dict[str, dict], d: Day) -> None:
    """Scopes exist for the accounts and engineers with cases open, opened or closed that week."""
    for row in selectors.case_groups(d):
        for scope in scopes_of(row):
            m = metrics.setdefault(scope, empty_metrics())
            for name in CASE_COUNTS:
                m[name] += row[name]
            if not row["open_cases"]:
                continue
            if row["severity"] in (Severity.URGENT, Severity.HIGH):
                m["high_prio"] += row["open_cases"]
            keys = {**row, "severity": Severity(row["severity"]).label, "engineer": row["engineer"] or UNASSIGNED}
            if row["status"] == "Closed":  # open that day, closed since: its status then is not known
                keys["status"] = CLOSED_SINCE
            for name, field in BREAKDOWNS.items():
                m[name][keys[field]] = m[name].get(keys[field], 0) + row["open_cases"]


def add_bug_counts(metrics: dict[str, dict], d: Day) -> None:
    for level in LEVELS:
        for row in selectors.bug_counts(d, level):
            if (scope := scope_of(level, row)) in metrics:
                metrics[scope]["unique_bugs"] = row["bz"] + row["jira"]
                metrics[scope]["bugs_no_target"] = row["bz_no_target"] + row["jira_no_target"]


def add_durations(metrics: dict[str, dict], d: Day) -> None:
    """{severity: {count, mean, median, histogram}} of the days from creation to relief / resolution."""
    for name in DURATIONS:
        took: dict[tuple[str, str], list[float]] = defaultdict(list)
        for severity, account, engineer, days in selectors.durations(d, name):
            row = {"account": account, "engineer": engineer}
            for scope in scopes_of(row):
                if scope in metrics:
                    took[scope, Severity(severity).label].append(days)
        for (scope, severity), values in took.items():
            metrics[scope][name][severity] = summarise(values)


def summarise(days: list[float]) -> dict:
    histogram = dict.fromkeys(BUCKET_LABELS, 0)
    for value in days:
        label = next(
            label for label, low, high in BUCKETS if (low is None or value >= low) and (high is None or value < high)
        )
        histogram[label] += 1
    return {
        "count": len(days),
        "mean": round(statistics.fmean(days), 2),
        "median": round(statistics.median(days), 2),
        "histogram": histogram,
    }


def day_metrics(*, day: date, now: datetime | None = None) -> dict[str, dict]:
    """Every scope's metrics for `day`, as of its end (or now, for today)."""
    d = Day.of(day, now=now or timezone.now())
    metrics = {ALL: empty_metrics()}
    add_case_counts(metrics, d)
    add_bug_counts(metrics, d)
    add_durations(metrics, d)
    return metrics


def save_day(*, day: date, metrics: dict[str, dict], run: SyncRun | None = None) -> None:
    """Replace the day's rows: re-running a day is idempotent, and scopes gone from it go."""
    with transaction.atomic():
        old = dict(DailyStats.objects.filter(date=day).values_list("scope", "metrics"))
        DailyStats.objects.filter(date=day).delete()
        DailyStats.objects.bulk_create([DailyStats(date=day, scope=s, metrics=m) for s, m in metrics.items()])
        # With or without a run (a day recomputed from admin or a command), the stats pages see it.
        bump_after_commit(*get_job("stats").feeds)
    if run is not None:
        run.created += sum(scope not in old for scope in metrics)
        run.updated += sum(scope in old and old[scope] != m for scope, m in metrics.items())
        run.unchanged += sum(old.get(scope) == m for scope, m in metrics.items())


def compute_day(*, day: date, dry_run: bool, run: SyncRun | None = None) -> dict[str, dict]:
    """One day's stats, computed from the mirrored history and saved (unless dry_run)."""
    metrics = day_metrics(day=day)
    if run is not None:
        run.fetched += len(metrics)
    if not dry_run:
        save_day(day=day, metrics=metrics, run=run)
    return metrics


def days_to_compute(*, since: datetime | None) -> list[date]:
    today = timezone.now().date()
    first = min(since.date(), today) if since else today
    return [first + timedelta(days=n) for n in range((today - first).days + 1)]


def compute_stats(
    *, run: SyncRun, full: bool = False, since: datetime | None = None, dry_run: bool = False,
    progress: Progress = no_progress,
) -> None:  # fmt: skip
    """Today's stats, and with `since` (a backfill) every day from then.

    Every run computes its days whole, so `full` changes nothing: `sync all --full` stays quick,
    and rebuilding history is an explicit `backfill stats --since DATE`.
    """
    report = Throttled(progress)
    days_list = days_to_compute(since=since)
    for done, day in enumerate(days_list, 1):
        compute_day(day=day, dry_run=dry_run, run=run)
        report(done, len(days_list), "daily stats", force=done == len(days_list))
    log.info("stats: %s day(s) computed, %s to %s", len(days_list), days_list[0], days_list[-1])
