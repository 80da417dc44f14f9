"""Sign in to T5G through the sandbox IdP as a browser would, and bend what the IdP answers.

T5G runs under Django's test client at http://testserver (which the IdP cannot fetch, so our
metadata is registered with it); the IdP is the real sandbox process, driven with `requests`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from html import escape
from urllib.parse import urljoin
from xml.etree import ElementTree

import requests

from tests.forms import read_form

SITE = "http://testserver"
ACS = f"{SITE}/saml2/acs/"
NS = {
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
}
GROUPS_OID = "urn:oid:1.3.6.1.4.1.5923.1.5.1.1"  # isMemberOf, the eduperson shape's groups
GROUPS_NAMES = (GROUPS_OID, "memberOf")  # the attribute's Name in either of the sandbox IdP's shapes


def register_sp(client, sandbox) -> None:
    """Give the IdP our metadata: it cannot fetch http://testserver/saml2/metadata/ itself."""
    metadata = client.get("/saml2/metadata/")
    assert metadata.status_code == 200, metadata.content[:500]
    answer = requests.post(f"{sandbox.url}/idp/_sps", data=metadata.content, timeout=30)
    assert answer.status_code == 201, answer.text


def open_idp_login(client, *, next_url: str | None = None) -> tuple[requests.Session, requests.Response]:
    """/saml2/login/ sends the browser to the IdP with an AuthnRequest: the IdP's login form."""
    started = client.get("/saml2/login/", {"next": next_url} if next_url else {})
    assert started.status_code == 302, started.content[:500]
    browser = requests.Session()
    page = browser.get(started["Location"], timeout=30)
    assert page.status_code == 200, page.text
    return browser, page


def idp_response(client, username: str, *, next_url: str | None = None, fault: str | None = None) -> dict[str, str]:
    """Sign in at the IdP; the SAMLResponse and RelayState its auto-submitting page would post to us."""
    browser, page = open_idp_login(client, next_url=next_url)
    action, fields = read_form(page.text, "login")
    data = {**fields, "username": username, "password": username}
    if fault:
        data["_fault"] = fault  # the sandbox's test-only knob (sandbox/idp.py)
    answer = browser.post(urljoin(page.url, action), data=data, timeout=30)
    assert answer.status_code == 200, answer.text
    action, fields = read_form(answer.text, "saml-post")
    assert action == ACS
    return fields


def sign_in(client, username: str, **kwargs):
    """The whole round trip: our answer to the IdP's POST to the ACS."""
    return client.post("/saml2/acs/", idp_response(client, username, **kwargs))


# --- bending a signed response ----------------------------------------------------------------------------
# Edits are made on the XML text, never by parsing and writing it again: re-serialising alone
# (other namespace prefixes, a dropped xmlns:xs) could break a signature, and an attack test
# must fail for the edit it makes and nothing else.
def decode(fields: dict[str, str]) -> str:
    return base64.b64decode(fields["SAMLResponse"]).decode()


def parse(fields: dict[str, str]) -> ElementTree.Element:
    return ElementTree.fromstring(base64.b64decode(fields["SAMLResponse"]))


def edited(fields: dict[str, str], edit: Callable[[str], str]) -> dict[str, str]:
    xml = decode(fields)
    changed = edit(xml)
    assert changed != xml, "the edit changed nothing"
    return {**fields, "SAMLResponse": base64.b64encode(changed.encode()).decode()}


def _sub(pattern: str, replacement, xml: str, *, count: int = 1) -> str:
    xml, n = re.subn(pattern, replacement, xml, flags=re.S)
    assert n == count, f"{pattern!r} matched {n} times, expected {count}"
    return xml


def strip_signatures(xml: str) -> str:
    """Both signatures gone (the Response's and the Assertion's), all else as the IdP signed it."""
    return _sub(r"<(\w+:)?Signature\b.*?</\1Signature>", "", xml, count=2)


def set_name_id(text: str) -> Callable[[str], str]:
    return lambda xml: _sub(r"(<(\w+:)?NameID\b[^>]*>)[^<]*(</\2NameID>)", rf"\g<1>{escape(text)}\g<3>", xml)


def set_groups(*groups: str) -> Callable[[str], str]:
    """The groups attribute's values (isMemberOf or memberOf) replaced by `groups`."""

    def values(match: re.Match) -> str:
        first = re.search(r"(<(\w+:)?AttributeValue\b[^>]*>)[^<]*(</\2AttributeValue>)", match[2])
        return match[1] + "".join(f"{first[1]}{escape(g)}{first[3]}" for g in groups) + match[3]

    names = "|".join(GROUPS_NAMES)
    attribute = rf'(<(?:\w+:)?Attribute\b[^>]*\bName="(?:{names})"[^>]*>)(.*?)(</(?:\w+:)?Attribute>)'
    return lambda xml: _sub(attribute, values, xml)
