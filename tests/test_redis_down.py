"""With Redis gone, the site and admin still answer from the database."""

import time

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from t5g.sync.runner import run_job
from tests.conftest import redis_settings
from tests.factories import make_everything
from tests.processes import RedisServer

pytestmark = pytest.mark.django_db


def test_it_keeps_serving_when_redis_stops(admin_client, log_dir):
    make_everything()
    run_job(job="create_cards", trigger="manual")
    redis = RedisServer(log_dir)
    with override_settings(**redis_settings(redis.url)):
        cache.set("probe", 1)
        assert cache.get("probe") == 1
        redis.stop()

        started = time.monotonic()
        assert cache.get("probe") is None  # a miss, not an error
        for url in ["/", "/admin/", "/admin/cases/case/", "/admin/cards/card/", "/admin/t5g/syncrun/"]:
            assert admin_client.get(url).status_code == 200, url
        assert "The cache is unreachable" in admin_client.get("/").content.decode()
        call_command("setup_schedules")
        # A person can still run a job (a scheduled run waits for Redis: tests/test_locks.py).
        call_command("sync", "stats", "--no-progress")
        # Each failed cache call is a refused connection, not a long timeout.
        assert time.monotonic() - started < 10
