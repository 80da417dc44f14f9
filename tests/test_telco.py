"""Telco signals against the sandbox: the Telco priority of linked JIRA bugs (P1…, from Telco:Priority-N private
keywords, else the Internal Whiteboard) shown, filtered and sorted; the Daily Telco list (a card label) as a filter."""

import re

import pytest
from jira import JIRA

from bugs.issues import TELCO_PRIORITY
from bugs.models import Issue
from cards.models import Card
from cases.models import Case
from cases.query import CaseQuery
from cases.selectors import case_rows, facets
from t5g.sync.runner import run_job

pytestmark = pytest.mark.django_db

PRIVATE_KEYWORDS, WHITEBOARD = "customfield_11087", "customfield_11004"


def jira(sandbox) -> JIRA:
    return JIRA(server=f"{sandbox.url}/jira", token_auth="sandbox-jira-token")


@pytest.fixture
def member(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("member"))
    return client


@pytest.fixture
def synced(upstreams):
    for job in ("cases", "details", "cards", "issues"):
        run_job(job=job, trigger="manual")
    return upstreams


def level_in(words: list[str]) -> int | None:
    levels = [int(m[1]) for w in words if (m := TELCO_PRIORITY.match(w))]
    return min(levels) if levels else None


def test_it_reads_the_telco_priority_from_keywords_else_the_whiteboard(synced):
    with_level = list(Issue.objects.exclude(telco_priority=None).values_list("key", "telco_priority"))
    keys = [key for key, _ in with_level] + list(
        Issue.objects.filter(telco_priority=None).values_list("key", flat=True)
    )
    found = jira(synced).search_issues(
        f"key in ({', '.join(keys)})", fields=f"{PRIVATE_KEYWORDS},{WHITEBOARD}", maxResults=False
    )
    upstream = {}
    from_whiteboard = 0
    for i in found:
        keywords = (getattr(i.fields, PRIVATE_KEYWORDS) or "").split(",")
        whiteboard = (getattr(i.fields, WHITEBOARD) or "").split()
        upstream[i.key] = level_in(keywords) or level_in(whiteboard)
        from_whiteboard += level_in(keywords) is None and level_in(whiteboard) is not None
    assert dict(Issue.objects.values_list("key", "telco_priority")) == upstream
    assert len({level for _, level in with_level}) >= 3  # the sandbox gives several levels
    assert from_whiteboard > 0  # and some only in the whiteboard


def test_it_filters_sorts_and_counts_cases_by_telco_priority(synced, member):
    p1_cases = set(Case.objects.filter(issues__telco_priority=1).values_list("number", flat=True))
    p2_cases = set(Case.objects.filter(issues__telco_priority=2).values_list("number", flat=True))
    assert p1_cases and p2_cases

    query = CaseQuery(view="all", telco=(1,))
    assert set(case_rows(query=query).values_list("number", flat=True)) == p1_cases
    both = CaseQuery(view="all", telco=(1, 2))
    assert set(case_rows(query=both).values_list("number", flat=True)) == p1_cases | p2_cases
    counts = dict(facets(query=CaseQuery(view="all")).get("telco").counts)
    assert counts[1] == len(p1_cases) and counts[2] == len(p2_cases)

    page = member.get("/cases/", {"view": "all", "telco": "1", "per": 200}).content.decode()
    assert set(re.findall(r'id="case-(\d{8})"', page)) == p1_cases
    assert "Telco priority: P1 ×" in page  # the filter's chip
    assert re.search(r'aria-checked="true"><span class="box" aria-hidden="true">☑</span> P1</a>', page)

    ordered = list(case_rows(query=CaseQuery(view="all", sort="telco")).values_list("number", flat=True))
    best = {n: min(Case.objects.get(pk=n).issues.exclude(telco_priority=None).values_list("telco_priority", flat=True),
                   default=None) for n in ordered}  # fmt: skip
    ranks = [best[n] for n in ordered if best[n] is not None]
    assert ranks == sorted(ranks) and all(best[n] is None for n in ordered[len(ranks) :])  # P1 first, none last


def test_it_shows_the_telco_priority_with_its_colour_in_the_expanded_row(synced, member):
    issue = Issue.objects.filter(telco_priority=2, cases__isnull=False).first()
    case = issue.cases.first()
    row = member.get(f"/cases/{case.number}/row/", HTTP_HX_REQUEST="true").content.decode()
    assert '<span class="telco telco-2" title="Telco:Priority-2">P2</span>' in row


def test_it_filters_the_cases_on_the_daily_telco_list(synced, member, settings):
    cards = list(Card.objects.filter(active=True, removed_at=None).exclude(case=None).order_by("key")[:3])
    client = jira(synced)
    client.issue(cards[0].key).update(fields={"labels": [*cards[0].labels, "Daily_Telco_OCP"]})
    client.issue(cards[1].key).update(fields={"labels": [*cards[1].labels, "Daily_Telco_OCP_old"]})  # not the label
    client.issue(cards[2].key).update(fields={"labels": [*cards[2].labels, "Daily_Telco_RAN"]})
    run_job(job="cards", trigger="manual")

    listed = CaseQuery(view="all", daily_telco="yes")
    assert list(case_rows(query=listed).values_list("number", flat=True)) == [cards[0].case_id]
    not_listed = set(case_rows(query=CaseQuery(view="all", daily_telco="no")).values_list("number", flat=True))
    assert cards[0].case_id not in not_listed and cards[1].case_id in not_listed
    assert dict(facets(query=CaseQuery(view="all")).get("daily_telco").counts)["yes"] == 1

    page = member.get("/cases/", {"view": "all", "daily_telco": "yes"}).content.decode()
    assert re.findall(r'id="case-(\d{8})"', page) == [cards[0].case_id]
    assert "On the Daily Telco list" in page

    settings.DAILY_TELCO_LABEL = "Daily_Telco_RAN"  # the label is a setting
    assert list(case_rows(query=listed).values_list("number", flat=True)) == [cards[2].case_id]


def test_it_refuses_a_malformed_telco_filter_with_a_message(member):
    page = member.get("/cases/", {"telco": "P1", "daily_telco": "maybe"}).content.decode()
    assert "“telco”" in page and "“daily_telco”" in page


def test_it_draws_each_telco_priority_at_aa_contrast():
    from tests.test_contrast import CSS, contrast

    # .telco (P5 and beyond) and .telco-1 … .telco-4: white 12 px text on the level's colour.
    rules = dict(re.findall(r"\.(telco(?:-\d)?) \{[^}]*?background: (#[0-9a-fA-F]{6})", CSS))
    assert set(rules) == {"telco", "telco-1", "telco-2", "telco-3", "telco-4"}
    for rule, background in rules.items():
        assert contrast("#ffffff", background) >= 4.5, (rule, background)
