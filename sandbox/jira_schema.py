"""JIRA's vocabulary: projects, issue types, statuses and workflows, priorities, and the field list.

The custom fields carry the ids of Red Hat's JIRA (see jira_render.py for the shapes they render to).
"""

from __future__ import annotations

import zlib

from .world import User

# --- vocabulary ---------------------------------------------------------------------------------
BOT = User(
    account_id="712020:3f2b5c1e-7d4a-4e8b-9c6f-0a1b2c3d4e5f",
    name="t5g-bot",
    display_name="T5G Bot",
    email="t5g-bot@example.com",
)

PROJECTS = {
    "KNIECO": {
        "id": "10630",
        "name": "KNI Ecosystem",
        "types": ["Story", "Task", "Bug", "Epic", "Sub-task"],
        "components": ["KNI Labs & Field", "KNI Labs", "Ecosystem Partners"],
    },
    "OCPBUGS": {
        "id": "10020",
        "name": "OpenShift Bugs",
        "types": ["Bug", "Sub-task"],
        "components": ["Networking", "Node", "Installer", "Etcd", "Monitoring"],
    },
    "RHOCPPRIO": {
        "id": "12345",
        "name": "OpenShift Container Platform Prioritization",
        "types": ["Task", "Story"],
        "components": [],
    },
}
PROJECT_BY_ID = {p["id"]: key for key, p in PROJECTS.items()}

ISSUE_TYPES = {"Epic": "10000", "Story": "10009", "Task": "10014", "Sub-task": "10015", "Bug": "10016"}

# Status name -> status category key. Categories: (id, key, colour, name).
CATEGORIES = {
    "new": (2, "new", "blue-gray", "To Do"),
    "indeterminate": (4, "indeterminate", "yellow", "In Progress"),
    "done": (3, "done", "green", "Done"),
}
STATUSES = {
    "New": "new", "To Do": "new", "Open": "new", "Backlog": "new",
    "In Progress": "indeterminate", "Code Review": "indeterminate", "QE Review": "indeterminate",
    "Blocked": "indeterminate", "Needs Info": "indeterminate", "Assigned": "indeterminate",
    "POST": "indeterminate", "MODIFIED": "indeterminate", "ON_QA": "indeterminate", "Verified": "indeterminate",
    "Done": "done", "Closed": "done", "Won't Fix / Obsolete": "done", "Resolved": "done",
}  # fmt: skip
STATUS_IDS = {name: str(10000 + i) for i, name in enumerate(STATUSES)}
RESOLUTIONS = {"Done": "10000", "Won't Do": "10001", "Obsolete": "10002", "Duplicate": "10003"}

# Workflows: every status is reachable from every other one (global transitions), with fixed ids.
# "11" is To Do on the card project, the transition the old dashboard used to reopen a card.
WORKFLOWS = {
    "KNIECO": ["To Do", "In Progress", "Done", "New", "Open", "Code Review", "QE Review", "Blocked",
               "Needs Info", "Closed", "Won't Fix / Obsolete"],
    "OCPBUGS": ["New", "Assigned", "POST", "MODIFIED", "ON_QA", "Verified", "Closed"],
    "RHOCPPRIO": ["New", "In Progress", "Closed"],
}  # fmt: skip
TRANSITIONS = {project: {str(11 + 10 * i): s for i, s in enumerate(flow)} for project, flow in WORKFLOWS.items()}
INITIAL_STATUS = {"KNIECO": "New", "OCPBUGS": "New", "RHOCPPRIO": "New"}

PRIORITIES = {"Blocker": "1", "Critical": "2", "Major": "3", "Normal": "10200", "Minor": "4", "Undefined": "10300"}
PRIORITY_RANK = {"Blocker": 6, "Critical": 5, "Major": 4, "Normal": 3, "Minor": 2, "Undefined": 1}

SEVERITY_OPTIONS = {
    name: str(26700 + i)
    for i, name in enumerate(["Urgent", "High", "Normal", "Low", "Critical", "Important", "Moderate", "Informational"])
}

_CT = "com.atlassian.jira.plugin.system.customfieldtypes:"
_GH = "com.pyxis.greenhopper.jira:"
# Custom field id -> (name in JiraIssue.custom, schema)
CUSTOM_FIELDS = {
    "customfield_10466": ("Contributors", {"type": "array", "items": "user", "custom": _CT + "multiuserpicker"}),
    "customfield_10840": ("Severity", {"type": "option", "custom": _CT + "select"}),
    "customfield_10470": ("QA Contact", {"type": "user", "custom": _CT + "userpicker"}),
    "customfield_11087": ("Private Keywords", {"type": "string", "custom": _CT + "textfield"}),
    "customfield_10979": ("SFDC Case Links", {"type": "string", "custom": _CT + "textarea"}),
    "customfield_10020": ("Sprint", {"type": "array", "items": "json", "custom": _GH + "gh-sprint"}),
    "customfield_11004": ("Internal Whiteboard", {"type": "string", "custom": _CT + "textfield"}),
    "customfield_10783": ("Release note text", {"type": "string", "custom": _CT + "textarea"}),
}  # fmt: skip
CUSTOM_BY_NAME = {name: fid for fid, (name, _) in CUSTOM_FIELDS.items()}
SPRINT_FIELD = "customfield_10020"
TEXT_CUSTOM = {"customfield_11087", "customfield_10979", "customfield_11004", "customfield_10783"}
PROJECT_FIELDS = {
    "KNIECO": ["customfield_10466", "customfield_10840", "customfield_10979", "customfield_10020", "customfield_10783"],
    "OCPBUGS": ["customfield_10840", "customfield_10470", "customfield_11087", "customfield_11004",
                "customfield_10020", "customfield_10783", "customfield_10979"],
    "RHOCPPRIO": ["customfield_10979"],
}  # fmt: skip

# System fields: id -> (name, schema type, navigable, orderable, searchable, clause names)
SYSTEM_FIELDS = {
    "summary": ("Summary", "string", True, True, True, ["summary"]),
    "description": ("Description", "string", True, True, True, ["description"]),
    "status": ("Status", "status", True, False, True, ["status"]),
    "priority": ("Priority", "priority", True, True, True, ["priority"]),
    "assignee": ("Assignee", "user", True, True, True, ["assignee"]),
    "reporter": ("Reporter", "user", True, True, True, ["reporter"]),
    "creator": ("Creator", "user", True, False, True, ["creator"]),
    "issuetype": ("Issue Type", "issuetype", True, True, True, ["issuetype", "type"]),
    "project": ("Project", "project", True, False, True, ["project"]),
    "labels": ("Labels", "array", True, True, True, ["labels"]),
    "components": ("Components", "array", True, True, True, ["component"]),
    "fixVersions": ("Fix versions", "array", True, True, True, ["fixVersion"]),
    "versions": ("Affects versions", "array", True, True, True, ["affectedVersion"]),
    "created": ("Created", "datetime", True, False, True, ["created", "createdDate"]),
    "updated": ("Updated", "datetime", True, False, True, ["updated", "updatedDate"]),
    "resolution": ("Resolution", "resolution", True, True, True, ["resolution"]),
    "resolutiondate": ("Resolved", "datetime", True, False, True, ["resolutiondate", "resolved"]),
    "statuscategorychangedate": ("Status Category Changed", "datetime", True, False, True, []),
    "duedate": ("Due date", "date", True, True, True, ["due", "duedate"]),
    "environment": ("Environment", "string", True, True, True, ["environment"]),
    "issuelinks": ("Linked Issues", "array", True, True, False, []),
    "subtasks": ("Sub-tasks", "array", True, False, False, ["subtasks"]),
    "watches": ("Watchers", "watches", True, False, False, ["watchers"]),
    "votes": ("Votes", "votes", True, False, False, ["votes"]),
    "attachment": ("Attachment", "array", False, True, True, ["attachments"]),
    "comment": ("Comment", "comments-page", False, True, True, ["comment"]),
}
ARRAY_ITEMS = {"components": "component", "fixVersions": "version", "versions": "version",
               "issuelinks": "issuelinks", "subtasks": "issuelinks", "attachment": "attachment"}  # fmt: skip
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


def stable_id(text: str, base: int = 20000) -> str:
    return str(base + zlib.crc32(text.encode()) % 9000)


def status_category(status: str) -> str:
    return STATUSES.get(status, "indeterminate")


def field_name(fid: str) -> str:
    return CUSTOM_FIELDS[fid][0] if fid in CUSTOM_FIELDS else SYSTEM_FIELDS[fid][0]


def field_schema(fid: str) -> dict:
    if fid in CUSTOM_FIELDS:
        return {**CUSTOM_FIELDS[fid][1], "customId": int(fid.split("_")[1])}
    kind = SYSTEM_FIELDS[fid][1]
    if kind == "array":
        return {"type": "array", "items": ARRAY_ITEMS.get(fid, "string"), "system": fid}
    return {"type": kind, "system": fid}


def fields_list() -> list[dict]:
    """GET /field: system fields, then the custom ones with schema.custom/customId."""
    out = []
    for fid, (name, _, navigable, orderable, searchable, clauses) in SYSTEM_FIELDS.items():
        out.append(
            {"id": fid, "key": fid, "name": name, "custom": False, "orderable": orderable, "navigable": navigable,
             "searchable": searchable, "clauseNames": clauses, "schema": field_schema(fid)}
        )  # fmt: skip
    out.append(
        {"id": "issuekey", "key": "issuekey", "name": "Key", "custom": False, "orderable": False, "navigable": True,
         "searchable": False, "clauseNames": ["id", "issue", "issuekey", "key"]}
    )  # fmt: skip
    for fid, (name, schema) in CUSTOM_FIELDS.items():
        clauses = [f"cf[{fid.split('_')[1]}]", name, f"{name}[{schema['custom'].rsplit(':', 1)[-1]}]"]
        out.append(
            {"id": fid, "key": fid, "name": name, "untranslatedName": name, "custom": True, "orderable": True,
             "navigable": True, "searchable": True, "clauseNames": clauses, "schema": field_schema(fid)}
        )  # fmt: skip
    return out
