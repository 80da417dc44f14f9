"""The audit log of upstream writes, in the database: every write the guard in the HTTP adapter
(t5g/clients/writes.py) sends or refuses is an UpstreamWrite row, shown in admin."""

from .clients.writes import Write
from .models import UpstreamWrite


def record(write: Write) -> None:
    """Insert the write when it is first told (before it is sent), then update it with its outcome."""
    if write.record_id is None:
        row = UpstreamWrite.objects.create(
            upstream=write.upstream, action=write.action, target=write.target, run=write.run,
            method=write.method, url=write.url, outcome=write.outcome,
        )  # fmt: skip
        write.record_id = row.pk
        return
    UpstreamWrite.objects.filter(pk=write.record_id).update(
        outcome=write.outcome, status_code=write.status_code, error=write.error, duration_ms=write.duration_ms
    )
