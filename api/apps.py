from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from t5g.signals import membership_ended

        from .receivers import revoke_tokens

        # A leaver's tokens go with their membership (the core says when; it cannot import this app).
        membership_ended.connect(revoke_tokens, dispatch_uid="api.revoke_tokens")
