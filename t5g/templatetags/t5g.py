"""Filters every page uses to show upstream data the same way."""

import nh3
from django import template
from django.utils.safestring import mark_safe

register = template.Library()

# Upstream HTML (portal comments, JIRA-rendered fields) keeps only these; links only to these schemes.
ALLOWED_TAGS = {"a", "b", "blockquote", "br", "code", "em", "i", "li", "ol", "p", "pre", "strong", "ul", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}


@register.filter
def sanitize(value) -> str:
    """Upstream HTML made safe with an allow-list (nh3): no scripts, handlers, styles or javascript: links.

    Plain upstream text needs no filter: Django escapes it. Use this only where the upstream sends HTML.
    """
    return mark_safe(  # noqa: S308 - nh3's output is the allow-listed subset
        nh3.clean(
            str(value or ""),
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
        )
    )


@register.filter
def safe_url(value) -> str:
    """An upstream link, or "" when it is not http(s): a javascript: href never reaches the page."""
    url = str(value or "").strip()
    return url if url.lower().startswith(("http://", "https://")) else ""
