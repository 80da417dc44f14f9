"""The soak test's mirror check (tests/mirror.py against /_sandbox/mirror): after a complete sync both sides
compute the same checksums, and a stale value is caught by its key, not only a missing row."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cards.models import Card
from cases.models import Case
from t5g.sync.registry import refreshed
from t5g.sync.runner import run_job
from tests.mirror import compare, db_rows

pytestmark = pytest.mark.django_db


def sync_every_source() -> None:
    for job in refreshed():
        run_job(job=job.name, trigger="manual", full=True)


def differing(findings) -> dict:
    return {f.entity: f.differences for f in findings if not f.same}


def test_a_complete_sync_equals_the_sandbox_entity_by_entity(upstreams):
    sync_every_source()
    findings = compare(upstreams.url, since=None)
    assert differing(findings) == {}
    assert all(f.db_count > 0 for f in findings), [str(f) for f in findings]


def test_a_stale_value_is_caught_and_named_until_the_next_sync(upstreams):
    sync_every_source()
    card = Card.objects.filter(removed_at__isnull=True).exclude(jira_status="Blocked").order_by("key").first()
    upstreams.post(f"cards/{card.key}/status", {"status": "Blocked"})

    found = differing(compare(upstreams.url, since=None))
    assert list(found) == ["cards"]
    assert len(found["cards"]) == 1 and found["cards"][0].startswith(f"{card.key}: database [")

    run_job(job="cards", trigger="manual")
    assert differing(compare(upstreams.url, since=None)) == {}


def test_the_history_window_scopes_details_on_both_sides(upstreams):
    sync_every_source()
    since = timezone.now() - timedelta(days=30)
    closed_long_ago = Case.objects.filter(status="Closed", upstream_updated_at__lt=since)
    assert closed_long_ago.exists()  # the window leaves something out
    assert differing(compare(upstreams.url, since=since)) == {}
    assert len(db_rows(since=since)["details"]) < len(db_rows(since=None)["details"])


def test_a_restricted_case_is_left_out_of_what_can_be_read_and_a_deleted_one_out_of_everything(upstreams):
    sync_every_source()
    restricted, deleted = Case.objects.exclude(status="Closed").order_by("number").values_list("pk", flat=True)[:2]
    try:
        upstreams.post(f"cases/{restricted}/access", {"access": "restricted"})
        upstreams.post(f"cases/{restricted}/comments", {"body": "nobody at T5G can read this"})
        upstreams.post(f"cases/{deleted}/access", {"access": "deleted"})
        sync_every_source()
        assert differing(compare(upstreams.url, since=None)) == {}
        assert upstreams.get("mirror")["unreadable"] == [restricted]
        assert Case.objects.get(pk=deleted).removed_at is not None
    finally:
        for number in (restricted, deleted):
            upstreams.post(f"cases/{number}/access", {"access": "visible"})
