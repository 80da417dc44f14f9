"""Daily statistics (being written)."""

from t5g.models import SyncRun


def compute_stats(*, run: SyncRun, **options) -> None:
    """Placeholder until the stats computation lands."""
