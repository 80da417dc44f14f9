"""Reading upstream records in a sync: progress reports, batches, parsing with rejects counted, a bounded pool.

A service's `progress(current, total, phase)` feeds the refresh bar and `manage.py sync`'s progress bar.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings

from t5g.clients.http import UpstreamError
from t5g.clients.records import RecordError
from t5g.models import SyncRun

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[int, int, str], None]


def no_progress(current: int, total: int, phase: str) -> None:
    pass


def regroup(pages: Iterable[tuple[int | None, list[T]]], *, size: int) -> Iterator[tuple[int | None, list[T]]]:
    """An upstream's (total, records) pages regrouped in batches of about `size` records: fewer, larger writes
    (and commits)."""
    batch: list[T] = []
    total = None
    for total, records in pages:
        batch += records
        if len(batch) >= size:
            yield total, batch
            batch = []
    if batch:
        yield total, batch


def parse_all(raw: Iterable[Any], parse: Callable[[Any], dict], *, run: SyncRun, what: str) -> list[dict]:
    """Parse records, skipping (and counting) the malformed ones."""
    rows = []
    for record in raw:
        run.fetched += 1
        try:
            rows.append(parse(record))
        except (RecordError, KeyError, TypeError, ValueError) as exc:
            run.rejected += 1
            key = (
                record.get("case_number") or record.get("key") or record.get("id") if isinstance(record, dict) else None
            )
            log.warning("%s: rejected malformed record %s: %s", what, key, exc)
    return rows


def pooled(fn: Callable[[T], R], items: list[T]) -> Iterator[tuple[T, R]]:
    """Run independent upstream calls concurrently with a bounded pool, yielding in input order."""
    if not items:
        return
    with ThreadPoolExecutor(max_workers=settings.UPSTREAM_CONCURRENCY) as pool:
        yield from zip(items, pool.map(fn, items), strict=True)


# Answers that say the upstream itself is failing or refusing us, whatever the record: bad credentials,
# a proxy's authentication, rate limiting. Never one record's problem.
NOT_THE_RECORD = frozenset({401, 407, 429})


def read_each(fn: Callable[[T], R], items: list[T]) -> tuple[list[tuple[T, R]], dict[T, UpstreamError]]:
    """`pooled`, where one record's failure does not fail the others: (the items read with their answers, in
    input order; the items the upstream refused, each with its error).

    A refusal is the record's own when the upstream answered about it: a 4xx other than NOT_THE_RECORD's
    (e.g. 403 restricted, 404 or 410 deleted), or a 5xx while other records of the batch were read (a record
    the upstream cannot render). Anything else is raised, failing the run as before: no answer at all (a timeout,
    a refused connection, a malformed body), NOT_THE_RECORD, or a 5xx for every record of the batch (the
    upstream is down, not the records).
    """

    def attempt(item: T) -> tuple[R | None, UpstreamError | None]:
        try:
            return fn(item), None
        except UpstreamError as exc:
            return None, exc

    read: list[tuple[T, R]] = []
    refused: dict[T, UpstreamError] = {}
    for item, (answer, error) in pooled(attempt, items):
        if error is None:
            read.append((item, answer))
        elif error.status is None or error.status in NOT_THE_RECORD:
            raise error
        else:
            refused[item] = error
    server_errors = [e for e in refused.values() if e.status >= 500]
    if server_errors and not read:
        raise server_errors[0]
    return read, refused


class Throttled:
    """Reports progress at most a few times a second: a report is a Redis write."""

    def __init__(self, progress: Progress, interval: float = 0.5):
        self.progress = progress
        self.interval = interval
        self._last = 0.0

    def __call__(self, current: int, total: int, phase: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self._last = now
            self.progress(current, total, phase)
