"""JIRA issue sync: the JIRA bugs linked to cases (not the team's cards, not escalation-board entries)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cases import search
from cases.models import Case
from cases.selectors import cases_to_refresh
from t5g.clients.jira import ISSUE_KEY, JiraClient, fields_of, issue_key, jira_client, name_of, objects_of, user_of
from t5g.clients.portal import portal_client
from t5g.clients.records import chunks, parse_time, str_list, text
from t5g.models import SyncRun
from t5g.sync.batches import Progress, Throttled, no_progress, parse_all, read_each
from t5g.sync.failures import clear_failures, record_failures
from t5g.sync.upsert import update_rows, upsert

from .models import Issue

log = logging.getLogger(__name__)


# "Telco:Priority-1" … : the Telco priority the field team gives a JIRA bug, 1 the most urgent.
TELCO_PRIORITY = re.compile(r"^Telco:Priority-(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class IssueFields:
    severity: str
    qa_contact: str
    private_keywords: str
    whiteboard: str

    @classmethod
    def of(cls, client: JiraClient) -> IssueFields:
        return cls(client.field("Severity"), client.field("QA Contact"), client.field("Private Keywords"),
                   client.field("Internal Whiteboard"))  # fmt: skip

    @property
    def wanted(self) -> list[str]:
        return ["summary", "status", "priority", "issuetype", "assignee", "fixVersions", "updated",
                self.severity, self.qa_contact, self.private_keywords, self.whiteboard]  # fmt: skip


def telco_priority(*, private_keywords: list[str], whiteboard: str) -> int | None:
    """The level of a "Telco:Priority-N" private keyword, else of one in the Internal Whiteboard (space-separated,
    as the old dashboard fell back to it); with several, the most urgent. None without any (or only level 0)."""
    for words in (private_keywords, whiteboard.split()):
        levels = [int(m[1]) for w in words if (m := TELCO_PRIORITY.match(w.strip())) and int(m[1]) > 0]
        if levels:
            return min(levels)
    return None


class IssueReader:
    """JIRA, connected on the first key to read: most incremental runs read none."""

    def __init__(self):
        self.client: JiraClient | None = None
        self.fields: IssueFields | None = None

    def read(self, keys: list[str]) -> tuple[list[dict], list[str]]:
        """(the issues, the keys JIRA does not have)."""
        if not keys:
            return [], []
        if self.client is None:
            self.client = jira_client()
            self.fields = IssueFields.of(self.client)
        return self.client.issues_by_key(keys, self.fields.wanted)


def parse_issue(issue: dict, *, fields: IssueFields) -> dict:
    f = fields_of(issue)
    versions = objects_of(f.get("fixVersions"), field="fixVersions")
    keywords = str_list(f.get(fields.private_keywords), field="private keywords", separator=",")
    whiteboard = text(f.get(fields.whiteboard), field="internal whiteboard")
    return {
        "key": issue_key(issue),
        "summary": text(f.get("summary"), field="summary"),
        "status": name_of(f.get("status"), field="status", max_length=50),
        "priority": name_of(f.get("priority"), field="priority", max_length=30),
        "severity": name_of(f.get(fields.severity), field="severity", key="value", max_length=30),
        "issue_type": name_of(f.get("issuetype"), field="issuetype", max_length=50),
        "assignee": _person(f.get("assignee"), field="assignee"),
        "qa_contact": _person(f.get(fields.qa_contact), field="qa_contact"),
        "fix_versions": [name_of(v, field="fixVersions") for v in versions],
        "private_keywords": keywords,
        "internal_whiteboard": whiteboard,
        "telco_priority": telco_priority(private_keywords=keywords, whiteboard=whiteboard),
        "upstream_updated_at": parse_time(f.get("updated"), field="updated", required=True),
        "removed_at": None,
    }


def _person(value, *, field: str) -> str:
    # As the Bugzilla side shows people: by e-mail; JIRA Cloud hides it unless the user allows, then by name.
    user = user_of(value, field=field)
    return user["email"] or user["name"]


def linked_keys(number: str, links: list) -> list[str]:
    """The JIRA bugs among a case's links: neither the team's cards nor escalation-board entries."""
    skip = (f"{settings.JIRA_PROJECT}-", f"{settings.JIRA_ESCALATION_PROJECT}-")
    keys = []
    for link in links:
        key = str(link.get("resourceKey") or "").strip().upper() if isinstance(link, dict) else ""
        if not ISSUE_KEY.match(key):
            log.warning("issues: case %s links %r, not an issue key: skipped", number, link)
        elif not key.startswith(skip):
            keys.append(key)
    return list(dict.fromkeys(keys))


def keys_to_fetch(keys: set[str], *, full: bool, done: set[str]) -> list[str]:
    """New keys, and keys whose copy is old (every key on a full run); none twice in a run."""
    keys = keys - done
    if not full:
        fresh_after = timezone.now() - timedelta(hours=settings.REFRESH_AFTER_HOURS)
        keys -= set(Issue.objects.filter(pk__in=list(keys), synced_at__gte=fresh_after).values_list("pk", flat=True))
    return sorted(keys)


def link_issues(keys_by_case: dict[str, list[str]]) -> set[str]:
    """Make each case's JIRA issue links exactly what the portal listed (of the issues we have). Returns the
    cases whose links changed."""
    linked = {k for keys in keys_by_case.values() for k in keys}
    known = set(Issue.objects.filter(pk__in=list(linked)).values_list("pk", flat=True))
    wanted = {(case, key) for case, keys in keys_by_case.items() for key in keys if key in known}
    Link = Issue.cases.through
    links = Link.objects.filter(case_id__in=list(keys_by_case))
    stored = set(links.values_list("case_id", "issue_id"))
    links.delete()
    Link.objects.bulk_create([Link(case_id=case, issue_id=key) for case, key in wanted])
    return {case for case, _ in wanted ^ stored}


def mark_links_read(seen: dict[str, datetime | None]) -> None:
    now = timezone.now()
    update_rows(Case, [{"number": n, "jira_links_seen": at, "jira_links_read_at": now} for n, at in seen.items()])


def sync_issues(
    *, run: SyncRun, full: bool = False, since: datetime | None = None, dry_run: bool = False,
    progress: Progress = no_progress,
) -> None:  # fmt: skip
    """JIRA issues linked to the cases that changed (or whose links copy is old), and those links."""
    numbers = cases_to_refresh(seen="jira_links_seen", read_at="jira_links_read_at", full=full, since=since)
    if not numbers:
        return
    portal, reader = portal_client(), IssueReader()
    report = Throttled(progress)
    done: set[str] = set()  # keys read (or found missing) this run
    gone: set[str] = set()  # keys JIRA does not have
    for count, batch in enumerate(chunks(numbers, 100)):
        # The case's last change as it was before its links were read: a later change selects it again.
        seen = dict(Case.objects.filter(number__in=batch).values_list("number", "upstream_updated_at"))
        # A case the portal refuses (restricted, deleted) keeps its links, unread: tried again on later runs.
        read, refused = read_each(portal.case_jiras, batch)
        record_failures(run, {n: str(exc) for n, exc in refused.items()}, what="issues", dry_run=dry_run)
        seen = {n: at for n, at in seen.items() if n not in refused}
        keys_by_case = {n: linked_keys(n, links) for n, links in read}
        wanted = keys_to_fetch({k for keys in keys_by_case.values() for k in keys}, full=full, done=done)
        found, missing = reader.read(wanted)
        done.update(wanted)
        gone.update(missing)
        for key in missing:
            cases = ", ".join(n for n, keys in keys_by_case.items() if key in keys)
            log.warning("issues: JIRA has no issue %s (linked from case %s): skipped", key, cases)
        keys_by_case = {n: [k for k in keys if k not in gone] for n, keys in keys_by_case.items()}
        rows = parse_all(found, partial(parse_issue, fields=reader.fields), run=run, what="issues")
        with transaction.atomic():
            titles = stored_titles(rows)
            written = upsert(Issue, rows, run=run, dry_run=dry_run)
            if not dry_run:
                search.reindex(numbers=link_issues(keys_by_case))
                reindex_retitled(rows, titles=titles, written=written)
                mark_links_read(seen)
            clear_failures(run, list(keys_by_case), dry_run=dry_run)
        report(min(len(numbers), (count + 1) * 100), len(numbers), "JIRA issues of cases")


def reread_issues(
    *, run: SyncRun, keys: Iterable[str] = (), full: bool = False, since: datetime | None = None,
    dry_run: bool = False, progress: Progress = no_progress,
) -> None:  # fmt: skip
    """The linked JIRA issues JIRA's webhooks named (t5g/sync/hooks.py), read by key and stored as the issues
    sync stores them. Only issues T5G already holds: which cases link an issue is the portal's to say."""
    wanted = held_issues(keys)
    reader = IssueReader()
    found, _missing = reader.read(wanted)  # one missing is left for the issues sync, which knows its cases
    rows = parse_all(found, partial(parse_issue, fields=reader.fields), run=run, what="issues")
    titles = stored_titles(rows)
    written = upsert(Issue, rows, run=run, dry_run=dry_run)
    if not dry_run:
        reindex_retitled(rows, titles=titles, written=written)
    progress(len(wanted), len(wanted), "JIRA issues")


def held_issues(keys: Iterable[str]) -> list[str]:
    """Those of `keys` that are linked JIRA issues T5G holds (the issues' webhook job re-reads only these)."""
    return sorted(set(Issue.objects.filter(pk__in=list(keys)).values_list("pk", flat=True)))


def stored_titles(rows: list[dict]) -> dict[str, str]:
    return dict(Issue.objects.filter(pk__in=[r["key"] for r in rows]).values_list("pk", "summary"))


def reindex_retitled(rows: list[dict], *, titles: dict[str, str], written: list[str]) -> None:
    """The search index holds each case's JIRA issue titles: the cases linking an issue whose title changed are
    indexed again (not those of every issue written: most changes are of status or fields not indexed)."""
    written = set(written)
    retitled = [r["key"] for r in rows if r["key"] in written and r["summary"] != titles.get(r["key"])]
    search.reindex(numbers=Issue.cases.through.objects.filter(issue_id__in=retitled).values_list("case_id", flat=True))
