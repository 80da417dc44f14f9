"""`make run`'s last lines (manage.py announce, a Procfile process): the address and the sign-ins, printed once
the web server answers /health/ready/, a worker answers a ping and no refresh is running; after its timeout it
prints them anyway, saying what it still waits for. tests/test_make_run.py checks that `make run` starts it."""

from io import StringIO

import pytest
from django.core.management import call_command

from t5g.models import Refresh
from tests.processes import celery_worker


def announce(*lines: str, timeout: float) -> list[str]:
    out = StringIO()
    call_command("announce", *lines, timeout=timeout, stdout=out)
    return out.getvalue().splitlines()


@pytest.mark.django_db(transaction=True)
def test_it_prints_the_address_last_once_everything_is_up(live_server, settings, log_dir):
    settings.SITE_URL = live_server.url
    with celery_worker(log_dir=log_dir):
        printed = announce("Sign in as member/member or admin/admin.", timeout=30)

    assert printed[1:-1] == [
        f"T5G is up: open {live_server.url}/",
        "Sign in as member/member or admin/admin.",
        "Stop everything with Ctrl-C.",
    ]


@pytest.mark.django_db(transaction=True)
def test_it_says_what_it_still_waits_for_after_its_timeout(live_server, settings):
    settings.SITE_URL = live_server.url
    Refresh.objects.create(state=Refresh.State.RUNNING, steps=7)

    printed = announce(timeout=1)  # no worker

    assert f"T5G is up: open {live_server.url}/" in printed
    assert "Still waiting for a worker, the first refresh after 1s: see the lines above." in printed
