"""A small HTTP layer for the sandbox: requests, responses, routers, the threaded server.

The stdlib server is enough: the sandbox serves one process's clients on loopback,
and each handler runs under the world lock, so the GIL is never the bottleneck.
Keep-alive (HTTP/1.1) matters: the real clients keep sessions open.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    search_lag: float = 0.0  # seconds of recent changes a search here does not see yet (the search_lag fault)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        return self.query.get(name, [])

    def json(self):
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    @property
    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    data: object = None  # the JSON value before encoding, for the truncate fault
    close: bool = False  # drop the connection without answering (the hang fault)
    length: int | None = None  # a Content-Length promising more than the body: the connection drops mid-answer


def json_response(data, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(data, ensure_ascii=False).encode(), headers=headers or {}, data=data)


def html_response(html: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, html.encode(), "text/html; charset=utf-8", headers or {})


def redirect(location: str, status: int = 302) -> Response:
    return Response(status, b"", "text/plain", {"Location": location})


Handler = Callable[..., Response | dict | list]


@dataclass
class Route:
    method: str
    template: str  # e.g. "/jira/rest/api/2/issue/{key}", also the request counter's label
    regex: re.Pattern
    handler: Handler


class Router:
    """Routes of one upstream. Handlers take (request, world, **path_params)."""

    def __init__(self, prefix: str = ""):
        self.prefix = prefix
        self.routes: list[Route] = []

    def route(self, method: str, pattern: str):
        template = self.prefix + pattern
        regex, pos = "", 0
        for m in re.finditer(r"\{(\w+)\}", template):
            regex += re.escape(template[pos : m.start()]) + f"(?P<{m.group(1)}>[^/]+)"
            pos = m.end()
        regex = re.compile(f"^{regex}{re.escape(template[pos:])}/?$")

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, template, regex, handler))
            return handler

        return register


def parse_request(handler: BaseHTTPRequestHandler) -> Request:
    parts = urlsplit(handler.path)
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else b""
    return Request(
        method=handler.command,
        path=parts.path,
        query=parse_qs(parts.query, keep_blank_values=True),
        headers={k.lower(): v for k, v in handler.headers.items()},
        body=body,
    )


def make_server(port: int, dispatch: Callable[[Request], Response], host: str = "127.0.0.1") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without this, Nagle plus delayed ACK
        # adds ~40 ms to every keep-alive response.
        disable_nagle_algorithm = True

        def _serve(self):
            response = dispatch(parse_request(self))
            if response.close:
                self.close_connection = True
                return
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(response.length or len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
            if response.length is not None:
                self.close_connection = True  # the rest never comes

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
            pass  # the request counters are the sandbox's log

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
