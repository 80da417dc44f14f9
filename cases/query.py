"""What a cases-table URL asks for: CaseQuery, the values its parameters take and its canonical query string.

cases.forms.CaseQueryForm parses a query string into a CaseQuery; cases.filters turns one into SQL;
the canonical query string (params(), querystring()) names cache entries and makes the table's links.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlencode

from cards.models import InternalStatus

VIEWS = ("open", "all", "trends")
DEFAULT_PER = 50
MAX_PER = 200

PRIO_VALUES = ("yes", "potential", "no")
YES_NO = ("yes", "no")
NO_CARD = "none"
UNMAPPED = "unmapped"
STATUS_VALUES = (*InternalStatus.values, UNMAPPED, NO_CARD)

SORTS = ("case", "severity", "prio", "critsit", "summary", "product", "account", "case_status", "status",
         "assignee", "card", "days_open", "updated", "rank")  # fmt: skip
# Other names a link may use for a column.
SORT_ALIASES = {"number": "case", "crit_sit": "critsit", "internal_status": "status", "jira_card": "card",
                "days": "days_open", "last_updated": "updated"}  # fmt: skip
DEFAULT_SORT = "severity"
# Best match first: the order of a search (q) given no sort; without q, the default order.
RANK = "rank"
# Parameter order of the canonical query string (cache keys, links).
PARAMS = ("view", "q", "severity", "prio", "critsit", "product", "account", "status", "case_status", "assignee",
          "escalated", "closed_not_done", "opened_after", "opened_before", "sort", "page", "per")  # fmt: skip
MULTI = ("severity", "prio", "product", "account", "status", "case_status", "assignee")
# What selects rows, as opposed to how they are shown.
NOT_FILTERS = ("sort", "page", "per")


@dataclass(frozen=True)
class CaseQuery:
    """What a cases-table URL asks for. Multi-valued filters are sorted tuples, so equal queries are equal."""

    view: str = "open"
    q: str = ""
    severity: tuple[int, ...] = ()
    prio: tuple[str, ...] = ()
    critsit: str = ""  # "yes", "no" or "" (either)
    product: tuple[str, ...] = ()
    account: tuple[str, ...] = ()
    status: tuple[str, ...] = ()  # internal statuses, "unmapped" or "none" (no card)
    case_status: tuple[str, ...] = ()
    assignee: tuple[str, ...] = ()
    escalated: str = ""  # "yes", "no" or ""
    closed_not_done: bool = False
    opened_after: date | None = None
    opened_before: date | None = None
    sort: str = DEFAULT_SORT  # a name of SORTS, "-" in front for descending
    page: int = 1
    per: int = DEFAULT_PER

    def __post_init__(self):
        for name in MULTI:
            object.__setattr__(self, name, tuple(sorted(set(getattr(self, name)))))

    def params(self) -> list[tuple[str, str]]:
        """The query as (name, value) pairs in a fixed order, defaults left out."""
        out: list[tuple[str, str]] = []
        for name in PARAMS:
            value = getattr(self, name)
            if value == (self.default_sort if name == "sort" else getattr(DEFAULT_QUERY, name)):
                continue
            if name in MULTI:
                out += [(name, str(v)) for v in value]
            elif name == "closed_not_done":
                out.append((name, "1"))
            elif isinstance(value, date):
                out.append((name, value.isoformat()))
            else:
                out.append((name, str(value)))
        return out

    def querystring(self, **changes) -> str:
        """The canonical query string (no "?"), with `changes` applied; changing a filter goes back to page 1."""
        query = self
        if changes:
            if "page" not in changes:
                changes["page"] = 1
            query = replace(self, **changes)
        return urlencode(query.params())

    def toggled(self, name: str, value) -> str:
        """The query string with `value` added to or removed from the multi-valued filter `name`."""
        values = getattr(self, name)
        changed = tuple(v for v in values if v != value) if value in values else (*values, value)
        return self.querystring(**{name: changed})

    def sorted_by(self, column: str) -> str:
        """The query string sorting by `column`: ascending, or descending when it is already ascending."""
        return self.querystring(sort=f"-{column}" if self.sort == column else column)

    @property
    def default_sort(self) -> str:
        """The order when the URL names none: best match first for a search."""
        return RANK if self.q else DEFAULT_SORT

    @property
    def filters(self) -> CaseQuery:
        """The same selection, default sort and paging: what facets and counts depend on."""
        return replace(self, **{n: getattr(DEFAULT_QUERY, n) for n in NOT_FILTERS})


DEFAULT_QUERY = CaseQuery()


def sort_column(sort: str) -> tuple[str, bool]:
    """The column a sort= value names (aliases resolved) and whether it is descending."""
    column = sort.lstrip("-")
    return SORT_ALIASES.get(column, column), sort.startswith("-")
