from django.apps import AppConfig


class T5GConfig(AppConfig):
    name = "t5g"
    verbose_name = "T5G"

    def ready(self) -> None:
        # checks registers the system checks, signins its signal receivers.
        from . import audit, checks, private, signins  # noqa: F401
        from .clients import writes
        from .sync import registry

        # var/ 0700 and the SQLite database 0600, before anything is written there.
        private.install()
        # Every upstream write is recorded in the database; the clients themselves never touch it.
        writes.install_audit_log(audit.record)
        # Every app's declared jobs, now: a mistake in a declaration stops start-up.
        registry.discover()
