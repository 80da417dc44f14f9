"""/hooks/jira/: JIRA calls it on every issue and comment change; T5G then reads that issue again.

The call is authenticated by the shared secret JIRA_WEBHOOK_SECRET: the HMAC-SHA256 signature JIRA Cloud and
Data Center 10+ send (`X-Hub-Signature: sha256=…`), or, for an older Server that cannot sign, the secret as
`?token=` in the registered URL. Its content is not trusted: only the issue key it names is kept, and the
issue is read from JIRA by the normal sync path (t5g/sync/hooks.py). The answer comes at once (Redis only);
nothing here reads the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .clients.jira import ISSUE_KEY
from .sync import hooks

log = logging.getLogger(__name__)

EVENTS = re.compile(r"^(jira:issue_(created|updated|deleted)|comment_(created|updated|deleted))$")
MAX_BODY = 5 * 1024 * 1024  # an issue with every field and a long comment is well under this


def signed(request: HttpRequest, secret: str) -> bool:
    signature = request.headers.get("X-Hub-Signature", "")
    if signature:
        algorithm, _, digest = signature.partition("=")
        if algorithm.lower() != "sha256":
            return False
        expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, digest.strip().lower())
    token = request.GET.get("token", "")
    return bool(token) and hmac.compare_digest(token.encode(), secret.encode())


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt  # JIRA has no CSRF token: the signature is the proof
@login_not_required
@require_POST
def jira(request: HttpRequest) -> JsonResponse:
    secret = settings.JIRA_WEBHOOK_SECRET
    if not secret:
        return _error("JIRA webhooks are off here: set JIRA_WEBHOOK_SECRET to turn them on", 404)
    if len(request.body) > MAX_BODY:
        return _error("body too large", 413)
    if not signed(request, secret):
        log.warning("webhook refused: signature or token missing or wrong (from %s)", request.META.get("REMOTE_ADDR"))
        return _error("signature missing or wrong", 401)
    try:
        body = json.loads(request.body)
        event = str(body.get("webhookEvent") or "")
        key = str((body.get("issue") or {}).get("key") or "").upper()
    except (ValueError, UnicodeDecodeError, AttributeError):
        return _error("expected JIRA's webhook JSON", 400)
    if not EVENTS.match(event):
        return JsonResponse({"ignored": event[:60]}, status=202)  # an event T5G does not follow
    if not ISSUE_KEY.match(key) or len(key) > 60:
        return _error("the webhook names no issue key", 400)
    try:
        hooks.received(upstream="jira", key=key, event=event)
    except Exception:
        log.exception("webhook for %s not queued: Redis or the broker is unavailable", key)
        return _error("busy: send again later", 503)  # JIRA retries; the schedule reconciles otherwise
    return JsonResponse({"queued": key}, status=202)
