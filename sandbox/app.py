"""The sandbox application: routes every upstream, counts requests, injects faults."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass

from .http import Request, Response, Router, json_response
from .world import World

# Which upstream a path belongs to, for the request counters.
UPSTREAMS = {
    "/sso/": "sso",
    "/portal/": "portal",
    "/jira/": "jira",
    "/bugzilla/": "bugzilla",
    "/slack/": "slack",
    "/idp/": "idp",
}
# Writes are what T5G must never send in read-only mode; token and sign-in posts are not writes.
WRITE_UPSTREAMS = {"portal", "jira", "bugzilla", "slack"}
# POSTs that only read: Slack sends every method as a POST, the jira library may search by POST.
READ_POSTS = {
    "/slack/api/auth.test",
    *(f"/jira/rest/api/{v}/{p}" for v in ("2", "latest") for p in ("search", "search/jql")),
}
FAULT_KINDS = {"error", "429", "hang", "latency", "malformed", "truncate", "expire_token", "search_lag", "churn"}
# Faults of the webhooks the sandbox sends (sandbox/webhooks.py), on the path of the URL they go to.
HOOK_KINDS = {"hook_drop", "hook_delay", "hook_duplicate", "hook_reorder"}
FAULT_KINDS |= HOOK_KINDS
# Kinds that can come after the work ("after": true): the upstream does it, then answers with the fault,
# as a proxy's 502, a cut-off answer or a dropped connection do after the upstream committed a write.
AFTER_KINDS = {"error", "hang", "malformed", "truncate"}
# Not a per-request fault but a standing condition of the paths it names: searches there do not see
# the changes of the last `ms` milliseconds (the upstream's search index lags its writes).
STANDING_KINDS = {"search_lag"}
# The list a "truncate" fault shortens, by the key that holds it.
PAGE_KEYS = ("docs", "issues", "bugs", "values")


@dataclass
class Fault:
    path: str
    kind: str
    status: int = 0
    rate: float = 1.0
    ms: int = 0
    count: int | None = None  # fire at most this many times
    retry_after: int = 1
    after: bool = False  # do the work first, then answer with the fault (a write whose outcome the client never learns)

    @classmethod
    def parse(cls, raw: dict) -> Fault:
        if (
            not isinstance(raw, dict)
            or raw.get("kind") not in FAULT_KINDS
            or not str(raw.get("path", "")).startswith("/")
        ):
            raise ValueError(f"a fault needs a path starting with / and a kind in {sorted(FAULT_KINDS)}: {raw!r}")
        known = {
            k: raw[k] for k in ("path", "kind", "status", "rate", "ms", "count", "retry_after", "after") if k in raw
        }
        if known.get("after") and known["kind"] not in AFTER_KINDS:
            raise ValueError(f'"after" applies to the kinds {sorted(AFTER_KINDS)} only: {raw!r}')
        return cls(**known)


class App:
    def __init__(self, world: World, *, fault_seed: int = 0):
        self.world = world
        self.routes: list = []
        self.faults: list[Fault] = []
        self.fault_rng = random.Random(fault_seed)
        self.counts: Counter[str] = Counter()
        self.counts_lock = threading.Lock()
        self.hooks = None  # JIRA's webhooks (sandbox/webhooks.py), set by server.build_app

    def mount(self, *routers: Router) -> None:
        for router in routers:
            self.routes.extend(router.routes)

    # --- counters ----------------------------------------------------------------
    def _count(self, request: Request, label: str) -> None:
        upstream = next((name for prefix, name in UPSTREAMS.items() if request.path.startswith(prefix)), None)
        if upstream is None:
            return
        with self.counts_lock:
            self.counts["total"] += 1
            self.counts[upstream] += 1
            self.counts[f"{request.method} {label}"] += 1
            if (
                upstream in WRITE_UPSTREAMS
                and request.method in ("POST", "PUT", "DELETE", "PATCH")
                and label not in READ_POSTS
            ):
                self.counts["writes"] += 1

    def request_counts(self) -> dict[str, int]:
        with self.counts_lock:
            counts = dict(self.counts)
        return {"total": 0, "writes": 0, **{name: 0 for name in UPSTREAMS.values()}, **counts}

    def reset_counts(self) -> None:
        with self.counts_lock:
            self.counts.clear()

    # --- faults ----------------------------------------------------------------------
    def set_faults(self, raw: list) -> None:
        if not isinstance(raw, list):
            raise ValueError("faults must be a JSON list of rules")
        faults = [Fault.parse(r) for r in raw]
        with self.world.lock:
            self.faults = faults
            # A lagging search shows each issue as it was: the world keeps the states that a search may still show.
            self.world.keep_issue_states(any(f.kind == "search_lag" for f in faults))

    def _search_lag(self, request: Request) -> float:
        """Seconds of changes that searches under this path do not see yet (the longest lag that applies)."""
        lags = [f.ms for f in self.faults if f.kind == "search_lag" and request.path.startswith(f.path)]
        return max(lags, default=0) / 1000

    def _fault_for(self, request: Request) -> Fault | None:
        for fault in self.faults:
            if fault.kind in STANDING_KINDS | HOOK_KINDS or not request.path.startswith(fault.path):
                continue
            if self._fires(fault):
                return fault
        return None

    def hook_fault(self, path: str, kind: str) -> Fault | None:
        """Whether a webhook delivery to `path` meets the fault `kind` now."""
        for fault in self.faults:
            if fault.kind == kind and path.startswith(fault.path) and self._fires(fault):
                return fault
        return None

    def _fires(self, fault: Fault) -> bool:
        if fault.count == 0 or self.fault_rng.random() >= fault.rate:
            return False
        if fault.count is not None:
            fault.count -= 1
        with self.counts_lock:  # what was injected, by kind: the soak test's figures
            self.counts[f"fault {fault.kind}{' after' if fault.after else ''}"] += 1
        return True

    # --- dispatch ----------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        for route in self.routes:
            if route.method != request.method:
                continue
            match = route.regex.match(request.path)
            if match:
                self._count(request, route.template)
                return self._run(route.handler, request, match.groupdict())
        self._count(request, "(no route)")
        return json_response({"error": "not found", "path": request.path}, 404)

    def _run(self, handler, request: Request, params: dict) -> Response:
        fault = None if request.path.startswith("/_sandbox/") else self._fault_for(request)
        request.search_lag = self._search_lag(request)
        if fault and not fault.after:
            if fault.kind == "latency":
                time.sleep(fault.ms / 1000)
            elif fault.kind == "hang":
                time.sleep((fault.ms or 120_000) / 1000)
                return Response(close=True)
            elif fault.kind == "error":
                return _error_page(fault.status or 500)
            elif fault.kind == "429":
                return json_response({"error": "rate limited"}, 429, {"Retry-After": str(fault.retry_after)})
            elif fault.kind == "expire_token":
                with self.world.lock:
                    self.world.tokens.pop(request.bearer or "", None)
                body = {"error": "invalid_token", "error_description": "Token is not active"}
                return json_response(body, 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        with self.world.lock:
            result = handler(request, self.world, **params)
            self.world.seal_issue_changes()  # the request's changes, complete, are what a lagging search shows
        response = result if isinstance(result, Response) else json_response(result)
        if fault and fault.after:
            if fault.kind == "hang":
                time.sleep((fault.ms or 120_000) / 1000)
                return Response(close=True)
            if fault.kind == "error":
                return _error_page(fault.status or 500)
        if fault and fault.kind == "malformed" and response.status < 300:
            response.body = response.body[: max(1, len(response.body) // 2)]  # cut mid-document
        elif fault and fault.kind == "truncate" and response.status < 300:
            response = _truncate(response, cut=fault.after)
        elif fault and fault.kind == "churn" and response.status < 300:
            self._churn_page(response)
        return response

    def _churn_page(self, response: Response) -> None:
        """Records change while a client pages: the first record of the page just answered (one the client
        now holds) is modified, so in a sort by modified time it moves to the end and the rest move up."""
        data = response.data
        holder = data.get("response", data) if isinstance(data, dict) else None
        page = next((holder[k] for k in PAGE_KEYS if isinstance(holder, dict) and isinstance(holder.get(k), list)), [])
        first = page[0] if page and isinstance(page[0], dict) else {}
        world = self.world
        with world.lock:
            if (case := world.cases.get(str(first.get("case_number")))) is not None:
                world.touch_case(case)
            elif (issue := world.issues.get(str(first.get("key")))) is not None:
                world.touch_issue(issue)
                world.seal_issue_changes()


def _error_page(status: int) -> Response:
    """What a proxy or the upstream's front end answers: an HTML page, not the API's JSON."""
    return Response(status, f"<html><body><h1>{status} Server Error</h1></body></html>".encode(), "text/html")


def _truncate(response: Response, *, cut: bool = False) -> Response:
    """Return a page with fewer records than it claims: the list is cut, the totals are not.

    With `cut` (the fault's "after"), the answer itself stops mid-body, its Content-Length promising the
    rest, and the connection closes: the client never reads the whole answer to work that was done.
    """
    if cut:
        response.length = len(response.body)
        response.body = response.body[: len(response.body) // 2]
        return response
    data = response.data
    holder = data.get("response", data) if isinstance(data, dict) else None
    if isinstance(data, list):
        return json_response(data[: len(data) // 2], response.status, response.headers)
    for key in PAGE_KEYS:
        if isinstance(holder, dict) and isinstance(holder.get(key), list):
            holder[key] = holder[key][: len(holder[key]) // 2]
            return json_response(data, response.status, response.headers)
    return response


def parse_json_body(request: Request):
    try:
        return request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"invalid JSON body: {exc}") from exc
