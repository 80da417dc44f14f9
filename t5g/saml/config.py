"""The service provider's configuration (djangosaml2's SAML_CONFIG_LOADER), its key pair, and the IdP's
metadata: over https or loopback, or with its signing key pinned (SAML_IDP_CERT_FILE).
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
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.http import HttpRequest
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

logger = logging.getLogger(__name__)


XMLSEC_BINARY = "/usr/bin/xmlsec1"
NAME_ID = "NameID"  # the SAML_ATTRIBUTE_ID that means the persistent NameID rather than an attribute
CLOCK_SKEW = 60  # seconds of clock difference with the IdP accepted on assertion times
METADATA_TIMEOUT = 10  # seconds, fetching the IdP's metadata
CONFIG_TTL = 600  # seconds a loaded configuration (with the IdP's metadata, so its keys) is reused


class IdPUnavailable(Exception):
    """The IdP's metadata could not be loaded: sign-in cannot start or finish now."""


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
