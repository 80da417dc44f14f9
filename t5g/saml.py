"""SAML single sign-on (djangosaml2 + pysaml2): the service provider's configuration, the backend
that admits the team's members, and the sign-in and sign-out views (routed under /saml2/).

The configuration is built from settings on first use, never at import: pysaml2 fetches the IdP's
metadata when a configuration loads, and an IdP that is down must not stop start-up or the health
check, only sign-in (which then says so).

Who is who: a SAML user is bound to the IdP's stable id for the person (SAML_ATTRIBUTE_ID, kept on
their Profile), never found by user name, so an IdP user can never become a local account that has
the same name. Accounts with a usable password (break-glass, `createsuperuser`) are out of SAML's
reach, and SAML users never get one.
"""

from __future__ import annotations

import base64
import copy
import fcntl
import hashlib
import json
import logging
import re
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
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from djangosaml2 import views as saml_views
from djangosaml2.backends import Saml2Backend
from djangosaml2.utils import get_location
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.request import LogoutRequest
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from .models import Profile
from .signals import membership_ended

logger = logging.getLogger(__name__)

XMLSEC_BINARY = "/usr/bin/xmlsec1"
NAME_ID = "NameID"  # the SAML_ATTRIBUTE_ID that means the persistent NameID rather than an attribute
CLOCK_SKEW = 60  # seconds of clock difference with the IdP accepted on assertion times
METADATA_TIMEOUT = 10  # seconds, fetching the IdP's metadata
CONFIG_TTL = 600  # seconds a loaded configuration (with the IdP's metadata, so its keys) is reused


class IdPUnavailable(Exception):
    """The IdP's metadata could not be loaded: sign-in cannot start or finish now."""


class NotInGroup(PermissionDenied):
    """A user the IdP vouched for who is in none of the member groups."""


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
        # Attributes under names in no pysaml2 attribute map (the company IdP's Name="rhatUUID" and
        # Name="memberOf", NameFormat basic) are kept under those names rather than dropped.
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "name": "T5G",
                **_name_id_policy(),
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
                "logout_responses_signed": True,
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
            }
        },
    }


def _name_id_policy() -> dict:
    """With the NameID as the id, ask for a persistent one: the IdP's default is often transient (new each time)."""
    if settings.SAML_ATTRIBUTE_ID != NAME_ID:
        return {}
    return {
        "name_id_policy_format": NAMEID_FORMAT_PERSISTENT,
        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
        "name_id_format_allow_create": True,
    }


# --- the IdP's signing key, pinned ---------------------------------------------------------------------
def _der(text: str) -> bytes:
    """A certificate's DER bytes from PEM or bare base64, as metadata and PEM files carry it."""
    body = "".join(line for line in text.splitlines() if not line.startswith("-----"))
    return base64.b64decode("".join(body.split()))


def pinned_certificates() -> frozenset[bytes]:
    """SAML_IDP_CERT_FILE's certificates (DER); empty when none is pinned."""
    if not settings.SAML_IDP_CERT_FILE:
        return frozenset()
    try:
        pem = Path(settings.SAML_IDP_CERT_FILE).read_text()
    except OSError as exc:
        raise IdPUnavailable(f"cannot read SAML_IDP_CERT_FILE: {exc}") from exc
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", pem, re.S)
    if not blocks:
        raise IdPUnavailable("no certificate in SAML_IDP_CERT_FILE")
    return frozenset(_der(block) for block in blocks)


def check_pinned(sp_config: SPConfig, pinned: frozenset[bytes]) -> None:
    """Every signing key the IdP's metadata names must be pinned: pysaml2 trusts a signature by any of them, so
    one key added by whoever could alter the metadata would be enough to sign anyone in."""
    if not pinned:
        return
    for entity_id in sp_config.metadata.identity_providers():
        named = {_der(cert) for _, cert in sp_config.metadata.certs(entity_id, "any", "signing")}
        if not named or not named <= pinned:
            raise IdPUnavailable(f"the signing key in {entity_id}'s metadata is not the one in SAML_IDP_CERT_FILE")


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
    pinned = pinned_certificates()
    key = json.dumps([config, sorted(hashlib.sha256(c).hexdigest() for c in pinned)], sort_keys=True)
    with _loaded_lock:
        loaded = _loaded.get(key)
    if loaded and time.monotonic() - loaded[0] < CONFIG_TTL:
        return loaded[1]
    try:
        sp_config = SPConfig().load(copy.deepcopy(config))
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises anything from network errors to XML parse errors
        raise IdPUnavailable(f"cannot load the IdP's metadata: {type(exc).__name__}: {exc}") from exc
    check_pinned(sp_config, pinned)
    with _loaded_lock:
        _loaded.clear()  # one configuration is in use at a time
        _loaded[key] = (time.monotonic(), sp_config)
    return sp_config


# --- groups -----------------------------------------------------------------------------------------------------
RDN = tuple[tuple[str, str], ...]  # one part of a DN: its (type, value) pairs, sorted, types lower-case
_ATTRIBUTE_TYPE = re.compile(r"[a-z][a-z0-9-]*|[0-9]+(?:\.[0-9]+)*")
_HEX_PAIR = re.compile(r"[0-9A-Fa-f]{2}")
_TYPE_ALIASES = {"commonname": "cn", "2.5.4.3": "cn"}


def parse_dn(text: str) -> tuple[RDN, ...] | None:
    """An LDAP DN (RFC 4514: cn=t5g-team,ou=groups,dc=example,dc=com) as its RDNs, the group's own first;
    None when `text` is not one (a plain group name)."""
    rdns: list[RDN] = []
    pairs: list[tuple[str, str]] = []
    kind: str | None = None
    value = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if kind is None:  # reading a type, up to its "="
            if char == "=":
                kind = value.decode().strip().lower()
                kind = _TYPE_ALIASES.get(kind, kind)
                value.clear()
                if not _ATTRIBUTE_TYPE.fullmatch(kind):
                    return None
            elif char in ',+"\\':
                return None
            else:
                value += char.encode()
        elif char == "\\":  # an escaped character, or two hex digits for a byte of UTF-8
            if _HEX_PAIR.fullmatch(text[i + 1 : i + 3]):
                value.append(int(text[i + 1 : i + 3], 16))
                i += 2
            elif i + 1 < len(text):
                value += text[i + 1].encode()
                i += 1
            else:
                return None
        elif char in ",+":
            if not _add_pair(pairs, kind, value):
                return None
            kind = None
            if char == ",":
                rdns.append(tuple(sorted(pairs)))
                pairs = []
        else:
            value += char.encode()
        i += 1
    if kind is None or not _add_pair(pairs, kind, value):
        return None
    rdns.append(tuple(sorted(pairs)))
    return tuple(rdns)


def _add_pair(pairs: list[tuple[str, str]], kind: str, value: bytearray) -> bool:
    try:
        text = value.decode().strip()
    except UnicodeDecodeError:
        return False
    value.clear()
    pairs.append((kind, text))
    return bool(text)


def group_matches(value: str, wanted: str) -> bool:
    """The IdP's group `value` is the group `wanted`: the same text, or a DN whose own part is cn=`wanted`
    (cn=t5g-team,ou=groups,... is t5g-team), or the same DN. Never a part of a name: cn=t5g-team-old and
    cn=alumni,ou=t5g-team are other groups."""
    if value == wanted:
        return True
    dn = parse_dn(value)
    if dn is None:
        return False
    wanted_dn = parse_dn(wanted)
    if wanted_dn is not None:
        return dn == wanted_dn
    return dn[0] == (("cn", wanted),)


def group_name(value: str) -> str:
    """A group as people name it: a DN's cn, any other value as it is."""
    dn = parse_dn(value)
    if dn is not None and len(dn[0]) == 1 and dn[0][0][0] == "cn":
        return dn[0][0][1]
    return value


def groups_of(attributes: dict) -> list[str]:
    return [str(g) for g in attributes.get(settings.SAML_ATTRIBUTE_GROUPS, [])]


def in_groups(attributes: dict, wanted: list[str]) -> bool:
    return any(group_matches(value, group) for value in groups_of(attributes) for group in wanted)


def is_member(attributes: dict) -> bool:
    return in_groups(attributes, settings.SAML_MEMBER_GROUPS)


def is_admin(attributes: dict) -> bool:
    return in_groups(attributes, settings.SAML_ADMIN_GROUPS)


# --- who is who ---------------------------------------------------------------------------------------------------
SUBJECT_LENGTH = Profile._meta.get_field("saml_subject").max_length


def subject_of(session_info: dict) -> str | None:
    """The IdP's stable id for the person signing in (SAML_ATTRIBUTE_ID), or None when its answer has none."""
    if settings.SAML_ATTRIBUTE_ID == NAME_ID:
        name_id = session_info.get("name_id")
        # A transient NameID is new at every sign-in, and an e-mail address can pass to someone else.
        if name_id is None or name_id.format != NAMEID_FORMAT_PERSISTENT:
            return None
        subject = (name_id.text or "").strip()
    else:
        values = session_info.get("ava", {}).get(settings.SAML_ATTRIBUTE_ID) or []
        if len(values) != 1:  # none, or an ambiguous several
            return None
        subject = str(values[0]).strip()
    return subject if 0 < len(subject) <= SUBJECT_LENGTH else None


def first_value(attributes: dict, name: str) -> str:
    values = attributes.get(name) if name else None
    return str(values[0]).strip() if values else ""


def free_username(wanted: str, *, user_pk: int | None = None) -> str:
    """`wanted`, or `wanted`+saml, +saml2, ... when another account has it: a SAML user never takes a name over."""
    User = auth.get_user_model()
    base = wanted[: User._meta.get_field("username").max_length - 10]
    others = User.objects.exclude(pk=user_pk) if user_pk else User.objects.all()
    candidate, n = base, 1
    while others.filter(username=candidate).exists():
        candidate = f"{base}+saml{n if n > 1 else ''}"
        n += 1
    return candidate


def earlier_saml_user(attributes: dict) -> AbstractBaseUser | None:
    """The account an earlier T5G (which found users by user name) made at this person's SAML sign-in, when
    binding it is safe: it has the profile that sign-in made, is bound to no one, and has no usable password
    (so it was never a break-glass account)."""
    username = first_value(attributes, settings.SAML_ATTRIBUTE_USERNAME)
    if not username:
        return None
    User = auth.get_user_model()
    user = User.objects.filter(username=username, profile__isnull=False, profile__saml_subject__isnull=True).first()
    return None if user is None or user.has_usable_password() else user


def bound_user(subject: str, attributes: dict, *, create: bool) -> AbstractBaseUser | None:
    """The user bound to `subject`; else an earlier SAML user bound now, or a new user."""
    profile = Profile.objects.select_related("user").filter(saml_subject=subject).first()
    if profile is not None:
        return profile.user
    try:
        with transaction.atomic():
            user = earlier_saml_user(attributes)
            if user is None:
                if not create:
                    return None
                username = first_value(attributes, settings.SAML_ATTRIBUTE_USERNAME) or "user"
                user = auth.get_user_model()(username=free_username(username))
                user.set_unusable_password()
                user.save()
            Profile.objects.update_or_create(user=user, defaults={"saml_subject": subject})
    except IntegrityError:  # a sign-in alongside this one bound the subject (or took the name) first
        profile = Profile.objects.select_related("user").filter(saml_subject=subject).first()
        return profile.user if profile else None
    return user


def update_user(user: AbstractBaseUser, attributes: dict) -> None:
    """The IdP is the authority on a SAML user's name, e-mail and rights: set from its answer at every sign-in
    (losing the admin group takes the rights away)."""
    wanted = first_value(attributes, settings.SAML_ATTRIBUTE_USERNAME)
    if wanted and user.username != wanted and not user.username.startswith(f"{wanted}+saml"):
        user.username = free_username(wanted, user_pk=user.pk)
    for field, attribute in (
        ("email", settings.SAML_ATTRIBUTE_EMAIL),
        ("first_name", settings.SAML_ATTRIBUTE_FIRST_NAME),
        ("last_name", settings.SAML_ATTRIBUTE_LAST_NAME),
    ):
        if value := first_value(attributes, attribute):
            setattr(user, field, value[: user._meta.get_field(field).max_length])
    user.is_staff = user.is_superuser = is_admin(attributes)
    user.is_active = True
    user.save()
    profile = user.profile
    profile.saml_attributes = attributes
    profile.groups = [group_name(g) for g in groups_of(attributes)]
    profile.membership_ended_at = None
    profile.save()


def end_membership(subject: str) -> None:
    """The person left the member groups: their user is made inactive, which ends their sessions at their next
    request, and the apps are told (membership_ended: the api app revokes their tokens)."""
    profile = Profile.objects.select_related("user").filter(saml_subject=subject).first()
    if profile is None:
        return  # never signed in: nothing to end
    user = profile.user
    if user.has_usable_password():
        logger.warning("User #%s is bound to an IdP id but has a password: SAML leaves it alone", user.pk)
        return
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        # Only a user this made inactive comes back as a member: one an administrator made inactive stays so.
        profile.membership_ended_at = timezone.now()
        profile.save(update_fields=["membership_ended_at", "updated_at"])
        logger.warning("User #%s made inactive: no longer in the member groups", user.pk)
    membership_ended.send(sender=SamlBackend, user=user)


class SamlBackend(Saml2Backend):
    """Signs members of SAML_MEMBER_GROUPS in as the user bound to their IdP id; SAML_ADMIN_GROUPS makes staff
    and superusers. djangosaml2's own lookup (a user by user name) is never used."""

    def authenticate(
        self, request, session_info=None, attribute_mapping=None, create_unknown_user=True, assertion_info=None, **kw
    ):
        if not session_info or "ava" not in session_info:
            return None  # a password sign-in: ModelBackend's
        attributes = session_info["ava"]
        subject = subject_of(session_info)
        if subject is None:
            logger.warning("Sign-in refused: the IdP's answer has no single %s", _subject_description())
            return None
        if not is_member(attributes):
            end_membership(subject)
            return None
        user = bound_user(subject, attributes, create=create_unknown_user)
        if user is None:
            return None
        if user.has_usable_password():
            # Break-glass accounts are out of SAML's reach, even one bound by hand.
            logger.warning("Sign-in refused: user #%s has a password, and SAML signs in to no such account", user.pk)
            return None
        if not user.is_active and user.profile.membership_ended_at is None:
            logger.warning("Sign-in refused: user #%s was made inactive by an administrator", user.pk)
            return None
        update_user(user, attributes)
        return user


def _subject_description() -> str:
    if settings.SAML_ATTRIBUTE_ID == NAME_ID:
        return "persistent NameID"
    return f"{settings.SAML_ATTRIBUTE_ID} attribute (SAML_ATTRIBUTE_ID)"


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


@login_not_required
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin signs in like every page does (the admin's own password form would bypass SAML)."""
    if request.user.is_authenticated:
        if request.user.is_staff:
            return redirect("admin:index")
        # Sending a signed-in non-administrator to sign in again would loop back here.
        return render(request, "t5g/saml_refused.html", {"admin_groups": settings.SAML_ADMIN_GROUPS}, status=403)
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
