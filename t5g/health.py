"""/health/: is T5G able to do its job? (django-health-check)

Database, cache, the Celery broker with a live worker, beat (a schedule ran lately) and the last
sync of every source. `/health/ready/` checks only what serving pages needs, for load balancers:
a failing upstream must not take the web servers out of rotation.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import celery
from celery.app import app_or_default
from django.contrib.auth.decorators import login_not_required
from django.db.models import Max
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.contrib.celery import Ping
from health_check.exceptions import ServiceUnavailable, ServiceWarning
from health_check.views import HealthCheckView

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


class Health(HealthCheckView):
    """Everything T5G needs, and the last sync of each source (each refreshed job, from the registry)."""

    checks = [*CORE, Broker, Worker, Beat]

    def get_checks(self):
        yield from super().get_checks()
        for job in refreshed():
            yield Source(source=job.name)


health = login_not_required(Health.as_view())
ready = login_not_required(HealthCheckView.as_view(checks=CORE))
