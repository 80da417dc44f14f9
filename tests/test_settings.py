import os
import stat
import subprocess
import sys

import pytest
from django.conf import settings

from sandbox import environment
from tests.processes import BASE_DIR


def run_check(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    # As production is deployed: a secret key, and a Redis with a password (t5g/settings.py refuses one without).
    clean.update({"SECRET_KEY": "x", "DEBUG": "false", "REDIS_URL": "redis://:pw@127.0.0.1:6391/0", **env})
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
        ("JIRA_CREATE_EXTRA_FIELDS", '{"customfield_10783": "TRACK"'),  # cut short: not JSON
        ("JIRA_CREATE_EXTRA_FIELDS", '["customfield_10783"]'),
        ("JIRA_CREATE_EXTRA_FIELDS", '{"summary": "x"}'),  # T5G's own field
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


def settings_of(*names: str, **env: str) -> list[str]:
    """What the settings module makes of `env` (on top of a clean production environment), one line per name."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    clean.update({"SECRET_KEY": "x", "DEBUG": "false", "DJANGO_SETTINGS_MODULE": "t5g.settings", **env})
    script = f"from django.conf import settings as s; print(*(getattr(s, n, None) for n in {names!r}), sep='\\n')"
    return subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=60, check=True
    ).stdout.splitlines()


def test_it_refuses_a_redis_without_a_password_in_production():
    refused = run_check(REDIS_URL="redis://redis.internal:6379/0")
    assert refused.returncode != 0
    assert "REDIS_URL: needs a password" in refused.stderr
    assert run_check(REDIS_URL="redis://:s3cret@redis.internal:6379/0").returncode == 0
    # Said explicitly (a Redis on a network only T5G reaches), or in development.
    assert run_check(REDIS_URL="redis://redis.internal:6379/0", REDIS_ALLOW_NO_PASSWORD="true").returncode == 0
    assert run_check(REDIS_URL="redis://redis.internal:6379/0", DEBUG="true").returncode == 0


def test_it_sends_hsts_for_a_year_over_https():
    assert settings_of("SECURE_HSTS_SECONDS", SITE_URL="https://t5g.example.com") == [str(365 * 24 * 3600)]
    assert settings_of("SECURE_HSTS_SECONDS", SITE_URL="https://t5g.example.com", SECURE_HSTS_SECONDS="60") == ["60"]
    assert settings_of("SECURE_HSTS_SECONDS", SITE_URL="http://127.0.0.1:8000") == ["0"]  # Django's default: none


def test_it_needs_trusted_proxies_for_an_address_allow_list_behind_a_proxy():
    behind_a_proxy = {"SITE_URL": "https://t5g.example.com", "METRICS_ALLOWED_IPS": "10.0.0.5"}
    refused = run_check(**behind_a_proxy)
    assert refused.returncode != 0 and "TRUSTED_PROXIES: required with METRICS_ALLOWED_IPS" in refused.stderr
    trusted = run_check(**behind_a_proxy, TRUSTED_PROXIES="10.1.0.0/16")
    assert trusted.returncode == 0, trusted.stderr
    assert "TRUSTED_PROXIES: not an address" in run_check(TRUSTED_PROXIES="proxy.example.com").stderr


def test_it_keeps_var_and_the_sqlite_database_private(tmp_path):
    var = BASE_DIR / "var"
    var.chmod(0o755)  # as `mkdir` with the usual umask left it
    database = tmp_path / "t5g.sqlite3"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=f"sqlite:///{database}", SECRET_KEY="x", DEBUG="true")
    subprocess.run(
        ["/bin/sh", "-c", f"umask 022 && exec {sys.executable} manage.py migrate -v0"],
        cwd=BASE_DIR, env=env, check=True, timeout=120,
    )  # fmt: skip
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
