"""The card sync against the sandbox's JIRA: complete, incremental, flagged statuses, one active card per case, faults.

Some tests change the shared sandbox (card statuses, labels, a duplicate card): each compares against
/_sandbox/state read at the same moment, and puts labels back when it is done.
"""

import logging
import math
import re
from datetime import timedelta

import pytest
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from jira import JIRA

from cards.models import Card, CardComment, StatusMapping
from cards.selectors import card_status_out_of_step
from cards.services import apply_status_mapping
from cases.models import Case
from t5g.cache import generation
from t5g.clients.http import UpstreamError
from t5g.models import SyncRun
from t5g.sync.runner import run_job
from t5g.sync.upsert import watermark
from tests.conftest import point_at_sandbox
from tests.forms import form_values
from tests.sandbox import Sandbox

pytestmark = pytest.mark.django_db
CARDS = 'project = KNIECO AND labels = "field"'
SEARCH = "GET /jira/rest/api/2/search/jql"
SEVERITIES = {"Urgent": 1, "High": 2, "Normal": 3, "Low": 4}


def sync(job: str, **options) -> SyncRun:
    return run_job(job=job, trigger="manual", **options)


def jira(sandbox) -> JIRA:
    return JIRA(server=f"{sandbox.url}/jira", token_auth="sandbox-jira-token")


def mirrored() -> int:
    labels = Card.objects.filter(removed_at__isnull=True).values_list("labels", flat=True)
    return sum("field" in card_labels for card_labels in labels)


def two_active_cards_for_a_case() -> list:
    return list(Card.objects.values("case").annotate(n=Count("key", filter=Q(active=True))).filter(n__gt=1))


def mapping(jira_status: str) -> StatusMapping:
    return StatusMapping.objects.get(jira_status=jira_status)


def set_labels(client: JIRA, key: str, labels: list[str]) -> None:
    client.issue(key, fields="labels").update(fields={"labels": labels})


def test_it_mirrors_every_card_field_by_field(upstreams):
    run = sync("cards")
    expected = upstreams.state()["cards"]
    assert mirrored() == expected == run.created and run.rejected == 0
    assert upstreams.requests()[SEARCH] == math.ceil(expected / 100)
    assert not two_active_cards_for_a_case()

    client = jira(upstreams)
    for card in Card.objects.order_by("?")[:12]:
        issue = client.issue(card.key)
        f = issue.fields
        assert card.jira_id == issue.id
        prefix = re.match(r"(\d{8}):", f.summary)
        linked = re.findall(r"/case/(\d{8})", f.customfield_10979 or "")
        assert card.case_id == (prefix.group(1) if prefix else linked[0] if linked else None)
        assert card.summary == f.summary
        assert card.jira_status == f.status.name
        assert card.created_at.strftime("%Y-%m-%dT%H:%M:%S") == f.created[:19]
        assert card.upstream_updated_at.strftime("%Y-%m-%dT%H:%M:%S") == f.updated[:19]
        assignee = (f.assignee.displayName, f.assignee.accountId) if f.assignee else ("", "")
        assert (card.assignee, card.assignee_account_id) == assignee
        assert card.contributors == [u.displayName for u in f.customfield_10466 or []]
        assert card.priority == f.priority.name
        assert card.severity == (SEVERITIES[f.customfield_10840.value] if f.customfield_10840 else None)
        assert card.labels == f.labels
        assert card.potential_escalation == ("PotentialEscalation" in f.labels)
        sprints = f.customfield_10020 or []
        active = [s.name for s in sprints if s.state == "active"]
        assert card.sprint == (active[0] if active else sprints[-1].name if sprints else "")
        comments = client.comments(card.key)
        assert sorted(card.comments.values_list("id", "body")) == sorted((c.id, c.body) for c in comments)
        assert set(card.comments.values_list("author", flat=True)) <= {c.author.displayName for c in comments}


def test_it_reads_only_the_cards_that_changed(upstreams):
    sync("cards")
    changed = [c.split()[1] for c in upstreams.churn(20) if c.startswith("card ")]
    since = watermark(job="cards", since=None, full=False)
    upstreams.reset_requests()
    run = sync("cards")
    searches = upstreams.requests()[SEARCH]

    # Exactly what JIRA has changed since the watermark (to the minute, as JQL compares), in one page.
    client = jira(upstreams)
    expected = client.search_issues(f'{CARDS} AND updated >= "{since:%Y-%m-%d %H:%M}"', maxResults=False, fields="key")
    assert run.fetched == len(expected) < upstreams.state()["cards"] / 4
    assert run.created == 0 and run.updated >= len(set(changed))
    assert searches == math.ceil(len(expected) / 100) == 1
    for key in changed:
        assert Card.objects.get(key=key).jira_status == client.issue(key, fields="status").fields.status.name
        assert CardComment.objects.filter(card_id=key).count() == len(client.comments(key))


def test_it_leaves_the_cached_pages_alone_when_a_re_read_changed_nothing(upstreams, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sync("cards")
    before = generation("cards")
    with django_capture_on_commit_callbacks(execute=True):
        again = sync("cards", full=True)  # every card read again, as JIRA has it
    assert again.unchanged and not (again.created or again.updated)
    assert generation("cards") == before  # the warmed pages stay warm

    card = Card.objects.filter(removed_at__isnull=True, jira_status="Open").order_by("key").first()
    upstreams.post(f"cards/{card.key}/status", {"status": "In Progress"}).raise_for_status()
    with django_capture_on_commit_callbacks(execute=True):
        sync("cards")
    assert generation("cards") != before


def test_it_reads_edits_older_than_a_card_another_writer_stored(upstreams, settings):
    """Card creation stores fresh cards between two card syncs (:10 and :21): the next card sync still reads
    the edits made since the one before, however new the cards in the table are."""
    settings.SYNC_OVERLAP_MINUTES = 0
    sync("cards")
    edited = Card.objects.filter(removed_at__isnull=True, jira_status="Open").order_by("key").first()
    upstreams.post(f"cards/{edited.key}/status", {"status": "In Progress"}).raise_for_status()
    try:
        # What card creation leaves: a card JIRA says was made a few minutes after that edit.
        fresh = Card.objects.exclude(pk=edited.pk).order_by("key").first()
        Card.objects.filter(pk=fresh.pk).update(upstream_updated_at=timezone.now() + timedelta(minutes=5))
        run = sync("cards")
        assert Card.objects.get(pk=edited.pk).jira_status == "In Progress"
        assert run.watermark is not None and run.watermark < timezone.now() + timedelta(minutes=1)
    finally:
        upstreams.post(f"cards/{edited.key}/status", {"status": "Open"}).raise_for_status()


def in_step() -> bool:
    """Every case's card_status is its active card's status."""
    return not Case.objects.filter(card_status_out_of_step()).exists()


def test_it_copies_each_active_card_s_status_onto_its_case(upstreams):
    sync("cards")  # before the cases: a card may arrive first
    sync("cases")
    assert in_step()
    copied = dict(Case.objects.filter(card_status__isnull=False).values_list("number", "card_status"))
    assert copied == dict(Card.objects.filter(active=True, removed_at__isnull=True).values_list("case_id", "status"))


def test_it_keeps_and_flags_a_card_in_an_unknown_status(upstreams, caplog):
    sync("cases")
    sync("cards")
    key = Card.objects.filter(status="Debugging").order_by("key").first().key
    upstreams.post(f"cards/{key}/status", {"status": "Needs Info"}).raise_for_status()
    try:
        with caplog.at_level(logging.WARNING, logger="cards.services"):
            run = sync("cards")
        card = Card.objects.get(key=key)
        assert (card.jira_status, card.status, card.status_unmapped) == ("Needs Info", "", True)
        assert run.rejected == 0 and mirrored() == upstreams.state()["cards"]
        assert "flagged" in caplog.text and "Needs Info" in caplog.text
        assert Case.objects.get(pk=card.case_id).card_status == "" and in_step()

        # Mapping it (in admin) gives the cards, and their cases, their internal status at once.
        StatusMapping.objects.create(jira_status="Needs Info", internal_status="Blocked")
        apply_status_mapping("Needs Info")
        assert Card.objects.get(key=key).status == "Blocked"
        assert Case.objects.get(pk=card.case_id).card_status == "Blocked" and in_step()
    finally:
        upstreams.post(f"cards/{key}/status", {"status": "Open"}).raise_for_status()


def test_it_marks_a_card_that_lost_its_label_removed_on_a_full_run(upstreams):
    sync("cases")
    sync("cards")
    card = Card.objects.filter(active=True, case__isnull=False).order_by("key").first()
    client = jira(upstreams)
    labels = client.issue(card.key, fields="labels").fields.labels
    set_labels(client, card.key, [x for x in labels if x != "field"])
    try:
        sync("cards")  # an incremental run cannot see what left the query
        assert Card.objects.get(key=card.key).removed_at is None

        sync("cards", full=True)
        card.refresh_from_db()
        assert card.removed_at is not None and not card.active
        assert mirrored() == upstreams.state()["cards"]
        assert in_step()
    finally:
        set_labels(client, card.key, labels)
    sync("cards")  # back on the query: no longer removed, active again
    card.refresh_from_db()
    assert card.removed_at is None and card.active


def test_it_keeps_one_active_card_per_case_when_a_duplicate_appears(upstreams):
    sync("cards")
    old = Card.objects.filter(active=True, case__isnull=False).order_by("-created_at").first()
    client = jira(upstreams)
    duplicate = client.create_issue(
        project="KNIECO", issuetype="Story", summary=f"{old.case_id}: duplicate card",
        components=[{"name": "KNI Labs & Field"}], labels=["field", "cnf"], priority={"name": "Normal"},
    )  # fmt: skip
    try:
        sync("cards")
        assert Card.objects.get(key=duplicate.key).active  # the newest card is the case's card
        assert not Card.objects.get(key=old.key).active
        assert not two_active_cards_for_a_case()
    finally:
        set_labels(client, duplicate.key, ["cnf"])
    sync("cards", full=True)
    assert Card.objects.get(key=old.key).active and not Card.objects.get(key=duplicate.key).active
    assert not two_active_cards_for_a_case()


def test_it_retries_a_burst_of_503s_and_succeeds(upstreams):
    upstreams.faults(
        {"path": "/jira/rest/api/2/serverInfo", "kind": "error", "status": 503, "count": 2},
        {"path": "/jira/rest/api/2/search", "kind": "error", "status": 503, "count": 3},
    )
    run = sync("cards")
    assert run.outcome == "success" and mirrored() == upstreams.state()["cards"]
    counts = upstreams.requests()
    assert counts["GET /jira/rest/api/2/serverInfo"] == 3
    assert counts[SEARCH] == math.ceil(mirrored() / 100) + 3


@pytest.mark.parametrize("fault", ["malformed", "truncate"])
def test_it_fails_on_a_bad_answer_and_keeps_what_it_had(upstreams, fault):
    sync("cards")
    before = sorted(Card.objects.values_list("key", "jira_status", "removed_at"))
    upstreams.faults({"path": "/jira/rest/api/2/search", "kind": fault, "count": 1})
    with pytest.raises(UpstreamError, match="malformed JSON|JSONDecodeError|truncated page"):
        sync("cards", full=True)
    assert SyncRun.objects.filter(source="cards").first().outcome == "failed"
    assert sorted(Card.objects.values_list("key", "jira_status", "removed_at")) == before


def test_it_pages_the_server_flavour_and_detects_a_truncated_page(settings, tmp_path):
    server = Sandbox(log_dir=tmp_path, cases=1200, jira_flavor="server")
    try:
        point_at_sandbox(settings, server)
        settings.UPSTREAM_BACKOFF = 0.05
        run = sync("cards")
        assert mirrored() == server.state()["cards"] == run.created > 500  # more than one page
        assert server.requests()["GET /jira/rest/api/2/search"] == math.ceil(run.created / 500)

        server.faults({"path": "/jira/rest/api/2/search", "kind": "truncate", "count": 1})
        with pytest.raises(UpstreamError, match="truncated page"):
            sync("cards", full=True)
    finally:
        server.stop()


def test_it_remaps_the_cards_when_an_admin_edits_the_status_map(upstreams, admin_client):
    sync("cases")
    sync("cards")
    assert Card.objects.filter(jira_status="Open", status="Debugging").exists()
    url = reverse("admin:cards_statusmapping_changelist")
    data = form_values(admin_client.get(url).content.decode(), "changelist-form")
    open_row = next(k for k, v in data.items() if k.endswith("-id") and v == [str(mapping("Open").pk)])
    data[open_row.replace("-id", "-internal_status")] = ["Blocked"]
    data["_save"] = ["Save"]
    assert admin_client.post(url, data).status_code == 302
    assert mapping("Open").internal_status == "Blocked"
    assert set(Card.objects.filter(jira_status="Open").values_list("status", flat=True)) == {"Blocked"}
    assert in_step()


def test_it_reads_every_card_while_cards_change_between_pages_of_the_server_flavour(settings, tmp_path):
    server = Sandbox(log_dir=tmp_path, cases=1200, jira_flavor="server")
    try:
        point_at_sandbox(settings, server)
        settings.UPSTREAM_BACKOFF = 0.05
        sync("cards", full=True)
        assert mirrored() == server.state()["cards"] > 500  # more than one page
        # A card of the first page changes before the second page is asked for: by startAt, the rest move up one.
        server.faults({"path": "/jira/rest/api/2/search", "kind": "churn", "count": 1})
        run = sync("cards", full=True)
        assert run.outcome == "success"
        assert not Card.objects.filter(removed_at__isnull=False).exists()  # none skipped, so none taken for gone
        assert mirrored() == server.state()["cards"]
    finally:
        server.stop()
