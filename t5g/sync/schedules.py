"""The schedules the product promises: each job's, as its app declares them, and the core's own.

Defaults only: admins change them in admin, and setup_schedules never changes one that exists.
"""

import json
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask

from t5g.models import Refresh, SyncRun

from .registry import Schedule, jobs, refreshed

JOB_TASK = "t5g.run_job"
# Periodic tasks of the core that are not jobs: (schedule, task).
CORE_SCHEDULES = [
    # Queue again notifications stuck pending (t5g/notify.py).
    (Schedule("notification_resend", every=10), "t5g.resend_notifications"),
]
# What the core's tasks do, for the schedules' admin (a job's is its label).
CORE_DESCRIPTIONS = {
    "t5g.resend_notifications": "Queue again the e-mail and Slack notifications stuck pending.",
    "celery.backend_cleanup": "Celery's own: delete expired task results.",
}


def default_schedules() -> list[tuple[Schedule, str, dict]]:
    """Every default periodic task: (schedule, task, task kwargs), the jobs' own as their apps declare them."""
    found = [
        (schedule, JOB_TASK, {"job": job.name, **schedule.options}) for job in jobs() for schedule in job.schedules
    ]
    return found + [(schedule, task, {}) for schedule, task in CORE_SCHEDULES]


def _schedule(spec: Schedule) -> dict:
    if spec.every is not None:
        interval, _ = IntervalSchedule.objects.get_or_create(every=spec.every, period=IntervalSchedule.MINUTES)
        return {"interval": interval}
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=spec.minute, hour=spec.hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    return {"crontab": crontab}


@transaction.atomic
def setup_schedules() -> list[str]:
    """Create the missing periodic tasks; never touch one that exists. Returns the names created."""
    defaults = default_schedules()
    existing = set(PeriodicTask.objects.filter(name__in=[s.name for s, *_ in defaults]).values_list("name", flat=True))
    created = []
    for schedule, task, kwargs in defaults:
        if schedule.name in existing:
            continue
        PeriodicTask.objects.create(name=schedule.name, task=task, kwargs=json.dumps(kwargs), **_schedule(schedule))
        created.append(schedule.name)
    return created


FIRST_REFRESH = "first_refresh"


@transaction.atomic
def schedule_first_refresh(*, delay: timedelta = timedelta(seconds=10)) -> Refresh | None:
    """On a database that never synced, have beat start a refresh shortly: a fresh `make run` shows data
    (and its progress bar) within a minute instead of waiting for each schedule. Through beat because
    the broker and worker are not running yet when this is called."""
    if SyncRun.objects.filter(outcome=SyncRun.Outcome.SUCCESS).exists() or Refresh.objects.exists():
        return None
    refresh = Refresh.objects.create(steps=len(refreshed()))
    clocked = ClockedSchedule.objects.create(clocked_time=timezone.now() + delay)
    PeriodicTask.objects.update_or_create(
        name=FIRST_REFRESH,
        defaults={"task": "t5g.refresh", "args": json.dumps([refresh.pk]), "clocked": clocked, "interval": None,
                  "crontab": None, "one_off": True, "enabled": True},
    )  # fmt: skip
    return refresh


def next_runs() -> dict[str, datetime]:
    """When each job next runs by its enabled periodic tasks (as admins set them), soonest first wins."""
    by_task = {schedule.name: job.name for job in jobs() for schedule in job.schedules}
    now = timezone.now()
    found: dict[str, datetime] = {}
    for task in PeriodicTask.objects.filter(name__in=by_task, enabled=True).select_related(
        "interval", "crontab", "solar", "clocked"
    ):
        try:
            remaining = task.schedule.remaining_estimate(task.last_run_at or now)
        except Exception:  # noqa: BLE001 - a schedule celery cannot read: no date rather than no page
            continue
        at = max(now, now + remaining)
        job = by_task[task.name]
        if job not in found or at < found[job]:
            found[job] = at
    return found
