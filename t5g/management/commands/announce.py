"""`make run`'s last words: once the web server answers /health/ready/, a worker answers a ping and the first
refresh (if one is due) has ended, print where to open T5G and how to sign in, below the processes' start-up
output (~200 lines of it, which buried the same lines printed before honcho started them)."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests
from django.conf import settings
from django.core.management.base import BaseCommand

from t5g.celery import app
from t5g.models import Refresh

POLL = 1.0  # seconds between two looks
# Once all is up, the processes' last start-up lines still come (Flower enabling task events ~1 s after the
# first refresh ended, under `make run`): the announcement waits for them, to be the last.
SETTLE = 3.0


class Command(BaseCommand):
    help = "Wait until T5G serves pages and works jobs, then print its address and the lines given."

    def add_arguments(self, parser):
        parser.add_argument("lines", nargs="*", help="more lines to print after the address (sign-ins, links)")
        parser.add_argument("--timeout", type=float, default=180, help="print anyway after this many seconds")

    def handle(self, *args, lines: list[str], timeout: float, **options) -> None:
        deadline = time.monotonic() + timeout
        waits = [
            ("the web server", _web_ready),
            ("a worker", _worker_answers),
            ("the first refresh", _no_refresh_running),
        ]
        late = [what for what, ready in waits if not _wait(ready, deadline)]
        if not late:
            time.sleep(SETTLE)
        rule = "-" * 72
        self.stdout.write(rule)
        self.stdout.write(f"T5G is up: open {settings.SITE_URL}/")
        for line in lines:
            self.stdout.write(line)
        if late:
            self.stdout.write(f"Still waiting for {', '.join(late)} after {timeout:.0f}s: see the lines above.")
        self.stdout.write("Stop everything with Ctrl-C.")
        self.stdout.write(rule)


def _wait(ready: Callable[[], bool], deadline: float) -> bool:
    while True:
        try:
            if ready():
                return True
        except Exception:  # noqa: BLE001, S110 - not up yet (connection refused, broker or database starting)
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL)


def _web_ready() -> bool:
    return requests.get(f"{settings.SITE_URL}/health/ready/", timeout=5).status_code == 200


def _worker_answers() -> bool:
    return bool(app.control.ping(timeout=1.0))


def _no_refresh_running() -> bool:
    # The first refresh (setup_schedules --first-refresh) fills an empty database; its worker's lines end with it.
    return not Refresh.objects.filter(state__in=[Refresh.State.QUEUED, Refresh.State.RUNNING]).exists()
