"""How fresh each job's data is: the home page, the API, /health/ and /metrics read it from here."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max, Q
from django.utils import timezone

from t5g.models import SyncRun

from .registry import jobs


@dataclass(frozen=True)
class Freshness:
    source: str
    label: str
    last_success: datetime | None
    last_failure: datetime | None
    stale_after: timedelta  # the job's Job.stale_after: about twice its default schedule

    @property
    def failing(self) -> bool:
        return bool(self.last_failure and (not self.last_success or self.last_failure > self.last_success))

    @property
    def stale(self) -> bool:
        """The data shown may be behind upstream: the last run failed, or none succeeded lately."""
        too_old = timezone.now() - self.stale_after
        return self.failing or not self.last_success or self.last_success < too_old


def source_freshness() -> list[Freshness]:
    """When each job last synced and last failed (after its retries), in one query, in registry order."""
    rows = {
        row["source"]: row
        for row in SyncRun.objects.values("source").annotate(
            last_success=Max("finished_at", filter=Q(outcome=SyncRun.Outcome.SUCCESS)),
            last_failure=Max("finished_at", filter=Q(outcome=SyncRun.Outcome.FAILED)),
        )
    }
    return [
        Freshness(
            source=job.name,
            label=job.label,
            last_success=rows.get(job.name, {}).get("last_success"),
            last_failure=rows.get(job.name, {}).get("last_failure"),
            stale_after=job.stale_after,
        )
        for job in jobs()
    ]
