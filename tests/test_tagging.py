"""Bug tagging against the sandbox: Bugzilla whiteboards and JIRA Private Keywords of the bugs linked to cases.

These tests change bugs in the shared sandbox (they untag a few first, so there is always work to
do whatever ran before) and compare with what Bugzilla and JIRA say at that moment.
"""

import bugzilla
import pytest
from jira import JIRA

from bugs.models import Bug, Issue
from bugs.tagging import linked, missing_keywords
from t5g.models import SyncRun, UpstreamWrite
from t5g.sync.runner import run_job

pytestmark = pytest.mark.django_db

KEYWORDS = ["Telco", "Telco:Case"]
PRIVATE_KEYWORDS = "customfield_11087"  # the sandbox's id of "Private Keywords"


def bz(sandbox) -> bugzilla.Bugzilla:
    return bugzilla.Bugzilla(url=f"{sandbox.url}/bugzilla/rest", api_key="sandbox-bugzilla-key", use_creds=False)


def jira(sandbox) -> JIRA:
    return JIRA(server=f"{sandbox.url}/jira", token_auth="sandbox-jira-token")


def sync(*jobs: str, **options) -> None:
    for job in jobs:
        run_job(job=job, trigger="manual", **options)


@pytest.fixture
def untagged(upstreams, settings, eager):
    """The team's bugs mirrored, after three Bugzilla bugs and two JIRA bugs lost their keywords upstream."""
    settings.BUG_TAG_EMAILS = ["bugs@example.com"]
    sync("cases", "details", "issues")
    visible = {b.id for b in bz(upstreams).getbugs(sorted(linked(Bug).values_list("id", flat=True)))}
    bug_ids = sorted(visible)[:3]
    bz(upstreams).update_bugs(bug_ids, {"cf_internal_whiteboard": "NetworkEdge"})
    keys = list(linked(Issue).filter(issue_type="Bug").order_by("key").values_list("key", flat=True)[:2])
    for key in keys:
        jira(upstreams).issue(key).update(fields={PRIVATE_KEYWORDS: "Storage"})
    sync("bugs")
    sync("issues", full=True)
    upstreams.reset_requests()
    settings.BUG_TAG_KEYWORDS = KEYWORDS
    return {"sandbox": upstreams, "bugs": bug_ids, "issues": keys}


def tag(django_capture_on_commit_callbacks) -> SyncRun:
    with django_capture_on_commit_callbacks(execute=True):  # the summary email goes after the commit
        return run_job(job="tag_bugs", trigger="manual")


def whiteboards(sandbox) -> dict[int, str]:
    ids = sorted(linked(Bug).filter(restricted=False).values_list("id", flat=True))
    return {b.id: b.cf_internal_whiteboard for b in bz(sandbox).getbugs(ids)}


def private_keywords(sandbox) -> dict[str, str]:
    keys = list(linked(Issue).filter(issue_type="Bug").values_list("key", flat=True))
    found = jira(sandbox).search_issues(f"key in ({', '.join(keys)})", fields=PRIVATE_KEYWORDS, maxResults=False)
    return {i.key: getattr(i.fields, PRIVATE_KEYWORDS) or "" for i in found}


def test_it_tags_every_linked_bug_with_both_keywords(untagged, django_capture_on_commit_callbacks, mailoutbox):
    sandbox = untagged["sandbox"]
    before_bz, before_jira = whiteboards(sandbox), private_keywords(sandbox)
    expected = sum(bool(missing_keywords(wb.split(), KEYWORDS)) for wb in before_bz.values()) + sum(
        bool(missing_keywords(pk.split(","), KEYWORDS)) for pk in before_jira.values()
    )

    run = tag(django_capture_on_commit_callbacks)

    after_bz, after_jira = whiteboards(sandbox), private_keywords(sandbox)
    assert all(not missing_keywords(wb.split(), KEYWORDS) for wb in after_bz.values())
    assert all(not missing_keywords(pk.split(","), KEYWORDS) for pk in after_jira.values())
    for bug_id in untagged["bugs"]:  # what was there is kept, the keywords appended
        assert after_bz[bug_id] == "NetworkEdge Telco Telco:Case"
        assert Bug.objects.get(pk=bug_id).internal_whiteboard == after_bz[bug_id]
    for key in untagged["issues"]:
        assert after_jira[key] == "Storage,Telco,Telco:Case"
        assert Issue.objects.get(pk=key).private_keywords == ["Storage", "Telco", "Telco:Case"]
    assert (run.outcome, run.updated, run.rejected) == ("success", expected, 0)
    assert run.updated >= 5
    assert run.unchanged == len(before_bz) + len(before_jira) - expected
    assert sandbox.requests()["writes"] == expected  # one write per bug that needed it, none for the others


def test_it_records_each_write_in_the_audit_log(untagged, django_capture_on_commit_callbacks):
    run = tag(django_capture_on_commit_callbacks)

    writes = UpstreamWrite.objects.filter(run=run)
    assert writes.count() == run.updated == untagged["sandbox"].requests()["writes"]
    assert set(writes.values_list("action", "outcome")) == {("tag bug", "ok")}
    targets = set(writes.values_list("target", flat=True))
    assert {f"BZ {i}" for i in untagged["bugs"]} | set(untagged["issues"]) <= targets
    assert set(writes.filter(upstream="bugzilla").values_list("method", flat=True)) == {"PUT"}


def test_it_writes_nothing_the_second_time(untagged, django_capture_on_commit_callbacks):
    tag(django_capture_on_commit_callbacks)
    untagged["sandbox"].reset_requests()

    again = tag(django_capture_on_commit_callbacks)

    assert (again.updated, again.rejected) == (0, 0)
    assert again.unchanged > 0
    assert untagged["sandbox"].requests()["writes"] == 0


def test_it_writes_nothing_in_read_only_mode_and_says_what_it_would_tag(
    untagged, settings, django_capture_on_commit_callbacks, mailoutbox
):
    settings.READ_ONLY = True
    before = whiteboards(untagged["sandbox"])

    run = tag(django_capture_on_commit_callbacks)

    assert untagged["sandbox"].requests()["writes"] == 0
    assert not UpstreamWrite.objects.exists()  # not even attempted
    assert whiteboards(untagged["sandbox"]) == before
    assert run.updated == 0
    (email,) = mailoutbox
    assert "read-only" in email.subject and "Read-only mode: nothing was written" in email.body
    for bug_id in untagged["bugs"]:
        assert f"BZ {bug_id}: Telco, Telco:Case" in email.body


def test_it_emails_a_summary(untagged, settings, django_capture_on_commit_callbacks, mailoutbox):
    settings.EMAIL_SUBJECT_PREFIX = "[T5G]"
    run = tag(django_capture_on_commit_callbacks)

    (email,) = mailoutbox
    assert email.to == ["bugs@example.com"]
    assert email.subject == f"[T5G] Bug tagging: {run.updated} tagged, 0 failed"
    assert "Keywords: Telco, Telco:Case" in email.body
    assert f"Already tagged: {run.unchanged}" in email.body
    for bug_id in untagged["bugs"]:
        assert f"BZ {bug_id}: Telco, Telco:Case (https://bugzilla.redhat.com/show_bug.cgi?id={bug_id})" in email.body
    for key in untagged["issues"]:
        assert f"{key}: Telco, Telco:Case" in email.body
    for title in ["Bugzilla bugs tagged", "JIRA bugs tagged", "Failed (0)", "Skipped, restricted", "Skipped, no"]:
        assert title in email.body
    restricted = linked(Bug).filter(restricted=True)
    assert all(f"BZ {b.id}" in email.body for b in restricted)


def test_it_goes_on_after_a_bug_that_fails(untagged, django_capture_on_commit_callbacks, mailoutbox):
    first, *others = untagged["bugs"]
    untagged["sandbox"].faults({"path": f"/bugzilla/rest/bug/{first}", "kind": "error", "status": 400})

    run = tag(django_capture_on_commit_callbacks)

    assert run.outcome == "success" and run.rejected == 1
    now = whiteboards(untagged["sandbox"])
    assert now[first] == "NetworkEdge"
    assert all(now[i] == "NetworkEdge Telco Telco:Case" for i in others)
    assert Bug.objects.get(pk=first).internal_whiteboard == "NetworkEdge"  # the mirror says what is true
    assert UpstreamWrite.objects.get(target=f"BZ {first}").outcome == "failed"
    assert f"BZ {first}: Bugzilla update of bug {first}: BugzillaHTTPError: 400" in mailoutbox[0].body


def test_it_does_nothing_without_keywords(upstreams, settings):
    settings.BUG_TAG_KEYWORDS = []
    upstreams.reset_requests()

    run = run_job(job="tag_bugs", trigger="manual")

    assert (run.outcome, run.fetched, run.updated) == ("success", 0, 0)
    assert upstreams.requests()["total"] == 0


def test_it_only_plans_in_a_dry_run(untagged, mailoutbox, django_capture_on_commit_callbacks):
    run = run_job(job="tag_bugs", trigger="manual", dry_run=True)

    assert run.updated >= 5 and run.pk is None
    assert untagged["sandbox"].requests()["writes"] == 0
    assert Bug.objects.get(pk=untagged["bugs"][0]).internal_whiteboard == "NetworkEdge"
    assert mailoutbox == []
