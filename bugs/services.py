"""Bugzilla bug sync (being written)."""

from t5g.models import SyncRun


def sync_bugs(*, run: SyncRun, **options) -> None:
    """Placeholder until the bugs sync lands."""
