"""/health/: is T5G able to do its job? (django-health-check)

Database, cache, the Celery broker with a live worker, beat (a schedule ran lately) and the last
sync of every source, for monitors and staff, at most once in HEALTH_CACHE_SECONDS. `/health/ready/`
checks only what serving pages needs, for load balancers: public, cheap, and without error texts;
a failing upstream must not take the web servers out of rotation.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from datetime import datetime, timedelta

import celery
from celery.app import app_or_default
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db.models import Max
from django.http import HttpResponse
from django.utils import timezone
from health_check.base import HealthCheck, HealthCheckResult
from health_check.contrib.celery import Ping
from health_check.exceptions import (
    HealthCheckException,
    ServiceReturnedUnexpectedResult,
    ServiceUnavailable,
    ServiceWarning,
)
from health_check.views import HealthCheckView

from .callers import monitor
from .sync.freshness import source_freshness
from .sync.registry import refreshed

# notification_resend runs every 10 minutes and case_sync every 15; beat saves last_run_at every few
# minutes. Nothing for this long means beat is not running.
BEAT_SILENT_AFTER = timedelta(minutes=30)


@dataclasses.dataclass
class Beat(HealthCheck):
    """Celery beat is alive: some schedule ran recently."""

    def run(self) -> None:
        from django_celery_beat.models import PeriodicTask

        enabled = PeriodicTask.objects.filter(enabled=True)
        found = enabled.aggregate(last=Max("last_run_at"), changed=Max("date_changed"))
        last = found["last"]
        if last is None:
            # Beat saves last_run_at every few minutes: just after the schedules were made, silence is normal.
            if found["changed"] and found["changed"] > timezone.now() - BEAT_SILENT_AFTER:
                return
            raise ServiceUnavailable("no schedule has ever run: is beat running?")
        if last < timezone.now() - BEAT_SILENT_AFTER:
            raise ServiceUnavailable(f"no schedule ran since {last:%Y-%m-%d %H:%M} UTC: is beat running?")


@dataclasses.dataclass
class Source(HealthCheck):
    """One upstream source's last sync: failing is an error, behind schedule a warning."""

    source: str

    def run(self) -> None:
        state = next(f for f in source_freshness(failing_records=True) if f.source == self.source)
        if state.failing:
            raise ServiceUnavailable(f"{state.label}: last run failed at {state.last_failure:%Y-%m-%d %H:%M} UTC")
        if state.stale:
            when = f"{state.last_success:%Y-%m-%d %H:%M} UTC" if state.last_success else "never"
            raise ServiceWarning(f"{state.label}: stale, last success {when}")
        if state.records_failing_long:
            raise ServiceWarning(
                f"{state.label}: {state.failing_records} record(s) cannot be read, the first since "
                f"{state.failing_since:%Y-%m-%d %H:%M} UTC (admin: Failing records)"
            )


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker answers (told apart from "no worker", which the ping reports)."""

    def run(self) -> None:
        from .celery import app

        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:  # noqa: BLE001 - kombu raises many kinds; the message is what matters
            raise ServiceUnavailable(f"cannot reach the broker: {type(exc).__name__}") from exc


@dataclasses.dataclass
class Worker(Ping):
    """A Celery worker answers a ping (the stock check, named without the app's address)."""

    app: celery.Celery = dataclasses.field(default_factory=app_or_default, repr=False)
    timeout: timedelta = dataclasses.field(default=timedelta(seconds=2), repr=False)


CORE = ["health_check.checks.Database", "health_check.checks.Cache"]
CACHE_KEY = "health:results"
ERRORS = {cls.__name__: cls for cls in (HealthCheckException, ServiceWarning, ServiceUnavailable,
                                        ServiceReturnedUnexpectedResult)}  # fmt: skip


@dataclasses.dataclass
class Replayed(HealthCheck):
    """A check's result as /health/ keeps it for HEALTH_CACHE_SECONDS: its name, labels and outcome, replayed
    without running the check again."""

    name: str
    label_values: dict
    error: tuple[str, str, str] | None  # (exception class, message, ISO timestamp)
    time_taken: float

    def run(self) -> None:  # never run: get_result replays
        pass

    def __repr__(self) -> str:
        return self.name

    @property
    def labels(self) -> dict[str, str]:
        return self.label_values

    async def get_result(self, executor=None) -> HealthCheckResult:
        error = None
        if self.error:
            kind, message, at = self.error
            error = ERRORS.get(kind, HealthCheckException)(message, timestamp=datetime.fromisoformat(at))
        return HealthCheckResult(check=self, error=error, time_taken=self.time_taken)

    @classmethod
    def of(cls, result: HealthCheckResult) -> Replayed:
        error = result.error
        return cls(
            name=repr(result.check),
            label_values=result.check.labels,
            error=(type(error).__name__, str(error.message), error.timestamp.isoformat()) if error else None,
            time_taken=result.time_taken,
        )


class Health(HealthCheckView):
    """Everything T5G needs, and the last sync of each source (each refreshed job, from the registry).

    For monitors (METRICS_TOKEN, METRICS_ALLOWED_IPS) and signed-in staff only: its messages name hosts and
    failures, and a worker ping takes up to 2 s. Its checks run at most once in HEALTH_CACHE_SECONDS (shared by
    every web process through the cache); in between, the last result is replayed.
    """

    checks = [*CORE, Broker, Worker, Beat]

    async def get(self, request, *args, **kwargs):
        user = None if monitor(request) else await request.auser()
        if user is not None and not (user.is_active and user.is_staff):
            return refusal(signed_in=user.is_authenticated)
        self.replayed = await self._results()
        return await super().get(request, *args, **kwargs)

    def get_checks(self):
        yield from self.replayed

    def _live_checks(self):
        yield from super().get_checks()
        for job in refreshed():
            yield Source(source=job.name)

    async def _results(self) -> list[Replayed]:
        seconds = settings.HEALTH_CACHE_SECONDS
        if seconds:
            kept = await cache.aget(CACHE_KEY)
            if kept is not None:
                return [Replayed(**fields) for fields in kept]
        with self.get_executor() as executor:
            results = await asyncio.gather(*(check.get_result(executor) for check in self._live_checks()))
        replayed = [Replayed.of(result) for result in results]
        if seconds:
            await cache.aset(CACHE_KEY, [dataclasses.asdict(r) for r in replayed], timeout=seconds)
        return replayed


def refusal(*, signed_in: bool) -> HttpResponse:
    if signed_in:
        return HttpResponse("/health/ is for staff and monitors\n", status=403, content_type="text/plain")
    return HttpResponse("/health/ needs the METRICS_TOKEN bearer token, or a staff sign-in\n", status=401,
                        content_type="text/plain", headers={"WWW-Authenticate": "Bearer"})  # fmt: skip


@dataclasses.dataclass
class Discreet(HealthCheck):
    """A check whose failure the public sees without its text (which may name a database host or user): the
    text goes to the log, and to /health/ for monitors and staff."""

    inner: HealthCheck = dataclasses.field(repr=False)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            if inspect.iscoroutinefunction(self.inner.run):
                await self.inner.run()
            else:
                await loop.run_in_executor(None, self.inner.run)
        except ServiceWarning as exc:
            raise ServiceWarning("degraded") from exc
        except HealthCheckException as exc:
            raise ServiceUnavailable("unavailable") from exc

    def __repr__(self) -> str:
        return repr(self.inner)

    @property
    def labels(self) -> dict[str, str]:
        return self.inner.labels


class Ready(HealthCheckView):
    """Database and cache: what serving pages needs. Public, for load balancers' probes, and cheap."""

    checks = CORE

    def get_checks(self):
        for check in super().get_checks():
            yield Discreet(inner=check)


health = login_not_required(Health.as_view())
ready = login_not_required(Ready.as_view())
