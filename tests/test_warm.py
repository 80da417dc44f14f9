"""Pages rendered ahead: the pages people open are counted, and after a sync writes the worker renders them, so
the first person to open one finds it warm."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from t5g.counters import PAGES, VIEW_CACHE, popular_pages, redis_connection
from t5g.sync.runner import run_job
from tests.processes import celery_worker, wait_for, worker_env


@pytest.fixture
def member_client(client, db):
    client.force_login(get_user_model().objects.create_user("pat"))
    conn = redis_connection()
    conn.delete(*conn.keys(PAGES.format(day="*")) or ["none"])
    return client


@pytest.mark.django_db
def test_it_counts_the_pages_members_open_and_nothing_else(member_client, client):
    for _ in range(3):
        member_client.get("/cases/?severity=1")
    member_client.get("/")
    member_client.get("/api/cases/")
    member_client.get("/cases/", headers={"X-T5G-Warm": "1"})
    member_client.get("/no-such-page/")
    assert popular_pages(10) == ["/cases/?severity=1", "/"]


@pytest.mark.django_db(transaction=True)
def test_it_renders_the_most_used_pages_after_a_sync_writes(member_client, upstreams, settings, log_dir):
    settings.WARM_PAGES, settings.WARM_DELAY_SECONDS = True, 0.2
    member_client.get("/cases/?severity=2")  # a page people open
    env = worker_env(upstreams, WARM_PAGES="true", WARM_DELAY_SECONDS="0.2")
    with celery_worker(log_dir=log_dir, **env) as worker:
        run_job(job="cases", trigger="manual")  # writes, so a warm is queued
        wait_for(lambda: "warmed 4 page(s)" in worker.log(), timeout=60, what="the pages warmed")
    redis_connection().delete(VIEW_CACHE)
    for page in ("/", "/cases/", "/stats/", "/cases/?severity=2"):
        assert member_client.get(page).status_code == 200
    counts = {k.decode(): int(v) for k, v in redis_connection().hgetall(VIEW_CACHE).items()}
    assert counts.get("miss", 0) == 0 and counts["hit"] >= 4, counts
