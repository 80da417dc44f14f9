"""Signals the core sends for the apps to act on, without the core knowing them (it imports no app).

membership_ended(sender, user): the identity provider no longer counts `user` among the members (a SAML
sign-in was refused for their groups); the core has made them inactive. Receivers take away what
outlives a session: the api app revokes their tokens (api/apps.py).
"""

from django.dispatch import Signal

membership_ended = Signal()
