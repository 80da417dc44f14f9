"""How fresh each job's data is: the home page, the API, /health/ and /metrics read it from here."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from t5g.models import FailingRecord, SyncRun

from .registry import jobs
from .schedules import next_runs


@dataclass(frozen=True)
class Freshness:
    source: str
    label: str
    last_success: datetime | None
    last_failure: datetime | None
    stale_after: timedelta  # the job's Job.stale_after: about twice its default schedule
    # Records the job could not read on its last try of each (restricted, deleted: t5g/sync/failures.py).
    failing_records: int = 0
    failing_since: datetime | None = None  # the first failure of the oldest streak
    next_run: datetime | None = None  # for a job that never ran: when its schedule first runs it

    @property
    def waiting(self) -> bool:
        """Never run, and its first scheduled run is still to come: not late, just new."""
        return not self.last_success and not self.last_failure and self.next_run is not None

    @property
    def failing(self) -> bool:
        return bool(self.last_failure and (not self.last_success or self.last_failure > self.last_success))

    @property
    def stale(self) -> bool:
        """The data shown may be behind upstream: the last run failed, or none succeeded lately."""
        if self.waiting:
            return False
        too_old = timezone.now() - self.stale_after
        return self.failing or not self.last_success or self.last_success < too_old

    @property
    def records_failing_long(self) -> bool:
        """Some record has failed for longer than a day: no passing refusal, someone should look at it."""
        return bool(self.failing_since and self.failing_since < timezone.now() - RECORDS_FAILING_LONG)


RECORDS_FAILING_LONG = timedelta(days=1)


def source_freshness(*, failing_records: bool = False, upcoming: bool = False) -> list[Freshness]:
    """When each job last synced and last failed (after its retries), in one query, in registry order; with
    `failing_records`, also the records each cannot read (t5g/sync/failures.py), in a second."""
    rows = {
        row["source"]: row
        for row in SyncRun.objects.values("source").annotate(
            last_success=Max("finished_at", filter=Q(outcome=SyncRun.Outcome.SUCCESS)),
            last_failure=Max("finished_at", filter=Q(outcome=SyncRun.Outcome.FAILED)),
        )
    }
    failing = (
        {
            row["source"]: row
            for row in FailingRecord.objects.values("source").annotate(count=Count("pk"), since=Min("since"))
        }
        if failing_records
        else {}
    )
    # With `upcoming` (the home page), a job that never ran is "waiting" for its first scheduled run, not late;
    # /health/ and /metrics still count it as not synced.
    never_ran = [job.name for job in jobs() if job.name not in rows]
    first_runs = next_runs() if upcoming and never_ran else {}
    return [
        Freshness(
            source=job.name,
            label=job.label,
            last_success=rows.get(job.name, {}).get("last_success"),
            last_failure=rows.get(job.name, {}).get("last_failure"),
            stale_after=job.stale_after,
            failing_records=failing.get(job.name, {}).get("count", 0),
            failing_since=failing.get(job.name, {}).get("since"),
            next_run=first_runs.get(job.name),
        )
        for job in jobs()
        # A job of webhooks has no schedule to be late on; one not configured does nothing to be late with.
        if job.scheduled and job.configured
    ]
