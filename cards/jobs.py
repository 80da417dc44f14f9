from datetime import timedelta

from t5g.sync.registry import Job, Schedule

JOBS = [
    Job(
        name="cards",
        label="Cards",
        upstream="JIRA",
        service="cards.services.sync_cards",
        feeds=("cases", "cards"),
        stale_after=timedelta(hours=3),
        schedules=(
            Schedule("card_sync", minute="21", hour="*"),
            # Nightly: catches the cards that left the query.
            Schedule("card_full_sync", minute="45", hour="2", options={"full": True}),
        ),
        refresh=30,
    ),
    Job(
        name="card_hooks",
        label="Cards (JIRA webhooks)",
        upstream="JIRA",
        service="cards.services.reread_cards",
        feeds=("cases", "cards"),
        stale_after=timedelta(hours=3),
        on_webhook="jira",
    ),
    Job(
        name="render_comments",
        label="JIRA comments rendered",
        service="cards.services.render_comments",
        feeds=("cases", "cards"),
        stale_after=timedelta(hours=2),
        # Often and short (COMMENT_RENDER_SECONDS a run): a comment synced shows as plain text until then.
        schedules=(Schedule("render_comments", every=5),),
    ),
    Job(
        name="create_cards",
        label="portal → JIRA cards",
        upstream="JIRA",
        service="cards.automation.create_cards",
        feeds=("cases", "cards"),
        stale_after=timedelta(hours=3),
        schedules=(Schedule("portal_jira_sync", minute="10", hour="*"),),
    ),
    Job(
        name="priority",
        label="priority sync",
        upstream="JIRA",
        service="cards.automation.sync_priority",
        feeds=("cards",),
        stale_after=timedelta(hours=49),
        schedules=(Schedule("priority_sync", minute="30", hour="5"),),
    ),
]
