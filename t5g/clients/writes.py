"""The one place every upstream write passes: refused in read-only mode, recorded in the audit log.

It sits in the HTTP layer itself (an adapter on the portal, JIRA and Bugzilla sessions), so
no code path — schedule, button, command, API, or a library's own call — can write around it.
Services say what a write means (action, target, run) with `write_context`; the adapter
records it with the request in the audit log that T5G installs at start-up (t5g/audit.py keeps it
in the database: a client never touches the database itself). With no audit log, nothing is sent.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from t5g.counters import record_upstream

from .scrub import scrub

log = logging.getLogger(__name__)

READS = frozenset({"GET", "HEAD", "OPTIONS"})
_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("upstream_write", default=None)


class ReadOnlyError(Exception):
    """A write was attempted in read-only mode; nothing was sent."""


@dataclass
class Write:
    """One write as the audit log keeps it. The log is told twice: before it is sent (outcome "sent", or
    "refused" in read-only mode) and once it has an outcome ("ok", "failed", or "unknown": no answer)."""

    upstream: str
    action: str
    target: str
    run: object  # the SyncRun the write belongs to, if any
    method: str
    url: str
    outcome: str = "sent"
    status_code: int | None = None
    error: str = ""
    duration_ms: int | None = None
    record_id: int | None = None  # the audit log's own reference, set at the first telling


AuditLog = Callable[[Write], None]
_audit_log: AuditLog | None = None


def install_audit_log(record: AuditLog) -> None:
    """Where every write is recorded (T5GConfig.ready installs t5g.audit.record)."""
    global _audit_log
    _audit_log = record


def _record(write: Write) -> None:
    if _audit_log is None:
        raise RuntimeError(f"no audit log installed: not sending {write.method} {write.url}")
    _audit_log(write)


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
        context = _context.get() or {}
        record = Write(
            upstream=self.upstream,
            action=context.get("action", "")[:100],
            target=context.get("target", "")[:100],
            run=context.get("run") if getattr(context.get("run"), "pk", None) else None,
            method=request.method,
            url=urlsplit(request.url)._replace(query="").geturl(),  # query strings may carry keys
        )
        if settings.READ_ONLY:
            record.outcome = "refused"
            _record(record)
            log.info("read-only: refused %s %s (%s %s)", request.method, record.url, record.action, record.target)
            raise ReadOnlyError(f"read-only mode: not sending {request.method} {record.url}")
        _record(record)
        started = time.monotonic()
        try:
            response = super().send(request, **kwargs)
        except requests.RequestException as exc:
            # No answer: the write may or may not have happened upstream.
            # requests quotes the URL, whose query may carry a key (python-bugzilla's Bugzilla_api_key).
            record.outcome, record.error = "unknown", scrub(f"{type(exc).__name__}: {exc}")[:2000]
            raise
        else:
            record.status_code = response.status_code
            record.outcome = "ok" if response.status_code < 400 else "failed"
            if response.status_code >= 400:
                record.error = scrub(response.text)[:2000]
            return response
        finally:
            record.duration_ms = int((time.monotonic() - started) * 1000)
            _record(record)
            log.info(
                "upstream write: %s %s %s -> %s (%s %s)",
                self.upstream, request.method, record.url, record.outcome, record.action, record.target,
            )  # fmt: skip
