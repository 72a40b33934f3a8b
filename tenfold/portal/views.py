"""The client portal: a client's own people see their company; nothing of any other client."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tenfold.clients import selectors, services
from tenfold.clients.forms import ContactForm, add_service_errors
from tenfold.clients.models import Client
from tenfold.core.errors import PermissionDenied, ValidationError
from tenfold.core.roles import has_capability


def _portal_client(request: HttpRequest) -> Client:
    user: Any = request.user
    if not getattr(user, "is_portal", False):
        raise PermissionDenied()
    return selectors.access_client(user, user.client_id)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The portal start page: the company, its sites and contacts."""
    client = _portal_client(request)
    return render(request, "portal/home.html", {
        "client": client,
        "sites": client.sites.order_by("name"),
        "contacts": selectors.contacts_visible(request.user).filter(client=client).order_by("last_name"),
        "can_edit_contacts": has_capability(request.user, "contacts", "change"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest) -> HttpResponse:
    """A portal administrator adds a colleague as a contact."""
    client = _portal_client(request)
    if not has_capability(request.user, "contacts", "add"):
        raise PermissionDenied()
    form = ContactForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_create(actor=request.user, client=client, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Contact added."))
            return redirect("portal:home")
    return render(request, "portal/contact_form.html", {"form": form, "title": _("New contact")})


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, contact_id: int) -> HttpResponse:
    """A portal administrator corrects a contact of their company."""
    contact = selectors.access_contact(request.user, contact_id)
    client = _portal_client(request)
    if not has_capability(request.user, "contacts", "change"):
        raise PermissionDenied()
    form = ContactForm(request.POST or None, instance=contact, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(actor=request.user, contact=contact, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Contact saved."))
            return redirect("portal:home")
    return render(request, "portal/contact_form.html", {"form": form, "title": contact.full_name})
