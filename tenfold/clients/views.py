"""Client, site and contact screens: parse, check access, call a service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tenfold.clients import selectors, services
from tenfold.clients.forms import ClientForm, ContactForm, SiteForm, add_service_errors
from tenfold.clients.models import ClientStatus
from tenfold.core.errors import TenfoldError, ValidationError
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.roles import has_capability, require

CLIENT_LIST = ListSpec(
    columns=[
        Column("name", gettext_lazy("Name"), sort="name", link=lambda c: reverse("clients:client_detail", args=[c.pk])),
        Column("status", gettext_lazy("Status"), sort="status", badge=True),
        Column("account_manager", gettext_lazy("Account manager"), sort="account_manager__last_name",
               accessor=lambda c: c.account_manager or "—"),
        Column("site_count", gettext_lazy("Sites"), sort="site_count"),
        Column("contact_count", gettext_lazy("Contacts"), sort="contact_count"),
        Column("created_at", gettext_lazy("Created"), sort="created_at", accessor=lambda c: c.created_at.date()),
    ],
    search_fields=["name", "notes", "website", "phone"],
    filters=[ChoiceFilter("status", gettext_lazy("Status"), "status", lambda r: list(ClientStatus.choices))],
    default_sort="name",
)

CONTACT_LIST = ListSpec(
    columns=[
        Column("full_name", gettext_lazy("Name"), sort="last_name", accessor=lambda c: c.full_name,
               link=lambda c: reverse("clients:contact_edit", args=[c.pk])),
        Column("client", gettext_lazy("Client"), sort="client__name",
               link=lambda c: reverse("clients:client_detail", args=[c.client_id])),
        Column("job_title", gettext_lazy("Role"), sort="job_title"),
        Column("email", gettext_lazy("Email"), sort="email"),
        Column("phone", gettext_lazy("Phone")),
        Column("is_decision_maker", gettext_lazy("Decision maker"),
               accessor=lambda c: _("Yes") if c.is_decision_maker else ""),
    ],
    search_fields=["first_name", "last_name", "email", "phone", "job_title", "client__name"],
    filters=[ChoiceFilter("decision_maker", gettext_lazy("Decision maker"), "is_decision_maker",
                          lambda r: [("True", _("Yes")), ("False", _("No"))])],
    default_sort="full_name",
)


def _staff_only(request: HttpRequest) -> None:
    # The staff console is not the portal: portal users have their own pages. Called after the
    # object is fetched, so another client's record is a 404 for them, their own a 403.
    if getattr(request.user, "is_portal", True):
        require(None, "clients", "view")


@login_required
def client_list(request: HttpRequest) -> HttpResponse:
    """All visible clients, searchable, filterable, sortable, paginated."""
    _staff_only(request)
    queryset = selectors.client_list(request.user)
    return render_list(request, queryset, CLIENT_LIST, template="clients/client_list.html", context={
        "can_add": has_capability(request.user, "clients", "add") and request.user.client_scope() is None,  # type: ignore[union-attr]
        "counts": selectors.client_counts(request.user)})


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    """Every visible contact across clients."""
    _staff_only(request)
    return render_list(request, selectors.contacts_visible(request.user), CONTACT_LIST,
                       template="clients/contact_list.html")


@login_required
def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    """A client's overview: details, sites, contacts."""
    client = selectors.access_client(request.user, client_id)
    _staff_only(request)
    return render(request, "clients/client_detail.html", {
        "client": client,
        "sites": client.sites.order_by("name"),
        "contacts": client.contacts.select_related("site").order_by("last_name", "first_name"),
        "can_change": has_capability(request.user, "clients", "change"),
        "can_delete": has_capability(request.user, "clients", "delete"),
        "can_add_contact": has_capability(request.user, "contacts", "add"),
    })


def _form_page(request: HttpRequest, form: Any, *, title: str, cancel_url: str, **extra: Any) -> HttpResponse:
    return render(request, "clients/form.html", {"form": form, "title": title, "cancel_url": cancel_url, **extra})


@login_required
@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest) -> HttpResponse:
    """New client form."""
    _staff_only(request)
    require(request.user, "clients", "add")
    form = ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Client “%(name)s” created.") % {"name": client.name})
            return redirect("clients:client_detail", client_id=client.pk)
    return _form_page(request, form, title=_("New client"), cancel_url=reverse("clients:client_list"))


@login_required
@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    """Edit a client."""
    client = selectors.access_client(request.user, client_id)
    _staff_only(request)
    require(request.user, "clients", "change")
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(actor=request.user, client=client, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Client saved."))
            return redirect("clients:client_detail", client_id=client.pk)
    return _form_page(request, form, title=_("Edit %(name)s") % {"name": client.name},
                      cancel_url=reverse("clients:client_detail", args=[client.pk]), client=client)


@login_required
@require_POST
def client_delete(request: HttpRequest, client_id: int) -> HttpResponse:
    """Delete a client (not an active one)."""
    client = selectors.access_client(request.user, client_id)
    _staff_only(request)
    try:
        services.client_delete(actor=request.user, client=client)
    except TenfoldError as exc:
        if exc.status == 403:
            raise
        messages.error(request, str(exc.message))
        return redirect("clients:client_detail", client_id=client.pk)
    messages.success(request, _("Client deleted."))
    return redirect("clients:client_list")


@login_required
@require_http_methods(["GET", "POST"])
def site_create(request: HttpRequest, client_id: int) -> HttpResponse:
    """Add a site to a client."""
    client = selectors.access_client(request.user, client_id)
    _staff_only(request)
    require(request.user, "clients", "change")
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.site_create(actor=request.user, client=client, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Site added."))
            return redirect("clients:client_detail", client_id=client.pk)
    return _form_page(request, form, title=_("New site for %(name)s") % {"name": client.name},
                      cancel_url=reverse("clients:client_detail", args=[client.pk]), client=client)


@login_required
@require_http_methods(["GET", "POST"])
def site_edit(request: HttpRequest, site_id: int) -> HttpResponse:
    """Edit a site."""
    site = selectors.access_site(request.user, site_id)
    _staff_only(request)
    require(request.user, "clients", "change")
    form = SiteForm(request.POST or None, instance=site)
    if request.method == "POST" and form.is_valid():
        try:
            services.site_update(actor=request.user, site=site, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Site saved."))
            return redirect("clients:client_detail", client_id=site.client_id)
    return _form_page(request, form, title=_("Edit site %(name)s") % {"name": site.name},
                      cancel_url=reverse("clients:client_detail", args=[site.client_id]), client=site.client,
                      delete_url=reverse("clients:site_delete", args=[site.pk]))


@login_required
@require_POST
def site_delete(request: HttpRequest, site_id: int) -> HttpResponse:
    """Remove a site."""
    site = selectors.access_site(request.user, site_id)
    _staff_only(request)
    client_id = site.client_id
    services.site_delete(actor=request.user, site=site)
    messages.success(request, _("Site removed."))
    return redirect("clients:client_detail", client_id=client_id)


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest, client_id: int) -> HttpResponse:
    """Add a contact to a client."""
    client = selectors.access_client(request.user, client_id)
    _staff_only(request)
    require(request.user, "contacts", "add")
    form = ContactForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_create(actor=request.user, client=client, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Contact added."))
            return redirect("clients:client_detail", client_id=client.pk)
    return _form_page(request, form, title=_("New contact for %(name)s") % {"name": client.name},
                      cancel_url=reverse("clients:client_detail", args=[client.pk]), client=client)


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Edit a contact."""
    contact = selectors.access_contact(request.user, contact_id)
    _staff_only(request)
    require(request.user, "contacts", "change")
    form = ContactForm(request.POST or None, instance=contact, client=contact.client)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(actor=request.user, contact=contact, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Contact saved."))
            return redirect("clients:client_detail", client_id=contact.client_id)
    extra: dict[str, Any] = {"client": contact.client}
    if has_capability(request.user, "contacts", "delete"):
        extra["delete_url"] = reverse("clients:contact_delete", args=[contact.pk])
    return _form_page(request, form, title=_("Edit contact %(name)s") % {"name": contact.full_name},
                      cancel_url=reverse("clients:client_detail", args=[contact.client_id]), **extra)


@login_required
@require_POST
def contact_delete(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Remove a contact."""
    contact = selectors.access_contact(request.user, contact_id)
    _staff_only(request)
    client_id = contact.client_id
    services.contact_delete(actor=request.user, contact=contact)
    messages.success(request, _("Contact removed."))
    return redirect("clients:client_detail", client_id=client_id)
