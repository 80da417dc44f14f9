"""The Solr query subset the portal's case search answers, evaluated over an in-memory index.

Supported: field:value, field:"phrase", wildcards (* and ?), field:(a OR b), ranges
[a TO b] / {a TO b} with * for open ends and NOW[-nDAYS|HOURS|MINUTES], AND / OR / NOT / -,
parentheses, *:*. Adjacent clauses without an operator are OR, as Solr's default q.op.

Speed: each leaf term's matches are memoised per world version, ranges use a sorted
index (bisect), and sorting walks a precomputed order, so a page at 100,000 cases
costs milliseconds.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_TOKEN = re.compile(
    r"\s*(?:(?P<all>\*:\*)|(?P<field>[A-Za-z_][\w.]*):(?=\S)|(?P<neg>-)(?=[A-Za-z_(])|(?P<lp>\()|(?P<rp>\))"
    r'|(?P<range>[\[{][^\]}]*[\]}])|(?P<phrase>"(?:[^"\\]|\\.)*")|(?P<word>(?:\\.|[^\s()"])+))'
)


class QueryError(ValueError):
    pass


@dataclass(frozen=True)
class Term:
    field: str
    value: str  # may hold * and ? wildcards
    phrase: bool = False


@dataclass(frozen=True)
class Range:
    field: str
    low: str | None
    high: str | None
    low_inclusive: bool
    high_inclusive: bool


@dataclass(frozen=True)
class Bool:
    op: str  # AND, OR
    children: tuple


@dataclass(frozen=True)
class Not:
    child: object


class All:
    pass


def _tokens(q: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    q = q.strip()
    while pos < len(q):
        m = _TOKEN.match(q, pos)
        if not m or m.end() == pos:
            raise QueryError(f"cannot parse query near {q[pos : pos + 20]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(q) and q[pos].isspace():
            pos += 1
    return out


class _Parser:
    def __init__(self, q: str):
        self.tokens = _tokens(q)
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self):
        token = self.peek()
        self.pos += 1
        return token

    def parse(self):
        if not self.tokens:
            raise QueryError("empty query")
        node = self.or_expr(None)
        if self.pos != len(self.tokens):
            raise QueryError(f"unexpected {self.peek()[1]!r}")
        return node

    def or_expr(self, field):
        children = [self.and_expr(field)]
        while True:
            kind, value = self.peek()
            if kind is None or kind == "rp":
                break
            if kind == "word" and value == "OR":
                self.take()
            children.append(self.and_expr(field))
        return children[0] if len(children) == 1 else Bool("OR", tuple(children))

    def and_expr(self, field):
        children = [self.unary(field)]
        while self.peek() == ("word", "AND") or self.peek() == ("word", "&&"):
            self.take()
            children.append(self.unary(field))
        return children[0] if len(children) == 1 else Bool("AND", tuple(children))

    def unary(self, field):
        kind, value = self.peek()
        if kind == "neg" or (kind == "word" and value in ("NOT", "!")):
            self.take()
            return Not(self.unary(field))
        return self.primary(field)

    def primary(self, field):
        kind, value = self.take()
        if kind == "lp":
            node = self.or_expr(field)
            if self.take()[0] != "rp":
                raise QueryError("missing )")
            return node
        if kind == "all":
            return All()
        if kind == "field":
            if field is not None:
                raise QueryError(f"nested field {value!r}")
            return self.primary(value)
        if field is None:
            raise QueryError(f"{value!r} needs a field (field:value)")
        if kind == "range":
            return _range(field, value)
        if kind == "phrase":
            return Term(field, value[1:-1].replace('\\"', '"'), phrase=True)
        if kind != "word":
            raise QueryError(f"unexpected {value!r}")
        return Term(field, _unescape(value))


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _range(field: str, text: str) -> Range:
    inner = text[1:-1].strip()
    parts = re.split(r"\s+TO\s+", inner)
    if len(parts) != 2:
        raise QueryError(f"range {text} must be [low TO high]")
    low, high = (None if p == "*" else _normalise(p) for p in parts)
    return Range(field, low, high, text[0] == "[", text[-1] == "]")


def _normalise(value: str) -> str:
    """Dates to the stored format (YYYY-MM-DDTHH:MM:SSZ), NOW arithmetic included."""
    value = value.strip('"')
    m = re.fullmatch(r"NOW(?:([+-])(\d+)(DAYS?|HOURS?|MINUTES?))?", value)
    if m:
        at = datetime.now(UTC)
        if m.group(1):
            unit = {"D": "days", "H": "hours", "M": "minutes"}[m.group(3)[0]]
            delta = timedelta(**{unit: int(m.group(2))})
            at = at + delta if m.group(1) == "+" else at - delta
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?Z", value)
    if m:
        return m.group(1) + "Z"
    if re.fullmatch(r"\d{4}-\d\d-\d\dT", value[:11]):
        raise QueryError(f"bad date {value!r}: use 2026-01-01T00:00:00Z")
    return value


def parse(q: str):
    return _Parser(q).parse()


def _matcher(term: Term):
    value = term.value.lower()
    if not term.phrase and ("*" in value or "?" in value):
        pattern = re.compile("^" + re.escape(value).replace(r"\*", ".*").replace(r"\?", ".") + "$", re.S)
        return lambda v: pattern.match(v) is not None
    return lambda v: v == value


class Index:
    """Documents keyed by an id field, with memoised term sets and sorted orders.

    `upsert` keeps every memo and order current for the changed documents only,
    so a change costs microseconds instead of a rebuild of 100,000 documents.
    """

    def __init__(self, docs: list[dict], key: str):
        self.key = key
        self.docs: list[dict] = []
        self.pos: dict[str, int] = {}
        self.all: set[int] = set()
        self._terms: dict[Term, set[int]] = {}
        # field -> (sorted (value, id) pairs, ids in that order); sort spec -> the same for its key
        self._sorted: dict[str, tuple[list, list]] = {}
        self._orders: dict[tuple, tuple[list, list]] = {}
        for doc in docs:
            self.pos[doc[key]] = len(self.docs)
            self.docs.append(doc)
        self.all = set(range(len(self.docs)))

    def upsert(self, doc: dict) -> None:
        i = self.pos.get(doc[self.key])
        old = None
        if i is None:
            i = self.pos[doc[self.key]] = len(self.docs)
            self.docs.append(doc)
            self.all.add(i)
        elif i not in self.all:  # removed before: back, as a new document
            self.docs[i] = doc
            self.all.add(i)
        else:
            old, self.docs[i] = self.docs[i], doc
        for term, members in self._terms.items():
            members.discard(i)
            if self._term_matches(term, doc):
                members.add(i)
        for field, (keys, ids) in self._sorted.items():
            _move(keys, ids, i, None if old is None else _sort_value(old, field), _sort_value(doc, field))
        for spec, (keys, ids) in self._orders.items():
            _move(keys, ids, i, None if old is None else _order_key(old, spec), _order_key(doc, spec))

    def remove(self, key: str) -> None:
        """Take a document out of every result (its slot stays, unused, until it comes back)."""
        i = self.pos.get(key)
        if i is None or i not in self.all:
            return
        old = self.docs[i]
        self.all.discard(i)
        for members in self._terms.values():
            members.discard(i)
        for field, (keys, ids) in self._sorted.items():
            _drop(keys, ids, i, _sort_value(old, field))
        for spec, (keys, ids) in self._orders.items():
            _drop(keys, ids, i, _order_key(old, spec))

    def _live(self):
        return ((i, doc) for i, doc in enumerate(self.docs) if i in self.all)

    def _values(self, doc: dict, field: str) -> list[str]:
        v = doc.get(field)
        if v is None:
            return []
        return [str(x).lower() for x in v] if isinstance(v, list) else [str(v).lower()]

    def _term_matches(self, term: Term, doc: dict) -> bool:
        match = _matcher(term)
        return any(match(v) for v in self._values(doc, term.field))

    def evaluate(self, node) -> set[int]:
        """The matching ids. Never mutate the result: term sets are the memo itself."""
        if isinstance(node, All):
            return self.all
        if isinstance(node, Term):
            if node not in self._terms:
                match = _matcher(node)
                self._terms[node] = {
                    i for i, doc in self._live() if any(match(v) for v in self._values(doc, node.field))
                }
            return self._terms[node]
        if isinstance(node, Range):
            return self._range(node)
        if isinstance(node, Not):
            return self.all - self.evaluate(node.child)
        if node.op == "AND":
            sets = sorted((self.evaluate(c) for c in node.children), key=len)
            return sets[0].intersection(*sets[1:])
        return set().union(*(self.evaluate(c) for c in node.children))

    def _sorted_field(self, field: str) -> tuple[list, list]:
        if field not in self._sorted:
            pairs = sorted((_sort_value(doc, field), i) for i, doc in self._live())
            self._sorted[field] = (pairs, [p[1] for p in pairs])
        return self._sorted[field]

    def _range(self, node: Range) -> set[int]:
        # Keys are (value, id): (v,) sorts before every (v, id), (v, inf) after.
        keys, ids = self._sorted_field(node.field)
        lo = bisect.bisect_left(keys, ("\x00",))  # documents without the field sort first, as ""
        if node.low is not None:
            lo = max(lo, bisect.bisect_left(keys, (node.low,) if node.low_inclusive else (node.low, math.inf)))
        hi = len(keys)
        if node.high is not None:
            hi = bisect.bisect_left(keys, (node.high, math.inf) if node.high_inclusive else (node.high,))
        return set(ids[lo:hi])

    def order(self, sort: list[tuple[str, bool]]) -> list[int]:
        """Every document id in the sort order (field, descending) pairs give."""
        spec = tuple(sort)
        if spec not in self._orders:
            pairs = sorted((_order_key(doc, spec), i) for i, doc in self._live())
            self._orders[spec] = (pairs, [p[1] for p in pairs])
        return self._orders[spec][1]

    def search(
        self, q: str, *, sort: list[tuple[str, bool]], start: int, rows: int, cap: int
    ) -> tuple[int, list[dict]]:
        """(numFound, the page). Only the first `cap` results in sort order are reachable."""
        matches = self.evaluate(parse(q))
        stop = min(start + rows, cap)
        page: list[int] = []
        if start < stop and matches:
            seen = 0
            for i in self.order(sort or [(self.key, False)]):
                if i in matches:
                    if seen >= start:
                        page.append(i)
                        if len(page) >= stop - start:
                            break
                    seen += 1
        return len(matches), [self.docs[i] for i in page]


def _sort_value(doc: dict, field: str) -> str:
    v = doc.get(field)
    return "" if v is None else str(v)


class _Desc(str):
    """A string that sorts in reverse, for descending keys inside one tuple."""

    def __lt__(self, other):
        return str.__gt__(self, other)

    def __gt__(self, other):
        return str.__lt__(self, other)

    def __le__(self, other):
        return str.__ge__(self, other)

    def __ge__(self, other):
        return str.__le__(self, other)


def _order_key(doc: dict, spec: tuple) -> tuple:
    return tuple(_Desc(_sort_value(doc, f)) if desc else _sort_value(doc, f) for f, desc in spec)


def _move(keys: list, ids: list, i: int, old_key, new_key) -> None:
    """Move id i from old_key to new_key in parallel sorted lists of (key, id) and id.

    Ties break on the id, as a fresh sort would.
    """
    if old_key is not None:
        at = bisect.bisect_left(keys, (old_key, i))
        del keys[at], ids[at]
    at = bisect.bisect_left(keys, (new_key, i))
    keys.insert(at, (new_key, i))
    ids.insert(at, i)


def _drop(keys: list, ids: list, i: int, old_key) -> None:
    at = bisect.bisect_left(keys, (old_key, i))
    del keys[at], ids[at]


def parse_sort(text: str | None) -> list[tuple[str, bool]]:
    out = []
    for part in (text or "").split(","):
        words = part.split()
        if not words:
            continue
        if len(words) != 2 or words[1].lower() not in ("asc", "desc"):
            raise QueryError(f"sort must be 'field asc|desc', got {part.strip()!r}")
        out.append((words[0], words[1].lower() == "desc"))
    return out
