"""Who signs in, and how: a SAML sign-in dates the user's membership, the break-glass /login/ is throttled and
recorded.

A SAML sign-in completes only for a team member (the backend admits no one else), so it sets
Profile.member_signed_in_at, which API tokens need to be recent (api/auth.py). The local password sign-in is
guarded by django-axes: failed passwords are counted per address and per user name, and past
LOCAL_LOGIN_FAILURE_LIMIT the address or name is locked out for LOCAL_LOGIN_LOCKOUT_MINUTES. axes watches that
view only: a SAML sign-in is no password attempt. Every local sign-in and refusal is a warning in the log and a row
in admin (Axes: access logs, access failures).
"""

from __future__ import annotations

import logging

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from djangosaml2.backends import Saml2Backend

from .callers import client_ip
from .models import Profile
from .saml import views as saml

log = logging.getLogger(__name__)


def _is_local_login(request: HttpRequest | None) -> bool:
    return request is not None and getattr(request, "path", None) == reverse("login")


def _is_saml(backend: str) -> bool:
    try:
        return issubclass(import_string(backend), Saml2Backend)
    except ImportError:
        return False


class LocalSignInHandler(AxesDatabaseHandler):
    """django-axes (AXES_HANDLER) for the break-glass sign-in only: attempts anywhere else are not its business."""

    def is_allowed(self, request, credentials: dict | None = None) -> bool:
        return not _is_local_login(request) or super().is_allowed(request, credentials)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        if _is_local_login(request):
            super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender, request, user, **kwargs) -> None:
        if _is_local_login(request):
            super().user_logged_in(sender, request, user, **kwargs)


@login_not_required
def local_login(request: HttpRequest) -> HttpResponse:
    """The break-glass sign-in (t5g.saml.views.local_login), refused while its address or user name is locked out."""
    if not settings.LOCAL_LOGIN:
        raise Http404("local sign-in is off")
    if request.method == "POST" and not AxesProxyHandler.is_allowed(request):
        log.warning("local sign-in locked out: %r from %s", request.POST.get("username", ""), client_ip(request))
        return get_lockout_response(request)
    return saml.local_login(request)


@receiver(user_logged_in, dispatch_uid="t5g.signins.signed_in")
def signed_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if _is_saml(getattr(user, "backend", "")):
        Profile.objects.update_or_create(user=user, defaults={"member_signed_in_at": timezone.now()})
    elif _is_local_login(request):
        # Break-glass use is rare and powerful: whoever watches the logs should see every one.
        log.warning("local sign-in: %s from %s", user.get_username(), client_ip(request))


@receiver(user_login_failed, dispatch_uid="t5g.signins.refused")
def refused(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    if _is_local_login(request):
        log.warning("local sign-in refused: %r from %s", credentials.get("username", ""), client_ip(request))
