from celery import shared_task

from . import jobs


@shared_task(name="t5g.run_job", bind=True)
def run_job(self, job: str, trigger: str = "schedule", **options) -> int:
    """Thin: every periodic task points here with its job name (see setup_schedules)."""
    return jobs.run_job(job=job, trigger=trigger, task_id=self.request.id or "", **options).pk
