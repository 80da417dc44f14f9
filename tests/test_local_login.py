"""The break-glass /login/: locked out after too many failed passwords (django-axes, for this view only), every
sign-in and refusal recorded, and Django's password validators on every password an administrator sets."""

import logging
import os
import select
import subprocess
import sys
import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from sandbox import environment
from tests.processes import BASE_DIR, child_env
from tests.saml import register_sp, sign_in

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "a-long-break-glass-password"


@pytest.fixture
def root(settings):
    settings.LOCAL_LOGIN = True
    settings.AXES_FAILURE_LIMIT = 5  # LOCAL_LOGIN_FAILURE_LIMIT's default
    return User.objects.create_user("root", password=PASSWORD, is_staff=True, is_superuser=True)


def attempt(client: Client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password, "next": "/stats/"})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_it_locks_out_an_address_after_too_many_failed_passwords(root):
    client = Client()
    for n in range(5):
        refused = attempt(client, ["root", "admin", "alice", "root", "bob"][n], "guess")
        assert refused.status_code == 200 and "enter a correct username and password" in refused.content.decode()
    locked = attempt(client, "root", PASSWORD)  # the right password, too late
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()
    assert not signed_in(client)
    # Another address is not locked out for these names (only root was tried from it... below the limit).
    elsewhere = Client(REMOTE_ADDR="192.0.2.7")
    assert attempt(elsewhere, "root", PASSWORD).status_code == 302 and signed_in(elsewhere)


def test_it_locks_out_a_user_name_tried_from_many_addresses(root):
    for n in range(5):
        assert attempt(Client(REMOTE_ADDR=f"192.0.2.{n + 1}"), "root", "guess").status_code == 200
    fresh = Client(REMOTE_ADDR="198.51.100.1")
    assert attempt(fresh, "root", PASSWORD).status_code == 429 and not signed_in(fresh)
    assert attempt(fresh, "other", "guess").status_code == 200  # the address itself is not locked


def test_a_success_clears_the_failures(root):
    client = Client()
    for _ in range(4):
        attempt(client, "root", "guess")
    assert attempt(client, "root", PASSWORD).status_code == 302
    client.post("/logout/")
    for _ in range(4):
        assert attempt(client, "root", "guess").status_code == 200
    assert attempt(client, "root", PASSWORD).status_code == 302


def test_it_records_every_local_sign_in_and_refusal(root, caplog):
    from axes.models import AccessFailureLog, AccessLog

    client = Client()
    with caplog.at_level(logging.WARNING, logger="t5g.signins"):
        attempt(client, "root", "guess")
        attempt(client, "root", PASSWORD)
    lines = [r.getMessage() for r in caplog.records if r.name == "t5g.signins"]
    assert lines == ["local sign-in refused: 'root' from 127.0.0.1", "local sign-in: root from 127.0.0.1"]
    assert AccessFailureLog.objects.get().username == "root"
    assert AccessLog.objects.get().username == "root"
    # Staff see them in admin.
    for page in ("/admin/axes/accesslog/", "/admin/axes/accessfailurelog/"):
        html = client.get(page)
        assert html.status_code == 200 and "root" in html.content.decode() and "127.0.0.1" in html.content.decode()


@pytest.fixture
def idp(settings, sandbox, client):
    settings.SITE_URL = "http://testserver"
    settings.SAML_IDP_METADATA_URL = environment(sandbox.url)["SAML_IDP_METADATA_URL"]
    settings.SAML_IDP_METADATA_FILE = ""
    settings.LOGIN_URL = "saml2_login"
    register_sp(client, sandbox)
    return sandbox


def test_it_counts_and_locks_only_the_local_sign_in(root, idp, client):
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for _ in range(5):
        attempt(client, "root", "guess")
    assert attempt(client, "root", PASSWORD).status_code == 429
    # Single sign-on from the same address goes on, and a refused one is no password attempt.
    assert sign_in(client, "outsider").status_code == 403
    assert sign_in(client, "member").status_code == 302 and signed_in(client)
    assert AccessFailureLog.objects.count() == 5 and not AccessLog.objects.exists()
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"root"}


# --- passwords -----------------------------------------------------------------------------------------------------
def test_an_administrator_cannot_set_a_weak_password(admin_client):
    user = User.objects.create_user("root2", password=PASSWORD, is_staff=True)
    response = admin_client.post(f"/admin/auth/user/{user.pk}/password/", {"password1": "admin", "password2": "admin"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "This password is too short" in page and "This password is too common" in page
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def converse(process: subprocess.Popen, terminal: int, script: list[tuple[str, str]], *, timeout: float = 60) -> str:
    """Answer each prompt of `script` on the process's terminal; everything it wrote."""
    seen, deadline = "", time.monotonic() + timeout
    for prompt, answer in script:
        while prompt not in seen:
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(f"no {prompt!r} in:\n{seen}")
            if select.select([terminal], [], [], 0.5)[0]:
                try:
                    seen += os.read(terminal, 4096).decode(errors="replace")
                except OSError:  # the process closed its terminal: it ended
                    raise AssertionError(f"ended before {prompt!r}:\n{seen}") from None
        seen = seen.replace(prompt, f"<{prompt}>", 1)
        os.write(terminal, answer.encode() + b"\n")
    return seen


@pytest.mark.django_db(transaction=True)
def test_createsuperuser_refuses_a_weak_password():
    terminal, tty = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "createsuperuser", "--username", "breakglass", "--email", ""],
        cwd=BASE_DIR, env=child_env(), stdin=tty, stdout=tty, stderr=tty, start_new_session=True,
    )  # fmt: skip
    os.close(tty)
    try:
        said = converse(process, terminal, [("Password:", "admin"), ("Password (again):", "admin"),
                                            ("Bypass password validation", "N"), ("Password:", "")])  # fmt: skip
    finally:
        process.kill()
        process.wait()
        os.close(terminal)
    assert "This password is too short" in said and "This password is too common" in said
    assert not User.objects.filter(username="breakglass").exists()
