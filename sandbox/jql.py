"""JQL: the subset T5G uses, tokenised and parsed to a tree (jira_search.py evaluates it).

Grammar: clauses `field op value` joined by AND/OR/NOT (also &&, ||, !) and parentheses, then an
optional ORDER BY f [ASC|DESC], ... Operators =, !=, ~, !~, <, <=, >, >=, IN, NOT IN, IS [NOT] EMPTY
(or NULL); values are words, "double" or 'single' quoted strings, EMPTY, functions like openSprints()
or startOfDay(-1d), and lists (a, b). Dates take JIRA's formats ("yyyy/MM/dd HH:mm", "yyyy-MM-dd HH:mm",
"yyyy/MM/dd", "yyyy-MM-dd") or a period ("-1d", "-4w 2d", "30m"), in UTC.
Errors raise JqlError with JIRA's wording, e.g. "Error in the JQL Query: Expecting operator but got
'foo'. ... (line 1, character 9)".
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


class JqlError(ValueError):
    pass


# --- parsing ---------------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|>=|<=|!~|=|~|>|<)|(?P<lp>\()|(?P<rp>\))
    |(?P<comma>,)|(?P<and>&&)|(?P<or>\|\|)|(?P<bang>!)|(?P<word>[^\s"'=!<>(),~&|]+)|(?P<bad>["'&|]))""",
    re.X,
)
OPERATORS = "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'."


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    pos: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


@dataclass(frozen=True)
class Value:
    kind: str  # lit, list, func, empty
    text: str = ""
    items: tuple = ()  # list items or function arguments


@dataclass(frozen=True)
class Clause:
    field: str  # as written
    op: str  # =, !=, ~, !~, <, <=, >, >=, in, not in, is, is not
    value: Value


@dataclass(frozen=True)
class BoolOp:
    op: str  # and, or
    children: tuple


@dataclass(frozen=True)
class Not:
    child: object


@dataclass(frozen=True)
class Query:
    where: object | None
    order: tuple  # ((field, descending), ...)
    timed: bool  # uses relative dates or now(): results depend on the clock


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _tokens(jql: str) -> list[Tok]:
    out, pos = [], 0
    while pos < len(jql):
        m = _TOKEN.match(jql, pos)
        if not m or m.end() == pos:
            break
        kind = m.lastgroup
        start = m.start(kind)
        if kind == "bad":
            if m.group(kind) in "\"'":
                raise JqlError(
                    f"Error in the JQL Query: The quoted string '{jql[start + 1 :]}' has not been completed. "
                    f"(line 1, character {start + 1})"
                )
            raise JqlError(f"Error in the JQL Query: The character '{m.group(kind)}' is a reserved JQL character. "
                           f"You must enclose it in a string or use the escape '\\u0026' instead. "
                           f"(line 1, character {start + 1})")  # fmt: skip
        out.append(Tok(kind, m.group(kind), start))
        pos = m.end()
        while pos < len(jql) and jql[pos].isspace():
            pos += 1
    out.append(Tok("eof", "EOF", len(jql)))
    return out


class _Parser:
    def __init__(self, jql: str):
        self.toks = _tokens(jql)
        self.i = 0
        self.timed = False

    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def take(self) -> Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, expecting: str, extra: str = "") -> JqlError:
        tok = self.tok
        got = "EOF" if tok.kind == "eof" else tok.text
        return JqlError(
            f"Error in the JQL Query: Expecting {expecting} but got '{got}'.{extra} (line 1, character {tok.pos + 1})"
        )

    def query(self) -> Query:
        where = None
        if self.tok.kind != "eof" and not self._at_order():
            where = self.or_expr()
        order = ()
        if self._at_order():
            self.take()
            if not self.tok.is_word("BY"):
                raise self.fail("'BY'")
            self.take()
            order = self.sort_list()
        if self.tok.kind != "eof":
            raise self.fail("either 'OR' or 'AND'")
        return Query(where, order, self.timed)

    def _at_order(self) -> bool:
        return self.tok.is_word("ORDER")

    def sort_list(self) -> tuple:
        items = []
        while True:
            if self.tok.kind not in ("word", "str"):
                raise self.fail("a field name")
            tok = self.take()
            name = _unquote(tok.text) if tok.kind == "str" else tok.text
            desc = False
            if self.tok.is_word("ASC", "DESC"):
                desc = self.take().text.upper() == "DESC"
            items.append((name, desc))
            if self.tok.kind != "comma":
                return tuple(items)
            self.take()

    def or_expr(self):
        children = [self.and_expr()]
        while self.tok.is_word("OR") or self.tok.kind == "or":
            self.take()
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else BoolOp("or", tuple(children))

    def and_expr(self):
        children = [self.not_expr()]
        while self.tok.is_word("AND") or self.tok.kind == "and":
            self.take()
            children.append(self.not_expr())
        return children[0] if len(children) == 1 else BoolOp("and", tuple(children))

    def not_expr(self):
        if self.tok.is_word("NOT") or self.tok.kind == "bang":
            self.take()
            return Not(self.not_expr())
        if self.tok.kind == "lp":
            self.take()
            inner = self.or_expr()
            if self.tok.kind != "rp":
                raise self.fail("')'")
            self.take()
            return inner
        return self.clause()

    def clause(self) -> Clause:
        tok = self.tok
        if tok.kind not in ("word", "str") or tok.is_word("AND", "OR", "ORDER", "IN", "IS"):
            raise self.fail("a field name")
        self.take()
        field = _unquote(tok.text) if tok.kind == "str" else tok.text
        op = self.operator()
        if op in ("is", "is not"):
            if not self.tok.is_word("EMPTY", "NULL"):
                raise self.fail("'EMPTY' or 'NULL'")
            self.take()
            return Clause(field, op, Value("empty"))
        if op in ("in", "not in"):
            if self.tok.kind != "lp":
                if self.tok.kind == "word" and self.toks[self.i + 1].kind == "lp":
                    return Clause(field, op, self.value())  # a list-valued function
                raise self.fail("'('")
            self.take()
            items = [self.value()]
            while self.tok.kind == "comma":
                self.take()
                items.append(self.value())
            if self.tok.kind != "rp":
                raise self.fail("')'")
            self.take()
            return Clause(field, op, Value("list", items=tuple(items)))
        return Clause(field, op, self.value())

    def operator(self) -> str:
        tok = self.tok
        if tok.kind == "op":
            self.take()
            return tok.text
        if tok.is_word("IN"):
            self.take()
            return "in"
        if tok.is_word("NOT") and self.toks[self.i + 1].is_word("IN"):
            self.i += 2
            return "not in"
        if tok.is_word("IS"):
            self.take()
            if self.tok.is_word("NOT"):
                self.take()
                return "is not"
            return "is"
        raise self.fail("operator", " " + OPERATORS)

    def value(self) -> Value:
        tok = self.tok
        if tok.kind == "str":
            self.take()
            text = _unquote(tok.text)
            if _PERIOD.match(text):
                self.timed = True
            return Value("lit", text)
        if tok.kind == "word" and not tok.is_word("AND", "OR", "ORDER", "NOT", "IN", "IS"):
            self.take()
            if tok.is_word("EMPTY", "NULL"):
                return Value("empty")
            if self.tok.kind == "lp":
                self.take()
                args = []
                while self.tok.kind != "rp":
                    if self.tok.kind not in ("word", "str"):
                        raise self.fail("')'")
                    arg = self.take()
                    args.append(_unquote(arg.text) if arg.kind == "str" else arg.text)
                    if self.tok.kind == "comma":
                        self.take()
                self.take()
                name = tok.text
                if name.lower() in _DATE_FUNCS:
                    self.timed = True
                return Value("func", name, tuple(args))
            if _PERIOD.match(tok.text):
                self.timed = True
            return Value("lit", tok.text)
        raise self.fail("either a value, list or function")


def parse(jql: str) -> Query:
    return _Parser(jql or "").query()


# --- dates -------------------------------------------------------------------------------------------
_PERIOD = re.compile(r"^\s*([-+]?)\s*((?:\d+\s*[wdhm]\s*)+)$")
_DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_DATE_FUNCS = {"now", "startofday", "endofday", "startofweek", "endofweek", "startofmonth", "endofmonth",
               "startofyear", "endofyear"}  # fmt: skip
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60}


def _period_seconds(text: str) -> float | None:
    m = _PERIOD.match(text)
    if not m:
        return None
    total = sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)\s*([wdhm])", m.group(2)))
    return -total if m.group(1) == "-" else total


def date_value(field: str, value: Value) -> float:
    now = time.time()
    if value.kind == "func":
        name = value.text.lower()
        if name not in _DATE_FUNCS:
            raise bad_function(field, value.text)
        shift = _period_seconds(value.items[0]) if value.items else 0
        if shift is None:
            raise JqlError(f"Duration format '{value.items[0]}' for function '{value.text}' is invalid.")
        day = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        if name == "now":
            base = now
        elif name in ("startofday", "endofday"):
            base = day.timestamp() + (86400 if name == "endofday" else 0)
        elif name in ("startofweek", "endofweek"):  # weeks start on Sunday, as in JIRA's default locale
            start = day - timedelta(days=(day.weekday() + 1) % 7)
            base = start.timestamp() + (7 * 86400 if name == "endofweek" else 0)
        elif name in ("startofmonth", "endofmonth"):
            start = day.replace(day=1)
            days = calendar.monthrange(start.year, start.month)[1]
            base = start.timestamp() + (days * 86400 if name == "endofmonth" else 0)
        else:
            start = day.replace(month=1, day=1)
            base = (start.replace(year=start.year + 1) if name == "endofyear" else start).timestamp()
        return base + shift
    if value.kind != "lit":
        raise JqlError(f"The operator is not supported by the '{field}' field with a list value.")
    period = _period_seconds(value.text)
    if period is not None:
        return now + period
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value.text.strip(), fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise JqlError(
        f"Date value '{value.text}' for field '{field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', "
        "'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
    )


def bad_function(field: str, name: str) -> JqlError:
    known = _DATE_FUNCS | {"opensprints", "closedsprints", "futuresprints", "currentuser"}
    if name.lower() in known:
        return JqlError(f"The function '{name}' is not supported by the '{field}' field.")
    return JqlError(f"Unable to find JQL function '{name}()'.")
