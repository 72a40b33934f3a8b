"""Home, health, error pages and the MSP settings screens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tenfold.core import selectors
from tenfold.core.navigation import home_cards_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Portal users land on the portal; staff on the dashboard."""
    if getattr(request.user, "is_portal", False):
        return redirect("portal:home")
    return render(request, "core/home.html", {"health": selectors.health(),
                                              "home_cards": home_cards_for(request.user)})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and worker state; no authentication, no personal data."""
    state = selectors.health()
    return JsonResponse(state, status=503 if state["database"] != "ok" else 200)


def _error(request: HttpRequest, template: str, status: int, exception: Any = None) -> HttpResponse:
    if request.path.startswith("/api/") or request.path.startswith("/agent/"):
        codes = {400: "bad_request", 403: "permission_denied", 404: "not_found", 500: "server_error"}
        messages = {400: _("The server could not understand this request."),
                    403: _("You do not have permission to do this."), 404: _("Not found."),
                    500: _("Something went wrong on our side.")}
        return JsonResponse({"code": codes[status], "message": messages[status]}, status=status)
    return render(request, template, status=status)


def error_400(request: HttpRequest, exception: Any = None) -> HttpResponse:
    """A request Django refuses before any view (an invalid Host header, a malformed request): JSON on
    the API and agent paths, a page that needs nothing of the request elsewhere."""
    if request.path.startswith(("/api/", "/agent/")):
        return _error(request, "400.html", 400, exception)
    # No request context: its processors would read the very Host header that was refused.
    return HttpResponseBadRequest(render_to_string("400.html"))


def error_403(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _error(request, "403.html", 403, exception)


def error_404(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _error(request, "404.html", 404, exception)


def error_500(request: HttpRequest) -> HttpResponse:
    return _error(request, "500.html", 500)
