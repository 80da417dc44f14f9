from django.core.management.base import BaseCommand

from t5g.sync.schedules import schedule_first_refresh, setup_schedules


class Command(BaseCommand):
    help = "Create the default periodic tasks that are missing. Never changes one an admin edited."

    def add_arguments(self, parser):
        parser.add_argument(
            "--first-refresh", action="store_true", help="on a database that never synced, refresh everything soon"
        )

    def handle(self, *args, **options) -> None:
        created = setup_schedules()
        if created:
            self.stdout.write(f"Created schedules: {', '.join(created)}")
        else:
            self.stdout.write("All schedules already exist; nothing changed.")
        if options["first_refresh"] and schedule_first_refresh():
            self.stdout.write("Nothing synced yet: a first refresh of every source starts in a few seconds.")
