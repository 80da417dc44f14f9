from datetime import timedelta

from t5g.sync.registry import Job, Schedule

JOBS = [
    Job(
        name="stats",
        label="Stats",
        service="stats.services.compute_stats",
        feeds=("stats",),
        stale_after=timedelta(hours=26),
        schedules=(Schedule("stats_daily", minute="40", hour="4"),),
        refresh=70,  # last: it counts what the others wrote
    ),
]
