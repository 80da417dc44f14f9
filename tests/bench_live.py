"""The benchmark's `live` section (tests/bench.py --only live): T5G running as the Procfile runs it, gunicorn with
2 workers and a Celery worker (-Q sync,notifications, concurrency 2) with WARM_PAGES on, its webhook registered in
the sandbox's JIRA; then

1. freshness with webhooks: a JIRA comment added through the sandbox, timed until the case's expanded row shows it
   (polled every 0.2 s as a signed-in member);
2. a case change on the schedule: a case closed in the portal, timed until the table shows it once the cases job
   ran (the bound is the job's schedule plus that);
3. the first request after a sync: churn, the cases and cards jobs run through the worker as the schedule runs them,
   the worker's "warmed" line, then the first request of each warmed page; the same with WARM_PAGES off (cold);
4. the load test: locust (tests/locustfile.py, a process of its own) with 100 members for 60 s while churn runs every
   second (webhooks follow) and the cases and cards jobs every 20 s;
5. the live poll's cost: requests per minute per open tab and bytes of an answer when nothing changed.

bench.py passes itself in (`bench`): its helpers (Result, SandboxProcess, SYNCED, PAGES_SETUP, percentile...).
"""

from __future__ import annotations

import csv
import json
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import ModuleType

import requests

from sandbox import environment

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FRESHNESS_SAMPLES = 20
FIRST_ROUNDS = 3
LOAD_USERS, LOAD_SPAWN_RATE, LOAD_SECONDS = 100, 20, 60
# gunicorn's workers, as the Procfile starts them (WEB_WORKERS, default 2).
WEB_WORKERS = os.environ.get("WEB_WORKERS", "2")
# Upstream changes during the load test: CHURN_COUNT every CHURN_EVERY seconds (7,200 an hour: far more than a
# team's upstreams make), the cases and cards jobs every SYNC_EVERY seconds.
SYNC_EVERY, CHURN_EVERY, CHURN_COUNT = 20, 1, 2
WARMED_PAGES = ["/", "/cases/", "/stats/"]  # t5g/sync/warm.py DEFAULT_PAGES
REREAD_DONE = "trigger webhook)"  # the runner logs "job cards started (run N, trigger webhook)" for a re-read
LIVE_HEADING = "## Live: freshness, the first request after a sync, the team's load"

# Run by `manage.py shell` in the bench's database, after PAGES_SETUP: an API key of the bench user, the cards
# whose case shows them (for freshness), and what the load test browses. Prints one JSON line.
LIVE_SETUP = """
import json
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone
from api.auth import new_key
from api.models import ApiToken
from cards.models import Card
from cases.models import Case
from t5g.models import Profile

user = get_user_model().objects.get(username="bench")
Profile.objects.update_or_create(user=user, defaults={"member_signed_in_at": timezone.now()})
key, key_hash, prefix = new_key()
ApiToken.objects.create(user=user, name="bench", key_hash=key_hash, prefix=prefix)
cards = list(Card.objects.filter(active=True, removed_at__isnull=True, case__isnull=False,
                                 case__status__in=["Waiting on Red Hat", "Waiting on Customer"])
             .order_by("key").values_list("key", "case_id")[:60])
open_cases = list(Case.objects.filter(status__in=["Waiting on Red Hat", "Waiting on Customer"])
                  .order_by("number").values_list("number", flat=True)[:500])
accounts = [a["account"] for a in Case.objects.values("account").annotate(n=Count("number")).order_by("-n")[:30]]
engineers = [e["assignee"] for e in Card.objects.exclude(assignee="").values("assignee")
             .annotate(n=Count("key")).order_by("-n")[:15]]
print(json.dumps({"token": key, "cards": cards, "cases": open_cases, "accounts": accounts,
                  "engineers": engineers}))
"""


class Stack:
    """The sandbox, Redis, the database and T5G's web and worker processes of one size."""

    def __init__(self, bench: ModuleType, size: int):
        from tests.processes import Process, RedisServer, free_port

        self.bench, self.size, self.Process = bench, size, Process
        self.work = Path(tempfile.mkdtemp(prefix="t5g-bench-live-"))
        self.sandbox = bench.SandboxProcess(size, port=free_port())
        self.redis = RedisServer(self.work)
        self.port = free_port()
        self.site = f"http://127.0.0.1:{self.port}"
        db = self.work / "db.sqlite3"
        self.env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "bench-only", "LOG_FORMAT": "text",
                    "DATABASE_URL": f"sqlite:///{db}", "REDIS_URL": self.redis.url, **environment(self.sandbox.url),
                    "SITE_URL": self.site, "UPSTREAM_CONCURRENCY": "12", "WARM_PAGES": "true",
                    "PROMETHEUS_MULTIPROC_DIR": str(self.work / "prometheus")}  # fmt: skip
        self.web = self.worker = None
        try:
            self._start()
        except BaseException:
            self.stop()  # nothing it started outlives it
            raise

    def _start(self) -> None:
        bench, size, db = self.bench, self.size, self.work / "db.sqlite3"
        started = time.monotonic()
        if size in bench.SYNCED:
            # The sync section's database (copied: this section writes to it). The sandbox's world is deterministic
            # by size and seed, so this fresh sandbox matches what it was synced from.
            source, _ = bench.SYNCED[size]
            with sqlite3.connect(source) as src, sqlite3.connect(db) as dst:
                src.backup(dst)
            self.data_note = "the sync section's database"
        else:
            self.manage("migrate", "-v0")
            for job in ["cases", "details", "cards", "issues", "bugs", "escalations", "stats"]:
                self.manage("sync", job, "--no-progress")
            self.data_note = "synced here"
        self.synced = time.monotonic() - started
        (self.work / "team.json").write_text(requests.get(f"{self.sandbox.url}/_sandbox/team", timeout=30).text)
        self.manage("load_team", str(self.work / "team.json"), "--if-empty")
        self.setup = json.loads(self.manage("shell", "-c", bench.PAGES_SETUP).strip().splitlines()[-1])
        self.setup |= json.loads(self.manage("shell", "-c", LIVE_SETUP).strip().splitlines()[-1])
        self.client = requests.Session()
        self.client.cookies.set(self.setup["cookie"], self.setup["session"])
        self.start_web()
        self.start_worker(warm=True)
        self.manage("jira_webhook", "register")

    def manage(self, *args: str, **env: str) -> str:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env={**self.env, **env},
                              check=True, capture_output=True, text=True).stdout  # fmt: skip

    def start_web(self) -> None:
        # As the Procfile starts it.
        self.web = self.Process(
            "web", [str(BIN / "gunicorn"), "t5g.wsgi", "-c", "t5g/gunicorn.py", "--bind", f"127.0.0.1:{self.port}",
                    "--workers", WEB_WORKERS], env=self.env, log_dir=self.work,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            if self.web.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start: {self.web.log()[-2000:]}")
            try:
                # "/" as bench_pages asks: /health/ready/ also waits for the worker, not started yet.
                self.client.get(f"{self.site}/", timeout=10)
                return
            except requests.RequestException:
                time.sleep(0.2)

    def start_worker(self, *, warm: bool) -> None:
        if self.worker is not None:
            self.worker.stop()
        self.worker = self.Process(
            f"worker-{'warm' if warm else 'cold'}",
            [str(BIN / "celery"), "-A", "t5g", "worker", "-Q", "sync,notifications", "--loglevel", "INFO",
             "--concurrency", "2", "--without-gossip", "--without-mingle"],
            env={**self.env, "WARM_PAGES": "true" if warm else "false"}, log_dir=self.work,
        )  # fmt: skip
        self.worker.wait_for_log("ready.", timeout=60)

    def run_jobs(self, *jobs: str) -> list[str]:
        """The jobs queued as beat queues them (t5g.run_job on the sync queue); returns their task ids."""
        from celery import Celery

        app = Celery(broker=self.redis.url)
        ids = []
        for job in jobs:
            ids.append(str(uuid.uuid4()))
            app.send_task("t5g.run_job", kwargs={"job": job}, queue="sync", task_id=ids[-1])
        app.close()
        return ids

    def wait_tasks(self, ids: list[str], timeout: float = 600) -> None:
        for task_id in ids:
            self.worker.wait_for_log(f"[{task_id}] succeeded", timeout=timeout)

    def wait_quiet(self, seconds: float, timeout: float = 120) -> None:
        """Until the worker has logged nothing for `seconds` (the queued warm and webhook re-reads done)."""
        deadline = time.monotonic() + timeout
        size, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            now = self.worker.log_path.stat().st_size
            if now != size:
                size, since = now, time.monotonic()
            elif time.monotonic() - since >= seconds:
                return
            time.sleep(0.2)

    def view_cache(self) -> tuple[int, int]:
        """The view cache's hits and misses so far (t5g/counters.py, in the cache's Redis database)."""
        import redis

        counts = redis.Redis.from_url(self.redis.url.rsplit("/", 1)[0] + "/1").hgetall("metrics:view_cache")
        return int(counts.get(b"hit", 0)), int(counts.get(b"miss", 0))

    def cpu_seconds(self, process) -> float:
        """CPU time (user + system) of a process and its children so far: gunicorn's or Celery's workers."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in [process.popen.pid, *self.bench._children(process.popen.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return total

    def control(self, path: str, body: dict | None = None) -> dict:
        answer = requests.post(f"{self.sandbox.url}/_sandbox/{path}", json=body or {}, timeout=300)
        answer.raise_for_status()
        return answer.json()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.client.get(self.site + path, timeout=60, allow_redirects=False, **kwargs)

    def stop(self) -> None:
        for process in (self.web, self.worker):
            if process is not None:
                process.stop()
        self.sandbox.stop()
        self.redis.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def bench_live(size: int, bench: ModuleType) -> list:
    bench._collect_static()
    stack = Stack(bench, size)
    try:
        R = bench.Result  # noqa: N806
        out = [R(size, "live: sync of every source before", stack.synced, "s", note=stack.data_note)]
        out += _freshness(stack)
        out += _case_on_schedule(stack)
        out += _poll_cost(stack)
        out += _first_request(stack, warm=True)
        out += _load(stack)
        stack.start_worker(warm=False)
        out += _first_request(stack, warm=False)
        return out
    finally:
        stack.stop()


def _wait_for_text(stack: Stack, path: str, text: str, timeout: float, *, row: str = "", **kwargs) -> float | None:
    """Seconds until the page at `path` (or its table row `row`) contains `text` (asked every 0.2 s), None after
    `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        page = stack.get(path, **kwargs).text
        if row:
            page = page.partition(f'<tr id="{row}"')[2].partition("</tr>")[0]
        if text in page:
            return time.monotonic() - started
        time.sleep(0.2)
    return None


def _freshness(stack: Stack) -> list:
    R, size = stack.bench.Result, stack.size  # noqa: N806
    took, lost = [], 0
    for key, number in stack.setup["cards"][:FRESHNESS_SAMPLES]:
        stack.get(f"/cases/{number}/row/", headers={"HX-Request": "true"})  # the row as an open page has it
        words = f"bench-live-{uuid.uuid4().hex[:12]}"
        stack.control(f"cards/{key}/comments", {"body": f"Freshness check {words}"})
        seconds = _wait_for_text(stack, f"/cases/{number}/row/", words, 60, headers={"HX-Request": "true"})
        if seconds is None:
            lost += 1
        else:
            took.append(seconds)
    if not took:
        return [R(size, "live: card comment to page (webhook), p95", 0, "s", na=True, note="none arrived in 60 s")]
    note = f"{len(took)} comments on {len(took)} cards" + (f"; {lost} not shown within 60 s" if lost else "")
    return [
        R(size, "live: card comment to page (webhook), median", statistics.median(took), "s", note=note),
        R(size, "live: card comment to page (webhook), p95", stack.bench.percentile(took, 0.95) if not lost else 60,
          "s", 10, note=f"max {max(took):.1f} s; " + note),
    ]  # fmt: skip


def _case_on_schedule(stack: Stack) -> list:
    """A case closed in the portal shows once the cases job ran: on the schedule, at most its interval after."""
    R, size = stack.bench.Result, stack.size  # noqa: N806
    used = {number for _, number in stack.setup["cards"][:FRESHNESS_SAMPLES]}
    number = next(n for n in reversed(stack.setup["cases"]) if n not in used)
    path = f"/cases/?view=all&q={number}"
    stack.get(path)
    started = time.monotonic()
    stack.control(f"cases/{number}/close")
    stack.run_jobs("cases")
    shown = _wait_for_text(stack, path, "Closed", 120, row=f"case-{number}")
    seconds = None if shown is None else time.monotonic() - started
    if seconds is None:
        return [R(size, "live: case change to page after the cases job", 0, "s", na=True, note="not shown in 120 s")]
    note = (f"case closed in the portal, the cases job queued at once: its incremental run + the table's next "
            f"request; on the schedule (every 15 min) a case change shows within 15 min + {seconds:.1f} s")  # fmt: skip
    return [R(size, "live: case change to page after the cases job", seconds, "s", note=note)]


def _poll_cost(stack: Stack) -> list:
    R, size = stack.bench.Result, stack.size  # noqa: N806
    first = stack.get("/changes/").json()
    answer = stack.get(f"/changes/?since={first['generation']}")
    status_line = f"HTTP/1.1 {answer.status_code} {answer.reason}\r\n"
    headers = sum(len(f"{k}: {v}\r\n") for k, v in answer.headers.items()) + 2
    per_minute = 60 / first["poll_seconds"]
    note = (f"HTTP {answer.status_code}, {len(answer.content)} bytes of body, {len(status_line) + headers} with "
            f"headers ({', '.join(answer.headers)})")  # fmt: skip
    times = stack.bench.timed(lambda: stack.get(f"/changes/?since={first['generation']}"), 50)
    return [
        R(size, "live poll: requests per minute per open tab", per_minute, "/min",
          note=f"one per LIVE_POLL_SECONDS ({first['poll_seconds']} s)"),
        R(size, "live poll: bytes of an answer when nothing changed", len(status_line) + headers, "B", note=note),
        R(size, "live poll: answer time when nothing changed, median", statistics.median(times), "ms",
          note=f"p95 {stack.bench.percentile(times, 0.95):.1f} ms"),
    ]  # fmt: skip


def _first_request(stack: Stack, *, warm: bool) -> list:
    """After a sync that changed data, the first request of each page the worker warms; FIRST_ROUNDS rounds (one
    request is at the mercy of the machine's other processes), the median reported."""
    from tests.processes import wait_for

    R, size = stack.bench.Result, stack.size  # noqa: N806
    firsts: dict[str, list[float]] = {page: [] for page in WARMED_PAGES}
    seconds: dict[str, list[float]] = {page: [] for page in WARMED_PAGES}
    hits = misses = changed = 0
    warm_line = ""
    for _ in range(FIRST_ROUNDS):
        warmed_before = stack.worker.log().count("warmed ")
        changed += len(stack.control("churn", {"count": max(10, size // 100)})["changed"])
        stack.wait_tasks(stack.run_jobs("cases", "cards"))
        if warm:
            wait_for(lambda n=warmed_before: stack.worker.log().count("warmed ") > n, timeout=120, what="a warm")
        stack.wait_quiet(5)  # the webhooks' re-reads of the churned cards and the warm after them done
        if warm:
            log = stack.worker.log()
            warm_line = log[log.rfind("warmed ") :].split("\n", 1)[0].strip()[:60]
        for page in WARMED_PAGES:
            before = stack.view_cache()
            firsts[page] += stack.bench.timed(lambda page=page: stack.get(page), 1)
            after = stack.view_cache()
            hits, misses = hits + after[0] - before[0], misses + after[1] - before[1]
            seconds[page] += stack.bench.timed(lambda page=page: stack.get(page), 1)
    what = "warm (WARM_PAGES on)" if warm else "cold (WARM_PAGES off)"
    budget = (30 if size <= 10_000 else 50) if warm else None
    out = []
    for page in WARMED_PAGES:
        note = (f"median of {FIRST_ROUNDS} rounds ({', '.join(f'{t:.0f}' for t in firsts[page])} ms), each after "
                f"{changed // FIRST_ROUNDS} changes and the cases and cards jobs; the second request "
                f"{statistics.median(seconds[page]):.0f} ms")  # fmt: skip
        out.append(R(size, f"live: first request of {page} after a sync, {what}", statistics.median(firsts[page]),
                     "ms", budget, note=note))  # fmt: skip
    worker = f"; the worker's last: '{warm_line}'" if warm else ""
    out.append(R(size, f"live: view cache hits of those first requests, {what}", hits, "",
                 note=f"{hits} hit(s), {misses} miss(es) among the view-cache lookups of "
                      f"{FIRST_ROUNDS * len(WARMED_PAGES)} first requests"
                      f"{worker}"))  # fmt: skip
    return out


def _load(stack: Stack) -> list:
    """locust's 100 members for LOAD_SECONDS while churn (and so webhooks) and syncs run."""
    R, size = stack.bench.Result, stack.size  # noqa: N806
    load = {**stack.setup, "cases": [n for _, n in stack.setup["cards"]] + stack.setup["cases"],
            "poll_seconds": stack.get("/changes/").json()["poll_seconds"]}  # fmt: skip
    (stack.work / "load.json").write_text(json.dumps(load))
    stop = threading.Event()
    background = {"churned": 0, "syncs": 0, "errors": []}

    def churn() -> None:
        while not stop.wait(CHURN_EVERY):
            try:
                background["churned"] += len(stack.control("churn", {"count": CHURN_COUNT})["changed"])
            except requests.RequestException as exc:
                background["errors"].append(f"churn: {exc}")

    def syncs() -> None:
        while not stop.wait(SYNC_EVERY):
            stack.run_jobs("cases", "cards")
            background["syncs"] += 1

    threads = [threading.Thread(target=churn, daemon=True), threading.Thread(target=syncs, daemon=True)]
    rereads_before = stack.worker.log().count(REREAD_DONE)
    for thread in threads:
        thread.start()
    cache_before, load_before = stack.view_cache(), os.getloadavg()[0]
    cpu_before = stack.cpu_seconds(stack.web), stack.cpu_seconds(stack.worker)
    prefix = stack.work / "locust"
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(
            [str(BIN / "locust"), "-f", "tests/locustfile.py", "--headless", "-u", str(LOAD_USERS),
             "-r", str(LOAD_SPAWN_RATE), "--run-time", f"{LOAD_SECONDS}s", "--stop-timeout", "5",
             "--host", stack.site, "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
            cwd=BASE_DIR, env={**os.environ, "T5G_LOAD": str(stack.work / "load.json")},
            capture_output=True, text=True, timeout=LOAD_SECONDS + 120,
        )  # fmt: skip
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = reaped.ru_utime + reaped.ru_stime - children.ru_utime - children.ru_stime
    web_cpu = stack.cpu_seconds(stack.web) - cpu_before[0]
    worker_cpu = stack.cpu_seconds(stack.worker) - cpu_before[1]
    hits, misses = (a - b for a, b in zip(stack.view_cache(), cache_before, strict=True))
    load_after = os.getloadavg()[0]
    rereads = stack.worker.log().count(REREAD_DONE) - rereads_before
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv")))  # noqa: SIM115, PTH123
    failures = Path(f"{prefix}_failures.csv").read_text().strip().splitlines()[1:]
    total = next(r for r in rows if r["Name"] == "Aggregated")
    during = (f"{LOAD_USERS} members, {LOAD_SECONDS} s; meanwhile {background['churned']} upstream changes "
              f"(churn every {CHURN_EVERY} s), {rereads} webhook re-reads by the worker, "
              f"the cases and cards jobs queued {background['syncs']} times")  # fmt: skip
    errors = int(total["Failure Count"])
    count = int(total["Request Count"])
    cost = (f"machine load average {load_before:.1f} before, {load_after:.1f} after (2 cores); view cache "
            f"{hits / max(1, hits + misses):.0%} hits ({hits:,} of {hits + misses:,}); the Celery worker "
            f"{worker_cpu:.0f} s CPU; locust itself {locust_cpu:.0f} s CPU")  # fmt: skip
    out = [
        R(size, "load: requests", float(total["Request Count"]), "", note=during),
        R(size, "load: errors", errors, "", 0, note="; ".join(failures[:3])[:300]
          or ("" if errors == 0 and done.returncode == 0 else done.stderr.strip()[-300:].replace("\n", " "))),
        R(size, "load: requests per second sustained", float(total["Requests/s"]), "/s",
          note=f"{WEB_WORKERS} gunicorn workers, the Celery worker syncing, locust and the sandbox on 2 cores"),
        R(size, "load: web CPU per request", web_cpu * 1000 / max(1, count), "ms",
          note=f"gunicorn's workers {web_cpu:.0f} s CPU for {count:,} requests; {cost}"),
        R(size, "load: CPU share gunicorn's workers got", web_cpu / LOAD_SECONDS, "cores",
          note="of 2 cores shared with the other processes running on the machine (load average above)"),
        R(size, "load: response time, median", float(total["50%"]), "ms"),
        R(size, "load: response time, p95", float(total["95%"]), "ms", 200,
          note=f"max {float(total['Max Response Time']):.0f} ms"),
    ]  # fmt: skip
    for row in rows:
        if row["Name"] == "Aggregated":
            continue
        out.append(R(size, f"load: {row['Name']}, p95", float(row["95%"]), "ms",
                     note=f"p50 {float(row['50%']):.0f} ms; {row['Request Count']} requests, "
                          f"{row['Failure Count']} failed"))  # fmt: skip
    if background["errors"]:
        out.append(R(size, "load: background errors", len(background["errors"]), "", note=background["errors"][0]))
    return out


def write_report(path: Path, header: str, results: list, table) -> None:
    """docs/benchmarks.md: the other sections' table, then the live section's under its own heading. A run of some
    sections keeps what the file holds of the others."""
    old = path.read_text() if path.exists() else ""
    old_main, _, old_live = old.partition(LIVE_HEADING)
    live = [r for r in results if r.name.startswith(("live", "load"))]
    rest = [r for r in results if r not in live]
    main = f"{header}\n{table(rest)}\n\n" if rest else old_main or f"{header}\n"
    live_part = old_live and LIVE_HEADING + old_live
    if live:
        # The live rows of the sizes not run this time are kept.
        run_sizes = {f"| {r.size:,} |" for r in live}
        kept = [line for line in old_live.splitlines() if re.match(r"\| [\d,]+ \|", line) and
                not any(line.startswith(s) for s in run_sizes)]  # fmt: skip
        rows = sorted([*kept, *table(live).splitlines()[2:]], key=lambda line: int(line.split("|")[1].replace(",", "")))
        latest = header.split("\n\n", 1)[-1].strip().replace("\n", " ")  # its date, machine and command
        live_part = (f"{LIVE_HEADING}\n\n{LIVE_PROSE}\nLatest live run: {latest}\n\n"
                     + "\n".join([*table([]).splitlines(), *rows]) + "\n")  # fmt: skip
    path.write_text(main.rstrip("\n") + "\n\n" + (live_part or ""))


LIVE_PROSE = """\
Measured by `make bench ONLY=live` (tests/bench_live.py) with T5G running as the Procfile runs it: gunicorn with 2
workers, a Celery worker (`-Q sync,notifications`, concurrency 2) with WARM_PAGES on, a private Redis, SQLite, and
T5G's webhook registered in the sandbox's JIRA (`manage.py jira_webhook register`), on the sync section's database
when it ran, else on a full sync of its own.

- **Freshness with webhooks**: a comment added to a card through the sandbox's control API, timed until the case's
  expanded row (`/cases/<n>/row/`, as a signed-in member, asked every 0.2 s) shows it: webhook, coalescing
  (WEBHOOK_COALESCE_SECONDS), the worker's re-read, the cache's new generation. An open page sees it at its next
  poll of `/changes/` (LIVE_POLL_SECONDS later at most).
- **Case changes on the schedule**: a case closed in the portal, the cases job queued at once, timed until the table
  shows it. The portal sends no webhooks: on the schedule a case change shows at most the job's interval (15 min)
  plus that time after it happened.
- **The first request after a sync**: churn, the cases and cards jobs through the worker (`t5g.run_job`, as beat
  queues them), the worker's "warmed N page(s)" line, then the first request of each warmed page; the same again
  with WARM_PAGES off for comparison.
- **Load**: locust (tests/locustfile.py, headless, its own process) with 100 members, each a request every 1–3 s over
  the real mix (the table with filters, search, sort and pages; expanded rows; account and engineer pages; home,
  stats, weekly and updates; a filtered CSV export; API calls with a token; `/changes/` every LIVE_POLL_SECONDS),
  while the sandbox makes 2 changes every second (its webhooks reach T5G) and the cases and cards jobs run every
  20 s. Beside the response times: the CPU time gunicorn's workers spent per request, the share of the 2 cores they
  got, the machine's load average and the view cache's hit rate, which tell a slow product from a busy machine. The
  requests per second are what the mix asked for and the machine served, with locust, the sandbox and the worker
  on the same 2 cores.
- **The live poll's cost**: one request per LIVE_POLL_SECONDS per open, visible tab; while nothing changed the answer
  is a 204 with no body (a Redis read).

What the runs of 2026-12-05 found (the figures are in the table below):

- Freshness is met with room: a JIRA comment reaches the expanded row in 2.2 s at every size (p95 2.3 s; budget
  10 s), most of it WEBHOOK_COALESCE_SECONDS (2 s). An open page then shows it at its next poll (≤ 15 s more).
- A case change waits for the cases job: its incremental run and the next request take 0.4–0.6 s, so on the
  schedule a case change shows within 15 min + under a second.
- The first request after a sync is warm once the product stopped making it cold: a re-read that found nothing new
  (the schedule's overlap window, a webhook's re-read of what a sync had already written) bumped the generations
  after the warm, so `/` and `/cases/` missed the cache right after the "warmed" line (224 and 85 ms at 1,000 in
  an early run). Fixed in t5g/sync/upsert.py (bump only when a row changed): since then 17–18 of the 18 view-cache
  lookups of the 9 first requests hit: medians of 8–19 ms at every size (against 20–124 ms with WARM_PAGES off;
  /stats/ is cached on its own feed, which these jobs do not touch).
- The load test depends on the machine. On a quiet one (load average ≤ 1.3; the 1,000 and 10,000 rows) every budget
  is met: zero errors, p95 57 and 110 ms (medians 13 and 15 ms) at 54 and 55 requests/s, gunicorn's workers spending
  12–16 ms of CPU a request, 0.7–0.8 of a core, with 70–71% view-cache hits. With other engineers' test runs on the
  same 2 cores (load average 4–9, the first runs) the same test gave p95 1.6–4.3 s: the requests queue for the 2
  sync workers, which then got only 0.4–0.7 of a core. At 100,000 the budget is missed on a nearly quiet machine
  too (load average 1.6–3.2): p95 3.6 s, median 1.8 s, 27 requests/s, zero errors. There the product is the limit:
  a request costs 34 ms of CPU on average (a cold table 120 ms, a third of the view-cache lookups missing because
  every re-read under 2 upstream changes a second makes whole feeds new: one card's comment makes every page cold),
  and gunicorn's 2 sync workers got 0.9 of a core beside the 100,000-case sandbox and the worker. Not fixed here:
  finer-grained generations (per case) so that a change makes only its own rows' pages cold, then more cores.
- The live poll costs 4 requests a minute per open tab; unchanged, its answer is a 204 of 510 bytes (headers only,
  most of them the security headers) in 4–11 ms. 100 open tabs are ~7 requests/s, a seventh of the load test's.
"""
