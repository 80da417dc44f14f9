"""Filters every page uses to show upstream data the same way."""

from django import template

from cases.models import Severity

register = template.Library()

SEVERITY_LABELS = dict(Severity.choices)


@register.filter
def severity(value) -> str:
    """1 → "Urgent"; unknown values are shown as they are."""
    try:
        return SEVERITY_LABELS[int(value)]
    except (KeyError, TypeError, ValueError):
        return str(value or "")
