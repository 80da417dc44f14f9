"""`sync all` against a 10,000-case sandbox: afterwards the database equals the sandbox."""

import pytest
from django.core.management import call_command

from bugs.models import Bug, Issue
from cards.models import Card
from cases.models import Case, Detail
from escalations.models import Escalation
from t5g.models import SyncRun
from tests.conftest import point_at_sandbox
from tests.sandbox import Sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def big_sandbox(tmp_path_factory):
    server = Sandbox(log_dir=tmp_path_factory.mktemp("big-sandbox"), cases=10_000, seed=3)
    yield server
    server.stop()


def test_it_mirrors_a_10000_case_sandbox_completely(big_sandbox, settings):
    point_at_sandbox(settings, big_sandbox)
    settings.UPSTREAM_CONCURRENCY = 12
    settings.HISTORY_DAYS = 0  # every case's details and links, however old
    call_command("sync", "all", "--no-progress")
    state = big_sandbox.state()

    assert not SyncRun.objects.exclude(outcome="success").exists()
    assert Case.objects.filter(removed_at__isnull=True).count() == state["cases"] == 10_000
    assert Case.objects.exclude(status="Closed").count() == state["open_cases"]
    assert Detail.objects.count() == state["cases"]
    assert Card.objects.filter(removed_at__isnull=True).count() == state["cards"]
    assert Bug.objects.filter(cases__isnull=False).distinct().count() == state["bugs"]
    assert Issue.objects.filter(cases__isnull=False).distinct().count() == state["issues"]
    escalated = Escalation.objects.filter(removed_at__isnull=True, type__in=["prio_list", "crit_sit"])
    assert escalated.count() == state["escalations"]
    # Nothing half-parsed: every row carries its upstream time.
    assert not Case.objects.filter(upstream_updated_at__isnull=True).exists()
    assert not Bug.objects.filter(upstream_updated_at__isnull=True, restricted=False).exists()

    # A second run right after reads nearly nothing and changes nothing.
    big_sandbox.reset_requests()
    call_command("sync", "all", "--no-progress")
    assert big_sandbox.requests()["total"] < 50
