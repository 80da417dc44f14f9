"""No secret in what T5G keeps or logs about an upstream: the audit log, a run's error, log lines.

python-bugzilla sends the API key as the `Bugzilla_api_key` query parameter, and requests quotes URLs in its
errors; the jira library's errors print the request's headers. Real failing requests against the sandbox.
"""

import subprocess
import sys

import pytest

from t5g.clients.bugzilla import bugzilla_client
from t5g.clients.http import UpstreamError
from t5g.clients.writes import write_context
from t5g.models import SyncRun, UpstreamWrite
from t5g.sync.runner import run_job
from tests.processes import BASE_DIR, child_env, worker_env

KEY = "sandbox-bugzilla-key"


@pytest.mark.django_db
def test_it_keeps_a_key_in_a_url_out_of_a_failed_write_s_record(upstreams, settings):
    settings.UPSTREAM_READ_TIMEOUT, settings.UPSTREAM_RETRIES = 0.3, 1
    upstreams.faults({"path": "/bugzilla/rest/bug/", "kind": "hang", "ms": 1500})  # the write gets no answer
    client = bugzilla_client()
    with pytest.raises(UpstreamError) as failed, write_context(action="tag bug", target="BZ 1"):
        client.update_whiteboard(1, "Telco")
    write = UpstreamWrite.objects.get()
    assert write.outcome == "unknown" and "Max retries exceeded with url: /bugzilla/rest/bug/1?" in write.error
    assert KEY not in write.error and "Bugzilla_api_key=[secret]" in write.error
    assert KEY not in str(failed.value)


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_key_out_of_a_failed_run_s_error_and_its_log_lines(upstreams):
    run_job(job="cases", trigger="manual")
    run_job(job="details", trigger="manual")  # the cases' linked bugs: something for the bug sync to read
    upstreams.faults({"path": "/bugzilla/", "kind": "error", "status": 500})
    env = child_env(**worker_env(upstreams), LOG_FORMAT="text", LOG_LEVEL="INFO")
    result = subprocess.run([sys.executable, "manage.py", "sync", "bugs", "--no-progress"], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=180)  # fmt: skip
    logged = result.stdout + result.stderr
    assert result.returncode != 0 and "job bugs failed" in logged and "Traceback" in logged
    assert KEY not in logged
    run = SyncRun.objects.get(source="bugs")
    assert run.outcome == "failed" and "500" in run.error and KEY not in run.error


@pytest.mark.parametrize(
    "text, kept",
    [
        ("url: /rest/bug?Bugzilla_api_key=abc123xyz&id=1", "url: /rest/bug?Bugzilla_api_key=[secret]&id=1"),
        ("request headers = {'Authorization': 'Bearer eyJhbGciOi.x'}", "{'Authorization': 'Bearer [secret]'}"),
        ('{"access_token": "eyJabc", "expires_in": 300}', '{"access_token": "[secret]", "expires_in": 300}'),
        ("grant_type=refresh_token&refresh_token=off1ine", "grant_type=refresh_token&refresh_token=[secret]"),
        ("redis://:hunter22@cache:6379/0", "redis://:[secret]@cache:6379/0"),
        ("JIRA search: HTTP 400 'Field KNI-1 does not exist'", "JIRA search: HTTP 400 'Field KNI-1 does not exist'"),
    ],
)
def test_it_masks_what_looks_like_a_secret_and_keeps_the_rest(text, kept):
    from t5g.clients.scrub import scrub

    assert kept in scrub(text)


def test_it_masks_the_configured_credentials_wherever_they_appear(settings):
    from t5g.clients.scrub import scrub

    settings.JIRA_TOKEN = "s3cr3t-jira-pat"
    assert scrub("the token s3cr3t-jira-pat was refused") == "the token [secret] was refused"
