"""Log lines that say which request or task they belong to.

RequestIdMiddleware gives every request an id (the caller's X-Request-ID when it sends a sane one)
and returns it in the response; ContextFilter adds `request_id` and `task_id` (the running Celery
task's) to every record, so one request's or one sync's lines can be found together.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.task_id = _task_id()
        return True


class ScrubFilter(logging.Filter):
    """No secret in any line: upstream errors and their tracebacks quote URLs with keys and requests' headers
    (python-bugzilla's key, the jira library's Authorization header), so message and traceback are scrubbed."""

    def filter(self, record: logging.LogRecord) -> bool:
        from t5g.clients.scrub import scrub

        message = record.getMessage()
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[0] is not None:
            # Formatted here once, scrubbed: the formatters (text and JSON) use exc_text when exc_info is gone.
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


def _task_id() -> str:
    from celery import current_task

    try:
        return (current_task and current_task.request.id) or ""
    except Exception:  # noqa: BLE001 - outside a worker there is no task
        return ""


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        token = request_id.set(given if SANE_ID.match(given) else uuid.uuid4().hex)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id.get()
            return response
        finally:
            request_id.reset(token)


def logging_config(*, level: str, fmt: str) -> dict:
    """Django's LOGGING: one JSON object per line ("json") or readable "text", each line with its request or
    task id (ContextFilter) and without secrets (ScrubFilter); libraries that would log secrets or noise are held
    at WARNING."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "t5g.log.ContextFilter"}, "scrub": {"()": "t5g.log.ScrubFilter"}},
        "formatters": {
            "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s%(task_id)s] %(message)s"},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(task_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": fmt, "filters": ["context", "scrub"]}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django_redis": {"level": "WARNING"},
            # At DEBUG and INFO pysaml2 and djangosaml2 log whole assertions and users' attributes.
            "saml2": {"level": "WARNING"},
            "djangosaml2": {"level": "WARNING"},
            "xmlschema": {"level": "WARNING"},  # pysaml2's schemas: a line at every start otherwise
        },
    }
