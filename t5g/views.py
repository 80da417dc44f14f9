"""The refresh button: start a sync of every source (or attach to the one running) and follow its progress;
and the favicon."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from .models import Refresh
from .sync.refresh import checked, start_refresh


@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    """Start a background sync of every source, or attach to the one running."""
    refresh, _ = start_refresh(user=request.user)
    if request.headers.get("HX-Request"):
        return render(request, "t5g/refresh.html", {"refresh": refresh})
    if request.accepts("application/json") and not request.accepts("text/html"):
        return JsonResponse(_refresh_json(refresh), status=202, headers={"Location": refresh_url(refresh)})
    nxt = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return redirect(nxt if safe else "home")


@require_GET
def refresh_status(request: HttpRequest, pk: int) -> HttpResponse:
    refresh = checked(get_object_or_404(Refresh, pk=pk))  # the bar of a refresh whose worker died ends
    if request.headers.get("HX-Request") or request.GET.get("fragment"):
        # The poll's answer once it has ended: the outcome shown open, and the page told to show the new data in
        # place (static/t5g/t5g.js listens for t5g:refreshed), without a reload to find and press.
        just_finished = not refresh.active
        response = render(request, "t5g/refresh.html", {"refresh": refresh, "just_finished": just_finished})
        if just_finished:
            response["HX-Trigger"] = "t5g:refreshed"
        return response
    return JsonResponse(_refresh_json(refresh))


def refresh_url(refresh: Refresh) -> str:
    return reverse("refresh_status", args=[refresh.pk])


def _refresh_json(refresh: Refresh) -> dict:
    return {
        "id": refresh.pk,
        "state": refresh.state,
        "phase": refresh.phase,
        "step": refresh.step,
        "steps": refresh.steps,
        "percent": refresh.percent,
        "summary": refresh.summary,
        "error": refresh.error,
        "created_at": refresh.created_at,
        "finished_at": refresh.finished_at,
    }


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says: send them to the SVG (cached for a year there)."""
    return HttpResponsePermanentRedirect(static("t5g/favicon.svg"))
