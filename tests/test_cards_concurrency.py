"""Three card-creation runs at once, one of them losing JIRA's answer: still exactly one card per case."""

import threading

import pytest
from django.db import connection
from django.test import override_settings

from cards.models import CardIntent
from t5g.models import SyncRun
from t5g.sync.runner import run_job
from tests.conftest import redis_settings
from tests.test_cards_automation import cards_in_jira, new_case

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("locks", ["redis", "no redis"])
def test_it_creates_exactly_one_card_per_case_from_concurrent_runs(upstreams, settings, locks):
    settings.MAX_NEW_CARDS = 1000
    settings.UPSTREAM_READ_TIMEOUT = 1
    for job in ("cases", "cards"):
        run_job(job=job, trigger="manual")
    numbers = [new_case(upstreams, severity=3) for _ in range(4)]
    upstreams.faults(
        {"path": "/jira/rest/api/2/issue", "kind": "hang", "after": True, "ms": 2500, "count": 1},
        {"path": "/jira/", "kind": "latency", "ms": 30},  # widen the window in which the runs overlap
    )
    # Without Redis the job lock cannot be taken: people running `manage.py create_cards` at once (scheduled runs
    # wait for Redis) have only the per-case intents between them.
    unreachable = redis_settings("redis://127.0.0.1:9/0") if locks == "no redis" else {}
    errors = []

    def create():
        try:
            run_job(job="create_cards", trigger="manual", unlocked_ok=True)
        except Exception as exc:  # noqa: BLE001 - a run that met the lost answer fails; that is expected
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(3)]
    with override_settings(**unreachable):  # settings are process-wide: set once, around the threads
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    upstreams.faults()
    settings.CARD_INTENT_SETTLE_MINUTES = 0
    run_job(job="create_cards", trigger="manual")  # reconciles the lost answer

    # With the lock, the three triggers made one run (the others joined it); without, three ran at once.
    runs = SyncRun.objects.filter(source="create_cards").count()
    assert runs == (2 if locks == "redis" else 4)
    for number in numbers:
        assert len(cards_in_jira(upstreams, number)) == 1, number
    assert set(CardIntent.objects.filter(case__in=numbers).values_list("state", flat=True)) == {"created"}
