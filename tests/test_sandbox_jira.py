"""The sandbox's JIRA, driven through the real `jira` client as T5G drives it (plain requests where it has no call).

These tests write to the shared sandbox (cards, comments, links, sprints): each works on issues it creates
or compares against /_sandbox/state at the time, so the order they run in does not matter.
"""

import math
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from jira import JIRA, JIRAError

from tests.sandbox import Sandbox

TOKEN = "sandbox-jira-token"
CARDS = "project = KNIECO AND labels = field"
BOARD = "KNI-ECO Labs & Field"
BZ_URL = "https://bugzilla.redhat.com/show_bug.cgi?id=1"


def client(sandbox, **auth) -> JIRA:
    return JIRA(server=f"{sandbox.url}/jira", **(auth or {"token_auth": TOKEN}))


def team(sandbox) -> list[dict]:
    return sandbox.get("team")


def new_card(jira: JIRA, summary: str, **fields):
    return jira.create_issue(
        project="KNIECO",
        issuetype="Story",
        summary=summary,
        description="This card was automatically created from the Case Dashboard Sync Job.",
        components=[{"name": "KNI Labs & Field"}],
        labels=["field", "cnf"],
        priority={"name": "Normal"},
        **fields,
    )


def jira_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def jql_error(jira: JIRA, jql: str) -> JIRAError:
    with pytest.raises(JIRAError) as caught:
        jira.search_issues(jql)
    return caught.value


def test_it_tells_the_library_it_is_cloud_and_names_its_custom_fields(clean_sandbox):
    jira = client(clean_sandbox)
    info = jira.server_info()
    assert info["deploymentType"] == "Cloud" and info["baseUrl"] == f"{clean_sandbox.url}/jira"
    assert jira._is_cloud
    fields = {f["id"]: f for f in jira.fields()}
    names = {
        "customfield_10466": "Contributors", "customfield_10840": "Severity", "customfield_10470": "QA Contact",
        "customfield_11087": "Private Keywords", "customfield_10979": "SFDC Case Links", "customfield_10020": "Sprint",
        "customfield_11004": "Internal Whiteboard", "customfield_10783": "Release note text",
    }  # fmt: skip
    for fid, name in names.items():
        assert fields[fid]["name"] == name
        assert fields[fid]["schema"]["customId"] == int(fid.split("_")[1]) and fields[fid]["schema"]["custom"]
    assert jira._get_sprint_field_id() == 10020


def test_it_finds_exactly_the_team_cards_in_pages_of_a_hundred(clean_sandbox):
    jira = client(clean_sandbox)
    clean_sandbox.reset_requests()
    cards = jira.search_issues(CARDS, maxResults=False)
    expected = clean_sandbox.state()["cards"]
    assert len(cards) == expected == len({c.key for c in cards})
    assert all(c.fields.project.key == "KNIECO" and "field" in c.fields.labels for c in cards)
    pages = clean_sandbox.requests()["GET /jira/rest/api/2/search/jql"]
    assert pages == math.ceil(expected / 100)


def test_it_pages_with_next_page_tokens_without_gaps_or_duplicates(clean_sandbox):
    jira = client(clean_sandbox)
    seen, token, pages = [], None, 0
    while True:
        page = jira.enhanced_search_issues(CARDS, nextPageToken=token, maxResults=37, fields="key", json_result=True)
        pages += 1
        seen += [i["key"] for i in page["issues"]]
        token = page.get("nextPageToken")
        assert page["isLast"] == (token is None)
        if token is None:
            break
    assert len(seen) == len(set(seen)) == clean_sandbox.state()["cards"]
    assert pages == math.ceil(len(seen) / 37)


def test_it_resumes_a_page_token_after_the_issue_it_ended_on_when_cards_are_created_midway(clean_sandbox):
    jira = client(clean_sandbox)
    first = jira.enhanced_search_issues(CARDS, maxResults=50, fields="key", json_result=True)
    before = {i.key for i in jira.search_issues(CARDS, maxResults=False, fields="key")}
    created = new_card(jira, "03999001: created while T5G was paging")
    seen, token = [i["key"] for i in first["issues"]], first["nextPageToken"]
    while token:
        page = jira.enhanced_search_issues(CARDS, nextPageToken=token, maxResults=50, fields="key", json_result=True)
        seen += [i["key"] for i in page["issues"]]
        token = page.get("nextPageToken")
    assert len(seen) == len(set(seen))
    assert set(seen) == before  # newest first: the new card sorts before the first page
    assert created.key in {i.key for i in jira.search_issues(CARDS, maxResults=False, fields="key")}


def test_it_pages_the_server_flavour_by_start_at(tmp_path):
    server = Sandbox(log_dir=tmp_path, cases=150, jira_flavor="server")
    try:
        jira = client(server)
        assert jira.server_info()["deploymentType"] == "Server" and not jira._is_cloud
        cards = jira.search_issues(CARDS, maxResults=False)
        expected = server.state()["cards"]
        assert len(cards) == expected == len({c.key for c in cards})
        keys = []
        for start in range(0, expected, 40):
            page = jira.search_issues(CARDS, startAt=start, maxResults=40, fields="key", json_result=True)
            assert page["total"] == expected and page["startAt"] == start
            keys += [i["key"] for i in page["issues"]]
        assert len(keys) == len(set(keys)) == expected
        assert server.requests()["GET /jira/rest/api/2/search"] > 0
        assert requests.get(f"{server.url}/jira/rest/api/2/search/jql", params={"jql": CARDS},
                            headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).status_code == 404  # fmt: skip
        user = jira.issue(cards[0].key).fields.assignee
        assert user.name and user.key and user.accountId  # Server users carry name/key as well
    finally:
        server.stop()


def test_it_accepts_bearer_and_basic_auth_and_refuses_anything_else(clean_sandbox):
    assert client(clean_sandbox).myself()["displayName"] == "T5G Bot"
    assert client(clean_sandbox, basic_auth=("t5g-bot", TOKEN)).myself()["accountId"]
    for auth in ({"token_auth": "wrong"}, {"basic_auth": ("t5g-bot", "wrong")}, {"basic_auth": ("admin", TOKEN)}):
        with pytest.raises(JIRAError) as caught:
            client(clean_sandbox, **auth)
        assert caught.value.status_code == 401
    anonymous = JIRA(server=f"{clean_sandbox.url}/jira")  # serverInfo is public, as on a real site
    with pytest.raises(JIRAError) as caught:
        anonymous.search_issues(CARDS)
    assert caught.value.status_code == 401


def test_it_creates_a_card_that_later_searches_find(clean_sandbox):
    jira = client(clean_sandbox)
    engineer = next(m for m in team(clean_sandbox) if m["active"])
    cards_before = clean_sandbox.state()["cards"]
    card = new_card(
        jira, "03999002: Pods in CrashLoopBackOff after upgrade", customfield_10783="TRACK",
        assignee={"accountId": engineer["jira_account_id"]},
    )  # fmt: skip
    assert re.fullmatch(r"KNIECO-\d+", card.key)
    assert card.self == f"{clean_sandbox.url}/jira/rest/api/2/issue/{card.id}"
    assert card.fields.status.name == "New" and card.fields.status.statusCategory.key == "new"
    assert card.fields.assignee.accountId == engineer["jira_account_id"]
    assert card.fields.customfield_10783 == "TRACK" and card.fields.components[0].name == "KNI Labs & Field"
    assert clean_sandbox.state()["cards"] == cards_before + 1
    assert card.key in {i.key for i in jira.search_issues(CARDS, maxResults=False, fields="key")}
    assert [i.key for i in jira.search_issues("project = KNIECO AND summary ~ '03999002'")] == [card.key]
    assert [i.key for i in jira.search_issues(f'key = {card.key} AND assignee = "{engineer["jira_user"]}"')] == [
        card.key
    ]


def test_it_refuses_a_card_without_a_summary_or_with_an_unknown_component(clean_sandbox):
    jira = client(clean_sandbox)
    with pytest.raises(JIRAError) as caught:
        jira.create_issue(project="KNIECO", issuetype="Story", summary="x", components=[{"name": "Nope"}])
    assert caught.value.status_code == 400 and "Component name 'Nope' is not valid" in caught.value.text
    with pytest.raises(JIRAError) as caught:
        jira.create_issue(project="KNIECO", issuetype="Story", summary="two\nlines")
    assert "newline" in caught.value.text


def test_it_updates_priority_and_labels_and_moves_updated(clean_sandbox):
    jira = client(clean_sandbox)
    card = new_card(jira, "03999003: priority sync")
    before = jira_time(card.fields.updated)
    card.update(fields={"priority": {"name": "Critical"}, "labels": ["field", "cnf", "PotentialEscalation"]})
    assert card.fields.priority.name == "Critical"  # the library reloads the issue from its `self` URL
    assert card.fields.labels == ["field", "cnf", "PotentialEscalation"]
    assert jira_time(card.fields.updated) > before
    card.update(update={"labels": [{"add": "Trends"}, {"remove": "cnf"}]})
    assert jira.issue(card.key).fields.labels == ["field", "PotentialEscalation", "Trends"]
    found = jira.search_issues(f"key = {card.key} AND priority = Critical AND labels in (Trends, nothing)")
    assert [i.key for i in found] == [card.key]
    with pytest.raises(JIRAError) as caught:  # a bare value in `update` is refused, as by JIRA
        card.update(labels=["field"])
    assert caught.value.status_code == 400 and "FieldOperation" in caught.value.text
    with pytest.raises(JIRAError) as caught:
        card.update(fields={"priority": {"name": "Whenever"}})
    assert caught.value.status_code == 400 and "Priority" in caught.value.text


def test_it_transitions_by_name_or_id_and_refuses_unknown_ids(clean_sandbox):
    jira = client(clean_sandbox)
    card = new_card(jira, "03999004: transitions")
    names = {t["name"]: t["id"] for t in jira.transitions(card)}
    assert names["To Do"] == "11" and {"In Progress", "Done"} <= set(names) and "New" not in names
    jira.transition_issue(card, "In Progress")
    assert jira.issue(card.key).fields.status.name == "In Progress"
    assert card.key in {
        i.key for i in jira.search_issues('status = "In Progress" AND labels = field', maxResults=False)
    }
    jira.transition_issue(card, "11", comment="Case 03999004 seems to have been reopened.")
    reopened = jira.issue(card.key)
    assert reopened.fields.status.name == "To Do"
    assert reopened.fields.comment.comments[-1].body.startswith("Case 03999004")
    with pytest.raises(JIRAError) as caught:
        jira.transition_issue(card, "999")
    assert caught.value.status_code == 400


def test_it_adds_comments_and_renders_them_safely(clean_sandbox):
    jira = client(clean_sandbox)
    card = new_card(jira, "03999005: comments")
    comment = jira.add_comment(
        card, "Customer confirmed <script>alert(1)</script> see [KB|https://access.redhat.com/x]"
    )
    assert comment.author.displayName == "T5G Bot" and comment.id
    assert [c.body for c in jira.comments(card.key)] == [comment.body]
    rendered = jira.issue(card.key, expand="renderedFields")
    assert rendered.fields.comment.total == 1
    html = rendered.renderedFields.comment.comments[0].body
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert '<a href="https://access.redhat.com/x"' in html


def test_it_adds_remote_links(clean_sandbox):
    jira = client(clean_sandbox)
    card = new_card(jira, "03999006: links")
    url = "https://access.redhat.com/support/cases/#/case/03999006"
    jira.add_simple_link(card.key, {"url": url, "title": "Support Case"})
    with pytest.warns(Warning, match="applicationlinks"):  # listing application links needs an administrator
        for title in ("BZ 1", "BZ 1 (moved)"):
            jira.add_remote_link(card.key, {"url": BZ_URL, "title": title}, globalId="bz-1")
    links = jira.remote_links(card.key)
    assert [(x.object.url, x.object.title) for x in links] == [
        (url, "Support Case"),
        (BZ_URL, "BZ 1 (moved)"),  # the same globalId updates the link
    ]


def test_it_moves_a_card_into_the_sprint_chosen_by_name_among_two_active_ones(clean_sandbox):
    jira = client(clean_sandbox)
    board = jira.boards(name=BOARD)[0]
    assert board.name == BOARD and jira.boards(name="no such board") == []
    active = jira.sprints(board.id, state="active")
    assert len(active) == 2 and not active[0].name.startswith("T5GFE")  # "the first active sprint" is wrong
    sprint = next(s for s in active if s.name.startswith("T5GFE"))
    old = jira.search_issues('labels = field AND sprint in closedSprints() AND status = "Done"', maxResults=1)[0]
    card = new_card(jira, "03999007: sprint")
    jira.add_issues_to_sprint(sprint.id, [card.key, old.key])
    assert [(s.id, s.name, s.state) for s in jira.issue(card.key).fields.customfield_10020] == [
        (sprint.id, sprint.name, "active")
    ]
    states = [s.state for s in jira.issue(old.key).fields.customfield_10020]
    assert states == ["closed", "active"]  # a completed sprint stays in the history
    in_sprint = {i.key for i in jira.search_issues(f"sprint = {sprint.id} AND labels = field", maxResults=False)}
    assert {card.key, old.key} <= in_sprint
    assert card.key in {i.key for i in jira.search_issues(f'sprint = "{sprint.name}"', maxResults=False)}
    assert card.key in {i.key for i in jira.search_issues("sprint in openSprints()", maxResults=False)}
    closed = next(s for s in jira.sprints(board.id, state="closed"))
    with pytest.raises(JIRAError) as caught:
        jira.add_issues_to_sprint(closed.id, [card.key])
    assert caught.value.status_code == 400


def test_it_answers_bad_jql_with_400_and_jira_messages(clean_sandbox):
    jira = client(clean_sandbox)
    cases = {
        "project = NOPE": "The value 'NOPE' does not exist for the field 'project'.",
        "status = ": "Expecting either a value, list or function but got 'EOF'",
        "foo = bar": "Field 'foo' does not exist or you do not have permission to view it.",
        'summary ~ "unterminated': "The quoted string 'unterminated' has not been completed.",
        "project KNIECO": "Expecting operator but got 'KNIECO'",
        "project = KNIECO ORDER BY labels": "Field 'labels' does not support sorting.",
        "key = KNIECO-999999": "An issue with key 'KNIECO-999999' does not exist for field 'key'.",
        "updated >= yesterday": "Date value 'yesterday' for field 'updated' is invalid.",
        "sprint in noSuchFunction()": "Unable to find JQL function 'noSuchFunction()'.",
    }
    for jql, message in cases.items():
        error = jql_error(jira, jql)
        assert error.status_code == 400 and message in error.text, (jql, error.text)


def test_it_evaluates_and_or_not_parentheses_and_order_by(clean_sandbox):
    jira = client(clean_sandbox)
    everything = jira.search_issues("project in (KNIECO, OCPBUGS, RHOCPPRIO)", maxResults=False, fields="key")
    bugs = jira.search_issues("issuetype = Bug", maxResults=False, fields="key")
    not_bugs = jira.search_issues("NOT issuetype = Bug", maxResults=False, fields="key")
    assert len(bugs) + len(not_bugs) == len(everything)
    mixed = jira.search_issues(
        '(project = OCPBUGS OR labels = Telco5g) AND status not in (Closed, "Won\'t Fix / Obsolete")',
        maxResults=False, fields="status,project,labels",
    )  # fmt: skip
    assert mixed and all(
        (i.fields.project.key == "OCPBUGS" or "Telco5g" in i.fields.labels) and i.fields.status.name != "Closed"
        for i in mixed
    )
    ordered = jira.search_issues(f"{CARDS} ORDER BY updated DESC", maxResults=50, fields="updated")
    stamps = [jira_time(i.fields.updated) for i in ordered]
    assert stamps == sorted(stamps, reverse=True)
    by_key = jira.search_issues("project = OCPBUGS ORDER BY key ASC", maxResults=20, fields="key")
    assert [int(i.key.split("-")[1]) for i in by_key] == list(range(1, 21))


def test_it_finds_what_changed_since_a_time_after_churn(clean_sandbox):
    jira = client(clean_sandbox)
    since = datetime.now(UTC).replace(second=0, microsecond=0)
    changed = set()
    for _ in range(10):
        changed |= {c.split()[1] for c in clean_sandbox.churn(30) if c.startswith("card ")}
        if changed:
            break
    assert changed, "the churn touched no card"
    recent = jira.search_issues(f'{CARDS} AND updated >= "{since:%Y-%m-%d %H:%M}"', maxResults=False, fields="updated")
    assert changed <= {i.key for i in recent}
    assert all(jira_time(i.fields.updated) >= since for i in recent)
    assert changed <= {i.key for i in jira.search_issues(f"{CARDS} AND updated >= -5m", maxResults=False)}
    older = since - timedelta(minutes=1)
    assert not {i.key for i in jira.search_issues(f'{CARDS} AND updated < "{older:%Y/%m/%d %H:%M}"', maxResults=False,
                                                   fields="key")} & changed  # fmt: skip


def test_it_renders_fields_and_custom_fields_as_jira_does(clean_sandbox):
    jira = client(clean_sandbox)
    bug = jira.search_issues("issuetype = Bug AND project = OCPBUGS", maxResults=1, expand="renderedFields")[0]
    assert bug.fields.issuetype.name == "Bug" and bug.fields.priority.name
    assert bug.fields.customfield_10840.value in ("Critical", "Important", "Moderate", "Low")
    assert "@" in bug.fields.customfield_10470.emailAddress
    keywords = bug.renderedFields.customfield_11087
    assert keywords is None or all(k.strip() for k in keywords.split(","))
    card = jira.search_issues(f"{CARDS} AND sprint in openSprints() ORDER BY key", maxResults=1)[0]  # a seeded one
    assert card.fields.customfield_10840.value in ("Urgent", "High", "Normal", "Low")
    assert all(u.accountId and u.displayName for u in card.fields.customfield_10466 or [])
    # A reopened card keeps its closed sprints too.
    assert any(s.state == "active" and s.boardId == 1 for s in card.fields.customfield_10020)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000", card.fields.created)
    escalations = jira.search_issues(
        'project = RHOCPPRIO AND labels = "Telco5g" AND status != "Closed"', 0, False,
        fields=["customfield_10979"], expand="renderedFields",
    )  # fmt: skip
    assert escalations and set(escalations[0].raw["fields"]) == {"customfield_10979"}
    for entry in escalations:
        assert re.search(r"/case/\d{8}", entry.fields.customfield_10979)
        assert '<a href="https://access.redhat.com/support/cases/#/case/' in entry.renderedFields.customfield_10979


def test_it_returns_only_the_fields_asked_for(clean_sandbox):
    jira = client(clean_sandbox)
    key = jira.search_issues(CARDS, maxResults=1, fields="key")[0].key
    assert set(jira.issue(key, fields="summary,status").raw["fields"]) == {"summary", "status"}
    r = requests.get(
        f"{clean_sandbox.url}/jira/rest/api/2/issue/{key}", params=[("fields", "summary"), ("fields", "labels")],
        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10,
    )  # fmt: skip
    assert set(r.json()["fields"]) == {"summary", "labels"}
    bare = requests.get(
        f"{clean_sandbox.url}/jira/rest/api/2/search/jql", params={"jql": CARDS, "maxResults": 5},
        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10,
    ).json()  # fmt: skip
    assert len(bare["issues"]) == 5 and all(i["fields"] == {} and i["id"] for i in bare["issues"])  # Cloud: ids only
    everything = jira.issue(key).raw["fields"]
    assert {"summary", "status", "comment", "customfield_10020", "customfield_10840"} <= set(everything)
    assert set(jira.issue(key, fields="*all,-comment").raw["fields"]) == set(everything) - {"comment"}


def test_it_takes_the_post_variant_of_search(clean_sandbox):
    jira = client(clean_sandbox)
    posted = jira.search_issues(CARDS, maxResults=False, fields="key", use_post=True)
    assert len(posted) == clean_sandbox.state()["cards"]


def test_it_changes_an_issue_the_client_holds_between_two_pages_on_churn(clean_sandbox, tmp_path):
    ordered = f"{CARDS} ORDER BY updated ASC"
    # Cloud: the token resumes after the last issue answered, so the changed issue is read again, none skipped.
    jira = client(clean_sandbox)
    everything = [i["key"] for i in jira.enhanced_search_issues(ordered, maxResults=41, fields="key",
                                                                json_result=True)["issues"]]  # fmt: skip
    clean_sandbox.faults({"path": "/jira/rest/api/2/search", "kind": "churn", "count": 1})
    first = jira.enhanced_search_issues(ordered, maxResults=20, fields="key", json_result=True)
    second = jira.enhanced_search_issues(ordered, nextPageToken=first["nextPageToken"], maxResults=20, fields="key",
                                         json_result=True)  # fmt: skip
    assert [i["key"] for i in first["issues"]] == everything[:20]
    assert [i["key"] for i in second["issues"]] == everything[20:40]

    # Server: startAt counts positions, and the changed issue's move shifts the rest: one is never seen.
    server = Sandbox(log_dir=tmp_path, cases=150, jira_flavor="server")
    try:
        jira = client(server)
        answer = jira.search_issues(ordered, maxResults=41, fields="key", json_result=True)
        everything = [i["key"] for i in answer["issues"]]
        server.faults({"path": "/jira/rest/api/2/search", "kind": "churn", "count": 1})
        first = jira.search_issues(ordered, startAt=0, maxResults=20, fields="key", json_result=True)["issues"]
        second = jira.search_issues(ordered, startAt=20, maxResults=20, fields="key", json_result=True)["issues"]
        assert [i["key"] for i in first] == everything[:20]
        assert [i["key"] for i in second] == everything[21:41]
    finally:
        server.stop()
