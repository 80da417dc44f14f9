"""A new install looks right: no job shown late before its first scheduled run, none that is not configured, open
work only in the cards chart, whole-number axes, one colour per series, and a word on how history fills."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from cards.models import Card
from stats.charts import SERIES, history_chart
from t5g.models import SyncRun
from t5g.sync.schedules import setup_schedules
from tests.factories import make_case

pytestmark = pytest.mark.django_db


def chart(page: str, chart_id: str) -> dict:
    return json.loads(
        re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', page, re.S).group(1)
    )


def freshness_rows(page: str) -> dict[str, str]:
    table = page.split('<table class="freshness">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>\s*<td>(.*?)</td>(.*?)</tr>", table, re.S)
    return {label: " ".join(re.sub(r"<[^>]+>", " ", rest).split()) for label, rest in rows}


def test_it_shows_a_job_that_never_ran_as_waiting_for_its_first_run_not_stale(admin_client, settings):
    settings.BUG_TAG_KEYWORDS = []
    setup_schedules()
    SyncRun.objects.create(source="cases", trigger="schedule", outcome="success", finished_at=timezone.now())
    rows = freshness_rows(admin_client.get("/").content.decode())
    assert rows["Cases"].startswith("just now") and rows["Cases"].endswith("fresh")
    assert re.fullmatch(r"not run yet — first run at \d\d:\d\d", rows["Portal → JIRA cards"]), rows
    assert "stale" not in rows["Portal → JIRA cards"]
    # Bug tagging with no keywords to add does nothing: not listed, not late.
    assert "Bug tagging" not in rows


def test_it_lists_bug_tagging_once_it_has_keywords(admin_client, settings):
    settings.BUG_TAG_KEYWORDS = ["Telco"]
    assert "Bug tagging" in freshness_rows(admin_client.get("/").content.decode())


def test_it_draws_open_cards_only_and_gives_done_as_a_number(admin_client):
    case = make_case("01000001")
    Card.objects.create(key="T5G-1", case=case, jira_status="Closed", status="Done", active=True)
    make_case("01000002")
    Card.objects.create(key="T5G-2", case_id="01000002", jira_status="In Progress", status="Debugging", active=True)
    page = admin_client.get("/").content.decode()
    drawn = chart(page, "cards-by-status")
    assert "Done" not in drawn["data"]["labels"]
    assert drawn["options"]["scales"]["y"]["ticks"]["precision"] == 0
    assert "1 card done, not drawn." in page


def test_it_gives_every_history_series_its_own_colour_and_says_how_history_fills(admin_client):
    colours = [colour for *_, colour in SERIES]
    assert len(set(colours)) == len(colours) == 11
    history = history_chart([{"date": timezone.localdate(), "open_cases": 3}])
    assert [d["borderColor"] for d in history["data"]["datasets"]] == colours
    assert history["options"]["scales"]["y"]["ticks"]["precision"] == 0
    page = admin_client.get("/stats/").content.decode()
    assert "No history yet: a point is added every day" in page and "manage.py backfill stats --since" in page


def test_it_fills_weeks_of_history_once_cases_are_mirrored_and_only_once(settings):
    from io import StringIO

    from django.core.management import call_command

    from stats.models import DailyStats

    out = StringIO()
    call_command("fill_history", "--days", "10", stdout=out)
    assert "no cases synced yet" in out.getvalue() and not DailyStats.objects.exists()
    make_case("01000001", created_at=timezone.now() - timedelta(days=20))
    SyncRun.objects.create(source="cases", trigger="schedule", outcome="success", finished_at=timezone.now())
    call_command("fill_history", "--days", "10", stdout=out)
    days = DailyStats.objects.values("date").distinct().count()
    assert days >= 10
    call_command("fill_history", "--days", "30", stdout=out)
    assert DailyStats.objects.values("date").distinct().count() == days and "already" in out.getvalue()
