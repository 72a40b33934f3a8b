"""Enrollment and agent-credential screens: parse, check access, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tenfold.agents import selectors, services
from tenfold.agents.forms import EnrollmentTokenForm
from tenfold.assets.selectors import access_device
from tenfold.clients.selectors import access_client
from tenfold.core.errors import TenfoldError, ValidationError
from tenfold.core.roles import has_capability, require


def _staff_only(request: HttpRequest) -> None:
    # Enrollment belongs to the staff console; called after the fetch so other clients' records are 404.
    if getattr(request.user, "is_portal", True):
        require(None, "devices", "view")


def server_url(request: HttpRequest) -> str:
    """The address agents reach this server at, as the browser sees it."""
    return request.build_absolute_uri("/").rstrip("/")


@login_required
@require_GET
def enrollment_index(request: HttpRequest) -> HttpResponse:
    """Clients whose devices can be enrolled, with their device counts."""
    _staff_only(request)
    return render(request, "agents/enrollment_index.html", {
        "clients": selectors.enrollment_overview(request.user)})


def _enrollment_page(request: HttpRequest, client_id: int, form: EnrollmentTokenForm | None = None,
                     status: int = 200) -> HttpResponse:
    client = access_client(request.user, client_id)
    can_change = has_capability(request.user, "devices", "change")
    return render(request, "agents/enrollment.html", {
        "client": client, "tokens": selectors.client_tokens(request.user, client), "can_change": can_change,
        "form": form or (EnrollmentTokenForm(client=client) if can_change else None)}, status=status)


@login_required
@require_GET
def enrollment(request: HttpRequest, client_id: int) -> HttpResponse:
    """A client's enrollment tokens and the form to create one."""
    access_client(request.user, client_id)
    _staff_only(request)
    require(request.user, "devices", "view")
    return _enrollment_page(request, client_id)


@login_required
@require_POST
def token_create(request: HttpRequest, client_id: int) -> HttpResponse:
    """Create an enrollment token; the answer shows it once, with the install commands."""
    client = access_client(request.user, client_id)
    _staff_only(request)
    require(request.user, "devices", "change")
    form = EnrollmentTokenForm(request.POST, client=client)
    if form.is_valid():
        try:
            token, plain = services.enrollment_token_create(
                actor=request.user, client=client, name=form.cleaned_data["name"], site=form.cleaned_data["site"],
                expires_in_days=form.cleaned_data["expires_in_days"], max_uses=form.cleaned_data["max_uses"])
        except ValidationError as exc:
            for field, errors in exc.errors.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            return render(request, "agents/token_created.html", {
                "client": client, "token": token, "plain": plain, "server": server_url(request)})
    return _enrollment_page(request, client_id, form, status=422)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke an enrollment token."""
    token = selectors.access_enrollment_token(request.user, token_id)
    _staff_only(request)
    try:
        services.enrollment_token_revoke(actor=request.user, token=token)
    except TenfoldError as exc:
        if exc.status == 403:
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Enrollment token revoked."))
    return redirect("agents:enrollment", client_id=token.client_id)


@login_required
@require_GET
def device_agent_panel(request: HttpRequest, device_id: int) -> HttpResponse:
    """The agent and credential state of a device (a fragment of the device page)."""
    device = access_device(request.user, device_id)
    _staff_only(request)
    credentials = selectors.device_credentials(device)
    return render(request, "agents/partials/device_agent.html", {
        "device": device, "agent": selectors.device_agent(device), "credentials": credentials,
        "active": [c for c in credentials if c.revoked_at is None],
        "can_change": has_capability(request.user, "devices", "change")})


def _credential_action(request: HttpRequest, device_id: int, rotate: bool) -> HttpResponse:
    device = access_device(request.user, device_id)
    _staff_only(request)
    try:
        if rotate:
            services.credential_rotate(actor=request.user, device=device)
        else:
            services.credential_revoke(actor=request.user, device=device)
    except TenfoldError as exc:
        if exc.status == 403:
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The agent will receive a new credential at its next check-in.") if rotate
                         else _("Agent credential revoked: the device must be enrolled again."))
    return redirect("assets:device_detail", device_id=device.pk)


@login_required
@require_POST
def credential_rotate(request: HttpRequest, device_id: int) -> HttpResponse:
    """Give the device's agent a new credential at its next check-in."""
    return _credential_action(request, device_id, rotate=True)


@login_required
@require_POST
def credential_revoke(request: HttpRequest, device_id: int) -> HttpResponse:
    """Revoke the device's agent credentials."""
    return _credential_action(request, device_id, rotate=False)
