"""The report pages: an account's or an engineer's cases and stats, the recent updates and the weekly report.

Reads come first (keyword-only, a bounded number of queries whatever the number of rows), then what
the pages show, then the views. Each page's body is rendered once and cached on the generations of
the data it reads (t5g/cache.py); upstream text is escaped by the templates, links pass safe_url.

Every page shows a bounded number of rows whatever the size of the data (a team's biggest account
has thousands of open cases, a week thousands of changed cards), says when it left rows out and
links to where the rest can be seen: the cases table, the next page, JIRA.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from math import ceil
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.db.models import Case as Switch
from django.db.models import Count, F, FilteredRelation, Q, QuerySet, Value, When, Window
from django.db.models.functions import Coalesce, Lower, RowNumber, Substr
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from bugs.models import Bug, Issue
from cards.models import Card, CardComment, InternalStatus, TeamMember
from cases.models import Case, Severity
from cases.selectors import Page
from escalations.models import Escalation
from stats import selectors as stats_selectors
from stats import views as stats_views
from t5g.cache import cached

REPORT_FEEDS = ("cases", "cards", "bugs", "escalations")
# Pages counting "open for N days" or "changed in the last N days" are relative to now: a sync bumps
# them too, but without one they still must not stay cached for a day.
PAGE_TIMEOUT = 300
DEFAULT_DAYS = 7
MAX_DAYS = 90
# Case statuses in the order a reader works them; any other status goes after these (alphabetically),
# then Closed: the portal may add statuses, and the old tool crashed on any it did not know.
STATUS_ORDER = ["Waiting on Red Hat", "Waiting on Customer", "Waiting on 3rd Party"]
CLOSED = "Closed"
UNMAPPED = "Unmapped"
ESCALATED = (Escalation.Type.PRIO_LIST, Escalation.Type.CRIT_SIT)

# What one page shows at most. Comments are JIRA text, sometimes whole logs: they are cut.
SCOPE_CASES = 50  # open cases on an account's or engineer's page
SCOPE_BUGS = 100  # bugs and JIRA issues on an account's page
BUG_CASES = 10  # the account's cases listed beside each of its bugs
UPDATES_PER_PAGE = 50  # cards per page of the updates
CARD_COMMENTS = 5  # comments per card on the updates
CARD_BUGS = 10  # bugs and JIRA issues per card on the updates
COMMENT_CHARS = 1000  # of each comment on the updates
WEEKLY_CARDS = 300
WEEKLY_COMMENT_CHARS = 500
# A page number past this is a typo or a probe: it would only fill the cache with copies of the last page.
MAX_PAGE = 10_000


# --- Links --------------------------------------------------------------------------------------


def portal_url(number: str) -> str:
    return settings.PORTAL_CASE_URL.format(case=number)


def jira_url(key: str) -> str:
    return f"{settings.JIRA_URL}/browse/{key}" if settings.JIRA_URL else ""


def bugzilla_url(bug_id: int) -> str:
    return settings.BUGZILLA_SHOW_URL.format(bug=bug_id)


# --- Reads --------------------------------------------------------------------------------------


def account_exists(*, account: str) -> bool:
    """An account is known while any case of it is mirrored, or stats were kept for it."""
    return Case.objects.filter(account=account).exists() or stats_selectors.scope_exists(scope=f"account:{account}")


def engineer_exists(*, name: str) -> bool:
    """An engineer is anyone a card was assigned to, a team member, or a stats scope."""
    return (
        Card.objects.filter(assignee=name).exists()
        or TeamMember.objects.filter(name=name).exists()
        or stats_selectors.scope_exists(scope=f"engineer:{name}")
    )


def _live_cards() -> QuerySet[Card]:
    """The card each case is worked in: active and still in JIRA."""
    return Card.objects.filter(active=True, removed_at__isnull=True)


def _open_cases(*, account: str | None, engineer: str | None) -> QuerySet[Case]:
    """The open cases still on the query, of an account or of an engineer (their active card's assignee)."""
    cases = Case.objects.filter(removed_at__isnull=True).exclude(status=CLOSED)
    if account is not None:
        cases = cases.filter(account=account)
    if engineer is not None:
        cases = cases.filter(number__in=_live_cards().filter(assignee=engineer).values("case_id"))
    return cases


def _with_card(cases: QuerySet[Case]) -> QuerySet[Case]:
    # A join, not a query per case: a case has at most one active card.
    return cases.alias(card=FilteredRelation("cards", condition=Q(cards__active=True, cards__removed_at__isnull=True)))


def open_cases(*, account: str | None = None, engineer: str | None = None, limit: int = SCOPE_CASES) -> list[dict]:
    """The `limit` most severe, then most recently updated, open cases of an account or an engineer, with
    their active card, escalation and crit sit flag: one query."""
    order = ("severity", F("upstream_updated_at").desc(nulls_last=True), "number")
    # The first numbers come from indexes alone (Case indexes case_table_account and case_table_number);
    # only those rows are then read and joined: an account or an engineer has thousands of open cases.
    first = _open_cases(account=account, engineer=engineer).order_by(*order).values("number")[:limit]
    cases = _with_card(Case.objects.filter(number__in=first)).alias(
        live_escalation=FilteredRelation("escalation", condition=Q(escalation__removed_at__isnull=True)),
    )
    return list(
        cases.order_by(*order).values(
            "number",
            "severity",
            "status",
            "summary",
            "product",
            "account",
            "created_at",
            "upstream_updated_at",
            "card_status",
            card_key=F("card__key"),
            card_escalated=F("card__escalated"),
            assignee=F("card__assignee"),
            escalation_type=F("live_escalation__type"),
            crit_sit=F("detail__crit_sit"),
        )
    )


@dataclass(frozen=True)
class CaseCounts:
    """An account's or engineer's open cases: how many, and their cards by severity and internal status."""

    total: int = 0
    with_card: int = 0
    card_severity: Counter = field(default_factory=Counter)  # the card's severity, else the case's
    card_status: Counter = field(default_factory=Counter)  # "" for a JIRA status not mapped


def open_case_counts(*, account: str | None = None, engineer: str | None = None) -> CaseCounts:
    """How many open cases an account or an engineer has, by their card's severity and status: one
    grouped query, so the work in Python follows the groups (at most 4 × 9), not the cases."""
    if engineer is not None:
        # From the engineer's cards (Card index card_live_by_assignee holds what is grouped), each
        # checked against its case; every one of these cases has a card, theirs.
        groups = (
            _live_cards()
            .filter(assignee=engineer, case__removed_at__isnull=True, case__status__isnull=False)  # a mirrored case
            .exclude(case__status=CLOSED)
            .values(status_of_card=F("status"), severity_of_card=Coalesce("severity", "case__severity"))
        )
    else:
        groups = _with_card(_open_cases(account=account, engineer=None)).values(
            status_of_card=F("card__status"), severity_of_card=Coalesce("card__severity", "severity")
        )
    total, with_card, severity, status = 0, 0, Counter(), Counter()
    # No ordering: the models' would split the groups.
    for group in groups.annotate(n=Count("*")).order_by():
        total += group["n"]
        if group["status_of_card"] is None:  # no card: the outer join found none
            continue
        with_card += group["n"]
        severity[group["severity_of_card"]] += group["n"]
        status[group["status_of_card"]] += group["n"]
    return CaseCounts(total=total, with_card=with_card, card_severity=severity, card_status=status)


def _newest_first(field_name: str = "upstream_updated_at") -> tuple:
    return (F(field_name).desc(nulls_last=True),)


def linked_bugs(*, account: str, limit: int = SCOPE_BUGS) -> tuple[list[dict], int]:
    """The `limit` most recently changed Bugzilla bugs and JIRA issues linked to any case of the account
    (closed ones too), as rows of _bug_row / _issue_row with at most BUG_CASES of those cases each, and
    how many there are in all: two queries per kind."""
    its_cases = Case.objects.filter(account=account).values("number")
    rows, total = [], 0
    for model, link, to_row in ((Bug, "bug", _bug_row), (Issue, "issue", _issue_row)):
        links = model.cases.through.objects.filter(case_id__in=its_cases)
        found = list(
            model.objects.filter(pk__in=links.values(f"{link}_id"))
            # How many in all, from the same query.
            .annotate(found=Window(Count("*")))
            .order_by(*_newest_first(), "pk")[:limit]
        )
        if not found:
            continue
        total += found[0].found
        numbers, counts = _ranked_links(links.filter(**{f"{link}_id__in": [row.pk for row in found]}), by=f"{link}_id")
        rows += [to_row(row, cases=numbers[row.pk], more_cases=counts[row.pk] - len(numbers[row.pk])) for row in found]
    rows.sort(key=lambda row: (row["updated"] is None, -row["updated"].timestamp() if row["updated"] else 0))
    return rows[:limit], total


def _ranked_links(links: QuerySet, *, by: str) -> tuple[dict, Counter]:
    """A bug's (or an issue's) first BUG_CASES case numbers in `links`, and how many it has: one query."""
    ranked = (
        links.annotate(
            rank=Window(RowNumber(), partition_by=[F(by)], order_by=[F("case_id").asc()]),
            linked=Window(Count("*"), partition_by=[F(by)]),
        )
        .filter(rank__lte=BUG_CASES)
        .values_list(by, "case_id", "rank", "linked")
    )
    numbers, counts = defaultdict(list), Counter()
    for owner, number, _, linked in sorted(ranked, key=lambda row: (row[0], row[2])):
        numbers[owner].append(number)
        counts[owner] = linked
    return numbers, counts


def _changed_cards(*, since: datetime) -> QuerySet[Card]:
    """Active cards with a JIRA comment since `since` or whose case changed since then.

    Each side of the OR is read through an index (comments' created_at, cases' upstream_updated_at, then
    cards by key and by case), so the cost follows the cards that changed, not all the cards. A card may
    come before its case (no constraint between them): without the case it has no place in a report,
    hence the inner join."""
    commented = CardComment.objects.filter(created_at__gte=since, removed_at__isnull=True).values("card_id")
    changed_cases = Case.objects.filter(upstream_updated_at__gte=since).values("number")
    return _live_cards().filter(Q(key__in=commented) | Q(case_id__in=changed_cases), case__account__isnull=False)


def _report_order() -> list:
    """Account → case status → card, as group_cards() groups them: accounts alphabetically, statuses in
    working order (any status is welcome), then severity and case number."""
    status_rank = Switch(
        *(When(case__status=status, then=Value(i)) for i, status in enumerate(STATUS_ORDER)),
        When(case__status=CLOSED, then=Value(len(STATUS_ORDER) + 1)),
        default=Value(len(STATUS_ORDER)),
    )
    return [Lower("case__account"), "case__account", status_rank, Lower("case__status"), "case__status",
            "case__severity", "case_id"]  # fmt: skip


@dataclass(kw_only=True)
class CardPage(Page):
    """One page of the cards of a report, in report order."""

    cards: list[Card]
    continued: bool = False  # its first account began on the page before
    continues: bool = False  # its last account continues on the next page


def changed_cards_page(*, since: datetime, page: int, per: int = UPDATES_PER_PAGE) -> CardPage:
    """A page of the cards changed since `since` (see _changed_cards), in report order, with their case,
    its escalation and detail: three queries (the count, the page's keys, its rows). A page past the end
    is the last one."""
    changed = _changed_cards(since=since)
    total = changed.count()
    number = min(max(1, page), max(1, ceil(total / per)))
    offset = (number - 1) * per
    # One card more on each side: whether the page's first and last accounts go on across pages.
    start = max(0, offset - 1)
    keys = list(changed.order_by(*_report_order()).values_list("key", "case__account")[start : offset + per + 1])
    before = keys[0] if offset and keys else None
    on_page = keys[offset - start : offset - start + per]
    after = keys[offset - start + per] if len(keys) > offset - start + per else None
    return CardPage(
        cards=_with_cases([key for key, _ in on_page]),
        total=total,
        number=number,
        per=per,
        continued=bool(on_page and before and before[1] == on_page[0][1]),
        continues=bool(on_page and after and after[1] == on_page[-1][1]),
    )


def weekly_cards(*, since: datetime, limit: int = WEEKLY_CARDS) -> tuple[list[Card], int]:
    """The `limit` most severe, then most recently updated, cards changed since `since`, with their case,
    its escalation and detail, and how many changed in all: three queries."""
    changed = _changed_cards(since=since)
    total = changed.count()
    order = ("case__severity", *_newest_first(), "key")
    return _with_cases(list(changed.order_by(*order).values_list("key", flat=True)[:limit])), total


def _with_cases(keys: list[str]) -> list[Card]:
    """The cards of `keys`, in that order, with their case, its escalation and its detail: one query."""
    if not keys:
        return []
    found = (
        Card.objects.filter(key__in=keys)
        .select_related("case", "case__escalation", "case__detail")
        # What _card_item shows, no more: a case's description can be long, and a weekly report has 300 cards.
        .only(*CARD_ITEM_FIELDS)
    )
    by_key = {card.key: card for card in found}
    return [by_key[key] for key in keys if key in by_key]


CARD_ITEM_FIELDS = (
    *("key", "case", "status", "jira_status", "escalated", "assignee", "contributors"),
    *(f"case__{name}" for name in ("account", "severity", "status", "summary", "product", "product_version")),
    *("case__escalation__type", "case__escalation__removed_at", "case__detail__crit_sit"),
)


@dataclass
class Comments:
    """A card's newest comments, each body cut, and how many there are in all."""

    shown: list[dict] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


def newest_comments(
    *, card_keys: list[str], since: datetime | None = None, per_card: int, chars: int
) -> dict[str, Comments]:
    """Per card: its `per_card` newest live comments (written since `since`, when given), newest first,
    each body cut to `chars` characters with an ellipsis, and how many there are: one query."""
    comments = CardComment.objects.filter(card_id__in=card_keys, removed_at__isnull=True)
    if since is not None:
        comments = comments.filter(created_at__gte=since)
    # Comments deleted in JIRA keep their row, marked removed: they are not shown. One character more than
    # shown is read, to tell a cut body from one that just fits.
    rows = (
        comments.annotate(
            rank=Window(RowNumber(), partition_by=[F("card_id")], order_by=[F("created_at").desc(), F("id").desc()]),
            in_all=Window(Count("*"), partition_by=[F("card_id")]),
        )
        .filter(rank__lte=per_card)
        .values("card_id", "rank", "in_all", "author", "created_at", head=Substr("body", 1, chars + 1))
    )
    found: dict[str, Comments] = defaultdict(Comments)
    for row in sorted(rows, key=lambda row: (row["card_id"], row["rank"])):
        of_card = found[row["card_id"]]
        of_card.total = row["in_all"]
        body = cut(row["head"], chars)
        of_card.shown.append({"author": row["author"], "created_at": row["created_at"], "body": body})
    return found


@dataclass
class Linked:
    """A case's Bugzilla bugs, then JIRA issues (rows of _bug_row / _issue_row), and how many it has."""

    shown: list[dict] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


def case_bugs(*, case_numbers: list[str], per_case: int) -> dict[str, Linked]:
    """Per case: at most `per_case` bugs and JIRA issues in all (bugs first, each kind most recently
    changed first), and how many it has: one query per kind."""
    found: dict[str, Linked] = defaultdict(Linked)
    for model, link, to_row in ((Bug, "bug", _bug_row), (Issue, "issue", _issue_row)):
        ranked = (
            model.cases.through.objects.filter(case_id__in=case_numbers)
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("case_id")],
                    order_by=[*_newest_first(f"{link}__upstream_updated_at"), F(f"{link}_id").asc()],
                ),
                in_all=Window(Count("*"), partition_by=[F("case_id")]),
            )
            .filter(rank__lte=per_case)
            .select_related(link)
        )
        for row in sorted(ranked, key=lambda row: (row.case_id, row.rank)):
            of_case = found[row.case_id]
            of_case.total += row.in_all if row.rank == 1 else 0
            if len(of_case.shown) < per_case:
                of_case.shown.append(to_row(getattr(row, link)))
    return found


def cut(text: str, chars: int) -> str:
    return text[:chars].rstrip() + "…" if len(text) > chars else text


# --- What the pages show ------------------------------------------------------------------------


def _severity_chart(counts: Counter) -> dict:
    labels = [label for value, label in Severity.choices if counts[value]]
    return {
        "type": "doughnut",
        "data": {
            "labels": labels,
            "datasets": [
                {
                    "label": "Cards",
                    "data": [counts[stats_views.SEVERITY_BY_LABEL[label]] for label in labels],
                    "backgroundColor": [stats_views.SEVERITY_COLOURS[label] for label in labels],
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
            "card_url": jira_url(case["card_key"]) if case["card_key"] else "",
        }
        for case in cases
    ]


def _scope_content(*, kind: str, name: str) -> str | None:
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
    history = stats_views.history(scope=stats_scope, start=today - timedelta(days=stats_views.HISTORY_DAYS), end=today)
    bugs, bugs_total = linked_bugs(account=name) if kind == "account" else ([], 0)
    return render_to_string(
        "reports/scope_content.html",
        {
            "kind": kind,
            "name": name,
            "cases": _case_rows(cases),
            "cases_total": counts.total,
            "table_url": stats_views.cases_url(**table_params),
            "latest": latest,
            "counts": stats_views.count_rows(metrics, scope_params=table_params),
            "history_chart": stats_views.history_chart(history),
            "history_days": len(history),
            "durations": stats_views.duration_sections(metrics, prefix=kind),
            "cards_count": counts.with_card,
            "severity_chart": _severity_chart(counts.card_severity),
            "status_chart": _status_chart(counts.card_status),
            "bugs": bugs,
            "bugs_total": bugs_total,
            # Bugs count the account's closed cases too.
            "bugs_table_url": stats_views.cases_url(view="all", **table_params),
        },
    )


def _bug_row(bug: Bug, *, cases: list[str] | None = None, more_cases: int = 0) -> dict:
    return {
        "kind": "Bugzilla",
        "id": str(bug.id),
        "url": bugzilla_url(bug.id),
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
        "url": jira_url(issue.key),
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
        "case_url": portal_url(case.number),
        # Everything about the case, its bugs too (the table's expanded row), where some are left out.
        "table_url": stats_views.cases_url(q=case.number, view="all") if bugs.more else "",
        "severity": case.severity,
        "status": case.status,
        "internal_status": card.status,
        "jira_status": card.jira_status,
        "prio_list": card.escalated or kind == Escalation.Type.PRIO_LIST,
        # A potential escalation is not one yet.
        "escalated": card.escalated or kind in ESCALATED or bool(detail and detail.crit_sit),
        "summary": case.summary,
        "key": card.key,
        "card_url": jira_url(card.key),
        "assignee": card.assignee,
        "contributors": [str(name) for name in card.contributors or []],
        "product": " ".join(v for v in (case.product, case.product_version) if v),
        "bugs": bugs.shown,
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


def _updates_content(*, days: int, page: int) -> str:
    since = timezone.now() - timedelta(days=days)
    found = changed_cards_page(since=since, page=page)
    keys = [card.key for card in found.cards]
    comments = newest_comments(card_keys=keys, since=since, per_card=CARD_COMMENTS, chars=COMMENT_CHARS)
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
        {"groups": groups, "page": found, "pages": _page_links(found, days=days), "days": days, "since": since,
         "card_comments": CARD_COMMENTS},
    )  # fmt: skip


def _page_links(page: CardPage, *, days: int) -> dict[str, str]:
    """The query strings of the first, previous, next and last pages (those that exist)."""

    def link(number: int) -> str:
        params = {"days": days} if days != DEFAULT_DAYS else {}
        return "?" + urlencode({**params, "page": number})

    links = {}
    if page.number > 1:
        links.update(first=link(1), previous=link(page.number - 1))
    if page.number < page.num_pages:
        links.update(next=link(page.number + 1), last=link(page.num_pages))
    return links


def _weekly_content(*, days: int) -> str:
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


# --- Views --------------------------------------------------------------------------------------


def _digest(name: str) -> str:
    # Names are upstream text: a digest keeps the cache key short and plain.
    return hashlib.sha1(name.encode()).hexdigest()


def _scope_page(request: HttpRequest, *, kind: str, name: str) -> HttpResponse:
    content, degraded = cached(
        f"{kind}:{_digest(name)}",
        feeds=(*REPORT_FEEDS, "stats"),
        build=lambda: _scope_content(kind=kind, name=name),
        timeout=PAGE_TIMEOUT,
    )
    if content is None:
        raise Http404(f"No {kind} named {name!r}.")
    return render(request, "reports/scope.html", {"kind": kind, "name": name, "content": content, "degraded": degraded})


@require_GET
def account(request: HttpRequest, account: str) -> HttpResponse:
    return _scope_page(request, kind="account", name=account)


@require_GET
def engineer(request: HttpRequest, name: str) -> HttpResponse:
    return _scope_page(request, kind="engineer", name=name)


class DaysForm(forms.Form):
    bad_days = f"Enter a whole number of days from 1 to {MAX_DAYS}."
    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        error_messages={"invalid": bad_days, "min_value": bad_days, "max_value": bad_days},
    )


def _days(request: HttpRequest) -> tuple[int, DaysForm]:
    form = DaysForm(request.GET)
    days = form.cleaned_data.get("days") if form.is_valid() else None
    return days or DEFAULT_DAYS, form


def _page(request: HttpRequest) -> int:
    # A bad page number is not worth an error: the first page (or the last, past the end) will do.
    try:
        return min(max(1, int(request.GET.get("page", 1))), MAX_PAGE)
    except ValueError:
        return 1


@require_GET
def updates(request: HttpRequest) -> HttpResponse:
    days, form = _days(request)
    page = _page(request)
    content, degraded = cached(
        f"updates:{days}:{page}",
        feeds=REPORT_FEEDS,
        build=lambda: _updates_content(days=days, page=page),
        timeout=PAGE_TIMEOUT,
    )
    return render(
        request,
        "reports/updates.html",
        {"content": content, "degraded": degraded, "days": days, "form": form},
        status=400 if form.errors else 200,
    )


@require_GET
def weekly(request: HttpRequest) -> HttpResponse:
    days, form = _days(request)
    content, degraded = cached(
        f"weekly:{days}", feeds=REPORT_FEEDS, build=lambda: _weekly_content(days=days), timeout=PAGE_TIMEOUT
    )
    return render(
        request,
        "reports/weekly.html",
        {"content": content, "degraded": degraded, "days": days, "form": form},
        status=400 if form.errors else 200,
    )
