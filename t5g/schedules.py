"""The schedules the product promises. Defaults only: admins change them in admin."""

import json
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask

from .jobs import SYNC_ORDER
from .models import Refresh, SyncRun

# name -> (task kwargs, schedule). A schedule is ("every", minutes) or ("cron", minute, hour).
DEFAULT_SCHEDULES: dict[str, tuple[dict, tuple]] = {
    "case_sync": ({"job": "cases"}, ("every", 15)),
    "card_sync": ({"job": "cards"}, ("cron", "21", "*")),
    # Staggered so each 12-hourly run sees the one before it finished.
    "details_sync": ({"job": "details"}, ("cron", "24", "*/12")),
    "issues_sync": ({"job": "issues"}, ("cron", "36", "*/12")),
    "bugs_sync": ({"job": "bugs"}, ("cron", "48", "*/12")),
    "escalations_sync": ({"job": "escalations"}, ("cron", "5", "*/2")),
    "stats_daily": ({"job": "stats"}, ("cron", "40", "4")),
    "portal_jira_sync": ({"job": "create_cards"}, ("cron", "10", "*")),
    "priority_sync": ({"job": "priority"}, ("cron", "30", "5")),
    "bug_tagging": ({"job": "tag_bugs"}, ("cron", "33", "0")),
    # Nightly full reconciles: they catch cases and cards that left the query.
    "case_full_sync": ({"job": "cases", "full": True}, ("cron", "15", "2")),
    "card_full_sync": ({"job": "cards", "full": True}, ("cron", "45", "2")),
    "notification_resend": ({}, ("every", 10)),
}
# The task of a schedule that is not a job.
TASKS: dict[str, str] = {"notification_resend": "t5g.resend_notifications"}


def _schedule(spec: tuple) -> dict:
    if spec[0] == "every":
        interval, _ = IntervalSchedule.objects.get_or_create(every=spec[1], period=IntervalSchedule.MINUTES)
        return {"interval": interval}
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=spec[1], hour=spec[2], day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    return {"crontab": crontab}


@transaction.atomic
def setup_schedules() -> list[str]:
    """Create the missing periodic tasks; never touch one that exists. Returns the names created."""
    existing = set(PeriodicTask.objects.filter(name__in=DEFAULT_SCHEDULES).values_list("name", flat=True))
    created = []
    for name, (kwargs, spec) in DEFAULT_SCHEDULES.items():
        if name in existing:
            continue
        task = TASKS.get(name, "t5g.run_job")
        PeriodicTask.objects.create(name=name, task=task, kwargs=json.dumps(kwargs), **_schedule(spec))
        created.append(name)
    return created


FIRST_REFRESH = "first_refresh"


@transaction.atomic
def schedule_first_refresh(*, delay: timedelta = timedelta(seconds=10)) -> Refresh | None:
    """On a database that never synced, have beat start a refresh shortly: a fresh `make run` shows data
    (and its progress bar) within a minute instead of waiting for each schedule. Through beat because
    the broker and worker are not running yet when this is called."""
    if SyncRun.objects.filter(outcome=SyncRun.Outcome.SUCCESS).exists() or Refresh.objects.exists():
        return None
    refresh = Refresh.objects.create(steps=len(SYNC_ORDER))
    clocked = ClockedSchedule.objects.create(clocked_time=timezone.now() + delay)
    PeriodicTask.objects.update_or_create(
        name=FIRST_REFRESH,
        defaults={"task": "t5g.refresh", "args": json.dumps([refresh.pk]), "clocked": clocked, "interval": None,
                  "crontab": None, "one_off": True, "enabled": True},
    )  # fmt: skip
    return refresh
