"""Slack's Web API (/slack/api), as slack_sdk's WebClient speaks to it.

`WebClient(token=..., base_url=f"{sandbox}/slack/api/")` POSTs every method to
`{base_url}{method}`: `auth.test` as a form, `chat.postMessage` as JSON, both with
`Authorization: Bearer <token>`. Faithful details:
- Errors answer HTTP 200 with {"ok": false, "error": ...}, which slack_sdk raises as
  SlackApiError: `not_authed` (no token), `invalid_auth` (wrong token), `channel_not_found`
  (missing or unknown channel), `no_text`, `invalid_blocks`, `msg_too_long`.
- The token may come as a Bearer header, or as a `token` form/query parameter; a JSON body
  cannot carry it (Slack ignores a token inside JSON and answers `not_authed`).
- Form bodies carry `blocks` as a JSON string; JSON bodies as a list.
- A channel is a name (with or without "#") or a C/G/D id, answered with a stable C... id; a
  team member's user id (U...) means their DM, answered with a D... id; an unknown user id is
  `channel_not_found`.
Each posted message is appended to `world.slack_messages` (served at GET /_sandbox/slack) as
{"channel" (as sent), "channel_id", "text", "blocks", "thread_ts", "ts"}.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from email.parser import BytesParser
from email.policy import HTTP

from .http import Request, Router
from .world import World

router = Router("/slack")

BOT_TOKEN = "xoxb-sandbox-token"
TEAM_ID = "T0SANDBOX1"
TEAM_NAME = "T5G Sandbox"
BOT_USER_ID = "U0T5GBOT01"
BOT_ID = "B0T5GBOT01"
APP_ID = "A0T5GAPP01"
MAX_TEXT = 40_000

_CHANNEL_NAME = re.compile(r"^#?[a-z0-9][a-z0-9._-]{0,79}$", re.IGNORECASE)
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{8,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def params(request: Request) -> tuple[dict, bool]:
    """The call's arguments from the query and the body (JSON, form or multipart) and whether it was JSON."""
    out: dict = {k: v[-1] for k, v in request.query.items()}
    content_type = request.headers.get("content-type", "").lower()
    if not request.body:
        return out, False
    if content_type.startswith("application/json"):
        try:
            body = request.json()
        except ValueError:
            return out, True
        if isinstance(body, dict):
            out.update(body)
        return out, True
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode() + request.body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                out[name] = part.get_content() if part.get_content_maintype() == "text" else part.get_payload()
        return out, False
    out.update(request.form())
    return out, False


def authenticate(request: Request, args: dict, is_json: bool) -> dict | None:
    """None when the token is good, else the error Slack answers."""
    token = request.bearer or (None if is_json else args.get("token"))
    if not token:
        return {"ok": False, "error": "not_authed"}
    if token != BOT_TOKEN:
        return {"ok": False, "error": "invalid_auth"}
    return None


def channel_id(world: World, channel: str) -> str | None:
    """The id Slack answers for a channel argument, or None if there is no such channel."""
    if _USER_ID.match(channel):
        if not any(u.slack_id == channel for u in world.users.values()):
            return None
        return "D" + hashlib.sha1(channel.encode()).hexdigest()[:10].upper()
    if _CHANNEL_ID.match(channel):
        return channel
    if _CHANNEL_NAME.match(channel):
        return "C" + hashlib.sha1(channel.lstrip("#").lower().encode()).hexdigest()[:10].upper()
    return None


def next_ts(world: World) -> str:
    """Slack's message timestamp: epoch seconds with six decimals, unique and increasing."""
    now_us = int(time.time() * 1_000_000)
    if world.slack_messages:
        last = world.slack_messages[-1]["ts"]
        now_us = max(now_us, int(last.replace(".", "")) + 1)
    return f"{now_us // 1_000_000}.{now_us % 1_000_000:06d}"


@router.route("POST", "/api/auth.test")
@router.route("GET", "/api/auth.test")
def auth_test(request: Request, world: World):
    args, is_json = params(request)
    if denied := authenticate(request, args, is_json):
        return denied
    return {
        "ok": True,
        "url": "https://t5g-sandbox.slack.com/",
        "team": TEAM_NAME,
        "user": "t5g",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


@router.route("POST", "/api/chat.postMessage")
def post_message(request: Request, world: World):
    args, is_json = params(request)
    if denied := authenticate(request, args, is_json):
        return denied
    channel = str(args.get("channel") or "").strip()
    target = channel_id(world, channel) if channel else None
    if target is None:
        return {"ok": False, "error": "channel_not_found"}
    blocks = args.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks) if blocks.strip() else None
        except ValueError:
            return {"ok": False, "error": "invalid_blocks"}
    if blocks is not None and (not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks)):
        return {"ok": False, "error": "invalid_blocks"}
    text = args.get("text")
    text = None if text is None else str(text)
    if not text and not blocks and not args.get("attachments"):
        return {"ok": False, "error": "no_text"}
    if text and len(text) > MAX_TEXT:
        return {"ok": False, "error": "msg_too_long"}
    thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None

    ts = next_ts(world)
    world.slack_messages.append(
        {"channel": channel, "channel_id": target, "text": text, "blocks": blocks, "thread_ts": thread_ts, "ts": ts}
    )
    message = {
        "type": "message",
        "text": text or "",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "team": TEAM_ID,
        "ts": ts,
        "bot_profile": {"id": BOT_ID, "app_id": APP_ID, "name": "T5G", "team_id": TEAM_ID, "deleted": False},
    }
    if blocks:
        message["blocks"] = blocks
    if thread_ts:
        message["thread_ts"] = thread_ts
        message["parent_user_id"] = BOT_USER_ID
    return {"ok": True, "channel": target, "ts": ts, "message": message}
