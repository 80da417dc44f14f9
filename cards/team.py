"""Loading the team from a JSON list of members (`manage.py load_team`): adds people, never edits them.

A member is an object with "name" and any of "jira_user", "jira_account_id", "email", "slack_id",
"accounts" (a list of customer account names) and "active"; the other fields keep their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import TeamMember

FIELDS = frozenset({"name", "jira_user", "jira_account_id", "email", "slack_id", "accounts", "active"})


class TeamError(ValueError):
    """A list that cannot be loaded; the message names the member and what is wrong with it."""


@dataclass(frozen=True)
class Loaded:
    added: list[str]
    kept: list[str]  # names already in the team: left as they are


def parse_members(data: object) -> list[TeamMember]:
    """Unsaved members from the decoded JSON, each checked as the admin form checks it."""
    if not isinstance(data, list):
        raise TeamError("expected a JSON list of members")
    members: list[TeamMember] = []
    for n, item in enumerate(data, 1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise TeamError(f"member {n}: expected an object with a name")
        label = f"member {n} ({item['name']})"
        if unknown := set(item) - FIELDS:
            raise TeamError(f"{label}: unknown fields {sorted(unknown)}")
        accounts = item.get("accounts", [])
        if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
            raise TeamError(f"{label}: accounts must be a list of account names")
        member = TeamMember(**{**item, "name": item["name"].strip(), "accounts": "\n".join(accounts)})
        try:
            member.full_clean(validate_unique=False)  # names are matched against the team when loading
        except ValidationError as exc:
            raise TeamError(f"{label}: {'; '.join(exc.messages)}") from exc
        members.append(member)
    names = [m.name for m in members]
    if duplicated := sorted({name for name in names if names.count(name) > 1}):
        raise TeamError(f"listed more than once: {', '.join(duplicated)}")
    return members


@transaction.atomic  # all or nobody: a name added meanwhile (unique) fails the whole load
def load_team(members: list[TeamMember], *, if_empty: bool = False) -> Loaded | None:
    """Add the members whose names the team does not have; None, adding nobody, when `if_empty` and a team exists."""
    existing = set(TeamMember.objects.values_list("name", flat=True))
    if if_empty and existing:
        return None
    new = [m for m in members if m.name not in existing]
    TeamMember.objects.bulk_create(new)
    return Loaded(added=[m.name for m in new], kept=[m.name for m in members if m.name in existing])
