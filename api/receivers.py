"""What the API does when the core tells it something (t5g.signals)."""

from __future__ import annotations

from .services import revoke_tokens


def end_membership(sender, *, user, **kwargs) -> None:
    """membership_ended: every API token of the user stops working now (revoked, still listed with its last use)."""
    revoke_tokens(users=[user], by="the end of their membership (a sign-in refused for groups)")
