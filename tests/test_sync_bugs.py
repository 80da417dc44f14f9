"""The Bugzilla bug sync against the sandbox over HTTP, in both of python-bugzilla's modes."""

import time

import bugzilla
import pytest

from bugs.models import Bug
from bugs.services import parse_bug
from cases.models import Case
from t5g.clients.bugzilla import bugzilla_client
from t5g.clients.http import UpstreamError
from t5g.models import SyncRun
from t5g.sync.batches import parse_all
from t5g.sync.runner import run_job

pytestmark = pytest.mark.django_db

RED_HAT_ROOT = "/bugzilla/.redhat.com/rest"
COMPARED = ["summary", "status", "resolution", "severity", "priority", "assignee", "qa_contact",
            "internal_whiteboard", "component", "target_release"]  # fmt: skip


def mirror(*jobs: str, **options) -> SyncRun:
    for job in jobs:
        run = run_job(job=job, trigger="manual", **options)
    return run


def linked_bugs():
    return Bug.objects.filter(cases__isnull=False).distinct()


def direct(upstreams) -> bugzilla.Bugzilla:
    """python-bugzilla on its own, to compare our rows with."""
    return bugzilla.Bugzilla(url=f"{upstreams.url}/bugzilla/rest", api_key="sandbox-bugzilla-key", use_creds=False)


def as_row(raw: dict) -> dict:
    return {
        "summary": raw["summary"], "status": raw["status"], "resolution": raw["resolution"],
        "severity": raw["severity"], "priority": raw["priority"], "assignee": raw["assigned_to"],
        "qa_contact": raw["qa_contact"], "internal_whiteboard": raw["cf_internal_whiteboard"],
        "component": raw["component"][0], "target_release": raw["target_release"][0],
    }  # fmt: skip


def bug_requests(upstreams, root: str = "/bugzilla/rest") -> int:
    counts = upstreams.requests()
    return sum(n for name, n in counts.items() if name.startswith(f"GET {root}/bug"))


def test_it_mirrors_every_linked_bug_with_bugzillas_fields(upstreams):
    bugs_run = mirror("cases", "details", "bugs")

    assert linked_bugs().count() == upstreams.state()["bugs"]
    visible = {b.id: b.get_raw_data() for b in direct(upstreams).getbugs(sorted(b.id for b in linked_bugs()))}
    filled = linked_bugs().filter(restricted=False)
    assert set(filled.values_list("id", flat=True)) == set(visible)
    for bug in filled.order_by("id")[:: max(1, len(visible) // 15)]:
        raw = visible[bug.id]
        assert {f: getattr(bug, f) for f in COMPARED} == as_row(raw)
        assert bug.upstream_updated_at.strftime("%Y-%m-%dT%H:%M:%SZ") == raw["last_change_time"]
    assert linked_bugs().filter(target_release="---").exists()  # Red Hat's ["---"] stored as "---"
    assert (bugs_run.outcome, bugs_run.fetched, bugs_run.rejected) == ("success", linked_bugs().count(), 0)
    assert bugs_run.created + bugs_run.updated + bugs_run.unchanged == bugs_run.fetched


def test_it_flags_restricted_bugs_and_keeps_the_portal_stub(upstreams):
    mirror("cases", "details")
    stubs = {b["id"]: b for b in Bug.objects.values("id", "summary", "status")}

    run = mirror("bugs")

    visible = {b.id for b in direct(upstreams).getbugs(sorted(stubs))}
    restricted = linked_bugs().filter(restricted=True)
    assert restricted.exists()
    assert set(restricted.values_list("id", flat=True)) == set(stubs) - visible
    for bug in restricted:
        assert {"id": bug.id, "summary": bug.summary, "status": bug.status} == stubs[bug.id]
        assert bug.status and bug.upstream_updated_at is None
    assert run.unchanged >= restricted.count() and run.rejected == 0


def test_it_reads_bugs_in_batches_concurrently_never_one_request_per_bug(upstreams, settings):
    settings.BUGZILLA_BATCH = 7
    mirror("cases", "details")
    upstreams.reset_requests()

    mirror("bugs")

    total = linked_bugs().count()
    counts = upstreams.requests()
    assert counts["GET /bugzilla/rest/bug"] + counts.get("GET /bugzilla/rest/bug/{id}", 0) == -(-total // 7)
    assert counts["GET /bugzilla/rest/version"] == 1
    assert counts["writes"] == 0
    assert not linked_bugs().filter(upstream_updated_at__isnull=True, restricted=False).exists()


def test_it_reads_only_what_changed_after_churn(upstreams, settings):
    settings.BUGZILLA_BATCH = 5  # small batches, so that request counts show what was read
    mirror("cases", "details", "bugs")
    total = linked_bugs().count()
    upstreams.reset_requests()

    quiet = mirror("cases", "details", "bugs")  # nothing changed upstream
    assert (quiet.fetched, upstreams.requests()["bugzilla"]) == (0, 0)

    changed = upstreams.churn(20)
    upstreams.reset_requests()
    busy = mirror("cases", "details", "bugs")

    touched = {word for entry in changed for word in entry.split() if word.isdigit() and len(word) == 8}
    expected = Bug.objects.filter(cases__number__in=touched).distinct().count()  # the changed cases' bugs
    assert busy.outcome == "success" and busy.fetched == expected < total
    assert bug_requests(upstreams) == -(-expected // 5)
    assert linked_bugs().count() == upstreams.state()["bugs"]


def test_it_refreshes_everything_linked_when_full(upstreams):
    mirror("cases", "details", "bugs")
    upstreams.reset_requests()

    full = mirror("bugs", full=True)

    assert full.fetched == linked_bugs().count()
    assert full.created == 0 and full.rejected == 0


def test_it_reads_the_bugs_of_cases_changed_since_a_date(upstreams):
    mirror("cases", "details", "bugs")
    changes = sorted(Case.objects.filter(bugs__isnull=False).values_list("upstream_updated_at", flat=True))
    since = changes[len(changes) // 2]

    run = mirror("bugs", since=since)

    expected = Bug.objects.filter(cases__upstream_updated_at__gte=since).distinct().count()
    assert run.fetched == expected and 0 < expected < linked_bugs().count()


def test_it_retries_bugzilla_errors_and_succeeds(upstreams):
    mirror("cases", "details")
    upstreams.faults({"path": "/bugzilla/", "kind": "error", "status": 503, "count": 2})

    run = mirror("bugs")

    assert run.outcome == "success"
    assert upstreams.get("faults")[0]["count"] == 0  # both errors were served, and retried
    assert not linked_bugs().filter(upstream_updated_at__isnull=True, restricted=False).exists()


def test_it_fails_on_a_malformed_answer_and_keeps_the_rows_it_had(upstreams):
    mirror("cases", "details", "bugs")
    before = list(Bug.objects.order_by("id").values())
    upstreams.faults({"path": "/bugzilla/rest/bug", "kind": "malformed"})

    with pytest.raises(UpstreamError, match="Bugzilla bugs .*JSONDecodeError"):
        mirror("bugs", full=True)

    run = SyncRun.objects.filter(source="bugs").first()
    assert run.outcome == "failed" and run.error.startswith("UpstreamError: Bugzilla bugs")
    assert list(Bug.objects.order_by("id").values()) == before


def test_it_gives_up_on_a_hanging_bugzilla_after_its_timeout(upstreams, settings):
    mirror("cases", "details")
    settings.UPSTREAM_READ_TIMEOUT = 0.5
    settings.UPSTREAM_RETRIES = 0
    upstreams.faults({"path": "/bugzilla/rest/bug", "kind": "hang", "ms": 3000})

    started = time.monotonic()
    with pytest.raises(UpstreamError, match="Timeout"):
        mirror("bugs")
    assert time.monotonic() - started < 2.5  # python-bugzilla alone would wait 300 s


def test_it_rejects_a_wrong_api_key(upstreams, settings):
    mirror("cases", "details")
    settings.BUGZILLA_API_KEY = "not-the-key"

    with pytest.raises(UpstreamError, match="API key you specified is invalid"):
        mirror("bugs")
    assert not Bug.objects.exclude(upstream_updated_at=None).exists()


def test_it_works_in_red_hat_mode_as_production_does(upstreams, settings):
    settings.BUGZILLA_URL = f"{upstreams.url}{RED_HAT_ROOT}"
    assert isinstance(bugzilla_client().bz, bugzilla.RHBugzilla)
    upstreams.reset_requests()

    run = mirror("cases", "details", "bugs")

    assert run.outcome == "success" and run.rejected == 0
    assert bug_requests(upstreams, RED_HAT_ROOT) >= 1 and bug_requests(upstreams) == 0
    assert linked_bugs().count() == upstreams.state()["bugs"]
    visible = {b.id: b.get_raw_data() for b in direct(upstreams).getbugs(sorted(b.id for b in linked_bugs()))}
    assert set(linked_bugs().filter(restricted=False).values_list("id", flat=True)) == set(visible)
    for bug in linked_bugs().filter(restricted=False).order_by("id")[:10]:
        assert {f: getattr(bug, f) for f in COMPARED} == as_row(visible[bug.id])
    assert linked_bugs().exclude(internal_whiteboard="").exists()  # cf_internal_whiteboard came through too


def test_it_answers_one_restricted_bug_as_missing_not_as_an_error(upstreams):
    mirror("cases", "details", "bugs")
    restricted = linked_bugs().filter(restricted=True).first()
    public = linked_bugs().filter(restricted=False).first()

    answer = bugzilla_client().get_bugs([restricted.id])  # one id: python-bugzilla asks /bug/{id}
    assert (answer.bugs, answer.missing) == ([], [restricted.id])
    answer = bugzilla_client().get_bugs([public.id, 99])
    assert ([b["id"] for b in answer.bugs], answer.missing) == ([public.id], [99])


def test_it_rejects_a_malformed_bug_record_and_keeps_the_others():
    run = SyncRun(source="bugs", trigger="manual")
    good = {"id": 5, "summary": "crash", "status": "NEW", "component": "Node", "target_release": [],
            "assigned_to": "a@redhat.com", "last_change_time": "2026-01-02T03:04:05Z"}  # fmt: skip
    bad = [{**good, "id": "6"}, {**good, "last_change_time": None}, {**good, "component": {"x": 1}}]

    rows = parse_all([good, *bad], parse_bug, run=run, what="bugs")

    assert [r["id"] for r in rows] == [5] and rows[0]["target_release"] == "---"
    assert (run.fetched, run.rejected) == (4, 3)


def test_it_writes_nothing_in_a_dry_run(upstreams):
    mirror("cases", "details")
    stubs = list(Bug.objects.order_by("id").values())

    run = run_job(job="bugs", trigger="manual", dry_run=True)

    assert run.fetched == len(stubs)
    assert list(Bug.objects.order_by("id").values()) == stubs


def test_it_reads_a_failing_batch_bug_by_bug_and_fills_every_bug(upstreams):
    mirror("cases", "details")
    # Bugzilla refuses one batch request (a 400 is not retried): its bugs are read one at a time instead.
    upstreams.faults({"path": "/bugzilla/rest/bug", "kind": "error", "status": 400, "count": 1})
    run = mirror("bugs")
    assert run.outcome == "success" and run.rejected == 0
    visible = {b.id for b in direct(upstreams).getbugs(sorted(b.id for b in linked_bugs()))}
    assert set(linked_bugs().exclude(upstream_updated_at=None).values_list("id", flat=True)) == visible


def test_it_reads_a_bug_again_once_bugzilla_shows_it_again_though_it_did_not_change(upstreams):
    """A bug Bugzilla left out of one answer (restricted for a while, or a fault) is marked restricted; when it is
    answered again, unchanged (same last change), it is filled again: its version was not known meanwhile."""
    mirror("cases", "details", "bugs")
    bug = linked_bugs().filter(restricted=False).order_by("id").first()
    before = {f: getattr(bug, f) for f in [*COMPARED, "upstream_updated_at"]}
    upstreams.post(f"bugs/{bug.id}/access", {"access": "restricted"})
    try:
        mirror("bugs", full=True)
        bug.refresh_from_db()
        assert bug.restricted
    finally:
        upstreams.post(f"bugs/{bug.id}/access", {"access": "visible"})

    mirror("bugs", full=True)

    bug.refresh_from_db()
    assert not bug.restricted
    assert {f: getattr(bug, f) for f in [*COMPARED, "upstream_updated_at"]} == before
