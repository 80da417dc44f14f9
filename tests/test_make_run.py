"""What `make run` starts: DEBUG only with the sandbox, and no password on any command line."""

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import requests

from tests.processes import BASE_DIR, Process, child_env, free_port, wait_for

UPSTREAMS = ("PORTAL_URL", "JIRA_URL", "BUGZILLA_URL")


def make_n_run(directory: Path, **env: str) -> str:
    """The commands `make run` would run (make -n runs none of them), from a copy of the Makefile."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", *UPSTREAMS)}
    result = subprocess.run(["make", "-n", "run"], cwd=directory, env={**clean, **env}, capture_output=True,
                            text=True, timeout=60, check=True)  # fmt: skip
    return result.stdout


@pytest.fixture
def makefile(tmp_path) -> Path:
    for name in ("Makefile", "Procfile", "requirements.txt", "package.json", "package-lock.json"):
        shutil.copy(BASE_DIR / name, tmp_path / name)
    return tmp_path


def test_make_run_turns_debug_on_only_for_the_sandbox(makefile):
    assert "with DEBUG on" in make_n_run(makefile)
    assert "-m sandbox env" in make_n_run(makefile)
    real = make_n_run(makefile, PORTAL_URL="https://api.example.com/support", JIRA_URL="https://jira.example.com")
    assert "with DEBUG on" not in real and "-m sandbox env" not in real
    # Real upstreams named in .env count as well.
    (makefile / ".env").write_text("SECRET_KEY=x\nBUGZILLA_URL=https://bugzilla.example.com/rest\n")
    assert "with DEBUG on" not in make_n_run(makefile)
    assert "with DEBUG on" in make_n_run(makefile, DEBUG="true")  # asked for, it is on


def _session_command_lines(leader: int) -> list[str]:
    lines = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == leader:  # the process group Process started
                lines.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
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
