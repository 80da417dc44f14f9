"""Plumbing shared by the JIRA stand-in's modules: the router, auth, errors and request helpers."""

from __future__ import annotations

import base64
import binascii
import functools

from .http import Request, Response, Router, json_response
from .jira_render import Ctx
from .jira_schema import PROJECT_BY_ID, PROJECTS
from .jira_search import IssueIndex
from .jql import JqlError
from .world import JiraIssue, World

router = Router("/jira")
TOKEN = "sandbox-jira-token"
USER = "t5g-bot"
API_PREFIXES = ("/rest/api/2", "/rest/api/latest")
AGILE = "/rest/agile/1.0"
NO_ISSUE = "Issue does not exist or you do not have permission to see it."

_indexes: dict[int, IssueIndex] = {}


def index_of(world: World) -> IssueIndex:
    index = _indexes.get(id(world))
    if index is None or index.world is not world:
        index = _indexes[id(world)] = IssueIndex(world)
    return index


def warm(world: World) -> None:
    """Build the search index now rather than on the first search (a second or so at 100,000 cases)."""
    with world.lock:
        index_of(world).refresh()


# --- plumbing -----------------------------------------------------------------------------------------
def error(status: int, *messages: str, errors: dict | None = None, headers: dict | None = None) -> Response:
    return json_response({"errorMessages": list(messages), "errors": errors or {}}, status, headers)


def no_content() -> Response:
    return Response(204, b"")


def authorised(request: Request, anonymous: bool) -> Response | None:
    header = request.headers.get("authorization", "").strip()
    if not header and anonymous:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip() == TOKEN:
        return None
    if scheme.lower() == "basic":
        try:
            if base64.b64decode(credentials.strip()).decode() == f"{USER}:{TOKEN}":
                return None
        except (binascii.Error, UnicodeDecodeError):
            pass
    headers = {"WWW-Authenticate": 'Basic realm="protected-area"'}
    if header:
        headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
    return error(401, "You are not authenticated. Authentication required to perform this operation.", headers=headers)


def api(method: str, path: str, *, anonymous: bool = False, agile: bool = False):
    """Register `handler(ctx, **params)` under REST v2 (and /latest) or agile, behind the auth check."""

    def register(fn):
        @functools.wraps(fn)
        def handler(request: Request, world: World, **params):
            if denied := authorised(request, anonymous):
                return denied
            return fn(Ctx.of(request, world), **params)

        for prefix in (AGILE,) if agile else API_PREFIXES:
            router.route(method, prefix + path)(handler)
        return fn

    return register


def body_of(ctx: Ctx):
    try:
        return ctx.request.json()
    except (ValueError, UnicodeDecodeError):
        return None


def expand_of(values) -> set[str]:
    if isinstance(values, str):
        values = [values]
    return {v.strip() for value in values or [] if value for v in str(value).split(",") if v.strip()}


def int_arg(value, default: int) -> int:
    if value in (None, ""):
        return default
    return int(value)  # ValueError → 400 by the caller


def find_issue(ctx: Ctx, id_or_key: str) -> JiraIssue | None:
    world = ctx.world
    if id_or_key.isdigit():
        key = world.issue_ids.get(int(id_or_key))
        return world.issues.get(key) if key else None
    return world.issues.get(id_or_key.upper())


def project_key(value) -> str | None:
    if isinstance(value, dict):
        value = value.get("key") or value.get("id")
    value = str(value or "")
    return value.upper() if value.upper() in PROJECTS else PROJECT_BY_ID.get(value)


def run_search(ctx: Ctx, params: dict) -> tuple[IssueIndex, list[int]] | Response:
    index = index_of(ctx.world)
    try:
        return index, index.search(params.get("jql") or "", lag=ctx.request.search_lag)
    except JqlError as exc:
        return error(400, str(exc))
