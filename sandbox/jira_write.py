"""JIRA writes: the `fields` and `update` parts of create, edit and transition requests, checked as JIRA does.

`fields` sets values; `update` applies operations ({"add"|"remove"|"set": value}) to labels,
components, fixVersions, Contributors and comment. A bare value in `update` (what the jira
library sends for `issue.update(labels=[...])`) is refused with JIRA's own 400. Errors collect
per field, as JIRA's {"errorMessages": [...], "errors": {field: message}}.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .jira_render import Ctx, find_user
from .jira_schema import (
    BOT,
    CUSTOM_FIELDS,
    ISSUE_TYPES,
    PRIORITIES,
    PROJECTS,
    SEVERITY_OPTIONS,
    SPRINT_FIELD,
    stable_id,
)
from .world import Comment, JiraIssue, now

FIELD_OPERATION = (
    "Can not instantiate value of type [simple type, class com.atlassian.jira.rest.api.issue.FieldOperation] from "
    "JSON String; no single-String constructor/factory method (through reference chain: "
    'com.atlassian.jira.rest.v2.issue.IssueUpdateBean["update"])'
)
UNSET = object()
LIST_FIELDS = {"labels": "labels", "components": "components", "fixVersions": "fix_versions"}


@dataclass
class Edit:
    """What a request changes, once validated."""

    ctx: Ctx
    project: str
    issue: JiraIssue | None
    attrs: dict = field(default_factory=dict)  # JiraIssue attribute -> value
    custom: dict = field(default_factory=dict)  # custom field name -> value
    sprint: object = UNSET  # a sprint id, None to leave open sprints, or UNSET
    comments: list[str] = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.messages

    def body(self) -> dict:
        return {"errorMessages": self.messages, "errors": self.errors}

    # --- current values (for add/remove) ------------------------------------------------------------
    def current(self, attr: str) -> list:
        if attr in self.attrs:
            return list(self.attrs[attr])
        return list(getattr(self.issue, attr)) if self.issue else []

    def current_custom(self, name: str) -> list:
        if name in self.custom:
            return list(self.custom[name] or [])
        return list(self.issue.custom.get(name) or []) if self.issue else []


def parse(ctx: Ctx, project: str, issue: JiraIssue | None, fields, update, *, transition: bool = False) -> Edit:
    edit = Edit(ctx, project, issue)
    if fields is not None and not isinstance(fields, dict):
        edit.messages.append("Can not deserialize instance of java.util.LinkedHashMap out of VALUE_STRING token")
        return edit
    if update is not None and not isinstance(update, dict):
        edit.messages.append(FIELD_OPERATION)
        return edit
    for fid, value in (fields or {}).items():
        _set(edit, fid, value, transition=transition)
    for fid, ops in (update or {}).items():
        if not isinstance(ops, list) or not all(isinstance(op, dict) and len(op) == 1 for op in ops):
            edit.messages.append(FIELD_OPERATION)
            return edit
        for op in ops:
            ((verb, value),) = op.items()
            _operate(edit, fid, verb, value, transition=transition)
    return edit


def _set(edit: Edit, fid: str, value, *, transition: bool = False) -> None:
    ctx, errors = edit.ctx, edit.errors
    if fid == "summary":
        if not isinstance(value, str) or not value.strip():
            errors[fid] = "You must specify a summary of the issue."
        elif "\n" in value or "\r" in value:
            errors[fid] = "The summary is invalid because it contains newline characters."
        elif len(value) > 255:
            errors[fid] = "Summary must be less than 255 characters."
        else:
            edit.attrs["summary"] = value
    elif fid == "description":
        if value is not None and not isinstance(value, str):
            errors[fid] = "Operation value must be a string"
        else:
            edit.attrs["description"] = value or ""
    elif fid == "priority":
        name = _named(value, {pid: n for n, pid in PRIORITIES.items()})
        if name not in PRIORITIES:
            errors[fid] = "Specify a valid 'id' or 'name' for Priority"
        else:
            edit.attrs["priority"] = name
    elif fid == "issuetype":
        name = _named(value, {tid: n for n, tid in ISSUE_TYPES.items()})
        if name not in PROJECTS[edit.project]["types"]:
            errors[fid] = "Specify an issue type"
        else:
            edit.attrs["issue_type"] = name
    elif fid in ("assignee", "reporter"):
        account = _user_ref(ctx, value)
        if account is UNSET:
            errors[fid] = "Specified user does not exist or you do not have required permissions"
        elif fid == "reporter" and account is None:
            errors[fid] = "Reporter is required."
        else:
            edit.attrs[fid] = account
    elif fid == "labels":
        _labels(edit, value)
    elif fid in ("components", "fixVersions"):
        names = _names_list(edit, fid, value)
        if names is not None:
            edit.attrs[LIST_FIELDS[fid]] = names
    elif fid == "resolution" and transition:
        pass  # derived from the status
    elif fid == SPRINT_FIELD:
        _sprint(edit, value)
    elif fid in CUSTOM_FIELDS and not (edit.issue and fid in edit.issue.hidden_fields):
        _custom(edit, fid, value)
    elif fid == "project" and edit.issue is None:
        pass  # read by the create handler
    else:
        errors[fid] = f"Field '{fid}' cannot be set. It is not on the appropriate screen, or unknown."


def _operate(edit: Edit, fid: str, verb: str, value, *, transition: bool) -> None:
    if verb not in ("add", "remove", "set", "edit"):
        edit.errors[fid] = f"Operation '{verb}' is not supported for field {fid}."
        return
    if fid == "comment":
        if verb != "add" or not isinstance(value, dict) or not isinstance(value.get("body"), str):
            edit.errors[fid] = "Comment body can not be empty!"
        elif not value["body"].strip():
            edit.errors[fid] = "Comment body can not be empty!"
        else:
            edit.comments.append(value["body"])
        return
    if verb in ("set", "edit"):
        _set(edit, fid, value, transition=transition)
        return
    if fid == "labels":
        if not isinstance(value, str):
            edit.errors[fid] = "Operation value must be a string"
            return
        labels = edit.current("labels")
        labels = labels + [value] if verb == "add" and value not in labels else [x for x in labels if x != value]
        _labels(edit, labels)
    elif fid in LIST_FIELDS:
        names = _names_list(edit, fid, [value])
        if names is None:
            return
        current = edit.current(LIST_FIELDS[fid])
        edit.attrs[LIST_FIELDS[fid]] = (
            current + [n for n in names if n not in current]
            if verb == "add"
            else [n for n in current if n not in names]
        )
    elif fid == "customfield_10466":
        account = _user_ref(edit.ctx, value)
        if account in (UNSET, None):
            edit.errors[fid] = "Specified user does not exist or you do not have required permissions"
            return
        current = edit.current_custom("Contributors")
        edit.custom["Contributors"] = (
            current + [account] if verb == "add" and account not in current else [a for a in current if a != account]
        )
    else:
        edit.errors[fid] = f"Field '{fid}' cannot be set. It is not on the appropriate screen, or unknown."


# --- values ---------------------------------------------------------------------------------------------
def _named(value, by_id: dict) -> str | None:
    if isinstance(value, dict):
        if "name" in value:
            return value["name"]
        if "id" in value:
            return by_id.get(str(value["id"]))
    return None


def _user_ref(ctx: Ctx, value):
    """An account id from {"accountId"|"name"|"id"|"key"}; None clears; UNSET when unknown."""
    if value is None:
        return None
    if not isinstance(value, dict):
        return UNSET
    ref = value.get("accountId") or value.get("id") or value.get("name") or value.get("key")
    if ref in (None, "-1"):
        return None
    if find_user(ctx.world, ref):
        return ref
    by_name = next((u.account_id for u in ctx.world.users.values() if u.name == ref), None)
    if by_name:
        return by_name
    return BOT.account_id if ref == BOT.name else UNSET


def _labels(edit: Edit, value) -> None:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        edit.errors["labels"] = "Operation value must be a string"
        return
    for label in value:
        if " " in label:
            edit.errors["labels"] = f"The label '{label}' contains spaces which is invalid."
            return
        if len(label) > 255:
            edit.errors["labels"] = "The label must not exceed 255 characters."
            return
    edit.attrs["labels"] = list(dict.fromkeys(value))


def _names_list(edit: Edit, fid: str, value) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        edit.errors[fid] = f"Field '{fid}' expects a list of objects with 'name' or 'id'."
        return None
    names = []
    known = PROJECTS[edit.project]["components"] if fid == "components" else None
    for item in value:
        name = item.get("name")
        if name is None and "id" in item:
            pool = known if known is not None else edit.current("fix_versions")
            prefix = f"{edit.project}/" if fid == "components" else ""
            name = next((n for n in pool if stable_id(prefix + n, 15000 if known else 16000) == str(item["id"])), None)
            if name is None:
                edit.errors[fid] = f"{'Component' if known is not None else 'Version'} id '{item['id']}' is not valid"
                return None
        if known is not None and name not in known:
            edit.errors[fid] = f"Component name '{name}' is not valid"
            return None
        names.append(name)
    return names


def _sprint(edit: Edit, value) -> None:
    if value is None:
        edit.sprint = None
        return
    try:
        sprint_id = int(value)
    except (TypeError, ValueError):
        edit.errors[SPRINT_FIELD] = "Number value expected as the Sprint id."
        return
    sprint = edit.ctx.world.sprints.get(sprint_id)
    if sprint is None:
        edit.errors[SPRINT_FIELD] = f"Sprint with id {sprint_id} does not exist."
    elif sprint.state == "closed":
        edit.errors[SPRINT_FIELD] = "Issue can be assigned only active or future sprints."
    else:
        edit.sprint = sprint_id


def _custom(edit: Edit, fid: str, value) -> None:
    name = CUSTOM_FIELDS[fid][0]
    if fid == "customfield_10840":
        if value is None:
            edit.custom[name] = None
            return
        option = _named({"name": value["value"]} if isinstance(value, dict) and "value" in value else value,
                        {oid: n for n, oid in SEVERITY_OPTIONS.items()})  # fmt: skip
        if option not in SEVERITY_OPTIONS:
            shown = value.get("value", value.get("id")) if isinstance(value, dict) else value
            edit.errors[fid] = f"Option value '{shown}' is not valid"
        else:
            edit.custom[name] = option
    elif fid == "customfield_10470":
        account = _user_ref(edit.ctx, value)
        if account is UNSET:
            edit.errors[fid] = "Specified user does not exist or you do not have required permissions"
        else:
            edit.custom[name] = account
    elif fid == "customfield_10466":
        accounts = [_user_ref(edit.ctx, v) for v in value] if isinstance(value, list) else [UNSET]
        if value is None:
            edit.custom[name] = []
        elif UNSET in accounts or None in accounts:
            edit.errors[fid] = "Specified user does not exist or you do not have required permissions"
        else:
            edit.custom[name] = list(dict.fromkeys(accounts))
    else:  # text fields take strings
        if value is not None and not isinstance(value, str):
            edit.errors[fid] = "Operation value must be a string"
        elif fid == "customfield_11087":
            edit.custom[name] = [k.strip() for k in (value or "").split(",") if k.strip()]
        elif fid == "customfield_10979":
            edit.custom[name] = (value or "").split()
        else:
            edit.custom[name] = value or ""


# --- applying --------------------------------------------------------------------------------------------
def apply(edit: Edit, issue: JiraIssue) -> None:
    """Write a validated edit into an issue (the caller touches it)."""
    for attr, value in edit.attrs.items():
        setattr(issue, attr, value)
    issue.custom.update(edit.custom)
    if edit.sprint is not UNSET:
        sprints = edit.ctx.world.sprints
        closed = [s for s in issue.sprint_ids if s in sprints and sprints[s].state == "closed"]
        issue.sprint_ids = closed + ([edit.sprint] if edit.sprint is not None else [])
    for body in edit.comments:
        issue.comments.append(Comment(str(edit.ctx.world.next_id("comment")), BOT.account_id, body, now()))
