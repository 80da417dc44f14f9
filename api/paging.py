"""Lists: paged with `?page=` and `?per=` (at most MAX_PER), answering {"count", "page", "per", "results"}.

A list's JSON is cached, serialized, under its canonical path and query and the generations of the
data it reads (t5g/cache.py): a sync makes it new, and a repeated call only authenticates and reads
the cache.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlencode

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from t5g.cache import cached

from .auth import ApiError

DEFAULT_PER = 100
MAX_PER = 500
# A sync bumps the cached lists; this bounds their age should data change some other way.
LIST_TIMEOUT = 300


def _positive(request: HttpRequest, name: str, default: int) -> int:
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name}: expected a whole number, got {raw[:40]!r}.") from None
    if value < 1:
        raise ApiError(400, f"{name}: must be 1 or more.")
    return value


def paging(request: HttpRequest) -> tuple[int, int]:
    return _positive(request, "page", 1), min(_positive(request, "per", DEFAULT_PER), MAX_PER)


def paged(request: HttpRequest, rows: QuerySet, serialize: Callable[[object], dict], **extra) -> dict:
    """One page of `rows`: two queries (the count, the page) plus the page's prefetches."""
    page, per = paging(request)
    count = rows.count()
    start = (page - 1) * per
    results = [serialize(row) for row in rows[start : start + per]] if start < count else []
    return {**extra, "count": count, "page": page, "per": per, "results": results}


def list_name(request: HttpRequest, **resolved: object) -> str:
    """The canonical path and query of a list: parameters sorted, paging and `resolved` (values the
    view worked out, such as default dates) as used. Two calls asking the same share one cache entry."""
    page, per = paging(request)
    params = {name: values for name, values in request.GET.lists() if name not in resolved}
    params.update(page=[str(page)], per=[str(per)])
    params.update((name, [str(value)]) for name, value in resolved.items())
    return request.path + "?" + urlencode(sorted((name, v) for name, values in params.items() for v in values))


def cached_list(
    request: HttpRequest, *, feeds: tuple[str, ...], build: Callable[[], dict], name: str = ""
) -> HttpResponse:
    """The JSON of build(), serialized once and cached under `name` (by default the request's canonical
    path and query) and the generations of `feeds`, the data it reads. An ApiError raised by build()
    is answered, never cached."""
    body, _ = cached(
        f"api:{name or list_name(request)}",
        feeds=feeds,
        build=lambda: json.dumps(build(), cls=DjangoJSONEncoder).encode(),
        timeout=LIST_TIMEOUT,
    )
    return HttpResponse(body, content_type="application/json")
