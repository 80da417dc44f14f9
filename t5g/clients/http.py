"""What every upstream client shares: a retrying requests session and the errors it raises."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError
from urllib3.util import Retry

from .scrub import scrub
from .writes import GuardedAdapter

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class UpstreamError(Exception):
    """An upstream failed, timed out or answered nonsense. The run fails (and is retried); data is kept.

    For a write, what the failure says about the work matters (`refused`): `status` is the HTTP status the
    upstream answered (None when there was no answer, or one that could not be read), `sent` is False only
    when the request provably never left (no connection was made). For a read, `status` tells a record the
    upstream refuses (403, 404) from an upstream that is failing (t5g/sync/batches.py, read_each).
    """

    def __init__(self, message: str = "", *, status: int | None = None, sent: bool = True):
        # Its text quotes upstream errors and URLs; it is stored, alerted and logged.
        super().__init__(scrub(message))
        self.status = status
        self.sent = sent

    @property
    def refused(self) -> bool:
        """Certainly nothing was done upstream: the request never left, or the upstream answered 4xx (it checks a
        request before acting on it). Anything else after sending (a 5xx, which a proxy may answer after the
        upstream committed; a malformed or cut-off answer; a timeout; a reset or broken connection) leaves the
        outcome of a write unknown."""
        return not self.sent or (self.status is not None and 400 <= self.status < 500)


def timeout() -> tuple[float, float]:
    return (settings.UPSTREAM_CONNECT_TIMEOUT, settings.UPSTREAM_READ_TIMEOUT)


def retrying_session(
    *, url: str, upstream: str | None = None, methods: frozenset[str] = IDEMPOTENT, user_agent: str = "t5g"
) -> requests.Session:
    """A session to `url` that retries timeouts, 5xx and 429 with exponential backoff and jitter.

    Retry-After is honoured (capped). Only idempotent methods are retried unless the
    caller says a POST is safe to repeat (the SSO token exchange is). A session for an
    `upstream` T5G writes to guards and records its writes (t5g/clients/writes.py).
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
    settle_environment(session, url)
    return session


def settle_environment(session: requests.Session, url: str) -> None:
    """Read the proxy and CA bundle settings from the environment once, for this upstream's URL.

    requests otherwise scans the whole environment twice per request, a third of its own CPU time per call: at
    one request per case that was most of a details sync. HTTPS_PROXY, NO_PROXY and REQUESTS_CA_BUNDLE keep
    working; a change to them takes a restart.
    """
    session.proxies.update(requests.utils.get_environ_proxies(url))
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or session.verify
    session.trust_env = False


def check_response(response: requests.Response, what: str) -> requests.Response:
    if response.status_code >= 400:
        raise UpstreamError(f"{what}: HTTP {response.status_code} {response.text[:200]!r}", status=response.status_code)
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
        raise UpstreamError(f"{what}: {type(exc).__name__}: {exc}", sent=not never_sent(exc)) from exc


def never_sent(exc: requests.RequestException) -> bool:
    """Whether a failed request provably never reached the upstream: no connection was made, on any try.

    A write is retried only while connecting (methods other than IDEMPOTENT are never retried after
    being sent), so the last try's reason tells: a connection that failed to open (refused, no route, the
    name not resolved, a connect timeout). An SSL error, a reset or a read timeout may come after the
    request went out.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None  # urllib3's MaxRetryError
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


_client_cpu = 0.0
_client_cpu_lock = threading.Lock()


@contextmanager
def client_time() -> Iterator[None]:
    """Count the CPU time spent inside the upstream client libraries (HTTP, decoding their JSON or XML):
    `manage.py sync` and the benchmarks tell it apart from our own code's (parsing, database writes)."""
    global _client_cpu
    start = time.thread_time()
    try:
        yield
    finally:
        spent = time.thread_time() - start
        with _client_cpu_lock:
            _client_cpu += spent


def client_cpu() -> float:
    """CPU seconds this process has spent in upstream client calls, all threads together."""
    return _client_cpu
