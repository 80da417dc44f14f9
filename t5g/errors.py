"""T5G's error pages: 400, 403, 404 and 500 in T5G's look, and JSON errors under /api/.

The handlers (t5g/urls.py handler400 … handler500) answer when DEBUG is off, which is how `make run` runs too
(Makefile: it uses a key made once in var/ instead of DEBUG's public fallback, so a demo user never meets
Django's debug page listing every URL pattern). Under /api/ every error is JSON, DEBUG or not, from the
views, from the resolver (an unknown path) or from a decorator (405): ApiErrorsMiddleware.
"""

from __future__ import annotations

from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

from .log import request_id

API_PREFIX = "/api/"
MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "There is no page at this address.",
    405: "This method is not allowed here.",
    500: "Something went wrong on T5G's side.",
}


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def json_error(status: int, message: str = "") -> JsonResponse:
    return JsonResponse(
        {"error": message or MESSAGES.get(status) or HTTPStatus(status).phrase, "status": status}, status=status
    )


def _page(request: HttpRequest, status: int, template: str) -> HttpResponse:
    if is_api(request):
        return json_error(status)
    body = loader.render_to_string(template, {"status": status, "path": request.path}, request=request)
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 400, "400.html")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 403, "403.html")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token: most often a page left open across a sign-out or a restart."""
    if is_api(request):
        return json_error(403, "CSRF verification failed: send the form again from a freshly loaded page.")
    body = loader.render_to_string("403_csrf.html", {"status": 403}, request=request)
    return HttpResponse(body, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 404, "404.html")


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without the request's context: no context processor, no database, no session (the error may
    be any of those). The request id lets staff find the traceback in the log."""
    if is_api(request):
        return json_error(500)
    body = loader.get_template("500.html").render({"request_id": request_id.get()})
    return HttpResponse(body, status=500)


class ApiErrorsMiddleware:
    """An error under /api/ answers JSON `{"error": …, "status": …}` whatever produced it: the API's own views
    already do; an unknown path, a 405 from a decorator or Django's debug pages do not."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            is_api(request)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            headers = {name: response[name] for name in ("Allow", "WWW-Authenticate") if response.has_header(name)}
            response = json_error(status)
            for name, value in headers.items():
                response[name] = value
        return response
