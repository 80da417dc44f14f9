"""The sandbox's JIRA webhooks: registered as an administrator registers them, sent on every change, signed, and
dropped, delayed, duplicated or reordered when told to (a receiver of the test's own stands in for T5G)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.processes import wait_for

AUTH = {"Authorization": "Bearer sandbox-jira-token"}
SECRET = "sandbox-hook-secret"


class Receiver:
    def __init__(self):
        self.calls: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append({"body": json.loads(body), "raw": body,
                                       "signature": self.headers.get("X-Hub-Signature", "")})  # fmt: skip
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/jira/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def keys(self) -> list[str]:
        return [c["body"]["issue"]["key"] for c in self.calls]


@pytest.fixture
def receiver(clean_sandbox):
    found = Receiver()
    answer = requests.post(
        f"{clean_sandbox.url}/jira/rest/webhooks/1.0/webhook", headers=AUTH, timeout=10,
        json={"name": "test", "url": found.url, "events": ["jira:issue_updated", "comment_created"],
              "filters": {"issue-related-events-section": "project = KNIECO"}, "secret": SECRET},
    )  # fmt: skip
    assert answer.status_code == 201
    found.hook = answer.json()["self"]
    yield found
    requests.delete(found.hook, headers=AUTH, timeout=10)
    found.server.shutdown()


def card_keys(sandbox) -> list[str]:
    params = {"jql": "project = KNIECO ORDER BY key", "maxResults": 3, "fields": "key"}
    found = requests.get(f"{sandbox.url}/jira/rest/api/2/search", headers=AUTH, params=params, timeout=30)
    if found.status_code == 410:  # the Cloud flavour's search moved
        found = requests.get(f"{sandbox.url}/jira/rest/api/2/search/jql", headers=AUTH, params=params, timeout=30)
    return [i["key"] for i in found.json()["issues"]]


def test_it_needs_an_administrator_to_register(clean_sandbox):
    url = f"{clean_sandbox.url}/jira/rest/webhooks/1.0/webhook"
    assert requests.post(url, json={"url": "http://x/"}, timeout=10).status_code == 401
    assert requests.post(url, json={"url": "ftp://x/"}, headers=AUTH, timeout=10).status_code == 400
    assert (
        requests.post(url, json={"url": "http://x/", "events": ["nope"]}, headers=AUTH, timeout=10).status_code == 400
    )


def test_it_sends_a_signed_call_for_each_change_of_the_filtered_project(clean_sandbox, receiver):
    key = card_keys(clean_sandbox)[0]
    clean_sandbox.post(f"cards/{key}/comments", {"body": "hello"})
    wait_for(lambda: receiver.calls, timeout=10, what="a webhook call")
    call = receiver.calls[0]
    assert call["body"]["webhookEvent"] == "comment_created" and call["body"]["issue"]["key"] == key
    assert call["body"]["comment"]["body"] == "hello"
    expected = hmac.new(SECRET.encode(), call["raw"], hashlib.sha256).hexdigest()
    assert call["signature"] == f"sha256={expected}"
    listed = requests.get(f"{clean_sandbox.url}/jira/rest/webhooks/1.0/webhook", headers=AUTH, timeout=10).json()
    assert [h["url"] for h in listed] == [receiver.url] and "secret" not in listed[0]


def test_it_drops_duplicates_delays_and_reorders_when_told(clean_sandbox, receiver):
    first, second, third = card_keys(clean_sandbox)
    clean_sandbox.faults({"path": "/hooks/", "kind": "hook_drop", "count": 1})
    clean_sandbox.post(f"cards/{first}/comments", {"body": "dropped"})
    wait_for(lambda: any(d["outcome"] == "dropped" for d in clean_sandbox.get("webhooks")["delivered"]),
             timeout=10, what="the drop")  # fmt: skip
    assert receiver.calls == []

    clean_sandbox.faults({"path": "/hooks/", "kind": "hook_duplicate", "count": 1})
    clean_sandbox.post(f"cards/{first}/comments", {"body": "twice"})
    wait_for(lambda: len(receiver.calls) == 2, timeout=10, what="the duplicate")
    assert receiver.keys() == [first, first]

    receiver.calls.clear()
    clean_sandbox.faults({"path": "/hooks/", "kind": "hook_reorder", "count": 1})
    clean_sandbox.post(f"cards/{second}/comments", {"body": "held back"})
    clean_sandbox.post(f"cards/{third}/comments", {"body": "overtakes"})
    wait_for(lambda: len(receiver.calls) == 2, timeout=10, what="both calls")
    assert receiver.keys() == [third, second]

    receiver.calls.clear()
    clean_sandbox.faults({"path": "/hooks/", "kind": "hook_delay", "ms": 1500, "count": 1})
    started = time.monotonic()
    clean_sandbox.post(f"cards/{first}/comments", {"body": "late"})
    wait_for(lambda: receiver.calls, timeout=10, what="the delayed call")
    assert time.monotonic() - started >= 1.4
