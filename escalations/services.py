"""Escalation sync (being written)."""

from t5g.models import SyncRun


def sync_escalations(*, run: SyncRun, **options) -> None:
    """Placeholder until the escalation sync lands."""
