"""JIRA's webhooks: registrations, as an administrator makes them, and deliveries on every issue change.

REST (Server/DC and Cloud's admin API): POST/GET /jira/rest/webhooks/1.0/webhook, GET/DELETE …/webhook/{id}.
A registration is {name, url, events, filters: {"issue-related-events-section": JQL}, enabled, secret}; of the
filter, the sandbox applies `project = KEY` (the only clause a T5G registration uses) and keeps the rest as
written. Events: jira:issue_created, jira:issue_updated, jira:issue_deleted, comment_created (a comment also
moves its issue's `updated`, as in JIRA, but is sent as its own event).

Every change to an issue (sandbox/world.py's listeners: its own churn, T5G's writes, the control API) is
posted to each enabled registration whose events and filter take it, from one sender thread, in the order
the changes happened, JIRA's way: the body says which issue and what happened, with a few fields.
With a secret, the body is signed as JIRA Cloud and Data Center 10 sign it: `X-Hub-Signature:
sha256=<hex HMAC-SHA256 of the body>`. Faults on the registration's URL path (`/_sandbox/faults`) can drop
(`hook_drop`), delay (`hook_delay`, ms), send twice (`hook_duplicate`) or hold one back until after the next
(`hook_reorder`) a delivery. GET /_sandbox/webhooks lists registrations and the last deliveries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import re
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import asdict, dataclass, field
from urllib.parse import urlparse

from .http import Request, Response, Router, json_response
from .jira_api import authorised, error
from .jira_render import Ctx, jira_time
from .world import Comment, JiraIssue, World

EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created", "comment_updated",
          "comment_deleted")  # fmt: skip
FILTER = "issue-related-events-section"
PROJECT_CLAUSE = re.compile(r"\bproject\s*=\s*\"?([A-Za-z][A-Za-z0-9_]*)\"?", re.IGNORECASE)
HOOK_KINDS = {"hook_drop", "hook_delay", "hook_duplicate", "hook_reorder"}
PATH = "/rest/webhooks/1.0/webhook"


@dataclass
class Registration:
    id: int
    name: str
    url: str
    events: list[str]
    filters: dict = field(default_factory=dict)
    enabled: bool = True
    secret: str = ""

    def takes(self, event: str, project: str) -> bool:
        if not self.enabled or (self.events and event not in self.events):
            return False
        wanted = PROJECT_CLAUSE.search(str(self.filters.get(FILTER) or ""))
        return wanted is None or wanted.group(1).upper() == project

    def public(self, base: str) -> dict:
        shown = {k: v for k, v in asdict(self).items() if k not in ("id", "secret")}
        return {"self": f"{base}{PATH}/{self.id}", **shown, "lastUpdatedUser": "t5g-bot"}


class Webhooks:
    """The registrations and the sender thread. `fault_for(path, kind)` is the app's fault switch."""

    def __init__(self, world: World, fault_for):
        self.registrations: dict[int, Registration] = {}
        self.next_id = 1
        self.fault_for = fault_for
        self.outbox: queue.Queue = queue.Queue()
        self.delivered: deque[dict] = deque(maxlen=500)
        self.held: list[tuple[Registration, bytes]] = []  # a delivery held back by hook_reorder
        world.issue_listeners.append(self.issue_changed)
        threading.Thread(target=self._send_forever, name="sandbox-webhooks", daemon=True).start()

    # --- what happens: under the world's lock, so only a snapshot is queued --------------------------------
    def issue_changed(self, event: str, issue: JiraIssue, comment: Comment | None) -> None:
        targets = [r for r in self.registrations.values() if r.takes(event, issue.project)]
        if targets:
            self.outbox.put((targets, _payload(event, issue, comment)))

    def _send_forever(self) -> None:
        while True:
            targets, body = self.outbox.get()
            for registration in targets:
                self._deliver(registration, body)

    def _deliver(self, registration: Registration, body: bytes) -> None:
        path = urlparse(registration.url).path or "/"
        if self.fault_for(path, "hook_drop"):
            self._log(registration, body, "dropped")
            return
        if fault := self.fault_for(path, "hook_delay"):
            threading.Timer(fault.ms / 1000, self._post, (registration, body)).start()
            return
        if self.fault_for(path, "hook_reorder"):
            self.held.append((registration, body))
            return
        self._post(registration, body)
        if self.fault_for(path, "hook_duplicate"):
            self._post(registration, body)
        held, self.held = self.held, []
        for late in held:  # after the one that came after them
            self._post(*late)

    def _post(self, registration: Registration, body: bytes) -> None:
        headers = {"Content-Type": "application/json", "User-Agent": "Atlassian Webhook HTTP Client"}
        if registration.secret:
            digest = hmac.new(registration.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature"] = f"sha256={digest}"
        request = urllib.request.Request(registration.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the URL an admin registered
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:  # T5G down: JIRA gives up on a delivery too (Cloud retries a few times, then drops)
            status = f"unreachable: {exc}"
        self._log(registration, body, status)

    def _log(self, registration: Registration, body: bytes, outcome) -> None:
        sent = json.loads(body)
        self.delivered.append({
            "webhook": registration.id, "event": sent["webhookEvent"], "key": sent["issue"]["key"],
            "outcome": outcome, "at": time.time(),
        })  # fmt: skip


def _payload(event: str, issue: JiraIssue, comment: Comment | None) -> bytes:
    body = {
        "timestamp": int(time.time() * 1000),
        "webhookEvent": event,
        "issue_event_type_name": "issue_commented" if comment else "issue_generic",
        "issue": {
            "id": str(issue.id),
            "key": issue.key,
            "fields": {
                "project": {"key": issue.project},
                "summary": issue.summary,
                "labels": list(issue.labels),
                "status": {"name": issue.status},
                "updated": jira_time(issue.updated),
            },
        },
    }
    if comment is not None:
        body["comment"] = {"id": comment.id, "body": comment.body, "created": jira_time(comment.created),
                           "updated": jira_time(comment.created), "author": {"accountId": comment.author}}  # fmt: skip
    return json.dumps(body).encode()


def router(hooks: Webhooks) -> Router:
    """JIRA's webhook registration API (administrator only: the sandbox's bot is one)."""
    routes = Router("/jira")

    def guarded(fn):
        def handler(request: Request, world: World, **params):
            if denied := authorised(request, anonymous=False):
                return denied
            return fn(request, Ctx.of(request, world).base, **params)

        return handler

    @routes.route("GET", PATH)
    @guarded
    def list_hooks(request: Request, base: str):
        return json_response([r.public(base) for r in hooks.registrations.values()])

    @routes.route("POST", PATH)
    @guarded
    def register(request: Request, base: str):
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or not str(body.get("url") or "").startswith(("http://", "https://")):
            return error(400, "A webhook needs a name and an http(s) url.")
        events = body.get("events") or []
        if not isinstance(events, list) or any(e not in EVENTS for e in events):
            return error(400, f"Unknown event; known events: {', '.join(EVENTS)}")
        registration = Registration(
            id=hooks.next_id, name=str(body.get("name") or "webhook"), url=body["url"], events=events,
            filters=body.get("filters") if isinstance(body.get("filters"), dict) else {},
            enabled=bool(body.get("enabled", True)), secret=str(body.get("secret") or ""),
        )  # fmt: skip
        hooks.next_id += 1
        hooks.registrations[registration.id] = registration
        return json_response(registration.public(base), 201)

    @routes.route("GET", PATH + "/{hook_id}")
    @guarded
    def show(request: Request, base: str, hook_id: str):
        found = hooks.registrations.get(int(hook_id)) if hook_id.isdigit() else None
        return json_response(found.public(base)) if found else error(404, "No such webhook.")

    @routes.route("DELETE", PATH + "/{hook_id}")
    @guarded
    def remove(request: Request, base: str, hook_id: str):
        found = hooks.registrations.pop(int(hook_id), None) if hook_id.isdigit() else None
        return Response(204, b"") if found else error(404, "No such webhook.")

    return routes
