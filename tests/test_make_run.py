"""What `make run` starts: never DEBUG unless asked, and no password on any command line."""

import os
import shutil
import signal
import stat
import subprocess
from pathlib import Path

import pytest
import requests

from tests.processes import BASE_DIR, Process, child_env, free_port, wait_for

UPSTREAMS = ("PORTAL_URL", "JIRA_URL", "BUGZILLA_URL")


FAKE = """#!/bin/sh
echo "$(basename "$0") $* DEBUG=${DEBUG-unset} REDIS_URL=${REDIS_URL-unset} SECRET_KEY=${SECRET_KEY:+set}" \
  >> "$FAKE_LOG"
"""


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A copy of the Makefile and Procfile whose .venv's python and honcho only write down how they were started,
    with their environment: `make run` goes through all of its steps and starts nothing."""
    for name in ("Makefile", "Procfile", "requirements.txt", "package.json", "package-lock.json"):
        shutil.copy(BASE_DIR / name, tmp_path / name)
    for tool in ("python", "honcho"):
        fake = tmp_path / ".venv" / "bin" / tool
        fake.parent.mkdir(parents=True, exist_ok=True)
        fake.write_text(FAKE)
        fake.chmod(0o755)
    for done in (".venv/.installed", "node_modules/.installed"):  # set up already
        (tmp_path / done).parent.mkdir(exist_ok=True)
        (tmp_path / done).touch()
    return tmp_path


def make_run(directory: Path, **env: str) -> list[str]:
    """What `make run` started, one line each: the tool, its arguments, DEBUG and REDIS_URL as it saw them."""
    log = directory / "started.log"
    log.unlink(missing_ok=True)
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "REDIS_URL", "SECRET_KEY", *UPSTREAMS)}
    clean.update(FAKE_LOG=str(log), **env)
    subprocess.run(["make", "run", "SYSTEM_PACKAGES="], cwd=directory, env=clean, capture_output=True, timeout=120,
                   check=True)  # fmt: skip
    return log.read_text().splitlines()


def started(lines: list[str], what: str) -> str:
    return next(line for line in lines if what in line)


def test_make_run_never_turns_debug_on_by_itself(checkout):
    # With DEBUG a 404 would be Django's page listing every URL pattern, not T5G's own.
    with_sandbox = make_run(checkout)
    for step in ("manage.py migrate", "manage.py setup_schedules", "honcho"):
        assert "DEBUG=unset" in started(with_sandbox, step), with_sandbox
        # What DEBUG gave the demo: a key, made once for this machine and kept private.
        assert "SECRET_KEY=set" in started(with_sandbox, step), with_sandbox
    key = checkout / "var" / "secret-key"
    assert len(key.read_text()) >= 40 and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert " sandbox " in started(with_sandbox, "honcho")
    assert " demo " in started(with_sandbox, "honcho")  # the sandbox's JIRA calls T5G on every change
    assert key.read_text() not in "".join(with_sandbox)  # on no command line
    real = make_run(checkout, PORTAL_URL="https://api.example.com/support", JIRA_URL="https://jira.example.com")
    for step in ("manage.py migrate", "manage.py setup_schedules", "honcho"):
        assert "DEBUG=unset" in started(real, step) and started(real, step).endswith("SECRET_KEY="), real
    assert " sandbox " not in started(real, "honcho")
    assert " demo " not in started(real, "honcho")  # a real JIRA's webhook is an administrator's to register
    # DEBUG asked for is DEBUG given.
    assert "DEBUG=true" in started(make_run(checkout, DEBUG="true"), "honcho")


def test_make_run_prints_the_address_and_sign_ins_last(checkout):
    honcho = started(make_run(checkout), "honcho")
    assert honcho.split(" DEBUG=")[0].endswith(" announce")  # started with the others, waits for them
    line = next(p for p in (checkout / "Procfile").read_text().splitlines() if p.startswith("announce:"))
    assert "manage.py announce" in line and line.endswith("exec sleep infinity")  # honcho stops all when one exits


def test_make_run_gives_its_redis_a_password(checkout):
    honcho = started(make_run(checkout), "honcho")
    password = (checkout / "var" / "redis.conf").read_text().split()[1]
    assert len(password) >= 20 and f"REDIS_URL=redis://:{password}@127.0.0.1:6391/0" in honcho
    assert " redis " in honcho  # and starts it, with that file (the Procfile)
    assert "redis-server var/redis.conf" in (checkout / "Procfile").read_text()
    assert stat.S_IMODE((checkout / "var" / "redis.conf").stat().st_mode) == 0o600
    assert stat.S_IMODE((checkout / "var").stat().st_mode) == 0o700
    assert started(make_run(checkout), "honcho") == honcho  # made once
    mine = started(make_run(checkout, REDIS_URL="redis://:other@redis.example.com:6379/0"), "honcho")
    assert "REDIS_URL=redis://:other@redis.example.com:6379/0" in mine and " redis " not in mine


def _session_command_lines(leader: int) -> list[str]:
    lines = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == leader:  # the process group Process started
                lines.append((status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue
    return lines


def test_flower_takes_its_password_from_the_environment_not_its_command_line(log_dir):
    line = next(p for p in (BASE_DIR / "Procfile").read_text().splitlines() if p.startswith("flower:"))
    port = free_port()
    password = "flower-s3cret-for-the-test"
    flower = Process(
        "flower",
        ["/bin/sh", "-c", line.split(":", 1)[1].strip()],
        env=child_env(FLOWER_PORT=str(port), FLOWER_BASIC_AUTH=f"ops:{password}"),
        log_dir=log_dir,
    )
    try:
        url = f"http://127.0.0.1:{port}/"

        def answers():
            try:
                return requests.get(url, timeout=5).status_code  # (a Response is falsy when it is not 2xx)
            except requests.ConnectionError:
                if flower.popen.poll() is not None:
                    raise RuntimeError(f"flower exited:\n{flower.log()[-3000:]}") from None
                return None

        assert wait_for(answers, timeout=60, what="flower") == 401
        assert requests.get(url, auth=("ops", password), timeout=10).status_code == 200
        lines = _session_command_lines(flower.popen.pid)
        assert any("flower" in cmd for cmd in lines), lines
        assert not [cmd for cmd in lines if password in cmd]  # what `ps` shows any user
    finally:
        flower.stop(signal.SIGTERM)
