"""What the report pages show: each page's body (rendered once, then cached by the views), built from the
reads of reports.selectors and the stats' charts (stats.charts).

Upstream text is escaped by the templates, links pass safe_url. Every page shows a bounded number of
rows, says when it left rows out and links to where the rest can be seen: the cases table, the next
page, JIRA.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import groupby
from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from bugs.models import Bug, Issue
from cards.models import Card, InternalStatus
from cards.selectors import active_status_counts
from cases.models import Severity
from cases.selectors import new_cases
from escalations.models import Escalation
from stats import charts
from stats import selectors as stats_selectors
from t5g.links import bugzilla_bug_url, jira_issue_url, portal_case_url

from .forms import DEFAULT_DAYS
from .selectors import (
    CLOSED,
    INDEX_ROWS,
    STATUS_ORDER,
    CardPage,
    Comments,
    Linked,
    account_exists,
    account_index,
    cards_page,
    case_bugs,
    engineer_exists,
    engineer_index,
    linked_bugs,
    newest_comments,
    open_case_counts,
    open_cases,
    scope_cards,
    weekly_cards,
)

UNMAPPED = "Unmapped"
ESCALATED = (Escalation.Type.PRIO_LIST, Escalation.Type.CRIT_SIT)
# What the updates and the weekly report show of each card. Comments are JIRA text, sometimes whole logs: they are cut.
CARD_COMMENTS = 5  # comments per card on the updates
CARD_BUGS = 10  # bugs and JIRA issues per card on the updates
COMMENT_CHARS = 1000  # of each comment on the updates
WEEKLY_COMMENT_CHARS = 500
NEW_CASE_DAYS = 7
# The home page lists at most this many of them (most severe first); the table has the rest.
NEW_CASE_LIMIT = 100


def home_content() -> str:
    """The home page's body: the week's new cases and the active cards by internal status."""
    since = timezone.now() - timedelta(days=NEW_CASE_DAYS)
    cases, total = new_cases(since=since, limit=NEW_CASE_LIMIT)
    counts = active_status_counts()
    # Open work only: Done would dwarf every open status (it is given as a number beside the chart).
    statuses = [label for _, label in InternalStatus.choices if label != InternalStatus.DONE]
    chart = {
        "type": "bar",
        "data": {
            "labels": statuses,
            "datasets": [{"label": "Cards", "data": [counts.get(s, 0) for s in statuses]}],
        },
        "options": {"plugins": {"legend": {"display": False}}, "scales": charts.COUNT_AXIS},
    }
    return render_to_string(
        "reports/home_content.html",
        {
            "new_cases": cases,
            "total": total,
            "since": since.date(),
            "days": NEW_CASE_DAYS,
            "chart": chart,
            "done": counts.get(InternalStatus.DONE, 0),
            "unmapped": counts.get("", 0),
        },
    )


def _severity_chart(counts: Counter) -> dict:
    severities = [s for s in Severity if counts[s]]
    return {
        "type": "doughnut",
        "data": {
            "labels": [s.label for s in severities],
            "datasets": [
                {
                    "label": "Cards",
                    "data": [counts[s] for s in severities],
                    "backgroundColor": [charts.SEVERITY_COLOURS[s] for s in severities],
                }
            ],
        },
    }


def _status_chart(counts: Counter) -> dict:
    labels = [label for _, label in InternalStatus.choices if counts[label]]
    if counts[""]:
        labels.append(UNMAPPED)
    return {
        "type": "pie",
        "data": {
            "labels": labels,
            "datasets": [{"label": "Cards", "data": [counts["" if label == UNMAPPED else label] for label in labels]}],
        },
    }


def _case_rows(cases: list[dict]) -> list[dict]:
    now = timezone.now()
    return [
        {
            **case,
            "days_open": (now - case["created_at"]).days,
            "prio_list": case["escalation_type"] == Escalation.Type.PRIO_LIST or bool(case["card_escalated"]),
            "card_url": jira_issue_url(case["card_key"]) if case["card_key"] else "",
        }
        for case in cases
    ]


def scope_content(*, kind: str, name: str) -> str | None:
    """The body of an account's (kind "account") or an engineer's page, or None when nobody knows the name."""
    scope = {"account": name} if kind == "account" else {"engineer": name}
    counts = open_case_counts(**scope)
    # Open cases prove the name; without any, it may still be known (closed cases, the team, stats).
    known = counts.total or (account_exists(account=name) if kind == "account" else engineer_exists(name=name))
    if not known:
        return None
    table_params = {"account": name} if kind == "account" else {"assignee": name}
    cases = open_cases(**scope) if counts.total else []
    stats_scope = f"{kind}:{name}"
    latest = stats_selectors.latest_stats(scope=stats_scope)
    metrics = latest.metrics if latest else {}
    today = timezone.now().date()
    history = charts.history(scope=stats_scope, start=today - timedelta(days=charts.HISTORY_DAYS), end=today)
    linked, bugs_total = linked_bugs(account=name) if kind == "account" else ([], 0)
    return render_to_string(
        "reports/scope_content.html",
        {
            "kind": kind,
            "name": name,
            "cases": _case_rows(cases),
            "cases_total": counts.total,
            "table_url": charts.cases_url(**table_params),
            "latest": latest,
            "counts": charts.count_rows(metrics, scope_params=table_params),
            "history_chart": charts.history_chart(history),
            "history_days": len(history),
            "durations": charts.duration_sections(metrics, prefix=kind),
            "cards_count": counts.with_card,
            "severity_chart": _severity_chart(counts.card_severity),
            "status_chart": _status_chart(counts.card_status),
            "bugs": [_linked_row(bug.item, cases=bug.cases, more_cases=bug.more_cases) for bug in linked],
            "bugs_total": bugs_total,
            # Bugs count the account's closed cases too.
            "bugs_table_url": charts.cases_url(view="all", **table_params),
        },
    )


def _linked_row(item: Bug | Issue, *, cases: list[str] | None = None, more_cases: int = 0) -> dict:
    """A Bugzilla bug or a JIRA issue as templates/reports/_bugs.html shows it."""
    to_row = _bug_row if isinstance(item, Bug) else _issue_row
    return to_row(item, cases=cases, more_cases=more_cases)


def _bug_row(bug: Bug, *, cases: list[str] | None = None, more_cases: int = 0) -> dict:
    return {
        "kind": "Bugzilla",
        "id": str(bug.id),
        "url": bugzilla_bug_url(bug.id),
        "summary": "(restricted)" if bug.restricted and not bug.summary else bug.summary,
        "severity": " / ".join(v for v in (bug.priority, bug.severity) if v),
        "target": bug.target_release,
        "missing_target": bug.missing_target and not bug.restricted,
        "assignee": bug.assignee,
        "qa_contact": bug.qa_contact,
        "updated": bug.upstream_updated_at,
        "status": " ".join(v for v in (bug.status, bug.resolution) if v),
        "cases": cases or [],
        "more_cases": more_cases,
    }


def _issue_row(issue: Issue, *, cases: list[str] | None = None, more_cases: int = 0) -> dict:
    return {
        "kind": "JIRA",
        "id": issue.key,
        "url": jira_issue_url(issue.key),
        "summary": issue.summary,
        "severity": " / ".join(v for v in (issue.priority, issue.severity) if v),
        "target": ", ".join(str(v) for v in issue.fix_versions),
        "missing_target": issue.fix_versions in ([], ["---"]),
        "assignee": issue.assignee,
        "qa_contact": issue.qa_contact,
        "updated": issue.upstream_updated_at,
        "status": issue.status,
        "cases": cases or [],
        "more_cases": more_cases,
    }


@dataclass
class StatusGroup:
    status: str
    cards: list[dict] = field(default_factory=list)


@dataclass
class AccountGroup:
    account: str
    statuses: list[StatusGroup] = field(default_factory=list)
    continued: bool = False  # began on the page before
    continues: bool = False  # continues on the next page

    @property
    def count(self) -> int:
        return sum(len(group.cards) for group in self.statuses)


def _status_key(status: str) -> tuple:
    if status in STATUS_ORDER:
        return (0, STATUS_ORDER.index(status), "")
    return (2 if status == CLOSED else 1, 0, status.casefold())


def _card_item(card: Card, *, comments: Comments, bugs: Linked | None = None) -> dict:
    case = card.case
    escalation = getattr(case, "escalation", None)  # select_related: None when the case has none
    kind = escalation.type if escalation is not None and escalation.removed_at is None else None
    detail = getattr(case, "detail", None)
    bugs = bugs or Linked()
    return {
        "account": case.account,
        "number": case.number,
        "case_url": portal_case_url(case.number),
        # Everything about the case, its bugs too (the table's expanded row), where some are left out.
        "table_url": charts.cases_url(q=case.number, view="all") if bugs.more else "",
        "severity": case.severity,
        "status": case.status,
        "internal_status": card.status,
        "jira_status": card.jira_status,
        "prio_list": card.escalated or kind == Escalation.Type.PRIO_LIST,
        # A potential escalation is not one yet.
        "escalated": card.escalated or kind in ESCALATED or bool(detail and detail.crit_sit),
        "summary": case.summary,
        "key": card.key,
        "card_url": jira_issue_url(card.key),
        "assignee": card.assignee,
        "contributors": [str(name) for name in card.contributors or []],
        "product": " ".join(v for v in (case.product, case.product_version) if v),
        "bugs": [_linked_row(item) for item in bugs.shown],
        "more_bugs": bugs.more,
        "comments": comments.shown,
        "more_comments": comments.more,
    }


def group_cards(items: list[dict], *, ordered: bool = False) -> list[AccountGroup]:
    """Account → case status → card: accounts alphabetically, statuses in working order (any status is
    welcome), cards by severity then case number. `ordered`: the items already come in that order (from
    the database: a page of the updates), and are only grouped."""
    if not ordered:
        items = sorted(
            items,
            key=lambda i: (i["account"].casefold(), i["account"], _status_key(i["status"]), i["severity"], i["number"]),
        )
    groups = []
    for account, of_account in groupby(items, key=lambda i: i["account"]):
        group = AccountGroup(account=account)
        for status, of_status in groupby(of_account, key=lambda i: i["status"]):
            group.statuses.append(StatusGroup(status=status, cards=list(of_status)))
        groups.append(group)
    return groups


# The updates page's card layouts (?scope=): title, what the table view of the same cards is, and what the
# page says when there are none.
SCOPE_TITLES = {"recent": "Updates", "all": "All cards", "trends": "Trends"}


def updates_content(*, days: int, page: int, scope: str = "recent") -> str:
    """The updates page's body: the cards of `scope` (reports.selectors.scope_cards) grouped account → case
    status → card. "recent" shows each card's comments of the window, the others its newest comments."""
    since = timezone.now() - timedelta(days=days)
    found = cards_page(cards=scope_cards(scope=scope, since=since), page=page)
    keys = [card.key for card in found.cards]
    window = since if scope == "recent" else None
    comments = newest_comments(card_keys=keys, since=window, per_card=CARD_COMMENTS, chars=COMMENT_CHARS)
    bugs = case_bugs(case_numbers=[card.case_id for card in found.cards], per_case=CARD_BUGS)
    items = [
        _card_item(card, comments=comments.get(card.key, Comments()), bugs=bugs.get(card.case_id))
        for card in found.cards
    ]
    groups = group_cards(items, ordered=True)
    if groups:
        groups[0].continued, groups[-1].continues = found.continued, found.continues
    return render_to_string(
        "reports/updates_content.html",
        {"groups": groups, "page": found, "pages": _page_links(found, days=days, scope=scope), "days": days,
         "since": since, "card_comments": CARD_COMMENTS, "scope": scope},
    )  # fmt: skip


def updates_params(*, scope: str, days: int) -> dict[str, object]:
    """The query parameters of a layout of the updates, defaults left out."""
    params: dict[str, object] = {"scope": scope} if scope != "recent" else {}
    if scope == "recent" and days != DEFAULT_DAYS:
        params["days"] = days
    return params


def updates_url(*, scope: str, days: int) -> str:
    params = updates_params(scope=scope, days=days)
    return reverse("updates") + (f"?{urlencode(params)}" if params else "")


def _page_links(page: CardPage, *, days: int, scope: str) -> dict[str, str]:
    """The query strings of the first, previous, next and last pages (those that exist)."""

    def link(number: int) -> str:
        return "?" + urlencode({**updates_params(scope=scope, days=days), "page": number})

    links = {}
    if page.number > 1:
        links.update(first=link(1), previous=link(page.number - 1))
    if page.number < page.num_pages:
        links.update(next=link(page.number + 1), last=link(page.num_pages))
    return links


def weekly_content(*, days: int) -> str:
    since = timezone.now() - timedelta(days=days)
    cards, total = weekly_cards(since=since)
    latest = newest_comments(card_keys=[card.key for card in cards], per_card=1, chars=WEEKLY_COMMENT_CHARS)
    groups = group_cards([_card_item(card, comments=latest.get(card.key, Comments())) for card in cards])
    updates_url = reverse("updates") + (f"?days={days}" if days != DEFAULT_DAYS else "")
    return render_to_string(
        "reports/weekly_content.html",
        {"groups": groups, "shown": len(cards), "total": total, "days": days, "since": since,
         "updates_url": updates_url},
    )  # fmt: skip


def index_content(*, kind: str, query: str) -> str:
    """The body of the accounts' (kind "account") or the engineers' index: a row per name with its counts,
    linking to the name's page and to its open cases in the table."""
    read = account_index if kind == "account" else engineer_index
    rows, total = read(query=query)
    table_param = "account" if kind == "account" else "assignee"

    def links(row) -> dict:
        cases_url = charts.cases_url(**{table_param: row.name})
        return {"row": row, "url": reverse(kind, args=[row.name]), "cases_url": cases_url}

    return render_to_string(
        "reports/index_content.html",
        {
            "kind": kind,
            "query": query,
            "rows": [links(row) for row in rows],
            "total": total,
            "more": total - len(rows),
            "limit": INDEX_ROWS,
        },
    )
