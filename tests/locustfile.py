"""The team's load on T5G, for the benchmark's load test (tests/bench_live.py runs it: `locust -f tests/locustfile.py
--headless ...` in a process of its own, never imported by the bench).

Each simulated member browses as the team does, a request every 1 to 3 s: the cases table with filters, search,
sort and pages, expanded rows, account and engineer pages, home, stats, weekly and updates, a CSV export of a
filtered view, and a script's API calls with a token; and, as an open tab does, asks /changes/ every
LIVE_POLL_SECONDS. What to browse (the session cookie, an API key, case numbers, accounts, engineers) comes from
the JSON file named by T5G_LOAD, written by the bench from the synced database.
"""

from __future__ import annotations

import json
import os
import random
import time
from urllib.parse import quote

from locust import HttpUser, between, task

LOAD = json.loads(open(os.environ["T5G_LOAD"]).read())  # noqa: SIM115, PTH123 - read once at start-up
SEARCHES = ["ocp", "network", "upgrade", "crash", "sriov", "ptp", "latency"]
SORTS = ["-days_open", "severity", "-updated", "account"]


class Member(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.client.cookies.set(LOAD["cookie"], LOAD["session"])
        self.generation = ""
        self.next_poll = time.monotonic() + random.uniform(0, LOAD["poll_seconds"])

    def _poll(self) -> None:
        """An open tab's check for changes, at its real rate (204 while nothing changed)."""
        if time.monotonic() < self.next_poll:
            return
        self.next_poll = time.monotonic() + LOAD["poll_seconds"]
        with self.client.get(f"/changes/?since={self.generation}", name="/changes/", catch_response=True) as r:
            if r.status_code == 200:
                self.generation = r.json()["generation"]
            elif r.status_code != 204:
                r.failure(f"HTTP {r.status_code}")

    def _get(self, url: str, name: str, **kwargs) -> None:
        self._poll()
        self.client.get(url, name=name, allow_redirects=False, **kwargs)

    @task(6)
    def cases_table(self) -> None:
        choice = random.choice(
            [
                "/cases/",
                "/cases/?severity=1",
                f"/cases/?account={quote(random.choice(LOAD['accounts']))}",
                f"/cases/?q={random.choice(SEARCHES)}",
                f"/cases/?view=all&sort={random.choice(SORTS)}",
                f"/cases/?view=all&page={random.randint(2, 4)}",
            ]
        )
        self._get(choice, "cases table (filters, search, sort, pages)")

    @task(5)
    def expanded_row(self) -> None:
        self._get(f"/cases/{random.choice(LOAD['cases'])}/row/", "case row", headers={"HX-Request": "true"})

    @task(2)
    def account(self) -> None:
        self._get(f"/accounts/{quote(random.choice(LOAD['accounts']), safe='')}/", "account page")

    @task(2)
    def engineer(self) -> None:
        self._get(f"/engineers/{quote(random.choice(LOAD['engineers']), safe='')}/", "engineer page")

    @task(3)
    def home(self) -> None:
        self._get("/", "home")

    @task(1)
    def stats(self) -> None:
        self._get("/stats/", "stats")

    @task(1)
    def weekly(self) -> None:
        self._get(random.choice(["/weekly/", "/updates/"]), "weekly, updates")

    @task(1)
    def export(self) -> None:
        self._get(f"/cases/export.csv?severity={random.choice([1, 2])}", "CSV export (filtered)")

    @task(2)
    def api(self) -> None:
        self._poll()
        headers = {"Authorization": f"Bearer {LOAD['token']}"}
        if random.random() < 0.5:
            self.client.get("/api/cases/?severity=1", name="API cases", headers=headers)
        else:
            self.client.get(f"/api/cases/{random.choice(LOAD['cases'])}/", name="API case", headers=headers)
