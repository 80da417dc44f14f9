"""The reports' reads: an account's or an engineer's open cases and their counts, the bugs of an account,
the cards changed in a window with their newest comments and bugs.

Keyword-only, each a bounded number of queries whatever the number of rows (a team's biggest account
has thousands of open cases, a week thousands of changed cards): each read takes a limit and says how
many rows there are in all.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from math import ceil

from django.db.models import Case as Switch
from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Q, QuerySet, TextField, Value, When, Window
from django.db.models.functions import Coalesce, Length, Lower, RowNumber, Substr

from bugs.models import Bug, Issue
from cards.models import Card, CardComment, TeamMember
from cases.models import Case
from cases.selectors import trends_cards
from escalations.models import Escalation
from stats import selectors as stats_selectors
from t5g.paging import Page

# Case statuses in the order a reader works them; any other status goes after these (alphabetically),
# then Closed: the portal may add statuses, and the old tool crashed on any it did not know.
STATUS_ORDER = ["Waiting on Red Hat", "Waiting on Customer", "Waiting on 3rd Party"]
CLOSED = "Closed"

# What one read returns at most.
SCOPE_CASES = 50  # open cases on an account's or engineer's page
SCOPE_BUGS = 100  # bugs and JIRA issues on an account's page
BUG_CASES = 10  # the account's cases listed beside each of its bugs
UPDATES_PER_PAGE = 50  # cards per page of the updates
WEEKLY_CARDS = 300
INDEX_ROWS = 500  # accounts or engineers on their index page; a search finds the others


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


@dataclass(frozen=True)
class LinkedBug:
    """A Bugzilla bug or a JIRA issue with the first of its cases (of one account) and how many it has besides."""

    item: Bug | Issue
    cases: list[str]
    more_cases: int


def linked_bugs(*, account: str, limit: int = SCOPE_BUGS) -> tuple[list[LinkedBug], int]:
    """The `limit` most recently changed Bugzilla bugs and JIRA issues linked to any case of the account
    (closed ones too), with at most BUG_CASES of those cases each, and how many there are in all: two
    queries per kind."""
    its_cases = Case.objects.filter(account=account).values("number")
    rows, total = [], 0
    for model, link in ((Bug, "bug"), (Issue, "issue")):
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
        rows += [
            LinkedBug(item=row, cases=numbers[row.pk], more_cases=counts[row.pk] - len(numbers[row.pk]))
            for row in found
        ]
    # Both kinds together, most recently changed first, never changed last.
    rows.sort(key=lambda row: (row.item.upstream_updated_at is None, -_timestamp(row.item.upstream_updated_at)))
    return rows[:limit], total


def _timestamp(at: datetime | None) -> float:
    return at.timestamp() if at else 0


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


# The card layouts of the updates page (?scope=): the cards changed in a window, every card, the Trends cards.
SCOPES = ("recent", "all", "trends")


def scope_cards(*, scope: str, since: datetime | None = None) -> QuerySet[Card]:
    """The cards a layout shows: "recent" those changed since `since` (see _changed_cards); "all" every live
    card of a mirrored case (the old "all cards", without its quirk of leaving out cards nobody commented
    on); "trends" the live cards labelled Trends."""
    if scope == "recent":
        return _changed_cards(since=since)
    cards = trends_cards() if scope == "trends" else _live_cards()
    return cards.filter(case__account__isnull=False)


def cards_page(*, cards: QuerySet[Card], page: int, per: int = UPDATES_PER_PAGE) -> CardPage:
    """A page of `cards` in report order, with their case, its escalation and detail: three queries (the
    count, the page's keys, its rows). A page past the end is the last one."""
    total = cards.count()
    number = min(max(1, page), max(1, ceil(total / per)))
    offset = (number - 1) * per
    # One card more on each side: whether the page's first and last accounts go on across pages.
    start = max(0, offset - 1)
    keys = list(cards.order_by(*_report_order()).values_list("key", "case__account")[start : offset + per + 1])
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
        # What a report shows of a card (reports.presenters), no more: a case's description can be long,
        # and a weekly report has 300 cards.
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
            body_length=Length("body"),
            rank=Window(RowNumber(), partition_by=[F("card_id")], order_by=[F("created_at").desc(), F("id").desc()]),
            in_all=Window(Count("*"), partition_by=[F("card_id")]),
        )
        .filter(rank__lte=per_card)
        .values("card_id", "rank", "in_all", "author", "created_at", head=Substr("body", 1, chars + 1))
        # The body rendered at sync time (t5g.markup), for a body shown whole; a cut one is shown as plain text.
        .annotate(
            html=Switch(When(body_length__lte=chars, then=F("body_html")), default=Value(""), output_field=TextField())
        )
    )
    found: dict[str, Comments] = defaultdict(Comments)
    for row in sorted(rows, key=lambda row: (row["card_id"], row["rank"])):
        of_card = found[row["card_id"]]
        of_card.total = row["in_all"]
        body = cut(row["head"], chars)
        of_card.shown.append(
            {"author": row["author"], "created_at": row["created_at"], "body": body, "body_html": row["html"]}
        )
    return found


@dataclass
class Linked:
    """A case's Bugzilla bugs, then JIRA issues, and how many it has."""

    shown: list[Bug | Issue] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


def case_bugs(*, case_numbers: list[str], per_case: int) -> dict[str, Linked]:
    """Per case: at most `per_case` bugs and JIRA issues in all (bugs first, each kind most recently
    changed first), and how many it has: one query per kind."""
    found: dict[str, Linked] = defaultdict(Linked)
    for model, link in ((Bug, "bug"), (Issue, "issue")):
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
                of_case.shown.append(getattr(row, link))
    return found


def cut(text: str, chars: int) -> str:
    return text[:chars].rstrip() + "…" if len(text) > chars else text


# --- The account and engineer indexes ---------------------------------------------------------------
@dataclass(frozen=True)
class IndexRow:
    """One account or engineer on its index: their open cases, how many are Urgent or High, escalated."""

    name: str
    open: int
    severe: int
    escalated: int
    total: int = 0  # an account's cases still mirrored, closed ones included
    team: str = ""  # an engineer: "active", "away" or "" (not a team member)


def _escalated(case: str) -> Q:
    """A case escalated by the escalation board (a live Escalation) or on its card (JIRA's escalated flag)."""
    return Q(Exists(Escalation.objects.filter(case=OuterRef(case), removed_at__isnull=True))) | Q(
        Exists(_live_cards().filter(case=OuterRef(case), escalated=True))
    )


def account_index(*, query: str = "", limit: int = INDEX_ROWS) -> tuple[list[IndexRow], int]:
    """Accounts whose name contains `query` (any case), most open cases first: one grouped query over the
    mirrored cases (index case_table_account). Returns the first `limit` and how many matched."""
    cases = Case.objects.filter(removed_at__isnull=True).exclude(account="")
    if query:
        cases = cases.filter(account__icontains=query)
    still_open = ~Q(status=CLOSED)
    groups = (
        cases.values("account")
        .annotate(
            open=Count("pk", filter=still_open),
            severe=Count("pk", filter=still_open & Q(severity__lte=2)),
            escalated=Count("pk", filter=still_open & _escalated("pk")),
            total=Count("pk"),
        )
        .order_by("-open", Lower("account"), "account")
    )
    rows = [
        IndexRow(name=g["account"], open=g["open"], severe=g["severe"], escalated=g["escalated"], total=g["total"])
        for g in groups
    ]
    return rows[:limit], len(rows)


def engineer_index(*, query: str = "", limit: int = INDEX_ROWS) -> tuple[list[IndexRow], int]:
    """Engineers whose name contains `query`: every assignee of a live card on an open case, and every team
    member (with no such card: zeros), most open cases first. Counted as the engineer's page counts them
    (open_case_counts): the card's severity, else the case's."""
    cards = (
        _live_cards()
        .filter(case__removed_at__isnull=True, case__status__isnull=False)
        .exclude(case__status=CLOSED)
        .exclude(assignee="")
    )
    members = TeamMember.objects.all()
    if query:
        cards = cards.filter(assignee__icontains=query)
        members = members.filter(name__icontains=query)
    severe = Q(severity__lte=2) | Q(severity__isnull=True, case__severity__lte=2)
    groups = (
        cards.values("assignee")
        .annotate(open=Count("pk"), severe=Count("pk", filter=severe), escalated=Count("pk", filter=_escalated("case")))
        .order_by()
    )
    team = {m.name: "active" if m.active else "away" for m in members.only("name", "active")}
    rows = [
        IndexRow(
            name=g["assignee"],
            open=g["open"],
            severe=g["severe"],
            escalated=g["escalated"],
            team=team.pop(g["assignee"], ""),
        )  # fmt: skip
        for g in groups
    ]
    rows += [IndexRow(name=name, open=0, severe=0, escalated=0, team=state) for name, state in team.items()]
    rows.sort(key=lambda row: (-row.open, row.name.lower(), row.name))
    return rows[:limit], len(rows)
