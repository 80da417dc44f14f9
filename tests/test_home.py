"""The home page: new cases, cards by status, freshness; from the cache when it can."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cards.models import Card
from t5g.cache import bump
from t5g.models import FailingRecord, SyncRun
from tests.factories import make_case

pytestmark = pytest.mark.django_db


def test_it_shows_the_week_s_new_cases_and_the_cards_chart(admin_client):
    make_case("01000001", created_at=timezone.now() - timedelta(days=2), summary="<script>alert(1)</script>")
    make_case("01000002", created_at=timezone.now() - timedelta(days=30))
    Card.objects.create(key="T5G-1", case_id="01000001", jira_status="In Progress", status="Debugging")
    page = admin_client.get("/").content.decode()
    assert "1 case opened in the last 7 days" in page
    assert "01000001" in page and "01000002" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert 'id="cards-by-status"' in page and '"Debugging"' in page


def test_it_serves_the_second_view_from_the_cache_until_a_sync_bumps_it(admin_client, django_assert_num_queries):
    make_case("01000001", created_at=timezone.now())
    admin_client.get("/")
    make_case("01000002", created_at=timezone.now())
    assert "1 case opened" in admin_client.get("/").content.decode()
    bump("cases")
    assert "2 cases opened" in admin_client.get("/").content.decode()


def test_it_shows_stale_and_failing_sources(admin_client):
    now = timezone.now()
    SyncRun.objects.create(source="cases", trigger="schedule", outcome="success", finished_at=now)
    SyncRun.objects.create(source="cards", trigger="schedule", outcome="failed", finished_at=now)
    page = admin_client.get("/").content.decode()
    assert "failing: showing the last good data" in page and "stale" in page


def test_it_sends_strangers_to_sign_in():
    response = Client().get("/")
    assert response.status_code == 302


def test_it_sets_security_headers(admin_client):
    response = admin_client.get("/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_shows_the_records_a_job_cannot_read_and_since_when(admin_client):
    now = timezone.now()
    SyncRun.objects.create(source="details", trigger="schedule", outcome="success", finished_at=now)
    FailingRecord.objects.create(source="details", key="01000001", reason="HTTP 403", since=now - timedelta(days=3))
    FailingRecord.objects.create(source="details", key="01000002", reason="HTTP 404", since=now - timedelta(hours=1))
    page = admin_client.get("/").content.decode()
    assert '<span class="failing">2 records cannot be read (kept as last read), since' in page
    assert "3\xa0days ago" in page
