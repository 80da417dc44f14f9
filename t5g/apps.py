from django.apps import AppConfig


class T5GConfig(AppConfig):
    name = "t5g"
    verbose_name = "T5G"

    def ready(self) -> None:
        from . import audit, checks  # noqa: F401 - checks registers the system checks
        from .clients import writes
        from .sync import registry

        # Every upstream write is recorded in the database; the clients themselves never touch it.
        writes.install_audit_log(audit.record)
        # Every app's declared jobs, now: a mistake in a declaration stops start-up.
        registry.discover()
