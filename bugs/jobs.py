from datetime import timedelta

from t5g.sync.registry import Job, Schedule

JOBS = [
    Job(
        name="issues",
        label="Issues",
        upstream="JIRA",
        service="bugs.issues.sync_issues",
        feeds=("cases", "bugs"),
        stale_after=timedelta(hours=26),
        schedules=(Schedule("issues_sync", minute="36", hour="*/12"),),
        refresh=40,
    ),
    Job(
        name="issue_hooks",
        label="Issues (JIRA webhooks)",
        upstream="JIRA",
        service="bugs.issues.reread_issues",
        feeds=("cases", "bugs"),
        stale_after=timedelta(hours=26),
        on_webhook="jira",
        webhook_keys="bugs.issues.held_issues",
    ),
    Job(
        name="bugs",
        label="Bugs",
        upstream="Bugzilla",
        service="bugs.services.sync_bugs",
        feeds=("cases", "bugs"),
        stale_after=timedelta(hours=26),
        schedules=(Schedule("bugs_sync", minute="48", hour="*/12"),),
        refresh=50,
    ),
    Job(
        name="tag_bugs",
        label="bug tagging",
        upstream="Bugzilla",
        service="bugs.tagging.tag_bugs",
        needs=("BUG_TAG_KEYWORDS",),
        feeds=("bugs",),
        stale_after=timedelta(hours=49),
        schedules=(Schedule("bug_tagging", minute="33", hour="0"),),
    ),
]
