"""Who a new card goes to: the owner of the case's account, else the active member with the least open work.

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


class Assigner:
    def __init__(self, members: Iterable[TeamMember] | None = None):
        self.members = list(members if members is not None else TeamMember.objects.filter(active=True))
        self.members = [m for m in self.members if m.active]
        self.owners = {account.casefold(): m for m in self.members for account in m.account_list}
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
        member = self.owners.get(case.account.casefold()) or min(
            self.members, key=lambda m: (self.load[m.pk], m.last_assigned_at or NEVER, m.name)
        )
        self.load[member.pk] += 1
        member.last_assigned_at = timezone.now()  # the next tie goes to someone else
        return member
