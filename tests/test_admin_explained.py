"""The admin explains itself: T5G's branding, schedules in words with what they do, runs counted whatever
started them, one "Run now", durations in seconds, failed runs highlighted, the automatic first refresh named,
and no inline script (the Content-Security-Policy would block it) on the schedules' form; the export's one
inline handler allowed by its hash."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask

from t5g.admin_beat import schedule_in_words
from t5g.models import Refresh, SyncRun
from t5g.sync.refresh import run_refresh
from t5g.sync.registry import refreshed
from t5g.sync.schedules import schedule_first_refresh, setup_schedules

pytestmark = pytest.mark.django_db
TASKS = "/admin/django_celery_beat/periodictask/"
RUNS = "/admin/t5g/syncrun/"


def crontab(minute: str, hour: str, **fields) -> PeriodicTask:
    cron = CrontabSchedule.objects.create(minute=minute, hour=hour, timezone="UTC", **fields)
    return PeriodicTask(name="x", task="t", crontab=cron)


@pytest.mark.parametrize(
    ("task", "words"),
    [
        (
            lambda: PeriodicTask(interval=IntervalSchedule.objects.create(every=15, period="minutes")),
            "every 15 minutes",
        ),
        (lambda: PeriodicTask(interval=IntervalSchedule.objects.create(every=1, period="hours")), "every hour"),
        (lambda: crontab("21", "*"), "hourly at :21"),
        (lambda: crontab("*/5", "*"), "every 5 minutes"),
        (lambda: crontab("40", "4"), "daily at 04:40 UTC"),
        (lambda: crontab("0", "4,16"), "daily at 04:00 and 16:00 UTC"),
        (lambda: crontab("36", "*/12"), "every 12 hours at :36"),
        (lambda: crontab("0", "9", day_of_week="1"), "At 09:00 AM, only on Monday UTC"),  # cron-descriptor's words
    ],
)
def test_it_says_a_schedule_in_words(task, words):
    assert schedule_in_words(task()) == words


def test_it_says_a_one_off_schedule_in_words():
    at = timezone.now().replace(year=2030, month=1, day=2, hour=3, minute=4)
    task = PeriodicTask(clocked=ClockedSchedule.objects.create(clocked_time=at))
    assert schedule_in_words(task) == "once, at 2030-01-02 03:04 UTC"


def run(source: str, *, trigger="schedule", outcome="success", full=False, ago=1, seconds=1.5, task_id=""):
    started = timezone.now() - timedelta(hours=ago)
    return SyncRun.objects.create(
        source=source, trigger=trigger, outcome=outcome, full=full, started_at=started,
        finished_at=started + timedelta(seconds=seconds), task_id=task_id,
    )  # fmt: skip


def row(page: str, name: str) -> str:
    found = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*>{re.escape(name)}</a>(?:(?!</tr>).)*</tr>", page, re.S)
    assert found, name
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split())


def test_it_lists_schedules_with_words_what_they_do_and_every_run(admin_client, django_assert_max_num_queries):
    setup_schedules()
    run("cases", ago=3)
    run("cases", trigger="manual", ago=2)  # Run now, a command or a refresh: beat's counter misses these
    run("cases", outcome="failed", ago=1)
    run("cases", full=True, ago=5)

    with django_assert_max_num_queries(12):  # the runs in two grouped queries, not two per task
        page = admin_client.get(TASKS).content.decode()

    case_sync = row(page, "case_sync")
    assert "every 15 minutes" in case_sync and "3 (1 manual or refresh) 1 failed" in case_sync
    assert "failed" in case_sync.split("every 15 minutes")[1]  # the last run failed: said, and highlighted
    assert '<span class="t5g-outcome failed">1 failed</span>' in page
    assert "daily at 02:15 UTC" in row(page, "case_full_sync") and row(page, "case_full_sync").endswith(" 1")
    assert "full reconcile" in row(page, "case_full_sync")
    assert row(page, "card_sync") == "card_sync Cards hourly at :21 never 0"  # no run yet
    assert "Queue again the e-mail and Slack notifications" in row(page, "notification_resend")


def test_it_offers_one_run_now(admin_client):
    setup_schedules()
    page = admin_client.get(TASKS).content.decode()
    assert 'value="run_now"' in page and 'value="run_tasks"' not in page


def test_it_lists_runs_in_seconds_with_failures_highlighted_and_who_asked(admin_client):
    asked = Refresh.objects.create(task_id="asked-task", state="done", requested_by=get_user_model().objects.first())
    run("cases", trigger="manual", seconds=0.022837)
    run("cards", trigger="manual", task_id=asked.task_id, ago=2)
    run("bugs", outcome="failed", ago=3, seconds=12)

    page = admin_client.get(RUNS).content.decode()

    assert "refresh by admin" in page and "manual (Run now or a command)" in page
    assert "0.0 s" in page and "12.0 s" in page and "0:00:00" not in page
    assert '<span class="t5g-outcome failed">Failed</span>' in page


def test_it_names_the_automatic_first_refresh_as_such(admin_client, upstreams):
    refresh = schedule_first_refresh()
    run_refresh(refresh_id=refresh.pk, task_id="started-by-beat")  # as beat's t5g.refresh task runs it

    page = admin_client.get(RUNS).content.decode()

    assert page.count("first refresh (automatic)") == len(refreshed())
    assert "manual (" not in page  # not "manual (Run now or a command)"


def test_it_wears_t5g_s_branding(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert "T5G admin" in page and "Django administration" not in page
    assert "t5g/favicon." in page and "t5g/admin/admin." in page


def inline_scripts(page: str) -> list[str]:
    """Script elements the Content-Security-Policy (script-src 'self') would refuse: inline code or handlers."""
    tags = re.findall(r"<script\b[^>]*>", page)
    code = [t for t in tags if "src=" not in t and 'type="application/json"' not in t]
    return code + re.findall(r"\son(?:click|change|load|submit|input)=", page)


def test_it_puts_no_inline_script_on_the_schedule_form(admin_client):
    setup_schedules()
    task = PeriodicTask.objects.get(name="stats_daily")
    for url in (f"{TASKS}{task.pk}/change/", f"{TASKS}add/", TASKS, RUNS):
        assert inline_scripts(admin_client.get(url).content.decode()) == [], url
    assert "t5g/admin/periodic_task_form." in admin_client.get(f"{TASKS}{task.pk}/change/").content.decode()


def test_it_allows_the_export_s_select_all_handler_by_its_hash_alone(admin_client):
    response = admin_client.get("/admin/stats/dailystats/export/")
    assert inline_scripts(response.content.decode()) == [" onchange="]  # django-import-export's "Select all"
    script_src = next(d for d in response["Content-Security-Policy"].split(";") if d.strip().startswith("script-src"))
    assert script_src.split() == [
        "script-src", "'self'", "'unsafe-hashes'", "'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='"
    ]  # fmt: skip
    assert "'unsafe-hashes'" not in admin_client.get("/admin/stats/dailystats/").headers["Content-Security-Policy"]
