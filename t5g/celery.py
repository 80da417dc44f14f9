import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "t5g.settings")

app = Celery("t5g")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each app's tasks.py, and the sync engine's (t5g.sync is a package of the t5g app, not an app).
app.autodiscover_tasks()
app.autodiscover_tasks(["t5g.sync"])


@worker_init.connect
def check_settings(**kwargs) -> None:
    # Refuse to start a worker on a broken configuration, rather than fail
    # deep inside the first task that reads the bad setting.
    from django.core.management import call_command

    call_command("check")
