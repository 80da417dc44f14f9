from django.apps import AppConfig


class T5GConfig(AppConfig):
    name = "t5g"
    verbose_name = "T5G"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
