"""Who a new card goes to: the owner of the case's account, else the active member with the least open work.

Owners are found by their account patterns (TeamMember.accounts), matched without regard to case: an exact
account name ("Verizon Wireless") beats any prefix pattern, and a longer prefix ("Verizon W*") beats a shorter
one ("Verizon*"). When several members have the same best pattern, the least loaded of them gets the case.
Ties go to whoever was assigned least recently, then by name: fair and predictable, never random.
Inactive (away) members are never chosen. With no team, cards stay unassigned.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.db.models import Count, Q
from django.utils import timezone

from cases.models import Case

from .models import Card, InternalStatus, TeamMember

NEVER = datetime.min.replace(tzinfo=UTC)
# An exact name beats every prefix: longer than any account name can be (Case.account holds 255 characters).
EXACT = 1_000


class Assigner:
    def __init__(self, members: Iterable[TeamMember] | None = None):
        self.members = list(members if members is not None else TeamMember.objects.filter(active=True))
        self.members = [m for m in self.members if m.active]
        self.load = self._open_cards()

    def _open_cards(self) -> dict[int, int]:
        """Open cards per member: active, not done, assigned to their JIRA account (or name)."""
        open_cards = Card.objects.filter(active=True, removed_at__isnull=True).exclude(status=InternalStatus.DONE)
        by_account = dict(
            open_cards.values_list("assignee_account_id").annotate(n=Count("pk")).filter(~Q(assignee_account_id=""))
        )
        by_name = dict(open_cards.values_list("assignee").annotate(n=Count("pk")).filter(~Q(assignee="")))
        return {
            m.pk: by_account.get(m.jira_account_id, 0) if m.jira_account_id else by_name.get(m.name, 0)
            for m in self.members
        }

    def choose(self, case: Case) -> TeamMember | None:
        """The member for `case`, counted as one more open card for the next choice."""
        if not self.members:
            return None
        member = min(
            self.owners(case.account) or self.members,
            key=lambda m: (self.load[m.pk], m.last_assigned_at or NEVER, m.name),
        )
        self.load[member.pk] += 1
        member.last_assigned_at = timezone.now()  # the next tie goes to someone else
        return member

    def owners(self, account: str) -> list[TeamMember]:
        """The members whose best pattern for `account` is the most specific (see the module docstring)."""
        best, owners = -1, []
        for member in self.members:
            score = max((specificity(p, account) for p in member.account_list), default=-1)
            if score > best:
                best, owners = score, [member]
            elif score == best >= 0:
                owners.append(member)
        return owners


def specificity(pattern: str, account: str) -> int:
    """How well `pattern` names `account`: -1 not at all, else the prefix's length, and above any prefix for an
    exact name."""
    pattern, account = pattern.casefold(), account.casefold()
    if not pattern.endswith("*"):
        return EXACT if pattern == account else -1
    prefix = pattern[:-1]
    return len(prefix) if prefix and account.startswith(prefix) else -1
