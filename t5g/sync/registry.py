"""The job registry: every sync and automation job, declared by the app that owns it.

An app declares its jobs in `<app>/jobs.py` as a list, `JOBS = [Job(...), ...]`; the registry collects
them from the installed apps (as the admin collects `admin.py`) when T5G starts (T5GConfig.ready), so a
mistake in a declaration stops start-up. Everything the core does with a job reads it from here:
running it (t5g/sync/runner.py), its default schedules (schedules.py), its place in a refresh and in
`manage.py sync all` (refresh.py), its health check (t5g/health.py), when its data is stale
(freshness.py) and the cache feeds its writes make new (upsert.py). Adding a job is one declaration
in its own app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Schedule:
    """A default periodic task (django-celery-beat; admins edit it in admin, and setup_schedules never
    changes one that exists): every `every` minutes, or at `minute` past `hour` (crontab fields, UTC)."""

    name: str  # the periodic task's name in admin
    every: int | None = None
    minute: str = ""
    hour: str = ""
    options: dict = field(default_factory=dict)  # more keyword arguments of the run, e.g. {"full": True}

    def __post_init__(self):
        if (self.every is None) == (not self.minute):
            raise ImproperlyConfigured(f"schedule {self.name}: give `every` minutes or a crontab `minute`")


@dataclass(frozen=True)
class Job:
    name: str  # SyncRun.source, the task's "job" argument, `manage.py sync <name>`
    label: str  # how people see it: admin, the home page, alerts
    service: str  # dotted path of fn(*, run, full, since, dry_run, progress), imported when the job runs
    feeds: tuple[str, ...]  # the cache generations its writes bump: the views that read its data
    stale_after: timedelta  # its data is shown as stale when no run succeeded for this long
    schedules: tuple[Schedule, ...] = ()
    # Its place in a refresh, `manage.py sync all` and the health checks, lowest first; each reads what the
    # ones before it wrote. None: a job of its own (automation), run only by its schedules or by name.
    refresh: int | None = None
    # The upstream whose webhooks run this job with the keys they name (`keys=[...]`, t5g/sync/hooks.py): a job
    # of events, with no schedule of its own; the scheduled syncs still reconcile whatever a webhook missed.
    on_webhook: str = ""
    # Dotted path of fn(keys) -> those of a webhook's keys it would read (a lookup in T5G's own database): when
    # none, it does not run at all, and records no run (a webhook about a card names no linked issue).
    webhook_keys: str = ""
    # Whom it reads, as people name it ("Bugzilla"): a failure is told as "Bugzilla answered 503 …".
    upstream: str = ""
    # Settings it needs to do anything (e.g. BUG_TAG_KEYWORDS): without them it is not shown as late.
    needs: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        from django.conf import settings

        return all(getattr(settings, name, None) for name in self.needs)

    def wanted_keys(self, keys: list[str]) -> list[str]:
        return list(import_string(self.webhook_keys)(keys)) if self.webhook_keys else keys

    @property
    def scheduled(self) -> bool:
        """Whether it runs by itself (a schedule or a refresh): only then can its data be late."""
        return bool(self.schedules) or self.refresh is not None


_cache: tuple[tuple[str, ...], dict[str, Job]] | None = None


def discover() -> dict[str, Job]:
    """Every installed app's declared jobs, by name: refreshed jobs first in their order, then the others in
    the order of INSTALLED_APPS. Collected again when the installed apps change (a test adding an app)."""
    global _cache
    installed = tuple(config.name for config in apps.get_app_configs())
    if _cache is not None and _cache[0] == installed:
        return _cache[1]
    declared: list[Job] = []
    for name in installed:
        module = f"{name}.jobs"
        if find_spec(module) is not None:
            declared += getattr(import_module(module), "JOBS", [])
    _check(declared)
    ordered = sorted((j for j in declared if j.refresh is not None), key=lambda j: j.refresh)
    ordered += [j for j in declared if j.refresh is None]
    _cache = (installed, {job.name: job for job in ordered})
    return _cache[1]


def _check(declared: list[Job]) -> None:
    for what, values in (
        ("job name", [job.name for job in declared]),
        ("schedule name", [s.name for job in declared for s in job.schedules]),
        ("refresh place", [job.refresh for job in declared if job.refresh is not None]),
    ):
        if repeated := sorted({str(v) for v in values if values.count(v) > 1}):
            raise ImproperlyConfigured(f"jobs: the same {what} declared twice: {', '.join(repeated)}")
    for job in declared:
        if not job.feeds:
            raise ImproperlyConfigured(f"job {job.name}: declare the cache feeds its writes make new")


def jobs() -> list[Job]:
    return list(discover().values())


def get_job(name: str) -> Job:
    found = discover().get(name)
    if found is None:
        raise ValueError(f"unknown job {name!r}; choose from {', '.join(discover())}")
    return found


def refreshed() -> list[Job]:
    """The jobs a refresh (and `sync all`) runs, in order: the upstream sources."""
    return [job for job in jobs() if job.refresh is not None]


def on_webhook(upstream: str) -> list[Job]:
    """The jobs an `upstream` webhook runs."""
    return [job for job in jobs() if job.on_webhook == upstream]


def label_of(name: str) -> str:
    """A job's label; a run of a job no longer declared keeps its name."""
    job = discover().get(name)
    return job.label if job else name
