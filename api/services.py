"""Writes of the API app: revoking tokens."""

from __future__ import annotations

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from .models import ApiToken

log = logging.getLogger(__name__)


def revoke_tokens(*, users: list[AbstractBaseUser], by: str) -> int:
    """Revoke every live token of these users at once; returns how many. Revoked tokens stay listed (with their
    last use) but never work again."""
    count = ApiToken.objects.filter(user__in=users, revoked_at__isnull=True).update(revoked_at=timezone.now())
    for user in users:
        log.warning("API tokens of %s revoked by %s", user.get_username(), by)
    return count
