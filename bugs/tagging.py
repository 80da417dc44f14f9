"""Bug tagging: the bugs linked to the team's cases carry BUG_TAG_KEYWORDS, so engineering sees the field's interest.

Bugzilla bugs get the keywords in their internal whiteboard (space-separated), JIRA bugs in their
"Private Keywords" field (comma-separated text), or, for a JIRA bug whose screens lack that field, in its
"Internal Whiteboard" (space-separated), as the old dashboard fell back to it. Only a bug missing a keyword
is written, once, keeping what is there; the decision is made on the bug as upstream has it now (read just before,
a batch at a time), not on the mirror, so an edit made since the last sync is never overwritten.
A keyword counts as present whatever its case ("telco" is "Telco"). A summary goes to BUG_TAG_EMAILS.
Read-only mode decides and reports but writes nothing; a dry run only decides.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet

from t5g import notify
from t5g.clients.bugzilla import bugzilla_client
from t5g.clients.http import UpstreamError
from t5g.clients.jira import jira_client
from t5g.clients.records import RecordError, str_list
from t5g.clients.writes import ReadOnlyError, write_context
from t5g.links import bugzilla_bug_url, jira_issue_url
from t5g.models import Notification, SyncRun
from t5g.sync.batches import Progress, Throttled, no_progress
from t5g.sync.upsert import bump_feeds_after_commit

from .models import Bug, Issue

log = logging.getLogger(__name__)

PRIVATE_KEYWORDS = "Private Keywords"
WHITEBOARD = "Internal Whiteboard"


@dataclass
class Summary:
    """What a run did (or, in read-only mode, would do), by category, for the log and the email."""

    keywords: list[str]
    read_only: bool
    bugzilla: list[str] = field(default_factory=list)
    jira: list[str] = field(default_factory=list)
    jira_whiteboard: list[str] = field(default_factory=list)  # JIRA bugs without the Private Keywords field
    already: int = 0
    failed: list[str] = field(default_factory=list)
    restricted: list[str] = field(default_factory=list)
    no_field: list[str] = field(default_factory=list)

    @property
    def verb(self) -> str:
        return "to tag (read-only: not written)" if self.read_only else "tagged"

    @property
    def subject(self) -> str:
        tagged = len(self.bugzilla) + len(self.jira) + len(self.jira_whiteboard)
        counts = f"Bug tagging: {tagged} {self.verb}, {len(self.failed)} failed"
        return " ".join(filter(None, [settings.EMAIL_SUBJECT_PREFIX, counts]))

    @property
    def body(self) -> str:
        lines = [f"Keywords: {', '.join(self.keywords)}"]
        if self.read_only:
            lines.append("Read-only mode: nothing was written; these are the bugs that would have been tagged.")
        lines.append(f"Already tagged: {self.already}")
        for title, items in [
            (f"Bugzilla bugs {self.verb}", self.bugzilla),
            (f"JIRA bugs {self.verb}", self.jira),
            (
                f'JIRA bugs without a "{PRIVATE_KEYWORDS}" field {self.verb} in their "{WHITEBOARD}"',
                self.jira_whiteboard,
            ),
            ("Failed", self.failed),
            ("Skipped, restricted (or gone): T5G cannot see them", self.restricted),
            (f'Skipped, no "{PRIVATE_KEYWORDS}" field, nor an "{WHITEBOARD}"', self.no_field),
        ]:
            lines += ["", f"{title} ({len(items)}):", *([f"  {item}" for item in items] or ["  none"])]
        return "\n".join(lines)


# --- keywords ---------------------------------------------------------------------------------------------------------
def missing_keywords(present: list[str], keywords: list[str]) -> list[str]:
    have = {p.casefold() for p in present}
    return [k for k in keywords if k.casefold() not in have]


def whiteboard_with(whiteboard: str, added: list[str]) -> str:
    return " ".join(filter(None, [whiteboard.strip(), *added]))


def private_keywords_with(raw: str, added: list[str]) -> str:
    return ",".join(filter(None, [raw.strip().rstrip(",").strip(), *added]))


def linked(model: type[Bug] | type[Issue]) -> QuerySet:
    """The model's rows linked to at least one of the team's cases that is still on the query."""
    links = model.cases.through.objects.filter(case__removed_at__isnull=True)
    owner = "bug" if model is Bug else "issue"
    return model.objects.filter(Exists(links.filter(**{owner: OuterRef("pk")})), removed_at__isnull=True)


# --- the job ----------------------------------------------------------------------------------------------------------
def tag_bugs(
    *, run: SyncRun, full: bool = False, since: datetime | None = None, dry_run: bool = False,
    progress: Progress = no_progress,
) -> None:  # fmt: skip
    """Add the missing BUG_TAG_KEYWORDS to the bugs linked to the team's cases (daily), then email a summary."""
    keywords = settings.BUG_TAG_KEYWORDS
    if not keywords:
        log.info("bug tagging: BUG_TAG_KEYWORDS is empty; nothing to do")
        return
    tagger = Tagger(run=run, keywords=keywords, dry_run=dry_run, progress=progress)
    tagger.tag_bugzilla()
    tagger.tag_jira()
    tagger.finish()


class Tagger:
    def __init__(self, *, run: SyncRun, keywords: list[str], dry_run: bool, progress: Progress):
        self.run = run
        self.keywords = keywords
        self.dry_run = dry_run
        self.writing = not (dry_run or settings.READ_ONLY)
        self.summary = Summary(keywords=keywords, read_only=settings.READ_ONLY and not dry_run)
        self.report = Throttled(progress)
        self.done = self.total = 0  # bugs decided, of those that looked untagged in the mirror

    # --- Bugzilla ----------------------------------------------------------------------------------------------------
    def tag_bugzilla(self) -> None:
        bugs = list(linked(Bug).order_by("id").values_list("id", "internal_whiteboard", "restricted"))
        self.run.fetched += len(bugs)
        hidden = [f"BZ {bug_id}" for bug_id, _, restricted in bugs if restricted]
        self.summary.restricted += hidden
        # Stubs never read from Bugzilla have an empty whiteboard here: the fresh read below decides for them.
        todo = [i for i, wb, restricted in bugs if not restricted and missing_keywords(wb.split(), self.keywords)]
        self.already(len(bugs) - len(hidden) - len(todo))
        if not todo:
            return
        self.total += len(todo)
        client = bugzilla_client()
        answer = client.get_bugs(todo, fields=["id", "cf_internal_whiteboard"])
        self.summary.restricted += [f"BZ {bug_id}" for bug_id in answer.missing]
        for raw in answer.bugs:
            bug_id, whiteboard = raw["id"], str(raw.get("cf_internal_whiteboard") or "")
            added = missing_keywords(whiteboard.split(), self.keywords)
            if not added:
                self.already(1)
                self.mirror(Bug, bug_id, internal_whiteboard=whiteboard)
                continue
            value = whiteboard_with(whiteboard, added)
            self.tag(
                target=f"BZ {bug_id}", added=added, url=bugzilla_bug_url(bug_id),
                write=lambda b=bug_id, v=value: client.update_whiteboard(b, v),
                mirror=lambda b=bug_id, v=value: self.mirror(Bug, b, internal_whiteboard=v),
                tagged=self.summary.bugzilla,
            )  # fmt: skip

    # --- JIRA ---------------------------------------------------------------------------------------------------------
    def tag_jira(self) -> None:
        issues = list(linked(Issue).filter(issue_type="Bug").order_by("key").values_list("key", "private_keywords"))
        self.run.fetched += len(issues)
        todo = [key for key, present in issues if missing_keywords(present, self.keywords)]
        self.already(len(issues) - len(todo))
        if not todo:
            return
        self.total += len(todo)
        client = jira_client()
        field_id, whiteboard_id = client.field(PRIVATE_KEYWORDS), client.field(WHITEBOARD)
        found, gone = client.issues_by_key(todo, [field_id, whiteboard_id])
        self.summary.restricted += gone
        for issue in found:
            key, fields = str(issue.get("key")), issue.get("fields") or {}
            # A field missing from `fields` is not on this issue's screens: JIRA would refuse the write.
            if field_id not in fields and whiteboard_id in fields:
                self.tag_jira_whiteboard(client, key, fields[whiteboard_id], whiteboard_id)
                continue
            if field_id not in fields:
                self.summary.no_field.append(key)
                continue
            try:
                present = str_list(fields[field_id], field=PRIVATE_KEYWORDS, separator=",")
            except RecordError as exc:
                self.failed(key, exc)
                continue
            added = missing_keywords(present, self.keywords)
            if not added:
                self.already(1)
                self.mirror(Issue, key, private_keywords=present)
                continue
            raw = fields[field_id] if isinstance(fields[field_id], str) else ",".join(present)
            value = private_keywords_with(raw, added)
            self.tag(
                target=key, added=added, url=jira_issue_url(key),
                write=lambda k=key, v=value: client.update_fields(k, {field_id: v}),
                mirror=lambda k=key, v=[*present, *added]: self.mirror(Issue, k, private_keywords=v),
                tagged=self.summary.jira,
            )  # fmt: skip

    def tag_jira_whiteboard(self, client, key: str, raw, whiteboard_id: str) -> None:
        if raw is not None and not isinstance(raw, str):
            self.failed(key, RecordError(f"{WHITEBOARD}: expected text, got {type(raw).__name__}"))
            return
        whiteboard = raw or ""
        added = missing_keywords(whiteboard.split(), self.keywords)
        if not added:
            self.already(1)
            self.mirror(Issue, key, internal_whiteboard=whiteboard)
            return
        value = whiteboard_with(whiteboard, added)
        self.tag(
            target=key, added=added, url=jira_issue_url(key),
            write=lambda: client.update_fields(key, {whiteboard_id: value}),
            mirror=lambda: self.mirror(Issue, key, internal_whiteboard=value),
            tagged=self.summary.jira_whiteboard,
        )  # fmt: skip

    # --- one bug ------------------------------------------------------------------------------------------------------
    def tag(
        self, *, target: str, added: list[str], url: str, write: Callable[[], None], mirror: Callable[[], None],
        tagged: list[str],
    ) -> None:  # fmt: skip
        """One write for one bug; its failure is counted and reported, and the next bug goes on."""
        line = f"{target}: {', '.join(added)} ({url})"
        self.done += 1
        self.report(self.done, self.total, "tagging bugs")
        if not self.writing:
            tagged.append(line)
            # A dry run counts what it would write, as the syncs do; read-only mode changed nothing.
            if self.dry_run:
                self.run.updated += 1
            else:
                self.run.unchanged += 1
            return
        try:
            with write_context(action="tag bug", target=target, run=self.run):
                write()
        except (UpstreamError, ReadOnlyError) as exc:
            self.failed(target, exc)
            return
        mirror()
        tagged.append(line)
        self.run.updated += 1

    def mirror(self, model: type[Bug] | type[Issue], pk, **values) -> None:
        if not self.dry_run:
            model.objects.filter(pk=pk).update(**values)

    def already(self, count: int) -> None:
        self.summary.already += count
        self.run.unchanged += count

    def failed(self, target: str, exc: Exception) -> None:
        log.warning("bug tagging: could not tag %s: %s", target, exc)
        self.summary.failed.append(f"{target}: {exc}")
        self.run.rejected += 1

    # --- the end ------------------------------------------------------------------------------------------------------
    def finish(self) -> None:
        s = self.summary
        log.info(
            "bug tagging: %s Bugzilla and %s JIRA bugs %s, %s already tagged, %s failed, %s restricted, "
            "%s without the field",
            len(s.bugzilla), len(s.jira) + len(s.jira_whiteboard), s.verb, s.already, len(s.failed),
            len(s.restricted), len(s.no_field),
        )  # fmt: skip
        if self.dry_run:
            for line in s.bugzilla + s.jira + s.jira_whiteboard:
                log.info("bug tagging (dry run): would tag %s", line)
            return
        if self.run.updated:
            bump_feeds_after_commit(self.run)
        if settings.BUG_TAG_EMAILS:
            notify.enqueue(kind=Notification.Kind.EMAIL, to=settings.BUG_TAG_EMAILS, subject=s.subject, body=s.body)
