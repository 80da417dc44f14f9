"""Who is who: the user an IdP answer signs in, bound to the IdP's stable id for the person, and the
authentication backend (AUTHENTICATION_BACKENDS) that admits the team's members.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from djangosaml2.backends import Saml2Backend
from saml2.saml import NAMEID_FORMAT_PERSISTENT

from t5g.models import Profile
from t5g.signals import membership_ended

from .config import NAME_ID
from .groups import group_name, groups_of, is_admin, is_member

logger = logging.getLogger(__name__)


class NotInGroup(PermissionDenied):
    """A user the IdP vouched for who is in none of the member groups."""


SUBJECT_LENGTH = Profile._meta.get_field("saml_subject").max_length


def subject_of(session_info: dict) -> str | None:
    """The IdP's stable id for the person signing in (SAML_ATTRIBUTE_ID), or None when its answer has none."""
    if settings.SAML_ATTRIBUTE_ID == NAME_ID:
        name_id = session_info.get("name_id")
        # A transient NameID is new at every sign-in, and an e-mail address can pass to someone else.
        if name_id is None or name_id.format != NAMEID_FORMAT_PERSISTENT:
            return None
        subject = (name_id.text or "").strip()
    else:
        values = session_info.get("ava", {}).get(settings.SAML_ATTRIBUTE_ID) or []
        if len(values) != 1:  # none, or an ambiguous several
            return None
        subject = str(values[0]).strip()
    return subject if 0 < len(subject) <= SUBJECT_LENGTH else None


def first_value(attributes: dict, name: str) -> str:
    values = attributes.get(name) if name else None
    return str(values[0]).strip() if values else ""


def free_username(wanted: str, *, user_pk: int | None = None) -> str:
    """`wanted`, or `wanted`+saml, +saml2, ... when another account has it: a SAML user never takes a name over."""
    User = auth.get_user_model()
    base = wanted[: User._meta.get_field("username").max_length - 10]
    others = User.objects.exclude(pk=user_pk) if user_pk else User.objects.all()
    candidate, n = base, 1
    while others.filter(username=candidate).exists():
        candidate = f"{base}+saml{n if n > 1 else ''}"
        n += 1
    return candidate


def earlier_saml_user(attributes: dict) -> AbstractBaseUser | None:
    """The account an earlier T5G (which found users by user name) made at this person's SAML sign-in, when
    binding it is safe: it has the profile that sign-in made, is bound to no one, and has no usable password
    (so it was never a break-glass account)."""
    username = first_value(attributes, settings.SAML_ATTRIBUTE_USERNAME)
    if not username:
        return None
    User = auth.get_user_model()
    user = User.objects.filter(username=username, profile__isnull=False, profile__saml_subject__isnull=True).first()
    return None if user is None or user.has_usable_password() else user


def bound_user(subject: str, attributes: dict, *, create: bool) -> AbstractBaseUser | None:
    """The user bound to `subject`; else an earlier SAML user bound now, or a new user."""
    profile = Profile.objects.select_related("user").filter(saml_subject=subject).first()
    if profile is not None:
        return profile.user
    try:
        with transaction.atomic():
            user = earlier_saml_user(attributes)
            if user is None:
                if not create:
                    return None
                username = first_value(attributes, settings.SAML_ATTRIBUTE_USERNAME) or "user"
                user = auth.get_user_model()(username=free_username(username))
                user.set_unusable_password()
                user.save()
            Profile.objects.update_or_create(user=user, defaults={"saml_subject": subject})
    except IntegrityError:  # a sign-in alongside this one bound the subject (or took the name) first
        profile = Profile.objects.select_related("user").filter(saml_subject=subject).first()
        return profile.user if profile else None
    return user


def update_user(user: AbstractBaseUser, attributes: dict) -> None:
    """The IdP is the authority on a SAML user's name, e-mail and rights: set from its answer at every sign-in
    (losing the admin group takes the rights away)."""
    wanted = first_value(attributes, settings.SAML_ATTRIBUTE_USERNAME)
    if wanted and user.username != wanted and not user.username.startswith(f"{wanted}+saml"):
        user.username = free_username(wanted, user_pk=user.pk)
    for field, attribute in (
        ("email", settings.SAML_ATTRIBUTE_EMAIL),
        ("first_name", settings.SAML_ATTRIBUTE_FIRST_NAME),
        ("last_name", settings.SAML_ATTRIBUTE_LAST_NAME),
    ):
        if value := first_value(attributes, attribute):
            setattr(user, field, value[: user._meta.get_field(field).max_length])
    user.is_staff = user.is_superuser = is_admin(attributes)
    user.is_active = True
    user.save()
    profile = user.profile
    profile.saml_attributes = attributes
    profile.groups = [group_name(g) for g in groups_of(attributes)]
    profile.membership_ended_at = None
    profile.save()


def end_membership(subject: str) -> None:
    """The person left the member groups: their user is made inactive, which ends their sessions at their next
    request, and the apps are told (membership_ended: the api app revokes their tokens)."""
    profile = Profile.objects.select_related("user").filter(saml_subject=subject).first()
    if profile is None:
        return  # never signed in: nothing to end
    user = profile.user
    if user.has_usable_password():
        logger.warning("User #%s is bound to an IdP id but has a password: SAML leaves it alone", user.pk)
        return
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        # Only a user this made inactive comes back as a member: one an administrator made inactive stays so.
        profile.membership_ended_at = timezone.now()
        profile.save(update_fields=["membership_ended_at", "updated_at"])
        logger.warning("User #%s made inactive: no longer in the member groups", user.pk)
    membership_ended.send(sender=SamlBackend, user=user)


class SamlBackend(Saml2Backend):
    """Signs members of SAML_MEMBER_GROUPS in as the user bound to their IdP id; SAML_ADMIN_GROUPS makes staff
    and superusers. djangosaml2's own lookup (a user by user name) is never used."""

    def authenticate(
        self, request, session_info=None, attribute_mapping=None, create_unknown_user=True, assertion_info=None, **kw
    ):
        if not session_info or "ava" not in session_info:
            return None  # a password sign-in: ModelBackend's
        attributes = session_info["ava"]
        subject = subject_of(session_info)
        if subject is None:
            logger.warning("Sign-in refused: the IdP's answer has no single %s", _subject_description())
            return None
        if not is_member(attributes):
            end_membership(subject)
            return None
        user = bound_user(subject, attributes, create=create_unknown_user)
        if user is None:
            return None
        if user.has_usable_password():
            # Break-glass accounts are out of SAML's reach, even one bound by hand.
            logger.warning("Sign-in refused: user #%s has a password, and SAML signs in to no such account", user.pk)
            return None
        if not user.is_active and user.profile.membership_ended_at is None:
            logger.warning("Sign-in refused: user #%s was made inactive by an administrator", user.pk)
            return None
        update_user(user, attributes)
        return user


def _subject_description() -> str:
    if settings.SAML_ATTRIBUTE_ID == NAME_ID:
        return "persistent NameID"
    return f"{settings.SAML_ATTRIBUTE_ID} attribute (SAML_ATTRIBUTE_ID)"
