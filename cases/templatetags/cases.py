"""Filters for showing cases' fields: {% load cases %}."""

from django import template

from cases.models import Severity

register = template.Library()


@register.filter
def severity(value) -> str:
    """1 → "Urgent"; unknown values are shown as they are."""
    return Severity.label_of(value) or str(value or "")
