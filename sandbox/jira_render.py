"""How JIRA renders issues and their parts as REST v2 JSON (the vocabulary is in jira_schema.py).

Custom fields are held in `JiraIssue.custom` by name; here they get their real ids and
the shapes the REST API gives them:

- customfield_10466 Contributors: multi-user picker, a list of user objects (null when empty).
- customfield_10840 Severity: single select, {"self", "value", "id", "disabled"} (null when unset).
- customfield_10470 QA Contact: single user picker, a user object (null when unset).
- customfield_11087 Private Keywords: a single-line *text* field holding a comma-separated list
  ("Telco,Telco:Case"); renderedFields gives the same text (plain-text renderer, HTML-escaped). The old
  dashboard split the rendered value on "," and wrote a string back, which only a text field allows, so
  writes must be a string too: a JSON list answers 400 as JIRA does.
- customfield_10979 SFDC Case Links: a multi-line text (textarea) with one portal case URL a line;
  renderedFields is the wiki renderer's HTML, a paragraph of <a> links joined by <br/>. Read-only in
  practice (the Salesforce integration fills it); a string write is accepted.
- customfield_11004 Internal Whiteboard: single-line text (null when empty).
- customfield_10783 Release note text: textarea; renderedFields is HTML.
- customfield_10020 Sprint: a list of sprint objects {id, name, state, boardId, goal, startDate,
  endDate[, completeDate]} (Cloud's shape; used for the Server flavour too), null when in no sprint.

A field appears in an issue's `fields` when it applies to the issue's project (jira_schema.PROJECT_FIELDS) or the
issue has a value for it, with null for "applies but empty", as JIRA's field configurations do.

Users: Cloud user objects carry accountId, displayName, emailAddress, active, timeZone, accountType;
the Server flavour adds name and key (and keeps accountId, so account ids work in both flavours).
Times are "2026-11-28T10:15:02.000+0000" (UTC); renderedFields dates are "28/Nov/26 10:15 AM".
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime

from .http import Request
from .jira_schema import (
    BOT,
    CATEGORIES,
    CUSTOM_BY_NAME,
    CUSTOM_FIELDS,
    ISSUE_EXPAND,
    ISSUE_TYPES,
    PRIORITIES,
    PROJECT_FIELDS,
    PROJECTS,
    RESOLUTIONS,
    SEVERITY_OPTIONS,
    SPRINT_FIELD,
    STATUS_IDS,
    SYSTEM_FIELDS,
    TRANSITIONS,
    field_name,
    field_schema,
    stable_id,
    status_category,
)
from .world import Comment, JiraIssue, User, World


# --- request context --------------------------------------------------------------------------------
@dataclass
class Ctx:
    """One request: the world, the request and the URLs JIRA would put in `self` links."""

    request: Request
    world: World
    base: str  # http://host:port/jira
    memo: dict = field(default_factory=dict)  # objects rendered once per response (users, statuses, ...)

    @classmethod
    def of(cls, request: Request, world: World) -> Ctx:
        return cls(request, world, f"http://{request.headers.get('host', '127.0.0.1')}/jira")

    @property
    def api(self) -> str:
        return self.base + "/rest/api/2"

    @property
    def agile(self) -> str:
        return self.base + "/rest/agile/1.0"

    @property
    def cloud(self) -> bool:
        return self.world.jira_flavor == "cloud"


# --- scalars ---------------------------------------------------------------------------------------
def jira_time(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds")[:19] + ".000+0000" if at else None


def agile_time(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z") if at else None


def rendered_time(at: datetime | None) -> str | None:
    return f"{at:%d/%b/%y} {int(f'{at:%I}')}:{at:%M} {at:%p}" if at else None


_LINK = re.compile(r"\[([^\]|]+)\|(https?://[^\]\s]+)\]|(?<![\"'=])\b(https?://[^\s<>\"'\]]+)")


def _inline(text: str) -> str:
    out, pos = [], 0
    for m in _LINK.finditer(text):
        out.append(_format(html.escape(text[pos : m.start()], quote=False)))
        label, url = (m.group(1), m.group(2)) if m.group(2) else (m.group(3), m.group(3))
        out.append(
            f'<a href="{html.escape(url)}" class="external-link" rel="nofollow noreferrer">{html.escape(label)}</a>'
        )
        pos = m.end()
    out.append(_format(html.escape(text[pos:], quote=False)))
    return "".join(out)


def _format(escaped: str) -> str:
    escaped = re.sub(r"(?<!\w)\*([^*\n]+)\*(?!\w)", r"<b>\1</b>", escaped)
    return re.sub(r"(?<!\w)_([^_\n]+)_(?!\w)", r"<em>\1</em>", escaped)


def wiki_html(text: str | None) -> str | None:
    """A small wiki renderer: paragraphs, line breaks, *bold*, _em_, links, {code}/{noformat} blocks.

    Everything is HTML-escaped first, as JIRA's renderer does; only http(s) links become anchors.
    """
    if not text:
        return None
    parts = re.split(r"\{(noformat|code)\}(.*?)\{\1\}", text, flags=re.S)
    out = []
    for i in range(0, len(parts), 3):
        for para in re.split(r"\n\s*\n", parts[i]):
            if para.strip():
                out.append("<p>" + "<br/>\n".join(_inline(line) for line in para.strip("\n").split("\n")) + "</p>")
        if i + 2 < len(parts):
            out.append(
                '<div class="preformatted panel" style="border-width: 1px;"><div class="preformattedContent '
                f'panelContent">\n<pre>{html.escape(parts[i + 2].strip(chr(10)), quote=False)}</pre>\n</div></div>'
            )
    return "\n\n".join(out)


def links_html(urls: list[str]) -> str | None:
    if not urls:
        return None
    anchors = [
        f'<a href="{html.escape(u)}" class="external-link" rel="nofollow noreferrer">{html.escape(u)}</a>' for u in urls
    ]
    return "<p>" + "<br/>\n".join(anchors) + "</p>"


# --- objects -----------------------------------------------------------------------------------------
def find_user(world: World, account_id: str | None) -> User | None:
    if not account_id:
        return None
    return world.users.get(account_id) or (BOT if account_id == BOT.account_id else None)


def memoised(fn):
    """Render each (kind, key) once per request: a page repeats the same users and statuses many times."""

    def wrapper(ctx: Ctx, key):
        memo_key = (fn.__name__, key)
        found = ctx.memo.get(memo_key)
        if found is None:
            found = ctx.memo[memo_key] = fn(ctx, key)
        return found

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


@memoised
def user_json(ctx: Ctx, account_id: str | None) -> dict | None:
    if not account_id:
        return None
    user = find_user(ctx.world, account_id)
    if user is None:  # an author we know only by name
        return {"accountId": account_id, "displayName": account_id, "active": False, "timeZone": "Etc/UTC"}
    avatar = f"https://avatar-management.example.com/default/{user.name}"
    out = {
        "self": f"{ctx.api}/user?accountId={user.account_id}",
        "accountId": user.account_id,
        "emailAddress": user.email,
        "avatarUrls": {size: f"{avatar}/{size.split('x')[0]}" for size in ("48x48", "24x24", "16x16", "32x32")},
        "displayName": user.display_name,
        "active": user.active,
        "timeZone": "Etc/UTC",
    }
    if ctx.cloud:
        out["accountType"] = "atlassian"
    else:
        out.update(self=f"{ctx.api}/user?username={user.name}", name=user.name, key=user.name)
    return out


@memoised
def status_json(ctx: Ctx, status: str) -> dict:
    cid, key, colour, name = CATEGORIES[status_category(status)]
    sid = STATUS_IDS.get(status) or stable_id(status, 11000)
    return {
        "self": f"{ctx.api}/status/{sid}",
        "description": "",
        "iconUrl": f"{ctx.base}/images/icons/statuses/generic.png",
        "name": status,
        "id": sid,
        "statusCategory": {
            "self": f"{ctx.api}/statuscategory/{cid}",
            "id": cid,
            "key": key,
            "colorName": colour,
            "name": name,
        },
    }


@memoised
def priority_json(ctx: Ctx, name: str | None) -> dict | None:
    if not name:
        return None
    pid = PRIORITIES.get(name) or stable_id(name, 12000)
    return {"self": f"{ctx.api}/priority/{pid}", "iconUrl": f"{ctx.base}/images/icons/priorities/{name.lower()}.svg",
            "name": name, "id": pid}  # fmt: skip


@memoised
def issuetype_json(ctx: Ctx, name: str) -> dict:
    tid = ISSUE_TYPES.get(name) or stable_id(name, 13000)
    return {
        "self": f"{ctx.api}/issuetype/{tid}",
        "id": tid,
        "description": f"A {name.lower()}.",
        "iconUrl": f"{ctx.base}/images/icons/issuetypes/{name.lower()}.svg",
        "name": name,
        "subtask": name == "Sub-task",
        "avatarId": 10300 + int(tid) % 100,
        "hierarchyLevel": 1 if name == "Epic" else -1 if name == "Sub-task" else 0,
    }


@memoised
def project_ref(ctx: Ctx, key: str) -> dict:
    info = PROJECTS.get(key, {"id": stable_id(key, 14000), "name": key})
    return {
        "self": f"{ctx.api}/project/{info['id']}",
        "id": info["id"],
        "key": key,
        "name": info["name"],
        "projectTypeKey": "software",
        "simplified": False,
        "avatarUrls": {"48x48": f"{ctx.base}/secure/projectavatar?pid={info['id']}"},
    }


def project_json(ctx: Ctx, key: str, *, expand: set[str]) -> dict:
    info = PROJECTS[key]
    out = {
        "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
        **project_ref(ctx, key),
        "description": f"{info['name']} ({key})",
        "lead": user_json(ctx, next(iter(ctx.world.users), None)),
        "components": [component_json(ctx, key, name) for name in info["components"]],
        "assigneeType": "UNASSIGNED",
        "versions": [],
        "roles": {},
        "style": "classic",
        "isPrivate": False,
        "properties": {},
    }
    if ctx.cloud or "issueTypes" in expand:  # Cloud always lists them
        out["issueTypes"] = [issuetype_json(ctx, t) for t in info["types"]]
    return out


def component_json(ctx: Ctx, project: str, name: str) -> dict:
    cid = stable_id(f"{project}/{name}", 15000)
    return {"self": f"{ctx.api}/component/{cid}", "id": cid, "name": name}


def version_json(ctx: Ctx, name: str) -> dict:
    vid = stable_id(name, 16000)
    return {"self": f"{ctx.api}/version/{vid}", "id": vid, "name": name, "description": "",
            "archived": False, "released": False}  # fmt: skip


def sprint_json(ctx: Ctx, sprint_id: int, *, agile: bool = False) -> dict:
    s = ctx.world.sprints[sprint_id]
    out = {"id": s.id, "name": s.name, "state": s.state, "boardId": s.board_id, "goal": "",
           "startDate": agile_time(s.start), "endDate": agile_time(s.end)}  # fmt: skip
    if s.state == "closed":
        out["completeDate"] = agile_time(s.end)
    if agile:
        del out["boardId"]
        out = {"id": s.id, "self": f"{ctx.agile}/sprint/{s.id}", **out, "originBoardId": s.board_id}
        if s.state != "future":
            out["activatedDate"] = agile_time(s.start)
    return out


@memoised
def severity_json(ctx: Ctx, value: str | None) -> dict | None:
    if not value:
        return None
    oid = SEVERITY_OPTIONS.get(value) or stable_id(value, 27000)
    return {"self": f"{ctx.api}/customFieldOption/{oid}", "value": value, "id": oid, "disabled": False}


def comment_json(ctx: Ctx, issue: JiraIssue, c: Comment, *, rendered_body: bool = False) -> dict:
    author = user_json(ctx, c.author)
    out = {
        "self": f"{ctx.api}/issue/{issue.id}/comment/{c.id}",
        "id": c.id,
        "author": author,
        "body": c.body,
        "updateAuthor": author,
        "created": jira_time(c.created),
        "updated": jira_time(c.updated or c.created),
        "jsdPublic": c.public,
    }
    if rendered_body:  # ?expand=renderedBody
        out["renderedBody"] = wiki_html(c.body) or ""
    return out


def comments_page(ctx: Ctx, issue: JiraIssue, comments: list[Comment], *, rendered: bool = False) -> dict:
    """The `comment` field; in renderedFields the bodies are HTML and the dates are rendered."""
    items = [comment_json(ctx, issue, c) for c in comments]
    if rendered:
        for item, c in zip(items, comments, strict=True):
            item.update(
                body=wiki_html(c.body) or "",
                created=rendered_time(c.created),
                updated=rendered_time(c.updated or c.created),
            )
    return {"comments": items, "self": f"{ctx.api}/issue/{issue.id}/comment", "maxResults": len(comments),
            "total": len(comments), "startAt": 0}  # fmt: skip


def resolution_for(status: str) -> str | None:
    if status_category(status) != "done":
        return None
    return "Won't Do" if status.startswith("Won't") else "Done"


# --- issues --------------------------------------------------------------------------------------------
class FieldSelection:
    """The `fields` parameter: ids, *all, *navigable and -exclusions, repeated or comma-separated."""

    def __init__(self, raw: list[str] | str | None, default: str):
        if isinstance(raw, str):
            raw = [raw]
        tokens = [t.strip() for value in raw or [] for t in str(value).split(",") if t.strip()]
        tokens = tokens or [default]
        self.all = "*all" in tokens
        self.navigable = "*navigable" in tokens
        self.include = {t for t in tokens if not t.startswith(("*", "-"))}
        self.exclude = {t[1:] for t in tokens if t.startswith("-")}

    def wants(self, field_id: str, navigable: bool = True) -> bool:
        if field_id in self.exclude:
            return False
        return self.all or (self.navigable and navigable) or field_id in self.include

    @property
    def ids_only(self) -> bool:
        return not self.all and not self.navigable and self.include <= {"id", "key", "issuekey"}


def issue_field_ids(issue: JiraIssue) -> list[str]:
    custom = list(PROJECT_FIELDS.get(issue.project, []))
    for name in issue.custom:
        fid = CUSTOM_BY_NAME.get(name)
        if fid and fid not in custom:
            custom.append(fid)
    if issue.sprint_ids and SPRINT_FIELD not in custom:
        custom.append(SPRINT_FIELD)
    return list(SYSTEM_FIELDS) + [fid for fid in custom if fid not in issue.hidden_fields]


def field_value(ctx: Ctx, issue: JiraIssue, fid: str):
    if fid.startswith("customfield_"):
        return custom_value(ctx, issue, fid)
    if fid == "summary":
        return issue.summary
    if fid == "description":
        return issue.description or None
    if fid == "status":
        return status_json(ctx, issue.status)
    if fid == "priority":
        return priority_json(ctx, issue.priority)
    if fid == "assignee":
        return user_json(ctx, issue.assignee)
    if fid in ("reporter", "creator"):
        return user_json(ctx, issue.reporter)
    if fid == "issuetype":
        return issuetype_json(ctx, issue.issue_type)
    if fid == "project":
        return project_ref(ctx, issue.project)
    if fid == "labels":
        return list(issue.labels)
    if fid == "components":
        return [component_json(ctx, issue.project, c) for c in issue.components]
    if fid == "fixVersions":
        return [version_json(ctx, v) for v in issue.fix_versions]
    if fid in ("created", "updated"):
        return jira_time(getattr(issue, fid))
    if fid == "statuscategorychangedate":
        return jira_time(issue.updated)
    if fid == "resolution":
        name = resolution_for(issue.status)
        rid = RESOLUTIONS.get(name or "")
        return {"self": f"{ctx.api}/resolution/{rid}", "id": rid, "description": "", "name": name} if name else None
    if fid == "resolutiondate":
        return jira_time(issue.updated) if resolution_for(issue.status) else None
    if fid == "comment":
        return comments_page(ctx, issue, issue.comments)
    if fid == "watches":
        return {"self": f"{ctx.api}/issue/{issue.key}/watchers", "watchCount": 1, "isWatching": False}
    if fid == "votes":
        return {"self": f"{ctx.api}/issue/{issue.key}/votes", "votes": 0, "hasVoted": False}
    if fid in ("versions", "issuelinks", "subtasks", "attachment"):
        return []
    return None


def custom_value(ctx: Ctx, issue: JiraIssue, fid: str):
    if fid == SPRINT_FIELD:
        return [sprint_json(ctx, s) for s in issue.sprint_ids if s in ctx.world.sprints] or None
    name = CUSTOM_FIELDS[fid][0]
    value = issue.custom.get(name)
    if fid == "customfield_10466":
        return [user_json(ctx, a) for a in value] if value else None
    if fid == "customfield_10470":
        return user_json(ctx, value)
    if fid == "customfield_10840":
        return severity_json(ctx, value)
    if fid == "customfield_11087":
        return ",".join(value) if value else None
    if fid == "customfield_10979":
        return "\n".join(value) if value else None
    return value or None


def rendered_value(ctx: Ctx, issue: JiraIssue, fid: str):
    if fid == "description":
        return wiki_html(issue.description)
    if fid in ("created", "updated", "statuscategorychangedate"):
        return rendered_time(issue.updated if fid == "statuscategorychangedate" else getattr(issue, fid))
    if fid == "resolutiondate":
        return rendered_time(issue.updated) if resolution_for(issue.status) else None
    if fid == "comment":
        return comments_page(ctx, issue, issue.comments, rendered=True)
    if fid == "customfield_10979":
        return links_html(issue.custom.get("SFDC Case Links") or [])
    if fid in ("customfield_11087", "customfield_11004"):
        value = custom_value(ctx, issue, fid)
        return html.escape(value, quote=False) if value else None
    if fid == "customfield_10783":
        return wiki_html(issue.custom.get("Release note text"))
    return None


def issue_json(ctx: Ctx, issue: JiraIssue, selection: FieldSelection, expand: set[str]) -> dict:
    out = {"expand": ISSUE_EXPAND, "id": str(issue.id), "self": f"{ctx.api}/issue/{issue.id}", "key": issue.key}
    if selection.ids_only:
        out["fields"] = {}
        return out
    ids = [f for f in issue_field_ids(issue) if selection.wants(f, f not in ("comment", "attachment"))]
    out["fields"] = {f: field_value(ctx, issue, f) for f in ids}
    if "renderedFields" in expand:
        out["renderedFields"] = {f: rendered_value(ctx, issue, f) for f in ids}
    if "names" in expand:
        out["names"] = {f: field_name(f) for f in ids}
    if "schema" in expand:
        out["schema"] = {f: field_schema(f) for f in ids}
    if "transitions" in expand:
        out["transitions"] = transitions_json(ctx, issue)
    if "changelog" in expand:
        out["changelog"] = {"startAt": 0, "maxResults": 0, "total": 0, "histories": []}
    return out


def transitions_json(ctx: Ctx, issue: JiraIssue) -> list[dict]:
    return [
        {"id": tid, "name": target, "to": status_json(ctx, target), "hasScreen": False, "isGlobal": True,
         "isInitial": False, "isAvailable": True, "isConditional": False, "isLooped": False}
        for tid, target in TRANSITIONS.get(issue.project, {}).items()
        if target != issue.status
    ]  # fmt: skip
