"""manage.py fill_history --days 28: the daily stats of the past weeks, computed from the mirrored cases, when
fewer than a week of days are stored. `make run`'s demo runs it once the first refresh has mirrored the sandbox,
so its charts have a history to draw; on a real install, `backfill stats --since DATE` does the same on demand."""

from __future__ import annotations

import time
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from stats.models import DailyStats
from t5g.models import SyncRun
from t5g.sync.runner import run_job

ENOUGH = 7


class Command(BaseCommand):
    help = "Compute the past weeks' daily stats from the mirrored cases, if fewer than a week are stored."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=28)
        parser.add_argument("--wait", type=float, default=0, help="seconds to wait for a first successful cases sync")

    def handle(self, *args, days: int, wait: float, **options):
        deadline = time.monotonic() + wait
        while not SyncRun.objects.filter(source="cases", outcome=SyncRun.Outcome.SUCCESS).exists():
            if time.monotonic() >= deadline:
                self.stdout.write("no cases synced yet: nothing to compute history from")
                return
            time.sleep(2)
        stored = DailyStats.objects.values("date").distinct().count()
        if stored >= ENOUGH:
            self.stdout.write(f"{stored} days of history already: nothing to do")
            return
        since = timezone.now() - timedelta(days=days)
        run = run_job(job="stats", trigger=SyncRun.Trigger.BACKFILL, since=since, unlocked_ok=True)
        self.stdout.write(f"history from {since:%Y-%m-%d}: {run.created} day rows computed" if run else "stats busy")
