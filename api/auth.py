"""Who may call the API, and how it answers: API keys, authentication, errors and the api_view decorator.

A caller is a signed-in user (the session cookie, as in a browser) or a script sending
`Authorization: Bearer <key>` with the key of an API token (admin: *API tokens*). The views are exempt
from the site's sign-in redirect and do their own authentication, answering in JSON: 401 with
`WWW-Authenticate: Bearer` for no or a bad credential (unknown, revoked, expired key), 403 for a user who is not
active or, for a key, has not signed in as a team member lately.
Authentication always comes first: the cache never answers a caller it has not checked.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.csrf import csrf_exempt

from .models import ApiToken

METHODS = ("GET", "HEAD")
# A token's last use is written at most this often: a script polling every second must not turn
# every read into a write.
TOUCH_EVERY = timedelta(minutes=1)
KEY_PREFIX_LENGTH = 8


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str, str]:
    """(key, its SHA-256, its prefix) for a new token: only the hash and the prefix are stored."""
    key = secrets.token_urlsafe(32)
    return key, hash_key(key), key[:KEY_PREFIX_LENGTH]


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, details: list[str] | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []
        self.headers = headers or {}


def _unauthorized(message: str, *, bad_token: bool = False) -> ApiError:
    challenge = 'Bearer realm="T5G API"' + (', error="invalid_token"' if bad_token else "")
    return ApiError(401, message, headers={"WWW-Authenticate": challenge})


def authenticate(request: HttpRequest) -> None:
    """Accept a bearer token or the session; raise ApiError(401 or 403) otherwise."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise _unauthorized("Send Authorization: Bearer <key>.", bad_token=True)
        # Looked up by its hash: the stored value cannot be used as a key, and comparing hashes
        # leaks nothing about the key through timing.
        token = ApiToken.objects.select_related("user__profile").filter(key_hash=hash_key(key.strip())).first()
        if token is None:
            raise _unauthorized("This API key is not valid.", bad_token=True)
        now = timezone.now()
        if token.revoked_at is not None:
            raise _unauthorized("This API key was revoked.", bad_token=True)
        if token.expires_at <= now:
            raise _unauthorized(f"This API key expired on {token.expires_at:%Y-%m-%d %H:%M} UTC.", bad_token=True)
        if not token.user.is_active:
            raise ApiError(403, "The user of this API key is not active.")
        if not member_lately(token.user, now=now):
            days = settings.API_TOKEN_MEMBER_WITHIN_DAYS
            raise ApiError(403, f"The user of this API key has not signed in to T5G as a team member in {days} days: "
                                "signing in makes it work again.")  # fmt: skip
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        request.user = token.user
        return
    if request.user.is_authenticated:
        if not request.user.is_active:
            raise ApiError(403, "This user is not active.")
        return
    if SESSION_KEY in request.session:
        # Signed in, but the authentication backends refuse the user now (made inactive since).
        raise ApiError(403, "This user is not active.")
    raise _unauthorized("Sign in, or send Authorization: Bearer <key> (an API token from the admin).")


def member_lately(user, *, now: datetime) -> bool:
    """Whether `user` signed in through SAML, as a team member, within API_TOKEN_MEMBER_WITHIN_DAYS.

    Membership is checked at sign-in only: without this, a leaver's script would keep reading after the IdP
    stopped letting them in."""
    days = settings.API_TOKEN_MEMBER_WITHIN_DAYS
    if not days:
        return True
    try:
        signed_in = user.profile.member_signed_in_at
    except ObjectDoesNotExist:  # never signed in through SAML
        return False
    return signed_in is not None and now - signed_in <= timedelta(days=days)


def _error(error: ApiError) -> JsonResponse:
    body = {"error": error.message, "status": error.status}  # the shape of every error under /api/ (t5g/errors.py)
    if error.details:
        body["details"] = error.details
    return JsonResponse(body, status=error.status, headers=error.headers)


def api_view(view: Callable[..., dict | HttpResponse]) -> Callable[..., HttpResponse]:
    """A read-only API endpoint: `view` returns the JSON body as a dict (or a response already made,
    from the cache), or raises ApiError."""

    # GET only, so no CSRF risk; exempt so that a POST gets the 405 it deserves rather than a CSRF 403.
    @csrf_exempt
    @login_not_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            if request.method not in METHODS:
                raise ApiError(405, f"{request.method} is not allowed: the API is read-only.",
                               headers={"Allow": ", ".join(METHODS)})  # fmt: skip
            authenticate(request)
            body = view(request, *args, **kwargs)
            response = body if isinstance(body, HttpResponse) else JsonResponse(body)
        except ApiError as error:
            response = _error(error)
        # Answers differ per caller and must never sit in a shared cache.
        patch_cache_control(response, private=True, no_store=True)
        patch_vary_headers(response, ("Authorization", "Cookie"))
        return response

    return wrapper
