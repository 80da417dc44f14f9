from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.compatibility, deploy=False)
def check_environment(app_configs, **kwargs) -> list[Error]:
    """Each malformed or missing environment variable, by name."""
    return [
        Error(f"{name}: {problem}", hint="See .env.example.", id="t5g.E001")
        for name, problem in settings.SETTINGS_ERRORS
    ]
