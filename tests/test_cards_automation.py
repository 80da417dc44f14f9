"""Portal → JIRA card creation, reopening and priority sync against the sandbox."""

import time
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from jira import JIRA

from cards.automation import cards_out_of_step, plan
from cards.models import Card, CardIntent, TeamMember
from cases.models import Case
from t5g.clients.http import UpstreamError
from t5g.models import Notification, SyncRun, UpstreamWrite
from t5g.sync.runner import run_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(upstreams):
    """The sandbox's team, as an admin would enter it."""
    members = [
        TeamMember.objects.create(
            name=m["name"], jira_user=m["jira_user"], jira_account_id=m["jira_account_id"], email=m["email"],
            slack_id=m["slack_id"], accounts="\n".join(m["accounts"]), active=m["active"],
        )
        for m in upstreams.get("team")
    ]  # fmt: skip
    return {m.name: m for m in members}


@pytest.fixture
def automation(upstreams, settings):
    settings.MAX_NEW_CARDS = 1000  # the shared sandbox gathers new cases from other tests' churn
    settings.ALERT_EMAILS = ["team@example.com"]
    for job in ("cases", "details", "cards"):
        run_job(job=job, trigger="manual")
    return upstreams


def jira(sandbox) -> JIRA:
    return JIRA(server=f"{sandbox.url}/jira", token_auth="sandbox-jira-token")


def cards_in_jira(sandbox, number: str) -> list:
    found = jira(sandbox).search_issues(f'project = KNIECO AND summary ~ "{number}"', maxResults=False)
    return [i for i in found if i.fields.summary.startswith(number)]


def new_case(sandbox, **fields) -> str:
    number = sandbox.post("cases", fields).json()["number"]
    run_job(job="cases", trigger="manual")
    return number


def test_it_creates_one_complete_card_per_new_case(automation, team):
    number = new_case(automation, account="Acme Telco", severity=2, description="Line one\n{code}markup{code} *bold*")
    run = run_job(job="create_cards", trigger="manual")

    assert plan().new == []  # every open case has its card now
    (issue,) = cards_in_jira(automation, number)
    case = Case.objects.get(pk=number)
    f = jira(automation).issue(issue.key).fields
    assert f.summary == f"{number}: {case.summary}"
    assert f.priority.name == "Major"
    assert {"field"} <= set(f.labels)
    assert f.assignee.displayName == "Anna Kowalski"  # owns Acme Telco
    assert f.status.name == "To Do"
    assert "Line one\n{code}markup{code} *bold*" in f.description  # whole, inert inside {noformat}
    assert [s.name for s in f.customfield_10020] == ["T5GFE Sprint 60"]  # the team's sprint, not the other team's
    links = jira(automation).remote_links(issue.key)
    assert any(number in link.object.url for link in links)
    card = Card.objects.get(pk=issue.key)
    assert card.active and card.case_id == number and card.assignee == "Anna Kowalski"
    assert run.created >= 1 and CardIntent.objects.get(case=number).state == "created"
    assert {"case": number, "user": "akowalski"} in automation.get("notified")
    assert UpstreamWrite.objects.filter(action="create card", target=number, outcome="ok").count() == 1


def test_it_never_creates_a_second_card_after_a_lost_answer_or_for_concurrent_runs(automation, team, settings):
    settings.UPSTREAM_READ_TIMEOUT = 1
    numbers = [new_case(automation, account="Hooli Connect", severity=3) for _ in range(3)]
    # The first create is done by JIRA but its answer never arrives.
    automation.faults({"path": "/jira/rest/api/2/issue", "kind": "hang", "after": True, "ms": 3000, "count": 1})
    with pytest.raises(UpstreamError, match="not created"):
        run_job(job="create_cards", trigger="manual")
    automation.faults()
    unknown = CardIntent.objects.get(state="unknown")
    # Straight after, the outcome is too fresh to judge (JIRA's search lags): the case is left alone.
    run_job(job="create_cards", trigger="manual")
    settings.CARD_INTENT_SETTLE_MINUTES = 0
    again = run_job(job="create_cards", trigger="manual")
    assert again.unchanged >= 1  # found in JIRA, recorded, not created again
    for number in numbers:
        assert len(cards_in_jira(automation, number)) == 1, number
    assert CardIntent.objects.get(pk=unknown.pk).state == "created"
    created = sum(SyncRun.objects.filter(source="create_cards").values_list("created", flat=True))
    assert created == len(numbers) - 1  # the lost one was found, not counted as made twice


# Answers to a create that JIRA carried out: the client cannot tell what happened.
AMBIGUOUS = {
    "502 from a proxy": {"kind": "error", "status": 502},
    "malformed body": {"kind": "malformed"},
    "truncated body": {"kind": "truncate"},
}
SEARCH_LAG = 1.5  # seconds: JIRA's search does not see a new card for this long
WARNINGS = "#e2e-card-warnings"


def warnings(number: str) -> list[str]:
    """The "could not create" warnings queued about a case."""
    found = Notification.objects.filter(to=WARNINGS, body__contains=number)
    return [n.body for n in found if "Could not create" in n.body]


@pytest.mark.parametrize("answer", AMBIGUOUS.values(), ids=AMBIGUOUS)
def test_it_never_creates_a_second_card_after_an_ambiguous_answer_while_search_lags(automation, team, settings, answer):
    # Cases of Acme Telco go to its owner: the other members' loads stay as the assignment test expects.
    settings.SLACK_LOW_CHANNEL = WARNINGS
    settings.CARD_INTENT_SETTLE_MINUTES = (SEARCH_LAG + 1) / 60  # longer than the search lag
    numbers = [new_case(automation, account="Acme Telco", severity=3) for _ in range(2)]
    todo = [case.number for case in plan().new]  # with any the shared sandbox gathered
    automation.faults(
        {"path": "/jira/rest/api/2/issue", **answer, "after": True, "count": 1},  # the first create's answer
        {"path": "/jira", "kind": "search_lag", "ms": SEARCH_LAG * 1000},
    )
    with pytest.raises(UpstreamError, match="not created"):
        run_job(job="create_cards", trigger="manual")
    (ambiguous,) = CardIntent.objects.filter(case__in=todo).exclude(state="created")
    # Straight after, JIRA's search does not show the card yet: the case is left alone.
    run_job(job="create_cards", trigger="manual")
    time.sleep(SEARCH_LAG + 1.2)  # past the settle window: now the search shows it
    again = run_job(job="create_cards", trigger="manual")

    automation.faults()
    for number in todo:
        assert len(cards_in_jira(automation, number)) == 1, number
        assert warnings(number) == [], number  # no card was missing: nobody is told one is
    assert again.unchanged >= 1  # found in JIRA, recorded, not created again
    assert CardIntent.objects.get(pk=ambiguous.pk).state == "created"
    assert set(numbers) <= set(todo)
    # The card found is the lost create's: it gets the steps that never ran after it, as a card made at once does.
    key = CardIntent.objects.get(pk=ambiguous.pk).key
    assert jira(automation).issue(key).fields.status.name == settings.JIRA_INITIAL_STATUS
    links = [link.object.title for link in jira(automation).remote_links(key)]
    assert "Support Case" in links


def test_it_warns_when_jira_refuses_a_card_and_creates_it_once_after_the_settle_window(automation, team, settings):
    settings.SLACK_LOW_CHANNEL = WARNINGS
    settings.CARD_INTENT_SETTLE_MINUTES = 1.5 / 60
    number = new_case(automation, account="Acme Telco", severity=3)
    issue_type, settings.JIRA_ISSUE_TYPE = settings.JIRA_ISSUE_TYPE, "Saga"  # JIRA checks it first: 400, no card
    with pytest.raises(UpstreamError, match="not created"):
        run_job(job="create_cards", trigger="manual")
    assert cards_in_jira(automation, number) == []
    assert CardIntent.objects.get(case=number).state == "failed"
    assert len(warnings(number)) == 1  # JIRA said no, and the lookup before found no card: there is none

    settings.JIRA_ISSUE_TYPE = issue_type
    run_job(job="create_cards", trigger="manual")  # straight after: a failure waits out the settle window too
    assert cards_in_jira(automation, number) == []
    time.sleep(1.6)
    run_job(job="create_cards", trigger="manual")
    assert len(cards_in_jira(automation, number)) == 1
    assert CardIntent.objects.get(case=number).state == "created"
    assert len(warnings(number)) == 1


def test_it_sends_no_warning_when_the_lookup_before_the_create_fails(automation, team, settings):
    settings.SLACK_LOW_CHANNEL = WARNINGS
    number = new_case(automation, account="Acme Telco", severity=3)
    automation.faults({"path": "/jira/rest/api/2/search", "kind": "error", "status": 503})
    with pytest.raises(UpstreamError, match="not created"):
        run_job(job="create_cards", trigger="manual")
    automation.faults()
    assert warnings(number) == []  # nothing proves the card missing: JIRA could not be asked
    assert cards_in_jira(automation, number) == []
    run_job(job="create_cards", trigger="manual")  # no create was sent: nothing to wait for
    assert len(cards_in_jira(automation, number)) == 1


def test_it_mirrors_and_announces_a_new_card_that_jiras_search_does_not_show_yet(
    automation, team, settings, django_capture_on_commit_callbacks
):
    settings.SLACK_HIGH_CHANNEL = "#e2e-lagged-cards"
    number = new_case(automation, account="Acme Telco", severity=1)
    automation.faults({"path": "/jira", "kind": "search_lag", "ms": 60_000})
    with django_capture_on_commit_callbacks(execute=True):
        run_job(job="create_cards", trigger="manual")
    card = Card.objects.get(case=number)  # read by its key, at once
    assert card.assignee == "Anna Kowalski" and card.jira_status == "To Do"
    assert Notification.objects.filter(to="#e2e-lagged-cards", body__contains=card.key).exists()


def test_it_assigns_to_account_owners_then_the_least_loaded(automation, team):
    team["Ben Nakamura"].accounts = ""
    team["Ben Nakamura"].save()
    owner_away = new_case(automation, account="北京移动 Demo", severity=4)  # owned by Fang Li, who is away
    owned = new_case(automation, account="Telefónica Demo", severity=4)  # owned by Carmen Díaz
    run_job(job="create_cards", trigger="manual")
    assignee = dict(Card.objects.filter(case__in=[owner_away, owned]).values_list("case_id", "assignee"))
    assert assignee[owned] == "Carmen Díaz"
    assert assignee[owner_away] != "Fang Li"
    loads = {
        name: Card.objects.filter(active=True, assignee=name).exclude(status="Done").count()
        for name in team
        if team[name].active
    }
    assert loads[assignee[owner_away]] <= min(loads.values()) + 1


def test_it_leaves_cards_unassigned_without_a_team(automation):
    number = new_case(automation, severity=3)
    run_job(job="create_cards", trigger="manual")
    assert Card.objects.get(case=number).assignee == ""


def test_it_creates_nothing_past_the_safety_valve_and_alerts(
    automation, team, settings, eager, django_capture_on_commit_callbacks
):
    settings.MAX_NEW_CARDS = 0
    number = new_case(automation, severity=1)
    # The alert is queued, and delivered here once the run's record commits.
    with pytest.raises(Exception, match="MAX_NEW_CARDS"), django_capture_on_commit_callbacks(execute=True):
        run_job(job="create_cards", trigger="manual")
    assert cards_in_jira(automation, number) == []
    assert any("failing" in m.subject for m in mail.outbox)


def test_it_reopens_the_card_of_a_reopened_case(automation, team):
    card = Card.objects.filter(case__status="Closed", status="Done", active=True).select_related("case").first()
    automation.post(f"cases/{card.case_id}/reopen")
    run_job(job="cases", trigger="manual")
    assert Case.objects.get(pk=card.case_id).reopened_at is not None
    run = run_job(job="create_cards", trigger="manual")
    assert run.updated >= 1
    (issue,) = cards_in_jira(automation, card.case_id)
    assert issue.key == card.key  # the old card, back
    f = jira(automation).issue(card.key).fields
    assert f.status.name == "To Do"
    assert any("reopened" in c.body for c in jira(automation).comments(card.key))
    # Done: a second run leaves it alone.
    assert run_job(job="create_cards", trigger="manual").updated == 0


def test_it_puts_priority_in_step_with_severity_one_write_each(automation):
    client = jira(automation)
    card = Card.objects.filter(active=True, case__severity=1).exclude(status="Done").first()
    client.issue(card.key).update(fields={"priority": {"name": "Minor"}})
    run_job(job="cards", trigger="manual")
    todo = cards_out_of_step()
    assert card.key in [c.key for c, _ in todo]
    automation.reset_requests()
    run = run_job(job="priority", trigger="manual")
    assert run.updated == len(todo)
    assert automation.requests()["writes"] == len(todo)
    assert client.issue(card.key).fields.priority.name == "Critical"
    assert cards_out_of_step() == []
    assert run_job(job="priority", trigger="manual").updated == 0


def test_it_writes_nothing_upstream_in_read_only_mode(automation, team, settings):
    settings.READ_ONLY = True
    new_case(automation, severity=2)
    automation.reset_requests()
    call_command("sync", "all", "--full", "--no-progress", stdout=StringIO())
    for job in ("create_cards", "priority", "tag_bugs"):
        run_job(job=job, trigger="schedule")
    out = StringIO()
    call_command("create_cards", stdout=out)
    assert "Read-only mode" in out.getvalue()
    assert automation.requests()["writes"] == 0


def test_it_says_what_it_would_create(automation, team):
    number = new_case(automation, account="Acme Telco", severity=1)
    out = StringIO()
    call_command("create_cards", "--dry-run", stdout=out)
    assert f"create a card for {number} (Acme Telco, Urgent) → Anna Kowalski" in out.getvalue()
    assert cards_in_jira(automation, number) == []


def test_it_creates_cards_when_email_fails_and_still_tells_slack(
    automation, team, settings, django_capture_on_commit_callbacks
):
    from t5g.celery import app
    from t5g.models import Notification
    from tests.processes import free_port

    settings.NOTIFY_EMAILS = ["field@example.com"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens: SMTP fails
    settings.SLACK_HIGH_CHANNEL = "#e2e-high"
    number = new_case(automation, account="Acme Telco", severity=1)
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run = run_job(job="create_cards", trigger="manual")
    finally:
        app.conf.task_always_eager = False
    assert run.outcome == "success" and len(cards_in_jira(automation, number)) == 1
    email = Notification.objects.get(kind="email")
    assert email.status == "failed" and number in email.subject
    slack = [m for m in automation.get("slack") if m["channel"] == "#e2e-high" and number in m["text"]]
    assert slack and "<@U000T5G>" in slack[0]["text"]  # mentions Anna Kowalski, the account's owner
