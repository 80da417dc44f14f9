"""manage.py import_t5gweb: the old dashboard's team, SLA settings and daily stats history (from a real Redis
holding the old `stats` key), in the old shapes (predecessor.md §3.4, §4.6), upserted."""

import json
import re
from datetime import date
from io import StringIO

import pytest
import redis
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from cards.models import TeamMember
from cases.models import SlaPartner
from stats.models import DailyStats
from tests.factories import make_daily_stats
from tests.processes import free_port

pytestmark = pytest.mark.django_db

# The old `team` setting: "true"/"false" strings, slack_user, accounts as a list.
OLD_TEAM = [
    {"name": "Ada Lovelace", "jira_user": "alovelace", "jira_account_id": "5f1a", "slack_user": "U01ADA",
     "accounts": ["Verizon", "Acme Telco"], "active": "true", "notifieduser": "true"},
    {"name": "Bo Brahe", "jira_user": "bbrahe", "slack_user": "U02BO", "accounts": [], "active": "false",
     "notifieduser": "false"},
    {"name": "Cy Young", "jira_user": "cyoung", "accounts": "Globex", "active": "maybe"},  # unreadable flag
    {"jira_user": "nobody"},  # no name
]  # fmt: skip
OLD_SLA = {"days": {"Urgent": 7, "High": 14, "Normal": 60, "Low": 120}, "partners": ["Acme Telco", "Verizon"]}


def old_day(open_cases: int, **more) -> dict:
    """One day of the old generate_stats(), every key it had."""
    return {
        "by_customer": {"Acme Telco": open_cases}, "by_engineer": {"Ada Lovelace": open_cases},
        "by_severity": {"High": open_cases}, "by_status": {"Waiting on Red Hat": open_cases},
        "high_prio": 3, "escalated": 2, "crit_sit": 1, "total_escalations": 3, "no_bzs": 4,
        "open_cases": open_cases, "weekly_closed_cases": 5, "daily_closed_cases": 1, "weekly_opened_cases": 6,
        "daily_opened_cases": 2, "no_updates": open_cases - 1, "bugs": {"unique": 8, "no_target": 2}, **more,
    }  # fmt: skip


OLD_STATS = {"2025-03-01": old_day(40), "2025-03-02": old_day(41), "2025-03-03": old_day(42), "not-a-day": {}}


@pytest.fixture
def old_redis(redis_server):
    """The old dashboard's Redis: a database of the test Redis (with its password) holding the `stats` key."""
    url = redis_server.url.rsplit("/", 1)[0] + "/7"
    client = redis.Redis.from_url(url)
    client.set("stats", json.dumps(OLD_STATS))
    yield url
    client.flushdb()


@pytest.fixture
def files(tmp_path):
    team, sla = tmp_path / "team.json", tmp_path / "sla.json"
    team.write_text(json.dumps(OLD_TEAM))
    sla.write_text(json.dumps(OLD_SLA))
    return {"team": str(team), "sla": str(sla)}


def run(*args) -> str:
    out = StringIO()
    call_command("import_t5gweb", *args, stdout=out)
    return out.getvalue()


def import_all(files, old_redis, *more) -> str:
    return run("--team-json", files["team"], "--sla-json", files["sla"], "--redis-url", old_redis, *more)


def rows() -> dict:
    return {
        "team": list(
            TeamMember.objects.values_list(
                "name", "jira_user", "jira_account_id", "slack_id", "accounts", "active", "notify_on_case"
            )
        ),  # fmt: skip
        "sla": list(SlaPartner.objects.values_list("account", "urgent_days", "high_days", "normal_days", "low_days")),
        "stats": list(DailyStats.objects.order_by("date").values_list("date", "scope", "metrics")),
    }


def test_it_imports_the_team_the_sla_partners_and_the_stats_history(files, old_redis):
    out = import_all(files, old_redis)

    assert rows()["team"] == [
        ("Ada Lovelace", "alovelace", "5f1a", "U01ADA", "Verizon*\nAcme Telco*", True, True),
        ("Bo Brahe", "bbrahe", "", "U02BO", "", False, False),
    ]
    assert rows()["sla"] == [("Acme Telco", 7, 14, 60, 120), ("Verizon", 7, 14, 60, 120)]
    days = DailyStats.objects.filter(scope="all").order_by("date")
    assert [d.date for d in days] == [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]
    metrics = days[0].metrics
    assert (metrics["open_cases"], metrics["opened_today"], metrics["closed_week"]) == (40, 2, 5)
    assert metrics["no_updates"] == 1  # the old key counted the open cases *with* an update
    assert (metrics["unique_bugs"], metrics["bugs_no_target"], metrics["no_bugs"]) == (8, 2, 4)
    assert metrics["by_customer"] == {"Acme Telco": 40}
    assert "team members: 2 added, 0 updated, 0 already as given" in out
    assert "stats days: 3 added" in out
    assert 'team member Cy Young: active must be "true" or "false", not \'maybe\'' in out
    assert "team member #4: no name" in out
    assert "stats day not-a-day: not a date as YYYY-MM-DD" in out


def test_it_changes_nothing_when_run_twice(files, old_redis):
    import_all(files, old_redis)
    first = rows()

    out = import_all(files, old_redis)

    assert rows() == first
    assert "team members: 0 added, 0 updated, 2 already as given" in out
    assert "SLA partners: 0 added, 0 updated, 2 already as given" in out
    assert "stats days: 0 added, 0 updated, 3 already as given" in out


def test_it_updates_what_changed_in_the_old_shapes(files, old_redis, tmp_path):
    import_all(files, old_redis)
    team = [{**OLD_TEAM[0], "active": "false"}]
    (tmp_path / "team2.json").write_text(json.dumps(team))
    redis.Redis.from_url(old_redis).set("stats", json.dumps({"2025-03-03": old_day(50)}))

    out = run("--team-json", str(tmp_path / "team2.json"), "--redis-url", old_redis)

    assert TeamMember.objects.get(name="Ada Lovelace").active is False
    assert DailyStats.objects.get(date=date(2025, 3, 3)).metrics["open_cases"] == 50
    assert DailyStats.objects.count() == 3
    assert "team members: 0 added, 1 updated" in out and "stats days: 0 added, 1 updated" in out


def test_it_keeps_a_day_t5g_computed_itself(files, old_redis):
    make_daily_stats(date(2025, 3, 2), open_cases=99)

    out = run("--redis-url", old_redis)

    assert DailyStats.objects.get(date=date(2025, 3, 2)).metrics["open_cases"] == 99
    assert "stats day 2025-03-02: T5G computed this day itself: its figures were kept" in out


def test_it_writes_nothing_on_a_dry_run(files, old_redis):
    out = import_all(files, old_redis, "--dry-run")

    assert rows() == {"team": [], "sla": [], "stats": []}
    assert out.startswith("Dry run: nothing was written.")
    assert "team members: 2 added" in out


def test_the_stats_page_shows_the_imported_history(files, old_redis):
    run("--redis-url", old_redis)
    client = Client()
    client.force_login(get_user_model().objects.create_user("ana"))

    page = client.get("/stats/?start=2025-03-01&end=2025-03-03").content.decode()

    chart = json.loads(re.search(r'<script id="stats-history" type="application/json">(.*?)</script>', page)[1])
    series = {d["label"]: d["data"] for d in chart["data"]["datasets"]}
    assert chart["data"]["labels"] == ["2025-03-01", "2025-03-02", "2025-03-03"]
    assert series["Open cases"] == [40, 41, 42]
    assert series["Unique bugs"] == [8, 8, 8]


@pytest.mark.parametrize(
    "content, error",
    [
        (None, "cannot read {path}: No such file or directory"),
        ("{not json", "{path} is not JSON: "),
        ('{"name": "Ada"}', "{path}: expected a JSON list of team members (the old `team` setting)"),
    ],
)
def test_it_explains_a_bad_team_file_and_imports_nothing(tmp_path, content, error):
    path = tmp_path / "team.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(CommandError) as raised:
        run("--team-json", str(path))

    assert str(raised.value).startswith(error.format(path=path))
    assert not TeamMember.objects.exists()


@pytest.mark.parametrize(
    "sla, error",
    [
        (["Acme"], "expected a JSON object"),
        ({"days": {"Urgent": "soon"}, "partners": ["Acme"]}, '"days": Urgent must be a whole number of days'),
        ({"days": {"Critical": 3}, "partners": ["Acme"]}, "\"days\": unknown severity 'Critical'"),
    ],
)
def test_it_explains_bad_sla_settings_and_imports_nothing(tmp_path, files, sla, error):
    path = tmp_path / "sla.json"
    path.write_text(json.dumps(sla))

    with pytest.raises(CommandError) as raised:
        run("--team-json", files["team"], "--sla-json", str(path))

    assert error in str(raised.value) and "(nothing was imported)" in str(raised.value)
    assert not TeamMember.objects.exists() and not SlaPartner.objects.exists()


def test_it_explains_a_bad_redis_without_its_password(redis_server):
    right = redis_server.url
    password = right.split(":")[2].split("@")[0]
    wrong = right.replace(password, "not-the-password-x9")
    unreachable = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"

    for url, why in [(wrong, "the password is wrong"), (unreachable, "refused"), ("http://example.com", "")]:
        with pytest.raises(CommandError) as raised:
            run("--redis-url", url)
        message = str(raised.value)
        assert message.startswith("cannot read the old dashboard's Redis at ") and why in message
        assert "not-the-password-x9" not in message and "hunter2-secret" not in message and password not in message


def test_it_says_when_the_old_redis_has_no_history(redis_server):
    empty = redis_server.url.rsplit("/", 1)[0] + "/8"

    out = run("--redis-url", empty)

    assert "has no `stats` key: no stats history to import." in out
    assert "[secret]" in out.splitlines()[0]


def test_it_asks_for_something_to_import():
    with pytest.raises(CommandError, match="Nothing to import"):
        run()


@pytest.mark.django_db
def test_it_reads_the_sla_settings_from_a_url_as_the_demo_does(sandbox):
    from io import StringIO

    from django.core.management import call_command

    call_command("import_t5gweb", "--sla-json", f"{sandbox.url}/_sandbox/sla", stdout=StringIO())
    assert set(SlaPartner.objects.values_list("account", flat=True)) == {
        "Acme Telco",
        "Globex Mobile",
        "Initech Networks",
    }
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_t5gweb", "--sla-json", "http://127.0.0.1:9/sla", stdout=StringIO())
