import os
import subprocess
import sys

import pytest
from django.conf import settings

from sandbox import environment
from tests.processes import BASE_DIR


def run_check(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    clean.update({"SECRET_KEY": "x", "DEBUG": "false", **env})
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=60
    )


def test_it_starts_with_nothing_configured():
    result = run_check(SECRET_KEY="", DEBUG="true")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "variable, value",
    [
        ("MAX_NEW_CARDS", "lots"),
        ("DATABASE_URL", "nosuchdb://x"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("DEBUG", "maybe"),
        ("JIRA_URL", "ftp://jira.example.com"),
        ("LOG_LEVEL", "LOUD"),
        ("EMAIL_URL", "pigeon://loft"),
    ],
)
def test_it_names_a_malformed_variable(variable, value):
    result = run_check(**{variable: value})
    assert result.returncode != 0
    assert f"{variable}:" in result.stderr


def test_it_requires_a_secret_key_in_production():
    result = run_check(SECRET_KEY="", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY: required when DEBUG is off" in result.stderr


def test_it_requires_credentials_for_a_real_upstream():
    result = run_check(JIRA_URL="https://jira.example.com")
    assert result.returncode != 0
    assert "JIRA_TOKEN: required when JIRA_URL is set" in result.stderr


def test_it_refuses_to_serve_a_broken_configuration():
    clean = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    clean.update(SECRET_KEY="x", MAX_NEW_CARDS="lots")
    result = subprocess.run(
        [sys.executable, "-c", "import t5g.wsgi"], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "MAX_NEW_CARDS" in result.stderr


def test_it_points_every_upstream_at_the_sandbox():
    script = (
        "from django.conf import settings as s;"
        "print(s.PORTAL_URL, s.SSO_TOKEN_URL, s.JIRA_URL, s.BUGZILLA_URL, sep='\\n')"
    )
    env = {**os.environ, **environment("http://127.0.0.1:8800"), "DJANGO_SETTINGS_MODULE": "t5g.settings"}
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert out == [
        "http://127.0.0.1:8800/portal/hydra/rest",
        "http://127.0.0.1:8800/sso/auth/realms/redhat-external/protocol/openid-connect/token",
        "http://127.0.0.1:8800/jira",
        "http://127.0.0.1:8800/bugzilla/rest",
    ]


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3", reason="SQLite only")
def test_it_configures_sqlite_for_concurrent_writers():
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5
    assert "journal_mode=WAL" in options["init_command"]


def test_it_keeps_the_cache_apart_from_the_broker():
    assert settings.CACHES["default"]["LOCATION"] != settings.CELERY_BROKER_URL
    assert settings.CACHES["default"]["OPTIONS"]["IGNORE_EXCEPTIONS"] is True
