"""What the API does when the core tells it something (t5g.signals)."""

from __future__ import annotations

import logging

from .models import ApiToken

logger = logging.getLogger(__name__)


def revoke_tokens(sender, *, user, **kwargs) -> None:
    """membership_ended: every API token of the user stops working now, not at their next use's user check."""
    revoked, _ = ApiToken.objects.filter(user=user).delete()
    if revoked:
        logger.warning("Revoked %s API token(s) of user #%s: no longer a member", revoked, user.pk)
