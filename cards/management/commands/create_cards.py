from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cards.assignment import Assigner
from cards.automation import describe, plan
from t5g.sync.runner import run_job


class Command(BaseCommand):
    help = "Create the missing JIRA cards for new cases once (what the hourly task runs)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="say what would be created and for whom")

    def handle(self, *args, dry_run, **options):
        if dry_run or settings.READ_ONLY:
            lines = describe(plan(), Assigner())
            if settings.READ_ONLY and not dry_run:
                self.stdout.write("Read-only mode: nothing is created. It would:")
            self.stdout.write("\n".join(lines) if lines else "Nothing to create: every open case has its card.")
            return
        try:
            # A person runs this: with Redis down it runs without the job lock (the per-case intents still hold).
            run = run_job(job="create_cards", trigger="manual", unlocked_ok=True)
        except Exception as exc:
            raise CommandError(f"card creation failed: {type(exc).__name__}: {exc}") from exc
        if getattr(run, "joined", False):
            self.stdout.write(f"Card creation is already running (run {run.pk}); joined it.")
            return
        self.stdout.write(
            f"Created {run.created} card(s), reopened {run.updated}, found {run.unchanged} already in JIRA."
        )
