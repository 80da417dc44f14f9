import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
from django.core.management.base import BaseCommand, CommandError

from cards.models import TeamMember
from cards.team import TeamError, load_team, parse_members

TIMEOUT = (5, 30)  # seconds to connect, to read


class Command(BaseCommand):
    help = (
        "Add the team members listed in a JSON file or at a URL (a list of objects with name, jira_user, "
        "jira_account_id, email, slack_id, accounts, active). Members already in the team are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="an http(s) URL or a file")
        parser.add_argument("--if-empty", action="store_true", help="only when T5G has no team yet (a demo's start)")
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            metavar="SECONDS",
            help="keep trying a URL that does not answer yet for this long (a service starting beside T5G)",
        )

    def handle(self, *args, source: str, if_empty: bool, wait: float, **options) -> None:
        if if_empty and TeamMember.objects.exists():  # before reading: a restart needs nothing from the source
            self.stdout.write("T5G already has a team: left as it is.")
            return
        try:
            members = parse_members(read_source(source, wait=wait))
        except TeamError as exc:
            raise CommandError(f"{source}: {exc}") from exc
        loaded = load_team(members, if_empty=if_empty)
        if loaded is None:
            self.stdout.write("T5G already has a team: left as it is.")
            return
        self.stdout.write(f"Added {len(loaded.added)} team member(s) from {source} (edit them in admin).")
        if loaded.kept:
            self.stdout.write(f"Already in the team, left as they are: {', '.join(loaded.kept)}.")


def read_source(source: str, *, wait: float) -> object:
    """The decoded JSON of a file or of a URL's answer."""
    if urlsplit(source).scheme not in ("http", "https"):
        try:
            return json.loads(Path(source).read_text())
        except OSError as exc:
            raise CommandError(f"cannot read {source}: {exc.strerror}") from exc
        except ValueError as exc:
            raise CommandError(f"{source} is not JSON: {exc}") from exc
    deadline = time.monotonic() + wait
    while True:
        try:
            response = requests.get(source, timeout=TIMEOUT)
            break
        except requests.ConnectionError as exc:
            if time.monotonic() >= deadline:
                raise CommandError(f"cannot reach {source}: {exc}") from exc
            time.sleep(1)
        except requests.RequestException as exc:
            raise CommandError(f"cannot read {source}: {exc}") from exc
    if not response.ok:
        raise CommandError(f"{source} answered {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise CommandError(f"{source} did not answer JSON: {exc}") from exc
