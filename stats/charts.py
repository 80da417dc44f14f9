"""The stats' tables and charts: a scope's counts (each linked to the cases behind it), the breakdowns,
the daily history and the relief / resolution times.

The stats page and the account and engineer pages (reports) draw their stats with these, so a metric
reads and links the same everywhere. Charts are Chart.js configurations, drawn by templates/stats/_chart.html.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.urls import reverse

from cases.models import Severity

from . import selectors
from .selectors import BUCKETS, DURATIONS

HISTORY_DAYS = 90
BUCKET_LABELS = [label for label, *_ in BUCKETS]
# The severity badges' colours (t5g.css), so a chart reads like the tables beside it.
SEVERITY_COLOURS = {
    Severity.URGENT: "#c9190b",
    Severity.HIGH: "#b45309",  # the badge's: 5.0:1 with white text (WCAG AA)
    Severity.NORMAL: "#2b6cb0",
    Severity.LOW: "#6a6e73",
}

# The counts of a scope's metrics: (metric, label, the cases table's query showing those cases, or None
# where the table has no such view). The cases table's parameter names are fixed (cases/views.py).
COUNTS = [
    ("open_cases", "Open cases", {"view": "open"}),
    ("high_prio", "High priority (urgent or high)", {"severity": ["1", "2"]}),
    ("escalated", "On the prio-list", {"prio": "yes"}),
    ("crit_sit", "Crit sit", {"critsit": "yes"}),
    ("total_escalations", "Escalated (prio-list or crit sit)", {"escalated": "yes"}),
    ("opened_today", "Opened in the last day", None),
    ("opened_week", "Opened in the last week", None),
    ("closed_today", "Closed in the last day", None),
    ("closed_week", "Closed in the last week", None),
    ("no_updates", "Open, no update in the last week", None),
    ("no_bugs", "Open, no bug linked", None),
    ("unique_bugs", "Unique bugs (Bugzilla and JIRA)", None),
    ("bugs_no_target", "Bugs with no target release", None),
]
# The history chart's lines, each its own colour (Chart.js's default palette repeats after seven): Tableau's
# ten, and a dark grey, all at least 3:1 against a white and a dark background.
SERIES = [
    ("open_cases", "Open cases", "#4e79a7"),
    ("high_prio", "High priority", "#f28e2b"),
    ("escalated", "Prio-list", "#e15759"),
    ("crit_sit", "Crit sit", "#76b7b2"),
    ("total_escalations", "Total escalations", "#59a14f"),
    ("opened_today", "Incoming", "#edc948"),
    ("closed_today", "Outgoing", "#b07aa1"),
    ("no_updates", "No recent updates", "#ff9da7"),
    ("no_bugs", "No bug attached", "#9c755f"),
    ("unique_bugs", "Unique bugs", "#bab0ac"),
    ("bugs_no_target", "Bugs with no target", "#6b6b6b"),
]
# A count axis: from zero, whole numbers only (no "2.5 cases").
COUNT_AXIS = {"y": {"beginAtZero": True, "ticks": {"precision": 0}}}
# Under this many days of history the chart says how it fills and how to backfill it.
HISTORY_ENOUGH = 7
DURATION_TITLES = {"relief_days": "Time to relief", "resolution_days": "Time to resolution"}


def cases_url(**params) -> str:
    return reverse("cases") + "?" + urlencode(params, doseq=True)


def count_rows(metrics: dict, *, scope_params: dict[str, str] | None = None) -> list[dict]:
    """The counts as {label, value, url}; scope_params (account=… or assignee=…) narrow every link."""
    scope_params = scope_params or {}
    return [
        {
            "key": key,
            "label": label,
            "value": metrics.get(key, 0),
            "url": cases_url(**query, **scope_params) if query is not None else "",
        }
        for key, label, query in COUNTS
    ]


def _by_count(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def breakdowns(metrics: dict) -> list[dict]:
    """The open cases by customer, engineer, severity and case status, each row linked where a page shows them."""
    customers = [
        {"label": name or "(no account)", "value": n, "url": reverse("account", args=[name]) if name else ""}
        for name, n in _by_count(metrics.get("by_customer", {}))
    ]
    engineers = [
        {
            "label": name,
            "value": n,
            # "(unassigned)" is not a person: no page.
            "url": "" if name.startswith("(") else reverse("engineer", args=[name]),
        }
        for name, n in _by_count(metrics.get("by_engineer", {}))
    ]
    by_severity = metrics.get("by_severity", {})
    # The stored metrics name severities by their labels.
    severities = [
        {"label": s.label, "value": by_severity[s.label], "url": cases_url(severity=s.value), "severity": s.value}
        for s in Severity
        if s.label in by_severity
    ]
    statuses = [{"label": name, "value": n, "url": ""} for name, n in _by_count(metrics.get("by_status", {}))]
    return [
        {"title": "By severity", "column": "Severity", "rows": severities},
        {"title": "By status", "column": "Case status", "rows": statuses},
        {"title": "By customer", "column": "Account", "rows": customers},
        {"title": "By engineer", "column": "Engineer", "rows": engineers},
    ]


def history_chart(rows: list[dict]) -> dict:
    """A line chart (Chart.js configuration) of the history rows of stats_history(keys=SERIES)."""
    return {
        "type": "line",
        "data": {
            "labels": [row["date"].isoformat() for row in rows],
            "datasets": [
                {
                    "label": label,
                    "data": [row.get(key) or 0 for row in rows],
                    "borderColor": colour,
                    "backgroundColor": colour,
                    "pointRadius": 0 if len(rows) > 1 else 4,
                }
                for key, label, colour in SERIES
            ],  # fmt: skip
        },
        "options": {"interaction": {"mode": "index", "intersect": False}, "scales": COUNT_AXIS},
    }


def history(*, scope: str, start: date, end: date) -> list[dict]:
    return selectors.stats_history(scope=scope, start=start, end=end, keys=[key for key, *_ in SERIES])


def duration_sections(metrics: dict, *, prefix: str) -> list[dict]:
    """Per duration (relief, resolution): a bar chart of the day buckets per severity and the
    count / mean / median table. `prefix` keeps the charts' element ids unique on a page."""
    sections = []
    for name in DURATIONS:
        per_severity = metrics.get(name) or {}
        severities = [s for s in Severity if s.label in per_severity]
        chart = {
            "type": "bar",
            "data": {
                "labels": BUCKET_LABELS,
                "datasets": [
                    {
                        "label": s.label,
                        "data": [per_severity[s.label]["histogram"].get(bucket, 0) for bucket in BUCKET_LABELS],
                        "backgroundColor": SEVERITY_COLOURS[s],
                    }
                    for s in severities
                ],
            },
            "options": {
                "scales": {
                    "x": {"title": {"display": True, "text": "days"}},
                    "y": {"beginAtZero": True, "ticks": {"precision": 0}, "title": {"display": True, "text": "cases"}},
                }
            },
        }
        rows = [{"severity": s.label, "value": s.value, **per_severity[s.label]} for s in severities]
        sections.append(
            {"id": f"{prefix}-{name.replace('_', '-')}", "title": DURATION_TITLES[name], "chart": chart, "rows": rows}
        )
    return sections
