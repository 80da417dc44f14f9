"""The cases table's full-text search: one index row per case, over what people wrote about it.

Indexed per case: its summary, description, product, account and owner, its case group, its active card
(key, summary, assignee) and that card's JIRA comments, its portal comments, and the titles of its Bugzilla
bugs and JIRA issues. SQLite keeps it in an FTS5 table (rowid = the case number), PostgreSQL in a table with
a generated tsvector under a GIN index; this module is the one place that knows which (migration
cases/0007_search). Callers use three reads and one write:

- matching(q): a subquery of the numbers of the cases whose text matches (cases.filters composes it);
- scores(q, numbers): case number -> relevance, higher is better (best match first in cases.selectors);
- snippets(q, numbers): where each case matched, as escaped HTML with the words marked;
- reindex(numbers): the sync services call it with the cases whose text they changed, in bulk.

A user's words are never passed to the search syntax as typed: each word (letters and digits) becomes a
quoted term, prefix-matched from MIN_PREFIX characters, all of them required (see terms()).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from t5g.clients.records import CASE_NUMBER, chunks

TABLE = "cases_search"
# (column, what the snippet line calls it, FTS5 bm25 weight, PostgreSQL weight class). A word in the summary
# says more about a case than the same word somewhere in a long comment thread.
COLUMNS = (
    ("summary", "summary", 10.0, "A"),
    ("card", "card", 6.0, "B"),
    ("bugs", "bug", 5.0, "B"),
    ("issues", "JIRA issue", 5.0, "B"),
    ("account", "account", 4.0, "C"),
    ("owner", "owner", 3.0, "C"),
    ("product", "product", 3.0, "C"),
    ("group_name", "case group", 3.0, "C"),
    ("description", "description", 2.0, "D"),
    ("jira_comments", "JIRA comment", 1.0, "D"),
    ("portal_comments", "portal comment", 1.0, "D"),
)
NAMES = [name for name, *_ in COLUMNS]
# The case number is indexed too (before COLUMNS): a pasted number, or its first digits, finds the case.
NUMBER_WEIGHT = 20.0
# Comments are kept newest first up to this many characters per case and kind: a case with pasted logs
# would otherwise index megabytes, and PostgreSQL refuses a tsvector over 1 MB.
MAX_TEXT = 200_000
MAX_TERMS = 16
# Shorter words match whole words only: a one- or two-letter prefix matches most of the index.
MIN_PREFIX = 3
# Snippet markers: private-use characters, removed from indexed text so only the search engine makes them.
START, END = "\ue000", "\ue001"
SNIPPET_TOKENS = 16
WORD = re.compile(r"[^\W_]+")
MARKED = re.compile(f"{START}([^{START}{END}]*){END}")


def terms(q: str) -> list[tuple[str, ...]]:
    """The terms of a search: each space-separated part's words (letters and digits), lower-cased. Words joined
    by punctuation are one phrase: `T5G-123` and `ocp-4.14` are found as written, not as words anywhere.
    Duplicates dropped, at most MAX_TERMS words in all."""
    out, count = [], 0
    for part in q.split():
        words = tuple(w.lower() for w in WORD.findall(part))[: MAX_TERMS - count]
        if words and words not in out:
            out.append(words)
            count += len(words)
    return out


def _prefix(words: tuple[str, ...]) -> bool:
    # A phrase's last word is a prefix however short: `T5G-12` is the start of `T5G-123`.
    return len(words) > 1 or len(words[-1]) >= MIN_PREFIX


def _fts5_query(phrases: list[tuple[str, ...]]) -> str:
    return " ".join(f'"{" ".join(words)}"' + ("*" if _prefix(words) else "") for words in phrases)


def _tsquery(phrases: list[tuple[str, ...]]) -> str:
    def phrase(words: tuple[str, ...]) -> str:
        return " <-> ".join(f"'{w}'" for w in words) + (":*" if _prefix(words) else "")

    return " & ".join(f"({phrase(words)})" for words in phrases)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _match() -> tuple[str, str]:
    """(FROM and WHERE of the matching rows with one parameter: the query, the rows' case number)."""
    if _postgres():
        return f"{TABLE} WHERE document @@ to_tsquery('simple', %s)", "number"
    # The number from the rowid: reading the stored column would read each matching row (at 10,000 cases a
    # common word's 5,000 rows took longer than the search).
    return f"{TABLE} WHERE {TABLE} MATCH %s", "printf('%%08d', rowid)"


def _query_param(words: list[tuple[str, ...]]) -> str:
    return _tsquery(words) if _postgres() else _fts5_query(words)


# --- reads -------------------------------------------------------------------------------------------------
def matching(q: str) -> RawSQL | None:
    """The numbers of the cases whose text has every word of `q`, as a subquery; None when `q` has no word."""
    words = terms(q)
    if not words:
        return None
    where, number = _match()
    return RawSQL(f"SELECT {number} FROM {where}", [_query_param(words)])


def scores(q: str, *, numbers: list[str]) -> dict[str, float]:
    """Case number -> relevance of those of `numbers` that match `q` (higher is better)."""
    words = terms(q)
    if not words or not numbers:
        return {}
    query = _query_param(words)
    if _postgres():
        sql = (
            f"SELECT number, ts_rank_cd(document, q.query) FROM {TABLE}, (SELECT to_tsquery('simple', %s) AS query) q "
            "WHERE document @@ q.query AND number = ANY(%s)"
        )
        params = [query, list(numbers)]
    else:
        weights = ", ".join([str(NUMBER_WEIGHT)] + [str(w) for _, _, w, _ in COLUMNS])
        # "+rowid": bm25 of the candidates only, picked from the matches (see snippets()): a word in half of
        # 100,000 cases costs 65 ms to score them all.
        sql = (
            f"SELECT printf('%%08d', rowid), -bm25({TABLE}, {weights}) FROM {TABLE} "
            f"WHERE {TABLE} MATCH %s AND +rowid IN (SELECT value FROM json_each(%s))"
        )
        params = [query, json.dumps([int(n) for n in numbers if CASE_NUMBER.match(n)])]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


@dataclass(frozen=True)
class Snippet:
    where: str  # what matched: "JIRA comment", "bug", ...
    html: SafeString  # the text around the match, escaped, the words in <mark>


def marked(text: str) -> SafeString:
    """Snippet text with markers -> escaped HTML, each marked span in <mark>: escaped first, so the text
    cannot make markup; stray markers are dropped."""
    html = MARKED.sub(r"<mark>\1</mark>", escape(text))
    return mark_safe(html.replace(START, "").replace(END, ""))  # noqa: S308 - escaped above


def snippets(q: str, *, numbers: list[str]) -> dict[str, Snippet]:
    """Where each of `numbers` matches `q`: the first column (in COLUMNS order) holding a match, and the
    words around it. Meant for a page of rows."""
    words = terms(q)
    if not words or not numbers:
        return {}
    query = _query_param(words)
    if _postgres():
        return _headlines(query, numbers)
    rowids = json.dumps([int(n) for n in numbers if CASE_NUMBER.match(n)])
    # Each column's snippet; the summary whole (up to FTS5's 64 tokens), as it is shown in place of the plain one.
    parts = [
        f"snippet({TABLE}, {i}, '{START}', '{END}', '…', {64 if name == 'summary' else SNIPPET_TOKENS})"
        for i, name in enumerate(NAMES, start=1)
    ]
    # "+rowid": the rows are picked from the matches, not matched one rowid at a time (FTS5 would run the whole
    # query again per row: 18 ms instead of 0.5 for a page of 50 at 10,000 cases).
    sql = (
        f"SELECT printf('%%08d', rowid), {', '.join(parts)} FROM {TABLE} "
        f"WHERE {TABLE} MATCH %s AND +rowid IN (SELECT value FROM json_each(%s))"
    )
    return _first_marked(sql, [query, rowids])


def _headlines(query: str, numbers: list[str]) -> dict[str, Snippet]:
    """snippets() on PostgreSQL: ts_headline of the first column (in COLUMNS order) that matches."""
    options = f"StartSel={START}, StopSel={END}, MaxWords=18, MinWords=8, MaxFragments=1, FragmentDelimiter=…"
    # The summary is shown whole, its words marked, in place of the plain one.
    whole = f"StartSel={START}, StopSel={END}, HighlightAll=true"
    parts = [
        f"CASE WHEN to_tsvector('simple', regexp_replace({name}, '[^[:alnum:]]+', ' ', 'g')) @@ q.query "
        f"THEN ts_headline('simple', {name}, q.query, '{whole if name == 'summary' else options}') END"
        for name in NAMES
    ]
    sql = (
        f"SELECT number, {', '.join(parts)} FROM {TABLE}, (SELECT to_tsquery('simple', %s) AS query) q "
        f"WHERE document @@ q.query AND number = ANY(%s)"
    )
    return _first_marked(sql, [query, list(numbers)])


def _first_marked(sql: str, params: list) -> dict[str, Snippet]:
    """Run `sql` (rows of a case number and a snippet per column, in COLUMNS order): each case's first snippet
    with a marker (a column without the words gives its opening text, or NULL)."""
    found = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for number, *texts in cursor.fetchall():
            for (name, label, _, _), text in zip(COLUMNS, texts, strict=True):
                if text and START in text:
                    found[number] = Snippet(label, marked(text if name == "summary" else near_match(text)))
                    break
    return found


# Characters of context kept before the first match: a compact row shows one line of a narrow column, and the
# engines centre the fragment (the marked word fell past the cut in most rows at 1440 px, and at 24).
LEAD = 12


def near_match(text: str) -> str:
    """`text` from a word boundary at most LEAD characters before its first match."""
    first = text.index(START)
    if first <= LEAD:
        return text
    start = text.find(" ", first - LEAD, first)
    return "…" + text[start + 1 if start >= 0 else first :].lstrip("…")


# --- the write -----------------------------------------------------------------------------------------------
# The indexed text a case has several rows of: (FROM, WHERE, the case a row belongs to, its text, the order its
# rows are joined in). Comments newest first, so MAX_TEXT keeps the newest.
ACTIVE_CARD = "k.active AND k.removed_at IS NULL"
ROWS = {
    "card": ("cards_card k", ACTIVE_CARD, "k.case_id", "k.key || ' ' || k.summary || ' ' || k.assignee", "k.key"),
    "bugs": (
        "bugs_bug b JOIN bugs_bug_cases l ON l.bug_id = b.id",
        "TRUE",
        "l.case_id",
        "CAST(b.id AS text) || ' ' || b.summary",
        "b.id",
    ),
    "issues": (
        "bugs_issue i JOIN bugs_issue_cases l ON l.issue_id = i.key",
        "TRUE",
        "l.case_id",
        "i.key || ' ' || i.summary",
        "i.key",
    ),
    "jira_comments": (
        "cards_cardcomment m JOIN cards_card k ON m.card_id = k.key",
        f"{ACTIVE_CARD} AND m.removed_at IS NULL",
        "k.case_id",
        "m.body",
        "m.created_at DESC",
    ),
    "portal_comments": ("cases_casecomment m", "m.removed_at IS NULL", "m.case_id", "m.body", "m.created_at DESC"),
}


def _source_sql() -> str:
    """SELECT of each case's indexed text (number first, then COLUMNS), for the cases in a JSON list (%s)."""
    single = {"summary": "c.summary", "account": "c.account", "owner": "c.owner", "product": "c.product",
              "group_name": "d.group_name", "description": "c.description"}  # fmt: skip
    detail = "LEFT JOIN cases_detail d ON d.case_id = c.number AND d.removed_at IS NULL"
    if _postgres():
        # Set-based: each kind of rows read once for the whole batch and joined per case. (Correlated subqueries,
        # one per case and kind, were planned as a scan of every comment per case right after a bulk load, when
        # the planner's statistics still call the tables empty: test_sync_all at 10,000 cases took over 10 min.)
        kinds = ",\n".join(
            f"{name} AS (SELECT {case} AS case_id, string_agg({text}, E'\\n' ORDER BY {order}) AS t FROM {src} "
            f"WHERE {where} AND {case} IN (SELECT number FROM n) GROUP BY 1)"
            for name, (src, where, case, text, order) in ROWS.items()
        )
        head = f"WITH n AS MATERIALIZED (SELECT DISTINCT jsonb_array_elements_text(%s::jsonb) AS number),\n{kinds}\n"
        joins = " ".join(f"LEFT JOIN {name} ON {name}.case_id = c.number" for name in ROWS)
        tail = f"JOIN n ON n.number = c.number {joins} {detail}"
        multiple = {name: f"{name}.t" for name in ROWS}
    else:
        # SQLite looks each case's rows up by index, in order (group_concat keeps its subquery's order; 3.40 has no
        # ORDER BY inside an aggregate).
        head, tail = "", f"{detail} WHERE c.number IN (SELECT value FROM json_each(%s))"
        multiple = {
            name: f"(SELECT group_concat(t, char(10)) FROM (SELECT {text} AS t FROM {src} "
            f"WHERE {where} AND {case} = c.number ORDER BY {order}))"
            for name, (src, where, case, text, order) in ROWS.items()
        }

    def clean(expr: str) -> str:
        out = f"substr(coalesce({expr}, ''), 1, {MAX_TEXT})"
        for marker in (START, END):
            out = f"replace({out}, '{marker}', '')"
        return out

    columns = single | multiple
    return f"{head}SELECT c.number, {', '.join(clean(columns[name]) for name in NAMES)} FROM cases_case c {tail}"


# Cases per statement: one statement's comments of a few hundred cases stay a few MB in memory.
REINDEX_BATCH = 500


def reindex(*, numbers: Iterable[str | None]) -> int:
    """Make the index rows of these cases what the database says now (a case that is gone loses its row).
    Set-based, REINDEX_BATCH cases a statement. Returns how many cases were indexed."""
    wanted = sorted({n for n in numbers if n})
    if not _postgres():
        # The FTS5 rowid is the case number: only the portal's eight-digit numbers (all there are) are indexed.
        wanted = [n for n in wanted if CASE_NUMBER.match(n)]
    done = 0
    source = _source_sql()
    if _postgres():
        delete = f"DELETE FROM {TABLE} WHERE number IN (SELECT jsonb_array_elements_text(%s::jsonb))"
        insert = f"INSERT INTO {TABLE} (number, {', '.join(NAMES)}) {source}"
    else:
        delete = f"DELETE FROM {TABLE} WHERE rowid IN (SELECT CAST(value AS INTEGER) FROM json_each(%s))"
        insert = (
            f"INSERT INTO {TABLE} (rowid, number, {', '.join(NAMES)}) "
            f"SELECT CAST(s.number AS INTEGER), s.* FROM ({source}) s"
        )
    with transaction.atomic(), connection.cursor() as cursor:
        for batch in chunks(wanted, REINDEX_BATCH):
            given = json.dumps(batch)
            cursor.execute(delete, [given])
            cursor.execute(insert, [given])
            done += cursor.rowcount
    return done
