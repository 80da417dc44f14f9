from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from t5g.signals import membership_ended

        from .receivers import end_membership

        # A leaver's tokens go with their membership (the core says when; it cannot import this app).
        membership_ended.connect(end_membership, dispatch_uid="api.end_membership")
