"""JQL search over an incremental index of world.issues: what /search and /search/jql answer.

Without ORDER BY, results are newest first (id descending); ORDER BY ties fall back to that order.
Evaluation itself (clause semantics) is in jira_eval.py.

Speed: the index keeps per-project, per-label, per-status, per-type and per-sprint id sets and sorted
(created|updated, id) lists. It follows `world.issue_changes` (keys of added or touched issues), so a
refresh costs only what changed. AND evaluates indexed clauses first and hands their result to the
others as candidates, which then test membership instead of doing set algebra over everything.
Results are cached per query and index position, so the pages after the first cost only rendering.

A lagging index (the search_lag fault: `search(jql, lag=seconds)`) applies only the changes older than the lag,
each as the issue was after it (world.issue_states), so a search does not find an issue created within the lag,
and matches a changed one on its indexed fields (project, labels, status, type, sprint, summary, created,
updated) as they were. What it finds is shown as it is now, as JIRA Server reads its hits from the database;
GET /issue/{key} reads the world and sees every change at once.
"""

from __future__ import annotations

import bisect
import time
from collections import OrderedDict

from .jira_eval import INDEXED, Evaluator, canonical, unknown_field
from .jira_schema import PRIORITY_RANK, status_category
from .jql import JqlError, parse
from .world import JiraIssue, World


def _key_order(project: str, iid: int) -> int:
    """An integer that sorts as the issue key does: by project, then number (ids grow with the number)."""
    return int.from_bytes(project.encode()[:16].ljust(16, b"\0"), "big") << 40 | iid


class IssueIndex:
    """Id sets over world.issues, kept current from world.issue_changes."""

    INDEXED = INDEXED

    def __init__(self, world: World):
        self.world = world
        self.pos = -1  # how much of world.issue_changes has been applied; -1: never built
        self.version = -1
        self.results: OrderedDict[tuple, list[int]] = OrderedDict()
        self.positions: dict[int, dict[int, int]] = {}  # id(result) -> issue id -> position

    # --- maintenance -----------------------------------------------------------------
    def refresh(self, lag: float = 0) -> None:
        """Apply the world's changes; with a `lag` (seconds), only those at least that old."""
        world = self.world
        changes = getattr(world, "issue_changes", None)
        if changes is None:  # a world without the change log: rebuild whenever anything changed
            if world.version != self.version:
                self._build()
            self.version = world.version
            return
        if self.pos < 0 or len(changes) < self.pos:
            self._build()
            return
        seen = len(changes)
        if lag > 0:
            world.seal_issue_changes()  # changes made outside a request (churn) are complete by now
            seen = bisect.bisect_right(world.issue_change_times, time.monotonic() - lag, lo=self.pos)
        if seen <= self.pos:
            return
        pending = set(changes[seen:])  # changed again within the lag: shown as they were
        latest = {changes[p]: p for p in range(self.pos, seen)}
        for key, p in latest.items():
            state = world.issue_states.get(p) if key in pending else None
            self._reindex(state or world.issues[key])
        for p in range(self.pos, seen):
            world.issue_states.pop(p, None)
        self.pos = seen

    def _build(self) -> None:
        self.all: set[int] = set()
        self.sets: dict[str, dict[str, set[int]]] = {name: {} for name in self.INDEXED}
        self.nonempty: dict[str, set[int]] = {"labels": set(), "sprint": set()}
        self.entries: dict[int, tuple] = {}  # id -> indexed values
        # Sort keys by issue id, one dict per sortable field (so sorting uses dict lookups, not lambdas).
        self.sort_keys: dict[str, dict[int, object]] = {f: {} for f in ("key", "project", "status", "issuetype")}
        self.summaries: dict[int, str] = {}  # lower-case, for ORDER BY summary and the text search's first pass
        self.by_created: list[tuple[float, int]] = []
        self.by_updated: list[tuple[float, int]] = []
        self.updated: dict[int, float] = {}
        self.created: dict[int, float] = {}
        self.results.clear()
        self.positions.clear()
        for issue in self.world.issues.values():
            self._add(issue)
        self.by_created.sort()
        self.by_updated.sort()
        self.pos = len(getattr(self.world, "issue_changes", ()))

    def _add(self, issue: JiraIssue, *, sorted_insert: bool = False) -> None:
        iid = issue.id
        values = (
            issue.project.upper(),
            tuple({label.lower() for label in issue.labels}),
            issue.status.lower(),
            issue.issue_type.lower(),
            tuple(issue.sprint_ids),
        )
        self.entries[iid] = values
        self.summaries[iid] = issue.summary.lower()
        keys = self.sort_keys
        keys["key"][iid], keys["project"][iid], keys["status"][iid], keys["issuetype"][iid] = (
            _key_order(values[0], iid),
            values[0],
            values[2],
            values[3],
        )
        self.all.add(iid)
        for name, value in zip(self.INDEXED, values, strict=True):
            index = self.sets[name]
            for v in value if isinstance(value, tuple) else (value,):
                index.setdefault(v, set()).add(iid)
            if name in self.nonempty and value:
                self.nonempty[name].add(iid)
        created, updated = issue.created.timestamp(), issue.updated.timestamp()
        self.created[iid], self.updated[iid] = created, updated
        if sorted_insert:
            bisect.insort(self.by_created, (created, iid))
            bisect.insort(self.by_updated, (updated, iid))
        else:
            self.by_created.append((created, iid))
            self.by_updated.append((updated, iid))

    def _remove(self, iid: int) -> None:
        values = self.entries.pop(iid)
        del self.summaries[iid]
        for keys in self.sort_keys.values():
            del keys[iid]
        for name, value in zip(self.INDEXED, values, strict=True):
            for v in value if isinstance(value, tuple) else (value,):
                self.sets[name][v].discard(iid)
            if name in self.nonempty:
                self.nonempty[name].discard(iid)
        for ordered, stamp in ((self.by_created, self.created.pop(iid)), (self.by_updated, self.updated.pop(iid))):
            i = bisect.bisect_left(ordered, (stamp, iid))
            if i < len(ordered) and ordered[i] == (stamp, iid):
                del ordered[i]

    def _reindex(self, issue: JiraIssue) -> None:
        if issue.id in self.entries:
            self._remove(issue.id)
        self._add(issue, sorted_insert=True)

    def issue(self, iid: int) -> JiraIssue:
        return self.world.issues[self.world.issue_ids[iid]]

    # --- searching --------------------------------------------------------------------------
    def search(self, jql: str, *, lag: float = 0) -> list[int]:
        """Issue ids matching `jql`, in order, not seeing the changes of the last `lag` seconds.

        Cached per query, index position and (if timed) second."""
        self.refresh(lag)
        query = parse(jql)
        key = (jql, self.pos if self.pos >= 0 else self.version, int(time.time()) if query.timed else 0)
        cached = self.results.get(key)
        if cached is not None:
            self.results.move_to_end(key)
            return cached
        ids = Evaluator(self).run(query.where)
        result = self._sort(ids, query.order)
        self.results[key] = result
        while len(self.results) > 8:
            _, old = self.results.popitem(last=False)
            self.positions.pop(id(old), None)
        return result

    def position_of(self, result: list[int], iid: int) -> int | None:
        """Where issue `iid` sits in a cached result (for nextPageToken continuity)."""
        if not any(r is result for r in self.results.values()):
            return None
        if id(result) not in self.positions:
            self.positions[id(result)] = {v: i for i, v in enumerate(result)}
        return self.positions[id(result)].get(iid)

    def _sort(self, ids: set[int], order: tuple) -> list[int]:
        total = order and (canonical(order[-1][0]) == "key" or order[-1][0].lower() == "rank")
        result = list(ids) if total else sorted(ids, reverse=True)  # a total order last needs no tie-break
        for name, desc in reversed(order):
            result.sort(key=self._sort_key(name), reverse=desc)
        return result

    def _sort_key(self, name: str):
        field = canonical(name)
        if field in self.sort_keys:
            return self.sort_keys[field].__getitem__
        if field == "summary":
            return self.summaries.__getitem__
        if name.lower() == "rank":
            return None
        if field in ("created", "updated"):
            return (self.created if field == "created" else self.updated).__getitem__
        if field == "priority":
            return lambda i: PRIORITY_RANK.get(self.issue(i).priority, 0)
        if field in ("assignee", "reporter"):

            def user_key(i):
                user = self.world.users.get(getattr(self.issue(i), field) or "")
                return user.display_name.lower() if user else ""

            return user_key
        if field == "resolved":
            return lambda i: self.updated[i] if status_category(self.issue(i).status) == "done" else 0
        if field is None:
            raise unknown_field(name)
        raise JqlError(f"Field '{name}' does not support sorting.")
