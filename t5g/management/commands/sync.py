import time
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from t5g.clients.http import client_cpu
from t5g.sync.registry import jobs, refreshed
from t5g.sync.runner import run_job


def parse_since(value: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--since: not a date: {value!r} (use 2026-11-01 or 2026-11-01T10:00)") from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class ProgressBar:
    """The job's progress reports, drawn with tqdm (one bar per phase)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar: tqdm | None = None
        self.phase = ""

    def __call__(self, current: int, total: int, phase: str) -> None:
        if not self.enabled:
            return
        if self.bar is None or phase != self.phase:
            self.close()
            self.bar, self.phase = tqdm(total=total or None, desc=phase, unit="row", leave=False), phase
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.update(current - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Command(BaseCommand):
    help = "Sync one source from its upstream (or all, in order): incremental unless --full."
    trigger = "manual"

    def add_arguments(self, parser):
        parser.add_argument("source", choices=[*(job.name for job in jobs()), "all"])
        parser.add_argument("--full", action="store_true", help="re-read everything and mark what left upstream")
        parser.add_argument("--since", type=parse_since, help="re-read what changed since this date")
        parser.add_argument("--dry-run", action="store_true", help="fetch and count, write nothing")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, source, full, since, dry_run, no_progress, **options):
        failed = []
        for job in [job.name for job in refreshed()] if source == "all" else [source]:
            bar = ProgressBar(enabled=not no_progress)
            cpu, in_clients = time.process_time(), client_cpu()
            try:
                # A person runs this: with Redis down (no scheduled run can take the lock either) it runs unlocked.
                run = run_job(
                    job=job,
                    trigger=self.trigger,
                    full=full,
                    since=since,
                    dry_run=dry_run,
                    progress=bar,
                    unlocked_ok=True,
                )
            except Exception as exc:  # noqa: BLE001 - reported, and the other sources still run
                bar.close()
                self.stderr.write(f"{job}: failed: {type(exc).__name__}: {exc}")
                failed.append(job)
                continue
            bar.close()
            self.stdout.write(self.summary(job, run, dry_run, time.process_time() - cpu, client_cpu() - in_clients))
        if failed:
            raise CommandError(f"failed: {', '.join(failed)} (earlier data kept; see the sync runs in admin)")

    def summary(self, job, run, dry_run, cpu: float, in_clients: float) -> str:
        if run is None:
            return f"{job}: already running; nothing started"
        if getattr(run, "joined", False):
            return f"{job}: already running as run {run.pk}; joined it"
        verb = "would create" if dry_run else "created"
        return (
            f"{job}: fetched {run.fetched}, {verb} {run.created}, updated {run.updated}, "
            f"unchanged {run.unchanged}, rejected {run.rejected}"
            + (
                ""
                if dry_run
                else f" (run {run.pk}, {run.duration.total_seconds():.2f}s, cpu {cpu:.2f}s"
                f" of which upstream clients {in_clients:.2f}s)"
            )
        )
