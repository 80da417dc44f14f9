from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max, Q
from django.utils import timezone

from .models import SyncRun

# Data older than this (about twice the default schedule) is shown as stale.
STALE_AFTER = {
    "cases": timedelta(minutes=45),
    "details": timedelta(hours=26),
    "cards": timedelta(hours=3),
    "issues": timedelta(hours=26),
    "bugs": timedelta(hours=26),
    "escalations": timedelta(hours=5),
    "stats": timedelta(hours=26),
    "create_cards": timedelta(hours=3),
    "priority": timedelta(hours=49),
    "tag_bugs": timedelta(hours=49),
}


@dataclass(frozen=True)
class Freshness:
    source: str
    label: str
    last_success: datetime | None
    last_failure: datetime | None

    @property
    def failing(self) -> bool:
        return bool(self.last_failure and (not self.last_success or self.last_failure > self.last_success))

    @property
    def stale(self) -> bool:
        """The data shown may be behind upstream: the last run failed, or none succeeded lately."""
        too_old = timezone.now() - STALE_AFTER[self.source]
        return self.failing or not self.last_success or self.last_success < too_old


def source_freshness() -> list[Freshness]:
    """When each source last synced and last failed (after its retries), in one query."""
    rows = {
        row["source"]: row
        for row in SyncRun.objects.values("source").annotate(
            last_success=Max("finished_at", filter=Q(outcome=SyncRun.Outcome.SUCCESS)),
            last_failure=Max("finished_at", filter=Q(outcome=SyncRun.Outcome.FAILED)),
        )
    }
    return [
        Freshness(
            source=value,
            label=label,
            last_success=rows.get(value, {}).get("last_success"),
            last_failure=rows.get(value, {}).get("last_failure"),
        )
        for value, label in SyncRun.Source.choices
    ]
