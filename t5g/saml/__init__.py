"""SAML single sign-on (djangosaml2 + pysaml2), routed under /saml2/:

- config.py    the service provider's configuration and key pair, the IdP's metadata (https or a pinned
               signing certificate), built on first use, never at import: an IdP that is down must not stop
               start-up or the health check, only sign-in (which then says so)
- groups.py    who is a member or an administrator: group values matched exactly or as the cn of a DN
- identity.py  who is who: a SAML user is bound to the IdP's stable id for the person (SAML_ATTRIBUTE_ID, kept
               on their Profile), never found by user name, so an IdP user can never become a local account
               that has the same name; accounts with a usable password (break-glass, `createsuperuser`) are
               out of SAML's reach, and SAML users never get one; the authentication backend
- views.py     sign-in, the assertion consumer, single logout (signed requests only), metadata, sign-out,
               the break-glass and admin sign-in pages; urls.py routes them
"""
