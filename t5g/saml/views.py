"""The sign-in and sign-out pages: djangosaml2's views with T5G's checks, the IdP's metadata for us, and the
break-glass and admin sign-in.
"""

from __future__ import annotations

import logging
from functools import wraps

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from djangosaml2 import views as saml_views
from djangosaml2.utils import get_location
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.request import LogoutRequest

from .config import CLOCK_SKEW, IdPUnavailable, configured, saml_config
from .groups import is_member
from .identity import NotInGroup

logger = logging.getLogger(__name__)


def _unavailable(request: HttpRequest, exc: IdPUnavailable) -> HttpResponse:
    if not configured():
        return render(request, "t5g/saml_not_configured.html", {"local_login": settings.LOCAL_LOGIN}, status=503)
    logger.warning("SAML sign-in unavailable: %s", exc)
    return render(request, "t5g/saml_unavailable.html", status=503)


def _public(view):
    """A SAML endpoint: reachable signed out, and a page (not a 500) while the IdP cannot be loaded."""

    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except IdPUnavailable as exc:
            return _unavailable(request, exc)

    return login_not_required(wraps(view)(wrapped))


class AcsView(saml_views.AssertionConsumerServiceView):
    """djangosaml2's ACS, with T5G's refusal page and without logging the refused user's attributes."""

    def authenticate_user(self, request, session_info, attribute_mapping, create_unknown_user, assertion_info):
        user = auth.authenticate(
            request=request,
            session_info=session_info,
            attribute_mapping=attribute_mapping,
            create_unknown_user=create_unknown_user,
            assertion_info=assertion_info,
        )
        if user is None:
            if not is_member(session_info.get("ava", {})):
                raise NotInGroup(", ".join(settings.SAML_MEMBER_GROUPS))
            raise PermissionDenied("no user could be signed in")
        auth.login(request, user)
        saml_views._set_subject_id(request.saml_session, session_info["name_id"])
        return user

    def handle_acs_failure(self, request, exception=None, status=403, **kwargs):
        if not request.user.is_authenticated:
            request.saml_session.flush()  # nothing of a refused sign-in stays
        groups = settings.SAML_MEMBER_GROUPS if isinstance(exception, NotInGroup) else []
        if groups:
            logger.warning("Sign-in refused: the account is not in %s", _groups_text(groups))
        return render(request, "t5g/saml_refused.html", {"groups": groups}, status=status)


def _groups_text(groups: list[str]) -> str:
    if len(groups) == 1:
        return f"the group {groups[0]}"
    return "any of the groups " + ", ".join(groups)


class SloView(saml_views.LogoutInitView):
    """djangosaml2's single logout, started by the nav's POST form."""

    def post(self, request, *args, **kwargs):
        return self.get(request, *args, **kwargs)


class LogoutServiceView(saml_views.LogoutView):
    """The single logout service: the IdP's answer to a sign-out started here, or a sign-out the IdP starts.

    djangosaml2's own signs the browser out on any LogoutRequest, signed or not and whoever it names, and on
    any LogoutResponse: a link on any site could sign a user out. Here a LogoutRequest counts only when the
    IdP signed it and it names this session's user, and a LogoutResponse only ends a sign-out that already
    happened here (ours signs out locally before it goes to the IdP).
    """

    def do_logout_service(self, request, data, binding, *args, **kwargs):
        if "SAMLRequest" in data:
            return self.logout_request(request, data, binding)
        if "SAMLResponse" in data and request.user.is_authenticated:
            logger.warning("Single logout: a LogoutResponse reached a signed-in session; it answers no sign-out here")
            return _logout_refused(request)
        return super().do_logout_service(request, data, binding, *args, **kwargs)

    def logout_request(self, request, data, binding) -> HttpResponse:
        state, client = self.get_state_client(request)
        try:
            message = verified_logout_request(client, data, binding)
        except Exception as exc:  # noqa: BLE001 - pysaml2 refuses with many exception types
            logger.warning("Single logout: refused a LogoutRequest not signed by the IdP (%s)", type(exc).__name__)
            return _logout_refused(request)
        subject_id = saml_views._get_subject_id(request.saml_session)
        ours = subject_id is not None and request.user.is_authenticated and message.name_id == subject_id
        # pysaml2 answers the IdP: success for this session's user, "unknown principal" for anyone else.
        http_info = client.handle_logout_request(
            data["SAMLRequest"], subject_id, binding, relay_state=data.get("RelayState", "")
        )
        state.sync()
        if ours:
            auth.logout(request)
            request.saml_session.flush()
        else:
            logger.warning("Single logout: a signed LogoutRequest named another user; no one was signed out")
        if http_info.get("method") == "POST" and "data" in http_info:
            return HttpResponse(http_info["data"])
        return HttpResponseRedirect(get_location(http_info))


def verified_logout_request(client, data: dict, binding: str):
    """The LogoutRequest in `data`, once its signature (embedded, or SigAlg/Signature with HTTP-Redirect) is
    the IdP's; raises otherwise (pysaml2 checks a request's signature only when told it must)."""
    receivers = client.config.endpoint("single_logout_service", binding, "sp")
    request = LogoutRequest(client.sec, receivers, client.config.attribute_converters, timeslack=CLOCK_SKEW)
    xml = client.unravel(data["SAMLRequest"], binding, LogoutRequest.msgtype)
    loaded = request.loads(
        xml,
        binding,
        origdoc=data["SAMLRequest"],
        must=True,
        relay_state=data.get("RelayState"),
        sigalg=data.get("SigAlg"),
        signature=data.get("Signature"),
    )
    if not loaded.verify():
        raise PermissionDenied("the LogoutRequest was issued too long ago or in the future")
    return loaded.message


def _logout_refused(request: HttpRequest) -> HttpResponse:
    return render(request, "t5g/saml_logout_refused.html", status=400)


_login = saml_views.LoginView.as_view()
_acs = AcsView.as_view()
_slo = SloView.as_view()
_logout_service = LogoutServiceView.as_view()


@_public
def saml_login(request: HttpRequest) -> HttpResponse:
    return _login(request)


@csrf_exempt  # the IdP's page posts here, without our CSRF token
@_public
def acs(request: HttpRequest) -> HttpResponse:
    return _acs(request)


@csrf_exempt  # the IdP may post its LogoutResponse here
@_public
def logout_service(request: HttpRequest) -> HttpResponse:
    return _logout_service(request)


@_public
def metadata(request: HttpRequest) -> HttpResponse:
    # Built without the IdP's metadata: the IdP may fetch ours while it is itself unreachable to us.
    if not configured():
        raise IdPUnavailable("SAML is not configured")
    sp_config = SPConfig().load(saml_config(with_idp=False))
    return HttpResponse(str(entity_descriptor(sp_config)).encode(), content_type="application/samlmetadata+xml")


@login_not_required
def not_configured(request: HttpRequest) -> HttpResponse:
    return render(request, "t5g/saml_not_configured.html", {"local_login": settings.LOCAL_LOGIN})


@login_not_required
def signed_out(request: HttpRequest) -> HttpResponse:
    return render(request, "t5g/saml_signed_out.html")


@login_not_required
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Single logout at the IdP when this session came from SAML, else a local sign-out."""
    from_saml = saml_views._get_subject_id(request.saml_session) is not None
    if request.user.is_authenticated and from_saml and configured():
        try:
            response = _slo(request)
        except IdPUnavailable as exc:
            logger.warning("Single logout unavailable, signing out locally: %s", exc)
        else:
            if response.status_code < 400:  # on to the IdP, which sends the browser back to /saml2/ls/
                return response
            logger.warning("Single logout failed (%s), signing out locally", response.status_code)
    auth.logout(request)
    request.saml_session.flush()
    return redirect(settings.LOGOUT_REDIRECT_URL)


class StaffAuthenticationForm(AuthenticationForm):
    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_staff:
            # The same answer as a wrong password: the form must not tell whose password is right.
            raise self.get_invalid_login_error()


_local_login = LoginView.as_view(form_class=StaffAuthenticationForm, template_name="registration/login.html")


@login_not_required
def local_login(request: HttpRequest) -> HttpResponse:
    """The break-glass password sign-in for administrators, only with LOCAL_LOGIN=true."""
    if not settings.LOCAL_LOGIN:
        raise Http404("local sign-in is off")
    return _local_login(request)


ADMINISTRATORS_SHOWN = 5


def _administrators() -> list[str]:
    """A few active staff members a member can ask for admin rights (names, not e-mail addresses)."""
    staff = auth.get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")
    return [user.get_full_name() or user.get_username() for user in staff[:ADMINISTRATORS_SHOWN]]


@login_not_required
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin signs in like every page does (the admin's own password form would bypass SAML)."""
    if request.user.is_authenticated:
        if request.user.is_staff:
            return redirect("admin:index")
        # Sending a signed-in non-administrator to sign in again would loop back here; "Sign-in refused" would
        # be untrue (they are signed in): say what is missing and whom to ask.
        return render(
            request,
            "t5g/admin_refused.html",
            {"admin_groups": settings.SAML_ADMIN_GROUPS, "administrators": _administrators()},
            status=403,
        )
    return redirect_to_login(request.GET.get("next") or "/admin/", settings.LOGIN_URL)
