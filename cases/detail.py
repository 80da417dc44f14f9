"""One expanded row of the cases table (and the API's case): the case with its card, bugs, JIRA issues and comments."""

from __future__ import annotations

from dataclasses import dataclass

from bugs.models import Bug, Issue
from cards.models import Card, CardComment

from .models import Case, CaseComment

# The expanded row lists at most this many comments of each kind, newest first.
ROW_COMMENTS = 50
# JIRA bug severities on the scale of case severities (1 = Urgent).
ISSUE_SEVERITY = {"critical": 1, "urgent": 1, "important": 2, "high": 2, "moderate": 3, "normal": 3, "low": 4}


@dataclass
class CaseDetail:
    case: Case
    card: Card | None
    group_name: str
    bugs: list[Bug]
    issues: list[Issue]  # each with `mismatch`: "mismatch-low", "mismatch-high" or ""
    card_comments: list[CardComment]
    case_comments: list[CaseComment]
    more_card_comments: bool
    more_case_comments: bool


def issue_mismatch(*, issue_severity: str, case_severity: int) -> str:
    """ "mismatch-low" when the JIRA bug is rated less severe than its case, "mismatch-high" when more."""
    rank = ISSUE_SEVERITY.get((issue_severity or "").strip().lower())
    if rank is None or rank == case_severity:
        return ""
    return "mismatch-low" if rank > case_severity else "mismatch-high"


def case_detail(*, number: str) -> CaseDetail | None:
    """What the expanded row of a case shows, in six queries however many bugs, issues and comments."""
    case = Case.objects.select_related("detail").filter(number=number).first()
    if case is None:
        return None
    detail = getattr(case, "detail", None)
    card = Card.objects.filter(case_id=number, active=True).first()  # one at most (a unique constraint)
    bugs = list(case.bugs.order_by("-upstream_updated_at", "id"))
    issues = list(case.issues.order_by("-upstream_updated_at", "key"))
    for issue in issues:
        issue.mismatch = issue_mismatch(issue_severity=issue.severity, case_severity=case.severity)
    newest_first = ("-created_at", "-id")
    card_comments = []
    if card:
        card_comments = list(card.comments.filter(removed_at__isnull=True).order_by(*newest_first)[: ROW_COMMENTS + 1])
    case_comments = list(case.comments.filter(removed_at__isnull=True).order_by(*newest_first)[: ROW_COMMENTS + 1])
    return CaseDetail(
        case=case,
        card=card,
        group_name=detail.group_name if detail else "",
        bugs=bugs,
        issues=issues,
        card_comments=card_comments[:ROW_COMMENTS],
        case_comments=case_comments[:ROW_COMMENTS],
        more_card_comments=len(card_comments) > ROW_COMMENTS,
        more_case_comments=len(case_comments) > ROW_COMMENTS,
    )
