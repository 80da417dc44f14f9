"""Reads of cards for other apps' pages."""

from django.db.models import Count

from .models import Card


def active_status_counts() -> dict[str, int]:
    """How many cases' active cards (still in JIRA) are in each internal status ("" for a JIRA status not
    mapped): one grouped query."""
    return dict(
        Card.objects.filter(active=True, removed_at__isnull=True)
        .values_list("status")
        .annotate(n=Count("key"))
        .values_list("status", "n")
    )
