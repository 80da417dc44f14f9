"""What each kind of row looks like in the API's JSON; times stay datetimes (ISO 8601 in UTC once encoded)."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

from bugs.models import Bug, Issue
from cards.models import Card, CardComment
from cases.models import Case, CaseComment, Severity
from escalations.models import Escalation
from t5g.links import bugzilla_bug_url, jira_issue_url, portal_case_url


def severity(value: int | None) -> dict | None:
    # A value the choices do not know (upstream data) keeps its number as the label.
    return None if value is None else {"value": value, "label": Severity.label_of(value) or str(value)}


def case(case: Case) -> dict:
    return {
        "number": case.number,
        "url": portal_case_url(case.number),
        "api_url": reverse("api_case", args=[case.number]),
        "severity": severity(case.severity),
        "account": case.account,
        "summary": case.summary,
        "status": case.status,
        "owner": case.owner,
        "product": case.product,
        "product_version": case.product_version,
        "tags": case.tags,
        "created_at": case.created_at,
        "closed_at": case.closed_at,
        "reopened_at": case.reopened_at,
        "updated_at": case.upstream_updated_at,
        "synced_at": case.synced_at,
        "removed_at": case.removed_at,
    }


def case_row(row: Case) -> dict:
    """A row of cases.selectors.case_rows(): the case with its active card's columns and escalation flags."""
    active_card = None
    if row.card_key:
        active_card = {
            "key": row.card_key,
            "url": jira_issue_url(row.card_key),
            "status": row.internal_status,
            "jira_status": row.jira_status,
            "assignee": row.assignee,
            "contributors": row.contributors or [],
        }
    flags = {"prio": row.prio, "prio_link": row.prio_link or "", "crit_sit": row.crit_sit}
    return {**case(row), "card": active_card, **flags}


def card(card: Card) -> dict:
    return {
        "key": card.key,
        "url": jira_issue_url(card.key),
        "case": card.case_id,
        "active": card.active,
        "summary": card.summary,
        "status": card.status,
        "jira_status": card.jira_status,
        "assignee": card.assignee,
        "contributors": card.contributors,
        "priority": card.priority,
        "severity": severity(card.severity),
        "labels": card.labels,
        "sprint": card.sprint,
        "escalated": card.escalated,
        "potential_escalation": card.potential_escalation,
        "created_at": card.created_at,
        "updated_at": card.upstream_updated_at,
        "synced_at": card.synced_at,
        "removed_at": card.removed_at,
    }


def comment(comment: CardComment | CaseComment) -> dict:
    row = {
        "id": comment.id,
        "author": comment.author,
        "body": comment.body,
        "created_at": comment.created_at,
        "updated_at": comment.upstream_updated_at,
    }
    if isinstance(comment, CaseComment):
        row["public"] = comment.public
    return row


def bug(bug: Bug) -> dict:
    return {
        "id": bug.id,
        "url": bugzilla_bug_url(bug.id),
        "summary": bug.summary,
        "status": bug.status,
        "resolution": bug.resolution,
        "severity": bug.severity,
        "priority": bug.priority,
        "component": bug.component,
        "target_release": bug.target_release,
        "assignee": bug.assignee,
        "qa_contact": bug.qa_contact,
        "internal_whiteboard": bug.internal_whiteboard,
        "restricted": bug.restricted,
        "updated_at": bug.upstream_updated_at,
        "synced_at": bug.synced_at,
        "removed_at": bug.removed_at,
    }


def issue(issue: Issue) -> dict:
    return {
        "key": issue.key,
        "url": jira_issue_url(issue.key),
        "summary": issue.summary,
        "status": issue.status,
        "priority": issue.priority,
        "severity": issue.severity,
        "issue_type": issue.issue_type,
        "assignee": issue.assignee,
        "qa_contact": issue.qa_contact,
        "fix_versions": issue.fix_versions,
        "private_keywords": issue.private_keywords,
        "updated_at": issue.upstream_updated_at,
        "synced_at": issue.synced_at,
        "removed_at": issue.removed_at,
    }


def with_cases(serialize: Callable[[object], dict]) -> Callable[[object], dict]:
    # The linked cases come prefetched as `linked` (numbers only).
    return lambda row: {**serialize(row), "cases": [case.number for case in row.linked]}


def escalation(escalation: Escalation) -> dict:
    return {
        "case": escalation.case_id,
        "type": escalation.type,
        "type_label": escalation.get_type_display(),
        "link": escalation.link,
        "escalated_at": escalation.escalated_at,
        "reason": escalation.reason,
        "source": escalation.source,
        "updated_at": escalation.upstream_updated_at,
        "removed_at": escalation.removed_at,
    }
