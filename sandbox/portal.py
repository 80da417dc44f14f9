"""The SSO token endpoint and the support portal's REST API ("hydra").

SSO trades the offline token for a short-lived bearer token; every portal call
needs a live one and answers 401 otherwise, as the real services do.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime

from . import solr
from .http import Request, Response, Router, json_response
from .world import SEVERITY_NAMES, Case, World

SEARCH_CAP = 9999  # the portal never returns a result past this position
OFFLINE_TOKEN = "sandbox-offline-token"
TOKEN_TTL = 300  # seconds; the real SSO hands out 5-15 minute tokens
BUGZILLA_SHOW = "https://bugzilla.redhat.com/show_bug.cgi?id={}"
JIRA_BROWSE = "https://issues.redhat.com/browse/{}"

sso = Router("/sso/auth/realms/redhat-external/protocol/openid-connect")
portal = Router("/portal/hydra/rest")


def iso(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


@sso.route("POST", "/token")
def token(request: Request, world: World):
    form = request.form()
    if form.get("grant_type") != "refresh_token" or not form.get("client_id"):
        return json_response({"error": "invalid_request", "error_description": "Missing form parameter"}, 400)
    if form.get("refresh_token") != OFFLINE_TOKEN:
        return json_response({"error": "invalid_grant", "error_description": "Invalid refresh token"}, 400)
    now = time.time()
    world.tokens = {t: exp for t, exp in world.tokens.items() if exp > now}
    access = secrets.token_urlsafe(32)
    world.tokens[access] = now + TOKEN_TTL
    return {
        "access_token": access,
        "expires_in": TOKEN_TTL,
        "refresh_expires_in": 0,
        "token_type": "Bearer",
        "not-before-policy": 0,
        "scope": "openid offline_access",
    }


def _unauthorised(request: Request, world: World):
    token = request.bearer
    if token and world.tokens.get(token, 0) > time.time():
        return None
    return json_response(
        {"error": "invalid_token", "error_description": "Token verification failed"},
        401,
        {"WWW-Authenticate": 'Bearer realm="redhat-external", error="invalid_token"'},
    )


# --- search -------------------------------------------------------------------------------
_indexes: dict[int, tuple[solr.Index, int]] = {}  # id(world) -> (index, case changes applied)


def search_doc(case: Case) -> dict:
    doc = {
        "case_number": case.number,
        "case_account_name": case.account,
        "case_accountNumber": case.account_number,
        "case_summary": case.summary,
        "case_status": case.status,
        "case_owner": case.owner,
        "case_severity": f"{case.severity} ({SEVERITY_NAMES.get(case.severity, 'Unknown')})",
        "case_createdDate": iso(case.created),
        "case_lastModifiedDate": iso(case.modified),
        "case_description": case.description,
        "case_tags": case.tags,
        "case_product": [case.product],
        "case_version": case.version,
    }
    if case.closed:
        doc["case_closedDate"] = iso(case.closed)
    if case.bugzillas:
        doc["case_bugzillaNumber"] = str(case.bugzillas[0])
    return doc


def warm(world: World) -> None:
    """Build the index and the term and order T5G's default queries use, before "ready"."""
    index_of(world).search(
        "case_tags:*shift_telco5g* AND case_lastModifiedDate:[* TO *]",
        sort=[("case_lastModifiedDate", False), ("case_number", False)], start=0, rows=1, cap=SEARCH_CAP,
    )  # fmt: skip


def index_of(world: World) -> solr.Index:
    """The search index, brought up to date with the cases changed since it was last used."""
    if id(world) not in _indexes:
        docs = [search_doc(c) for c in world.cases.values() if c.access != "deleted"]
        _indexes[id(world)] = (solr.Index(docs, "case_number"), 0)
    index, applied = _indexes[id(world)]
    for number in dict.fromkeys(world.case_changes[applied:]):
        case = world.cases[number]
        if case.access == "deleted":
            index.remove(number)
        else:
            index.upsert(search_doc(case))
    _indexes[id(world)] = (index, len(world.case_changes))
    return index


@portal.route("GET", "/search/cases")
def search_cases(request: Request, world: World):
    if denied := _unauthorised(request, world):
        return denied
    try:
        rows = int(request.arg("rows", "10"))
        start = int(request.arg("start", "0"))
        if rows < 0 or start < 0:
            raise ValueError("rows and start must not be negative")
        sort = solr.parse_sort(request.arg("sort"))
        found, docs = index_of(world).search(request.arg("q", "*:*"), sort=sort, start=start, rows=rows, cap=SEARCH_CAP)
    except ValueError as exc:  # QueryError is a ValueError
        return json_response({"error": {"msg": str(exc), "code": 400}}, 400)
    fields = [f for f in (request.arg("fl") or "").replace(" ", ",").split(",") if f]
    if fields:
        docs = [{k: d[k] for k in fields if k in d} for d in docs]
    return {"responseHeader": {"status": 0, "params": {"q": request.arg("q"), "start": str(start), "rows": str(rows)}},
            "response": {"numFound": found, "start": start, "docs": docs}}  # fmt: skip


# --- one case ----------------------------------------------------------------------------------
def _case(world: World, number: str) -> Case | Response:
    """The case, or the portal's answer for one our account cannot read: 404 for an unknown or deleted
    case, 403 for a restricted one (the search still lists it: the index is not filtered by access)."""
    case = world.cases.get(number)
    if case is None or case.access == "deleted":
        return json_response({"message": f"Case {number} not found"}, 404)
    if case.access == "restricted":
        return json_response({"message": f"You are not authorized to access case {number}"}, 403)
    return case


@portal.route("GET", "/v1/cases/{number}")
def case_detail(request: Request, world: World, number: str):
    if denied := _unauthorised(request, world):
        return denied
    case = _case(world, number)
    if isinstance(case, Response):
        return case
    bugs = [world.bugs[b] for b in case.bugzillas if b in world.bugs]
    out = {
        "caseNumber": case.number,
        "summary": case.summary,
        "status": case.status,
        "severity": f"{case.severity} ({SEVERITY_NAMES.get(case.severity, 'Unknown')})",
        "accountNumber": case.account_number,
        "accountName": case.account,
        "product": case.product,
        "version": case.version,
        "createdDate": iso(case.created),
        "lastModifiedDate": iso(case.modified),
        "closedDate": iso(case.closed),
        "critSit": case.crit_sit,
        "groupName": case.group_name or None,
        "notifiedUsers": [{"ssoUsername": u} for u in case.notified_users],
        "reliefAt": iso(case.relief_at),
        "resolvedAt": iso(case.resolved_at),
        "bugzillas": [
            {
                "bugzillaNumber": str(b.id),
                "bugzillaLink": BUGZILLA_SHOW.format(b.id),
                "summary": "" if b.restricted else b.summary,
                "status": b.status,
                "linkedAt": iso(case.created),
            }
            for b in bugs
        ],
        "comments": [
            {
                "id": c.id,
                "createdBy": c.author,
                "commentBody": c.body,
                "createdDate": iso(c.created),
                "lastModifiedDate": iso(c.created),
                "isPublic": c.public,
            }
            for c in case.comments
        ],
    }
    return out


@portal.route("GET", "/cases/{number}/jiras")
def case_jiras(request: Request, world: World, number: str):
    if denied := _unauthorised(request, world):
        return denied
    case = _case(world, number)
    if isinstance(case, Response):
        return case
    out = []
    for key in case.jiras:
        issue = world.issues.get(key)
        if issue:
            out.append(
                {
                    "resourceKey": issue.key,
                    "resourceURL": JIRA_BROWSE.format(issue.key),
                    "title": issue.summary,
                    "status": issue.status,
                    "created": iso(issue.created),
                    "lastModifiedDate": iso(issue.updated),
                }
            )
    return out


@portal.route("POST", "/v1/cases/{number}/notifiedusers")
def add_notified_users(request: Request, world: World, number: str):
    if denied := _unauthorised(request, world):
        return denied
    case = _case(world, number)
    if isinstance(case, Response):
        return case
    try:
        users = [u["ssoUsername"] for u in request.json()["user"]]
    except (ValueError, KeyError, TypeError):
        return json_response({"message": 'expected {"user": [{"ssoUsername": "..."}]}'}, 400)
    for user in users:
        if user not in case.notified_users:
            case.notified_users.append(user)
        world.notified.append((number, user))
    world.touch_case(case)
    return json_response({}, 201)
