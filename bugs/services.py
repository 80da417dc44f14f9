"""Bugzilla bug and JIRA issue syncs (being written)."""

from t5g.models import SyncRun


def sync_issues(*, run: SyncRun, **options) -> None:
    """Placeholder until the issues sync lands."""


def sync_bugs(*, run: SyncRun, **options) -> None:
    """Placeholder until the bugs sync lands."""
