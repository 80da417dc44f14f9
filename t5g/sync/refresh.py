"""Refresh now: every source synced in order by one background task, with its progress in the database.

One refresh at a time (a constraint): a second press attaches to the running one. Progress lives
in the Refresh row, not only in Celery's result backend, so a reload, another user or a Redis
outage still sees it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http import HTTPStatus

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from t5g.clients.http import UpstreamError
from t5g.models import Refresh, SyncRun

from .registry import get_job, label_of, refreshed
from .runner import run_job

log = logging.getLogger(__name__)

ACTIVE = [Refresh.State.QUEUED, Refresh.State.RUNNING]
# A running refresh says it is alive this often (seconds), whatever its phase is doing (a slow upstream may keep a
# phase from reporting progress for minutes), so one that stops saying it soon is known to have lost its worker.
HEARTBEAT = 10
GONE_AFTER = timedelta(seconds=6 * HEARTBEAT)
# A queued refresh may wait this long for a free worker; past it, it was lost (the broker's queue with it).
QUEUED_FOR = timedelta(minutes=15)
# Progress inside a phase is written at most this often (seconds).
PROGRESS_EVERY = 0.5


def current_refresh() -> Refresh | None:
    """The refresh running now, else the latest one (the only one that can be active)."""
    refresh = Refresh.objects.order_by("-created_at").first()
    return checked(refresh) if refresh else None


def checked(refresh: Refresh) -> Refresh:
    """The refresh, given up if its worker is gone: whoever looks at it (a page's header, the bar's poll) ends a
    dead one's bar, at no cost for a live one (no query)."""
    if _gone(refresh, timezone.now()):
        log.warning("refresh %s (%s) gave no sign of life since %s: marked failed", refresh.pk, refresh.state,
                    refresh.updated_at)  # fmt: skip
        _finish(refresh, Refresh.State.FAILED, "Stopped: its worker went away. Press refresh to start again.")
    return refresh


def _gone(refresh: Refresh, now) -> bool:
    silent_for = now - refresh.updated_at
    if refresh.state == Refresh.State.RUNNING:
        return silent_for > GONE_AFTER
    return refresh.state == Refresh.State.QUEUED and silent_for > QUEUED_FOR


def start_refresh(*, user) -> tuple[Refresh, bool]:
    """Queue a refresh, or attach to the one already queued or running. Returns (refresh, started)."""
    give_up_silent()
    active = Refresh.objects.filter(state__in=ACTIVE).first()
    if active:
        return active, False
    try:
        with transaction.atomic():
            refresh = Refresh.objects.create(requested_by=user, steps=len(refreshed()))
    except IntegrityError:  # another press won the race: attach to it
        return Refresh.objects.filter(state__in=ACTIVE).first(), False
    from .tasks import refresh as refresh_task  # the tasks module imports this one

    try:
        result = refresh_task.apply_async(args=[refresh.pk], retry=False)
    except Exception as exc:  # noqa: BLE001 - the broker is down: say so, do not leave it queued forever
        log.warning("refresh %s could not be queued: %s", refresh.pk, exc)
        _finish(refresh, Refresh.State.FAILED, "The task queue (Redis) is unreachable; try again later.")
        return refresh, False
    Refresh.objects.filter(pk=refresh.pk).update(task_id=result.id)
    refresh.task_id = result.id
    log.info("refresh %s queued by %s (task %s)", refresh.pk, user, result.id)
    return refresh, True


def run_refresh(*, refresh_id: int, task_id: str = "") -> Refresh:
    """Sync every refreshed job, in order (registry.refreshed). A source that fails is reported and the others
    still run."""
    refresh = Refresh.objects.get(pk=refresh_id)
    if not refresh.active:
        return refresh  # a redelivered task for a refresh already over
    if task_id and not refresh.task_id:
        # Beat starts the first refresh (schedules.py) without start_refresh: its runs are found by this id.
        Refresh.objects.filter(pk=refresh.pk, task_id="").update(task_id=task_id)
        refresh.task_id = task_id  # and in the copy saved when it ends
    # A list, in the order the sources ran: PostgreSQL's jsonb does not keep a dict's key order.
    summary: list[dict] = []
    last_write = 0.0

    def progress(current: int, total: int, phase: str) -> None:
        nonlocal last_write
        if time.monotonic() - last_write >= PROGRESS_EVERY:
            last_write = time.monotonic()
            Refresh.objects.filter(pk=refresh.pk).update(current=current, total=total, updated_at=timezone.now())

    with heartbeat(refresh.pk):
        for step, job in enumerate([job.name for job in refreshed()]):
            # Only while still active: a refresh given up for dead (its heartbeat stalled) stops here.
            if not Refresh.objects.filter(pk=refresh.pk, state__in=ACTIVE).update(
                state=Refresh.State.RUNNING, phase=job, step=step, current=0, total=0, updated_at=timezone.now()
            ):
                log.warning("refresh %s was given up while it ran: stopped before %s", refresh.pk, job)
                return refresh
            try:
                run = run_job(job=job, trigger=SyncRun.Trigger.MANUAL, task_id=task_id, progress=progress)
            except SoftTimeLimitExceeded:
                _finish(refresh, Refresh.State.FAILED, f"Stopped after {settings.JOB_TIME_LIMIT}s (JOB_TIME_LIMIT).")
                raise
            except Exception as exc:  # noqa: BLE001 - recorded on the run; the other sources still refresh
                # One sentence for people; the exception, for staff, is the run's error (admin: sync runs).
                summary.append({"source": job, "label": label_of(job), "error": told(job, exc)})
                continue
            summary.append({
                "source": job,
                "label": label_of(job),
                "fetched": run.fetched,
                "created": run.created,
                "updated": run.updated,
                "rejected": run.rejected,
                "joined": bool(getattr(run, "joined", False)),
            })  # fmt: skip
    failed = [result["source"] for result in summary if "error" in result]
    refresh.summary = summary
    if failed:
        _finish(refresh, Refresh.State.FAILED, f"{', '.join(failed)} failed; the other sources were refreshed.")
    else:
        _finish(refresh, Refresh.State.DONE)
    return refresh


def told(job: str, exc: Exception) -> str:
    """A source's failure in one sentence a team member can act on, and what the pages show meanwhile:
    "Bugzilla answered 503 Service Unavailable; showing data from 14:02." Never the exception's text (URLs)."""
    declared = get_job(job)
    who = declared.upstream or declared.label
    if isinstance(exc, UpstreamError) and exc.status:
        try:
            phrase = HTTPStatus(exc.status).phrase
        except ValueError:
            phrase = ""
        said = f"{who} answered {exc.status} {phrase}".rstrip()
    elif isinstance(exc, UpstreamError) and not exc.sent:
        said = f"{who} could not be reached"
    elif isinstance(exc, UpstreamError):
        said = f"{who} did not answer in time, or answered something T5G could not read"
    else:
        said = f"{declared.label} failed inside T5G (the details are in its sync run, in admin)"
    last = (
        SyncRun.objects.filter(source=job, outcome=SyncRun.Outcome.SUCCESS)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    if last is None:
        return f"{said}; nothing from it yet."
    shown = timezone.localtime(last)
    when = f"{shown:%H:%M}" if shown.date() == timezone.localdate() else f"{shown:%Y-%m-%d %H:%M}"
    return f"{said}; showing data from {when}."


@contextmanager
def heartbeat(refresh_id: int) -> Iterator[None]:
    """While the block runs, a thread marks the refresh alive every HEARTBEAT seconds: when its worker dies, the
    marks stop, and the refresh is given up within GONE_AFTER instead of holding the button for everyone."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(HEARTBEAT):
                try:
                    Refresh.objects.filter(pk=refresh_id, state=Refresh.State.RUNNING).update(updated_at=timezone.now())
                except DatabaseError as exc:
                    log.warning("refresh %s: could not mark it alive: %s", refresh_id, exc)
        finally:
            connection.close()  # this thread's own

    thread = threading.Thread(target=beat, name=f"refresh-{refresh_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _finish(refresh: Refresh, state: str, error: str = "") -> None:
    refresh.state, refresh.error = state, error
    refresh.step, refresh.phase = refresh.steps, ""
    refresh.finished_at = refresh.updated_at = timezone.now()
    refresh.save()


def give_up_silent() -> None:
    """Refreshes whose worker went away are over: a running one whose heartbeat stopped, a queued one never taken."""
    now = timezone.now()
    silent = Refresh.objects.filter(
        Q(state=Refresh.State.RUNNING, updated_at__lt=now - GONE_AFTER)
        | Q(state=Refresh.State.QUEUED, updated_at__lt=now - QUEUED_FOR)
    )
    for refresh in silent:
        checked(refresh)
