"""/api/v0/…: the old dashboard's JSON API (predecessor.md §1.3) in its old shapes, for the scripts written
against it. Deprecated: each answer names the /api/ endpoint that replaces it (README, "API").

Read-only, with the same authentication as /api/ (api.auth: a session or an API token). The old scripts
sent no credentials of their own (the old API trusted a sign-in or none at all): here an API token may
also come as the password of HTTP Basic, which `requests` sends by itself from ~/.netrc, so such a
script runs unchanged.

A blob is built from the database in a fixed number of queries per 2,000 cases or cards, compressed as
it is built, and kept compressed until a sync of the data it reads. Measured on the bench's synced
10,000-case database (in-process, on the shared 2-core machine at a load average of 7-8): `cases`
10,000 records, 9.3 MB of JSON sent as 0.58 MB, built in 0.45-0.65 s; `cards` 9,998 records, 18.5 MB
sent as 1.3 MB, built in 1.7-2.3 s (the same with the whole set at once: chunks cost nothing) and
+31 MB of peak memory (+115 MB built whole); either answered from the cache in 2-30 ms (median of 20).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from functools import wraps

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.middleware.gzip import re_accepts_gzip
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from api.auth import api_view
from t5g.cache import cached

from . import selectors

# name → (what builds it, the feeds it reads, the /api/ endpoint that replaces it)
BLOBS: dict[str, tuple[Callable[[], object], tuple[str, ...], str]] = {
    "cases": (selectors.cases, ("cases",), "api_cases"),
    "cards": (selectors.cards, ("cases", "cards", "bugs", "escalations"), "api_cards"),
    "details": (selectors.details, ("cases",), "api_cases"),
    "bugs": (selectors.bugs, ("cases", "bugs"), "api_bugs"),
    "issues": (selectors.issues, ("cases", "bugs"), "api_issues"),
    "escalations": (selectors.escalations, ("cases", "escalations"), "api_escalations"),
    "stats": (selectors.stats, ("stats",), "api_stats"),
}
# Kept and sent compressed (requests, curl --compressed and browsers ask for gzip): the cards of
# 10,000 cases are 18.5 MB of JSON. Level 5 (1.3 MB, 108 ms) against 1 (1.8 MB, 73 ms) and 9 (1.1 MB, 344 ms).
GZIP_LEVEL = 5
CACHE_SECONDS = 3600  # a sync bumps the feeds; this bounds the age should data change some other way


def _json(value: object) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder).encode()


def packed(value: object) -> bytes:
    """`value` as gzip-compressed JSON. An iterator of (key, record) is a JSON object, compressed as it comes:
    only the compressed text and one chunk of records are ever in memory."""
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16+: gzip's header and trailer
    if not isinstance(value, Iterator):
        return packer.compress(_json(value)) + packer.flush()
    out = [packer.compress(b"{")]
    for n, (key, record) in enumerate(value):
        out.append(packer.compress((b", " if n else b"") + _json(key) + b": " + _json(record)))
    return b"".join([*out, packer.compress(b"}"), packer.flush()])


def basic_as_bearer(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`Authorization: Basic <user:key>` read as `Bearer <key>`: the user name is ignored, the key decides."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                key = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")[2]
            except (binascii.Error, UnicodeDecodeError):
                key = ""
            # An undecodable or empty password is a bad key: api.auth answers 401 as for any other.
            request.META["HTTP_AUTHORIZATION"] = f"Bearer {key or '-'}"
            request.__dict__.pop("headers", None)  # HttpHeaders is read from META once, then kept
        return view(request, *args, **kwargs)

    return wrapper


def blob(name: str) -> Callable[[HttpRequest], HttpResponse]:
    build, feeds, successor = BLOBS[name]

    @basic_as_bearer
    @api_view
    def view(request: HttpRequest) -> HttpResponse:
        body, _ = cached(
            f"api-v0:{name}:gzip",
            feeds=feeds,
            build=lambda: packed(build()),
            timeout=CACHE_SECONDS,
        )
        if re_accepts_gzip.search(request.headers.get("Accept-Encoding", "")):
            response = HttpResponse(body, content_type="application/json")
            response["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(gzip.decompress(body), content_type="application/json")
        patch_vary_headers(response, ("Accept-Encoding",))
        # RFC 9745 / 8594: scripts and proxies can see that this API is on its way out, and what replaces it.
        response["Deprecation"] = "true"
        response["Link"] = f'<{request.build_absolute_uri(reverse(successor))}>; rel="successor-version"'
        return response

    view.__name__ = f"v0_{name}"
    return view


@basic_as_bearer
@api_view
def index(request: HttpRequest) -> dict:
    """What the old /api/ listed, with the endpoint replacing each."""
    return {
        "deprecated": "The old dashboard's API, kept for its scripts; new scripts use /api/.",
        "endpoints": {
            name: {
                "url": request.build_absolute_uri(reverse(f"api_v0_{name}")),
                "successor": request.build_absolute_uri(reverse(successor)),
            }
            for name, (_, _, successor) in BLOBS.items()
        },
    }
