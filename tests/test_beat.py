"""The running beat picks up a schedule an admin edits, and the worker runs it."""

import pytest
from django.urls import reverse
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from t5g.models import SyncRun
from t5g.sync.schedules import setup_schedules
from tests.forms import form_values
from tests.processes import celery_beat, celery_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_runs_a_schedule_edited_in_admin_without_a_restart(admin_client, log_dir):
    setup_schedules()
    with celery_worker(log_dir=log_dir), celery_beat(log_dir=log_dir):
        # A new "every 2 seconds" schedule, added through the admin's own form.
        response = admin_client.post(
            reverse("admin:django_celery_beat_intervalschedule_add"),
            {"every": 2, "period": "seconds", "periodictask_set-TOTAL_FORMS": 0, "periodictask_set-INITIAL_FORMS": 0},
        )
        assert response.status_code == 302, response.content[:2000]
        every_2s = IntervalSchedule.objects.get(every=2, period="seconds")

        # Move stats_daily (04:40 daily) onto it, posting the change form as a browser would.
        task = PeriodicTask.objects.get(name="stats_daily")
        url = reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
        data = form_values(admin_client.get(url).content.decode(), "periodictask_form")
        data.update(interval=[str(every_2s.pk)], crontab=[""])
        response = admin_client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:3000]

        runs = wait_for(
            lambda: SyncRun.objects.filter(source="stats", trigger="schedule", outcome="success").count() >= 3,
            timeout=40,
            what="three scheduled stats runs",
            interval=0.5,
        )
        assert runs
    task.refresh_from_db()
    assert task.interval_id == every_2s.pk
    assert task.total_run_count >= 3
