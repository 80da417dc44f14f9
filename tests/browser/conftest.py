"""The browser stack: the sandbox, Redis, gunicorn and a Celery worker on the test database, and headless Chromium.

Everything is real and talks over HTTP: the web app is a gunicorn process (as `make run` starts it) so its
settings, SAML ones included, are computed from SITE_URL at start-up exactly as in production; the data is
what the real sync mirrored from the sandbox, once per session. Tests read the database directly (through
`orm`) only to choose what to look at and to sync again after changing the sandbox.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from django.core.management import call_command
from django.test import override_settings

from sandbox import environment, idp_shapes
from tests.conftest import point_at_sandbox
from tests.processes import BASE_DIR, BIN, Process, celery_worker, child_env, free_port, wait_for
from tests.sandbox import Sandbox

CHROMIUM = "/usr/bin/chromium"
# Without these Chromium keeps trying to reach Google's services from a machine with no way out.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough for a cold page on 2 busy cores, short enough that a hang fails fast.
TIMEOUT_MS = 15_000


@dataclass
class Stack:
    url: str
    sandbox: Sandbox
    web: Process
    worker: Process


def _upstream_settings(sandbox: Sandbox) -> dict:
    """point_at_sandbox's settings as a dict, for a session-wide override."""
    values = types.SimpleNamespace()
    point_at_sandbox(values, sandbox)
    return {**vars(values), "UPSTREAM_BACKOFF": 0.05, "UPSTREAM_READ_TIMEOUT": 10}


def _collect_static_if_stale() -> None:
    """gunicorn runs with DEBUG off, serving the collected, hashed files: a file added since the last
    `make setup` would make every page fail on its missing manifest entry."""
    manifest = BASE_DIR / "var" / "static" / "staticfiles.json"
    sources = [p for p in (BASE_DIR / "static").rglob("*") if p.is_file()]
    if manifest.exists() and all(p.stat().st_mtime <= manifest.stat().st_mtime for p in sources):
        return
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=BASE_DIR, env={**os.environ, "DEBUG": "true"}, check=True,
    )  # fmt: skip


def sync_all(sandbox: Sandbox) -> None:
    """The real sync of every source, run here on the test database, as `manage.py sync all` does."""
    with override_settings(**_upstream_settings(sandbox)):
        call_command("sync", "all", "--no-progress", stdout=open(os.devnull, "w"))  # noqa: SIM115


def _ensure_status_mapping() -> None:
    # The JIRA status map is configuration a migration seeds; a transactional test that ran earlier
    # in the session flushed it, and without it every card would be "unmapped".
    import importlib

    from cards.models import StatusMapping

    seeded = importlib.import_module("cards.migrations.0003_status_mapping").PREDECESSOR_MAP
    StatusMapping.objects.bulk_create(
        [StatusMapping(jira_status=j, internal_status=i) for j, i in seeded.items()], ignore_conflicts=True
    )


def _test_database_name() -> str:
    from django.db import connection

    return connection.creation._get_test_db_name()


# Read before any fixture runs: once the test database is set up, the name it derives from has changed.
TEST_DATABASE_NAME = _test_database_name()


def on_test_database() -> bool:
    from django.db import connection

    return connection.settings_dict["NAME"] == TEST_DATABASE_NAME


@contextlib.contextmanager
def browser_database(django_db_blocker):
    """The test database, created here when no test of the session asked pytest-django for one.

    pytest-django creates it only for tests marked django_db, and those run inside a transaction (the web
    process would never see their data) or flush the database after each test (the synced data would go).
    """
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        created = None
        if not on_test_database():
            created = setup_databases(verbosity=0, interactive=False, aliases={"default"}, serialized_aliases=set())
        assert on_test_database()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            # What the session wrote must not reach tests that expect an empty database.
            call_command("flush", interactive=False, verbosity=0)
            if created is not None:
                teardown_databases(created, verbosity=0)


@pytest.fixture(scope="session")
def stack(django_db_setup, django_db_blocker, redis_server, tmp_path_factory):
    """Started in parallel where it can be (2 cores, and most of it is waiting): the sandbox while the
    database migrates, the worker while the sync runs, gunicorn all along."""
    log_dir = tmp_path_factory.mktemp("browser-stack")
    pool = ThreadPoolExecutor(2)
    with contextlib.ExitStack() as stop:
        # Its own sandbox: the hostile comments these tests add never reach other tests' data.
        sandbox_starting = pool.submit(Sandbox, log_dir=log_dir, cases=300, seed=11)
        stop.callback(lambda: sandbox_starting.result().stop())
        _collect_static_if_stale()
        stop.enter_context(browser_database(django_db_blocker))
        sandbox = sandbox_starting.result()

        url, web = start_web(sandbox, log_dir=log_dir)
        stop.callback(web.stop)
        extra = web_env(sandbox, url)
        worker_starting = pool.submit(stop.enter_context, celery_worker(log_dir=log_dir, name="browser", **extra))
        with django_db_blocker.unblock():
            _ensure_status_mapping()
            sync_all(sandbox)
        worker = worker_starting.result()
        pool.shutdown()
        wait_for_web(url, web)
        yield Stack(url=url, sandbox=sandbox, web=web, worker=worker)


def web_env(sandbox: Sandbox, url: str, idp_shape: str = idp_shapes.DEFAULT) -> dict[str, str]:
    """The settings of a web process at `url` pointed at `sandbox`, its IdP speaking `idp_shape`."""
    from django.conf import settings

    extra = {"SITE_URL": url, **environment(sandbox.url, idp_shape=idp_shape), "DEBUG": "false", "LOG_LEVEL": "WARNING"}
    # The same key as this process: the sessions tests write here must be valid there.
    extra["SECRET_KEY"] = settings.SECRET_KEY
    return extra


def start_web(
    sandbox: Sandbox, *, log_dir, idp_shape: str = idp_shapes.DEFAULT, workers: int = 2, name: str = "gunicorn"
) -> tuple[str, Process]:
    """gunicorn on a free port with `web_env`'s settings, started (not yet answering: wait_for_web)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    web = Process(
        name,
        [str(BIN / "gunicorn"), "t5g.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--timeout", "60", "--access-logfile", "-"],
        env=child_env(**web_env(sandbox, url, idp_shape)),
        log_dir=log_dir,
    )  # fmt: skip
    return url, web


def wait_for_web(url: str, web: Process) -> None:
    def web_up() -> bool:
        if web.popen.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {web.popen.returncode}:\n{web.log()[-3000:]}")
        try:
            return requests.get(url + "/", timeout=5, allow_redirects=False).status_code < 500
        except requests.RequestException:
            return False

    wait_for(web_up, timeout=60, what="gunicorn")


@pytest.fixture(scope="session")
def eduperson_web(stack, tmp_path_factory) -> Iterator[str]:
    """A second web process on the same database and sandbox, with only its SAML settings changed: those that
    read the IdP's eduPerson shape (sandbox/idp_shapes.py). Started when a test first asks for it."""
    url, web = start_web(
        stack.sandbox,
        log_dir=tmp_path_factory.mktemp("browser-eduperson"),
        idp_shape=idp_shapes.EDUPERSON,
        workers=1,
        name="gunicorn-eduperson",
    )
    try:
        wait_for_web(url, web)
        yield url
    finally:
        web.stop()


@pytest.fixture
def orm(django_db_blocker):
    """Database access from the test itself (outside any transaction, so the web process sees it)."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import expect, sync_playwright

    # expect() waits 5 s by default: too short for a cold page while the worker syncs on 2 cores.
    expect.set_options(timeout=TIMEOUT_MS)

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
    # browser steps are plain blocking calls all the same.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


class Watch:
    """What a page said that a test must see: dialogs (a script ran), CSP violations, script errors."""

    def __init__(self, origin: str):
        self.origin = origin
        self.dialogs: list[str] = []
        self.csp: list[str] = []
        self.errors: list[str] = []

    def attach(self, page) -> None:
        page.on("dialog", self._dialog)
        page.on("console", lambda msg: self._console(page, msg))
        page.on("pageerror", lambda exc: self._error(page, exc))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _ours(self, page) -> bool:
        # The sandbox IdP's pages are not ours: its auto-submitting form is an inline script by design.
        return page.url.startswith(self.origin)

    def _console(self, page, msg) -> None:
        if "Content Security Policy" in msg.text and self._ours(page):
            self.csp.append(f"{page.url}: {msg.text}")

    def _error(self, page, exc) -> None:
        if self._ours(page):
            self.errors.append(f"{page.url}: {exc}")

    def check(self) -> None:
        assert not self.dialogs, f"a dialog opened: upstream text ran as script: {self.dialogs}"
        assert not self.csp, f"Content-Security-Policy violations on our pages: {self.csp}"
        assert not self.errors, f"script errors on our pages: {self.errors}"


@pytest.fixture
def watch(stack):
    return Watch(stack.url)


@pytest.fixture
def context(chromium, stack, watch):
    """A fresh browser profile (no cookies); every page it opens is watched."""
    ctx = chromium.new_context(base_url=stack.url, accept_downloads=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.on("page", watch.attach)
    yield ctx
    ctx.close()
    watch.check()


@pytest.fixture
def page(context):
    return context.new_page()


def signed_in_cookie(username: str = "browser-member") -> dict:
    """A session for `username` written straight to the session store, as a browser cookie.

    The tests of the pages use it; the sign-in tests go through the IdP instead.
    """
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from t5g.models import Profile

    user, _ = get_user_model().objects.get_or_create(
        username=username, defaults={"first_name": "Browser", "last_name": "Member", "email": f"{username}@example.com"}
    )
    # What a sign-in as a team member leaves behind, in case a page looks at it.
    Profile.objects.update_or_create(user=user, defaults={"groups": ["t5g-team"]})
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "httpOnly": True, "secure": True,
            "sameSite": "Lax"}  # fmt: skip


@pytest.fixture
def member_page(context, stack, django_db_blocker):
    """A page signed in as a team member without going through the IdP."""
    with django_db_blocker.unblock():
        cookie = signed_in_cookie()
    context.add_cookies([{**cookie, "url": stack.url}])
    return context.new_page()


LAPTOP, PHONE = (1440, 900), (390, 844)


@pytest.fixture
def open_page(chromium, stack, django_db_blocker):
    """open_page(size, scheme, username=..., staff=...): a new page in a browser context of its own (viewport and
    colour scheme), signed in as `username` (staff: with admin rights) without going through the IdP."""
    contexts = []

    def open_as(size=LAPTOP, scheme="light", *, username="browser-member", staff=False):
        from django.contrib.auth import get_user_model

        with django_db_blocker.unblock():
            cookie = signed_in_cookie(username)
            if staff:
                get_user_model().objects.filter(username=username).update(is_staff=True, is_superuser=True)
        ctx = chromium.new_context(
            base_url=stack.url, viewport={"width": size[0], "height": size[1]}, color_scheme=scheme
        )
        ctx.add_cookies([{**cookie, "url": stack.url}])
        contexts.append(ctx)
        return ctx.new_page()

    yield open_as
    for ctx in contexts:
        ctx.close()
