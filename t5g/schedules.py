"""The schedules the product promises. Defaults only: admins change them in admin."""

import json

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

# name -> (job, schedule). A schedule is ("every", minutes) or ("cron", minute, hour).
DEFAULT_SCHEDULES: dict[str, tuple[str, tuple]] = {
    "case_sync": ("cases", ("every", 15)),
    "card_sync": ("cards", ("cron", "21", "*")),
    # Staggered so each 12-hourly run sees the one before it finished.
    "details_sync": ("details", ("cron", "24", "*/12")),
    "issues_sync": ("issues", ("cron", "36", "*/12")),
    "bugs_sync": ("bugs", ("cron", "48", "*/12")),
    "escalations_sync": ("escalations", ("cron", "5", "*/2")),
    "stats_daily": ("stats", ("cron", "40", "4")),
    "portal_jira_sync": ("create_cards", ("cron", "10", "*")),
    "priority_sync": ("priority", ("cron", "30", "5")),
}


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
    for name, (job, spec) in DEFAULT_SCHEDULES.items():
        if name in existing:
            continue
        PeriodicTask.objects.create(name=name, task="t5g.run_job", kwargs=json.dumps({"job": job}), **_schedule(spec))
        created.append(name)
    return created
