"""The old dashboard's JSON blobs (predecessor.md §2.1, §2.2, §3.1, §3.4), read from T5G's database.

Each function returns what t5gweb kept in the Redis key of the same name, with its field names and value
formats: objects keyed by case number (or card key), severities as "2 (High)" or "High", portal times as
"2025-01-31T12:00:00Z", JIRA times as "2025-01-31T12:00:00.000+0000", days as "2025-01-31".

Reads are bulk: a fixed number of queries per 2,000 cases or cards (10 for the cards), the rows joined in
Python by key; the two big blobs come as (key, record) items, chunk after chunk, for the caller to
serialize as they come. Rows that left upstream (removed_at) are left out, as the old blobs held only
what the last fetch returned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.html import escape

from bugs.models import Bug, Issue
from cards.models import Card, CardComment, TeamMember
from cases.models import Case, Detail, Severity
from escalations.models import Escalation
from stats.selectors import latest_stats
from t5g.links import bugzilla_bug_url, jira_issue_url

LIVE = Q(removed_at__isnull=True)
# Cases and cards are read this many at a time: building the cards of 10,000 cases at once took 115 MB
# more at its peak (measured), which would be over a gigabyte at 100,000.
CHUNK = 2000
# The card labels the old tool read meaning into (predecessor.md §4.6).
DAILY_TELCO_LABEL = "Daily_Telco_OCP"
UNAVAILABLE = "unavailable"  # what the old tool wrote in a restricted bug's fields
# The old stats' flat keys → T5G's (stats.services). The old "no_updates" counted the open cases *with*
# an update in the last week (predecessor.md §3.4): converted both ways as open_cases - no_updates.
STATS_KEYS = {
    "open_cases": "open_cases",
    "high_prio": "high_prio",
    "escalated": "escalated",
    "crit_sit": "crit_sit",
    "total_escalations": "total_escalations",
    "daily_opened_cases": "opened_today",
    "weekly_opened_cases": "opened_week",
    "daily_closed_cases": "closed_today",
    "weekly_closed_cases": "closed_week",
    "no_bzs": "no_bugs",
}
STATS_BUG_KEYS = {"unique": "unique_bugs", "no_target": "bugs_no_target"}
STATS_BREAKDOWNS = ("by_customer", "by_engineer", "by_severity", "by_status")


def portal_time(at: datetime | None) -> str | None:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


def jira_time(at: datetime | None) -> str | None:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000" if at else None


def day(at: datetime | None) -> str | None:
    return at.astimezone(UTC).strftime("%Y-%m-%d") if at else None


def old_severity(value: int | None) -> str | None:
    label = Severity.label_of(value)
    return f"{value} ({label})" if label else None


def chunks(rows: QuerySet, *, key: str) -> Iterator[QuerySet]:
    """`rows` in consecutive ranges of CHUNK by their unique `key`, each a query set of its own."""
    size, last = CHUNK, None
    while True:
        rest = rows if last is None else rows.filter(**{f"{key}__gt": last})
        keys = list(rest.order_by(key).values_list(key, flat=True)[:size])
        if not keys:
            return
        yield rows.filter(**{f"{key}__gte": keys[0], f"{key}__lte": keys[-1]})
        last = keys[-1]


def _links(through, field: str, cases: QuerySet | None = None) -> dict[str, list]:
    """{case number: [linked ids]} from a many-to-many table, in id order."""
    rows = through.objects.order_by(field)
    if cases is not None:
        rows = rows.filter(case_id__in=cases)
    linked: dict[str, list] = defaultdict(list)
    for case, other in rows.values_list("case_id", field):
        linked[case].append(other)
    return linked


def cases() -> Iterator[tuple[str, dict]]:
    """The old `cases` blob: {case_number: {owner, severity, account, problem, status, createdate, …}}, as
    its (number, record) items in number order, read CHUNK cases at a time."""
    for chunk in chunks(Case.objects.filter(LIVE), key="number"):
        yield from _cases(chunk)


def _cases(rows: QuerySet) -> Iterator[tuple[str, dict]]:
    bugs = _links(Case.bugs.through, "bug_id", rows.values("number"))
    for c in rows.order_by("number").values(
        "number", "owner", "severity", "account", "summary", "status", "created_at", "upstream_updated_at",
        "description", "product", "product_version", "tags", "closed_at",
    ):  # fmt: skip
        record = {
            "owner": c["owner"],
            "severity": old_severity(c["severity"]),
            "account": c["account"],
            "problem": c["summary"],
            "status": c["status"],
            "createdate": portal_time(c["created_at"]),
            "last_update": portal_time(c["upstream_updated_at"]),
            "description": c["description"],
            "product": f"{c['product']} {c['product_version']}".strip(),
            "product_version": c["product_version"],
            "tags": c["tags"],
        }
        if linked := bugs.get(c["number"]):
            record["bug"] = str(linked[0])
        if c["closed_at"]:
            record["closeddate"] = portal_time(c["closed_at"])
        yield c["number"], record


def details() -> dict[str, dict]:
    """The old `details` blob, of the cases not closed: {case_number: {crit_sit, group_name, …}}."""
    rows = Detail.objects.filter(LIVE, case__removed_at__isnull=True).exclude(case__status="Closed")
    return {
        d["case_id"]: {
            "crit_sit": d["crit_sit"],
            "group_name": d["group_name"] or None,
            "notified_users": d["notified_users"],
            "relief_at": portal_time(d["relief_at"]),
            "resolved_at": portal_time(d["resolved_at"]),
        }
        for d in rows.order_by("case_id").values(
            "case_id", "crit_sit", "group_name", "notified_users", "relief_at", "resolved_at"
        )
    }


def _bug(bug: dict, case: str) -> dict:
    restricted = bug["restricted"]
    return {
        "bugzillaNumber": str(bug["id"]),
        "bugzillaLink": bugzilla_bug_url(bug["id"]),
        "summary": bug["summary"],
        "status": bug["status"],
        "caseNumber": case,
        "linkedAt": None,  # T5G does not keep when a bug was linked
        "target_release": UNAVAILABLE if restricted else [bug["target_release"] or "---"],
        "assignee": UNAVAILABLE if restricted else bug["assignee"],
        "last_change_time": UNAVAILABLE if restricted else day(bug["upstream_updated_at"]),
        "internal_whiteboard": UNAVAILABLE if restricted else bug["internal_whiteboard"],
        "qa_contact": UNAVAILABLE if restricted else bug["qa_contact"],
        "severity": UNAVAILABLE if restricted else bug["severity"],
    }


def bugs(numbers: QuerySet | None = None) -> dict[str, list[dict]]:
    """The old `bugs` blob: {case_number: [{bugzillaNumber, bugzillaLink, summary, status, …}]}."""
    links = _links(Case.bugs.through, "bug_id", numbers)
    fields = ("id", "summary", "status", "restricted", "target_release", "assignee", "upstream_updated_at",
              "internal_whiteboard", "qa_contact", "severity")  # fmt: skip
    rows = {b["id"]: b for b in Bug.objects.filter(LIVE).values(*fields)}
    return {case: [_bug(rows[i], case) for i in ids if i in rows] for case, ids in sorted(links.items())}


def _issue(issue: dict) -> dict:
    return {
        "id": issue["key"],
        "url": jira_issue_url(issue["key"]),
        "title": issue["summary"],
        "status": issue["status"],
        "updated": day(issue["upstream_updated_at"]),
        "qa_contact": issue["qa_contact"] or None,
        "jira_severity": issue["severity"] or None,
        "jira_type": issue["issue_type"],
        "assignee": issue["assignee"] or None,
        "fix_versions": issue["fix_versions"] or None,
        "priority": issue["priority"],
        "private_keywords": issue["private_keywords"],
    }


def issues(numbers: QuerySet | None = None) -> dict[str, list[dict]]:
    """The old `issues` blob: {case_number: [{id, url, title, status, updated, …}]}."""
    links = _links(Case.issues.through, "issue_id", numbers)
    fields = ("key", "summary", "status", "upstream_updated_at", "qa_contact", "severity", "issue_type", "assignee",
              "fix_versions", "priority", "private_keywords")  # fmt: skip
    rows = {i["key"]: _issue(i) for i in Issue.objects.filter(LIVE).values(*fields)}
    return {case: [rows[k] for k in keys if k in rows] for case, keys in sorted(links.items())}


def escalations() -> list[str]:
    """The old `escalations` blob: the case numbers on the prio-list (the escalation board's)."""
    rows = Escalation.objects.filter(LIVE, type=Escalation.Type.PRIO_LIST).order_by("case_id")
    return list(rows.values_list("case_id", flat=True))


def _person(name: str, *, account_id: str = "", emails: dict[str, str]) -> dict:
    return {"displayName": name or None, "accountId": account_id or None, "emailAddress": emails.get(name) or None}


def cards() -> Iterator[tuple[str, dict]]:
    """The old `cards` blob (§3.1): {JIRA key: card record}, for the active card of each case, as its
    (key, record) items in key order, read CHUNK cards at a time."""
    shown = Card.objects.filter(LIVE, active=True, case__isnull=False, case__removed_at__isnull=True)
    emails = dict(TeamMember.objects.exclude(email="").values_list("name", "email"))
    for chunk in chunks(shown, key="key"):
        yield from _cards(chunk, emails=emails)


def _cards(shown: QuerySet, *, emails: dict[str, str]) -> Iterator[tuple[str, dict]]:
    now = timezone.now()
    # The other reads select by subquery, not by a list of keys: 10,000 keys as parameters took 0.4 s to
    # compile (measured), and past 32,766 cards SQLite refuses that many.
    numbers = shown.values("case_id")
    rows = list(
        shown.order_by("key").values(
            "key", "status", "created_at", "assignee", "assignee_account_id", "contributors", "labels", "priority",
            "escalated", "potential_escalation", "case_id", "case__account", "case__summary", "case__description",
            "case__tags", "case__product", "case__product_version", "case__status", "case__severity",
            "case__upstream_updated_at", "case__created_at", "case__closed_at",
        )
    )  # fmt: skip
    comments: dict[str, list] = defaultdict(list)
    for card, body, at in (
        CardComment.objects.filter(LIVE, card__in=shown.values("key"))
        .order_by("card_id", "-created_at")
        .values_list("card_id", "body", "created_at")
    ):
        comments[card].append([escape(body), jira_time(at)])
    details_of = {
        d["case_id"]: d
        for d in Detail.objects.filter(LIVE, case__in=numbers).values(
            "case_id", "crit_sit", "group_name", "notified_users", "relief_at", "resolved_at"
        )
    }
    escalated = dict(
        Escalation.objects.filter(LIVE, case__in=numbers, type=Escalation.Type.PRIO_LIST).values_list("case_id", "link")
    )
    crit_sits = set(
        Escalation.objects.filter(LIVE, case__in=numbers, type=Escalation.Type.CRIT_SIT).values_list(
            "case_id", flat=True
        )
    )
    bugs_of, issues_of = bugs(numbers), issues(numbers)
    for r in rows:
        number = r["case_id"]
        detail = details_of.get(number, {})
        severity = Severity.label_of(r["case__severity"])
        on_prio_list = number in escalated or r["escalated"]
        yield (
            r["key"],
            {
                "card_status": r["status"] or None,  # a JIRA status no mapping names
                "card_created": jira_time(r["created_at"]),
                "comments": comments.get(r["key"], []),
                "assignee": _person(r["assignee"], account_id=r["assignee_account_id"], emails=emails),
                "contributor": [_person(name, emails=emails) for name in r["contributors"]],
                "labels": r["labels"],
                "priority": r["priority"],
                "potential_escalation": r["potential_escalation"] and not on_prio_list,
                "daily_telco": DAILY_TELCO_LABEL in r["labels"],
                "account": r["case__account"],
                "summary": r["case__summary"],
                "description": r["case__description"],
                "case_number": number,
                "tags": r["case__tags"],
                "product": f"{r['case__product']} {r['case__product_version']}".strip(),
                "case_status": r["case__status"],
                "severity": severity,
                "case_updated_date": r["case__upstream_updated_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M")
                if r["case__upstream_updated_at"]
                else None,
                "case_days_open": ((r["case__closed_at"] or now) - r["case__created_at"]).days,
                "case_created": portal_time(r["case__created_at"]),
                "bugzilla": bugs_of.get(number),
                "issues": issues_of.get(number),
                "escalated": on_prio_list,
                "escalated_link": escalated.get(number) or None,
                "crit_sit": detail.get("crit_sit", False) or number in crit_sits,
                "group_name": detail.get("group_name") or None,
                "notified_users": detail.get("notified_users", []),
                "relief_at": portal_time(detail.get("relief_at")),
                "resolved_at": portal_time(detail.get("resolved_at")),
            },
        )


def old_stats(metrics: dict) -> dict:
    """T5G's metrics of a day in the shape of the old generate_stats()."""
    found = {old: metrics.get(new, 0) for old, new in STATS_KEYS.items()}
    found["no_updates"] = metrics.get("open_cases", 0) - metrics.get("no_updates", 0)
    found["bugs"] = {old: metrics.get(new, 0) for old, new in STATS_BUG_KEYS.items()}
    found.update({name: metrics.get(name, {}) for name in STATS_BREAKDOWNS})
    return found


def stats() -> dict:
    """The old /api/stats: the latest day's team-wide stats ({} before the first day is computed)."""
    latest = latest_stats(scope="all")
    return old_stats(latest.metrics) if latest else {}
