"""Logs: one JSON object per line in production, each with its request or task id."""

import json
import logging
import logging.config

import pytest
from django.conf import settings
from django.test import Client

from t5g.log import ContextFilter, request_id


def test_it_gives_every_response_a_request_id():
    generated = Client().get("/login/")["X-Request-ID"]
    assert len(generated) == 32
    assert Client().get("/login/", HTTP_X_REQUEST_ID="lb-1234")["X-Request-ID"] == "lb-1234"
    assert Client().get("/login/", HTTP_X_REQUEST_ID="bad id\n")["X-Request-ID"] != "bad id\n"


@pytest.mark.django_db
def test_it_writes_one_json_line_with_the_request_id():
    assert settings.LOG_FORMAT == "json"  # the default without DEBUG
    handler = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, logging.Formatter)
                   and "Json" in type(h.formatter).__name__)  # fmt: skip
    record = logging.LogRecord("t5g.jobs", logging.INFO, __file__, 1, "job %s succeeded", ("cases",), None)
    token = request_id.set("abc123")
    try:
        ContextFilter().filter(record)
    finally:
        request_id.reset(token)
    line = handler.format(record)
    assert "\n" not in line
    assert json.loads(line) | {"time": "t"} == {
        "time": "t", "level": "INFO", "logger": "t5g.jobs", "message": "job cases succeeded",
        "request_id": "abc123", "task_id": "",
    }  # fmt: skip
