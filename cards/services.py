"""JIRA card sync (being written)."""

from t5g.models import SyncRun


def sync_cards(*, run: SyncRun, **options) -> None:
    """Placeholder until the card sync lands."""
