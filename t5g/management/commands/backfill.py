from django.core.management.base import CommandError

from .sync import Command as SyncCommand


class Command(SyncCommand):
    help = "Re-read one source's history since a date, with a progress bar. Safe to interrupt and re-run."
    trigger = "backfill"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        for action in parser._actions:
            if action.dest == "since":
                action.required = True
            if action.dest == "full":
                action.help = "ignored: a backfill reads from --since"

    def handle(self, *args, **options):
        if options["source"] == "all":
            raise CommandError("backfill one source at a time")
        options["full"] = False
        super().handle(*args, **options)
