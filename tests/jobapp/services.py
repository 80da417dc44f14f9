from t5g.models import SyncRun
from t5g.sync.batches import Progress, no_progress
from t5g.sync.upsert import bump_feeds_after_commit


def ping(
    *, run: SyncRun, full: bool = False, since=None, dry_run: bool = False, progress: Progress = no_progress
) -> None:
    """Counts one record and, as a service that writes does, makes the views its data feeds new."""
    run.fetched += 1
    progress(1, 1, "ping")
    if not dry_run:
        bump_feeds_after_commit(run)
