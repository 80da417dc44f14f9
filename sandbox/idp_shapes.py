"""The two attribute shapes the sandbox IdP speaks, and the T5G settings that read each.

  company    the company IdP's: attributes under plain names (NameFormat basic); the stable id is
             `rhatUUID`; groups arrive as DNs in `memberOf` (cn=t5g-team,ou=groups,dc=example,dc=com)
  eduperson  attributes under urn:oid names (NameFormat uri); groups arrive as names in `isMemberOf`;
             no id attribute: the stable id is the persistent NameID

`python -m sandbox --idp-shape` picks one at start, POST /_sandbox/idp switches it, and
`environment(url, idp_shape=...)` gives T5G the settings that read it. Nothing here loads pysaml2:
`python -m sandbox env` imports it.
"""

from __future__ import annotations

COMPANY = "company"
EDUPERSON = "eduperson"
SHAPES = (COMPANY, EDUPERSON)
DEFAULT = COMPANY

# T5G's settings for each shape (its own defaults are the company's: said anyway, so a reader sees them).
SETTINGS: dict[str, dict[str, str]] = {
    COMPANY: {
        "SAML_ATTRIBUTE_ID": "rhatUUID",
        "SAML_ATTRIBUTE_USERNAME": "uid",
        "SAML_ATTRIBUTE_EMAIL": "mail",
        "SAML_ATTRIBUTE_FIRST_NAME": "givenName",
        "SAML_ATTRIBUTE_LAST_NAME": "sn",
        "SAML_ATTRIBUTE_GROUPS": "memberOf",
    },
    EDUPERSON: {
        "SAML_ATTRIBUTE_ID": "NameID",
        "SAML_ATTRIBUTE_USERNAME": "uid",
        "SAML_ATTRIBUTE_EMAIL": "mail",
        "SAML_ATTRIBUTE_FIRST_NAME": "givenName",
        "SAML_ATTRIBUTE_LAST_NAME": "sn",
        "SAML_ATTRIBUTE_GROUPS": "isMemberOf",
    },
}


def group_dn(name: str) -> str:
    """Where the company directory keeps a group."""
    return f"cn={name},ou=groups,dc=example,dc=com"
