import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
import requests
from django.core.management.base import BaseCommand, CommandError

from compat.services import ImportError_, Report, import_t5gweb
from t5g.clients.scrub import MASK, scrub

REDIS_TIMEOUT = 10  # seconds to connect and to read: an unreachable host fails fast
STATS_KEY = "stats"  # the old dashboard's daily history (predecessor.md §2.2)


class Command(BaseCommand):
    help = (
        "Bring the old dashboard's (t5gweb) team, SLA settings and daily stats history into T5G. "
        "Upserts: a second run changes nothing. Prints what it took and what it skipped, and why."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--redis-url", metavar="URL", help="the old dashboard's Redis, to read its `stats` key (the history)"
        )
        parser.add_argument("--team-json", metavar="FILE", help="the old `team` setting: a JSON list of members")
        parser.add_argument("--sla-json", metavar="FILE", help='the old `sla_settings`: {"days": {…}, "partners": […]}')
        parser.add_argument("--dry-run", action="store_true", help="report what would be imported, write nothing")

    def handle(self, *args, redis_url: str | None, team_json: str | None, sla_json: str | None, dry_run: bool,
               **options) -> None:  # fmt: skip
        if not (redis_url or team_json or sla_json):
            raise CommandError("Nothing to import: give --team-json, --sla-json and/or --redis-url.")
        sources = {
            "team": read_json(team_json) if team_json else None,
            "sla": read_json(sla_json) if sla_json else None,
            "stats": read_stats(redis_url) if redis_url else None,
        }
        if redis_url and sources["stats"] is None:
            self.stdout.write(f"{safe_url(redis_url)} has no `{STATS_KEY}` key: no stats history to import.")
        try:
            report = import_t5gweb(**sources, dry_run=dry_run)
        except ImportError_ as exc:
            where = {"team": team_json, "sla": sla_json, "stats": f"{safe_url(redis_url or '')} `{STATS_KEY}`"}
            raise CommandError(f"{where[exc.source]}: {exc} (nothing was imported)") from None
        self.stdout.write(summary(report, dry_run=dry_run))


def read_json(path: str) -> object:
    """A JSON file, or what an http(s) URL answers (the demo reads the sandbox's)."""
    if path.startswith(("http://", "https://")):
        try:
            answer = requests.get(path, timeout=(5, 30))
            answer.raise_for_status()
            return answer.json()
        except requests.RequestException as exc:
            raise CommandError(f"cannot read {scrub(path)}: {type(exc).__name__}") from None
        except ValueError as exc:
            raise CommandError(f"{scrub(path)} is not JSON: {exc}") from None
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not a text file") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CommandError(f"{path} is not JSON: {exc}") from None


def safe_url(url: str) -> str:
    """The URL without its password, to be printed."""
    try:
        parts = urlsplit(url)
        if parts.password:
            host = parts.hostname or ""
            port = f":{parts.port}" if parts.port else ""
            user = parts.username or ""
            return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}{port}"))
    except ValueError:
        pass
    return scrub(url)


def read_stats(url: str) -> object:
    """The decoded `stats` key of the old dashboard's Redis; None when the key is missing."""
    shown = safe_url(url)
    try:
        password = urlsplit(url).password or ""
    except ValueError:
        password = ""

    def fail(what: str) -> CommandError:
        # Whatever the client said, without the password: it may quote the URL.
        detail = scrub(what.replace(password, MASK) if password else what)
        return CommandError(f"cannot read the old dashboard's Redis at {shown}: {detail}")

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
        raw = client.get(STATS_KEY)
    except ValueError as exc:  # not a redis:// URL
        raise fail(str(exc)) from None
    except redis.AuthenticationError:
        raise fail("the password is wrong (or missing)") from None
    except redis.RedisError as exc:
        raise fail(str(exc) or type(exc).__name__) from None
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise CommandError(f"{shown} `{STATS_KEY}` is not JSON: {exc}") from None


def summary(report: Report, *, dry_run: bool) -> str:
    lines = ["Dry run: nothing was written. A real run would do this:" if dry_run else "Imported:"]
    kinds = dict.fromkeys([*report.added, *report.updated, *report.unchanged])
    for kind in kinds:
        added, updated, unchanged = (len(r.get(kind, [])) for r in (report.added, report.updated, report.unchanged))
        lines.append(f"  {kind}s: {added} added, {updated} updated, {unchanged} already as given")
        if report.added.get(kind) and len(report.added[kind]) <= 20:
            lines.append(f"    added: {', '.join(report.added[kind])}")
    if not kinds:
        lines.append("  nothing")
    if report.skipped:
        lines.append("Skipped:")
        for kind, items in report.skipped.items():
            lines += [f"  {kind} {what}: {why}" for what, why in items]
    return "\n".join(lines)
