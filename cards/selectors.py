"""Reads of cards for other apps' pages and syncs."""

from django.db.models import Count, Exists, OuterRef, Q, Subquery

from .models import LIVE, Card


def active_card_status() -> Subquery:
    """The internal status of each case's active card (None without one), for
    `Case.objects.filter(...).update(card_status=active_card_status())`: Case.card_status is that copy."""
    return Subquery(Card.objects.filter(LIVE, case_id=OuterRef("number")).values("status")[:1])


def card_status_out_of_step() -> Q:
    """The cases whose card_status is not their active card's status: a case that arrived after its card, or
    after a status mapping was edited."""
    live = Card.objects.filter(LIVE, case_id=OuterRef("number"))
    return (Q(card_status__isnull=True) & Exists(live)) | (
        Q(card_status__isnull=False) & ~Exists(live.filter(status=OuterRef("card_status")))
    )


def active_status_counts() -> dict[str, int]:
    """How many cases' active cards (still in JIRA) are in each internal status ("" for a JIRA status not
    mapped): one grouped query."""
    return dict(Card.objects.filter(LIVE).values_list("status").annotate(n=Count("key")).values_list("status", "n"))
