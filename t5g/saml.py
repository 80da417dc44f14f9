"""SAML single sign-on (djangosaml2 + pysaml2): the service provider's configuration, the backend
that admits the team's members, and the sign-in and sign-out views (routed under /saml2/).

The configuration is built from settings on first use, never at import: pysaml2 fetches the IdP's
metadata when a configuration loads, and an IdP that is down must not stop start-up or the health
check, only sign-in (which then says so).
"""

from __future__ import annotations

import copy
import fcntl
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import wraps
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from djangosaml2 import views as saml_views
from djangosaml2.backends import Saml2Backend, set_attribute
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from .models import Profile

logger = logging.getLogger(__name__)

XMLSEC_BINARY = "/usr/bin/xmlsec1"
GROUPS_ATTRIBUTE = "isMemberOf"  # urn:oid:1.3.6.1.4.1.5923.1.5.1.1 under pysaml2's default attribute map
CLOCK_SKEW = 60  # seconds of clock difference with the IdP accepted on assertion times
METADATA_TIMEOUT = 10  # seconds, fetching the IdP's metadata
CONFIG_TTL = 600  # seconds a loaded configuration (with the IdP's metadata, so its keys) is reused


class IdPUnavailable(Exception):
    """The IdP's metadata could not be loaded: sign-in cannot start or finish now."""


class NotInGroup(PermissionDenied):
    """A user the IdP vouched for who is not in the member group."""


def configured() -> bool:
    return bool(settings.SAML_IDP_METADATA_URL or settings.SAML_IDP_METADATA_FILE)


# --- the service provider's key pair -------------------------------------------------------------------
def key_pair() -> tuple[Path, Path]:
    """SAML_KEY_FILE/SAML_CERT_FILE, else a self-signed pair made once under var/saml/."""
    if settings.SAML_KEY_FILE:
        return Path(settings.SAML_KEY_FILE), Path(settings.SAML_CERT_FILE)
    directory = settings.VAR_DIR / "saml"
    key_file, cert_file = directory / "sp.key", directory / "sp.crt"
    if key_file.exists() and cert_file.exists():
        return key_file, cert_file
    directory.mkdir(parents=True, exist_ok=True)
    # Web workers, the test suite and `make run` may all start at once: one makes the pair, the
    # others wait and use it (a key from one and a certificate from another would never verify).
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (key_file.exists() and cert_file.exists()):
            common_name = urlsplit(settings.SITE_URL).hostname or "t5g"
            write_key_pair(key_file=key_file, cert_file=cert_file, common_name=common_name)
    return key_file, cert_file


def write_key_pair(*, key_file: Path, cert_file: Path, common_name: str) -> None:
    """A new private key (readable by its owner only) and a self-signed certificate for it, valid ten years."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_file.unlink(missing_ok=True)
    key_file.touch(mode=0o600)
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


# --- configuration -------------------------------------------------------------------------------------------
def saml_config(*, with_idp: bool = True) -> dict:
    """pysaml2's SP configuration (djangosaml2's SAML_CONFIG), from the current settings."""
    site = settings.SITE_URL.rstrip("/")
    key_file, cert_file = key_pair()
    metadata: dict = {}
    if with_idp and settings.SAML_IDP_METADATA_FILE:
        metadata = {"local": [str(settings.SAML_IDP_METADATA_FILE)]}
    elif with_idp and settings.SAML_IDP_METADATA_URL:
        metadata = {"remote": [{"url": settings.SAML_IDP_METADATA_URL}]}
    return {
        "entityid": f"{site}/saml2/metadata/",
        "xmlsec_binary": XMLSEC_BINARY,
        "key_file": str(key_file),
        "cert_file": str(cert_file),
        "metadata": metadata,
        "accepted_time_diff": CLOCK_SKEW,
        "http_client_timeout": METADATA_TIMEOUT,
        "service": {
            "sp": {
                "name": "T5G",
                "endpoints": {
                    "assertion_consumer_service": [(f"{site}/saml2/acs/", BINDING_HTTP_POST)],
                    "single_logout_service": [
                        (f"{site}/saml2/ls/", BINDING_HTTP_REDIRECT),
                        (f"{site}/saml2/ls/post/", BINDING_HTTP_POST),
                    ],
                },
                # Only answers to requests this browser session made: no IdP-initiated sign-in, no replay
                # of a response into another session.
                "allow_unsolicited": False,
                "want_response_signed": True,
                "want_assertions_signed": True,
                "authn_requests_signed": True,
                "logout_requests_signed": True,
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
            }
        },
    }


_loaded: dict[str, tuple[float, SPConfig]] = {}
_loaded_lock = threading.Lock()


def config_loader(request: HttpRequest | None = None) -> SPConfig:
    """djangosaml2's SAML_CONFIG_LOADER: the configuration, loaded on first use and reused a while.

    Reusing it saves fetching the IdP's metadata on every sign-in; keying it by the configuration
    means changed settings (another IdP, another site URL) take effect at once.
    """
    if not configured():
        raise IdPUnavailable("SAML is not configured")
    config = saml_config()
    key = json.dumps(config, sort_keys=True)
    with _loaded_lock:
        loaded = _loaded.get(key)
    if loaded and time.monotonic() - loaded[0] < CONFIG_TTL:
        return loaded[1]
    try:
        sp_config = SPConfig().load(copy.deepcopy(config))
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises anything from network errors to XML parse errors
        raise IdPUnavailable(f"cannot load the IdP's metadata: {type(exc).__name__}: {exc}") from exc
    with _loaded_lock:
        _loaded.clear()  # one configuration is in use at a time
        _loaded[key] = (time.monotonic(), sp_config)
    return sp_config


# --- who gets in -----------------------------------------------------------------------------------------------
def groups_of(attributes: dict) -> list[str]:
    return [str(g) for g in attributes.get(GROUPS_ATTRIBUTE, [])]


def is_member(attributes: dict) -> bool:
    # Exact match: "t5g-team-old" or "xt5g-team" is another group.
    return settings.SAML_MEMBER_GROUP in groups_of(attributes)


class SamlBackend(Saml2Backend):
    """Admits members of SAML_MEMBER_GROUP; SAML_ADMIN_GROUP makes staff and superusers."""

    def is_authorized(
        self, attributes: dict, attribute_mapping: dict, idp_entityid: str, assertion_info: dict, **kwargs
    ):
        return is_member(attributes)

    def _update_user(self, user, attributes: dict, attribute_mapping: dict, force_save: bool = False):
        admin = settings.SAML_ADMIN_GROUP in groups_of(attributes)
        # The IdP is the authority on both: losing the group takes the rights away at the next sign-in.
        changed = set_attribute(user, "is_staff", admin)
        changed = set_attribute(user, "is_superuser", admin) or changed
        user = super()._update_user(user, attributes, attribute_mapping, force_save=force_save or changed)
        Profile.objects.update_or_create(
            user=user, defaults={"saml_attributes": attributes, "groups": groups_of(attributes)}
        )
        return user


# --- views ---------------------------------------------------------------------------------------------------
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
                raise NotInGroup(settings.SAML_MEMBER_GROUP)
            raise PermissionDenied("no user could be signed in")
        auth.login(request, user)
        saml_views._set_subject_id(request.saml_session, session_info["name_id"])
        return user

    def handle_acs_failure(self, request, exception=None, status=403, **kwargs):
        if not request.user.is_authenticated:
            request.saml_session.flush()  # nothing of a refused sign-in stays
        group = settings.SAML_MEMBER_GROUP if isinstance(exception, NotInGroup) else None
        if group:
            logger.warning("Sign-in refused: the account is not in the group %s", group)
        return render(request, "t5g/saml_refused.html", {"group": group}, status=status)


class SloView(saml_views.LogoutInitView):
    """djangosaml2's single logout, started by the nav's POST form."""

    def post(self, request, *args, **kwargs):
        return self.get(request, *args, **kwargs)


_login = saml_views.LoginView.as_view()
_acs = AcsView.as_view()
_slo = SloView.as_view()
_logout_service = saml_views.LogoutView.as_view()


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


@login_not_required
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin signs in like every page does (the admin's own password form would bypass SAML)."""
    if request.user.is_authenticated:
        if request.user.is_staff:
            return redirect("admin:index")
        # Sending a signed-in non-administrator to sign in again would loop back here.
        return render(request, "t5g/saml_refused.html", {"admin_group": settings.SAML_ADMIN_GROUP}, status=403)
    return redirect_to_login(request.GET.get("next") or "/admin/", settings.LOGIN_URL)


# Under /saml2/ (t5g/urls.py); the names are djangosaml2's own.
urlpatterns = [
    path("login/", saml_login, name="saml2_login"),
    path("acs/", acs, name="saml2_acs"),
    path("ls/", logout_service, name="saml2_ls"),
    path("ls/post/", logout_service, name="saml2_ls_post"),
    path("metadata/", metadata, name="saml2_metadata"),
    path("not-configured/", not_configured, name="saml_not_configured"),
    path("signed-out/", signed_out, name="saml_signed_out"),
]
