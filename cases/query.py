"""What a cases-table URL asks for: CaseQuery, the values its parameters take and its canonical query string.

cases.forms.CaseQueryForm parses a query string into a CaseQuery; cases.filters turns one into SQL;
the canonical query string (params(), querystring()) names cache entries and makes the table's links.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlencode

from cards.models import InternalStatus

VIEWS = ("open", "all", "trends", "commented")
# view=commented: cases whose card has a JIRA comment in the last `days` days (the old /table/).
DEFAULT_DAYS = 7
MAX_DAYS = 90
DEFAULT_PER = 50
MAX_PER = 200

PRIO_VALUES = ("yes", "potential", "no")
YES_NO = ("yes", "no")
NO_CARD = "none"
UNMAPPED = "unmapped"
STATUS_VALUES = (*InternalStatus.values, UNMAPPED, NO_CARD)

SORTS = ("case", "severity", "prio", "critsit", "summary", "product", "account", "case_status", "status",
         "assignee", "card", "days_open", "updated", "rank", "telco")  # fmt: skip
# Other names a link may use for a column.
SORT_ALIASES = {"number": "case", "crit_sit": "critsit", "internal_status": "status", "jira_card": "card",
                "days": "days_open", "last_updated": "updated"}  # fmt: skip
DEFAULT_SORT = "severity"
# Best match first: the order of a search (q) given no sort; without q, the default order.
RANK = "rank"
# sort= is a comma-separated list of columns, the first the primary ("-severity,days_open"); a repeated
# sort= parameter means the same. More keys than this add nothing a reader can follow.
MAX_SORTS = 4
# Parameter order of the canonical query string (cache keys, links).
PARAMS = ("view", "days", "q", "severity", "prio", "critsit", "product", "account", "status", "case_status", "assignee",
          "escalated", "closed_not_done", "opened_after", "opened_before", "telco", "daily_telco",
          "sort", "page", "per")  # fmt: skip
MULTI = ("severity", "prio", "product", "account", "status", "case_status", "assignee", "telco")
# Telco priority levels a URL may ask for (telco=1 is P1): Telco:Priority-1 … -99 (bugs.issues.TELCO_PRIORITY).
TELCO_LEVELS = range(1, 100)
# What selects rows, as opposed to how they are shown.
NOT_FILTERS = ("sort", "page", "per")


@dataclass(frozen=True)
class CaseQuery:
    """What a cases-table URL asks for. Multi-valued filters are sorted tuples, so equal queries are equal."""

    view: str = "open"
    days: int = DEFAULT_DAYS  # of view=commented only
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
    telco: tuple[int, ...] = ()  # Telco priority levels of a linked JIRA bug (1 = P1)
    daily_telco: str = ""  # "yes", "no" or "": the card carries settings.DAILY_TELCO_LABEL
    sort: str = DEFAULT_SORT  # names of SORTS, comma-separated, each with "-" in front for descending
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
            if value == (self.default_sort if name == "sort" else getattr(DEFAULT_QUERY, name)) or (
                name == "days" and self.view != "commented"
            ):
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
        # Commas left as they are: "sort=-severity,days_open" reads better in the address bar.
        return urlencode(query.params(), safe=",")

    def toggled(self, name: str, value) -> str:
        """The query string with `value` added to or removed from the multi-valued filter `name`."""
        values = getattr(self, name)
        changed = tuple(v for v in values if v != value) if value in values else (*values, value)
        return self.querystring(**{name: changed})

    @property
    def sorts(self) -> list[tuple[str, bool]]:
        """The sort keys, primary first: (column, descending)."""
        return sort_keys(self.sort)

    def sorted_by(self, column: str) -> str:
        """The query string sorting by `column` alone: ascending, or descending when it is the primary sort
        and ascending."""
        primary, descending = self.sorts[0]
        return self.querystring(sort=f"-{column}" if primary == column and not descending else column)

    def sorted_also_by(self, column: str) -> str:
        """The query string with `column` added as the last sort key (ascending), or, when it is one of
        them already, with its direction turned (a shift-click on a header)."""
        keys = self.sorts
        if column in (c for c, _ in keys):
            keys = [(c, not d if c == column else d) for c, d in keys]
        else:
            # At the most keys already, the new one takes the last one's place: the primary sorts stay.
            keys = [*keys[: MAX_SORTS - 1], (column, False)]
        return self.querystring(sort=join_sorts(keys))

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
    """The column a sort key names (aliases resolved) and whether it is descending."""
    column = sort.lstrip("-")
    return SORT_ALIASES.get(column, column), sort.startswith("-")


def sort_keys(sort: str) -> list[tuple[str, bool]]:
    """A canonical sort= value (CaseQuery.sort) as its keys, primary first: (column, descending)."""
    return [sort_column(key) for key in sort.split(",")]


def join_sorts(keys: list[tuple[str, bool]]) -> str:
    return ",".join(f"-{column}" if descending else column for column, descending in keys)
