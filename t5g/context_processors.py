from django.conf import settings


def t5g(request) -> dict:
    return {"READ_ONLY": settings.READ_ONLY, "SANDBOX_URL": settings.SANDBOX_URL}
