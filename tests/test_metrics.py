"""/metrics: Prometheus text behind a token, with T5G's sync, upstream, card and cache metrics."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from t5g.models import SyncRun, UpstreamWrite
from t5g.sync.runner import run_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def scraper(settings):
    settings.METRICS_TOKEN = "s3cret"
    return Client(HTTP_AUTHORIZATION="Bearer s3cret")


def value(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    assert match, f"{sample} not in the metrics"
    return float(match.group(1))


def test_it_needs_the_token_or_an_allowed_address(settings, scraper):
    assert Client().get("/metrics").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer wrong").get("/metrics").status_code == 401
    assert scraper.get("/metrics").status_code == 200
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    assert Client().get("/metrics").status_code == 200  # the test client comes from 127.0.0.1


def test_it_shows_a_failing_source_and_the_last_run(scraper):
    now = timezone.now()
    SyncRun.objects.create(source="cases", trigger="schedule", outcome="success", finished_at=now, fetched=42,
                           started_at=now - timedelta(seconds=3))  # fmt: skip
    SyncRun.objects.create(source="cards", trigger="schedule", outcome="success", finished_at=now - timedelta(hours=1))
    SyncRun.objects.create(source="cards", trigger="schedule", outcome="failed", finished_at=now)
    text = scraper.get("/metrics").content.decode()
    assert value(text, 't5g_sync_failing{source="cards"}') == 1
    assert value(text, 't5g_sync_failing{source="cases"}') == 0
    assert value(text, 't5g_sync_failures_total{source="cards"}') == 1
    assert value(text, 't5g_sync_last_rows{kind="fetched",source="cases"}') == 42
    assert value(text, 't5g_sync_last_duration_seconds{source="cases"}') == pytest.approx(3, abs=0.1)
    assert value(text, 't5g_sync_seconds_since_success{source="cases"}') < 60
    assert "django_http_requests_latency_seconds_by_view_method" in text  # django-prometheus's own


def test_it_counts_upstream_requests_by_status_and_their_latency(scraper, upstreams):
    upstreams.faults({"path": "/bugzilla/rest/version", "kind": "error", "status": 404, "count": 1})
    run_job(job="cases", trigger="manual")
    text = scraper.get("/metrics").content.decode()
    requests_ok = value(text, 't5g_upstream_requests_total{status="200",upstream="portal"}')
    assert requests_ok >= 1
    assert value(text, 't5g_upstream_request_seconds_count{upstream="portal"}') == requests_ok
    assert value(text, 't5g_upstream_request_seconds_bucket{le="+Inf",upstream="portal"}') == requests_ok


def test_it_counts_cards_created_and_refused_writes(scraper):
    UpstreamWrite.objects.create(upstream="jira", action="create card", method="POST", url="x", outcome="ok")
    UpstreamWrite.objects.create(upstream="jira", action="create card", method="POST", url="x", outcome="refused")
    text = scraper.get("/metrics").content.decode()
    assert value(text, "t5g_cards_created_total") == 1
    assert value(text, 't5g_upstream_writes_total{outcome="refused",upstream="jira"}') == 1


def test_it_reports_the_view_cache_hit_ratio(scraper, admin_client):
    admin_client.get("/")
    admin_client.get("/")
    text = scraper.get("/metrics").content.decode()
    assert value(text, 't5g_view_cache_requests_total{result="hit"}') >= 1
    assert 0 < value(text, "t5g_view_cache_hit_ratio") < 1


def test_it_trusts_a_forwarded_address_only_from_a_trusted_proxy(settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", ["127.0.0.1", "10.0.0.5"]
    # Behind a proxy at 127.0.0.1 every request comes from 127.0.0.1: the allow-list must not admit them all.
    assert Client(HTTP_X_FORWARDED_FOR="203.0.113.9").get("/metrics").status_code == 401
    assert Client(HTTP_X_FORWARDED_FOR="10.0.0.5").get("/metrics").status_code == 401  # anyone can write that
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert Client(HTTP_X_FORWARDED_FOR="203.0.113.9").get("/metrics").status_code == 401
    assert Client(HTTP_X_FORWARDED_FOR="10.0.0.5").get("/metrics").status_code == 200
    # The client writes its own X-Forwarded-For; the proxy appends the address it saw: the right-most counts.
    assert Client(HTTP_X_FORWARDED_FOR="10.0.0.5, 203.0.113.9").get("/metrics").status_code == 401
    assert Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="127.0.0.1").get("/metrics").status_code == 401
    assert Client(REMOTE_ADDR="10.0.0.5").get("/metrics").status_code == 200  # straight from an allowed address
