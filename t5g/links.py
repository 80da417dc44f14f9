"""Where a person reads an upstream record: the portal's case page, a JIRA issue, a Bugzilla bug.

The one place these links are made (pages, the API, messages, JIRA remote links), from settings alone.
"""

from django.conf import settings


def portal_case_url(number: str) -> str:
    return settings.PORTAL_CASE_URL.format(case=number)


def jira_issue_url(key: str) -> str:
    """ "" when JIRA is not configured: a relative /browse/ link would point at T5G itself."""
    return f"{settings.JIRA_URL}/browse/{key}" if settings.JIRA_URL else ""


def bugzilla_bug_url(bug_id: int) -> str:
    return settings.BUGZILLA_SHOW_URL.format(bug=bug_id)
