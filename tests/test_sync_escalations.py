"""The escalation sync against the sandbox: the board, crit sits and the potential-escalation label.

One test adds a board entry and a label to the shared sandbox, then closes and removes them again.
"""

import pytest
from jira import JIRA

from bugs.models import Issue
from cards.models import Card
from cases.models import Detail
from escalations.models import Escalation
from t5g.clients.http import UpstreamError
from t5g.models import SyncRun
from t5g.sync.runner import run_job

pytestmark = pytest.mark.django_db
BOARD = 'project = RHOCPPRIO AND labels = "Telco5g" AND status != Closed'
CASE_URL = "https://access.redhat.com/support/cases/#/case/{}"


def sync(job: str, **options) -> SyncRun:
    return run_job(job=job, trigger="manual", **options)


def sync_all() -> SyncRun:
    """The jobs in the order the refresh button runs them; the escalation run is returned."""
    for job in ("cases", "details", "cards", "issues"):
        sync(job)
    return sync("escalations")


def jira(sandbox) -> JIRA:
    return JIRA(server=f"{sandbox.url}/jira", token_auth="sandbox-jira-token")


def escalated() -> int:
    """Cases on the board or in crit sit, as /_sandbox/state counts them (a label is only a potential one)."""
    return Escalation.objects.filter(
        removed_at__isnull=True, type__in=["prio_list", "crit_sit"], case__removed_at__isnull=True
    ).count()


def set_labels(client: JIRA, key: str, labels: list[str]) -> None:
    client.issue(key, fields="labels").update(fields={"labels": labels})


def test_it_mirrors_the_sandbox_after_the_jobs_run_in_order(upstreams):
    run = sync_all()
    state = upstreams.state()
    cards = Card.objects.filter(removed_at__isnull=True).values_list("labels", flat=True)
    assert sum("field" in labels for labels in cards) == state["cards"]
    assert Issue.objects.filter(removed_at__isnull=True).count() == state["issues"]
    assert escalated() == state["escalations"] > 0
    assert run.rejected == 0


def test_it_finds_every_escalated_case_and_why(upstreams):
    sync_all()

    board = {i.key: i for i in jira(upstreams).search_issues(BOARD, maxResults=False)}
    prio = Escalation.objects.filter(type="prio_list", removed_at__isnull=True)
    assert prio.exists()
    for e in prio:
        entry = board[e.source]
        assert CASE_URL.format(e.case_id) in entry.fields.customfield_10979.split()
        assert e.link == f"{upstreams.url}/jira/browse/{entry.key}"
        assert e.escalated_at.strftime("%Y-%m-%dT%H:%M:%S") == entry.fields.created[:19]
    crit_sits = set(Detail.objects.filter(crit_sit=True).values_list("case_id", flat=True))
    assert set(Escalation.objects.filter(type="crit_sit").values_list("case_id", flat=True)) == crit_sits - {
        e.case_id for e in prio
    }
    # The card of a case on the prio-list shows it, and no other card does.
    assert set(Card.objects.filter(escalated=True).values_list("case_id", flat=True)) == set(
        Card.objects.filter(active=True, case_id__in=[e.case_id for e in prio]).values_list("case_id", flat=True)
    )
    assert not Card.objects.filter(escalated=True, active=False).exists()


def test_it_lets_the_strongest_reason_win_and_keeps_what_ended_as_history(upstreams):
    sync_all()
    client = jira(upstreams)
    card = (
        Card.objects.filter(active=True, case__removed_at__isnull=True, case__escalation__isnull=True)
        .exclude(case__status="Closed")
        .first()
    )
    labels = client.issue(card.key, fields="labels").fields.labels
    set_labels(client, card.key, [*labels, "PotentialEscalation"])
    sync("cards")
    sync("escalations")
    row = Escalation.objects.get(case_id=card.case_id)
    assert (row.type, row.source, row.removed_at) == ("potential", card.key, None)

    # The sandbox's portal has no crit sit among its 300 cases: the details sync's copy of one stands in.
    Detail.objects.filter(case_id=card.case_id).update(crit_sit=True)
    sync("escalations")
    row.refresh_from_db()
    assert (row.type, row.source) == ("crit_sit", "portal crit sit")
    first_seen = row.escalated_at

    entry = client.create_issue(
        project="RHOCPPRIO", issuetype="Task", summary="[Acme] escalated", labels=["Telco5g"],
        customfield_10979=CASE_URL.format(card.case_id),
    )  # fmt: skip
    try:
        sync("escalations")
        row.refresh_from_db()
        assert (row.type, row.source) == ("prio_list", entry.key)
        assert Card.objects.get(key=card.key).escalated
    finally:
        client.transition_issue(entry.key, "Closed")

    sync("escalations")  # off the board: back to the weaker reason, first seen anew
    row.refresh_from_db()
    assert (row.type, row.removed_at) == ("crit_sit", None)
    assert row.escalated_at > first_seen and not Card.objects.get(key=card.key).escalated

    Detail.objects.filter(case_id=card.case_id).update(crit_sit=False)
    set_labels(client, card.key, labels)
    sync("cards")
    sync("escalations")  # no reason left: the row stays, marked removed
    row.refresh_from_db()
    assert row.type == "crit_sit" and row.removed_at is not None
    assert escalated() == upstreams.state()["escalations"]


def test_it_fails_on_a_malformed_board_and_keeps_the_escalations(upstreams):
    sync_all()
    before = sorted(Escalation.objects.values_list("case_id", "type", "removed_at"))
    upstreams.faults({"path": "/jira/rest/api/2/search", "kind": "malformed", "count": 1})
    with pytest.raises(UpstreamError):
        sync("escalations")
    assert sorted(Escalation.objects.values_list("case_id", "type", "removed_at")) == before
