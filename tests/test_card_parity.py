"""Card automation as the old dashboard did it, against the sandbox: the extra create fields, account patterns in
assignment, and bug tagging's fallback to the Internal Whiteboard of JIRA bugs without Private Keywords."""

import pytest
from django.core.exceptions import ValidationError

from bugs.models import Issue
from bugs.tagging import linked
from cards.assignment import Assigner
from cards.models import Card, TeamMember
from cases.models import Case
from t5g.sync.runner import run_job
from tests.test_cards_automation import automation, cards_in_jira, jira, new_case, team  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

KEYWORDS = ["Telco", "Telco:Case"]
RELEASE_NOTE = "customfield_10783"  # the sandbox's id of "Release note text"
PRIVATE_KEYWORDS, WHITEBOARD = "customfield_11087", "customfield_11004"


# --- extra create fields ----------------------------------------------------------------------------------------------
def test_it_creates_cards_with_the_extra_fields_the_old_dashboard_set(automation, team):  # noqa: F811
    number = new_case(automation, account="Acme Telco", severity=3)
    run_job(job="create_cards", trigger="manual")

    (issue,) = cards_in_jira(automation, number)
    assert getattr(jira(automation).issue(issue.key).fields, RELEASE_NOTE) == "TRACK"  # stored by JIRA, read back


def test_it_creates_cards_with_the_configured_extra_fields(automation, team, settings):  # noqa: F811
    settings.JIRA_CREATE_EXTRA_FIELDS = {RELEASE_NOTE: "Telco: no release note needed"}
    number = new_case(automation, account="Acme Telco", severity=3)
    run_job(job="create_cards", trigger="manual")

    (issue,) = cards_in_jira(automation, number)
    assert getattr(jira(automation).issue(issue.key).fields, RELEASE_NOTE) == "Telco: no release note needed"


# --- account patterns -------------------------------------------------------------------------------------------------
def member(name: str, accounts: str, **fields) -> TeamMember:
    return TeamMember.objects.create(name=name, accounts=accounts, jira_account_id=name.lower(), **fields)


@pytest.mark.parametrize(
    ("account", "owner"),
    [
        pytest.param("Verizon Wireless", "Exact", id="an exact name beats any prefix"),
        pytest.param("verizon wireless", "Exact", id="in any case"),
        pytest.param("Verizon Business", "Longer", id="a longer prefix beats a shorter one"),
        pytest.param("Verizon Fios", "Prefix", id="a prefix owns what it starts"),
        pytest.param("Verizon", "Prefix", id="a prefix owns its own name"),
        pytest.param("Not Verizon", None, id="a prefix is not a substring"),
        pytest.param("Verizon Wireless Labs", "Longer", id="an exact name owns only itself"),
    ],
)
def test_it_gives_a_case_to_the_most_specific_account_pattern(account, owner):
    member("Prefix", "Verizon*")
    member("Longer", "Acme\nVerizon B*\nVerizon W*")
    member("Exact", "Verizon Wireless")
    member("Anyone", "")  # first by name among the equally loaded: gets the cases nobody owns
    chosen = Assigner().choose(Case(number="01234567", account=account, severity=3))
    assert chosen.name == (owner or "Anyone")


def test_it_shares_an_accounts_cases_among_members_with_the_same_pattern():
    member("A", "Verizon*")
    member("B", "verizon*")
    member("Idle", "")
    assigner = Assigner()
    chosen = [
        assigner.choose(Case(number=f"0123456{n}", account="Verizon Wireless", severity=3)).name for n in range(4)
    ]
    assert sorted(chosen) == ["A", "A", "B", "B"]  # never the idle member: the account has owners


@pytest.mark.parametrize("patterns", ["Veri*zon", "*", "Verizon**"])
def test_it_refuses_a_malformed_account_pattern(patterns):
    with pytest.raises(ValidationError, match="may only end a pattern"):
        TeamMember(name="x", accounts=f"Acme\n{patterns}").full_clean()


def test_it_assigns_new_cards_by_prefix_pattern_against_the_sandbox(automation, team):  # noqa: F811
    team["Ben Nakamura"].accounts = "Umbrella*"
    team["Ben Nakamura"].save()
    number = new_case(automation, account="Umbrella Wireless", severity=3)
    run_job(job="create_cards", trigger="manual")

    (issue,) = cards_in_jira(automation, number)
    assert jira(automation).issue(issue.key).fields.assignee.displayName == "Ben Nakamura"
    assert Card.objects.get(pk=issue.key).assignee == "Ben Nakamura"


def test_it_shows_account_patterns_in_admin(admin_client):
    member("Ada", "Verizon*\nAcme Telco")
    html = admin_client.get("/admin/cards/teammember/").content.decode()
    assert "Account patterns" in html and "Verizon*, Acme Telco" in html
    form = admin_client.get(f"/admin/cards/teammember/{TeamMember.objects.get(name='Ada').pk}/change/").content.decode()
    assert "Verizon*" in form and "an exact name beats any prefix" in form.lower()


# --- bug tagging: the Internal Whiteboard fallback ---------------------------------------------------------------
@pytest.fixture
def without_private_keywords(upstreams, settings, eager):
    """Two linked JIRA bugs whose screens lack Private Keywords: one with an Internal Whiteboard, one with neither."""
    settings.BUG_TAG_EMAILS = ["bugs@example.com"]
    for job in ("cases", "details", "issues"):
        run_job(job=job, trigger="manual")
    with_whiteboard, with_neither = list(
        linked(Issue).filter(issue_type="Bug").order_by("-key").values_list("key", flat=True)[:2]
    )
    jira(upstreams).issue(with_whiteboard).update(fields={WHITEBOARD: "NetworkEdge"})
    assert upstreams.post(f"issues/{with_whiteboard}/hidden-fields", {"fields": ["Private Keywords"]}).ok
    hidden = {"fields": ["Private Keywords", "Internal Whiteboard"]}
    assert upstreams.post(f"issues/{with_neither}/hidden-fields", hidden).ok
    run_job(job="issues", trigger="manual", full=True)
    settings.BUG_TAG_KEYWORDS = KEYWORDS
    yield {"sandbox": upstreams, "whiteboard": with_whiteboard, "neither": with_neither}
    for key in (with_whiteboard, with_neither):  # the sandbox is shared with other tests
        upstreams.post(f"issues/{key}/hidden-fields", {"fields": []})


def test_it_tags_the_internal_whiteboard_of_a_jira_bug_without_private_keywords(
    without_private_keywords, django_capture_on_commit_callbacks, mailoutbox
):
    sandbox, key = without_private_keywords["sandbox"], without_private_keywords["whiteboard"]
    with django_capture_on_commit_callbacks(execute=True):
        run = run_job(job="tag_bugs", trigger="manual")

    fields = jira(sandbox).issue(key).fields
    assert getattr(fields, WHITEBOARD) == "NetworkEdge Telco Telco:Case"  # kept, the keywords appended
    assert not hasattr(fields, PRIVATE_KEYWORDS)  # still not on its screens
    assert Issue.objects.get(pk=key).internal_whiteboard == "NetworkEdge Telco Telco:Case"
    assert run.outcome == "success" and run.rejected == 0
    (email,) = mailoutbox
    assert 'JIRA bugs without a "Private Keywords" field tagged in their "Internal Whiteboard" (1):' in email.body
    assert f"{key}: Telco, Telco:Case" in email.body
    neither = without_private_keywords["neither"]
    assert f'Skipped, no "Private Keywords" field, nor an "Internal Whiteboard" (1):\n  {neither}' in email.body

    with django_capture_on_commit_callbacks(execute=True):
        again = run_job(job="tag_bugs", trigger="manual")
    assert getattr(jira(sandbox).issue(key).fields, WHITEBOARD) == "NetworkEdge Telco Telco:Case"  # not twice
    assert again.updated == 0


def test_it_writes_no_whiteboard_in_read_only_mode(
    without_private_keywords, settings, django_capture_on_commit_callbacks
):
    settings.READ_ONLY = True
    sandbox, key = without_private_keywords["sandbox"], without_private_keywords["whiteboard"]
    sandbox.reset_requests()
    with django_capture_on_commit_callbacks(execute=True):
        run_job(job="tag_bugs", trigger="manual")
    assert sandbox.requests()["writes"] == 0
    assert getattr(jira(sandbox).issue(key).fields, WHITEBOARD) == "NetworkEdge"
