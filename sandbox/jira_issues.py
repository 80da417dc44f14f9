"""JIRA issues: get, create, edit, assign, comments, transitions and remote links."""

from __future__ import annotations

from . import jira_write
from .http import Request, json_response
from .jira_api import (
    NO_ISSUE,
    api,
    authorised,
    body_of,
    error,
    expand_of,
    find_issue,
    int_arg,
    no_content,
    project_key,
    router,
)
from .jira_render import (
    Ctx,
    FieldSelection,
    comment_json,
    issue_json,
    transitions_json,
)
from .jira_schema import BOT, INITIAL_STATUS, TRANSITIONS
from .world import Comment, JiraIssue, RemoteLink, World, now

_link_extras: dict[int, dict[int, dict]] = {}  # world id -> remote link id -> globalId/application/relationship/icon


@api("GET", "/issue/{key}")
def get_issue(ctx: Ctx, key: str):
    issue = find_issue(ctx, key)
    if issue is None:
        return error(404, NO_ISSUE)
    r = ctx.request
    return issue_json(ctx, issue, FieldSelection(r.args("fields"), "*all"), expand_of(r.args("expand")))


@api("POST", "/issue")
def create_issue(ctx: Ctx):
    body = body_of(ctx)
    if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
        return error(400, "Can not deserialize instance of com.atlassian.jira.rest.v2.issue.IssueUpdateBean")
    fields = body["fields"]
    key_of_project = project_key(fields.get("project"))
    if key_of_project is None:
        return error(400, errors={"project": "Specify a valid project ID or key"})
    if "issuetype" not in fields:
        return error(400, errors={"issuetype": "Specify an issue type"})
    edit = jira_write.parse(ctx, key_of_project, None, fields, body.get("update"))
    if "summary" not in fields and "summary" not in edit.errors:
        edit.errors["summary"] = "You must specify a summary of the issue."
    if not edit.ok:
        return json_response(edit.body(), 400)
    a = edit.attrs
    issue = ctx.world.add_issue(
        project=key_of_project,
        issue_type=a["issue_type"],
        summary=a["summary"],
        description=a.get("description", ""),
        status=INITIAL_STATUS.get(key_of_project, "New"),
        priority=a.get("priority", "Normal"),
        reporter=a.get("reporter") or BOT.account_id,
        assignee=a.get("assignee"),
        labels=a.get("labels", []),
        components=a.get("components", []),
        fix_versions=a.get("fix_versions", []),
    )
    edit.attrs = {}
    jira_write.apply(edit, issue)
    return json_response({"id": str(issue.id), "key": issue.key, "self": f"{ctx.api}/issue/{issue.id}"}, 201)


@api("PUT", "/issue/{key}")
def edit_issue(ctx: Ctx, key: str):
    issue = find_issue(ctx, key)
    if issue is None:
        return error(404, NO_ISSUE)
    body = body_of(ctx)
    if not isinstance(body, dict):
        return error(400, "Can not deserialize instance of com.atlassian.jira.rest.v2.issue.IssueUpdateBean")
    edit = jira_write.parse(ctx, issue.project, issue, body.get("fields"), body.get("update"))
    if not edit.ok:
        return json_response(edit.body(), 400)
    jira_write.apply(edit, issue)
    ctx.world.touch_issue(issue)
    return no_content()


@api("PUT", "/issue/{key}/assignee")
def assign(ctx: Ctx, key: str):
    issue = find_issue(ctx, key)
    if issue is None:
        return error(404, NO_ISSUE)
    edit = jira_write.parse(ctx, issue.project, issue, {"assignee": body_of(ctx)}, None)
    if not edit.ok:
        return json_response(edit.body(), 400)
    jira_write.apply(edit, issue)
    ctx.world.touch_issue(issue)
    return no_content()


@api("GET", "/issue/{key}/comment")
def comments(ctx: Ctx, key: str):
    issue = find_issue(ctx, key)
    if issue is None:
        return error(404, NO_ISSUE)
    r = ctx.request
    try:
        start, size = int_arg(r.arg("startAt"), 0), int_arg(r.arg("maxResults"), 5000)
    except ValueError:
        return error(400, "startAt and maxResults must be numbers")
    ordered = sorted(issue.comments, key=lambda c: (c.created, int(c.id) if c.id.isdigit() else 0))
    if (r.arg("orderBy") or "").startswith("-"):
        ordered.reverse()
    page = ordered[start : start + size]
    rendered = "renderedBody" in expand_of(r.args("expand"))
    return {"startAt": start, "maxResults": size, "total": len(ordered),
            "comments": [comment_json(ctx, issue, c, rendered_body=rendered) for c in page]}  # fmt: skip


@api("POST", "/issue/{key}/comment")
def add_comment(ctx: Ctx, key: str):
    issue = find_issue(ctx, key)
    if issue is None:
        return error(404, NO_ISSUE)
    body = body_of(ctx)
    text = body.get("body") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return error(400, errors={"comment": "Comment body can not be empty!"})
    comment = Comment(str(ctx.world.next_id("comment")), BOT.account_id, text, now())
    issue.comments.append(comment)
    ctx.world.touch_issue(issue, comment=comment)
    return json_response(comment_json(ctx, issue, comment), 201)


@api("GET", "/issue/{key}/transitions")
def transitions(ctx: Ctx, key: str):
    issue = find_issue(ctx, key)
    if issue is None:
        return error(404, NO_ISSUE)
    found = transitions_json(ctx, issue)
    wanted = ctx.request.arg("transitionId")
    return {"expand": "transitions", "transitions": [t for t in found if wanted in (None, t["id"])]}


@api("POST", "/issue/{key}/transitions")
def transition(ctx: Ctx, key: str):
    issue = find_issue(ctx, key)
    if issue is None:
        return error(404, NO_ISSUE)
    body = body_of(ctx)
    wanted = body.get("transition") if isinstance(body, dict) else None
    tid = str(wanted.get("id", "")) if isinstance(wanted, dict) else ""
    available = {t["id"]: t["name"] for t in transitions_json(ctx, issue)}
    if tid not in available:
        known = TRANSITIONS.get(issue.project, {})
        if tid in known:
            return error(400, f"Transition id '{tid}' is not valid for this issue.")
        return error(400, errors={"transition": f"Transition id '{tid}' is not valid for this issue."} if tid else
                     {"transition": "Missing 'transition' identifier"})  # fmt: skip
    edit = jira_write.parse(ctx, issue.project, issue, body.get("fields"), body.get("update"), transition=True)
    if not edit.ok:
        return json_response(edit.body(), 400)
    jira_write.apply(edit, issue)
    issue.status = available[tid]
    ctx.world.touch_issue(issue)
    return no_content()


def _link_json(ctx: Ctx, issue: JiraIssue, link: RemoteLink) -> dict:
    extra = _link_extras.get(id(ctx.world), {}).get(link.id, {})
    out = {"id": link.id, "self": f"{ctx.api}/issue/{issue.key}/remotelink/{link.id}"}
    if extra.get("globalId"):
        out["globalId"] = extra["globalId"]
    out["application"] = extra.get("application") or {}
    if extra.get("relationship"):
        out["relationship"] = extra["relationship"]
    out["object"] = {"url": link.url, "title": link.title, "icon": extra.get("icon") or {},
                     "status": {"resolved": False, "icon": {}}}  # fmt: skip
    return out


@api("GET", "/issue/{key}/remotelink")
def remote_links(ctx: Ctx, key: str):
    issue = find_issue(ctx, key)
    if issue is None:
        return error(404, NO_ISSUE)
    global_id = ctx.request.arg("globalId")
    links = [_link_json(ctx, issue, link) for link in issue.remote_links]
    return [x for x in links if global_id is None or x.get("globalId") == global_id]


@api("GET", "/issue/{key}/remotelink/{link_id}")
def remote_link(ctx: Ctx, key: str, link_id: str):
    issue = find_issue(ctx, key)
    link = next((x for x in issue.remote_links if str(x.id) == link_id), None) if issue else None
    if link is None:
        return error(404, "No remote link with the given id was found.")
    return _link_json(ctx, issue, link)


@api("POST", "/issue/{key}/remotelink")
def add_remote_link(ctx: Ctx, key: str):
    issue = find_issue(ctx, key)
    if issue is None:
        return error(404, NO_ISSUE)
    body = body_of(ctx)
    obj = body.get("object") if isinstance(body, dict) else None
    errors = {}
    if not isinstance(obj, dict) or not isinstance(obj.get("url"), str) or not obj["url"].strip():
        errors["url"] = "'url' is required."
    if not isinstance(obj, dict) or not isinstance(obj.get("title"), str) or not obj["title"].strip():
        errors["title"] = "'title' is required."
    if errors:
        return error(400, errors=errors)
    extras = _link_extras.setdefault(id(ctx.world), {})
    global_id = body.get("globalId")
    existing = next(
        (x for x in issue.remote_links if global_id and extras.get(x.id, {}).get("globalId") == global_id), None
    )
    link = existing or RemoteLink(ctx.world.next_id("link"), obj["url"], obj["title"])
    link.url, link.title = obj["url"], obj["title"]
    if existing is None:
        issue.remote_links.append(link)
    extras[link.id] = {"globalId": global_id, "application": body.get("application"),
                       "relationship": body.get("relationship"), "icon": obj.get("icon")}  # fmt: skip
    ctx.world.touch_issue(issue)
    return json_response({"id": link.id, "self": f"{ctx.api}/issue/{issue.key}/remotelink/{link.id}"},
                         200 if existing else 201)  # fmt: skip


@router.route("GET", "/rest/applinks/latest/listApplicationlinks")
def application_links(request: Request, world: World):
    if denied := authorised(request, False):
        return denied
    return error(403, "You must be a Jira administrator to access application links.")
