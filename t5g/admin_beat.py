"""The schedules' admin: django-celery-beat's, explained. Each periodic task says what it does and when in
words ("every 15 minutes", "hourly at :21", "daily at 04:40 UTC"), its last run and how many runs it had
from the sync history (beat's own counters miss the runs of the refresh button, commands and "Run now"), and
one "Run now" that records the run as manual."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_

from django.contrib import admin
from django.db.models import Count, Max, Q
from django.utils.html import format_html
from django_celery_beat.admin import PeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

from .models import SyncRun
from .sync import registry
from .sync.schedules import CORE_DESCRIPTIONS, FIRST_REFRESH, JOB_TASK
from .sync.tasks import run_job

admin.site.unregister(PeriodicTask)

UNITS = {"days": "day", "hours": "hour", "minutes": "minute", "seconds": "second", "microseconds": "microsecond"}


def _every(n: int, unit: str) -> str:
    return f"every {unit}" if n == 1 else f"every {n} {unit}s"


def _number(field: str) -> int | None:
    return int(field) if field.isdigit() else None


def schedule_in_words(task: PeriodicTask) -> str:
    """When the task runs, as a person says it; a crontab of another shape in cron-descriptor's words."""
    if task.interval_id:
        return _every(task.interval.every, UNITS.get(task.interval.period, task.interval.period))
    if task.clocked_id:
        return f"once, at {task.clocked.clocked_time:%Y-%m-%d %H:%M} UTC"
    if not task.crontab_id:
        return str(task.schedule)
    cron = task.crontab
    zone = f" {cron.timezone}"
    every_day = (cron.day_of_week, cron.day_of_month, cron.month_of_year) == ("*", "*", "*")
    minute, hours = _number(cron.minute), [_number(h) for h in cron.hour.split(",")]
    if every_day and cron.hour == "*" and cron.minute.startswith("*/") and cron.minute[2:].isdigit():
        return _every(int(cron.minute[2:]), "minute")
    if every_day and cron.hour == "*" and minute is not None:
        return f"hourly at :{minute:02d}"
    if every_day and minute is not None and cron.hour.startswith("*/") and cron.hour[2:].isdigit():
        return f"{_every(int(cron.hour[2:]), 'hour')} at :{minute:02d}"
    if every_day and minute is not None and None not in hours:
        return "daily at " + " and ".join(f"{hour:02d}:{minute:02d}" for hour in hours) + zone
    return cron.human_readable  # django-celery-beat's, through cron-descriptor, with the time zone


def describe(task: PeriodicTask) -> str:
    """What the task does: its description when an admin wrote one, else the job's label and kind of run."""
    if task.description:
        return task.description
    if task.name == FIRST_REFRESH:
        return "The first refresh of every source on a new install: automatic, once."
    kwargs = _kwargs(task)
    if task.task == JOB_TASK and kwargs.get("job") in registry.discover():
        label = registry.label_of(kwargs["job"])
        return f"{label}: a full reconcile (finds what left upstream)" if kwargs.get("full") else label
    return CORE_DESCRIPTIONS.get(task.task, "")


def _kwargs(task: PeriodicTask) -> dict:
    try:
        kwargs = json.loads(task.kwargs or "{}")
    except ValueError:
        return {}
    return kwargs if isinstance(kwargs, dict) else {}


@dataclass(frozen=True)
class Runs:
    """A job's runs of one kind (incremental or full), whatever started them."""

    count: int
    manual: int
    failed: int
    last: datetime | None
    last_outcome: str = ""


def runs_by_job() -> dict[tuple[str, bool], Runs]:
    """Every job's runs by (job, full): two grouped queries, whatever the history's length."""
    groups = SyncRun.objects.values("source", "full").annotate(
        n=Count("pk"),
        manual=Count("pk", filter=~Q(trigger=SyncRun.Trigger.SCHEDULE)),
        failed=Count("pk", filter=Q(outcome=SyncRun.Outcome.FAILED)),
        last=Max("started_at"),
    )
    newest = reduce(or_, [Q(source=g["source"], full=g["full"], started_at=g["last"]) for g in groups], Q(pk=None))
    newest_runs = SyncRun.objects.filter(newest).values("source", "full", "outcome")
    outcomes = {(run["source"], run["full"]): run["outcome"] for run in newest_runs}
    return {
        (g["source"], g["full"]): Runs(
            count=g["n"],
            manual=g["manual"],
            failed=g["failed"],
            last=g["last"],
            last_outcome=outcomes.get((g["source"], g["full"]), ""),
        )  # fmt: skip
        for g in groups
    }


@admin.register(PeriodicTask)
class T5GPeriodicTaskAdmin(PeriodicTaskAdmin):
    # One way to run a task now: the stock "Run selected tasks" would record a job's run as scheduled.
    actions = ["run_now", *[action for action in PeriodicTaskAdmin.actions if action != "run_tasks"]]
    list_display = ["name", "what", "when", "enabled", "last_run", "runs"]
    list_filter = ["enabled", "task"]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        runs = runs_by_job()
        for task in changelist.result_list:  # the page's rows, read once here and kept for the template
            kwargs = _kwargs(task)
            task.t5g_runs = runs.get((kwargs.get("job"), bool(kwargs.get("full")))) if task.task == JOB_TASK else None
        return changelist

    @admin.display(description="what it does")
    def what(self, task: PeriodicTask) -> str:
        return describe(task)

    @admin.display(description="when")
    def when(self, task: PeriodicTask) -> str:
        return schedule_in_words(task)

    @admin.display(description="last run", ordering="last_run_at")
    def last_run(self, task: PeriodicTask) -> str:
        runs = getattr(task, "t5g_runs", None)
        if runs is None:  # not a job: beat's own record
            return f"{task.last_run_at:%Y-%m-%d %H:%M:%S}" if task.last_run_at else "never"
        if runs.last_outcome == SyncRun.Outcome.FAILED:
            return format_html('{} <span class="t5g-outcome failed">failed</span>', f"{runs.last:%Y-%m-%d %H:%M:%S}")
        return f"{runs.last:%Y-%m-%d %H:%M:%S} ({runs.last_outcome})"

    @admin.display(description="runs")
    def runs(self, task: PeriodicTask) -> str:
        runs = getattr(task, "t5g_runs", None)
        if runs is None:
            return str(task.total_run_count)
        text = f"{runs.count} ({runs.manual} manual or refresh)" if runs.manual else str(runs.count)
        if runs.failed:
            return format_html('{} <span class="t5g-outcome failed">{} failed</span>', text, runs.failed)
        return text

    @admin.action(description="Run now (recorded as a manual run)")
    def run_now(self, request, queryset) -> None:
        others = queryset.exclude(task=run_job.name)
        for task in queryset.filter(task=run_job.name):
            kwargs = {**_kwargs(task), "trigger": "manual"}
            run_job.apply_async(kwargs=kwargs, headers={"periodic_task_name": task.name})
            self.message_user(request, f"{task.name}: queued ({kwargs['job']}).")
        if others.exists():
            self.run_tasks(request, others)
