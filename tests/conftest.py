from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import override_settings

from sandbox import environment
from tests.processes import RedisServer


def redis_settings(url: str) -> dict:
    from django.conf import settings

    caches = {"default": {**settings.CACHES["default"], "LOCATION": url.rsplit("/", 1)[0] + "/1"}}
    return {"CACHES": caches, "CELERY_BROKER_URL": url, "CELERY_RESULT_BACKEND": url, "REDIS_URL": url}


@pytest.fixture(scope="session", autouse=True)
def redis_server(tmp_path_factory):
    """One real Redis for the whole run; child processes inherit it through REDIS_URL."""
    from t5g.celery import app

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    values = redis_settings(server.url)
    override = override_settings(**values)
    override.enable()
    app.conf.update(broker_url=server.url, result_backend=server.url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REDIS_URL", server.url)
        yield server
    override.disable()
    server.stop()


@pytest.fixture(autouse=True)
def _empty_cache():
    import t5g.cache

    cache.clear()
    t5g.cache._redis_down_until = 0.0  # a test that stopped a Redis must not leave later ones degraded


@pytest.fixture(autouse=True)
def _empty_search_index(request, django_db_blocker):
    """A flush (after a transactional test) empties the models' tables only: the search index (cases.search, not a
    model) goes with them, so no later test finds an earlier one's words under a reused case number."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if {"transactional_db", "live_server"} & set(request.fixturenames) or (marker and marker.kwargs.get("transaction")):
        from django.db import connection

        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM cases_search")


@pytest.fixture
def eager():
    """Celery tasks run in the test's process, retries included (without their countdown)."""
    from t5g.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def log_dir(tmp_path):
    return tmp_path


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """One sandbox (300 cases, seed 1) shared by the run; tests that mutate it say so."""
    from tests.sandbox import Sandbox

    server = Sandbox(log_dir=tmp_path_factory.mktemp("sandbox"))
    yield server
    server.stop()


@pytest.fixture
def clean_sandbox(sandbox):
    """The shared sandbox with no faults and zeroed request counters, before and after."""
    sandbox.faults()
    sandbox.reset_requests()
    yield sandbox
    sandbox.faults()


def point_at_sandbox(settings, sandbox) -> None:
    """Every upstream setting aimed at `sandbox`: the environment it gives, each variable as its setting."""
    for name, value in environment(sandbox.url).items():
        setattr(settings, name, value)


@pytest.fixture
def upstreams(settings, clean_sandbox):
    """The shared sandbox as T5G's upstreams, with fast retries."""
    point_at_sandbox(settings, clean_sandbox)
    # The run shares one sandbox Slack: a test that reads messages posts to channels of its own (test_notify.py).
    settings.SLACK_ALERT_CHANNEL = settings.SLACK_HIGH_CHANNEL = settings.SLACK_LOW_CHANNEL = ""
    settings.UPSTREAM_BACKOFF = 0.05
    settings.UPSTREAM_READ_TIMEOUT = 5
    # Tests compare with the whole sandbox, years of closed cases included (the window has its own test).
    settings.HISTORY_DAYS = 0
    return clean_sandbox


def pytest_sessionfinish(session, exitstatus):
    """pytest-django deletes the SQLite test database but not its WAL files."""
    from django.conf import settings

    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if name and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        for suffix in ("-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)


@pytest.fixture
def user(db):
    """A team member's account, as a script of theirs uses it (tests of /api/ and /api/v0/)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("script", "script@example.com", "pw")


@pytest.fixture
def session(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client
