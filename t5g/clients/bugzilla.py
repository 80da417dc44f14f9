"""Bugzilla through python-bugzilla 3.3.0: REST only, our retrying session, our timeouts.

python-bugzilla picks its mode from the URL: plain Bugzilla, or Red Hat's (".redhat.com" in
the URL, as in production: Bearer auth, extra_fields). The client gives the REST API's plain
dicts either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import bugzilla
import requests
from django.conf import settings
from requests.adapters import BaseAdapter

from .http import UpstreamError, client_time, retrying_session, timeout

T = TypeVar("T")

BUG_FIELDS = [
    "id", "summary", "status", "resolution", "severity", "priority", "component", "target_release",
    "assigned_to", "qa_contact", "cf_internal_whiteboard", "last_change_time",
]  # fmt: skip

# What python-bugzilla lets through when a request or an answer goes wrong: its own errors
# (HTTP status, Bugzilla faults), requests' transport errors, and the JSON/shape errors of a
# malformed answer, which it does not check.
FAILURES = (bugzilla.BugzillaError, requests.RequestException, ValueError, TypeError, KeyError, AttributeError)


class TimeoutAdapter(BaseAdapter):
    """Applies our timeouts to every request: python-bugzilla sends its own 300 s on each one."""

    def __init__(self, inner: BaseAdapter):
        super().__init__()
        self.inner = inner

    def send(self, request, **kwargs):
        kwargs["timeout"] = timeout()
        return self.inner.send(request, **kwargs)

    def close(self) -> None:
        self.inner.close()


@dataclass
class BugAnswer:
    bugs: list[dict] = field(default_factory=list)
    # Asked for but not answered: restricted to our key, or unknown (python-bugzilla drops faults).
    missing: list[int] = field(default_factory=list)


def guarded(fn: Callable[[], T], what: str) -> T:
    try:
        with client_time():
            return fn()
    except FAILURES as exc:
        raise UpstreamError(f"{what}: {type(exc).__name__}: {exc}", status=_status(exc)) from exc


# Bugzilla's faults about our login (a wrong or expired API key, a disabled account): never one bug's problem.
LOGIN_FAULTS = frozenset({300, 301, 302, 303, 304, 305, 306, 410, 505})


def _status(exc: Exception) -> int | None:
    """The HTTP status a failure stands for: the answer's, or, for a Bugzilla fault (python-bugzilla keeps its code,
    not the status), 401 for a login fault, 404 for an unknown bug, 403 for one we may not see, else 400."""
    response = getattr(exc, "response", None)
    if response is not None:
        return response.status_code
    code = getattr(exc, "code", None)
    if not isinstance(exc, bugzilla.BugzillaError) or code is None:
        return None  # no answer (transport) or a malformed one
    return 401 if code in LOGIN_FAULTS else 404 if code in (100, 101) else 403 if code == 102 else 400


class BugzillaClient:
    def __init__(self, *, url: str, api_key: str, batch: int):
        session = retrying_session(url=url, upstream="bugzilla")
        for prefix in ("http://", "https://"):
            session.mount(prefix, TimeoutAdapter(session.get_adapter(prefix)))
        self.batch = batch
        # The constructor already asks for /version: a wrong URL fails here, a wrong key on the first read.
        self.bz = guarded(
            lambda: bugzilla.Bugzilla(
                url=url, api_key=api_key or None, requests_session=session, force_rest=True, use_creds=False
            ),
            "Bugzilla",
        )

    def get_bugs(self, ids: Iterable[int], fields: list[str] = BUG_FIELDS) -> BugAnswer:
        """The bugs with these ids as plain dicts in the REST API's shape, one request per `batch` ids.

        `_getbugs` is what `getbugs` calls before wrapping each dict in a Bug object, which
        `get_raw_data()` then deep-copies back: skipping both halves our CPU time per bug. It
        also keeps Red Hat mode's answers in the API's shape (component a list, cf_* names).
        """
        answer = BugAnswer()
        ids = sorted(set(ids))
        for start in range(0, len(ids), self.batch):
            batch = ids[start : start + self.batch]
            what = f"Bugzilla bugs {batch[0]}..{batch[-1]}"
            # python-bugzilla edits the field list it is given: a fresh copy per call.
            found = guarded(lambda b=batch: self.bz._getbugs(b, include_fields=list(fields), permissive=True), what)
            answered = {bug["id"] for bug in found}
            answer.bugs += found
            answer.missing += [bug_id for bug_id in batch if bug_id not in answered]
        return answer

    # --- writes (guarded and recorded by the session: t5g/clients/writes.py) ------------------------------------------
    def update_whiteboard(self, bug_id: int, value: str) -> None:
        """Set a bug's internal whiteboard (the whole value), as a minor update: no mail to the bug's followers."""
        # build_update only takes internal_whiteboard in Red Hat mode; the field itself is the same in both.
        updates = self.bz.build_update(minor_update=True)
        updates["cf_internal_whiteboard"] = value
        guarded(lambda: self.bz.update_bugs([bug_id], updates), f"Bugzilla update of bug {bug_id}")


def bugzilla_client() -> BugzillaClient:
    if not settings.BUGZILLA_URL:
        raise UpstreamError("Bugzilla is not configured: set BUGZILLA_URL and its credentials")
    return BugzillaClient(url=settings.BUGZILLA_URL, api_key=settings.BUGZILLA_API_KEY, batch=settings.BUGZILLA_BATCH)
