import json

from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from t5g.sync.schedules import default_schedules

PROMISED = {
    "case_sync": "every 15 minutes",
    "card_sync": "21 * * * *",
    "details_sync": "24 */12 * * *",
    "issues_sync": "36 */12 * * *",
    "bugs_sync": "48 */12 * * *",
    "escalations_sync": "5 */2 * * *",
    "stats_daily": "40 4 * * *",
    "portal_jira_sync": "10 * * * *",
    "priority_sync": "30 5 * * *",
    "bug_tagging": "33 0 * * *",
    "case_full_sync": "15 2 * * *",
    "card_full_sync": "45 2 * * *",
    "notification_resend": "every 10 minutes",
}


def describe(task: PeriodicTask) -> str:
    if task.interval:
        return f"every {task.interval.every} {task.interval.period}"
    c = task.crontab
    return f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}"


def test_it_creates_the_promised_schedules(db):
    call_command("setup_schedules")
    tasks = {t.name: t for t in PeriodicTask.objects.select_related("interval", "crontab")}
    assert {name: describe(tasks[name]) for name in PROMISED} == PROMISED
    for schedule, task, kwargs in default_schedules():
        assert tasks[schedule.name].task == task
        assert json.loads(tasks[schedule.name].kwargs) == kwargs
        assert tasks[schedule.name].enabled
    assert tasks["notification_resend"].task == "t5g.resend_notifications"
    assert json.loads(tasks["card_sync"].kwargs) == {"job": "cards"}
    assert json.loads(tasks["case_full_sync"].kwargs) == {"job": "cases", "full": True}


def test_it_never_overwrites_an_admin_change(db):
    call_command("setup_schedules")
    card_sync = PeriodicTask.objects.get(name="card_sync")
    card_sync.enabled = False
    card_sync.crontab.minute = "45"
    card_sync.crontab.save()
    card_sync.save()
    PeriodicTask.objects.filter(name="stats_daily").delete()

    call_command("setup_schedules")

    card_sync = PeriodicTask.objects.get(name="card_sync")
    assert card_sync.enabled is False
    assert card_sync.crontab.minute == "45"
    assert PeriodicTask.objects.filter(name__in=PROMISED).count() == len(PROMISED)
    assert PeriodicTask.objects.get(name="stats_daily").crontab.minute == "40"
