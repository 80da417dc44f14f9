"""The cases table (/cases/): filters, facets, sorting and paging in the query string; exports; expanded rows."""

from __future__ import annotations

import csv
import functools
import io
import re
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import IO

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from t5g.cache import cached
from t5g.links import bugzilla_bug_url, jira_issue_url, portal_case_url

from .forms import CaseQueryForm
from .query import TELCO_LEVELS, CaseQuery
from .selectors import (
    EXPORT_COLUMNS,
    TABLE_FEEDS,
    case_detail,
    case_page,
    export_rows,
    facets,
    facets_and_page,
)
from .templatetags.cases import severity as severity_label

# Days open and SLA colours move with the clock, not with a sync: a cached page lives at most this long.
CACHE_SECONDS = 300

VIEW_TITLES = {"open": "Open cases", "all": "All cases", "trends": "Trends", "commented": "Recently commented"}
PRIO_LABELS = {"yes": "Yes", "potential": "Potentially", "no": "No"}
STATUS_LABELS = {"unmapped": "unmapped JIRA status", "none": "no card"}
TELCO_LABELS = {n: f"P{n}" for n in TELCO_LEVELS}


def _htmx_fragment(request: HttpRequest) -> bool:
    # A history restore (back button after the local snapshot is gone) needs the whole page.
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def _facet_values(facet, query: CaseQuery, *, labels=None) -> list[dict]:
    """A facet's values with their counts and the query string toggling each; selected values always show."""
    selected = set(getattr(query, facet.name))
    counts = dict(facet.counts)
    values = [v for v, _ in facet.counts] + sorted(selected - set(counts), key=str)
    return [
        {
            "value": v,
            "label": (labels or {}).get(v, v) if v != "" else "(none)",
            "count": counts.get(v, 0),
            "selected": v in selected,
            # A blank account or product cannot be asked for in a URL: shown, not linked.
            "url": query.toggled(facet.name, v) if v != "" else None,
        }
        for v in values
    ]


def _choice_values(facet, query: CaseQuery, *, labels: dict) -> list[dict]:
    """A yes/no facet: each value links to that choice, or back to either when it is the current one."""
    current = getattr(query, facet.name)
    counts = dict(facet.counts)
    return [
        {
            "value": v,
            "label": label,
            "count": counts.get(v, 0),
            "selected": current == v,
            "url": query.querystring(**{facet.name: "" if current == v else v}),
        }
        for v, label in labels.items()
        if counts.get(v) or current == v
    ]


# The table's columns after the expand button: label and the sort= name (None: not sortable).
COLUMNS = [
    ("Case", "case"),
    ("Severity", "severity"),
    ("On prio-list", "prio"),
    ("Crit sit", "critsit"),
    ("Summary", "summary"),
    ("Product", "product"),
    ("Account", "account"),
    ("Case status", "case_status"),
    ("Internal status", "status"),
    ("Assignee", "assignee"),
    ("JIRA card", "card"),
    ("Most recent comment", None),
    ("Days open", "days_open"),
    ("Last updated", "updated"),
]
PER_CHOICES = (25, 50, 100, 200)
# Set from the search form, not from links: the form carries every other parameter as hidden inputs.
FORM_PARAMS = ("days", "q", "opened_after", "opened_before", "per", "page")


def _headers(query: CaseQuery) -> list[dict]:
    """Each column's header: its sort links (a click sorts by it alone, a shift-click adds it: t5g.js), and,
    when it is sorted on, the direction and its place among the sort keys (shown when there are several)."""
    keys = {column: (i, descending) for i, (column, descending) in enumerate(query.sorts, start=1)}
    headers = []
    for label, name in COLUMNS:
        place, descending = keys.get(name, (0, False))
        headers.append(
            {
                "label": label,
                "url": query.sorted_by(name) if name else None,
                "add_url": query.sorted_also_by(name) if name else None,
                "direction": ("descending" if descending else "ascending") if place else "",
                # aria-sort belongs on one header at a time (WAI-ARIA): the primary sort's.
                "aria_sort": ("descending" if descending else "ascending") if place == 1 else "",
                "place": place if len(keys) > 1 else 0,
            }
        )
    return headers


def _chips(query: CaseQuery) -> list[tuple[str, str]]:
    """The active filters, each with the query string that removes it."""
    labels = {
        "severity": lambda v: severity_label(v),
        "prio": lambda v: PRIO_LABELS.get(v, v),
        "status": lambda v: STATUS_LABELS.get(v, v),
        "telco": lambda v: TELCO_LABELS.get(v, v),
    }
    chips = []
    for name, value in query.params():
        if name in ("view", "days", "sort", "page", "per"):
            continue
        label = CaseQueryForm.base_fields[name].label or name
        if name in ("severity", "prio", "status", "product", "account", "case_status", "assignee", "telco"):
            typed = int(value) if name in ("severity", "telco") else value
            chips.append((f"{label}: {labels.get(name, str)(typed)}", query.toggled(name, typed)))
        elif name == "closed_not_done":
            chips.append((label, query.querystring(closed_not_done=False)))
        else:
            chips.append((f"{label}: {value}", query.querystring(**{name: getattr(CaseQuery(), name)})))
    return chips


def _facets_key(query: CaseQuery) -> str:
    # Facets depend on the filters only: paging or sorting reuses them.
    return f"cases-facets:{query.filters.querystring()}"


def _current_facets(query: CaseQuery) -> dict:
    """The facets of `query` as the data is now, for those of a query that adds a filter to it (never an old copy:
    the new facets would be cached as current). Measured at 100,000 cases: counting the unfiltered set again was
    20 of the ~80 ms a page of /cases/?severity=1 took to build."""
    build = functools.partial(facets, query=query, facets_of=_current_facets)
    return cached(_facets_key(query), feeds=TABLE_FEEDS, build=build, timeout=CACHE_SECONDS, old_ok=False)[0]


def _table_content(query: CaseQuery) -> str:
    built = {}

    def build_facets() -> dict:
        built["facets"], built["page"] = facets_and_page(query=query, facets_of=_current_facets)
        return built["facets"]

    counts, _ = cached(_facets_key(query), feeds=TABLE_FEEDS, build=build_facets, timeout=CACHE_SECONDS)
    page = built.get("page") or case_page(query=query, total=counts["total"])
    # Links made here rather than with {% url %}: the same few accounts and engineers recur on a page.
    account_url = functools.cache(lambda account: reverse("account", args=[account]))
    engineer_url = functools.cache(lambda name: reverse("engineer", args=[name]))
    for row in page.rows:
        row.row_url = reverse("case_row", args=[row.number])
        row.portal_url = portal_case_url(row.number)
        row.card_url = jira_issue_url(row.card_key) if row.card_key else ""
        row.account_url = account_url(row.account) if row.account else ""
        row.assignee_url = engineer_url(row.assignee) if row.assignee else ""
        row.contributor_links = [
            (name, engineer_url(name))
            for name in row.contributors or []
            if isinstance(name, str) and name.strip() and name != row.assignee
        ]
    severities = {v: severity_label(v) for v in (*dict(counts["severity"].counts), *query.severity)}
    yes_no = {"yes": "Yes", "no": "No"}
    panes = [
        ("Severity", _facet_values(counts["severity"], query, labels=severities), 0),
        ("On prio-list", _facet_values(counts["prio"], query, labels=PRIO_LABELS), 0),
        ("Escalated", _choice_values(counts["escalated"], query, labels=yes_no), 0),
        ("Crit sit", _choice_values(counts["critsit"], query, labels=yes_no), 0),
        ("Telco priority", _facet_values(counts["telco"], query, labels=TELCO_LABELS), 0),
        ("On the Daily Telco list", _choice_values(counts["daily_telco"], query, labels=yes_no), 0),
        ("Internal status", _facet_values(counts["status"], query, labels=STATUS_LABELS), 0),
        ("Product", _facet_values(counts["product"], query), counts["product"].more),
        ("Account", _facet_values(counts["account"], query), counts["account"].more),
    ]
    closed_not_done = dict(counts["closed_not_done"].counts).get(True, 0)
    pages = {
        "first": query.querystring(page=1),
        "previous": query.querystring(page=page.number - 1),
        "next": query.querystring(page=page.number + 1),
        "last": query.querystring(page=page.num_pages),
    }
    return render_to_string(
        "cases/_content.html",
        {
            "query": query,
            "page": page,
            "pages": pages,
            "panes": panes,
            "headers": _headers(query),
            "chips": _chips(query),
            "clear": CaseQuery(view=query.view, days=query.days, sort=query.sort, per=query.per).querystring(),
            "hidden": [(n, v) for n, v in query.params() if n not in FORM_PARAMS],
            "per_choices": sorted({*PER_CHOICES, query.per}),
            # Exports are of every row: the page is left out.
            "filters_qs": query.querystring(page=1),
            "closed_not_done": {
                "count": closed_not_done,
                "selected": query.closed_not_done,
                "url": query.querystring(closed_not_done=not query.closed_not_done),
            },
            "views": [(v, t, query.querystring(view=v)) for v, t in VIEW_TITLES.items()],
            "title": VIEW_TITLES[query.view],
        },
    )


@require_GET
def table(request: HttpRequest) -> HttpResponse:
    form = CaseQueryForm(request.GET)
    query = form.query()
    content, degraded = cached(
        f"cases:{query.querystring()}", feeds=TABLE_FEEDS, build=lambda: _table_content(query), timeout=CACHE_SECONDS
    )
    context = {
        "content": content,
        "degraded": degraded,
        "errors": form.messages(),
        "title": VIEW_TITLES[query.view],
    }
    fragment = _htmx_fragment(request)
    # A bad parameter is the request's fault (400), but the page still shows, with the rest applied.
    # htmx does not swap an error response, so its requests get the same page as a 200.
    status = 400 if context["errors"] and not fragment else 200
    response = render(request, "cases/_fragment.html" if fragment else "cases/table.html", context, status=status)
    if fragment and not context["errors"]:
        # The address bar shows the canonical URL, not the form's empty fields.
        response["HX-Push-Url"] = f"{reverse('cases')}?{query.querystring()}".rstrip("?")
    # The same URL answers htmx with a fragment and a browser with a page: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def row(request: HttpRequest, number: str) -> HttpResponse:
    """The expanded row of a case: a <tr> for htmx, a page of its own without JavaScript."""

    def build() -> str:
        detail = case_detail(number=number)
        if detail is None:
            return ""
        for bug in detail.bugs:
            bug.url = bugzilla_bug_url(bug.id)
        for issue in detail.issues:
            issue.url = jira_issue_url(issue.key)
        card_url = jira_issue_url(detail.card.key) if detail.card else ""
        return render_to_string("cases/_row.html", {"d": detail, "card_url": card_url, "colspan": len(COLUMNS) + 1})

    content, degraded = cached(f"case_row:{number}", feeds=TABLE_FEEDS, build=build, timeout=CACHE_SECONDS)
    if not content:
        raise Http404("No such case")
    if _htmx_fragment(request):
        response = HttpResponse(content)
    else:
        response = render(request, "cases/row_page.html", {"content": content, "number": number, "degraded": degraded})
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- exports -----------------------------------------------------------------------------------------------
def _export_query(request: HttpRequest) -> tuple[CaseQuery | None, HttpResponse | None]:
    form = CaseQueryForm(request.GET)
    if messages := form.messages():
        return None, HttpResponse("\n".join(messages) + "\n", status=400, content_type="text/plain; charset=utf-8")
    return form.query(), None


def _filename(query: CaseQuery, ext: str) -> str:
    return f"t5g-cases-{query.view}-{timezone.localdate():%Y-%m-%d}.{ext}"


def _export_values(row: dict) -> list:
    """One export row: the table's columns, as text, numbers and naive UTC times."""
    status = row["internal_status"]
    if status is None:
        status = ""
    elif status == "":
        status = f"{row['jira_status']} (unmapped)"
    return [
        row["number"],
        severity_label(row["severity"]),
        PRIO_LABELS[row["prio"]],
        "Yes" if row["crit_sit"] else "No",
        row["summary"],
        row["product"],
        row["account"],
        row["status"],
        status,
        row["assignee"] or "",
        ", ".join(str(c) for c in row["contributors"] or []),
        row["card_key"] or "",
        _naive(row["comment_at"]),
        row["comment"] or "",
        row["days_open"],
        _naive(row["upstream_updated_at"]),
    ]


def _naive(value: datetime | None) -> datetime | None:
    # Spreadsheets have no time zones: times are exported in UTC, as stored.
    return timezone.make_naive(value, UTC) if value else None


# A cell starting with one of these is a formula to a spreadsheet: upstream text must stay text. Excel folds the
# fullwidth signs to their ASCII forms.
FORMULA_SIGNS = "=+-@＝＋－＠"
FORMULA_START = (*FORMULA_SIGNS, "\t", "\r")
# A sign after a delimiter that some locale's spreadsheet splits cells at (";" in much of Europe, tabs, pipes) or
# a line break: "x;=HYPERLINK(…)" is two cells there, the second a formula.
FORMULA_SEGMENT = re.compile(rf"([,;\t|\r\n]\s*)([{re.escape(FORMULA_SIGNS)}])")


class _Echo:
    def write(self, value: str) -> str:
        return value


# A team asks for the same few filtered exports again and again: each is cached as the table's pages are (under the
# generations of what it reads, one build at a time), unless it is larger than this, which is then made from the
# database each time. Measured at 100,000 cases: the open severity-1 cases, ~1 MB of CSV, took 100-210 ms to build,
# and exports (5% of the load test's requests) were a fifth of the web workers' CPU.
EXPORT_CACHE_CHARS = 4 * 1024 * 1024  # characters of CSV, bytes of XLSX


def _cached_export(query: CaseQuery, kind: str, build: Callable[[], bytes | None]) -> bytes | None:
    """The export's bytes, or None when it is too large to cache (build() says so, and that is cached too)."""
    body, _ = cached(
        f"cases-export:{kind}:{query.querystring()}", feeds=TABLE_FEEDS, build=build, timeout=CACHE_SECONDS
    )
    return body


def _csv_lines(query: CaseQuery) -> Iterator[str]:
    # Every text cell quoted: a delimiter inside one never splits it, whatever delimiter the reader assumes.
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_NONNUMERIC)
    yield "\ufeff"  # so that spreadsheets read the file as UTF-8
    yield writer.writerow(EXPORT_COLUMNS)
    for row in export_rows(query=query):
        yield writer.writerow([_csv_cell(v) for v in _export_values(row)])


@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    query, error = _export_query(request)
    if error:
        return error

    def build() -> bytes | None:
        lines, size = [], 0
        for line in _csv_lines(query):
            size += len(line)
            if size > EXPORT_CACHE_CHARS:
                return None
            lines.append(line)
        return "".join(lines).encode()

    body = _cached_export(query, "csv", build)
    if body is None:  # too large to cache: streamed from the database
        response = StreamingHttpResponse(_csv_lines(query), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(query, "csv")}"'
    return response


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str):
        return _not_a_formula(value)
    return value


def _not_a_formula(text: str) -> str:
    """Text a spreadsheet shows as text: a leading quote before a formula's sign, at the start and after every
    delimiter. The XLSX export needs none of this (its cells are typed as text): README says it is the safe one."""
    text = FORMULA_SEGMENT.sub(r"\1'\2", text)
    return "'" + text if text.lstrip(" ").startswith(FORMULA_START) else text


def _xlsx_file(query: CaseQuery) -> IO[bytes]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(VIEW_TITLES[query.view])
    sheet.append(EXPORT_COLUMNS)
    for row in export_rows(query=query):
        sheet.append([_xlsx_cell(sheet, v) for v in _export_values(row)])
    # Spooled: a small export stays in memory, a 100k-row one goes to disk.
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - the caller closes it
    workbook.save(out)
    out.seek(0)
    return out


@require_GET
def export_xlsx(request: HttpRequest) -> HttpResponse:
    query, error = _export_query(request)
    if error:
        return error

    def build() -> bytes | None:
        with _xlsx_file(query) as out:
            if out.seek(0, io.SEEK_END) > EXPORT_CACHE_CHARS:
                return None
            out.seek(0)
            return out.read()

    body = _cached_export(query, "xlsx", build)
    out = io.BytesIO(body) if body is not None else _xlsx_file(query)
    return FileResponse(
        out,
        as_attachment=True,
        filename=_filename(query, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _xlsx_cell(sheet, value):
    if not isinstance(value, str):
        return value
    # Control characters are invalid in XLSX (openpyxl refuses them); a leading "=" must not become a formula.
    cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value)[:32767])
    cell.data_type = "s"
    return cell
