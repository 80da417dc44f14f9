"""manage.py jira_webhook register|status|remove: T5G's webhook in JIRA (an administrator's token is needed).

register: JIRA calls SITE_URL/hooks/jira/ on issue and comment changes of JIRA_WEBHOOK_JQL (default: the
team's cards), signed with JIRA_WEBHOOK_SECRET; `--token-in-url` for a JIRA Server older than 10, which
cannot sign (the secret then travels in the URL: only over https). Registering again changes nothing.
status: T5G's registrations in JIRA and the last call T5G received. remove: T5G's registrations.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from t5g.clients.http import UpstreamError
from t5g.clients.jira import jira_client
from t5g.clients.writes import ReadOnlyError
from t5g.sync.hooks import last_received

EVENTS = ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
          "comment_created", "comment_updated", "comment_deleted"]  # fmt: skip
NAME = "T5G dashboard"
FILTER = "issue-related-events-section"


def hook_url() -> str:
    return settings.SITE_URL + reverse("jira_webhook")


def default_jql() -> str:
    return settings.JIRA_WEBHOOK_JQL or f'project = {settings.JIRA_PROJECT} AND labels = "{settings.JIRA_CARD_LABEL}"'


def ours(hooks: list[dict]) -> list[dict]:
    """T5G's registrations: those calling this site's hook path, whatever their query."""
    mine = urlsplit(hook_url())
    return [h for h in hooks if urlsplit(str(h.get("url") or ""))[:3] == mine[:3]]


def shown(url: str) -> str:
    return url.split("?", 1)[0] + ("?token=[secret]" if "?" in url else "")


class Command(BaseCommand):
    help = "Register, show or remove T5G's webhook in JIRA."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["register", "status", "remove"])
        parser.add_argument(
            "--token-in-url", action="store_true",
            help="for JIRA Server before 10, which cannot sign: the secret goes in the URL",
        )  # fmt: skip
        parser.add_argument("--wait", type=float, default=0, help="seconds to wait for JIRA to answer first")

    def handle(self, *args, action: str, token_in_url: bool, wait: float, **options):
        deadline = time.monotonic() + wait
        try:
            while True:
                try:
                    client = jira_client()
                    break
                except UpstreamError:
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(1)  # JIRA not answering yet (`make run` starts the sandbox beside T5G)
            getattr(self, action)(client, token_in_url=token_in_url)
        except ReadOnlyError as exc:
            raise CommandError("read-only mode (READ_ONLY): T5G changes nothing in JIRA, webhooks included") from exc
        except UpstreamError as exc:
            raise CommandError(f"JIRA answered: {exc}") from exc

    def register(self, client, *, token_in_url: bool) -> None:
        secret = settings.JIRA_WEBHOOK_SECRET
        if not secret:
            raise CommandError("set JIRA_WEBHOOK_SECRET first: T5G refuses calls it cannot authenticate")
        if existing := ours(client.webhooks()):
            self.stdout.write(f"already registered: {', '.join(str(h.get('self')) for h in existing)}")
            return
        url = hook_url() + (f"?token={secret}" if token_in_url else "")
        made = client.register_webhook(name=NAME, url=url, events=EVENTS, jql=default_jql(), secret=secret)
        self.stdout.write(f"registered {made.get('self')}: {shown(url)} for {default_jql()}")

    def status(self, client, **_) -> None:
        found = ours(client.webhooks())
        for hook in found:
            state = "enabled" if hook.get("enabled", True) else "DISABLED"
            jql = (hook.get("filters") or {}).get(FILTER, "")
            events = len(hook.get("events") or [])
            self.stdout.write(f"{hook.get('self')}: {state}, {shown(str(hook.get('url')))}, {events} events, {jql}")
        if not found:
            self.stdout.write(f"no webhook in JIRA calls {hook_url()}: run `manage.py jira_webhook register`")
        last = last_received("jira")
        if last:
            at = datetime.fromtimestamp(last["at"], UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            self.stdout.write(f"last call received {at}: {last['event']} {last['key']} ({last['count']} in all)")
        else:
            self.stdout.write("no call received yet (or Redis cannot say)")

    def remove(self, client, **_) -> None:
        found = ours(client.webhooks())
        for hook in found:
            client.remove_webhook(str(hook.get("self", "")).rstrip("/").rsplit("/", 1)[-1])
            self.stdout.write(f"removed {hook.get('self')}")
        if not found:
            self.stdout.write("no T5G webhook to remove")
