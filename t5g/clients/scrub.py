"""Secrets out of every text T5G keeps or logs about an upstream.

Upstream errors quote what was sent: python-bugzilla's URLs carry `Bugzilla_api_key=` in their query, the jira
library's errors print the request's headers (`Authorization: Bearer …`), requests' errors the URL. Whatever
stores or logs such a text (the audit log, a run's error, a refresh's summary, a notification's error, every log
line: t5g/log.py) passes it through `scrub` first.
"""

from __future__ import annotations

import re

from django.conf import settings

MASK = "[secret]"
# The configured credentials, wherever they appear.
SECRET_SETTINGS = (
    "BUGZILLA_API_KEY",
    "JIRA_TOKEN",
    "PORTAL_OFFLINE_TOKEN",
    "SLACK_TOKEN",
    "METRICS_TOKEN",
    "JIRA_WEBHOOK_SECRET",
)
# Shorter values could be ordinary words.
MIN_SECRET_LENGTH = 6
_NAMES = r"[\w.-]*(?:api_?key|token|password|passwd|secret)"
PATTERNS = [
    # In a query string or form: Bugzilla_api_key=…, access_token=…
    (re.compile(rf"(?i)(\b{_NAMES}=)[^&\s'\"<>]+"), rf"\1{MASK}"),
    # In JSON or a repr: "refresh_token": "…", 'password': '…'
    (re.compile(rf"""(?i)(["']{_NAMES}["']\s*:\s*["'])[^"']+"""), rf"\1{MASK}"),
    # An Authorization header's credentials, however quoted.
    (re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{MASK}"),
    # A password in a URL: scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@"), rf"\1{MASK}@"),
]


def _configured() -> list[str]:
    try:
        values = [str(getattr(settings, name, "") or "") for name in SECRET_SETTINGS]
    except Exception:  # noqa: BLE001 - settings not configured yet (a log line at start-up): patterns only
        return []
    return sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def scrub(text: str) -> str:
    """`text` without the configured credentials and anything shaped like a key, token or password."""
    if not text:
        return text
    for secret in _configured():
        text = text.replace(secret, MASK)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text
