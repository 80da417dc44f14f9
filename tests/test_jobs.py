import pytest

from t5g import jobs
from t5g.models import SyncRun

pytestmark = pytest.mark.django_db


def failing_job(*, run, **options):
    run.fetched = 3
    raise ConnectionError("portal unreachable")


def test_it_records_a_successful_run():
    run = jobs.run_job(job="cases", trigger="manual", task_id="abc")
    run.refresh_from_db()
    assert (run.source, run.trigger, run.outcome, run.task_id) == ("cases", "manual", "success", "abc")
    assert run.finished_at >= run.started_at


def test_it_records_a_failed_run_and_reraises(monkeypatch):
    monkeypatch.setitem(jobs.JOBS, "cases", "tests.test_jobs.failing_job")
    with pytest.raises(ConnectionError):
        jobs.run_job(job="cases", trigger="schedule")
    run = SyncRun.objects.get()
    assert run.outcome == "failed"
    assert run.error == "ConnectionError: portal unreachable"
    assert run.fetched == 3
    assert run.finished_at is not None


def test_it_refuses_an_unknown_job():
    with pytest.raises(ValueError, match="unknown job 'nope'"):
        jobs.run_job(job="nope", trigger="manual")
    assert not SyncRun.objects.exists()


def test_it_shows_freshness_on_the_home_page(admin_client, monkeypatch):
    jobs.run_job(job="cases", trigger="manual")
    monkeypatch.setitem(jobs.JOBS, "bugs", "tests.test_jobs.failing_job")
    with pytest.raises(ConnectionError):
        jobs.run_job(job="bugs", trigger="manual")
    page = admin_client.get("/").content.decode()
    assert '<tr class="failing">\n      <td>Bugs</td>' in page
    assert "<td>Cases</td>\n      <td>never" not in page


def test_it_requires_sign_in_for_the_home_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
