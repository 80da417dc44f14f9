"""Every upstream write is recorded, and none leaves T5G in read-only mode."""

import pytest
import requests

from t5g.clients.http import UpstreamError
from t5g.clients.portal import portal_client
from t5g.clients.writes import ReadOnlyError, write_context
from t5g.models import UpstreamWrite
from tests.processes import free_port

pytestmark = pytest.mark.django_db


def first_case(sandbox) -> str:
    return portal_client().search(q="case_tags:*shift_telco5g*", rows=1)[1][0]["case_number"]


def test_it_records_each_write_with_its_meaning(upstreams):
    number = first_case(upstreams)
    with write_context(action="add notified user", target=number):
        portal_client().add_notified_user(number, "akowalski")
    write = UpstreamWrite.objects.get()
    assert (write.upstream, write.action, write.target, write.method) == ("portal", "add notified user", number, "POST")
    assert (write.outcome, write.status_code) == ("ok", 201)
    assert write.url.endswith(f"/v1/cases/{number}/notifiedusers")
    assert upstreams.requests()["writes"] == 1


def test_it_sends_nothing_in_read_only_mode(upstreams, settings):
    settings.READ_ONLY = True
    number = first_case(upstreams)
    with pytest.raises(ReadOnlyError):
        portal_client().add_notified_user(number, "akowalski")
    assert upstreams.requests()["writes"] == 0
    assert UpstreamWrite.objects.get().outcome == "refused"


def test_it_records_a_write_whose_answer_never_came(upstreams, settings):
    settings.UPSTREAM_READ_TIMEOUT = 0.5
    number = first_case(upstreams)
    upstreams.faults({"path": "/portal/hydra/rest/v1/", "kind": "hang", "after": True, "ms": 2000})
    with pytest.raises((requests.RequestException, Exception)):
        portal_client().add_notified_user(number, "hmm")
    write = UpstreamWrite.objects.get()
    assert write.outcome == "unknown" and "Timeout" in write.error
    assert {"case": number, "user": "hmm"} in upstreams.get("notified")  # it did happen


def test_it_tells_a_refused_write_from_one_that_may_have_been_done(upstreams, settings):
    settings.UPSTREAM_READ_TIMEOUT = 0.5
    number, path = first_case(upstreams), "/portal/hydra/rest/v1/"
    upstreams.faults({"path": path, "kind": "error", "status": 400, "count": 1})
    with pytest.raises(UpstreamError) as refused:
        portal_client().add_notified_user(number, "refused")
    assert refused.value.refused and refused.value.status == 400  # answered before anything was done

    # After the request went out, no answer, a 5xx or a cut-off one may each follow work that was done.
    for fault in ({"kind": "error", "status": 502}, {"kind": "truncate"}, {"kind": "hang", "ms": 1500}):
        upstreams.faults({"path": path, **fault, "after": True, "count": 1})
        with pytest.raises(UpstreamError) as unknown:
            portal_client().add_notified_user(number, f"after-{fault['kind']}")
        assert not unknown.value.refused, fault
        assert {"case": number, "user": f"after-{fault['kind']}"} in upstreams.get("notified")

    upstreams.faults()
    settings.PORTAL_URL = f"http://127.0.0.1:{free_port()}/portal/hydra/rest"  # nobody listens: never sent
    with pytest.raises(UpstreamError) as never:
        portal_client().add_notified_user(number, "never")
    assert never.value.refused and not never.value.sent
