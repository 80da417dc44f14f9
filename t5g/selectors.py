from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, Q

from .models import SyncRun


@dataclass(frozen=True)
class Freshness:
    source: str
    label: str
    last_success: datetime | None
    last_failure: datetime | None

    @property
    def failing(self) -> bool:
        return bool(self.last_failure and (not self.last_success or self.last_failure > self.last_success))


def source_freshness() -> list[Freshness]:
    """When each source last synced and last failed, in one query."""
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
