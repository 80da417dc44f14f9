"""{% load markup %}: comments shown as their authors meant them (t5g/markup.py)."""

from django import template
from django.utils.safestring import mark_safe

from t5g.markup import clean, plain_to_html

register = template.Library()


@register.filter
def comment_html(comment) -> str:
    """A comment (a model or a dict) as safe HTML: its stored rendering of JIRA markup (cleaned again, ~20 µs, in
    case a row was written by other code), else its body as plain text, linkified (portal comments; JIRA comments
    not rendered yet, or cut short for a page)."""
    get = comment.get if isinstance(comment, dict) else lambda name, default="": getattr(comment, name, default)
    html = get("body_html", "")
    return mark_safe(clean(html) if html else plain_to_html(get("body", "")))  # noqa: S308 - nh3's allow-listed output
