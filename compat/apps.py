from django.apps import AppConfig


class CompatConfig(AppConfig):
    """What the old dashboard's (t5gweb) users keep: its URLs, its JSON API's shapes, and a way in for its data."""

    name = "compat"
    verbose_name = "Old dashboard compatibility"
