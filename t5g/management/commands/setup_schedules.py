from django.core.management.base import BaseCommand

from t5g.schedules import setup_schedules


class Command(BaseCommand):
    help = "Create the default periodic tasks that are missing. Never changes one an admin edited."

    def handle(self, *args, **options) -> None:
        created = setup_schedules()
        if created:
            self.stdout.write(f"Created schedules: {', '.join(created)}")
        else:
            self.stdout.write("All schedules already exist; nothing changed.")
