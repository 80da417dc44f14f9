"""The benchmark harness: `make bench [SIZES=1000,10000,100000]`.

Starts the sandbox at each size, measures, prints a table, writes docs/benchmarks.md
and exits non-zero when a budget is missed. Not part of `make test`: timings belong
here, never in unit tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parent.parent
TOKEN_PATH = "/sso/auth/realms/redhat-external/protocol/openid-connect/token"
TEAM_QUERY = "case_tags:*shift_telco5g*"
PORTAL_FIELDS = (
    "case_number,case_account_name,case_summary,case_status,case_owner,case_severity,case_createdDate,"
    "case_lastModifiedDate,case_closedDate,case_bugzillaNumber,case_description,case_tags,case_product,case_version"
)


@dataclass
class Result:
    size: int
    name: str
    value: float
    unit: str
    budget: float | None = None  # the value must not exceed it (or fall below it, if higher is better)
    note: str = ""
    higher_is_better: bool = False

    @property
    def ok(self) -> bool:
        if self.budget is None:
            return True
        return self.value >= self.budget if self.higher_is_better else self.value <= self.budget


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p * (len(values) - 1)))]


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


class SandboxProcess:
    def __init__(self, cases: int, port: int = 8899):
        self.url = f"http://127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile(prefix="t5g-bench-sandbox-", suffix=".log", delete=False)  # noqa: SIM115
        started = time.monotonic()
        self.popen = subprocess.Popen(
            [sys.executable, "manage.py", "sandbox", "--port", str(port), "--cases", str(cases)],
            cwd=BASE_DIR, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, "DEBUG": "true"},
        )  # fmt: skip
        while True:
            if self.popen.poll() is not None:
                raise RuntimeError(f"sandbox exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/_sandbox/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.startup = time.monotonic() - started

    def rss_mb(self) -> float:
        with open(f"/proc/{self.popen.pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024

    def stop(self) -> None:
        self.popen.terminate()
        self.popen.wait(20)


def bench_sandbox(size: int) -> list[Result]:
    """The sandbox must never be the bottleneck of what it serves."""
    sandbox = SandboxProcess(size)
    try:
        out = [
            Result(size, "sandbox: ready after start", sandbox.startup, "s", 60 if size <= 100_000 else None),
            Result(size, "sandbox: resident memory", sandbox.rss_mb(), "MB"),
        ]
        token = requests.post(
            sandbox.url + TOKEN_PATH,
            data={"grant_type": "refresh_token", "client_id": "bench", "refresh_token": "sandbox-offline-token"},
            timeout=10,
        ).json()["access_token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        sort = "case_lastModifiedDate asc, case_number asc"
        low = {"value": "*"}

        def window_page():
            r = session.get(
                f"{sandbox.url}/portal/hydra/rest/search/cases",
                params={"q": f"{TEAM_QUERY} AND case_lastModifiedDate:[{low['value']} TO *]", "rows": 1000,
                        "fl": PORTAL_FIELDS, "sort": sort},
                timeout=30,
            )  # fmt: skip
            docs = r.json()["response"]["docs"]
            low["value"] = docs[-1]["case_lastModifiedDate"] if len(docs) == 1000 else "*"

        pages = timed(window_page, 15)
        out.append(Result(size, "sandbox: 1,000-case search page, median", statistics.median(pages), "ms", 100))
        out.append(Result(size, "sandbox: 1,000-case search page, p95", percentile(pages, 0.95), "ms"))
        out += bench_sandbox_jira(size, sandbox.url) + bench_sandbox_bugzilla(size, sandbox.url, session)
        changed = len(
            requests.post(f"{sandbox.url}/_sandbox/churn", json={"count": size // 100}, timeout=120).json()["changed"]
        )
        first = timed(window_page, 1)[0]
        out.append(Result(size, f"sandbox: first page after {changed} changes", first, "ms", 500))
        return out
    finally:
        sandbox.stop()


def bench_sandbox_jira(size: int, url: str) -> list[Result]:
    from jira import JIRA

    client = JIRA(server=f"{url}/jira", token_auth="sandbox-jira-token")
    token = {"next": None}
    fields = ["summary", "status", "assignee", "priority", "labels", "updated", "customfield_10840"]

    def page():
        result = client.enhanced_search_issues(
            "project = KNIECO AND labels = field ORDER BY updated ASC",
            nextPageToken=token["next"], maxResults=100, fields=fields, json_result=True,
        )  # fmt: skip
        token["next"] = result.get("nextPageToken")

    times = timed(page, 15)
    return [
        Result(size, "sandbox: JIRA 100-card search page (jira client), median", statistics.median(times), "ms", 100)
    ]


def bench_sandbox_bugzilla(size: int, url: str, portal: requests.Session) -> list[Result]:
    import bugzilla

    docs = portal.get(
        f"{url}/portal/hydra/rest/search/cases",
        params={"q": f"{TEAM_QUERY} AND case_bugzillaNumber:*", "rows": 2000, "fl": "case_bugzillaNumber"},
        timeout=30,
    ).json()["response"]["docs"]
    ids = sorted({int(d["case_bugzillaNumber"]) for d in docs})[:500]
    client = bugzilla.Bugzilla(url=f"{url}/bugzilla/rest", api_key="sandbox-bugzilla-key", use_creds=False)
    fields = ["id", "summary", "status", "severity", "target_release", "assigned_to", "last_change_time"]
    times = timed(lambda: client.getbugs(ids, include_fields=fields, permissive=True), 7)
    return [
        Result(
            size,
            f"sandbox: Bugzilla getbugs of {len(ids)} ids (python-bugzilla), median",
            statistics.median(times),
            "ms",
            250,
        )
    ]


# Jobs that make one upstream request per case (details, JIRA links) are read in full only up to
# this size: at 100,000 cases that is 200,000 requests, hours against the real portal, and
# exactly what the incremental design avoids. Bigger sizes time the incremental run instead.
PER_CASE_FULL_LIMIT = 10_000


def bench_sync(size: int) -> list[Result]:
    """Full and incremental sync into a fresh SQLite database: time, rows/s of our own code, requests."""
    sandbox = SandboxProcess(size)
    db = Path(tempfile.mkdtemp(prefix="t5g-bench-db-")) / "bench.sqlite3"
    env = {**os.environ, "DEBUG": "true", "DATABASE_URL": f"sqlite:///{db}", "SANDBOX_URL": sandbox.url,
           "UPSTREAM_CONCURRENCY": "12"}  # fmt: skip
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True)

    def requests_total() -> int:
        return requests.get(f"{sandbox.url}/_sandbox/state", timeout=30).json()["requests"]["total"]

    def sync(*args: str) -> tuple[float, float, int, str]:
        """(wall s, CPU s, upstream requests, output) of one `manage.py sync`, its jobs only (not start-up)."""
        before = requests_total()
        out = subprocess.run(
            [sys.executable, "manage.py", "sync", *args, "--no-progress"],
            cwd=BASE_DIR, env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        runs = re.findall(r", ([\d.]+)s, cpu ([\d.]+)s\)", out)
        wall, cpu = sum(float(w) for w, _ in runs), sum(float(c) for _, c in runs)
        return max(wall, 0.01), max(cpu, 0.01), requests_total() - before, out

    try:
        out: list[Result] = []
        for job in ["cases", "details", "cards", "issues", "bugs", "escalations", "stats"]:
            if job in ("details", "issues") and size > PER_CASE_FULL_LIMIT:
                continue
            wall, cpu, calls, text = sync(job, "--full")
            rows = int(text.split("fetched ", 1)[1].split(",", 1)[0]) if "fetched " in text else 0
            note = f"{rows:,} rows, {calls:,} requests, {cpu / wall:.0%} of the time in our process"
            out.append(Result(size, f"full sync {job}: time", wall, "s", note=note))
            if rows >= 1000:
                budget = 5000 if job in ("cases", "cards", "bugs") else None
                out.append(Result(size, f"full sync {job}: rows per CPU second (our code)", rows / cpu, "rows/s",
                                  note=note, budget=budget, higher_is_better=True))  # fmt: skip
        changed = len(
            requests.post(f"{sandbox.url}/_sandbox/churn", json={"count": size // 100}, timeout=300).json()["changed"]
        )
        wall, cpu, calls, text = sync("all")
        note = f"{changed} changes, {calls} requests, {cpu / wall:.0%} of the time in our process"
        out.append(Result(size, "incremental sync all after 1% churn: time", wall, "s", 10, note=note))
        out.append(Result(size, "incremental sync all after 1% churn: upstream requests", calls, "", note=note))
        return out
    finally:
        sandbox.stop()


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    mem = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    system = f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, {mem / 1024 / 1024:.0f} GiB, {system}"


def table(results: list[Result]) -> str:
    lines = ["| cases | measure | value | budget | ok | notes |", "|---:|---|---:|---:|:-:|---|"]
    for r in results:
        budget = f"{'≥' if r.higher_is_better else '≤'} {r.budget:g} {r.unit}" if r.budget is not None else ""
        lines.append(
            f"| {r.size:,} | {r.name} | {r.value:,.1f} {r.unit} | {budget} | {'✓' if r.ok else '✗'} | {r.note} |"
        )
    return "\n".join(lines)


SECTIONS = {"sandbox": bench_sandbox, "sync": bench_sync}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated among {', '.join(SECTIONS)}")
    parser.add_argument("--output", default=str(BASE_DIR / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    results: list[Result] = []
    for size in sizes:
        for name in args.only.split(","):
            print(f"== {name} at {size:,} cases", flush=True)
            section = SECTIONS[name](size)
            print(table(section), flush=True)
            results += section
    report = (
        f"# Benchmarks\n\nRun {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.\n"
        f"Command: `make bench SIZES={args.sizes}`.\n\n{table(results)}\n"
    )
    Path(args.output).parent.mkdir(exist_ok=True)
    Path(args.output).write_text(report)
    missed = [r for r in results if not r.ok]
    print(f"\nWrote {args.output}. " + (f"{len(missed)} budget(s) missed." if missed else "Every budget met."))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
