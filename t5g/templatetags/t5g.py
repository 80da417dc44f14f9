"""Filters every page uses to show upstream data the same way."""

from datetime import timedelta

import nh3
from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from t5g.sync.registry import label_of, refreshed

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


@register.filter
def ago(value) -> str:
    """ "just now" under a minute, else Django's "5 minutes ago"."""
    if not value:
        return ""
    if timezone.now() - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value)} ago"


@register.filter
def job_label(name: str) -> str:
    return label_of(name)


@register.filter
def refresh_phases(refresh) -> list[tuple[str, str]]:
    """Every source a refresh syncs, in order, with where it stands: done, current or todo."""
    names = [job.name for job in refreshed()]
    out = []
    for step, name in enumerate(names):
        if refresh.phase and step < refresh.step:
            state = "done"
        elif refresh.phase and step == refresh.step:
            state = "current"
        else:
            state = "todo"
        out.append((label_of(name), state))
    return out


@register.filter
def failed_count(summary) -> int:
    return sum(1 for result in summary or [] if result.get("error"))
