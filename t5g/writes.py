"""The one place every upstream write passes: refused in read-only mode, recorded in the audit log.

It sits in the HTTP layer itself (an adapter on the portal, JIRA and Bugzilla sessions), so
no code path — schedule, button, command, API, or a library's own call — can write around it.
Services say what a write means (action, target, run) with `write_context`; the adapter
records it with the request.
"""

from __future__ import annotations

import contextvars
import logging
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

READS = frozenset({"GET", "HEAD", "OPTIONS"})
_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("upstream_write", default=None)


class ReadOnlyError(Exception):
    """A write was attempted in read-only mode; nothing was sent."""


@contextmanager
def write_context(*, action: str, target: str = "", run=None):
    token = _context.set({"action": action, "target": str(target), "run": run})
    try:
        yield
    finally:
        _context.reset(token)


class GuardedAdapter(HTTPAdapter):
    """An HTTPAdapter (retries included) that guards and records the writes it sends, and counts
    every request for /metrics."""

    def __init__(self, *, upstream: str, **kwargs):
        self.upstream = upstream
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        from .metrics import record_upstream

        started, status = time.monotonic(), "error"
        try:
            response = self._send(request, **kwargs)
            status = response.status_code
            return response
        except ReadOnlyError:
            status = "refused"
            raise
        finally:
            record_upstream(upstream=self.upstream, status=status, seconds=time.monotonic() - started)

    def _send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        if request.method in READS:
            return super().send(request, **kwargs)
        from .models import UpstreamWrite  # the adapter is built before apps load in some callers

        context = _context.get() or {}
        parts = urlsplit(request.url)
        record = UpstreamWrite(
            upstream=self.upstream,
            action=context.get("action", "")[:100],
            target=context.get("target", "")[:100],
            run=context.get("run") if getattr(context.get("run"), "pk", None) else None,
            method=request.method,
            url=parts._replace(query="").geturl(),  # query strings may carry keys
        )
        if settings.READ_ONLY:
            record.outcome = UpstreamWrite.Outcome.REFUSED
            record.save()
            log.info("read-only: refused %s %s (%s %s)", request.method, record.url, record.action, record.target)
            raise ReadOnlyError(f"read-only mode: not sending {request.method} {record.url}")
        record.save()
        started = time.monotonic()
        try:
            response = super().send(request, **kwargs)
        except requests.RequestException as exc:
            # No answer: the write may or may not have happened upstream.
            record.outcome, record.error = UpstreamWrite.Outcome.UNKNOWN, f"{type(exc).__name__}: {exc}"[:2000]
            raise
        else:
            record.status_code = response.status_code
            record.outcome = UpstreamWrite.Outcome.OK if response.status_code < 400 else UpstreamWrite.Outcome.FAILED
            if response.status_code >= 400:
                record.error = response.text[:2000]
            return response
        finally:
            record.duration_ms = int((time.monotonic() - started) * 1000)
            record.save()
            log.info(
                "upstream write: %s %s %s -> %s (%s %s)",
                self.upstream, request.method, record.url, record.outcome, record.action, record.target,
            )  # fmt: skip
