"""/_sandbox/: what tests, the demo and benchmarks use to read and steer the sandbox."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING

from . import idp, idp_shapes, mirror, text
from .http import Request, Router, json_response
from .jira_schema import CUSTOM_BY_NAME
from .world import World

if TYPE_CHECKING:
    from .app import App


def router(app: App) -> Router:
    """The control routes; they read the app's request counters and set its faults."""
    control = Router("/_sandbox")

    @control.route("GET", "/health")
    def health(request: Request, world: World):
        return {"ok": True, "seed": world.seed, "cases": len(world.cases)}

    @control.route("GET", "/state")
    def state(request: Request, world: World):
        return {**world.state(), "requests": app.request_counts()}

    # What a complete sync must mirror (sandbox/mirror.py): each entity's count and checksum, or with
    # ?rows=<entity> its rows, to name the keys that differ. ?since=<ISO time>: see mirror.py.
    @control.route("GET", "/mirror")
    def mirror_state(request: Request, world: World):
        try:
            since = datetime.fromisoformat(request.arg("since")) if request.arg("since") else None
        except ValueError:
            return json_response({"error": "since: expected an ISO 8601 time with its zone"}, 400)
        if since is not None and since.tzinfo is None:
            return json_response({"error": "since: expected an ISO 8601 time with its zone"}, 400)
        if entity := request.arg("rows"):
            found = mirror.rows(world, since=since)
            if entity not in found:
                return json_response({"error": f"rows: one of {sorted(found)}"}, 400)
            return {"rows": found[entity]}
        return mirror.summary(world, since=since)

    @control.route("POST", "/requests/reset")
    def reset_requests(request: Request, world: World):
        app.reset_counts()
        return {"ok": True}

    # The IdP's attribute shape (sandbox/idp_shapes.py): what the next sign-in's response carries.
    @control.route("GET", "/idp")
    def get_idp(request: Request, world: World):
        return {"shape": idp.IDP.shape, "shapes": list(idp_shapes.SHAPES)}

    @control.route("POST", "/idp")
    def set_idp(request: Request, world: World):
        body = _body(request)
        shape = body.get("shape") if isinstance(body, dict) else None
        if shape not in idp_shapes.SHAPES:
            return json_response({"error": f'expected {{"shape": ...}} with one of {list(idp_shapes.SHAPES)}'}, 400)
        idp.IDP.shape = shape
        return {"shape": shape}

    @control.route("POST", "/churn")
    def churn(request: Request, world: World):
        body = _body(request)
        count = body.get("count", 1) if isinstance(body, dict) else None
        if not isinstance(count, int) or count < 0:
            return json_response({"error": 'expected {"count": n} with n >= 0'}, 400)
        return {"changed": world.churn(count)}

    # JIRA's webhooks (sandbox/webhooks.py): the registrations and the last deliveries with their outcome.
    @control.route("GET", "/webhooks")
    def webhooks(request: Request, world: World):
        hooks = app.hooks
        return {
            "registrations": [{**asdict(r), "secret": bool(r.secret)} for r in hooks.registrations.values()],
            "delivered": list(hooks.delivered),
            "queued": hooks.outbox.qsize(),
        }

    @control.route("GET", "/faults")
    def get_faults(request: Request, world: World):
        return [asdict(f) for f in app.faults]

    @control.route("POST", "/faults")
    def set_faults(request: Request, world: World):
        try:
            app.set_faults(_body(request))
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
        return [asdict(f) for f in app.faults]

    @control.route("POST", "/cases")
    def create_case(request: Request, world: World):
        body = _body(request) or {}
        allowed = {"account", "severity", "summary", "description", "status", "product", "version", "tags"}
        if not isinstance(body, dict) or set(body) - allowed:
            return json_response({"error": f"fields must be among {sorted(allowed)}"}, 400)
        case = world.create_case(**body)
        return json_response({"number": case.number}, 201)

    @control.route("POST", "/cases/{number}/close")
    def close_case(request: Request, world: World, number: str):
        if number not in world.cases:
            return json_response({"error": f"no case {number}"}, 404)
        world.close_case(number)
        return {"number": number, "status": "Closed"}

    @control.route("POST", "/cases/{number}/reopen")
    def reopen_case(request: Request, world: World, number: str):
        if number not in world.cases:
            return json_response({"error": f"no case {number}"}, 404)
        world.reopen_case(number)
        return {"number": number, "status": world.cases[number].status}

    # What our account may read: a case restricted (the per-case endpoints answer 403) or deleted (404, and
    # gone from search), or visible again; a bug restricted (Bugzilla answers it as a fault) or visible.
    @control.route("POST", "/cases/{number}/access")
    def case_access(request: Request, world: World, number: str):
        body = _body(request)
        access = body.get("access") if isinstance(body, dict) else None
        if number not in world.cases or access not in CASE_ACCESS:
            expected = f'expected an existing case number and {{"access": one of {CASE_ACCESS}}}'
            return json_response({"error": expected}, 400)
        world.set_case_access(number, "" if access == "visible" else access)
        return {"number": number, "access": access}

    @control.route("POST", "/bugs/{bug_id}/access")
    def bug_access(request: Request, world: World, bug_id: str):
        body = _body(request)
        access = body.get("access") if isinstance(body, dict) else None
        bug = world.bugs.get(int(bug_id)) if bug_id.isdigit() else None
        if bug is None or access not in ("restricted", "visible"):
            expected = 'expected an existing bug id and {"access": "restricted" or "visible"}'
            return json_response({"error": expected}, 400)
        bug.restricted = access == "restricted"
        world.changed()
        return {"id": bug.id, "access": access}

    @control.route("POST", "/cards/{key}/status")
    def card_status(request: Request, world: World, key: str):
        body = _body(request)
        if key not in world.issues or not isinstance(body, dict) or not body.get("status"):
            return json_response({"error": 'expected an existing issue key and {"status": "..."}'}, 400)
        issue = world.set_card_status(key, body["status"])
        return {"key": issue.key, "status": issue.status}

    # Comments with any text, hostile markup included: what an upstream user could write, for tests
    # that check T5G shows it as text.
    @control.route("POST", "/cases/{number}/comments")
    def case_comment(request: Request, world: World, number: str):
        body = _body(request)
        if number not in world.cases or not _comment_body(body):
            return json_response({"error": 'expected an existing case number and {"body": "..."}'}, 400)
        comment = world.add_case_comment(
            number, body["body"], author=str(body.get("author") or ""), public=bool(body.get("public", True))
        )
        return json_response({"id": comment.id, "case": number}, 201)

    @control.route("POST", "/cards/{key}/comments")
    def card_comment(request: Request, world: World, key: str):
        body = _body(request)
        if key not in world.issues or not _comment_body(body):
            return json_response({"error": 'expected an existing issue key and {"body": "..."}'}, 400)
        comment = world.add_issue_comment(key, body["body"], author=str(body.get("author") or ""))
        return json_response({"id": comment.id, "key": key}, 201)

    # A JIRA issue whose screens lack some custom fields (by name, e.g. "Private Keywords"): the field is no longer
    # in its `fields` and writes to it are refused. {"fields": []} shows them all again.
    @control.route("POST", "/issues/{key}/hidden-fields")
    def hidden_fields(request: Request, world: World, key: str):
        body = _body(request)
        names = body.get("fields") if isinstance(body, dict) else None
        ids = [CUSTOM_BY_NAME.get(n) for n in names] if isinstance(names, list) else [None]
        if key not in world.issues or None in ids:
            known = ", ".join(CUSTOM_BY_NAME)
            return json_response(
                {"error": f'expected an existing issue key and {{"fields": [names of: {known}]}}'}, 400
            )
        issue = world.issues[key]
        issue.hidden_fields = set(ids)
        world.touch_issue(issue)
        world.changed()
        return {"key": key, "hidden": sorted(ids)}

    @control.route("POST", "/cards/{key}/comments/{comment_id}")
    def edit_card_comment(request: Request, world: World, key: str, comment_id: str):
        body = _body(request)
        if key not in world.issues or not _comment_body(body):
            return json_response({"error": 'expected an existing issue key and {"body": "..."}'}, 400)
        if world.edit_issue_comment(key, comment_id, body["body"]) is None:
            return json_response({"error": f"{key} has no comment {comment_id}"}, 404)
        return {"id": comment_id, "key": key}

    @control.route("DELETE", "/cards/{key}/comments/{comment_id}")
    def delete_card_comment(request: Request, world: World, key: str, comment_id: str):
        if key not in world.issues or world.edit_issue_comment(key, comment_id, None) is None:
            return json_response({"error": f"no comment {comment_id} on {key}"}, 404)
        return {"id": comment_id, "key": key, "deleted": True}

    # A bug's title, as its reporter edits it.
    @control.route("POST", "/bugs/{bug_id}/summary")
    def retitle_bug(request: Request, world: World, bug_id: str):
        body = _body(request)
        summary = body.get("summary") if isinstance(body, dict) else None
        if not bug_id.isdigit() or int(bug_id) not in world.bugs or not isinstance(summary, str) or not summary:
            return json_response({"error": 'expected an existing bug id and {"summary": "..."}'}, 400)
        bug = world.retitle_bug(int(bug_id), summary)
        return {"id": bug.id, "summary": bug.summary}

    # The old dashboard's `sla_settings` (predecessor.md §4.6) for the demo: its biggest accounts are SLA partners.
    @control.route("GET", "/sla")
    def sla(request: Request, world: World):
        return {"days": {"Urgent": 14, "High": 20, "Normal": 90, "Low": 180}, "partners": text.BIG_ACCOUNTS[:3]}

    @control.route("GET", "/team")
    def team(request: Request, world: World):
        return [
            {
                "name": u.display_name,
                "jira_user": u.name,
                "jira_account_id": u.account_id,
                "email": u.email,
                "slack_id": u.slack_id,
                "accounts": u.accounts,
                "active": u.active,
            }
            for u in world.users.values()
            if u.slack_id
        ]

    @control.route("GET", "/slack")
    def slack_messages(request: Request, world: World):
        return world.slack_messages

    @control.route("GET", "/notified")
    def notified(request: Request, world: World):
        return [{"case": case, "user": user} for case, user in world.notified]

    return control


CASE_ACCESS = ("restricted", "deleted", "visible")


def _comment_body(body) -> bool:
    return isinstance(body, dict) and isinstance(body.get("body"), str) and bool(body["body"])


def _body(request: Request):
    try:
        return request.json()
    except ValueError:
        return None
