"""manage.py load_team: the team from a JSON list, over HTTP (the sandbox's team) or from a file."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cards.models import TeamMember
from tests.processes import free_port

pytestmark = pytest.mark.django_db

FIELDS = ["name", "jira_user", "jira_account_id", "email", "slack_id", "active"]


def load_team(*args) -> str:
    out = StringIO()
    call_command("load_team", *args, stdout=out)
    return out.getvalue()


def team_url(sandbox) -> str:
    return f"{sandbox.url}/_sandbox/team"


def test_it_loads_the_sandbox_team_over_http(sandbox):
    team = sandbox.get("team")

    out = load_team(team_url(sandbox), "--if-empty")

    assert f"Added {len(team)} team member(s)" in out
    loaded = {m.name: m for m in TeamMember.objects.all()}
    assert sorted(loaded) == sorted(m["name"] for m in team)
    for member in team:
        got = loaded[member["name"]]
        assert [getattr(got, f) for f in FIELDS] == [member[f] for f in FIELDS]
        assert got.account_list == member["accounts"]
    assert any(not m.active for m in loaded.values())  # the absent member stays away


def test_it_never_touches_a_team_that_exists_with_if_empty(sandbox):
    TeamMember.objects.create(name="Only Me", email="me@example.com")

    out = load_team(team_url(sandbox), "--if-empty")

    assert out.strip() == "T5G already has a team: left as it is."
    assert list(TeamMember.objects.values_list("name", "email")) == [("Only Me", "me@example.com")]


def test_it_adds_new_names_and_leaves_existing_members_as_they_are(sandbox):
    first = sandbox.get("team")[0]
    TeamMember.objects.create(name=first["name"], email="kept@example.com", active=False)

    out = load_team(team_url(sandbox))

    assert f"left as they are: {first['name']}." in out
    kept = TeamMember.objects.get(name=first["name"])
    assert (kept.email, kept.active, kept.slack_id) == ("kept@example.com", False, "")
    assert TeamMember.objects.count() == len(sandbox.get("team"))


def test_it_loads_a_file(tmp_path):
    path = tmp_path / "team.json"
    path.write_text(json.dumps([{"name": "Ana", "accounts": ["Acme", "Globex"]}, {"name": "Bo", "active": False}]))

    load_team(str(path))

    assert [(m.name, m.account_list, m.active) for m in TeamMember.objects.all()] == [
        ("Ana", ["Acme", "Globex"], True),
        ("Bo", [], False),
    ]


@pytest.mark.parametrize(
    "members, error",
    [
        ({"name": "Ana"}, "expected a JSON list of members"),
        ([{"name": "Ana"}, {"email": "bo@example.com"}], "member 2: expected an object with a name"),
        ([{"name": "Ana", "email": "not an address"}], "member 1 (Ana): Enter a valid email address."),
        ([{"name": "Ana", "team": "x"}], "member 1 (Ana): unknown fields ['team']"),
        ([{"name": "Ana", "accounts": "Acme"}], "member 1 (Ana): accounts must be a list"),
        ([{"name": "Ana"}, {"name": "Ana"}], "listed more than once: Ana"),
    ],
)
def test_it_names_what_is_wrong_and_loads_nobody(tmp_path, members, error):
    path = tmp_path / "team.json"
    path.write_text(json.dumps(members))

    with pytest.raises(CommandError) as raised:
        load_team(str(path))

    assert error in str(raised.value)
    assert not TeamMember.objects.exists()


def test_it_gives_up_on_a_url_that_never_answers():
    url = f"http://127.0.0.1:{free_port()}/team"

    with pytest.raises(CommandError, match=f"cannot reach {url}"):
        load_team(url, "--wait", "1")


def test_it_refuses_an_error_answer(sandbox):
    with pytest.raises(CommandError, match="answered 404"):
        load_team(f"{sandbox.url}/_sandbox/no-such-thing")
