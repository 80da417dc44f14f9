"""Bulk writes of upstream records where newer wins, the watermark an incremental run starts from, and
marking what left upstream.

A sync service (cases/services.py, cards/services.py, ...) fetches through a client, parses each upstream
record into a dict of model field values (t5g/sync/batches.py: a malformed one is logged and counted as
rejected) and hands batches to `upsert`. Every write bumps, once its transaction commits, the cache
generations of the views the run's job feeds (its Job.feeds), so no page is older than the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections, models, router, transaction
from django.db.models import Max
from django.utils import timezone

from t5g.cache import bump_after_commit
from t5g.clients.records import chunks
from t5g.models import SyncRun

from .locks import ensure_lock_held
from .registry import get_job

log = logging.getLogger(__name__)


def bump_feeds_after_commit(run: SyncRun) -> None:
    """The views fed by the run's job (Job.feeds) are made new once the current transaction commits."""
    bump_after_commit(*get_job(run.source).feeds)


def upsert(
    model: type[models.Model],
    rows: list[dict],
    *,
    run: SyncRun,
    dry_run: bool = False,
    count: bool = True,
) -> list[Any]:
    """Insert new rows and update changed ones in bulk; older data never overwrites newer.

    Each row holds model attnames (the primary key included). Whether a row changed is
    decided by its upstream_updated_at, the upstream's own version of the record: newer is
    written, the same is left alone (only synced_at moves), older is ignored. Rows without
    that time are compared field by field. Returns the keys written (created or updated).
    Counts go to `run` unless `count` is off (rows that belong to another counted record); those
    rows' newest upstream change also becomes the run's watermark (see `watermark`).
    One transaction per batch (SYNC_WRITE_BATCH rows): a killed worker leaves no partial batch, and a
    run that lost its job's lock writes no further batch.

    The decision is made again by the write itself (its conflict clause compares upstream versions):
    another writer of the table (card creation beside the card sync, a second run) may have stored a
    newer version since the stored ones were read.
    """
    pk = model._meta.pk.attname
    written: list[Any] = []
    now = timezone.now()
    if count:
        advance_watermark(run, rows)
    for batch in chunks(rows, settings.SYNC_WRITE_BATCH):
        fields = sorted({name for row in batch for name in row} - {pk})
        if any(len(row) != len(fields) + 1 for row in batch):
            # A row without a field would have it reset to its default on update.
            raise ValueError(f"{model.__name__} rows must all carry the same fields")
        keys = [row[pk] for row in batch]
        stored = dict(
            (key, (updated, removed))
            for key, updated, removed in model.objects.filter(pk__in=keys).values_list(
                pk, "upstream_updated_at", "removed_at"
            )
        )
        new, changed, same, compare = [], [], [], []
        for row in batch:
            if row[pk] not in stored:
                new.append(row)
                continue
            old_at, removed = stored[row[pk]]
            new_at = row.get("upstream_updated_at")
            if new_at is None or old_at is None:
                compare.append(row)
            elif new_at > old_at or (new_at == old_at and removed and row.get("removed_at", removed) is None):
                changed.append(row)
            else:
                same.append(row[pk])
        if compare:
            old_rows = {r[pk]: r for r in model.objects.filter(pk__in=[r[pk] for r in compare]).values(pk, *fields)}
            for row in compare:
                old = old_rows[row[pk]]
                (same.append(row[pk]) if all(old[f] == row[f] for f in row if f != pk) else changed.append(row))
        if count:
            run.created += len(new)
            run.updated += len(changed)
            run.unchanged += len(same)
        if dry_run:
            continue
        ensure_lock_held()
        with transaction.atomic():
            if new or changed:
                _insert_or_update(model, new + changed, update=[*fields, "synced_at"], now=now)
                # Only a change makes the cached pages old: a re-read finding the rows as they were (the
                # schedule's overlap window, a webhook's re-read of what a sync already wrote) bumped them too and
                # left every page cold after the warm (make bench ONLY=live: 41% cache hits under load).
                bump_feeds_after_commit(run)
            if same:
                model.objects.filter(pk__in=same).update(synced_at=now)
        written += [row[pk] for row in new + changed]
    return written


# Field types whose Python values the database drivers take as they are.
_AS_IS = {
    "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "EmailField", "ForeignKey",
    "IntegerField", "OneToOneField", "PositiveIntegerField", "PositiveSmallIntegerField", "SmallIntegerField",
    "TextField", "URLField",
}  # fmt: skip


def _preparer(field: models.Field, connection) -> Callable[[Any], Any] | None:
    """How a value of `field` goes to the driver: None when as it is."""
    kind = field.get_internal_type()
    if kind in _AS_IS:
        return None
    if kind == "DateTimeField" and connection.vendor == "sqlite":
        # What the backend's adapter does with an aware time (a naive UTC string) without its per-call checks,
        # a third of this function's time. Parsed upstream times are always aware, and nearly always UTC.
        utc = connection.timezone

        def sqlite_time(value: datetime) -> str:
            if value.tzinfo is not utc:
                if value.tzinfo is None:
                    raise ValueError(f"{field}: a naive time, {value}")
                value = value.astimezone(utc)
            return value.replace(tzinfo=None).isoformat(" ")

        return sqlite_time
    if kind == "JSONField":
        return lambda value: connection.ops.adapt_json_value(value, field.encoder)
    return lambda value: field.get_db_prep_save(value, connection)


def _insert_or_update(model: type[models.Model], rows: list[dict], *, update: list[str], now) -> None:
    """INSERT ... ON CONFLICT (pk) DO UPDATE in one executemany: the same as bulk_create(update_conflicts=True)
    without building a model instance and preparing every value per row, which at 100,000 rows was most of the
    sync's own time. Values still go through Django's own preparation wherever a type needs it."""
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    columns = list(model._meta.concrete_fields)
    pk = model._meta.pk
    table = quote(model._meta.db_table)
    at, removed = quote("upstream_updated_at"), quote("removed_at")
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(f.column) for f in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT ({quote(pk.column)}) DO UPDATE SET "
        + ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in (model._meta.get_field(a).column for a in update))
        # Newer wins in the write itself, as upsert() decides: a row without a version is compared by its
        # values (written when they differ), a newer version is written, the same version only when it
        # brings back a row marked removed. Anything else another writer stored meanwhile stays.
        + f" WHERE excluded.{at} IS NULL OR {table}.{at} IS NULL OR excluded.{at} > {table}.{at}"
        f" OR (excluded.{at} = {table}.{at} AND {table}.{removed} IS NOT NULL AND excluded.{removed} IS NULL)"
    )
    given = set().union(*rows)
    # Per column: (attname, how to prepare it) when the rows carry it, else its value for every row, prepared once.
    plan: list[tuple[str, Callable | None] | list] = []
    for field in columns:
        prepare = _preparer(field, connection)
        if field.attname in given:
            plan.append((field.attname, prepare))
        else:
            value = now if field.attname == "synced_at" else field.get_default()
            plan.append([value if prepare is None or value is None else prepare(value)])
    params = [
        [
            step[0]
            if type(step) is list
            else (value if (value := row[step[0]]) is None or step[1] is None else step[1](value))
            for step in plan
        ]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def update_rows(model: type[models.Model], rows: list[dict]) -> None:
    """Set fields of existing rows, each its own values: one UPDATE ... WHERE pk = ? run with executemany.

    Each row holds the primary key and the same fields. What bulk_update does, without the CASE WHEN
    expression it builds (a node per row and field: seconds at a few thousand rows)."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    pk = model._meta.pk
    fields = [model._meta.get_field(name) for name in rows[0] if name != pk.attname]
    preps = [_preparer(f, connection) for f in (*fields, pk)]
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {', '.join(f'{quote(f.column)} = %s' for f in fields)} "
        f"WHERE {quote(pk.column)} = %s"
    )
    names = [f.attname for f in (*fields, pk)]
    params = [
        [v if (v := row[n]) is None or p is None else p(v) for n, p in zip(names, preps, strict=True)] for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def mark_removed(queryset: models.QuerySet, keep: set, *, run: SyncRun, dry_run: bool) -> int:
    """Mark the rows of `queryset` not in `keep`: they left the upstream query, and stay for history."""
    gone = [pk for pk in queryset.filter(removed_at__isnull=True).values_list("pk", flat=True) if pk not in keep]
    if dry_run or not gone:
        return len(gone)
    now = timezone.now()
    ensure_lock_held()
    with transaction.atomic():
        for batch in chunks(gone, 500):
            queryset.model.objects.filter(pk__in=batch).update(removed_at=now)
        bump_feeds_after_commit(run)
    return len(gone)


def advance_watermark(run: SyncRun, rows: list[dict]) -> None:
    """The newest upstream change among `rows`, which the run read, becomes its watermark if newer."""
    newest = max((at for row in rows if (at := row.get("upstream_updated_at")) is not None), default=None)
    if newest is not None and (run.watermark is None or newest > run.watermark):
        run.watermark = newest


def watermark(*, job: str, since: datetime | None, full: bool) -> datetime | None:
    """Where an incremental run of `job` starts: the newest upstream change its own successful runs read
    (SyncRun.watermark), less a safety overlap; None reads everything.

    Per job and from its own runs, not the table's newest row: another writer of the table (card
    creation stores fresh cards) would move that past changes no sync has read yet. Runs read
    upstreams oldest change first, so even a run that failed midway never stored anything newer than
    what it had not read yet; and only successful runs count.
    """
    if full:
        return None
    if since:
        return since
    newest = SyncRun.objects.filter(source=job, outcome=SyncRun.Outcome.SUCCESS).aggregate(newest=Max("watermark"))
    return newest["newest"] - timedelta(minutes=settings.SYNC_OVERLAP_MINUTES) if newest["newest"] else None
