"""Every upstream write is recorded, and none leaves T5G in read-only mode."""

import pytest
import requests

from t5g.clients.portal import portal_client
from t5g.clients.writes import ReadOnlyError, write_context
from t5g.models import UpstreamWrite

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
