import pytest
from django.contrib import admin
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from t5g.models import SyncRun
from t5g.sync.runner import run_job
from t5g.sync.schedules import setup_schedules
from tests.factories import make_case, make_everything
from tests.processes import celery_worker, wait_for

pytestmark = pytest.mark.django_db


def changelist_urls() -> list[str]:
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]


def test_it_lists_searches_and_filters_every_model(admin_client):
    make_everything()
    run_job(job="create_cards", trigger="manual")
    for url in changelist_urls():
        assert admin_client.get(url).status_code == 200, url
        assert admin_client.get(url, {"q": "Acme"}).status_code == 200, url
    assert b"01000001" in admin_client.get(reverse("admin:cases_case_changelist"), {"q": "Acme", "severity": 2}).content


def test_it_opens_the_change_page_of_every_row(admin_client):
    rows = make_everything()
    for obj in rows.values():
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
        assert admin_client.get(url).status_code == 200, url


def test_it_lists_cards_in_a_bounded_number_of_queries(admin_client, django_assert_max_num_queries):
    from cards.models import Card

    for i in range(30):
        case = make_case(f"0200{i:04d}")
        Card.objects.create(key=f"T5G-{i}", case=case, jira_status="New", status="New")
    with django_assert_max_num_queries(12):
        assert admin_client.get(reverse("admin:cards_card_changelist")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_it_runs_a_schedule_now_as_a_manual_run(admin_client, log_dir):
    setup_schedules()
    task = PeriodicTask.objects.get(name="stats_daily")
    with celery_worker(log_dir=log_dir):
        response = admin_client.post(
            "/admin/django_celery_beat/periodictask/", {"action": "run_now", "_selected_action": [task.pk]}
        )
        assert response.status_code == 302
        wait_for(lambda: SyncRun.objects.filter(source="stats", outcome="success").exists(), timeout=30, what="run")
    assert SyncRun.objects.get(source="stats").trigger == "manual"
