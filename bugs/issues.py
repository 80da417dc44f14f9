"""JIRA issue sync (being written)."""

from t5g.models import SyncRun


def sync_issues(*, run: SyncRun, **options) -> None:
    """Placeholder until the issues sync lands."""
