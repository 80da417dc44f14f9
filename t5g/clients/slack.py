"""Slack through slack-sdk, with explicit timeouts."""

from __future__ import annotations

from django.conf import settings
from slack_sdk import WebClient


def slack_client() -> WebClient:
    return WebClient(
        token=settings.SLACK_TOKEN, base_url=settings.SLACK_API_URL, timeout=settings.UPSTREAM_READ_TIMEOUT
    )


def post_message(*, channel: str, text: str, thread_ts: str | None = None) -> str:
    """Post and return the message's ts (for threading replies)."""
    response = slack_client().chat_postMessage(channel=channel, text=text, thread_ts=thread_ts)
    return response["ts"]
