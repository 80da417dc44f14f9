from datetime import timedelta

from t5g.sync.registry import Job, Schedule

JOBS = [
    Job(
        name="escalations",
        label="Escalations",
        upstream="JIRA",
        service="escalations.services.sync_escalations",
        feeds=("cases", "escalations"),
        stale_after=timedelta(hours=5),
        schedules=(Schedule("escalations_sync", minute="5", hour="*/2"),),
        refresh=60,
    ),
]
