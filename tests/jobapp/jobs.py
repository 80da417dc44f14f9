from datetime import timedelta

from t5g.sync.registry import Job, Schedule

JOBS = [
    Job(
        name="ping",
        label="Ping",
        service="tests.jobapp.services.ping",
        feeds=("ping",),
        stale_after=timedelta(hours=1),
        schedules=(
            Schedule("ping_sync", every=5),
            Schedule("ping_full_sync", minute="7", hour="3", options={"full": True}),
        ),
        refresh=80,
    ),
]
