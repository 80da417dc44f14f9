"""JIRA under /jira: REST v2 and agile 1.0, faithful enough that the `jira` 3.10.5 library runs unmodified.

Auth: `token_auth="sandbox-jira-token"` (Bearer) or `basic_auth=("t5g-bot", "sandbox-jira-token")`.
Anything else answers 401 as JIRA does; only serverInfo may be read anonymously (no credentials at all).

REST v2 (also under /rest/api/latest): serverInfo, myself, field, project[/{key}[/components]], issuetype,
priority, status, issue (POST create → 201 {id, key, self}), issue/{idOrKey} (GET with fields/expand, PUT edit →
204), issue/{k}/assignee (PUT), issue/{k}/comment (GET/POST), issue/{k}/transitions (GET/POST),
issue/{k}/remotelink[/{id}] (GET/POST, upsert by globalId), user, user/search, and search:
- Cloud flavour: GET/POST search/jql (jql, nextPageToken, maxResults ≤ 100 per page with fields, ≤ 5000 for
  id/key only, default fields "id"), answering {issues, isLast[, nextPageToken]}; GET /search answers 410
  as Cloud does since its removal.
- Server flavour: GET/POST search (startAt, maxResults ≤ 1000, total); search/jql does not exist (404).
nextPageToken resumes after the last issue returned even when issues were added in between.
Agile 1.0: board (name/type/projectKeyOrId filters, paginated), board/{id}, board/{id}/sprint (state filter),
sprint/{id}, sprint/{id}/issue (GET; POST {"issues": [...]} moves issues into an active or future sprint,
keeping their closed sprints), backlog/issue (POST). /rest/applinks/... answers 403 (not an administrator),
so the library's add_remote_link warns and carries on, as against a real site.

Every write goes through World.add_issue / World.touch_issue, so `updated` moves and searches see it.

Modules: jira.py (server, fields, projects, users, search), jira_issues.py, jira_agile.py, jira_api.py
(router, auth, helpers), jira_schema.py (vocabulary, ids), jira_render.py (JSON shapes), jira_write.py
(create/edit validation), jql.py (parser), jira_search.py (index, caching, order) and jira_eval.py (clauses).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib

from . import jira_agile, jira_issues  # noqa: F401 - their routes join the router
from .http import Response, json_response
from .jira_api import (
    api,
    body_of,
    error,
    expand_of,
    int_arg,
    project_key,
    router,  # noqa: F401 - mounted by the server
    run_search,
    warm,  # noqa: F401 - the server may build the index before the first search
)
from .jira_render import (
    Ctx,
    FieldSelection,
    find_user,
    issue_json,
    issuetype_json,
    jira_time,
    priority_json,
    project_json,
    project_ref,
    status_json,
    user_json,
)
from .jira_schema import BOT, ISSUE_TYPES, PRIORITIES, PROJECTS, STATUSES, fields_list
from .jira_search import IssueIndex
from .world import now

GUIDE = "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"


# --- server, fields, projects, users --------------------------------------------------------------------
@api("GET", "/serverInfo", anonymous=True)
def server_info(ctx: Ctx):
    cloud = ctx.cloud
    version = [1001, 0, 0] if cloud else [9, 12, 15]
    return {
        "baseUrl": ctx.base,
        "version": "1001.0.0-SNAPSHOT" if cloud else "9.12.15",
        "versionNumbers": version,
        "deploymentType": "Cloud" if cloud else "Server",
        "buildNumber": 100282 if cloud else 9120015,
        "buildDate": "2026-11-20T00:00:00.000+0000",
        "serverTime": jira_time(now()),
        "scmInfo": "5c3f1a4e9b2d7c8e6f0a1b2c3d4e5f6a7b8c9d0e",
        "serverTitle": "Jira" if cloud else "Red Hat Issue Tracker",
        "defaultLocale": {"locale": "en_US"},
        "serverTimeZone": "Etc/UTC",
    }


@api("GET", "/myself")
def myself(ctx: Ctx):
    return {**user_json(ctx, BOT.account_id), "locale": "en_US", "groups": {"size": 1, "items": []}}


@api("GET", "/field")
def fields(ctx: Ctx):
    return fields_list()


@api("GET", "/project")
def projects(ctx: Ctx):
    return [project_ref(ctx, key) for key in PROJECTS]


@api("GET", "/project/{key}")
def project(ctx: Ctx, key: str):
    found = project_key(key)
    if found is None:
        return error(404, f"No project could be found with key '{key}'.")
    return project_json(ctx, found, expand=expand_of(ctx.request.args("expand")))


@api("GET", "/project/{key}/components")
def project_components(ctx: Ctx, key: str):
    found = project_key(key)
    if found is None:
        return error(404, f"No project could be found with key '{key}'.")
    return project_json(ctx, found, expand=set())["components"]


@api("GET", "/issuetype")
def issue_types(ctx: Ctx):
    return [issuetype_json(ctx, name) for name in ISSUE_TYPES]


@api("GET", "/priority")
def priorities(ctx: Ctx):
    return [priority_json(ctx, name) for name in PRIORITIES]


@api("GET", "/status")
def statuses(ctx: Ctx):
    return [status_json(ctx, name) for name in STATUSES]


def _users_matching(ctx: Ctx, text: str) -> list[str]:
    text = text.lower()
    people = [*ctx.world.users.values(), BOT]
    return [
        u.account_id
        for u in people
        if text and (text == u.account_id.lower() or any(text in x.lower() for x in (u.name, u.email, u.display_name)))
    ]


@api("GET", "/user/search")
def user_search(ctx: Ctx):
    r = ctx.request
    text = r.arg("query") or r.arg("username") or r.arg("accountId") or ""
    found = _users_matching(ctx, text)[int_arg(r.arg("startAt"), 0) :][: int_arg(r.arg("maxResults"), 50)]
    return [user_json(ctx, a) for a in found]


@api("GET", "/user")
def user(ctx: Ctx):
    r = ctx.request
    ref = r.arg("accountId") or r.arg("username") or r.arg("key") or ""
    account = ref if find_user(ctx.world, ref) else next(iter(_users_matching(ctx, ref)), None)
    if account is None:
        return error(404, "Specified user does not exist or you do not have required permissions")
    return user_json(ctx, account)


# --- search -----------------------------------------------------------------------------------------------
def _params(ctx: Ctx) -> dict | Response:
    r = ctx.request
    if r.method == "GET":
        return {"jql": r.arg("jql"), "fields": r.args("fields"), "expand": r.args("expand"),
                "maxResults": r.arg("maxResults"), "startAt": r.arg("startAt"),
                "nextPageToken": r.arg("nextPageToken")}  # fmt: skip
    body = body_of(ctx)
    if not isinstance(body, dict):
        return error(400, "The request body must be a JSON object.")
    return body


def _token(offset: int, last_id: int, jql: str) -> str:
    raw = json.dumps([offset, last_id, zlib.crc32(jql.encode())]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _resume(index: IssueIndex, jql: str, ids: list[int], token: str) -> int:
    """Where a nextPageToken resumes: after the issue it ended on, wherever that issue now is."""
    raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    offset, last_id, digest = int(raw[0]), int(raw[1]), int(raw[2])
    if digest != zlib.crc32(jql.encode()):
        raise ValueError("token for another query")
    if 0 < offset <= len(ids) and ids[offset - 1] == last_id:
        return offset
    found = index.position_of(ids, last_id)
    return found + 1 if found is not None else min(offset, len(ids))


@api("GET", "/search/jql")
@api("POST", "/search/jql")
def search_jql(ctx: Ctx):
    if not ctx.cloud:
        return json_response({"error": "not found", "path": ctx.request.path}, 404)
    params = _params(ctx)
    if isinstance(params, Response):
        return params
    ran = run_search(ctx, params)
    if isinstance(ran, Response):
        return ran
    index, ids = ran
    jql = params.get("jql") or ""
    selection = FieldSelection(params.get("fields"), "id")
    try:
        size = max(0, min(int_arg(params.get("maxResults"), 50), 5000 if selection.ids_only else 100))
        start = _resume(index, jql, ids, params["nextPageToken"]) if params.get("nextPageToken") else 0
    except (ValueError, TypeError, IndexError, binascii.Error, json.JSONDecodeError):
        return error(400, "The provided next page token is invalid or expired.")
    page = ids[start : start + size]
    expand = expand_of(params.get("expand"))
    out = {"issues": [issue_json(ctx, index.issue(i), selection, expand) for i in page]}
    end = start + len(page)
    if end < len(ids) and page:
        out["nextPageToken"] = _token(end, page[-1], jql)
    out["isLast"] = "nextPageToken" not in out
    return out


@api("GET", "/search")
@api("POST", "/search")
def search(ctx: Ctx):
    if ctx.cloud:
        return error(
            410, f"The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. {GUIDE}"
        )
    params = _params(ctx)
    if isinstance(params, Response):
        return params
    try:
        start, size = (
            max(0, int_arg(params.get("startAt"), 0)),
            max(0, min(int_arg(params.get("maxResults"), 50), 1000)),
        )
    except (ValueError, TypeError):
        return error(400, "startAt and maxResults must be numbers")
    ran = run_search(ctx, params)
    if isinstance(ran, Response):
        return ran
    index, ids = ran
    selection, expand = FieldSelection(params.get("fields"), "*navigable"), expand_of(params.get("expand"))
    page = ids[start : start + size]
    return {"expand": "schema,names", "startAt": start, "maxResults": size, "total": len(ids),
            "issues": [issue_json(ctx, index.issue(i), selection, expand) for i in page]}  # fmt: skip
