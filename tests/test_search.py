"""The cases table's full-text search against the sandbox: what each sync writes is found by its words, best
match first, with the matched words marked in an escaped snippet; what a sync changes or removes stops matching.

Each test writes words of its own (a random suffix) into the shared sandbox, so no other test's data matches.
"""

import re
import uuid

import pytest
from django.test import TestCase
from django.urls import reverse
from jira import JIRA

from bugs.models import Bug, Issue
from cards.models import Card
from cases import search
from cases.models import Case
from t5g.sync.runner import run_job
from tests.factories import make_case

pytestmark = pytest.mark.django_db
URL = reverse("cases")
JOBS = ("cases", "details", "cards", "issues", "bugs")


def word(prefix: str = "zq") -> str:
    """A word no sandbox text has (letters only: a digit would also be a case-number substring search)."""
    return prefix + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:10])


def sync(*jobs: str, full: bool = True) -> None:
    # The test's transaction never commits: the runs' cache bumps are made to happen, as after a commit.
    with TestCase.captureOnCommitCallbacks(execute=True):
        for job in jobs:
            run = run_job(job=job, trigger="manual", full=full)
            assert run.outcome == "success", (job, run.error)


@pytest.fixture
def synced(upstreams):
    sync(*JOBS)
    return upstreams


@pytest.fixture
def user_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("member"))
    return client


def found(user_client, q: str, **params) -> list[str]:
    response = user_client.get(URL, {"view": "all", "q": q, **params})
    assert response.status_code == 200
    return re.findall(r'<tr id="case-(\w+)"', response.content.decode())


def match_line(user_client, q: str, number: str) -> str:
    """The snippet line under the summary of `number`'s row, as HTML."""
    page = user_client.get(URL, {"view": "all", "q": q}).content.decode()
    row = page.split(f'<tr id="case-{number}"', 1)[1].split("</tr>", 1)[0]
    return re.search(r'<div class="match">(.*?)</div>', row, re.S).group(1)


def a_card_of_a_case() -> Card:
    return Card.objects.filter(active=True, removed_at__isnull=True, case__isnull=False).order_by("key").first()


def test_it_finds_a_case_by_a_word_only_in_one_of_its_jira_comments(synced, user_client):
    card, secret = a_card_of_a_case(), word()
    synced.post(f"cards/{card.key}/comments", {"body": f"Restarted the {secret} operator twice."}).raise_for_status()
    assert found(user_client, secret) == []
    sync("cards", full=False)
    assert found(user_client, secret) == [card.case_id]
    line = match_line(user_client, secret, card.case_id)
    assert line.startswith("in JIRA comment:")
    assert f"<mark>{secret}</mark>" in line


def test_it_finds_a_case_by_a_word_only_in_its_portal_comments(synced, user_client):
    number, secret = a_card_of_a_case().case_id, word()
    synced.post(f"cases/{number}/comments", {"body": f"Customer attached {secret} logs."}).raise_for_status()
    sync("cases", "details", full=False)
    assert found(user_client, secret) == [number]
    line = match_line(user_client, secret, number)
    assert line.startswith("in portal comment:")
    assert f"attached <mark>{secret}</mark> logs." in line


def test_it_finds_a_case_by_a_word_only_in_a_linked_bug_title(synced, user_client):
    link = Bug.cases.through.objects.filter(bug__restricted=False).order_by("bug_id").first()
    secret = word()
    synced.post(f"bugs/{link.bug_id}/summary", {"summary": f"kernel {secret} regression"}).raise_for_status()
    sync("bugs")
    cases = set(Bug.cases.through.objects.filter(bug_id=link.bug_id).values_list("case_id", flat=True))
    assert set(found(user_client, secret)) == cases
    line = match_line(user_client, secret, link.case_id)
    assert line.startswith("in bug:")
    assert f"kernel <mark>{secret}</mark> regression" in line


def test_it_finds_a_case_by_a_word_only_in_a_linked_jira_issue_title(synced, user_client):
    link = Issue.cases.through.objects.order_by("issue_id").first()
    secret = word()
    JIRA(server=f"{synced.url}/jira", token_auth="sandbox-jira-token").issue(link.issue_id).update(
        fields={"summary": f"{secret} in the install"}
    )
    sync("issues")
    cases = set(Issue.cases.through.objects.filter(issue_id=link.issue_id).values_list("case_id", flat=True))
    assert set(found(user_client, secret)) == cases
    assert "in JIRA issue:" in match_line(user_client, secret, link.case_id)


def test_it_puts_the_best_match_first_unless_a_sort_is_chosen(synced, user_client):
    secret = word()
    # The urgent case has the word once, deep in its description; the low one in its summary.
    urgent = synced.post(
        "cases", {"severity": 1, "summary": "Slow API", "description": f"Seen after {secret} was applied."}
    ).json()["number"]
    low = synced.post("cases", {"severity": 4, "summary": f"{secret} breaks upgrades"}).json()["number"]
    sync("cases", full=False)
    assert found(user_client, secret) == [low, urgent]
    assert found(user_client, secret, sort="severity") == [urgent, low]
    # Chosen in the URL as any other sort: the severity column's link names it.
    assert f"?q={secret}&amp;sort=severity" in user_client.get(URL, {"q": secret}).content.decode()


def test_it_composes_the_search_with_facets(synced, user_client):
    secret = word()
    urgent = synced.post("cases", {"severity": 1, "summary": f"{secret} one"}).json()["number"]
    low = synced.post("cases", {"severity": 4, "summary": f"{secret} two", "account": "Acme Telco"}).json()["number"]
    sync("cases", full=False)
    assert set(found(user_client, secret)) == {urgent, low}
    assert found(user_client, secret, severity=4) == [low]
    assert found(user_client, secret, account="Acme Telco") == [low]
    page = user_client.get(URL, {"view": "all", "q": secret}).content.decode()
    # The facets count the matches only.
    assert re.search(r"Urgent</a> <span class=\"n\">1</span>", page)


def test_it_updates_the_index_when_a_sync_changes_or_removes_a_comment(synced, user_client):
    card, old, new = a_card_of_a_case(), word(), word()
    comment = synced.post(f"cards/{card.key}/comments", {"body": f"Tried {old}."}).json()["id"]
    sync("cards", full=False)
    assert found(user_client, old) == [card.case_id]

    synced.post(f"cards/{card.key}/comments/{comment}", {"body": f"Tried {new} instead."}).raise_for_status()
    sync("cards", full=False)
    assert found(user_client, old) == []
    assert found(user_client, new) == [card.case_id]

    synced.delete(f"cards/{card.key}/comments/{comment}").raise_for_status()
    sync("cards", full=False)
    assert found(user_client, new) == []


def test_it_finds_cases_by_their_number_or_card_key_or_the_start_of_either(synced, user_client):
    card = a_card_of_a_case()
    assert found(user_client, card.case_id) == [card.case_id]
    assert found(user_client, card.case_id.lstrip("0")) == [card.case_id]  # as a spreadsheet shows it
    assert found(user_client, card.key)[0] == card.case_id
    assert card.case_id in found(user_client, card.case_id[:6], per=200)
    # The start of a key: KNIECO-12 finds KNIECO-123.
    card = Card.objects.filter(active=True, case__isnull=False, key__regex=r"-\d{3}$").order_by("key").first()
    assert card.case_id in found(user_client, card.key[:-1], per=200)


def test_it_keeps_hostile_text_inert_in_the_snippet(synced, user_client):
    card, secret = a_card_of_a_case(), word()
    hostile = f"<script>alert(1)</script><img src=x onerror=alert(2)> {secret} </mark><b>bold</b>\ue000x"
    synced.post(f"cards/{card.key}/comments", {"body": hostile}).raise_for_status()
    sync("cards", full=False)
    line = match_line(user_client, secret, card.case_id)
    assert "<script" not in line and "<img" not in line and "<b>" not in line
    assert f"<mark>{secret}</mark>" in line
    assert line.count("<mark>") == line.count("</mark>") == 1


def test_it_marks_only_the_engines_markers():
    assert search.marked("a <b> \ue000word\ue001 & \ue000") == "a &lt;b&gt; <mark>word</mark> &amp; "


def test_it_indexes_existing_cases_when_built_from_scratch(synced):
    numbers = list(Case.objects.values_list("number", flat=True))
    assert search.reindex(numbers=numbers) == len(numbers)
    assert search.reindex(numbers=["not-a-case"]) == 0


@pytest.mark.parametrize(
    "q", ['"unbalanced', "NEAR(a b) OR c*", "summary: x", "a & !b | c:*", "') OR 1=1 --", "*", "-", "é ü 日本"]
)
def test_it_reads_search_syntax_as_plain_words(user_client, q):
    make_case("01000001", summary="near or summary")
    assert user_client.get(URL, {"view": "all", "q": q}).status_code == 200
