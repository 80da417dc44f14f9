from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cases.models import Case
from t5g.models import SyncRun

pytestmark = pytest.mark.django_db


def command(*args) -> str:
    out = StringIO()
    call_command(*args, "--no-progress", stdout=out, stderr=out)
    return out.getvalue()


def test_it_syncs_a_source_and_says_what_changed(upstreams):
    out = command("sync", "cases")
    cases = upstreams.state()["cases"]
    assert out.startswith(f"cases: fetched {cases}, created {cases}, updated 0, unchanged 0, rejected 0 (run ")
    assert Case.objects.count() == cases
    assert SyncRun.objects.get().trigger == "manual"


def test_it_dry_runs_without_writing(upstreams):
    out = command("sync", "cases", "--dry-run")
    assert f"would create {upstreams.state()['cases']}" in out
    assert not Case.objects.exists() and not SyncRun.objects.exists()


def test_it_reports_a_failing_source_and_goes_on(upstreams):
    upstreams.faults({"path": "/portal/", "kind": "error", "status": 503})
    with pytest.raises(CommandError, match="failed: cases "):
        command("sync", "all")
    assert SyncRun.objects.filter(source="cases", outcome="failed").exists()
    assert SyncRun.objects.filter(source="stats", outcome="success").exists()  # the rest still ran


def test_it_backfills_from_a_date(upstreams):
    out = command("backfill", "cases", "--since", "2000-01-01")
    assert out.startswith("cases: fetched")
    assert SyncRun.objects.get().trigger == "backfill"
    assert Case.objects.count() == upstreams.state()["cases"]


def test_it_requires_a_date_to_backfill():
    with pytest.raises(CommandError, match="--since"):
        call_command("backfill", "cases")


def test_it_rejects_a_malformed_date():
    with pytest.raises(CommandError, match="not a date"):
        call_command("sync", "cases", "--since", "yesterday")
