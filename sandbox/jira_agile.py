"""JIRA Software's agile API 1.0: boards, sprints, moving issues into a sprint or the backlog."""

from __future__ import annotations

from .http import Response
from .jira_api import api, body_of, error, expand_of, find_issue, int_arg, no_content, project_key, run_search
from .jira_render import Ctx, FieldSelection, issue_json, project_ref, sprint_json
from .world import JiraIssue, World


def _page(ctx: Ctx, values: list, *, total: bool = True) -> dict | Response:
    r = ctx.request
    try:
        start, size = max(0, int_arg(r.arg("startAt"), 0)), max(1, min(int_arg(r.arg("maxResults"), 50), 50))
    except ValueError:
        return error(400, "startAt and maxResults must be numbers")
    page = values[start : start + size]
    out = {"maxResults": size, "startAt": start, "isLast": start + len(page) >= len(values), "values": page}
    if total:
        out["total"] = len(values)
    return out


def _board_json(ctx: Ctx, board: dict) -> dict:
    ref = project_ref(ctx, board["project"])
    name = f"{ref['name']} ({board['project']})"
    return {"id": board["id"], "self": f"{ctx.agile}/board/{board['id']}", "name": board["name"],
            "type": board["type"], "location": {"projectId": int(ref["id"]), "displayName": name,
            "projectName": ref["name"], "projectKey": board["project"], "projectTypeKey": "software",
            "avatarURI": ref["avatarUrls"]["48x48"], "name": name}}  # fmt: skip


@api("GET", "/board", agile=True)
def boards(ctx: Ctx):
    r = ctx.request
    name, kind, project_filter = (r.arg("name") or "").lower(), r.arg("type"), r.arg("projectKeyOrId")
    wanted_project = project_key(project_filter) if project_filter else None
    found = [
        _board_json(ctx, b)
        for b in ctx.world.boards
        if name in b["name"].lower()
        and kind in (None, b["type"])
        and (not project_filter or b["project"] == wanted_project)
    ]
    return _page(ctx, found)


def _board(ctx: Ctx, board_id: str) -> dict | None:
    return next((b for b in ctx.world.boards if str(b["id"]) == board_id), None)


@api("GET", "/board/{board_id}", agile=True)
def board(ctx: Ctx, board_id: str):
    found = _board(ctx, board_id)
    if found is None:
        return error(404, f"Board {board_id} does not exist or you do not have permission to see it.")
    return _board_json(ctx, found)


@api("GET", "/board/{board_id}/sprint", agile=True)
def board_sprints(ctx: Ctx, board_id: str):
    if _board(ctx, board_id) is None:
        return error(404, f"Board {board_id} does not exist or you do not have permission to see it.")
    states = [s.strip().lower() for s in (ctx.request.arg("state") or "").split(",") if s.strip()]
    if bad := [s for s in states if s not in ("active", "closed", "future")]:
        return error(400, f"The value '{bad[0]}' is not a valid sprint state. Valid states: future, active, closed.")
    found = [
        sprint_json(ctx, s.id, agile=True)
        for s in ctx.world.sprints.values()
        if str(s.board_id) == board_id and (not states or s.state in states)
    ]
    return _page(ctx, found, total=False)


@api("GET", "/sprint/{sprint_id}", agile=True)
def sprint(ctx: Ctx, sprint_id: str):
    if not sprint_id.isdigit() or int(sprint_id) not in ctx.world.sprints:
        return error(404, "Sprint does not exist or you do not have permission to see it.")
    return sprint_json(ctx, int(sprint_id), agile=True)


@api("GET", "/sprint/{sprint_id}/issue", agile=True)
def sprint_issues(ctx: Ctx, sprint_id: str):
    if not sprint_id.isdigit() or int(sprint_id) not in ctx.world.sprints:
        return error(404, "Sprint does not exist or you do not have permission to see it.")
    r = ctx.request
    extra = r.arg("jql")
    ran = run_search(ctx, {"jql": f"sprint = {sprint_id}" + (f" AND ({extra})" if extra else "")})
    if isinstance(ran, Response):
        return ran
    index, ids = ran
    try:
        start, size = max(0, int_arg(r.arg("startAt"), 0)), max(0, min(int_arg(r.arg("maxResults"), 50), 100))
    except ValueError:
        return error(400, "startAt and maxResults must be numbers")
    selection, expand = FieldSelection(r.args("fields"), "*navigable"), expand_of(r.args("expand"))
    issues = [issue_json(ctx, index.issue(i), selection, expand) for i in ids[start : start + size]]
    return {"expand": "schema,names", "startAt": start, "maxResults": size, "total": len(ids), "issues": issues}


def _issues_to_move(ctx: Ctx) -> list[JiraIssue] | Response:
    body = body_of(ctx)
    keys = body.get("issues") if isinstance(body, dict) else None
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str | int) for k in keys):
        return error(400, errors={"issues": "The 'issues' list must name at least one issue."})
    if len(keys) > 50:
        return error(400, errors={"issues": "The maximum number of issues you can move at once is 50."})
    found = [find_issue(ctx, str(k)) for k in keys]
    if None in found:
        return error(400, f"Issue '{keys[found.index(None)]}' does not exist or you do not have permission to see it.")
    return found


@api("POST", "/sprint/{sprint_id}/issue", agile=True)
def move_to_sprint(ctx: Ctx, sprint_id: str):
    target = ctx.world.sprints.get(int(sprint_id)) if sprint_id.isdigit() else None
    if target is None:
        return error(404, "Sprint does not exist or you do not have permission to see it.")
    if target.state == "closed":
        return error(400, "Cannot move issues into a completed sprint.")
    found = _issues_to_move(ctx)
    if isinstance(found, Response):
        return found
    for issue in found:
        _set_sprint(ctx.world, issue, target.id)
    return no_content()


@api("POST", "/backlog/issue", agile=True)
def move_to_backlog(ctx: Ctx):
    found = _issues_to_move(ctx)
    if isinstance(found, Response):
        return found
    for issue in found:
        _set_sprint(ctx.world, issue, None)
    return no_content()


def _set_sprint(world: World, issue: JiraIssue, sprint_id: int | None) -> None:
    closed = [s for s in issue.sprint_ids if s in world.sprints and world.sprints[s].state == "closed"]
    issue.sprint_ids = closed + ([sprint_id] if sprint_id is not None else [])
    world.touch_issue(issue)
