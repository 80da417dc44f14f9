"""The soak test: `make soak [MINUTES=10] [CASES=10000]` (a short one runs in `make test`).

The whole product under stress, end to end, with real processes: the sandbox with high churn and
every fault kind (FAULT_KINDS) switched on and off at random, beat running every job every minute,
two workers on PostgreSQL, refresh pressed concurrently, a worker SIGKILLed at random and restarted,
Redis restarted once, and a phase in read-only mode. Then faults off, one full run of every job, and
the invariants, each printed with its figure:

- the database equals the sandbox: every entity's count and checksum (tests/mirror.py);
- every open case has exactly one card in JIRA;
- no run left running, none overlapping another run of its job;
- every failure streak alerted once (and its recovery told once);
- no upstream write during the read-only phase.

Exits non-zero on any violation. Prints a table; `--output docs/reliability.md` also writes it there.
Not a pytest test: like tests/bench.py it drives real processes and reports figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sandbox import environment
from sandbox.app import READ_POSTS
from tests.processes import PostgresServer, Process, RedisServer, celery_beat, celery_worker_process
from tests.sandbox import Sandbox

# The product's own modules are imported inside the functions that use them: Django is set up only once the
# PostgreSQL, Redis and sandbox it points at are running.
START = time.monotonic()


def say(text: str) -> None:
    print(f"[{time.monotonic() - START:6.0f}s] {text}", flush=True)


# --- what is injected: one table per kind of disruption, easy to extend ---------------------------------------
# Where faults go: every upstream T5G reads and writes, by path prefix (the first rule whose prefix matches fires).
UPSTREAMS = ("/portal/", "/jira/", "/bugzilla/", "/sso/", "/slack/")
# Write endpoints, where a fault *after* the work leaves the client not knowing what was done.
WRITES = ("/jira/rest/api/2/issue", "/jira/rest/agile/1.0/sprint/", "/portal/hydra/rest/v1/cases/", "/bugzilla/rest/")
# Searches that page (the portal's cases, JIRA's JQL: Server's startAt, Cloud's nextPageToken under search/jql).
SEARCHES = ("/portal/hydra/rest/search/cases", "/jira/rest/api/2/search")


@dataclass(frozen=True)
class FaultKind:
    """A fault the sandbox injects (its README's table): `name` as the sandbox counts it ("fault <name>"),
    `paths` where it may go, `rule(rng)` the rest of the /_sandbox/faults rule."""

    name: str
    paths: tuple[str, ...]
    rule: Callable[[random.Random], dict]
    standing: bool = False  # a condition while on, not a fault some requests get: the sandbox counts no hits


FAULT_KINDS = [
    FaultKind("error", UPSTREAMS, lambda rng: {"kind": "error", "status": rng.choice([500, 502, 503, 504])}),
    FaultKind("error after", WRITES, lambda rng: {"kind": "error", "status": rng.choice([502, 504]), "after": True}),
    FaultKind("429", UPSTREAMS, lambda rng: {"kind": "429", "retry_after": 1}),
    # Longer than the workers' read timeout (UPSTREAM_READ_TIMEOUT below): the client gives up, then retries.
    FaultKind("hang", UPSTREAMS, lambda rng: {"kind": "hang", "ms": 8000}),
    FaultKind("hang after", WRITES, lambda rng: {"kind": "hang", "ms": 8000, "after": True}),
    FaultKind("latency", UPSTREAMS, lambda rng: {"kind": "latency", "ms": rng.choice([200, 800, 2000])}),
    FaultKind("malformed", UPSTREAMS, lambda rng: {"kind": "malformed"}),
    FaultKind("malformed after", WRITES, lambda rng: {"kind": "malformed", "after": True}),
    FaultKind("truncate", UPSTREAMS, lambda rng: {"kind": "truncate"}),
    FaultKind("truncate after", WRITES, lambda rng: {"kind": "truncate", "after": True}),
    FaultKind("expire_token", ("/portal/",), lambda rng: {"kind": "expire_token"}),
    # A record the client holds is changed between two pages of one search.
    FaultKind("churn", SEARCHES, lambda rng: {"kind": "churn"}),
    # Not per request: JIRA's search does not see the last seconds' changes (shorter than the settle window below).
    FaultKind(
        "search_lag",
        ("/jira",),
        lambda rng: {"kind": "search_lag", "ms": rng.choice([2000, 8000, 20000])},
        standing=True,
    ),
]


def fault_rules(rng: random.Random) -> tuple[list[str], list[dict]]:
    """A random set of faults, (the kinds, the rules): each kind on or off, at a random place and rate; sometimes
    none at all."""
    if rng.random() < 0.2:
        return [], []
    kinds = [kind for kind in FAULT_KINDS if rng.random() < 0.5]
    rules = [{"path": rng.choice(k.paths), "rate": round(rng.uniform(0.05, 0.35), 2), **k.rule(rng)} for k in kinds]
    order = list(range(len(kinds)))
    rng.shuffle(order)  # the first matching rule fires: no kind always shadows another
    return [kinds[i].name for i in order], [rules[i] for i in order]


@dataclass(frozen=True)
class UpstreamEvent:
    """What the upstreams' own people do to records (the sandbox README's access table): `apply(sandbox, rng)`
    does it to a record chosen at random and says which, or None when there was none to choose."""

    name: str
    apply: Callable[[Sandbox, random.Random], str | None]


def _case_access(access: str, *, among: Callable[[Sandbox], list[str]]):
    def apply(sandbox: Sandbox, rng: random.Random) -> str | None:
        numbers = among(sandbox)
        if not numbers:
            return None
        number = rng.choice(numbers)
        sandbox.post(f"cases/{number}/access", {"access": access}).raise_for_status()
        return number

    return apply


def _bug_access(access: str):
    def apply(sandbox: Sandbox, rng: random.Random) -> str | None:
        from bugs.models import Bug

        ids = list(Bug.objects.filter(restricted=access == "visible").values_list("pk", flat=True)[:500])
        if not ids:
            return None
        bug = rng.choice(ids)
        sandbox.post(f"bugs/{bug}/access", {"access": access}).raise_for_status()
        return str(bug)

    return apply


def _cases(*, open_only: bool = False, removed: bool = False) -> list[str]:
    from cases.models import Case

    found = Case.objects.filter(removed_at__isnull=not removed)
    return list((found.exclude(status="Closed") if open_only else found).values_list("pk", flat=True)[:2000])


UPSTREAM_EVENTS = [
    # An open case: its details and links then fail on every read (403), while it stays on the query.
    UpstreamEvent("case restricted", _case_access("restricted", among=lambda sandbox: _cases(open_only=True))),
    UpstreamEvent("case deleted", _case_access("deleted", among=lambda sandbox: _cases())),
    # One restricted before, or deleted before (T5G marked it removed).
    UpstreamEvent(
        "case visible again",
        _case_access("visible", among=lambda sandbox: _cases(removed=True) + sandbox.get("mirror")["unreadable"]),
    ),  # fmt: skip
    UpstreamEvent("bug restricted", _bug_access("restricted")),
    UpstreamEvent("bug visible again", _bug_access("visible")),
]


# --- the soak's settings, for every T5G process ----------------------------------------------------------------
def t5g_env(sandbox_url: str, *, redis_url: str, database_url: str) -> dict[str, str]:
    return {
        **environment(sandbox_url),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "soak-only",
        "DEBUG": "false",
        "LOG_FORMAT": "text",
        # Failures come fast and often: short timeouts and backoffs get many runs (and retries) into minutes.
        "UPSTREAM_READ_TIMEOUT": "5",
        "UPSTREAM_BACKOFF": "0.2",
        "JOB_RETRY_BACKOFF": "2",
        "LOCK_TTL": "15",  # a killed worker's lock frees within seconds
        # Longer than the JIRA search lag injected, as in production, but within the soak's minutes.
        "CARD_INTENT_SETTLE_MINUTES": "1",
        # The churn brings new cases far faster than a real day: the safety valve is for a broken query, not this.
        "MAX_NEW_CARDS": "500",
    }


# --- processes ---------------------------------------------------------------------------------------------------
def upstream_writes(sandbox: Sandbox) -> int:
    """Writes the portal, JIRA and Bugzilla received, from the sandbox's own request counters. Slack messages are
    notifications, which read-only mode does not stop."""
    writes = 0
    for label, n in sandbox.requests().items():
        method, _, path = label.partition(" ")
        if method in ("POST", "PUT", "DELETE", "PATCH") and path.startswith(("/portal/", "/jira/", "/bugzilla/")):
            writes += 0 if path in READ_POSTS else n
    return writes


class Workers:
    """Two workers on both queues; one can be killed (SIGKILL: its machine died) and another started in its place."""

    def __init__(self, *, log_dir: Path, env: dict[str, str]):
        # child_env adds this process's database; the log in full, in each worker's file.
        self.log_dir, self.env = log_dir, {**{k: v for k, v in env.items() if k != "DATABASE_URL"}, "LOG_LEVEL": "INFO"}
        self.started = Counter()
        self.procs = {name: self._start(name) for name in ("a", "b")}
        for process in self.procs.values():
            process.wait_for_log("ready.", timeout=120)

    def _start(self, name: str, **extra: str) -> Process:
        self.started[name] += 1
        return celery_worker_process(log_dir=self.log_dir, name=f"worker-{name}{self.started[name]}", concurrency=2,
                                     **self.env, **extra)  # fmt: skip

    def kill(self, name: str) -> None:
        self.procs[name].stop(signal.SIGKILL)

    def busy(self) -> list[str]:
        """The workers running a job now (the task id of a running run is in its log)."""
        from t5g.models import SyncRun

        running = SyncRun.objects.filter(outcome=SyncRun.Outcome.RUNNING).exclude(task_id="")
        tasks = list(running.values_list("task_id", flat=True))
        alive = {name: p for name, p in self.procs.items() if p.popen.poll() is None}
        return [name for name, p in alive.items() if any(t in p.log() for t in tasks)]

    def start(self, name: str, **extra: str) -> None:
        self.procs[name] = self._start(name, **extra)

    def restart_all(self, *, timeout: float, **extra: str) -> None:
        """Warm shutdown (running tasks finish, up to `timeout`), then new workers with `extra` settings."""
        self.stop(timeout=timeout)
        for name in self.procs:
            self.start(name, **extra)
        for process in self.procs.values():
            process.wait_for_log("ready.", timeout=120)

    def stop(self, *, timeout: float = 60) -> None:
        stoppers = [
            threading.Thread(target=p.stop, kwargs={"timeout": timeout, "group": False}) for p in self.procs.values()
        ]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join()


# --- setup -----------------------------------------------------------------------------------------------------
def setup_django(env: dict[str, str]) -> None:
    """This process as a T5G one (for the first and final syncs and the checks), its log quiet: the figures matter."""
    os.environ.update(env, DJANGO_SETTINGS_MODULE="t5g.settings", LOG_LEVEL="WARNING")
    import django

    django.setup()


def short_schedules(every: int) -> int:
    """Every periodic task every `every` seconds (full runs every third time): beat runs every job all the time."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    count = 0
    for task in PeriodicTask.objects.all():
        full = json.loads(task.kwargs or "{}").get("full")
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=every * (3 if full else 1), period=IntervalSchedule.SECONDS
        )
        task.interval, task.crontab = interval, None
        task.save()
        count += 1
    return count


def first_sync(sandbox: Sandbox) -> None:
    """The product as it runs day to day: every source synced once, the team loaded, before the storm."""
    from django.core.management import call_command

    from t5g.sync.registry import refreshed
    from t5g.sync.runner import run_job

    call_command("load_team", f"{sandbox.url}/_sandbox/team", "--if-empty", verbosity=0)
    for job in refreshed():
        run_job(job=job.name, trigger="manual", full=True)


# --- the storm -----------------------------------------------------------------------------------------------------
class Storm:
    """The storm, and what happened in it (the soak's figures): each disruption a method, `run` calls it when due."""

    def __init__(self, *, minutes: float, churn: int, rng: random.Random, sandbox: Sandbox, workers: Workers, redis):
        self.seconds, self.churn_per_minute, self.rng = minutes * 60, churn, rng
        self.sandbox, self.workers, self.redis = sandbox, workers, redis
        # When each disruption comes, in seconds from the start.
        self.kill_at = sorted(rng.uniform(0.05, 0.8) * self.seconds for _ in range(max(1, round(minutes / 2))))
        self.redis_at: float | None = rng.uniform(0.25, 0.45) * self.seconds
        self.read_only_span = (0.55 * self.seconds, 0.75 * self.seconds)
        self.next = {"faults": 0.0, "churn": 0.0, "press": 0.0, "event": 5.0}
        self.restart_at: dict[str, float] = {}  # killed worker -> when it starts again
        # The figures.
        self.fault_sets = self.churned = self.presses = self.refreshes_started = self.redis_restarts = 0
        self.sets_with: Counter[str] = Counter()  # fault kind -> how many of the sets had it
        self.events: Counter[str] = Counter()  # upstream event -> how many times
        self.kills: list[str] = []
        self.read_only: tuple[datetime, datetime | None] | None = None
        self.began = self.read_only_ends = 0.0
        self.writes_before = self.writes_after = 0

    def run(self) -> Storm:
        say(f"storm: {self.seconds / 60:g} min; kills at {', '.join(f'{k:.0f}s' for k in self.kill_at)}; Redis "
            f"restart at {self.redis_at:.0f}s; read-only from {self.read_only_span[0]:.0f}s to "
            f"{self.read_only_span[1]:.0f}s")  # fmt: skip
        self.began = time.monotonic()
        while (now := time.monotonic() - self.began) < self.seconds or self.in_read_only():
            for name, action in (("faults", self.change_faults), ("churn", self.change_records),
                                 ("press", self.press_refresh), ("event", self.upstream_event)):  # fmt: skip
                if now >= self.next[name]:
                    self.next[name] = now + action()
            self.kill_worker(now)
            self.restart_killed(now)
            self.restart_redis(now)
            self.switch_read_only(now)
            time.sleep(0.5)
        return self

    def change_faults(self) -> float:
        kinds, rules = fault_rules(self.rng)
        self.sandbox.faults(*rules)
        self.fault_sets += 1
        self.sets_with.update(kinds)
        say("faults: " + (", ".join(f"{k} {r['path']} {r['rate']:.0%}" for k, r in zip(kinds, rules, strict=True))
                          or "none"))  # fmt: skip
        return self.rng.uniform(8, 25)

    def change_records(self) -> float:
        self.churned += len(self.sandbox.churn(max(1, self.churn_per_minute // 30)))
        return 2

    def upstream_event(self) -> float:
        event = self.rng.choice(UPSTREAM_EVENTS)
        if (which := event.apply(self.sandbox, self.rng)) is not None:
            self.events[event.name] += 1
            say(f"{event.name}: {which}")
        return self.rng.uniform(10, 30)

    def press_refresh(self) -> float:
        """Two people press "refresh now" at the same moment: one refresh starts, the other attaches."""
        from django.db import connection

        from t5g.sync.refresh import start_refresh

        def press():
            try:
                _, started = start_refresh(user=None)
                self.refreshes_started += started
            finally:
                connection.close()

        presses = [threading.Thread(target=press) for _ in range(2)]
        for t in presses:
            t.start()
        for t in presses:
            t.join()
        self.presses += 2
        return self.rng.uniform(10, 30)

    def kill_worker(self, now: float) -> None:
        """At its time, or up to 30 s later when a job runs then: a kill mid-run is the one that tests something."""
        if not self.kill_at or now < self.kill_at[0] or self.restart_at:
            return  # not yet, or a worker is already down
        busy = self.workers.busy()
        if not busy and now < self.kill_at[0] + 30:
            return
        self.kill_at.pop(0)
        name = self.rng.choice(busy or sorted(self.workers.procs))
        self.workers.kill(name)
        self.kills.append(f"worker {name} {now:.0f}s into the storm{', mid-run' if busy else ''}")
        self.restart_at[name] = now + self.rng.uniform(2, 8)
        say(f"SIGKILL worker {name}")

    def restart_killed(self, now: float) -> None:
        for name, at in list(self.restart_at.items()):
            if now >= at:
                del self.restart_at[name]
                self.workers.start(name, **({"READ_ONLY": "true"} if self.in_read_only() else {}))
                say(f"worker {name} started again")

    def restart_redis(self, now: float) -> None:
        if self.redis_at is not None and now >= self.redis_at:
            self.redis_at = None
            self.redis.restart()
            self.redis_restarts += 1
            say("Redis restarted (empty)")

    def in_read_only(self) -> bool:
        return self.read_only is not None and self.read_only[1] is None

    def switch_read_only(self, now: float) -> None:
        """Both workers restarted with READ_ONLY=true, the writing jobs queued; later restarted writing again. The
        sandbox's count of writes is read while no worker runs."""
        if self.restart_at:
            return  # a killed worker is down: switch once both are back
        if self.read_only is None and now >= self.read_only_span[0]:
            self.workers.restart_all(timeout=60, READ_ONLY="true")
            self.writes_before = upstream_writes(self.sandbox)
            self.read_only = (datetime.now(UTC), None)
            # Starting the phase waits for busy workers to finish (a minute on a loaded CI machine, which carried it
            # past the storm's end once): it lasts its span however late it starts, and the storm waits for its end.
            span = self.read_only_span[1] - self.read_only_span[0]
            self.read_only_ends = max(self.read_only_span[1], time.monotonic() - self.began + span)
            from t5g.sync.tasks import run_job

            for job in ("create_cards", "priority", "tag_bugs"):
                run_job.delay(job)
            say("read-only phase: workers restarted with READ_ONLY=true")
        elif self.in_read_only() and now >= self.read_only_ends:
            self.end_read_only()

    def end_read_only(self) -> None:
        self.workers.stop(timeout=60)
        self.writes_after = upstream_writes(self.sandbox)
        self.read_only = (self.read_only[0], datetime.now(UTC))
        for name in self.workers.procs:
            self.workers.start(name)
        say("read-only phase over: workers writing again")


# --- the end: faults off, one full run of every job ------------------------------------------------------------------
def settle_card_intents() -> None:
    """Creates whose outcome is unknown are looked up again only after the settle window: wait it out."""
    from django.conf import settings

    from cards.models import CardIntent

    waiting = CardIntent.objects.exclude(state__in=[CardIntent.State.NEW, CardIntent.State.CREATED])
    latest = waiting.order_by("-updated_at").values_list("updated_at", flat=True).first()
    if latest:
        ready = latest + timedelta(minutes=settings.CARD_INTENT_SETTLE_MINUTES, seconds=2)
        pause = (ready - datetime.now(UTC)).total_seconds()
        if pause > 0:
            say(f"waiting {pause:.0f}s for card creates of unknown outcome to settle")
            time.sleep(pause)


def final_sync() -> list[str]:
    """Every job once, in full, in an order where each reads what the ones before wrote upstream. Returns failures."""
    from t5g.sync.registry import jobs, refreshed
    from t5g.sync.runner import run_job

    writers = [job.name for job in jobs() if job.refresh is None]  # card creation, priority, bug tagging
    failed = []
    # Cards before card creation: what JIRA has is looked up anyway, but a current mirror asks it less.
    for name in ["cases", "cards", *writers, *(job.name for job in refreshed())]:
        try:
            run = run_job(job=name, trigger="manual", full=True)
            say(f"final {name}: fetched {run.fetched}, created {run.created}, updated {run.updated}")
        except Exception as exc:  # noqa: BLE001 - reported as a violation
            failed.append(f"{name}: {type(exc).__name__}: {exc}"[:300])
    return failed


# --- the invariants -------------------------------------------------------------------------------------------------
@dataclass
class Check:
    name: str
    figure: str
    ok: bool
    details: list[str] = field(default_factory=list)


def check_mirror(sandbox: Sandbox) -> list[Check]:
    from django.conf import settings

    from tests.mirror import compare

    since = datetime.now(UTC) - timedelta(days=settings.HISTORY_DAYS) if settings.HISTORY_DAYS else None
    return [
        Check(
            f"database = sandbox: {f.entity}",
            f"{f.db_count:,} / {f.sandbox_count:,} rows, checksum " + ("equal" if f.same else "differs"),
            f.same,
            f.differences,
        )  # fmt: skip
        for f in compare(sandbox.url, since=since)
    ]


def check_cards(sandbox: Sandbox) -> Check:
    found = sandbox.get("mirror")["cards_of_open_cases"]
    bad = [f"{n}: no card" for n in found["without_card"]] + [
        f"{n}: {len(keys)} cards {', '.join(keys)}" for n, keys in found["with_several"].items()
    ]
    figure = (f"{found['open_cases']:,} open cases; {len(found['without_card'])} without a card, "
              f"{len(found['with_several'])} with several")  # fmt: skip
    return Check("every open case has exactly one card in JIRA", figure, not bad, bad[:10])


def check_runs() -> list[Check]:
    from t5g.models import Refresh, SyncRun
    from t5g.sync.refresh import GONE_AFTER, current_refresh

    # A refresh whose worker was killed near the end ends GONE_AFTER after its last heartbeat, when the next page
    # (or press) looks: wait that long, then look as a page does.
    last = Refresh.objects.filter(state="running").order_by("-updated_at").values_list("updated_at", flat=True)
    if last and (pause := (last[0] + GONE_AFTER - datetime.now(UTC)).total_seconds() + 1) > 0:
        say(f"waiting {pause:.0f}s for a refresh that lost its worker to be given up")
        time.sleep(pause)
    current_refresh()
    running = list(SyncRun.objects.filter(outcome=SyncRun.Outcome.RUNNING).values_list("source", "pk"))
    refreshing = list(Refresh.objects.filter(state__in=["queued", "running"]).values_list("pk", "state"))
    overlaps = []
    for source in sorted(set(SyncRun.objects.values_list("source", flat=True))):
        spans = SyncRun.objects.filter(source=source).order_by("started_at")
        latest = None  # (pk, end) of the run ending last so far
        for pk, start, end in spans.values_list("pk", "started_at", "finished_at"):
            end = end or datetime.now(UTC)
            if latest and start < latest[1]:
                overlaps.append(f"{source}: run {pk} started {(latest[1] - start).total_seconds():.1f}s "
                                f"before run {latest[0]} ended")  # fmt: skip
            if not latest or end > latest[1]:
                latest = (pk, end)
    total = SyncRun.objects.count()
    return [
        Check("no run left running", f"{len(running)} of {total:,} runs; {len(refreshing)} refreshes",
              not running and not refreshing,
              [f"{s} run {pk}" for s, pk in running] + [f"refresh {pk} {state}" for pk, state in refreshing]),
        Check("no run overlapping another of its job", f"{len(overlaps)} overlaps", not overlaps, overlaps[:10]),
    ]  # fmt: skip


RUN_IN_ALERT = re.compile(r"Run (\d+) of .* (failed|succeeded) at")


def check_alerts() -> Check:
    """Each failure streak (failed runs in a row, as alerts.py reads them) alerted once, its recovery told once."""
    from django.conf import settings

    from t5g.models import Notification, SyncRun

    told: dict[int, list[str]] = {}
    for body in Notification.objects.filter(kind="slack", to=settings.SLACK_ALERT_CHANNEL).values_list(
        "body", flat=True
    ):
        if found := RUN_IN_ALERT.search(body):
            told.setdefault(int(found.group(1)), []).append(found.group(2))
    final = SyncRun.objects.filter(outcome__in=[SyncRun.Outcome.SUCCESS, SyncRun.Outcome.FAILED])
    streaks, problems = 0, []
    for source in sorted(set(final.values_list("source", flat=True))):
        streak: list[int] = []
        for pk, outcome in final.filter(source=source).order_by("pk").values_list("pk", "outcome"):
            if outcome == SyncRun.Outcome.FAILED:
                streak.append(pk)
                continue
            if streak:
                problems += _streak_problems(source, streak, told, recovered_by=pk)
                streaks += 1
            streak = []
        if streak:
            problems += _streak_problems(source, streak, told, recovered_by=None)
            streaks += 1
    alerts = sum(len(kinds) for kinds in told.values())
    return Check("every failure streak alerted once", f"{streaks} streaks, {alerts} alerts and recoveries sent",
                 not problems, problems[:10])  # fmt: skip


def _streak_problems(source: str, streak: list[int], told: dict, *, recovered_by: int | None) -> list[str]:
    failing = sum(told.get(pk, []).count("failed") for pk in streak)
    out = []
    if failing != 1:
        out.append(f"{source}: streak of runs {streak[0]}–{streak[-1]} ({len(streak)} failed) alerted {failing} times")
    if recovered_by is not None and told.get(recovered_by, []).count("succeeded") != 1:
        out.append(
            f"{source}: recovery by run {recovered_by} told {told.get(recovered_by, []).count('succeeded')} times"
        )
    return out


def check_read_only(storm: Storm) -> Check:
    from t5g.models import UpstreamWrite

    if storm.read_only is None or storm.read_only[1] is None:
        return Check("no upstream write in the read-only phase", "the phase did not run to its end", False)
    start, end = storm.read_only
    audited = Counter(UpstreamWrite.objects.filter(at__gte=start, at__lt=end).values_list("outcome", flat=True))
    moved = storm.writes_after - storm.writes_before
    figure = (f"{(end - start).total_seconds():.0f}s: {moved} writes reached the sandbox; audit "
              + (", ".join(f"{n} {o}" for o, n in sorted(audited.items())) or "no write attempted"))  # fmt: skip
    return Check("no upstream write in the read-only phase", figure, moved == 0 and set(audited) <= {"refused"})


# --- figures ----------------------------------------------------------------------------------------------------------
def figures(storm: Storm, sandbox: Sandbox) -> list[tuple[str, str]]:
    from t5g.models import Refresh, SyncRun, UpstreamWrite

    counts = sandbox.requests()
    injected = {k.removeprefix("fault "): n for k, n in counts.items() if k.startswith("fault ")}
    runs = Counter(SyncRun.objects.values_list("outcome", flat=True))
    abandoned = SyncRun.objects.filter(error__startswith="abandoned").count()
    by_job = Counter(SyncRun.objects.values_list("source", flat=True))
    writes = Counter(UpstreamWrite.objects.values_list("outcome", flat=True))
    refreshes = Counter(Refresh.objects.values_list("state", flat=True))
    return [
        ("faults injected, by kind: requests hit (random sets it was in)",
         ", ".join(f"{k.name} {'on' if k.standing else f'{injected.get(k.name, 0):,}'} ({storm.sets_with[k.name]})"
                   for k in FAULT_KINDS)
         + f"; {sum(injected.values()):,} requests in all, {storm.fault_sets} random sets"),
        ("upstream requests", f"{counts['total']:,} ("
         + ", ".join(f"{u} {counts[u]:,}" for u in ("portal", "jira", "bugzilla", "sso", "slack")) + ")"),
        ("changes upstream (churn)", f"{storm.churned:,}"),
        ("upstream events", ", ".join(f"{e.name} {storm.events[e.name]}" for e in UPSTREAM_EVENTS)),
        ("runs", f"{sum(runs.values()):,}: " + ", ".join(f"{n:,} {o}" for o, n in runs.most_common())
         + f" ({abandoned} abandoned by a killed worker)"),
        ("runs by job", ", ".join(f"{j} {n}" for j, n in sorted(by_job.items()))),
        ("refresh presses", f"{storm.presses} ({storm.refreshes_started} started a refresh; "
         + ", ".join(f"{n} {s}" for s, n in refreshes.most_common()) + ")"),
        ("upstream writes audited", ", ".join(f"{n:,} {o}" for o, n in writes.most_common()) or "none"),
        ("workers SIGKILLed", f"{len(storm.kills)}: {'; '.join(storm.kills)}"),
        ("Redis restarts", str(storm.redis_restarts)),
    ]  # fmt: skip


def report(args, storm: Storm, facts: list[tuple[str, str]], checks: list[Check], took: float) -> str:
    violations = [c for c in checks if not c.ok]
    lines = [f"Soak of {args.minutes:g} min at {args.cases:,} cases (seed {args.seed}, JIRA {args.jira_flavor}), "
             f"{took / 60:.1f} min in all, "
             f"run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.", "", "| figure | value |", "|---|---|"]  # fmt: skip
    lines += [f"| {name} | {value} |" for name, value in facts]
    lines += ["", "| invariant | figure | ok |", "|---|---|:-:|"]
    for c in checks:
        lines.append(f"| {c.name} | {c.figure} | {'✓' if c.ok else '✗'} |")
    lines += ["", f"Violations: {len(violations)}."]
    for c in violations:
        lines += [f"- {c.name}:"] + [f"  - {d}" for d in c.details]
    return "\n".join(lines) + "\n"


MARKER = "<!-- Written by make soak: everything below this line is replaced by the next run. -->"


def write_output(path: Path, text: str) -> None:
    """The figures go below the marker; what is above it (the prose) stays."""
    head = path.read_text().split(MARKER)[0] if path.exists() else "# Reliability\n\n"
    path.write_text(f"{head}{MARKER}\n\n{text}")


# --- main ------------------------------------------------------------------------------------------------------------
def start(stack: contextlib.ExitStack, args, work: Path) -> tuple[Sandbox, RedisServer, Workers, Process]:
    """PostgreSQL, Redis and the sandbox; T5G migrated, synced once and scheduled short; two workers and beat."""
    database = PostgresServer()
    stack.callback(database.stop)
    redis = RedisServer(work)
    stack.callback(redis.stop)
    sandbox = Sandbox(cases=args.cases, seed=args.seed, jira_flavor=args.jira_flavor, log_dir=work)
    stack.callback(sandbox.stop)
    env = t5g_env(sandbox.url, redis_url=redis.url, database_url=database.url)
    setup_django(env)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("setup_schedules", verbosity=0)
    say(f"PostgreSQL, Redis and a {args.cases:,}-case sandbox up; first sync of every source")
    first_sync(sandbox)
    tasks = short_schedules(args.every)
    say(f"beat: {tasks} periodic tasks every {args.every}s (full runs every {3 * args.every}s)")
    workers = Workers(log_dir=work, env=env)
    stack.callback(workers.stop, timeout=10)
    beat = stack.enter_context(celery_beat(log_dir=work, **workers.env))
    return sandbox, redis, workers, beat


def finish(sandbox: Sandbox, workers: Workers, beat: Process, storm: Storm) -> list[Check]:
    """Faults off, everything stopped, one full run of every job: then the invariants."""
    say("storm over: faults off, churn stopped; beat stops, workers finish their running tasks")
    sandbox.faults()
    beat.stop()
    workers.stop(timeout=180)
    settle_card_intents()
    failed = final_sync()
    checks = [Check("one full run of every job after the storm", f"{len(failed)} failed", not failed, failed)]
    checks += check_mirror(sandbox)
    return checks + [check_cards(sandbox), *check_runs(), check_alerts(), check_read_only(storm)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--churn", type=int, default=60, help="changes upstream per minute")
    parser.add_argument("--jira-flavor", choices=["cloud", "server"], default="cloud")
    parser.add_argument("--every", type=int, default=60, help="seconds between two runs of each job by beat")
    parser.add_argument("--output", help="write the figures there too (below its marker line)")
    parser.add_argument("--keep", action="store_true", help="keep the logs and say where they are")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="t5g-soak-"))
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: print(f"logs: {work}", flush=True) if args.keep else shutil.rmtree(work, True))
        sandbox, redis, workers, beat = start(stack, args, work)
        storm = Storm(minutes=args.minutes, churn=args.churn, rng=random.Random(args.seed), sandbox=sandbox,
                      workers=workers, redis=redis).run()  # fmt: skip
        checks = finish(sandbox, workers, beat, storm)
        text = report(args, storm, figures(storm, sandbox), checks, time.monotonic() - START)
    print("\n" + text, flush=True)
    if args.output:
        write_output(Path(args.output), text)
        print(f"Wrote {args.output}.")
    return 1 if any(not c.ok for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
