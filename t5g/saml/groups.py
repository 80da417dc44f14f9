"""Who is a member or an administrator: the IdP's group values (SAML_ATTRIBUTE_GROUPS: names, or DNs as in
`memberOf`) matched against SAML_MEMBER_GROUPS and SAML_ADMIN_GROUPS exactly, or as the cn of a DN; never a
substring.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings

logger = logging.getLogger(__name__)


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
