"""Red Hat Bugzilla's REST API (/bugzilla/rest), as python-bugzilla 3.3.0 speaks to it.

What the client sends (read from its source): the constructor asks only `GET /rest/version`;
`getbugs([...])` sends `GET /rest/bug?id=1&id=2&permissive=1&include_fields=...`, one id goes
to `GET /rest/bug/{id}` (not permissive); `update_bugs` sends `PUT /rest/bug/{id}` with a JSON
body that repeats the ids; `get_comments` sends `GET /rest/bug/{id}/comment`; `logged_in`
sends `GET /rest/user?ids=1`; `query` sends `GET /rest/bug` with search terms.

The client's mode depends only on whether ".redhat.com" is in the URL (not on the class:
`RHBugzilla(url=...)` against another host is a plain Bugzilla in 3.3.0). Plain mode sends the
key as the `Bugzilla_api_key` query parameter and leaves list-valued fields as lists; Red Hat
mode (production's https://bugzilla.redhat.com/rest) sends `Authorization: Bearer`, asks for
`extra_fields`, accepts `build_update(internal_whiteboard=...)` and turns `component`/`version`
into strings. Both are served: `{sandbox}/bugzilla/rest` for plain mode, and the same API under
`{sandbox}/bugzilla/.redhat.com/rest` for Red Hat mode.

Faithful details:
- Errors are {"error": true, "code", "message", "documentation"} with the HTTP status of
  Bugzilla's REST_STATUS_CODE_MAP: 101 -> 404, 102 / 410 / 505 -> 401, the rest (306 too) -> 400.
- No API key means anonymous, as on the real server: public bugs read fine, restricted ones
  answer 102, writes answer 410. A wrong key answers 306 everywhere except `/version`, which
  Bugzilla exempts from login (so the constructor succeeds and the first real call fails).
- `GET /rest/bug?id=...` answers as Bug.get: `permissive=1` turns per-bug errors into `faults`
  ({id, faultString, faultCode}); without it the first inaccessible or unknown bug fails the
  whole request. (Upstream routes it to Bug.search, which drops such bugs silently; to
  python-bugzilla, which discards faults, the two look the same.) Without ids it is a search.
- Red Hat's shapes: `component`, `version` and `target_release` are lists, custom fields are
  `cf_*` (`cf_internal_whiteboard`), `comments`/`description`/`flags`/`external_bugs`/
  `sub_components`/`tags` come only when asked for (include_fields, extra_fields, `_all`).
- Every bug has comment 0, its description, as real bugs do; it is derived from the bug
  rather than stored. Comments added through PUT are stored on the bug.
"""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime

from . import text
from .http import Request, Response, Router, json_response
from .world import Bug, Comment, World

router = Router("/bugzilla")
ROOTS = ("/rest", "/.redhat.com/rest")  # plain mode, Red Hat mode (see above)

API_KEY = "sandbox-bugzilla-key"
API_USER = "t5g-sandbox@redhat.com"
VERSION = "5.0.4.rh96"
DOCS = "https://bugzilla.redhat.com/docs/en/html/api/index.html"

# Bugzilla's REST_STATUS_CODE_MAP (Bugzilla/WebService/Constants.pm); anything else is 400.
REST_STATUS = {51: 404, 101: 404, 102: 401, 106: 401, 109: 401, 110: 401, 113: 401, 115: 401, 120: 401,
               300: 401, 301: 401, 302: 401, 303: 401, 304: 401, 410: 401, 504: 401, 505: 401, 32614: 404}  # fmt: skip

OPEN_STATUSES = ["NEW", "ASSIGNED", "POST", "MODIFIED", "ON_DEV", "ON_QA", "VERIFIED", "RELEASE_PENDING"]
STATUSES = [*OPEN_STATUSES, "CLOSED"]
RESOLUTIONS = ["NOTABUG", "WONTFIX", "DEFERRED", "WORKSFORME", "CURRENTRELEASE", "RAWHIDE", "ERRATA", "UPSTREAM",
               "NEXTRELEASE", "CANTFIX", "INSUFFICIENT_DATA", "EOL", "DUPLICATE", "MIGRATED"]  # fmt: skip
LEVELS = ["urgent", "high", "medium", "low", "unspecified"]  # severity and priority

# Fields Bug.get returns only when asked for by name, `_extra`/`_all` or RH's `extra_fields`.
EXTRA_FIELDS = {"comments", "description", "external_bugs", "flags", "sub_components", "tags"}


class BugzillaError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def error(code: int, message: str) -> Response:
    body = {"error": True, "code": code, "message": message, "documentation": DOCS}
    return json_response(body, REST_STATUS.get(code, 400))


def iso(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


# --- authentication ------------------------------------------------------------------------
def login(request: Request) -> str | None:
    """The user the request authenticates as: None for anonymous; raises 306 for a wrong key."""
    key = (
        request.arg("Bugzilla_api_key")
        or request.arg("api_key")
        or request.headers.get("x-bugzilla-api-key")
        or request.bearer
    )
    if not key:
        return None
    if key != API_KEY:
        raise BugzillaError(306, "The API key you specified is invalid. Please check that you typed it correctly.")
    return API_USER


def handler(fn):
    """Run a handler with Bugzilla's error handling: a BugzillaError becomes its error response."""

    def run(request: Request, world: World, **params):
        try:
            return fn(request, world, **params)
        except BugzillaError as exc:
            return error(exc.code, exc.message)

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def route(method: str, path: str):
    """Register a REST handler under both roots, with Bugzilla's error handling."""

    def register(fn):
        wrapped = handler(fn)
        for root in ROOTS:
            router.route(method, root + path)(wrapped)
        return fn

    return register


def is_number(raw: str) -> bool:
    return raw.isascii() and raw.isdigit()


def check_bug(world: World, raw_id, user: str | None) -> Bug:
    """Bugzilla::Bug->check: the bug, or the error a caller may see for that id."""
    raw = str(raw_id).strip()
    if not is_number(raw):
        raise BugzillaError(100, f"'{raw}' is not a valid bug number nor an alias to a bug.")
    bug = world.bugs.get(int(raw))
    if bug is None:
        raise BugzillaError(101, f"Bug #{int(raw)} does not exist.")
    if bug.restricted:
        message = f"You are not authorized to access bug #{bug.id}."
        if user is None:
            message += " To see this bug, you must first log in to an account with the appropriate permissions."
        raise BugzillaError(102, message)
    return bug


# --- rendering --------------------------------------------------------------------------------
def user_id(email: str) -> int:
    return 100_000 + zlib.crc32(email.encode()) % 900_000


def user_detail(email: str) -> dict:
    local = email.split("@", 1)[0]
    real_name = "T5G Sandbox" if email == API_USER else f"{local[0].upper()}. {local[1:].capitalize()}"
    return {"id": user_id(email), "name": email, "email": email, "real_name": real_name, "active": True}


def creator_of(bug: Bug) -> str:
    return f"{text.ENGINEERS[bug.id % len(text.ENGINEERS)]}@redhat.com"


def version_of(bug: Bug) -> str:
    match = re.match(r"(\d+\.\d+)", bug.target_release)
    return match.group(1) if match else f"4.{14 + bug.id % 5}"


def comments_of(bug: Bug) -> list[dict]:
    """Comment 0 (the description, derived) and the comments stored on the bug."""
    description = (
        f"Description of problem:\n{bug.summary}\n\n"
        f"Version-Release number of selected component (if applicable):\n{version_of(bug)}\n\n"
        "How reproducible:\nAlways\n\nActual results:\nSee summary.\n\nExpected results:\nNo failure."
    )
    rows = [(bug.id * 10, creator_of(bug), description, bug.created, False)]
    rows += [(int(c.id), c.author, c.body, c.created, not c.public) for c in bug.comments]
    return [
        {
            "id": comment_id,
            "bug_id": bug.id,
            "attachment_id": None,
            "count": count,
            "text": body,
            "creator": author,
            "creator_id": user_id(author),
            "time": iso(created),
            "creation_time": iso(created),
            "is_private": private,
            "tags": [],
        }
        for count, (comment_id, author, body, created, private) in enumerate(rows)
    ]


def _sub_component(bug: Bug) -> str:
    return {"Networking": "ovn-kubernetes", "Node": "Kubelet", "Installer": "openshift-installer",
            "Etcd": "etcd", "Monitoring": "prometheus"}.get(bug.component, "")  # fmt: skip


# Every field Bug.get can return, by name: the default ones and the extra ones.
FIELDS = {
    "id": lambda b: b.id,
    "alias": lambda b: [],
    "summary": lambda b: b.summary,
    "status": lambda b: b.status,
    "resolution": lambda b: b.resolution,
    "is_open": lambda b: b.status != "CLOSED",
    "is_confirmed": lambda b: True,
    "severity": lambda b: b.severity,
    "priority": lambda b: b.priority,
    "classification": lambda b: "Red Hat",
    "product": lambda b: b.product,
    "component": lambda b: [b.component],
    "version": lambda b: [version_of(b)],
    "target_release": lambda b: [b.target_release],
    "target_milestone": lambda b: "---",
    "assigned_to": lambda b: b.assigned_to,
    "assigned_to_detail": lambda b: user_detail(b.assigned_to),
    "qa_contact": lambda b: b.qa_contact,
    "qa_contact_detail": lambda b: user_detail(b.qa_contact),
    "docs_contact": lambda b: "",
    "creator": creator_of,
    "creator_detail": lambda b: user_detail(creator_of(b)),
    "cc": lambda b: [b.assigned_to],
    "cc_detail": lambda b: [user_detail(b.assigned_to)],
    "creation_time": lambda b: iso(b.created),
    "last_change_time": lambda b: iso(b.last_change),
    "cf_last_closed": lambda b: iso(b.last_change) if b.status == "CLOSED" else None,
    "cf_internal_whiteboard": lambda b: b.internal_whiteboard,
    "cf_devel_whiteboard": lambda b: "",
    "cf_qa_whiteboard": lambda b: "",
    "cf_fixed_in": lambda b: "",
    "cf_doc_type": lambda b: "If docs needed, set a value",
    "cf_release_notes": lambda b: "",
    "cf_environment": lambda b: "",
    "cf_clone_of": lambda b: None,
    "cf_pm_score": lambda b: "0",
    "whiteboard": lambda b: "",
    "keywords": lambda b: [],
    "blocks": lambda b: [],
    "depends_on": lambda b: [],
    "dupe_of": lambda b: None,
    "see_also": lambda b: [],
    "groups": lambda b: [],
    "url": lambda b: "",
    "op_sys": lambda b: "Unspecified",
    "platform": lambda b: "Unspecified",
    "deadline": lambda b: None,
    "is_cc_accessible": lambda b: True,
    "is_creator_accessible": lambda b: True,
    # extra fields
    "comments": comments_of,
    "description": lambda b: comments_of(b)[0]["text"],
    "external_bugs": lambda b: [],
    "flags": lambda b: [],
    "sub_components": lambda b: {b.component: [_sub_component(b)]} if _sub_component(b) else {},
    "tags": lambda b: [],
}
DEFAULT_FIELDS = [name for name in FIELDS if name not in EXTRA_FIELDS]
CUSTOM_FIELDS = [name for name in FIELDS if name.startswith("cf_")]


def _names(request: Request, param: str, separator: str = r"[\s,]+") -> list[str]:
    """A list parameter: repeated, or separated as REST allows (fields by commas or spaces, ids by commas)."""
    return [name for value in request.args(param) for name in re.split(separator, value) if name.strip()]


def wanted_fields(request: Request) -> list[str]:
    """Bugzilla's filter_wants: include_fields (with _default/_all/_extra/_custom), exclude_fields,
    and Red Hat's extra_fields, which add to the default set but not to an explicit include list."""
    include = _names(request, "include_fields")
    exclude = set(_names(request, "exclude_fields"))
    extra = [name for name in _names(request, "extra_fields") if name in FIELDS]
    if include:
        chosen = {name for name in include if name in FIELDS}
        if "_default" in include:
            chosen.update(DEFAULT_FIELDS, extra)
        if "_all" in include:
            chosen.update(FIELDS)
        if "_extra" in include:
            chosen.update(EXTRA_FIELDS)
        if "_custom" in include:
            chosen.update(CUSTOM_FIELDS)
    else:
        chosen = {*DEFAULT_FIELDS, *extra}
    return [name for name in FIELDS if name in chosen and name not in exclude]


def render(bug: Bug, fields: list[str]) -> dict:
    return {name: FIELDS[name](bug) for name in fields}


def truthy(value: str | None) -> bool:
    return value not in (None, "", "0")  # Perl truth: "false" is true


# --- Bugzilla.* ---------------------------------------------------------------------------------
@route("GET", "/version")
def version(request: Request, world: World):
    return {"version": VERSION}  # login-exempt: a wrong key does not fail here


@route("GET", "/extensions")
def extensions(request: Request, world: World):
    login(request)
    return {"extensions": {name: {"version": "1.0"} for name in ("RedHat", "ExternalBugs", "RuleEngine", "AgileTools")}}


@route("GET", "/user")
def users(request: Request, world: World):
    user = login(request)
    ids, names = _names(request, "ids", ","), _names(request, "names", ",")
    if ids and user is None:
        raise BugzillaError(
            505, 'Logged-out users cannot use the "ids" argument to this function to access any user information.'
        )
    known = {API_USER, *(f"{e}@redhat.com" for e in text.ENGINEERS)}
    by_id = {user_id(email): email for email in known} | {1: "bugzilla-admin@redhat.com"}
    found = []
    for raw in ids:
        if is_number(raw) and int(raw) in by_id:
            found.append(by_id[int(raw)])
    for name in names:
        if name not in known:
            raise BugzillaError(
                51,
                f"There is no user named '{name}'. Either you mis-typed the name or that user has not yet "
                "registered for a Bugzilla account.",
            )
        found.append(name)
    return {"users": [{**user_detail(email), "can_login": True} for email in dict.fromkeys(found)]}


# --- Bug.get / Bug.search -------------------------------------------------------------------------
def get_bugs(request: Request, world: World, ids: list[str], user: str | None) -> dict:
    fields = wanted_fields(request)
    permissive = truthy(request.arg("permissive"))
    bugs, faults = [], []
    for raw in dict.fromkeys(ids):
        try:
            bugs.append(render(check_bug(world, raw, user), fields))
        except BugzillaError as exc:
            if not permissive:
                raise
            fault_id = int(raw) if is_number(raw.strip()) else raw
            faults.append({"id": fault_id, "faultString": exc.message, "faultCode": exc.code})
    return {"bugs": bugs, "faults": faults}


SEARCH_FIELDS = ["product", "component", "status", "resolution", "severity", "priority", "assigned_to",
                 "qa_contact", "target_release"]  # fmt: skip


def _parse_time(raw: str) -> datetime:
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BugzillaError(56, f"'{raw}' is not a legal date.") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# Search takes the API's field names and also the database's, as python-bugzilla's build_query sends them.
SEARCH_ALIASES = {"bug_status": "status", "bug_severity": "severity", "short_desc": "summary", "bug_id": "id",
                  "delta_ts": "last_change_time", "creation_ts": "creation_time"}  # fmt: skip


def search_args(request: Request) -> dict[str, list[str]]:
    args: dict[str, list[str]] = {}
    for name, values in request.query.items():
        args.setdefault(SEARCH_ALIASES.get(name, name), []).extend(v for v in values if v != "")
    return args


def search_bugs(request: Request, world: World) -> dict:
    """Bug.search over the fields T5G might filter on (exact values; substrings for summary and the
    internal whiteboard; `last_change_time`/`creation_time` mean "at or after"). Inaccessible bugs are
    left out silently, as the real search does."""
    args = search_args(request)
    criteria = {name: set(args[name]) for name in SEARCH_FIELDS if args.get(name)}
    changed_since = (args.get("last_change_time") or [None])[-1]
    created_since = (args.get("creation_time") or [None])[-1]
    whiteboard = (args.get("cf_internal_whiteboard") or [None])[-1]
    summary = (args.get("summary") or [None])[-1]
    if not (criteria or changed_since or created_since or whiteboard or summary):
        raise BugzillaError(1000, "You may not search, or create saved searches, without any search terms.")
    changed_since = _parse_time(changed_since) if changed_since else None
    created_since = _parse_time(created_since) if created_since else None
    fields = wanted_fields(request)
    found = []
    for bug in sorted(world.bugs.values(), key=lambda b: b.id):
        if bug.restricted:
            continue
        if any(getattr(bug, name) not in values for name, values in criteria.items()):
            continue
        if changed_since and bug.last_change < changed_since:
            continue
        if created_since and bug.created < created_since:
            continue
        if whiteboard and whiteboard not in bug.internal_whiteboard:
            continue
        if summary and summary.lower() not in bug.summary.lower():
            continue
        found.append(bug)
    offset, limit = (request.arg(name) or "0" for name in ("offset", "limit"))
    if not (is_number(offset) and is_number(limit)):
        raise BugzillaError(52, "Invalid integer value for 'limit' or 'offset'.")
    offset, limit = int(offset), int(limit)
    found = found[offset : offset + limit] if limit else found[offset:]
    return {"bugs": [render(bug, fields) for bug in found]}


@route("GET", "/bug")
def bug_list(request: Request, world: World):
    user = login(request)
    values = search_args(request).get("id", []) + request.args("alias")
    ids = [i for value in values for i in value.split(",") if i.strip()]
    if ids:
        return get_bugs(request, world, ids, user)
    return search_bugs(request, world)


@route("GET", "/bug/{id}")
def bug_get(request: Request, world: World, id: str):  # noqa: A002 - the path parameter's name
    user = login(request)
    return get_bugs(request, world, [id, *_names(request, "ids", ",")], user)


# --- Bug.comments -----------------------------------------------------------------------------------
@route("GET", "/bug/{id}/comment")
def bug_comments(request: Request, world: World, id: str):  # noqa: A002
    user = login(request)
    bug = check_bug(world, id, user)
    comments = comments_of(bug)
    if since := request.arg("new_since"):
        limit = iso(_parse_time(since))
        comments = [c for c in comments if c["creation_time"] >= limit]
    return {"bugs": {str(bug.id): {"comments": comments}}, "comments": {}}


# --- Bug.update -------------------------------------------------------------------------------------
def _one(value) -> str:
    """Red Hat takes list-valued fields (component, target_release) as a string or a list."""
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value)


def _plan(bug: Bug, params: dict) -> dict[str, tuple[str, str]]:
    """Validate an update for one bug: {attribute: (old, new)} for what really changes."""
    new: dict[str, str] = {}
    for field, attr in (("summary", "summary"), ("assigned_to", "assigned_to"), ("qa_contact", "qa_contact"),
                        ("cf_internal_whiteboard", "internal_whiteboard")):  # fmt: skip
        if field in params:
            new[attr] = str(params[field] if params[field] is not None else "")
    for field in ("component", "target_release"):
        if field in params:
            new[field] = _one(params[field])
    for field in ("severity", "priority"):
        if field in params:
            if params[field] not in LEVELS:
                raise BugzillaError(51, f"There is no {field} called '{params[field]}'.")
            new[field] = params[field]
    if "summary" in new and not new["summary"].strip():
        raise BugzillaError(107, "You must enter a summary for this bug.")
    if "status" in params:
        if params["status"] not in STATUSES:
            raise BugzillaError(51, f"There is no status called '{params['status']}'.")
        new["status"] = params["status"]
    status = new.get("status", bug.status)
    if "resolution" in params:
        resolution = params["resolution"] or ""
        if resolution and resolution not in RESOLUTIONS:
            raise BugzillaError(51, f"There is no resolution called '{resolution}'.")
        if resolution and status != "CLOSED":
            raise BugzillaError(122, f"You cannot set a resolution for bugs that are {status}.")
        new["resolution"] = resolution
    if status == "CLOSED" and not new.get("resolution", bug.resolution):
        raise BugzillaError(121, "You must specify a resolution when changing the status of a bug to CLOSED.")
    if status != "CLOSED" and bug.resolution and "resolution" not in new:
        new["resolution"] = ""  # reopening clears the resolution
    return {attr: (getattr(bug, attr), value) for attr, value in new.items() if getattr(bug, attr) != value}


# The bug attribute -> the field name Bugzilla reports the change under.
CHANGE_NAMES = {"internal_whiteboard": "cf_internal_whiteboard"}


@route("PUT", "/bug/{id}")
def bug_update(request: Request, world: World, id: str):  # noqa: A002
    user = login(request)
    if user is None:
        raise BugzillaError(410, "You must log in before using this part of Bugzilla.")
    try:
        params = request.json()
    except ValueError as exc:
        raise BugzillaError(32000, f"Could not parse the JSON body: {exc}") from None
    if not isinstance(params, dict):
        raise BugzillaError(32000, "The request body must be a JSON object.")
    body_ids = params.get("ids", [])
    ids = [id, *(body_ids if isinstance(body_ids, list) else [body_ids])]
    bugs = [check_bug(world, raw, user) for raw in dict.fromkeys(str(i) for i in ids)]
    comment = params.get("comment") or {}
    if not isinstance(comment, dict):
        raise BugzillaError(32000, "comment must be an object with a body.")
    comment_text = str(comment.get("body", comment.get("comment", "")) or "")
    if len(comment_text) > 65535:
        raise BugzillaError(114, "Comments cannot be longer than 65,535 characters.")
    plans = [(bug, _plan(bug, params)) for bug in bugs]  # validate everything before changing anything

    results = []
    for bug, plan in plans:
        for attr, (_, value) in plan.items():
            setattr(bug, attr, value)
        if plan or comment_text.strip():
            world.touch_bug(bug)
        if comment_text.strip():
            private = bool(comment.get("is_private"))
            bug.comments.append(
                Comment(str(world.next_id("comment")), user, comment_text, bug.last_change, public=not private)
            )
        changes = {
            CHANGE_NAMES.get(attr, attr): {"removed": old, "added": value} for attr, (old, value) in plan.items()
        }
        results.append({"id": bug.id, "alias": [], "last_change_time": iso(bug.last_change), "changes": changes})
    return {"bugs": results}
