"""JQL evaluation: a parsed WHERE tree to a set of issue ids, over jira_search.IssueIndex.

Semantics as JIRA's: != and NOT IN never match an empty field; text search (~) matches whole words,
all of them ("word*" for a prefix, an inner "quoted phrase" for a phrase), without stemming; project
takes a key, name or id; sprint an id, a name or openSprints()/closedSprints()/futureSprints();
assignee/reporter an account id, user name, e-mail or currentUser(). AND evaluates the indexed
clauses first and hands their result to the others as candidates, which then test membership
instead of doing set algebra over every issue.
"""

from __future__ import annotations

import bisect
import re
from typing import TYPE_CHECKING

from .jira_schema import (
    BOT,
    CATEGORIES,
    CUSTOM_BY_NAME,
    CUSTOM_FIELDS,
    ISSUE_TYPES,
    PRIORITY_RANK,
    PROJECT_BY_ID,
    PROJECTS,
    SPRINT_FIELD,
    STATUS_IDS,
    STATUSES,
    TEXT_CUSTOM,
)
from .jql import BoolOp, Clause, JqlError, Not, Value, bad_function, date_value

if TYPE_CHECKING:
    from .jira_search import IssueIndex

INDEXED = ("project", "labels", "status", "issuetype", "sprint")  # fields with id sets in the index
SMALL = 2000  # below this many candidates, test membership rather than build sets
_EMPTY: frozenset[int] = frozenset()
_WORD = re.compile(r"\w+")
_WORD_OR_PREFIX = re.compile(r"\w+\*?")


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


_ALIASES = {
    "project": "project", "key": "key", "issuekey": "key", "issue": "key", "id": "key", "labels": "labels",
    "label": "labels", "sprint": "sprint", "status": "status", "statuscategory": "statuscategory",
    "resolution": "resolution", "issuetype": "issuetype", "type": "issuetype", "priority": "priority",
    "assignee": "assignee", "reporter": "reporter", "creator": "reporter", "component": "component",
    "fixversion": "fixversion", "summary": "summary", "description": "description", "comment": "comment",
    "text": "text", "created": "created", "createddate": "created", "updated": "updated",
    "updateddate": "updated", "resolved": "resolved", "resolutiondate": "resolved",
}  # fmt: skip


def canonical(name: str) -> str | None:
    lower = name.lower().strip()
    if lower in _ALIASES:
        return _ALIASES[lower]
    m = re.fullmatch(r"cf\[(\d+)\]", lower)
    fid = (
        f"customfield_{m.group(1)}"
        if m
        else CUSTOM_BY_NAME.get(next((n for n in CUSTOM_BY_NAME if n.lower() == lower), ""))
    )
    if fid == SPRINT_FIELD:
        return "sprint"
    return fid if fid in CUSTOM_FIELDS else None


def unknown_field(name: str) -> JqlError:
    return JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")


def _no_value(field: str, value: str) -> JqlError:
    return JqlError(f"The value '{value}' does not exist for the field '{field}'.")


def _unsupported(op: str, field: str) -> JqlError:
    return JqlError(f"The operator '{op.upper()}' is not supported by the '{field}' field.")


class Evaluator:
    """Evaluates a parsed WHERE tree to a set of issue ids."""

    def __init__(self, index: IssueIndex):
        self.ix = index

    def run(self, node) -> set[int]:
        if node is None:
            return set(self.ix.all)
        return self.eval(node, None)

    def eval(self, node, cand: set[int] | None) -> set[int]:
        if isinstance(node, BoolOp):
            if node.op == "or":
                out: set[int] = set()
                for child in node.children:
                    out |= self.eval(child, cand)
                return out
            result = cand
            for child in sorted(node.children, key=self._cost):
                result = self.eval(child, result)
            return result if result is not None else set(self.ix.all)
        if isinstance(node, Not):
            base = cand if cand is not None else self.ix.all
            return base - self.eval(node.child, cand)
        found = self.clause(node, cand)
        return found if cand is None else found & cand

    def _cost(self, node) -> int:
        if isinstance(node, Clause):
            field = canonical(node.field)
            return 0 if field in INDEXED and node.op not in ("~", "!~") else 2
        return 1

    # --- clauses -----------------------------------------------------------------------------------
    def clause(self, c: Clause, cand: set[int] | None) -> set[int]:
        field = canonical(c.field)
        if field is None:
            raise unknown_field(c.field)
        handler = getattr(self, "_" + field, None) or self._custom
        return handler(c, field, cand)

    def _literals(self, c: Clause, field: str, functions: dict | None = None) -> list:
        """The clause's values as strings, expanding list-valued functions through `functions`."""
        items = c.value.items if c.value.kind == "list" else (c.value,)
        out = []
        for item in items:
            if item.kind == "func":
                fn = (functions or {}).get(item.text.lower())
                if fn is None:
                    raise bad_function(field, item.text)
                out.extend(fn())
            elif item.kind == "empty":
                out.append(None)
            else:
                out.append(item.text)
        return out

    def _equality(self, c: Clause, field: str, ops=("=", "!=", "in", "not in", "is", "is not")) -> None:
        if c.op not in ops:
            raise _unsupported(c.op, field)
        if c.op in ("=", "!=") and c.value.kind == "list":
            raise JqlError(f"The operator '{c.op}' does not support the list value for the field '{field}'.")

    def _indexed(self, c: Clause, field: str, wanted: list, cand: set[int] | None, *, nonempty=None) -> set[int]:
        """Issues whose indexed `field` has one of `wanted` (None: empty), or not, for the negative operators."""
        index = self.ix.sets[field]
        sets = [index.get(v, _EMPTY) for v in wanted if v is not None]
        empty_too = None in wanted
        negate = c.op in ("!=", "not in", "is not")
        base = nonempty if nonempty is not None else self.ix.all
        if cand is not None and len(cand) < SMALL:

            def hit(i: int) -> bool:
                return any(i in s for s in sets) or (empty_too and i not in base)

            return {i for i in cand if i in base and not hit(i)} if negate else {i for i in cand if hit(i)}
        found = sets[0] if len(sets) == 1 and not empty_too else set().union(*sets)
        if empty_too:
            found = found | (self.ix.all - base)
        return base - found if negate else found

    def _project(self, c, field, cand):
        self._equality(c, field)
        keys = []
        for v in self._literals(c, field):
            key = v.upper() if v and v.upper() in PROJECTS else PROJECT_BY_ID.get(v or "")
            if key is None and v:
                key = next((k for k, p in PROJECTS.items() if p["name"].lower() == v.lower()), None)
                key = key or (v.upper() if v.upper() in self.ix.sets["project"] else None)
            if key is None and v is not None:
                raise _no_value("project", v)
            keys.append(key)
        return self._indexed(c, field, keys, cand)

    def _labels(self, c, field, cand):
        self._equality(c, field)
        wanted = [v.lower() if v else v for v in self._literals(c, field)]
        return self._indexed(c, field, wanted, cand, nonempty=self.ix.nonempty["labels"])

    def _status(self, c, field, cand):
        self._equality(c, field)
        names = {s.lower() for s in STATUSES} | set(self.ix.sets["status"])
        by_id = {sid: name.lower() for name, sid in STATUS_IDS.items()}
        wanted = []
        for v in self._literals(c, field):
            value = v.lower() if v and v.lower() in names else by_id.get(v or "")
            if value is None and v is not None:
                raise _no_value("status", v)
            wanted.append(value)
        return self._indexed(c, field, wanted, cand)

    def _issuetype(self, c, field, cand):
        self._equality(c, field)
        names = {t.lower() for t in ISSUE_TYPES} | set(self.ix.sets["issuetype"])
        by_id = {tid: name.lower() for name, tid in ISSUE_TYPES.items()}
        wanted = []
        for v in self._literals(c, field):
            value = v.lower() if v and v.lower() in names else by_id.get(v or "")
            if value is None and v is not None:
                raise _no_value("issuetype", v)
            wanted.append(value)
        return self._indexed(c, field, wanted, cand)

    def _statuscategory(self, c, field, cand):
        self._equality(c, field, ("=", "!=", "in", "not in"))
        keys = set()
        for v in self._literals(c, field):
            v = (v or "").lower()
            match = [k for k, (cid, key, _, name) in CATEGORIES.items() if v in (key, name.lower(), str(cid))]
            if not match:
                raise _no_value("statusCategory", v)
            keys.update(match)
        statuses = [s for s in self.ix.sets["status"] if _category_of(s) in keys]
        return self._indexed(
            Clause(c.field, "in" if c.op in ("=", "in") else "not in", c.value), "status", statuses, cand
        )

    def _resolution(self, c, field, cand):
        self._equality(c, field)
        done: set[int] = set()
        for status, ids in self.ix.sets["status"].items():
            if _category_of(status) == "done":
                done |= ids
        found: set[int] = set()
        for v in self._literals(c, field):
            found |= (self.ix.all - done) if v is None or v.lower() == "unresolved" else done
        return self.ix.all - found if c.op in ("!=", "not in", "is not") else found

    def _sprint(self, c, field, cand):
        self._equality(c, field)
        sprints = self.ix.world.sprints

        def state(name):
            return lambda: [s.id for s in sprints.values() if s.state == name]

        functions = {
            "opensprints": lambda: [s.id for s in sprints.values() if s.state in ("active", "future")],
            "closedsprints": state("closed"),
            "futuresprints": state("future"),
        }
        wanted = []
        for v in self._literals(c, field, functions):
            if v is None or isinstance(v, int):
                wanted.append(v)
                continue
            ids = [s.id for s in sprints.values() if str(s.id) == v.strip() or s.name.lower() == v.lower()]
            if not ids:
                raise _no_value("sprint", v)
            wanted.extend(ids)
        return self._indexed(c, field, wanted, cand, nonempty=self.ix.nonempty["sprint"])

    def _key(self, c, field, cand):
        self._equality(c, field, ("=", "!=", "in", "not in"))
        ids = set()
        for v in self._literals(c, field):
            v = v.strip()
            if v.isdigit():
                iid = int(v)
                if iid not in self.ix.world.issue_ids:
                    raise JqlError(f"An issue with key '{v}' does not exist for field 'key'.")
            elif re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*-\d+", v):
                issue = self.ix.world.issues.get(v.upper())
                if issue is None:
                    raise JqlError(f"An issue with key '{v}' does not exist for field 'key'.")
                iid = issue.id
            else:
                raise JqlError(f"The issue key '{v}' for field 'key' is invalid.")
            ids.add(iid)
        # An issue the index does not have yet (a lagging index) exists, so the key is valid, but is not found.
        return self.ix.all - ids if c.op in ("!=", "not in") else ids & self.ix.all

    def _created(self, c, field, cand):
        return self._dates(c, field, self.ix.by_created)

    def _updated(self, c, field, cand):
        return self._dates(c, field, self.ix.by_updated)

    def _dates(self, c, field, ordered):
        if c.op in ("is", "is not"):
            return set() if c.op == "is" else set(self.ix.all)
        if c.op not in ("=", "!=", "<", "<=", ">", ">=") or c.value.kind == "list":
            raise _unsupported(c.op, field)
        stamp = date_value(field, c.value)
        lo, hi = bisect.bisect_left(ordered, (stamp, -1)), bisect.bisect_right(ordered, (stamp, float("inf")))
        pick = {">": ordered[hi:], ">=": ordered[lo:], "<": ordered[:lo], "<=": ordered[:hi], "=": ordered[lo:hi]}
        if c.op == "!=":
            return self.ix.all - {i for _, i in ordered[lo:hi]}
        return {i for _, i in pick[c.op]}

    def _resolved(self, c, field, cand):
        done = self._resolution(Clause(c.field, "=", Value("lit", "Done")), "resolution", cand)
        if c.op in ("is", "is not"):
            return self.ix.all - done if c.op == "is" else done
        return self._dates(c, field, self.ix.by_updated) & done

    # --- filters (scan the candidates) ---------------------------------------------------------------
    def _scan(self, cand: set[int] | None, predicate) -> set[int]:
        issue = self.ix.issue
        return {i for i in (cand if cand is not None else self.ix.all) if predicate(issue(i))}

    def _users(self, c, field, values: list) -> set[str | None]:
        users = self.ix.world.users
        out = set()
        for v in values:
            if v is None or v == BOT.account_id:
                out.add(v)
                continue
            lower = v.lower()
            match = [
                u.account_id
                for u in users.values()
                if lower in (u.account_id.lower(), u.name.lower(), u.email.lower(), u.display_name.lower())
            ]
            if lower in (BOT.name, BOT.email):
                match.append(BOT.account_id)
            if not match:
                raise _no_value(field, v)
            out.update(match)
        return out

    def _person(self, c, field, cand, getter):
        self._equality(c, field)
        values = self._literals(c, field, {"currentuser": lambda: [BOT.account_id]})
        wanted = self._users(c, field, values)
        if c.op in ("=", "in", "is"):
            return self._scan(cand, lambda issue: bool(set(getter(issue) or [None]) & wanted))
        return self._scan(cand, lambda issue: bool(getter(issue)) and not set(getter(issue)) & wanted)

    def _assignee(self, c, field, cand):
        return self._person(c, field, cand, lambda i: [i.assignee] if i.assignee else [])

    def _reporter(self, c, field, cand):
        return self._person(c, field, cand, lambda i: [i.reporter] if i.reporter else [])

    def _names(self, c, field, cand, getter):
        self._equality(c, field)
        wanted = {v.lower() if v else None for v in self._literals(c, field)}
        if c.op in ("=", "in", "is"):
            return self._scan(
                cand, lambda i: bool({x.lower() for x in getter(i)} & wanted or (None in wanted and not getter(i)))
            )
        return self._scan(cand, lambda i: bool(getter(i)) and not {x.lower() for x in getter(i)} & wanted)

    def _priority(self, c, field, cand):
        for v in self._literals(c, field):
            if v and v.lower() not in {p.lower() for p in PRIORITY_RANK}:
                raise _no_value("priority", v)
        return self._names(c, field, cand, lambda i: [i.priority] if i.priority else [])

    def _component(self, c, field, cand):
        return self._names(c, field, cand, lambda i: i.components)

    def _fixversion(self, c, field, cand):
        return self._names(c, field, cand, lambda i: i.fix_versions)

    def _textual(self, c, field, cand, getter, *, lowered=None):
        if c.op in ("is", "is not"):
            return self._scan(cand, lambda i: bool(getter(i)) == (c.op == "is not"))
        if c.op not in ("~", "!~") or c.value.kind != "lit":
            raise _unsupported(c.op, field)
        matches = _text_matcher(c.value.text)
        pool = cand if cand is not None else self.ix.all
        words = [w for w in _WORD_OR_PREFIX.findall(c.value.text.lower()) if not w.endswith("*")]
        for word in words if lowered is not None else ():  # a cheap substring test first: most issues fail it
            pool = {i for i in pool if word in lowered[i]}
        found = self._scan(pool, lambda i: matches(getter(i) or ""))
        if c.op == "!~":
            base = cand if cand is not None else self.ix.all
            return self._scan(base - found, lambda i: bool(getter(i)))
        return found

    def _summary(self, c, field, cand):
        return self._textual(c, field, cand, lambda i: i.summary, lowered=self.ix.summaries)

    def _description(self, c, field, cand):
        return self._textual(c, field, cand, lambda i: i.description)

    def _comment(self, c, field, cand):
        return self._textual(c, field, cand, lambda i: "\n".join(x.body for x in i.comments))

    def _text(self, c, field, cand):
        return self._textual(
            c, field, cand, lambda i: "\n".join([i.summary, i.description or "", *(x.body for x in i.comments)])
        )

    def _custom(self, c, field, cand):
        name = CUSTOM_FIELDS[field][0]
        if field in TEXT_CUSTOM:

            def text(i):
                value = i.custom.get(name)
                return " ".join(value) if isinstance(value, list) else value

            return self._textual(c, name, cand, text)
        if field == "customfield_10840":
            return self._names(c, name, cand, lambda i: [i.custom[name]] if i.custom.get(name) else [])
        getter = (lambda i: list(i.custom.get(name) or [])) if field == "customfield_10466" else (
            lambda i: [i.custom[name]] if i.custom.get(name) else [])  # fmt: skip
        return self._person(c, name, cand, getter)


def _category_of(status_lower: str) -> str:
    return next((cat for name, cat in STATUSES.items() if name.lower() == status_lower), "indeterminate")


def _text_matcher(query: str):
    """JIRA-like text match: all words present (word* for a prefix), or an inner "quoted phrase"."""
    q = query.strip()
    if len(q) >= 2 and q[0] == q[-1] == '"':
        phrase = " ".join(_WORD.findall(q[1:-1].lower()))
        return lambda text: phrase in " ".join(_WORD.findall(text.lower()))
    terms = _WORD_OR_PREFIX.findall(q.lower())
    if not terms:
        return lambda text: False
    exact = [t for t in terms if not t.endswith("*")]
    prefixes = [t[:-1] for t in terms if t.endswith("*")]

    def matches(text: str) -> bool:
        found = words(text)
        return all(t in found for t in exact) and all(any(w.startswith(p) for w in found) for p in prefixes)

    return matches
