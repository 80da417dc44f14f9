"""The JIRA issue sync against the sandbox: the bugs linked to cases, their links, what it re-reads, faults."""

import pytest
from django.db.models import F
from jira import JIRA

from bugs.issues import IssueFields
from bugs.models import Issue
from cases.models import Case
from t5g.clients.http import UpstreamError
from t5g.clients.jira import jira_client
from t5g.clients.portal import portal_client
from t5g.models import FailingRecord, SyncRun
from t5g.sync.runner import run_job

pytestmark = pytest.mark.django_db
JIRAS = "GET /portal/hydra/rest/cases/{number}/jiras"
SEARCH = "GET /jira/rest/api/2/search/jql"


def sync(job: str, **options) -> SyncRun:
    return run_job(job=job, trigger="manual", **options)


def jira(sandbox) -> JIRA:
    return JIRA(server=f"{sandbox.url}/jira", token_auth="sandbox-jira-token")


def test_it_mirrors_every_linked_issue_and_the_links(upstreams):
    sync("cases")
    run = sync("issues")
    assert Issue.objects.filter(removed_at__isnull=True).count() == upstreams.state()["issues"] == run.created
    assert run.rejected == 0
    # Every case's links were read once, and each issue fetched once, in batches of up to a hundred keys.
    counts = upstreams.requests()
    assert counts[JIRAS] == Case.objects.count()
    assert counts[SEARCH] <= Case.objects.count() / 100 + 1

    client, portal = jira(upstreams), portal_client()
    for issue in Issue.objects.order_by("?")[:10]:
        f = client.issue(issue.key).fields
        assert (issue.summary, issue.status, issue.priority) == (f.summary, f.status.name, f.priority.name)
        assert (issue.issue_type, issue.severity) == (f.issuetype.name, f.customfield_10840.value)
        assert issue.assignee == f.assignee.emailAddress and issue.qa_contact == f.customfield_10470.emailAddress
        assert issue.fix_versions == [v.name for v in f.fixVersions]
        assert issue.private_keywords == (f.customfield_11087.split(",") if f.customfield_11087 else [])
        assert issue.upstream_updated_at.strftime("%Y-%m-%dT%H:%M:%S") == f.updated[:19]
    for case in Case.objects.filter(issues__isnull=False).distinct().order_by("?")[:10]:
        linked = {j["resourceKey"] for j in portal.case_jiras(case.number)}
        assert set(case.issues.values_list("key", flat=True)) == {k for k in linked if k.startswith("OCPBUGS-")}
    assert not Case.objects.filter(jira_links_read_at__isnull=True).exists()
    assert not Case.objects.exclude(jira_links_seen=F("upstream_updated_at")).exists()


def test_it_rereads_only_the_links_of_cases_that_changed(upstreams):
    sync("cases")
    sync("issues")
    upstreams.reset_requests()
    idle = sync("issues")
    assert idle.fetched == 0 and upstreams.requests()["total"] == 0  # nothing changed: not even a connection

    upstreams.churn(20)
    cases = sync("cases")
    upstreams.reset_requests()
    run = sync("issues")
    counts = upstreams.requests()
    assert 0 < counts[JIRAS] <= cases.created + cases.updated
    assert counts.get(SEARCH, 0) <= 1  # only keys new to the dashboard: known ones are fresh
    assert run.fetched == run.created
    assert Issue.objects.filter(removed_at__isnull=True).count() == upstreams.state()["issues"]


def test_it_skips_a_key_jira_does_not_have(upstreams):
    client = jira_client()
    found, missing = client.issues_by_key(["OCPBUGS-1", "OCPBUGS-999999", "OCPBUGS-2"], IssueFields.of(client).wanted)
    assert sorted(i["key"] for i in found) == ["OCPBUGS-1", "OCPBUGS-2"]
    assert missing == ["OCPBUGS-999999"]


def test_it_retries_portal_and_jira_errors_and_succeeds(upstreams):
    sync("cases")
    upstreams.faults(
        {"path": "/portal/hydra/rest/cases/", "kind": "error", "status": 503, "count": 5},
        {"path": "/jira/rest/api/2/search", "kind": "429", "retry_after": 0, "count": 2},
    )
    run = sync("issues")
    assert run.outcome == "success"
    assert Issue.objects.count() == upstreams.state()["issues"]


def test_it_fails_on_a_malformed_jira_answer_and_keeps_what_it_had(upstreams):
    sync("cases")
    sync("issues")
    before = sorted(Issue.objects.values_list("key", "status", "synced_at"))
    links = sorted(Issue.cases.through.objects.values_list("case_id", "issue_id"))
    upstreams.faults({"path": "/jira/rest/api/2/search", "kind": "malformed"})
    with pytest.raises(UpstreamError):
        sync("issues", full=True)
    assert sorted(Issue.objects.values_list("key", "status", "synced_at")) == before
    assert sorted(Issue.cases.through.objects.values_list("case_id", "issue_id")) == links


def test_it_reads_the_other_cases_links_past_a_restricted_case_and_keeps_its_links(upstreams):
    sync("cases")
    sync("issues")
    restricted, other = Case.objects.filter(issues__isnull=False).distinct().order_by("number")[:2]
    links = set(restricted.issues.values_list("key", flat=True))
    seen = restricted.jira_links_seen
    for case in (restricted, other):
        upstreams.post(f"cases/{case.number}/comments", {"body": "links may have changed"})
    sync("cases")
    try:
        upstreams.post(f"cases/{restricted.number}/access", {"access": "restricted"})
        run = sync("issues")
    finally:
        upstreams.post(f"cases/{restricted.number}/access", {"access": "visible"})
    assert run.outcome == "success" and run.rejected == 1
    restricted.refresh_from_db(), other.refresh_from_db()
    assert set(restricted.issues.values_list("key", flat=True)) == links
    assert restricted.jira_links_seen == seen  # not read: the next run asks again
    assert other.jira_links_seen == other.upstream_updated_at
    assert list(FailingRecord.objects.values_list("source", "key")) == [("issues", restricted.number)]
