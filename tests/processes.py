"""Real servers for integration tests: Redis, Celery worker and beat, on private ports.

Each runs as a child process with its own log file and is stopped by its
context manager, whatever the test did.
"""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from django.db import connection

from sandbox import environment

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class Process:
    """A child process whose output goes to a log file the test can read."""

    def __init__(self, name: str, args: list[str], *, env: dict[str, str] | None = None, log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=BASE_DIR, start_new_session=True
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, *, timeout: float = 30) -> None:
        def seen():
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.log()[-3000:]}")
            return text in self.log()

        wait_for(seen, timeout=timeout, what=f"{text!r} in the {self.name} log")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20, *, group: bool = True) -> None:
        """`sig` to the whole process group, or with `group=False` to the process alone (a Celery worker's warm
        shutdown: its pool finishes the running tasks); SIGKILL to the group after `timeout`."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                (os.killpg if group else os.kill)(self.popen.pid, sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self._log.close()


class RedisServer:
    """A private Redis with a password, as production needs (T5G_TEST_REDIS_PASSWORD, or one made up): T5G's
    settings refuse a Redis without one when DEBUG is off. The password is in a file, not on the command line."""

    def __init__(self, log_dir: Path, password: str | None = None):
        password = password or os.environ.get("T5G_TEST_REDIS_PASSWORD", "") or secrets.token_urlsafe(12)
        self.port = free_port()
        self.url = f"redis://:{password}@127.0.0.1:{self.port}/0"
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        config = log_dir / f"redis-{self.port}.conf"
        config.touch(mode=0o600)
        config.write_text(f"requirepass {password}\n")
        self._args = [binary, str(config), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no"]  # fmt: skip
        self._log_dir = log_dir
        self._start()

    def _start(self) -> None:
        self.process = Process(f"redis-{self.port}", self._args, log_dir=self._log_dir)
        self.process.wait_for_log("Ready to accept connections")

    def restart(self) -> None:
        """Stopped and started again on the same port, empty (no persistence): queued tasks, locks and cache lost."""
        self.process.stop()
        self.process.log_path.rename(self.process.log_path.with_suffix(f".{time.time():.0f}.log"))
        self._start()

    def stop(self) -> None:
        self.process.stop()


class PostgresServer:
    """A throwaway PostgreSQL on a private port, as tests/run starts one (durability off: it is thrown away)."""

    def __init__(self):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
        if not bins or not (bins[-1] / "initdb").exists():
            raise RuntimeError("PostgreSQL server not found: run 'make setup' (installs the postgresql package)")
        self.bin, self.dir, self.port = bins[-1], Path(tempfile.mkdtemp(prefix="t5g-pg-")), free_port()
        # initdb refuses to run as root: the cluster is the postgres user's, as tests/run does it.
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_pg:
            shutil.chown(self.dir, "postgres")
        self._pg("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "t5g", "-E", "UTF8", "--no-sync")
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")  # fmt: skip
        self._pg("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", "start", "-o", options)
        self._pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "t5g", "t5g")
        self.url = f"postgres://t5g@127.0.0.1:{self.port}/t5g"

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_pg, str(self.bin / tool), *args], check=True, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def test_database_url() -> str:
    """The URL of the database pytest-django created, for child processes."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": test_database_url(), "DJANGO_SETTINGS_MODULE": "t5g.settings", **extra})
    return env


def worker_env(sandbox, **extra: str) -> dict[str, str]:
    """A worker's settings for tests against `sandbox`, as the `upstreams` fixture sets them in-process."""
    return {**environment(sandbox.url), "UPSTREAM_BACKOFF": "0.05", "JOB_RETRY_BACKOFF": "0.1", "HISTORY_DAYS": "0",
            **extra}  # fmt: skip


def celery_worker_process(
    *, log_dir: Path, name: str = "worker", concurrency: int = 1, queues: str = "sync,notifications", **env: str
) -> Process:
    """A worker started, not yet ready (wait_for_log("ready.")): the soak test starts and kills its own."""
    return Process(
        name,
        [
            str(BIN / "celery"),
            "-A",
            "t5g",
            "worker",
            "-Q",
            queues,
            "--loglevel",
            "INFO",
            "--concurrency",
            str(concurrency),
            "--hostname",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
        ],  # fmt: skip
        env=child_env(**env),
        log_dir=log_dir,
    )


@contextlib.contextmanager
def celery_worker(
    *, log_dir: Path, name: str = "worker", concurrency: int = 1, queues: str = "sync,notifications", **env: str
) -> Iterator[Process]:
    process = celery_worker_process(log_dir=log_dir, name=name, concurrency=concurrency, queues=queues, **env)
    try:
        process.wait_for_log("ready.")
        yield process
    finally:
        process.stop()


@contextlib.contextmanager
def celery_beat(*, log_dir: Path, **env: str) -> Iterator[Process]:
    process = Process(
        "beat",
        # --max-interval 1: notice schedule changes within a second instead of five.
        [str(BIN / "celery"), "-A", "t5g", "beat", "--loglevel", "INFO", "--pidfile=", "--max-interval", "1"],
        env=child_env(**env),
        log_dir=log_dir,
    )
    try:
        process.wait_for_log("beat: Starting")
        yield process
    finally:
        process.stop()


@contextlib.contextmanager
def web_server(*, log_dir: Path, workers: int = 1, **env: str) -> Iterator[str]:
    """gunicorn serving T5G on a private port, as the Procfile starts it (on the test database unless `env` says
    otherwise); yields its URL."""
    import requests

    port = free_port()
    process = Process(
        f"web-{port}",
        [str(BIN / "gunicorn"), "t5g.wsgi", "-c", "t5g/gunicorn.py", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers)],
        env=child_env(**env),
        log_dir=log_dir,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.popen.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.popen.returncode}:\n{process.log()[-3000:]}")
        try:
            requests.get(f"{url}/health/ready/", timeout=5)
            return True
        except requests.ConnectionError:
            return False

    try:
        wait_for(answers, timeout=60, what="gunicorn")
        yield url
    finally:
        process.stop()
