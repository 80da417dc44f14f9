"""A SAML 2.0 identity provider under /idp, built on pysaml2's `saml2.server.Server`.

The entity id is the metadata URL on the host the request came to, e.g.
http://127.0.0.1:8800/idp/metadata/ (one pysaml2 Server per host, all sharing one key).

  GET  /idp/metadata/      metadata: signing certificate, SSO (Redirect, POST) and SLO (Redirect) endpoints
  GET  /idp/sso/redirect   AuthnRequest over HTTP-Redirect -> login form
  POST /idp/sso/redirect   the login form (still carrying the Redirect-encoded request) -> signed Response
  POST /idp/sso/post       AuthnRequest over HTTP-POST -> login form; with username/password -> signed Response
  GET  /idp/slo/redirect   LogoutRequest -> signed LogoutResponse to the SP's SLO URL ("signed out" page without one)
  POST /idp/_sps           register SP metadata (the XML is the body); GET lists the SPs the IdP knows

Responses go by HTTP-POST (an auto-submitting form) to an ACS URL from the SP's metadata; the
Response and the Assertion are both signed (RSA-SHA256, SHA-256 digests), the audience is the SP,
NotOnOrAfter is five minutes ahead. An SP not registered is looked up at its entity id when that
is an http(s) URL on loopback (cached for a minute). AuthnRequests may be unsigned unless the SP's
metadata says AuthnRequestsSigned="true"; a signature that is present is always verified.

Two attribute shapes (sandbox/idp_shapes.py): "company" (plain names, rhatUUID, groups as memberOf DNs)
and "eduperson" (urn:oid names, groups as isMemberOf names), picked with `--idp-shape` and switched with
POST /_sandbox/idp.

  POST /idp/_logout        {"uid": ...[, "sp": entity id]}: the signed LogoutRequests (HTTP-Redirect URLs) that
                           sign that user out of every SP (or that one) they signed in to here, as a sign-out at
                           the IdP would send them

Test faults: the login form may carry `_fault` (never shown in the form, so a browser never sends it)
to get a correctly signed Response that an SP must still refuse: "expired" (NotOnOrAfter ten minutes
ago), "audience" (issued to another SP's entity id) or "unsolicited" (no InResponseTo, as an
IdP-initiated sign-in).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
import time
import uuid
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

import requests
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, SAMLError, samlp
from saml2.assertion import Policy
from saml2.attribute_converter import ac_factory
from saml2.config import IdPConfig
from saml2.mdstore import InMemoryMetaData
from saml2.metadata import entity_descriptor
from saml2.request import AuthnRequest, LogoutRequest
from saml2.saml import (
    AUTHN_PASSWORD_PROTECTED,
    NAME_FORMAT_BASIC,
    NAME_FORMAT_URI,
    NAMEID_FORMAT_EMAILADDRESS,
    NAMEID_FORMAT_PERSISTENT,
    NAMEID_FORMAT_TRANSIENT,
    NAMEID_FORMAT_UNSPECIFIED,
    NameID,
)
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from . import idp_shapes
from .http import Request, Response, Router, html_response, json_response, redirect
from .idp_files import idp_files
from .world import World

router = Router("/idp")

XMLSEC_BINARY = "/usr/bin/xmlsec1"
ASSERTION_LIFETIME = {"minutes": 5}
CLOCK_SKEW = 60  # seconds of IssueInstant slack accepted on requests
FETCH_TIMEOUT = 5  # seconds, fetching an SP's metadata from its entity id
FETCH_TTL = 60  # seconds a fetched SP metadata is trusted before it is fetched again
MAX_HOSTS = 16  # pysaml2 servers kept (one per Host header)
NAME_ID_FORMATS = [
    NAMEID_FORMAT_TRANSIENT,
    NAMEID_FORMAT_PERSISTENT,
    NAMEID_FORMAT_EMAILADDRESS,
    NAMEID_FORMAT_UNSPECIFIED,
]
MAIL_DOMAIN = "example.com"
# The signing and digest algorithms the IdP uses, the only ones its metadata advertises.
ALGORITHMS = {SIG_RSA_SHA256, DIGEST_SHA256}
# How each shape names its attributes on the wire (the converters are in idp_files.ATTRIBUTE_MAP_SOURCE).
NAME_FORMS = {idp_shapes.COMPANY: NAME_FORMAT_BASIC, idp_shapes.EDUPERSON: NAME_FORMAT_URI}
# rhatUUID values: stable per user name, across sandbox restarts.
UUID_NAMESPACE = uuid.UUID("5f1d8a36-4c3e-4f0e-9a52-7d1c2b6e9f10")


@dataclass(frozen=True)
class DemoUser:
    """A sandbox user; the password is the user name."""

    uid: str
    given_name: str
    surname: str
    groups: tuple[str, ...]
    # The company shape's memberOf DNs, when they are not simply idp_shapes.group_dn of each group.
    group_dns: tuple[str, ...] = ()

    @property
    def password(self) -> str:
        return self.uid

    @property
    def mail(self) -> str:
        return f"{self.uid}@{MAIL_DOMAIN}"

    @property
    def rhat_uuid(self) -> str:
        return str(uuid.uuid5(UUID_NAMESPACE, self.uid))

    def identity(self, shape: str = idp_shapes.EDUPERSON) -> dict[str, list[str]]:
        """Attributes by local name; how they go out depends on the shape (see idp_files.ATTRIBUTE_MAP_SOURCE)."""
        person = {
            "uid": [self.uid],
            "mail": [self.mail],
            "givenName": [self.given_name],
            "sn": [self.surname],
            "cn": [f"{self.given_name} {self.surname}"],
        }
        if shape == idp_shapes.COMPANY:
            dns = self.group_dns or tuple(idp_shapes.group_dn(g) for g in self.groups)
            return {"rhatUUID": [self.rhat_uuid], **person, "memberOf": list(dns)}
        return {**person, "groups": list(self.groups)}


USERS = {
    user.uid: user
    for user in (
        DemoUser("member", "Mia", "Member", ("t5g-team",)),
        DemoUser("admin", "Ada", "Admin", ("t5g-team", "t5g-admins")),
        DemoUser("outsider", "Otto", "Outsider", ("other-team",)),
        # Left the team: every group of theirs has "t5g-team" in it, none is it (a substring match admits them).
        DemoUser(
            "leaver",
            "Lee",
            "Leaver",
            ("t5g-team-old", "xt5g-team"),
            ("cn=t5g-team-old,ou=groups,dc=example,dc=com", "cn=alumni,ou=t5g-team,dc=example,dc=com"),
        ),
    )
}


class Refused(Exception):
    """A SAML message the IdP will not act on; the browser gets a 400 page saying why."""


@dataclass
class KnownSP:
    entity_id: str
    metadata: InMemoryMetaData  # holding this SP only
    source: str  # "registered" (POST /idp/_sps) or "fetched" (from its entity id)
    at: float  # time.monotonic() when it was stored

    @property
    def descriptors(self) -> list[dict]:
        return self.metadata[self.entity_id]["spsso_descriptor"]

    @property
    def wants_signed_requests(self) -> bool:
        return any(str(d.get("authn_requests_signed", "")).lower() in ("true", "1") for d in self.descriptors)

    def services(self, name: str) -> list[dict]:
        return [{"binding": s["binding"], "location": s["location"]} for d in self.descriptors for s in d.get(name, [])]


class SandboxIdP:
    """The IdP's state: one pysaml2 Server per host, the SPs it knows, the sessions it issued."""

    def __init__(self):
        self.servers: OrderedDict[str, Server] = OrderedDict()
        self.metadata_xml: dict[str, bytes] = {}
        self.sps: dict[str, KnownSP] = {}
        self.sessions: dict[str, tuple[str, str, NameID]] = {}  # NameID text -> (uid, SP entity id, NameID)
        self.shape = idp_shapes.DEFAULT
        self._attribute_converters = None

    @property
    def attribute_converters(self):
        if self._attribute_converters is None:
            self._attribute_converters = ac_factory(str(idp_files().attribute_map_dir))
        return self._attribute_converters

    # --- one pysaml2 Server per host -----------------------------------------------------------
    def server(self, base: str) -> Server:
        server = self.servers.get(base)
        if server is None:
            config = IdPConfig().load(_config(base))
            # Server.setup_assertion reads the converters in the "idp" context, where load() does not put
            # them; without this, requested attributes are matched by pysaml2's default names and an SP
            # asking for "groups" (isMemberOf) would get nothing.
            config.setattr("idp", "attribute_converters", config.attribute_converters)
            server = Server(config=config)
            for sp in self.sps.values():
                _install(server, sp)
            self.servers[base] = server
            while len(self.servers) > MAX_HOSTS:
                old_base, _ = self.servers.popitem(last=False)
                self.metadata_xml.pop(old_base, None)
        return server

    def metadata(self, base: str) -> bytes:
        if base not in self.metadata_xml:
            descriptor = entity_descriptor(self.server(base).config)
            if descriptor.extensions:  # advertise the algorithms used, not every one xmlsec1 knows
                descriptor.extensions.extension_elements = [
                    e for e in descriptor.extensions.extension_elements if e.attributes.get("Algorithm") in ALGORITHMS
                ]
            self.metadata_xml[base] = str(descriptor).encode()
        return self.metadata_xml[base]

    # --- service providers -------------------------------------------------------------------------
    def register(self, xml: str, source: str = "registered", only: str | None = None) -> list[str]:
        """Store the SPs of a metadata document (an EntityDescriptor or EntitiesDescriptor)."""
        parsed = InMemoryMetaData(self.attribute_converters, xml)
        try:
            parsed.load()
        except Exception as exc:  # noqa: BLE001 - pysaml2 raises anything on bad XML; the caller answers 400
            raise ValueError(f"not SAML metadata: {exc}") from exc
        entity_ids = [e for e in parsed.keys() if "spsso_descriptor" in parsed[e] and only in (None, e)]
        if not entity_ids:
            raise ValueError("no SP (SPSSODescriptor)" + (f" with entity id {only}" if only else "") + " in it")
        for entity_id in entity_ids:
            single = InMemoryMetaData(self.attribute_converters)
            single[entity_id] = parsed[entity_id]
            sp = self.sps[entity_id] = KnownSP(entity_id, single, source, time.monotonic())
            for server in self.servers.values():
                _install(server, sp)
        return entity_ids

    def sp(self, world: World, entity_id: str) -> KnownSP:
        """The SP's metadata, fetched from its entity id when it is on loopback and not registered."""
        known = self.sps.get(entity_id)
        if known and (known.source == "registered" or time.monotonic() - known.at < FETCH_TTL):
            return known
        if _is_loopback_url(entity_id):
            xml = _fetch(world, entity_id)
            if xml:
                try:
                    self.register(xml, "fetched", only=entity_id)
                except ValueError:
                    pass
                else:
                    return self.sps[entity_id]
        if known:
            return known  # stale, but the SP did not answer: keep what we had
        raise Refused(
            f"Unknown service provider {entity_id!r}: register its metadata with POST /idp/_sps, "
            "or serve it at its entity id on a loopback http(s) URL."
        )


IDP = SandboxIdP()


def _config(base: str) -> dict:
    files = idp_files()
    return {
        "entityid": f"{base}/idp/metadata/",
        "name": "T5G sandbox IdP",
        "description": "The sandbox's SAML identity provider (demo users only)",
        "xmlsec_binary": XMLSEC_BINARY,
        "key_file": str(files.key_file),
        "cert_file": str(files.cert_file),
        "attribute_map_dir": str(files.attribute_map_dir),
        "metadata": {},  # SPs are added as they register or are fetched
        "accepted_time_diff": CLOCK_SKEW,
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "service": {
            "idp": {
                "name": "T5G sandbox IdP",
                "endpoints": {
                    "single_sign_on_service": [
                        (f"{base}/idp/sso/redirect", BINDING_HTTP_REDIRECT),
                        (f"{base}/idp/sso/post", BINDING_HTTP_POST),
                    ],
                    "single_logout_service": [(f"{base}/idp/slo/redirect", BINDING_HTTP_REDIRECT)],
                },
                "name_id_format": NAME_ID_FORMATS,
                "want_authn_requests_signed": False,  # per SP instead: its AuthnRequestsSigned
                "sign_response": True,
                "sign_assertion": True,
                "policy": {
                    "default": {
                        "lifetime": ASSERTION_LIFETIME,
                        "name_form": NAME_FORMAT_URI,
                        "attribute_restrictions": None,
                    }
                },
            }
        },
    }


def _install(server: Server, sp: KnownSP) -> None:
    server.metadata.metadata[f"sp {sp.entity_id}"] = sp.metadata


def _is_loopback_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


@contextmanager
def _released(lock):
    """Let other sandbox requests run while this one waits on the network.

    The SP answering our fetch may itself be calling the sandbox (a djangosaml2 SP loading this
    IdP's metadata, say); holding the world lock meanwhile would deadlock the two.
    """
    try:
        lock.release()
    except RuntimeError:  # not held: called outside a handler
        held = False
    else:
        held = True
    try:
        yield
    finally:
        if held:
            lock.acquire()


def _fetch(world: World, url: str) -> str | None:
    with _released(world.lock):
        try:
            response = requests.get(url, timeout=FETCH_TIMEOUT, allow_redirects=False)
        except requests.RequestException:
            return None
    return response.text if response.status_code == 200 else None


_HOST = re.compile(r"^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$")


def _base_url(request: Request) -> str | None:
    host = request.headers.get("host", "127.0.0.1").strip().lower()
    return f"http://{host}" if _HOST.match(host) else None


# --- reading requests ---------------------------------------------------------------------------------
def _load_request(world, server, request_cls, from_string, service, binding, params):
    """Decode, check the signature of and validate an AuthnRequest or LogoutRequest.

    The signature is required when the SP's metadata says AuthnRequestsSigned="true" and is
    verified whenever it is present (embedded, or SigAlg/Signature with HTTP-Redirect).
    """
    kind = request_cls.__name__
    encoded = params.get("SAMLRequest")
    if not encoded:
        raise Refused(f"No SAMLRequest: start from the application, which sends a {kind} here.")
    try:
        xml = server.unravel(encoded, binding, request_cls.msgtype)
        message = from_string(xml)
    except Exception as exc:  # noqa: BLE001 - anything a browser sends must end in a 400 page
        raise Refused(f"The SAMLRequest could not be decoded as a {kind}: {exc}") from exc
    if message is None or message.issuer is None or not (message.issuer.text or "").strip():
        raise Refused(f"The SAMLRequest is not a {kind} with an Issuer.")
    sp = IDP.sp(world, message.issuer.text.strip())
    signature = params.get("Signature") if binding == BINDING_HTTP_REDIRECT else None
    must = sp.wants_signed_requests or signature is not None
    receivers = server.config.endpoint(service, binding, "idp")
    loaded = request_cls(server.sec, receivers, server.config.attribute_converters, timeslack=CLOCK_SKEW)
    try:
        loaded = loaded.loads(
            xml,
            binding,
            origdoc=encoded,
            must=must,
            relay_state=params.get("RelayState"),
            sigalg=params.get("SigAlg") if binding == BINDING_HTTP_REDIRECT else None,
            signature=signature,
        )
        valid = loaded.verify()
    except Exception as exc:  # noqa: BLE001 - pysaml2's refusals are of many types
        raise Refused(f"The {kind} from {sp.entity_id} was refused: {type(exc).__name__}: {exc}") from exc
    if not valid:
        raise Refused(f"The {kind} was issued too long ago or in the future.")
    return sp, loaded.message


def _params(request: Request) -> dict[str, str]:
    if request.method == "POST":
        return request.form()
    return {k: v[-1] for k, v in request.query.items()}


# --- single sign-on ------------------------------------------------------------------------------------
AUTHN = {"class_ref": AUTHN_PASSWORD_PROTECTED}


def _sso(request: Request, world: World, binding: str) -> Response:
    base = _base_url(request)
    if base is None:
        return _page("Bad request", "<p>The Host header is not a host name.</p>", 400)
    params = _params(request)
    server = IDP.server(base)
    try:
        sp, message = _load_request(
            world, server, AuthnRequest, samlp.authn_request_from_string, "single_sign_on_service", binding, params
        )
        name_id_format = _name_id_format(message)
        try:
            response_args = server.response_args(message, [BINDING_HTTP_POST])
        except SAMLError as exc:
            raise Refused(
                f"No HTTP-POST assertion consumer service of {sp.entity_id} matches the request "
                f"({message.assertion_consumer_service_url or message.assertion_consumer_service_index}): {exc}"
            ) from exc
    except Refused as exc:
        return _page("Sign-in refused", f"<p>{escape(str(exc))}</p>", 400)

    # Carried through the login form as received: an empty RelayState is part of a Redirect signature.
    carried = {k: params[k] for k in ("SAMLRequest", "RelayState", "SigAlg", "Signature") if k in params}
    if request.method != "POST" or "username" not in params:
        return _login_page(request.path, carried, sp.entity_id)
    username = params["username"].strip()
    user = USERS.get(username)
    password = params.get("password", "")
    if user is None or not hmac.compare_digest(password.encode(), user.password.encode()):
        return _login_page(request.path, carried, sp.entity_id, username, "Wrong username or password.", 401)

    name_id = _name_id(name_id_format, user, sp.entity_id, server.config.entityid)
    authn = {**AUTHN, "authn_auth": server.config.entityid}
    try:
        faulted = _faulted(server, response_args, params.get("_fault"))
    except Refused as exc:
        return _page("Bad request", f"<p>{escape(str(exc))}</p>", 400)
    response = server.create_authn_response(
        user.identity(IDP.shape),
        userid=user.uid,
        name_id=name_id,
        authn=authn,
        sign_response=True,
        sign_assertion=True,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
        **faulted,
    )
    IDP.sessions[name_id.text] = (user.uid, sp.entity_id, name_id)
    fields = {"SAMLResponse": base64.b64encode(str(response).encode()).decode(), "RelayState": params.get("RelayState")}
    return _post_page(response_args["destination"], fields)


# The audience of the "audience" fault: an SP the IdP knows (pysaml2 looks it up), registered on first use.
OTHER_SP = "https://another-sp.example/saml2/metadata/"
OTHER_SP_METADATA = f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{OTHER_SP}">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:AssertionConsumerService Binding="{BINDING_HTTP_POST}" Location="https://another-sp.example/saml2/acs/" index="1"/>
</md:SPSSODescriptor></md:EntityDescriptor>"""


def _faulted(server: Server, response_args: dict, fault: str | None) -> dict:
    """The arguments of create_authn_response in the current shape, bent by a test fault (see the module docstring)."""
    args = {**response_args, "release_policy": _policy(server)}
    if not fault:
        return args
    if fault == "expired":
        return {**args, "release_policy": _policy(server, lifetime={"minutes": -10})}
    if fault == "audience":
        if OTHER_SP not in IDP.sps:
            IDP.register(OTHER_SP_METADATA)
        return {**args, "sp_entity_id": OTHER_SP}
    if fault == "unsolicited":
        return {**args, "in_response_to": None}
    raise Refused(f"Unknown _fault {fault!r}: expected expired, audience or unsolicited.")


def _policy(server: Server, lifetime: dict = ASSERTION_LIFETIME) -> Policy:
    """What is released and how: every attribute, under the current shape's name format."""
    rules = {"lifetime": lifetime, "name_form": NAME_FORMS[IDP.shape], "attribute_restrictions": None}
    return Policy({"default": rules}, mds=server.metadata)


def _name_id_format(message) -> str:
    policy = message.name_id_policy
    name_format = policy.format if policy is not None and policy.format else NAMEID_FORMAT_TRANSIENT
    if name_format not in NAME_ID_FORMATS:
        raise Refused(f"NameIDPolicy Format {name_format} is not supported; use one of {', '.join(NAME_ID_FORMATS)}.")
    return name_format


def _name_id(name_format: str, user: DemoUser, sp_entity_id: str, idp_entity_id: str) -> NameID:
    if name_format == NAMEID_FORMAT_TRANSIENT:
        text = "_" + secrets.token_hex(16)
    elif name_format == NAMEID_FORMAT_PERSISTENT:  # stable per user and SP, across sandbox restarts
        text = hashlib.sha256(f"t5g-sandbox-idp|{sp_entity_id}|{user.uid}".encode()).hexdigest()
    elif name_format == NAMEID_FORMAT_EMAILADDRESS:
        text = user.mail
    else:
        text = user.uid
    return NameID(format=name_format, name_qualifier=idp_entity_id, sp_name_qualifier=sp_entity_id, text=text)


@router.route("GET", "/sso/redirect")
def sso_redirect(request: Request, world: World):
    return _sso(request, world, BINDING_HTTP_REDIRECT)


@router.route("POST", "/sso/redirect")
def sso_redirect_login(request: Request, world: World):
    return _sso(request, world, BINDING_HTTP_REDIRECT)


@router.route("POST", "/sso/post")
def sso_post(request: Request, world: World):
    return _sso(request, world, BINDING_HTTP_POST)


# --- single logout --------------------------------------------------------------------------------------
@router.route("GET", "/slo/redirect")
def slo_redirect(request: Request, world: World):
    base = _base_url(request)
    if base is None:
        return _page("Bad request", "<p>The Host header is not a host name.</p>", 400)
    params = _params(request)
    if "SAMLResponse" in params and "SAMLRequest" not in params:
        return _signed_out_page()  # this IdP starts no logout, so any answer is just acknowledged
    server = IDP.server(base)
    try:
        sp, message = _load_request(
            world, server, LogoutRequest, samlp.logout_request_from_string, "single_logout_service",
            BINDING_HTTP_REDIRECT, params,
        )  # fmt: skip
    except Refused as exc:
        return _page("Sign-out refused", f"<p>{escape(str(exc))}</p>", 400)
    if message.name_id is not None and message.name_id.text:
        IDP.sessions.pop(message.name_id.text, None)
    if not any(
        s["binding"] in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST) for s in sp.services("single_logout_service")
    ):
        return _signed_out_page()  # the SP has no single logout service to answer to
    try:
        binding, destination = server.pick_binding(
            "single_logout_service", [BINDING_HTTP_REDIRECT, BINDING_HTTP_POST], "spsso", entity_id=sp.entity_id
        )
    except SAMLError:
        return _signed_out_page()  # the SP has no single logout service to answer to
    relay_state = params.get("RelayState") or ""
    response = server.create_logout_response(
        message, [binding], sign=binding == BINDING_HTTP_POST, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
    )
    if binding == BINDING_HTTP_REDIRECT:  # signed in the query string (SigAlg, Signature), as the binding says
        info = server.apply_binding(
            binding, str(response), destination, relay_state, response=True, sign=True, sigalg=SIG_RSA_SHA256
        )
        return redirect(dict(info["headers"])["Location"])
    fields = {"SAMLResponse": base64.b64encode(str(response).encode()).decode(), "RelayState": relay_state}
    return _post_page(destination, fields, "Signing out")


@router.route("POST", "/_logout")
def logout_everywhere(request: Request, world: World):
    """The signed LogoutRequests a sign-out at the IdP sends to each SP the user signed in to."""
    base = _base_url(request)
    try:
        body = request.json()
    except ValueError:
        body = None
    uid, only = (body.get("uid"), body.get("sp")) if isinstance(body, dict) else (None, None)
    if base is None or not isinstance(uid, str):
        return json_response({"error": 'expected {"uid": "..."}, and "sp": an entity id to sign out there only'}, 400)
    server = IDP.server(base)
    urls = []
    for text, (user, entity_id, name_id) in list(IDP.sessions.items()):
        if user != uid or only not in (None, entity_id) or entity_id not in IDP.sps:
            continue
        services = IDP.sps[entity_id].services("single_logout_service")
        destination = next((s["location"] for s in services if s["binding"] == BINDING_HTTP_REDIRECT), None)
        if destination is None:
            continue
        logout_request = server.create_logout_request(
            destination, issuer_entity_id=entity_id, name_id=name_id, sign=False
        )[1]
        info = server.apply_binding(
            BINDING_HTTP_REDIRECT, str(logout_request), destination, "", sign=True, sigalg=SIG_RSA_SHA256
        )
        urls.append(dict(info["headers"])["Location"])
        del IDP.sessions[text]
    return {"logout_requests": urls}


# --- metadata and the control surface ---------------------------------------------------------------------
@router.route("GET", "/metadata")
def metadata(request: Request, world: World):
    base = _base_url(request)
    if base is None:
        return json_response({"error": "the Host header is not a host name"}, 400)
    return Response(200, IDP.metadata(base), "application/samlmetadata+xml")


@router.route("POST", "/_sps")
def register_sp(request: Request, world: World):
    try:
        entity_ids = IDP.register(request.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return json_response({"error": f"expected SP metadata XML as the body: {exc}"}, 400)
    return json_response({"registered": entity_ids}, 201)


@router.route("GET", "/_sps")
def list_sps(request: Request, world: World):
    return [
        {
            "entity_id": sp.entity_id,
            "source": sp.source,
            "authn_requests_signed": sp.wants_signed_requests,
            "assertion_consumer_services": sp.services("assertion_consumer_service"),
            "single_logout_services": sp.services("single_logout_service"),
        }
        for sp in IDP.sps.values()
    ]


# --- pages ------------------------------------------------------------------------------------------------------
STYLE = (
    "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}"
    "main{max-width:24rem;margin:4rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;"
    "box-shadow:0 1px 4px rgba(0,0,0,.15)}"
    "label{display:block;margin:.75rem 0}input{display:block;width:100%;box-sizing:border-box;padding:.4rem}"
    "button{margin-top:1rem;padding:.5rem 1.25rem}.error{color:#b00020}.hint{color:#555;font-size:.85rem}"
    "code{word-break:break-all}"
)


def _page(title: str, body: str, status: int = 200) -> Response:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style></head>'
        f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return html_response(html, status, {"Cache-Control": "no-store"})


def _hidden(fields: dict[str, str | None]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items() if v is not None
    )


def _login_page(
    action: str, carried: dict, sp_entity_id: str, username: str = "", error: str = "", status: int = 200
) -> Response:
    alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    users = ", ".join(f"<code>{escape(u)}</code>" for u in USERS)
    body = (
        f"<p>to <code>{escape(sp_entity_id)}</code></p>{alert}"
        f'<form id="login" method="post" action="{escape(action)}">'
        f'<label>Username <input name="username" value="{escape(username)}" autocomplete="username" required autofocus>'
        "</label>"
        '<label>Password <input type="password" name="password" autocomplete="current-password" required></label>'
        f'{_hidden(carried)}<button type="submit">Sign in</button></form>'
        f'<p class="hint">Sandbox users: {users}; each one\'s password is its name.</p>'
    )
    return _page("Sign in", body, status)


def _post_page(action: str, fields: dict[str, str | None], title: str = "Signing in") -> Response:
    """The HTTP-POST binding: a form the browser submits by itself to the SP."""
    body = (
        f"<p>Returning you to the application…</p>"
        f'<form id="saml-post" method="post" action="{escape(action)}">'
        f'{_hidden(fields)}<noscript><button type="submit">Continue</button></noscript></form>'
        '<script>document.getElementById("saml-post").submit()</script>'
    )
    return _page(title, body)


def _signed_out_page() -> Response:
    return _page("Signed out", "<p>You are signed out of the sandbox IdP.</p>")
