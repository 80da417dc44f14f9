"""Small builders for rows the tests need; defaults are valid, keywords override."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from api.auth import new_key
from api.models import ApiToken
from bugs.models import Bug, Issue
from cards.models import Card, CardComment, TeamMember
from cards.services import set_card_status
from cases import search
from cases.models import Case, CaseComment, Detail
from escalations.models import Escalation
from stats.models import DailyStats
from t5g.models import Profile


def make_case(number: str = "01000001", **fields) -> Case:
    now = timezone.now()
    defaults = dict(
        severity=2,
        account="Acme Telco",
        summary="Pods restart",
        status="Waiting on Red Hat",
        product="OpenShift",
        created_at=now - timedelta(days=3),
        upstream_updated_at=now,
    )
    case = Case.objects.create(number=number, **{**defaults, **fields})
    search.reindex(numbers=[number])  # as the case sync keeps it
    return case


def make_everything() -> dict:
    """One of every mirrored row, linked together."""
    case = make_case()
    now = timezone.now()
    card = Card.objects.create(key="T5G-1", case=case, jira_status="In Progress", status="Debugging", created_at=now)
    bug = Bug.objects.create(id=2000001, summary="kernel panic", status="NEW", upstream_updated_at=now)
    bug.cases.add(case)
    issue = Issue.objects.create(key="OCPBUGS-1", summary="crash", status="New", upstream_updated_at=now)
    issue.cases.add(case)
    return {
        "case": case,
        "detail": Detail.objects.create(case=case, crit_sit=True, group_name="Telco"),
        "case_comment": CaseComment.objects.create(id="c1", case=case, body="hello", created_at=now),
        "card": card,
        "card_comment": CardComment.objects.create(id="10001", card=card, body="looking", created_at=now),
        "member": TeamMember.objects.create(name="Ada", accounts="Acme Telco\nGlobex"),
        "bug": bug,
        "issue": issue,
        "escalation": Escalation.objects.create(case=case, type="crit_sit", escalated_at=now),
        "stats": DailyStats.objects.create(date=now.date(), metrics={"open_cases": 1}),
    }


# --- Reports, API and stats exports (issue 6) -------------------------------------------------------


def make_card(case: Case | None, key: str | None = None, **fields) -> Card:
    """The active card of `case` (or a card without a case)."""
    defaults = dict(jira_status="In Progress", status="Debugging", assignee="Ada", upstream_updated_at=timezone.now())
    key = key or f"T5G-{case.number if case else 'X'}"
    card = Card.objects.create(key=key, case=case, **{**defaults, **fields})
    if case:
        set_card_status(Q(number=case.number))  # as the card sync keeps it
        search.reindex(numbers=[case.number])
    return card


def make_daily_stats(day, scope: str = "all", **metrics) -> DailyStats:
    """A stats row with every metric present (zero or empty) but those given."""
    from stats.services import empty_metrics

    return DailyStats.objects.create(date=day, scope=scope, metrics={**empty_metrics(), **metrics})


def token_for(user, **fields) -> str:
    """A new API key of `user`, who has signed in as a member lately (unless their profile says otherwise)."""
    Profile.objects.get_or_create(user=user, defaults={"member_signed_in_at": timezone.now()})
    key, key_hash, prefix = new_key()
    ApiToken.objects.create(user=user, name="report script", key_hash=key_hash, prefix=prefix, **fields)
    return key


def bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}
