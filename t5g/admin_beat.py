"""The schedules' admin: django-celery-beat's, with "run now" recorded as a manual run."""

import json

from django.contrib import admin
from django_celery_beat.admin import PeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

from .sync.tasks import run_job

admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class T5GPeriodicTaskAdmin(PeriodicTaskAdmin):
    actions = ["run_now", *PeriodicTaskAdmin.actions]
    list_display = ["name", "enabled", "scheduler", "kwargs", "last_run_at", "total_run_count"]
    list_filter = ["enabled", "task"]

    @admin.action(description="Run now (recorded as a manual run)")
    def run_now(self, request, queryset) -> None:
        # The stock "run selected tasks" would record the run as scheduled; sync history should say who ran it.
        others = queryset.exclude(task=run_job.name)
        for task in queryset.filter(task=run_job.name):
            kwargs = {**json.loads(task.kwargs or "{}"), "trigger": "manual"}
            run_job.apply_async(kwargs=kwargs, headers={"periodic_task_name": task.name})
            self.message_user(request, f"{task.name}: queued ({kwargs['job']}).")
        if others.exists():
            self.run_tasks(request, others)
