"""What every upstream client shares: a retrying requests session and the errors it raises."""

from __future__ import annotations

import json
import logging

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from ..writes import GuardedAdapter

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class UpstreamError(Exception):
    """An upstream failed, timed out or answered nonsense. The run fails (and is retried); data is kept."""


def timeout() -> tuple[float, float]:
    return (settings.UPSTREAM_CONNECT_TIMEOUT, settings.UPSTREAM_READ_TIMEOUT)


def retrying_session(
    *, upstream: str | None = None, methods: frozenset[str] = IDEMPOTENT, user_agent: str = "t5g"
) -> requests.Session:
    """A session that retries timeouts, 5xx and 429 with exponential backoff and jitter.

    Retry-After is honoured (capped). Only idempotent methods are retried unless the
    caller says a POST is safe to repeat (the SSO token exchange is). A session for an
    `upstream` T5G writes to guards and records its writes (t5g/writes.py).
    """
    retry = Retry(
        total=settings.UPSTREAM_RETRIES,
        connect=settings.UPSTREAM_RETRIES,
        read=settings.UPSTREAM_RETRIES,
        status=settings.UPSTREAM_RETRIES,
        other=0,
        allowed_methods=methods,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=settings.UPSTREAM_BACKOFF,
        backoff_jitter=settings.UPSTREAM_BACKOFF,
        backoff_max=30,
        respect_retry_after_header=True,
        retry_after_max=120,
        raise_on_status=False,  # the last response comes back; check_response turns it into an UpstreamError
    )
    session = requests.Session()
    pool = max(10, settings.UPSTREAM_CONCURRENCY)
    adapter = (
        GuardedAdapter(upstream=upstream, max_retries=retry, pool_maxsize=pool)
        if upstream
        else HTTPAdapter(max_retries=retry, pool_maxsize=pool)
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    return session


def check_response(response: requests.Response, what: str) -> requests.Response:
    if response.status_code >= 400:
        raise UpstreamError(f"{what}: HTTP {response.status_code} {response.text[:200]!r}")
    return response


def decode_json(response: requests.Response, what: str):
    try:
        return response.json()
    except (json.JSONDecodeError, ValueError) as exc:
        raise UpstreamError(f"{what}: malformed JSON ({exc})") from exc


def call(fn, what: str):
    """Run one request function, turning transport failures into UpstreamError."""
    try:
        return fn()
    except requests.RequestException as exc:
        raise UpstreamError(f"{what}: {type(exc).__name__}: {exc}") from exc
