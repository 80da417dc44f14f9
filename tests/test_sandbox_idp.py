"""The sandbox's SAML IdP, driven over HTTP by a real pysaml2 service provider.

Each test makes its own SP (its own key, certificate and entity id), registers its metadata with
POST /idp/_sps (or serves it at its entity id), and plays the browser with `requests`. Tests of what a
sign-in carries run against both of the IdP's attribute shapes (sandbox/idp_shapes.py).
"""

import base64
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit
from xml.etree import ElementTree

import pytest
import requests
from cryptography import x509
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.s_utils import decode_base64_and_inflate
from saml2.samlp import STATUS_SUCCESS, logout_request_from_string
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from sandbox import idp_shapes
from t5g.saml.config import write_key_pair
from tests.forms import read_form

XMLSEC = "/usr/bin/xmlsec1"
NS = {
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
}
GROUPS_OID = "urn:oid:1.3.6.1.4.1.5923.1.5.1.1"
# What an SP needs to read the IdP's isMemberOf attribute as "groups": pysaml2's urn:oid map with
# that one name changed. T5G's SAML config needs the same map (attribute_map_dir).
SP_ATTRIBUTE_MAP = """import saml2.attributemaps.saml_uri as _saml_uri

GROUPS_OID = "urn:oid:1.3.6.1.4.1.5923.1.5.1.1"

MAP = {
    "identifier": _saml_uri.MAP["identifier"],
    "fro": {**_saml_uri.MAP["fro"], GROUPS_OID: "groups"},
    "to": {**_saml_uri.MAP["to"], "groups": GROUPS_OID},
}
"""
EXPECTED = {
    "member": {
        "uid": ["member"],
        "mail": ["member@example.com"],
        "givenName": ["Mia"],
        "sn": ["Member"],
        "cn": ["Mia Member"],
        "groups": ["t5g-team"],
    },
    "admin": {
        "uid": ["admin"],
        "mail": ["admin@example.com"],
        "givenName": ["Ada"],
        "sn": ["Admin"],
        "cn": ["Ada Admin"],
        "groups": ["t5g-team", "t5g-admins"],
    },
    "outsider": {
        "uid": ["outsider"],
        "mail": ["outsider@example.com"],
        "givenName": ["Otto"],
        "sn": ["Outsider"],
        "cn": ["Otto Outsider"],
        "groups": ["other-team"],
    },
    "leaver": {
        "uid": ["leaver"],
        "mail": ["leaver@example.com"],
        "givenName": ["Lee"],
        "sn": ["Leaver"],
        "cn": ["Lee Leaver"],
        "groups": ["t5g-team-old", "xt5g-team"],
    },
}
# The company shape: the same person under plain names, with a stable rhatUUID and groups as memberOf DNs.
RHAT_UUIDS = {
    "member": "e03ed5d7-178f-58e3-a910-9cb6fb493d3d",
    "admin": "35748808-cc60-5415-a003-56ebc7bea325",
    "outsider": "76a2bdf2-aa6b-5888-9fbb-ba7c22e6eb5b",
    "leaver": "2c32c68c-b98e-5395-8515-e22bf3613a10",
}
MEMBER_OF = {
    "member": ["cn=t5g-team,ou=groups,dc=example,dc=com"],
    "admin": ["cn=t5g-team,ou=groups,dc=example,dc=com", "cn=t5g-admins,ou=groups,dc=example,dc=com"],
    "outsider": ["cn=other-team,ou=groups,dc=example,dc=com"],
    "leaver": ["cn=t5g-team-old,ou=groups,dc=example,dc=com", "cn=alumni,ou=t5g-team,dc=example,dc=com"],
}
NAME_FORMAT_BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"


def expected(shape: str, username: str) -> dict[str, list[str]]:
    """What an SP reads from `username`'s sign-in with the IdP speaking `shape`."""
    if shape == idp_shapes.EDUPERSON:
        return EXPECTED[username]
    person = {k: v for k, v in EXPECTED[username].items() if k != "groups"}
    return {"rhatUUID": [RHAT_UUIDS[username]], **person, "memberOf": MEMBER_OF[username]}


def groups_attribute(shape: str) -> str:
    return "groups" if shape == idp_shapes.EDUPERSON else "memberOf"


@pytest.fixture(params=idp_shapes.SHAPES)
def shape(request, sandbox) -> str:
    """The shared sandbox's IdP speaking each shape in turn, and the default again afterwards."""
    sandbox.idp_shape(request.param)
    yield request.param
    sandbox.idp_shape(idp_shapes.DEFAULT)


only_eduperson = pytest.mark.parametrize("shape", [idp_shapes.EDUPERSON], indirect=True)
only_company = pytest.mark.parametrize("shape", [idp_shapes.COMPANY], indirect=True)


# --- a service provider ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def attribute_map_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("attributemaps")
    (directory / "t5g_test_sp_attributes.py").write_text(SP_ATTRIBUTE_MAP)
    return directory


@dataclass
class SP:
    client: Saml2Client
    entity_id: str
    acs: str
    slo: str | None
    idp_entity_id: str

    def metadata(self) -> bytes:
        return create_metadata_string(None, config=self.client.config, sign=False)

    def idp_certificate(self) -> str:
        return self.client.metadata.certs(self.idp_entity_id, "idpsso", "signing")[0][1]


def make_sp(
    sandbox,
    directory: Path,
    *,
    name: str = "sp",
    entity_id: str | None = None,
    acs: str | None = None,
    slo: bool = True,
    sign_requests: bool = False,
    attribute_map_dir: Path | None = None,
    required: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
    register: bool = True,
) -> SP:
    host = f"https://{name}-{secrets.token_hex(4)}.example"
    entity_id = entity_id or f"{host}/saml2/metadata/"
    acs = acs or f"{host}/saml2/acs/"
    slo_url = f"{host}/saml2/ls/" if slo else None
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.crt"
    write_key_pair(key_file=key_file, cert_file=cert_file, common_name=name)
    endpoints = {"assertion_consumer_service": [(acs, BINDING_HTTP_POST)]}
    if slo_url:
        endpoints["single_logout_service"] = [(slo_url, BINDING_HTTP_REDIRECT)]
    config = {
        "entityid": entity_id,
        "xmlsec_binary": XMLSEC,
        "key_file": str(key_file),
        "cert_file": str(cert_file),
        "metadata": {"remote": [{"url": f"{sandbox.url}/idp/metadata/"}]},
        # The company shape's plain attribute names (NameFormat basic) are in no attribute map: keep them as named.
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "name": name,
                "endpoints": endpoints,
                "want_response_signed": True,
                "want_assertions_signed": True,
                "authn_requests_signed": sign_requests,
                "logout_requests_signed": True,
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "allow_unsolicited": False,
                "required_attributes": list(required),
                "optional_attributes": list(optional),
            }
        },
    }
    if attribute_map_dir:
        config["attribute_map_dir"] = str(attribute_map_dir)
    sp = SP(Saml2Client(SPConfig().load(config)), entity_id, acs, slo_url, f"{sandbox.url}/idp/metadata/")
    if register:
        answer = requests.post(f"{sandbox.url}/idp/_sps", data=sp.metadata(), timeout=30)
        assert answer.status_code == 201, answer.text
        assert answer.json() == {"registered": [entity_id]}
    return sp


@pytest.fixture
def sp(sandbox, tmp_path, attribute_map_dir) -> SP:
    return make_sp(sandbox, tmp_path, name="sp-a", attribute_map_dir=attribute_map_dir)


# --- a browser ------------------------------------------------------------------------------------------
def open_login_form(sp: SP, *, binding=BINDING_HTTP_REDIRECT, relay_state="/cases/?sev=1", **kwargs):
    """The SP sends the browser to the IdP: the IdP answers with its login form."""
    request_id, info = sp.client.prepare_for_authenticate(
        entityid=sp.idp_entity_id, relay_state=relay_state, binding=binding, **kwargs
    )
    browser = requests.Session()
    if binding == BINDING_HTTP_REDIRECT:
        page = browser.get(dict(info["headers"])["Location"], timeout=30)
    else:
        action, fields = read_form(info["data"])
        page = browser.post(action, data=fields, timeout=30)
    return request_id, browser, page


def submit_login(browser, page, username: str, password: str) -> requests.Response:
    action, fields = read_form(page.text, "login")
    return browser.post(
        urljoin(page.url, action), data={**fields, "username": username, "password": password}, timeout=30
    )


def sign_in(sp: SP, username: str, password: str | None = None, **kwargs):
    """Log in at the IdP; returns the request id and the SAMLResponse/RelayState the browser would post."""
    request_id, browser, page = open_login_form(sp, **kwargs)
    assert page.status_code == 200, page.text
    answer = submit_login(browser, page, username, username if password is None else password)
    assert answer.status_code == 200, answer.text
    action, fields = read_form(answer.text, "saml-post")
    assert action == sp.acs
    return request_id, fields


def consume(sp: SP, request_id: str, fields: dict):
    return sp.client.parse_authn_request_response(
        fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={request_id: fields.get("RelayState", "/")}
    )


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# --- metadata ------------------------------------------------------------------------------------------------
def test_it_publishes_metadata_with_its_url_as_entity_id_and_a_signing_certificate(sandbox):
    answer = requests.get(f"{sandbox.url}/idp/metadata/", timeout=30)
    assert answer.status_code == 200
    root = ElementTree.fromstring(answer.content)
    assert root.get("entityID") == f"{sandbox.url}/idp/metadata/"
    idp = root.find("md:IDPSSODescriptor", NS)
    assert idp.get("WantAuthnRequestsSigned") == "false"
    cert = idp.find("md:KeyDescriptor[@use='signing']/ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS).text
    x509.load_der_x509_certificate(base64.b64decode(cert))  # a real certificate
    sso = {(s.get("Binding"), s.get("Location")) for s in idp.findall("md:SingleSignOnService", NS)}
    assert sso == {
        (BINDING_HTTP_REDIRECT, f"{sandbox.url}/idp/sso/redirect"),
        (BINDING_HTTP_POST, f"{sandbox.url}/idp/sso/post"),
    }
    slo = [(s.get("Binding"), s.get("Location")) for s in idp.findall("md:SingleLogoutService", NS)]
    assert slo == [(BINDING_HTTP_REDIRECT, f"{sandbox.url}/idp/slo/redirect")]

    # Another host name for the same sandbox: another entity id, the same key (one per process).
    port = urlsplit(sandbox.url).port
    other = ElementTree.fromstring(requests.get(f"http://localhost:{port}/idp/metadata/", timeout=30).content)
    assert other.get("entityID") == f"http://localhost:{port}/idp/metadata/"
    assert other.find(".//ds:X509Certificate", NS).text == cert


# --- single sign-on ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ["member", "admin", "outsider", "leaver"])
def test_it_signs_in_each_demo_user_with_a_signed_response_carrying_their_attributes(sp, shape, username):
    request_id, fields = sign_in(sp, username)
    assert fields["RelayState"] == "/cases/?sev=1"

    response = consume(sp, request_id, fields)

    assert response.ava == expected(shape, username)
    assert response.in_response_to == request_id
    assertion = response.assertion
    assert assertion.conditions.audience_restriction[0].audience[0].text == sp.entity_id
    not_on_or_after = parse_time(assertion.conditions.not_on_or_after)
    assert timedelta(minutes=3) < not_on_or_after - datetime.now(UTC) <= timedelta(minutes=6)
    confirmation = assertion.subject.subject_confirmation[0].subject_confirmation_data
    assert confirmation.in_response_to == request_id
    assert confirmation.recipient == sp.acs
    # The Response and the Assertion each carry their own RSA-SHA256 signature with SHA-256 digests.
    xml = ElementTree.fromstring(base64.b64decode(fields["SAMLResponse"]))
    for signed in (xml, xml.find("saml:Assertion", NS)):
        signature = signed.find("ds:Signature", NS)
        assert signature.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm") == SIG_RSA_SHA256
        assert signature.find("ds:SignedInfo/ds:Reference/ds:DigestMethod", NS).get("Algorithm") == DIGEST_SHA256
    attributes = list(xml.iter(f"{{{NS['saml']}}}Attribute"))
    if shape == idp_shapes.EDUPERSON:
        # Attributes travel under urn:oid names, with friendly names.
        names = {a.get("FriendlyName"): a.get("Name") for a in attributes}
        assert names["uid"] == "urn:oid:0.9.2342.19200300.100.1.1"
        assert names["groups"] == GROUPS_OID
    else:
        # As the company IdP sends them: under their own names, NameFormat basic.
        assert {a.get("Name") for a in attributes} == set(expected(shape, username))
        assert {a.get("NameFormat") for a in attributes} == {NAME_FORMAT_BASIC}


def test_it_signs_in_over_the_post_binding(sp, shape):
    request_id, fields = sign_in(sp, "admin", binding=BINDING_HTTP_POST)
    groups = groups_attribute(shape)
    assert consume(sp, request_id, fields).ava[groups] == expected(shape, "admin")[groups]


@only_company
def test_it_gives_each_user_the_same_rhat_uuid_at_every_sign_in(sp, shape):
    seen = set()
    for username in ("member", "member", "admin"):
        request_id, fields = sign_in(sp, username)
        seen.add((username, consume(sp, request_id, fields).ava["rhatUUID"][0]))
    assert seen == {("member", RHAT_UUIDS["member"]), ("admin", RHAT_UUIDS["admin"])}


@pytest.mark.parametrize(("username", "password"), [("member", "admin"), ("member", ""), ("nobody", "nobody")])
def test_it_issues_no_response_on_a_wrong_password(sp, username, password):
    _, browser, page = open_login_form(sp)

    answer = submit_login(browser, page, username, password)

    assert answer.status_code == 401
    assert "Wrong username or password" in answer.text
    assert "SAMLResponse" not in answer.text
    _, fields = read_form(answer.text, "login")  # the form again, still carrying the request
    assert fields["username"] == username and fields["SAMLRequest"]


def test_it_sends_a_transient_name_id_unless_the_sp_asks_for_another_format(sp):
    request_id, fields = sign_in(sp, "member")
    transient = consume(sp, request_id, fields).name_id
    assert transient.format == "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"

    persistent = []
    for _ in range(2):
        request_id, fields = sign_in(sp, "member", nameid_format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
        persistent.append(consume(sp, request_id, fields).name_id.text)
    assert persistent[0] == persistent[1] != transient.text

    email = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
    request_id, fields = sign_in(sp, "member", nameid_format=email)
    assert consume(sp, request_id, fields).name_id.text == "member@example.com"


@only_eduperson
def test_it_sends_groups_as_is_member_of_to_an_sp_with_pysaml2s_default_attribute_maps(sandbox, shape, tmp_path):
    sp = make_sp(sandbox, tmp_path, name="default-maps")

    request_id, fields = sign_in(sp, "admin")

    ava = consume(sp, request_id, fields).ava
    assert ava["isMemberOf"] == ["t5g-team", "t5g-admins"]
    assert {k: ava[k] for k in ("uid", "mail", "givenName", "sn", "cn")} == {
        k: EXPECTED["admin"][k] for k in ("uid", "mail", "givenName", "sn", "cn")
    }


@only_eduperson  # SPs declare attributes by urn:oid name; the company shape has none
def test_it_sends_only_the_attributes_an_sp_declares(sandbox, shape, tmp_path, attribute_map_dir):
    sp = make_sp(
        sandbox, tmp_path, name="picky", attribute_map_dir=attribute_map_dir, required=("uid",), optional=("groups",)
    )

    request_id, fields = sign_in(sp, "member")

    assert consume(sp, request_id, fields).ava == {"uid": ["member"], "groups": ["t5g-team"]}


def test_it_refuses_a_response_for_another_sp_by_its_audience(sandbox, tmp_path, attribute_map_dir):
    sp_a = make_sp(sandbox, tmp_path, name="sp-a", attribute_map_dir=attribute_map_dir)
    # SP B even shares A's ACS URL and expects A's request id: only the audience tells them apart.
    sp_b = make_sp(sandbox, tmp_path, name="sp-b", acs=sp_a.acs, attribute_map_dir=attribute_map_dir)
    request_id, fields = sign_in(sp_a, "member")

    with pytest.raises(Exception, match="AudienceRestrictions"):
        consume(sp_b, request_id, fields)
    assert consume(sp_a, request_id, fields).ava["uid"] == ["member"]


def test_it_refuses_an_acs_url_not_in_the_sp_metadata(sp):
    _, _, page = open_login_form(sp, assertion_consumer_service_url="https://attacker.example/saml2/acs/")

    assert page.status_code == 400
    assert "assertion consumer service" in page.text
    assert 'id="login"' not in page.text


def test_it_refuses_a_request_from_an_unknown_sp(sandbox, tmp_path):
    sp = make_sp(sandbox, tmp_path, name="unregistered", register=False)

    _, _, page = open_login_form(sp)

    assert page.status_code == 400
    assert "Unknown service provider" in page.text


def test_it_fetches_the_metadata_of_an_unregistered_sp_from_its_loopback_entity_id(
    sandbox, shape, tmp_path, attribute_map_dir
):
    served: list[str] = []

    class Metadata(BaseHTTPRequestHandler):
        def do_GET(self):
            served.append(self.path)
            # Like a djangosaml2 SP loading the IdP's metadata while it builds its own: the sandbox
            # must keep answering while it waits for this one.
            assert requests.get(f"{sandbox.url}/idp/metadata/", timeout=10).status_code == 200
            body = sp.metadata() if self.path == "/saml2/metadata/" else b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/samlmetadata+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Metadata)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        sp = make_sp(
            sandbox,
            tmp_path,
            name="loopback",
            entity_id=f"{base}/saml2/metadata/",
            acs=f"{base}/saml2/acs/",
            attribute_map_dir=attribute_map_dir,
            register=False,
        )
        for username in ("member", "outsider"):
            request_id, fields = sign_in(sp, username)
            assert consume(sp, request_id, fields).ava == expected(shape, username)
    finally:
        server.shutdown()
        server.server_close()

    assert served == ["/saml2/metadata/"]  # fetched once, then cached
    known = {s["entity_id"]: s for s in requests.get(f"{sandbox.url}/idp/_sps", timeout=30).json()}
    assert known[sp.entity_id]["source"] == "fetched"
    assert known[sp.entity_id]["assertion_consumer_services"] == [{"binding": BINDING_HTTP_POST, "location": sp.acs}]


def test_it_verifies_the_signature_of_requests_from_an_sp_that_signs_them(sandbox, tmp_path, attribute_map_dir):
    sp = make_sp(sandbox, tmp_path, name="signer", sign_requests=True, attribute_map_dir=attribute_map_dir)
    assert b'AuthnRequestsSigned="true"' in sp.metadata()

    request_id, fields = sign_in(sp, "member")  # the login form carries SigAlg and Signature along
    assert consume(sp, request_id, fields).ava["uid"] == ["member"]

    _, info = sp.client.prepare_for_authenticate(entityid=sp.idp_entity_id, relay_state="/")
    location = dict(info["headers"])["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["SigAlg"] == [SIG_RSA_SHA256]
    unsigned = requests.get(
        location.split("?")[0], params={"SAMLRequest": query["SAMLRequest"][0], "RelayState": "/"}, timeout=30
    )
    assert unsigned.status_code == 400
    tampered = requests.get(location.split("?")[0], params={**query, "RelayState": "/elsewhere"}, timeout=30)
    assert tampered.status_code == 400
    assert "IncorrectlySigned" in tampered.text


# --- single logout ----------------------------------------------------------------------------------------------
def test_it_answers_a_logout_request_with_a_signed_logout_response(sp):
    request_id, fields = sign_in(sp, "member")
    name_id = consume(sp, request_id, fields).name_id
    (binding, info), *_ = sp.client.global_logout(name_id).values()
    assert binding == BINDING_HTTP_REDIRECT
    logout_request = dict(info["headers"])["Location"]
    assert logout_request.startswith(f"{sp.idp_entity_id.removesuffix('/idp/metadata/')}/idp/slo/redirect?")

    answer = requests.get(logout_request, allow_redirects=False, timeout=30)

    assert answer.status_code in (302, 303)
    location = answer.headers["Location"]
    assert location.startswith(f"{sp.slo}?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["SigAlg"] == SIG_RSA_SHA256
    assert verify_redirect_signature(query, sp.client.sec.sec_backend, cert=sp.idp_certificate())
    logout_response = sp.client.parse_logout_request_response(query["SAMLResponse"], BINDING_HTTP_REDIRECT)
    assert logout_response.response.status.status_code.value == STATUS_SUCCESS
    sent = logout_request_from_string(
        decode_base64_and_inflate(parse_qs(urlsplit(logout_request).query)["SAMLRequest"][0])
    )
    assert logout_response.in_response_to == sent.id
    assert logout_response.response.issuer.text == sp.idp_entity_id


def test_it_refuses_a_logout_request_with_a_bad_signature(sp):
    request_id, fields = sign_in(sp, "member")
    name_id = consume(sp, request_id, fields).name_id
    (_, info), *_ = sp.client.global_logout(name_id).values()
    url, query = dict(info["headers"])["Location"].split("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    params["Signature"] = base64.b64encode(secrets.token_bytes(256)).decode()

    answer = requests.get(url, params=params, allow_redirects=False, timeout=30)

    assert answer.status_code == 400
    assert "Location" not in answer.headers


def test_it_sends_a_signed_logout_request_to_each_sp_a_user_signed_in_to_when_they_sign_out_at_the_idp(sandbox, sp):
    request_id, fields = sign_in(sp, "member")
    name_id = consume(sp, request_id, fields).name_id

    answer = requests.post(f"{sandbox.url}/idp/_logout", json={"uid": "member", "sp": sp.entity_id}, timeout=30)

    assert answer.status_code == 200
    (location,) = answer.json()["logout_requests"]
    assert location.startswith(f"{sp.slo}?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["SigAlg"] == SIG_RSA_SHA256
    assert verify_redirect_signature(query, sp.client.sec.sec_backend, cert=sp.idp_certificate())
    sent = logout_request_from_string(decode_base64_and_inflate(query["SAMLRequest"]))
    assert sent.name_id == name_id
    assert sent.issuer.text == sp.idp_entity_id
    # Signed out at the IdP: nothing more to send.
    again = requests.post(f"{sandbox.url}/idp/_logout", json={"uid": "member", "sp": sp.entity_id}, timeout=30)
    assert again.json() == {"logout_requests": []}


def test_it_switches_its_attribute_shape_on_request(sandbox):
    assert requests.get(f"{sandbox.url}/_sandbox/idp", timeout=10).json()["shape"] == idp_shapes.DEFAULT

    refused = requests.post(f"{sandbox.url}/_sandbox/idp", json={"shape": "ldif"}, timeout=10)

    assert refused.status_code == 400
    assert requests.get(f"{sandbox.url}/_sandbox/idp", timeout=10).json()["shape"] == idp_shapes.DEFAULT


def test_it_signs_out_an_sp_without_a_logout_service_with_a_page(sandbox, tmp_path, attribute_map_dir):
    sp = make_sp(sandbox, tmp_path, name="no-slo", slo=False, attribute_map_dir=attribute_map_dir)
    request_id, fields = sign_in(sp, "member")
    name_id = consume(sp, request_id, fields).name_id
    (_, info), *_ = sp.client.global_logout(name_id).values()

    answer = requests.get(dict(info["headers"])["Location"], allow_redirects=False, timeout=30)

    assert answer.status_code == 200
    assert "signed out" in answer.text


# --- registration ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [b"not xml", b"<html/>", b'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>'],
)
def test_it_refuses_to_register_what_is_not_sp_metadata(sandbox, body):
    answer = requests.post(f"{sandbox.url}/idp/_sps", data=body, timeout=30)

    assert answer.status_code == 400
    assert "SP metadata" in answer.json()["error"]
