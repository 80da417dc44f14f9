from datetime import timedelta

from t5g.sync.registry import Job, Schedule

JOBS = [
    Job(
        name="cases",
        label="Cases",
        upstream="The support portal",
        service="cases.services.sync_cases",
        feeds=("cases",),
        stale_after=timedelta(minutes=45),
        schedules=(
            Schedule("case_sync", every=15),
            # Nightly: catches the cases that left the query.
            Schedule("case_full_sync", minute="15", hour="2", options={"full": True}),
        ),
        refresh=10,
    ),
    Job(
        name="details",
        label="Details",
        upstream="The support portal",
        service="cases.services.sync_details",
        feeds=("cases",),
        stale_after=timedelta(hours=26),
        # The 12-hourly syncs are staggered (details, issues, bugs) so each sees the one before it finished.
        schedules=(Schedule("details_sync", minute="24", hour="*/12"),),
        refresh=20,
    ),
]
