"""Runbook, client documentation, vault and search screens: parse, check access, call a service, render."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.forms import add_service_errors
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.roles import has_capability, has_privilege, require
from tenfold.knowledge import selectors, services
from tenfold.knowledge.forms import (
    CategoryForm,
    CheckLinkForm,
    CredentialForm,
    KeyApplicationForm,
    NetworkItemForm,
    OverviewForm,
    RunbookForm,
)
from tenfold.knowledge.markdown import render_markdown
from tenfold.knowledge.models import RunbookCategory, RunbookKind
from tenfold.knowledge.search import search_everything

RUNBOOK_LIST = ListSpec(
    columns=[
        Column("title", gettext_lazy("Title"), sort="title",
               link=lambda r: reverse("knowledge:runbook_detail", args=[r.pk])),
        Column("kind", gettext_lazy("Kind"), sort="kind", badge=True),
        Column("category", gettext_lazy("Category"), sort="category__name", accessor=lambda r: r.category or "—"),
        Column("client", gettext_lazy("Client"), sort="client__name",
               accessor=lambda r: r.client or gettext_lazy("Whole MSP")),
        Column("step_count", gettext_lazy("Steps"), sort="step_count"),
        Column("current_version", gettext_lazy("Version"), sort="current_version"),
        Column("updated_at", gettext_lazy("Updated"), sort="updated_at", accessor=lambda r: r.updated_at.date()),
    ],
    search_fields=["title", "body_markdown", "steps__text"],
    filters=[
        ChoiceFilter("kind", gettext_lazy("Kind"), "kind", lambda r: list(RunbookKind.choices)),
        ChoiceFilter("category", gettext_lazy("Category"), "category_id",
                     lambda r: [(str(c.pk), c.name) for c in RunbookCategory.objects.all()]),
        ChoiceFilter("client", gettext_lazy("Client"), "client_id",
                     lambda r: [(str(pk), name) for pk, name in selectors.Client.objects.visible_to(r.user)
                                .order_by("name").values_list("pk", "name")]),
        ChoiceFilter("archived", gettext_lazy("Archived"), "archived",
                     lambda r: [("False", _("No")), ("True", _("Yes"))]),
    ],
    default_sort="title",
)

CREDENTIAL_LIST = ListSpec(
    columns=[
        Column("name", gettext_lazy("Name"), sort="name",
               link=lambda c: reverse("knowledge:credential_detail", args=[c.pk])),
        Column("client", gettext_lazy("Client"), sort="client__name",
               accessor=lambda c: c.client or gettext_lazy("Whole MSP")),
        Column("username", gettext_lazy("Username"), sort="username"),
        Column("url", gettext_lazy("URL")),
        Column("updated_at", gettext_lazy("Updated"), sort="updated_at", accessor=lambda c: c.updated_at.date()),
    ],
    search_fields=["name", "username", "url", "client__name"],
    filters=[ChoiceFilter("client", gettext_lazy("Client"), "client_id",
                          lambda r: [(str(pk), name) for pk, name in selectors.Client.objects.visible_to(r.user)
                                     .order_by("name").values_list("pk", "name")])],
    default_sort="name",
)


def _staff_only(request: HttpRequest) -> None:
    # Called after the object is fetched: another client's record is a 404 for a portal user, else a 403.
    if getattr(request.user, "is_portal", True):
        raise PermissionDenied()


def _form_page(request: HttpRequest, form: Any, *, title: str, cancel_url: str, **extra: Any) -> HttpResponse:
    return render(request, "knowledge/form.html", {"form": form, "title": title, "cancel_url": cancel_url, **extra})


# --- Runbooks -----------------------------------------------------------------------------------------------


@login_required
def runbook_list(request: HttpRequest) -> HttpResponse:
    """Runbooks: searchable, filterable by kind, category and client, sortable, paginated."""
    _staff_only(request)
    queryset = selectors.runbook_list(request.user)
    if request.GET.get("archived") != "True":
        queryset = queryset.filter(archived=False)
    return render_list(request, queryset, RUNBOOK_LIST, template="knowledge/runbook_list.html", context={
        "can_add": has_capability(request.user, "runbooks", "add")})


@login_required
def runbook_detail(request: HttpRequest, runbook_id: int) -> HttpResponse:
    """A runbook: rendered text, checklist, version history, linked checks."""
    runbook = selectors.access_runbook(request.user, runbook_id)
    _staff_only(request)
    versions = list(selectors.runbook_versions(runbook))
    return render(request, "knowledge/runbook_detail.html", {
        "runbook": runbook, "body_html": render_markdown(runbook.body_markdown),
        "steps": runbook.steps.order_by("position"), "versions": versions,
        "links": runbook.check_links.select_related("check_definition").all(),
        "link_form": CheckLinkForm(),
        "can_change": has_capability(request.user, "runbooks", "change"),
        "can_delete": has_capability(request.user, "runbooks", "delete"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def runbook_create(request: HttpRequest) -> HttpResponse:
    """New runbook form."""
    _staff_only(request)
    require(request.user, "runbooks", "add")
    form = RunbookForm(request.POST or None, actor=request.user,
                       initial={"client": request.GET.get("client") or None, "kind": RunbookKind.TASK})
    if request.method == "POST" and form.is_valid():
        try:
            runbook = services.runbook_create(actor=request.user, data=form.service_data(), steps=form.steps,
                                              summary=form.cleaned_data.get("summary", ""))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Runbook “%(title)s” created.") % {"title": runbook.title})
            return redirect("knowledge:runbook_detail", runbook_id=runbook.pk)
    return render(request, "knowledge/runbook_form.html", {
        "form": form, "title": _("New runbook"), "cancel_url": reverse("knowledge:runbook_list")})


@login_required
@require_http_methods(["GET", "POST"])
def runbook_edit(request: HttpRequest, runbook_id: int) -> HttpResponse:
    """Edit a runbook: saving writes a new version."""
    runbook = selectors.access_runbook(request.user, runbook_id)
    _staff_only(request)
    require(request.user, "runbooks", "change")
    # The form validates a copy: the service compares the stored runbook with the new values (an edit of the
    # title, text or sharing alone is a change, even when the steps stay the same).
    form = RunbookForm(request.POST or None, instance=copy.copy(runbook), actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.runbook_update(actor=request.user, runbook=runbook, data=form.service_data(), steps=form.steps,
                                    summary=form.cleaned_data.get("summary", ""))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Runbook saved (version %(n)d).") % {"n": runbook.current_version})
            return redirect("knowledge:runbook_detail", runbook_id=runbook.pk)
    return render(request, "knowledge/runbook_form.html", {
        "form": form, "title": _("Edit %(title)s") % {"title": runbook.title}, "runbook": runbook,
        "cancel_url": reverse("knowledge:runbook_detail", args=[runbook.pk])})


@login_required
@require_POST
def runbook_archive(request: HttpRequest, runbook_id: int) -> HttpResponse:
    """Archive a runbook, or restore it (`archived=0`)."""
    runbook = selectors.access_runbook(request.user, runbook_id)
    _staff_only(request)
    archived = request.POST.get("archived", "1") != "0"
    services.runbook_set_archived(actor=request.user, runbook=runbook, archived=archived)
    messages.success(request, _("Runbook archived.") if archived else _("Runbook restored."))
    return redirect("knowledge:runbook_detail", runbook_id=runbook.pk)


@login_required
@require_GET
def runbook_diff(request: HttpRequest, runbook_id: int) -> HttpResponse:
    """The differences between two versions (`?from=1&to=3`; by default the last two)."""
    runbook = selectors.access_runbook(request.user, runbook_id)
    _staff_only(request)
    newest = runbook.current_version
    to_number = request.GET.get("to") or newest
    from_number = request.GET.get("from") or max(1, int(to_number) - 1 if str(to_number).isdigit() else 1)
    old = selectors.access_version(runbook, from_number)
    new = selectors.access_version(runbook, to_number)
    return render(request, "knowledge/runbook_diff.html", {
        "runbook": runbook, "old": old, "new": new, "lines": selectors.version_diff(old, new),
        "versions": selectors.runbook_versions(runbook)})


@login_required
@require_POST
def runbook_link_check(request: HttpRequest, runbook_id: int) -> HttpResponse:
    """Link a check type to this runbook."""
    runbook = selectors.access_runbook(request.user, runbook_id)
    _staff_only(request)
    require(request.user, "runbooks", "change")
    form = CheckLinkForm(request.POST)
    if form.is_valid():
        try:
            services.check_link_set(actor=request.user, runbook=runbook, check_type=form.cleaned_data["check_type"])
        except ValidationError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Check type linked."))
    else:
        messages.error(request, _("Choose a check type."))
    return redirect("knowledge:runbook_detail", runbook_id=runbook.pk)


@login_required
@require_POST
def check_link_delete(request: HttpRequest, link_id: int) -> HttpResponse:
    """Remove a check → runbook link."""
    link = selectors.access_check_link(request.user, link_id)
    _staff_only(request)
    runbook_id = link.runbook_id
    services.check_link_delete(actor=request.user, link=link)
    messages.success(request, _("Link removed."))
    return redirect("knowledge:runbook_detail", runbook_id=runbook_id)


@login_required
@require_GET
def alert_runbook_panel(request: HttpRequest, alert_id: int) -> HttpResponse:
    """The runbook of an alert's check (an HTMX fragment on the alert page: monitoring sits below knowledge)."""
    from tenfold.monitoring.selectors import access_alert

    alert = access_alert(request.user, alert_id)
    _staff_only(request)
    runbook = None
    if alert.check_definition_id is not None and has_capability(request.user, "runbooks", "view"):
        runbook = selectors.runbook_for_check(alert.check_definition_id)
        if runbook is not None and not selectors.runbooks_visible(request.user).filter(pk=runbook.pk).exists():
            runbook = None
    return render(request, "knowledge/partials/alert_runbook.html", {
        "alert": alert, "runbook": runbook,
        "steps": runbook.steps.order_by("position") if runbook else [],
        "body_html": render_markdown(runbook.body_markdown) if runbook else ""})


# --- Runbook categories -------------------------------------------------------------------------------------


@login_required
@require_GET
def category_list(request: HttpRequest) -> HttpResponse:
    """The categories runbooks are filed under, with how many runbooks each holds."""
    _staff_only(request)
    return render(request, "knowledge/category_list.html", {
        "categories": selectors.categories_with_counts(request.user),
        "can_manage": has_capability(request.user, "runbooks", "delete")})


@login_required
@require_http_methods(["GET", "POST"])
def category_create(request: HttpRequest) -> HttpResponse:
    """Add a category."""
    _staff_only(request)
    require(request.user, "runbooks", "delete")
    form = CategoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.category_create(actor=request.user, data=dict(form.cleaned_data))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Category saved."))
            return redirect("knowledge:category_list")
    return _form_page(request, form, title=_("New category"), cancel_url=reverse("knowledge:category_list"))


@login_required
@require_http_methods(["GET", "POST"])
def category_edit(request: HttpRequest, category_id: int) -> HttpResponse:
    """Rename a category, change its description or position."""
    category = selectors.access_category(request.user, category_id)
    require(request.user, "runbooks", "delete")
    form = CategoryForm(request.POST or None, initial={"name": category.name, "description": category.description,
                                                       "position": category.position})
    if request.method == "POST" and form.is_valid():
        try:
            services.category_update(actor=request.user, category=category, data=dict(form.cleaned_data))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Category saved."))
            return redirect("knowledge:category_list")
    return _form_page(request, form, title=_("Edit category %(name)s") % {"name": category.name},
                      cancel_url=reverse("knowledge:category_list"),
                      delete_url=reverse("knowledge:category_delete", args=[category.pk]))


@login_required
@require_POST
def category_delete(request: HttpRequest, category_id: int) -> HttpResponse:
    """Delete an unused category; a category still filing runbooks is refused with the reason."""
    category = selectors.access_category(request.user, category_id)
    require(request.user, "runbooks", "delete")
    try:
        services.category_delete(actor=request.user, category=category)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Category deleted."))
    return redirect("knowledge:category_list")


# --- Client documentation -----------------------------------------------------------------------------------


def _doc_context(request: HttpRequest, client: Any) -> dict[str, Any]:
    doc = selectors.client_doc(client)
    return {
        "client": client, "doc": doc,
        "overview_html": render_markdown(doc.overview_markdown) if doc else "",
        "network": selectors.network_items(client), "applications": selectors.key_applications(client),
        "can_change": has_capability(request.user, "runbooks", "change"),
    }


@login_required
@require_GET
def client_docs_panel(request: HttpRequest, client_id: int) -> HttpResponse:
    """The documentation panel of a client's page (an HTMX fragment)."""
    client = selectors.access_client_for_docs(request.user, client_id)
    _staff_only(request)
    ctx = _doc_context(request, client)
    ctx["runbooks"] = selectors.runbooks_visible(request.user).filter(client=client, archived=False)[:10]
    ctx["credential_count"] = (selectors.credentials_visible(request.user).filter(client=client).count()
                               if has_capability(request.user, "vault", "view") else None)
    return render(request, "knowledge/partials/client_docs_panel.html", ctx)


@login_required
@require_GET
def client_doc(request: HttpRequest, client_id: int) -> HttpResponse:
    """A client's documentation: overview, sites, network, key applications, contacts, devices, contracts."""
    client = selectors.access_client_for_docs(request.user, client_id)
    _staff_only(request)
    ctx = _doc_context(request, client)
    ctx.update({
        "sites": client.sites.order_by("name"),
        "contacts": client.contacts.select_related("site").order_by("last_name", "first_name"),
        "devices": client.devices.order_by("name")[:200] if has_capability(request.user, "devices", "view") else None,
        "contracts": client.contracts.order_by("-start_date")[:50]
        if has_capability(request.user, "contracts", "view") else None,
        "runbooks": selectors.runbooks_visible(request.user).filter(client=client, archived=False),
    })
    return render(request, "knowledge/client_doc.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def client_doc_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    """Edit a client's environment overview."""
    client = selectors.access_client_for_docs(request.user, client_id)
    _staff_only(request)
    require(request.user, "runbooks", "change")
    doc = selectors.client_doc(client)
    form = OverviewForm(request.POST or None, initial={"overview_markdown": doc.overview_markdown if doc else "",
                                                       "shared_with_client": doc.shared_with_client if doc else False})
    if request.method == "POST" and form.is_valid():
        try:
            services.client_doc_update(actor=request.user, client=client,
                                       overview_markdown=form.cleaned_data["overview_markdown"],
                                       shared_with_client=form.cleaned_data["shared_with_client"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Documentation saved."))
            return redirect("knowledge:client_doc", client_id=client.pk)
    return _form_page(request, form, title=_("Environment overview of %(name)s") % {"name": client.name},
                      cancel_url=reverse("knowledge:client_doc", args=[client.pk]), client=client)


@login_required
@require_POST
def client_doc_review(request: HttpRequest, client_id: int) -> HttpResponse:
    """Mark a client's documentation as reviewed now."""
    client = selectors.access_client_for_docs(request.user, client_id)
    _staff_only(request)
    services.client_doc_mark_reviewed(actor=request.user, client=client)
    messages.success(request, _("Documentation marked as reviewed."))
    return redirect("knowledge:client_doc", client_id=client.pk)


def _row_form(request: HttpRequest, client: Any, form: Any, save: Any, *, title: str,
              delete_url: str | None = None) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            save(form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Documentation saved."))
            return redirect("knowledge:client_doc", client_id=client.pk)
    return _form_page(request, form, title=title, cancel_url=reverse("knowledge:client_doc", args=[client.pk]),
                      client=client, delete_url=delete_url)


@login_required
@require_http_methods(["GET", "POST"])
def network_item_create(request: HttpRequest, client_id: int) -> HttpResponse:
    """Add a network row (subnet, VLAN, firewall, ISP)."""
    client = selectors.access_client_for_docs(request.user, client_id)
    _staff_only(request)
    require(request.user, "runbooks", "change")
    form = NetworkItemForm(request.POST or None, client=client)
    return _row_form(request, client, form, lambda data: services.network_item_save(
        actor=request.user, client=client, data=data), title=_("New network item"))


@login_required
@require_http_methods(["GET", "POST"])
def network_item_edit(request: HttpRequest, item_id: int) -> HttpResponse:
    """Change a network row."""
    item = selectors.access_network_item(request.user, item_id)
    _staff_only(request)
    require(request.user, "runbooks", "change")
    form = NetworkItemForm(request.POST or None, instance=item, client=item.client)
    return _row_form(request, item.client, form, lambda data: services.network_item_save(
        actor=request.user, client=item.client, data=data, item=item), title=_("Edit network item"),
        delete_url=reverse("knowledge:network_item_delete", args=[item.pk]))


@login_required
@require_POST
def network_item_delete(request: HttpRequest, item_id: int) -> HttpResponse:
    """Remove a network row."""
    item = selectors.access_network_item(request.user, item_id)
    _staff_only(request)
    client_id = item.client_id
    services.network_item_delete(actor=request.user, item=item)
    messages.success(request, _("Removed."))
    return redirect("knowledge:client_doc", client_id=client_id)


@login_required
@require_http_methods(["GET", "POST"])
def key_application_create(request: HttpRequest, client_id: int) -> HttpResponse:
    """Add a key application."""
    client = selectors.access_client_for_docs(request.user, client_id)
    _staff_only(request)
    require(request.user, "runbooks", "change")
    form = KeyApplicationForm(request.POST or None)
    return _row_form(request, client, form, lambda data: services.key_application_save(
        actor=request.user, client=client, data=data), title=_("New key application"))


@login_required
@require_http_methods(["GET", "POST"])
def key_application_edit(request: HttpRequest, application_id: int) -> HttpResponse:
    """Change a key application."""
    application = selectors.access_key_application(request.user, application_id)
    _staff_only(request)
    require(request.user, "runbooks", "change")
    form = KeyApplicationForm(request.POST or None, instance=application)
    return _row_form(request, application.client, form, lambda data: services.key_application_save(
        actor=request.user, client=application.client, data=data, application=application),
        title=_("Edit key application"), delete_url=reverse("knowledge:key_application_delete",
                                                            args=[application.pk]))


@login_required
@require_POST
def key_application_delete(request: HttpRequest, application_id: int) -> HttpResponse:
    """Remove a key application."""
    application = selectors.access_key_application(request.user, application_id)
    _staff_only(request)
    client_id = application.client_id
    services.key_application_delete(actor=request.user, application=application)
    messages.success(request, _("Removed."))
    return redirect("knowledge:client_doc", client_id=client_id)


# --- Vault --------------------------------------------------------------------------------------------------


@login_required
def credential_list(request: HttpRequest) -> HttpResponse:
    """Credentials (never their secrets)."""
    _staff_only(request)
    return render_list(request, selectors.credentials_visible(request.user), CREDENTIAL_LIST,
                       template="knowledge/credential_list.html",
                       context={"can_add": has_capability(request.user, "vault", "add")})


def _credential_page(request: HttpRequest, credential: Any, revealed: Any = None,
                     error: str = "") -> HttpResponse:
    response = render(request, "knowledge/credential_detail.html", {
        "credential": credential, "revealed": revealed, "error": error,
        "reveals": selectors.credential_reveals(credential),
        "can_reveal": has_privilege(request.user, "vault.reveal"),
        "recent_auth": services.recently_authenticated(request),
        "reauth_url": reverse("account_reauthenticate") + "?" + urlencode(
            {"next": reverse("knowledge:credential_detail", args=[credential.pk])}),
        "can_change": has_capability(request.user, "vault", "change"),
        "can_delete": has_capability(request.user, "vault", "delete"),
    })
    response["Cache-Control"] = "no-store"
    return response


@login_required
@never_cache
def credential_detail(request: HttpRequest, credential_id: int) -> HttpResponse:
    """A credential: its details, the reveal button and who revealed it."""
    credential = selectors.access_credential(request.user, credential_id)
    _staff_only(request)
    return _credential_page(request, credential)


@login_required
@require_POST
@never_cache
def credential_reveal(request: HttpRequest, credential_id: int) -> HttpResponse:
    """Decrypt and show the secret (and TOTP code); sends to re-authentication when it is older than 15 min."""
    credential = selectors.access_credential(request.user, credential_id)
    _staff_only(request)
    recent = services.recently_authenticated(request)
    if not recent and has_privilege(request.user, "vault.reveal"):
        return redirect(reverse("account_reauthenticate") + "?" + urlencode(
            {"next": reverse("knowledge:credential_detail", args=[credential.pk])}))
    try:
        revealed = services.credential_reveal(actor=request.user, credential=credential, recent_auth=recent,
                                              channel="ui", ip=request.META.get("REMOTE_ADDR"))
    except services.vault.VaultKeyError as exc:
        return _credential_page(request, credential, error=str(exc.message))
    return _credential_page(request, credential, revealed=revealed)


@login_required
@require_http_methods(["GET", "POST"])
def credential_create(request: HttpRequest) -> HttpResponse:
    """New credential form."""
    _staff_only(request)
    require(request.user, "vault", "add")
    form = CredentialForm(request.POST or None, actor=request.user,
                          initial={"client": request.GET.get("client") or None})
    if request.method == "POST" and form.is_valid():
        try:
            credential = services.credential_create(actor=request.user, data=form.service_data(),
                                                    secret=form.cleaned_data["secret"],
                                                    totp_seed=form.cleaned_data.get("totp_seed"))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Credential stored."))
            return redirect("knowledge:credential_detail", credential_id=credential.pk)
    return _form_page(request, form, title=_("New credential"), cancel_url=reverse("knowledge:credential_list"))


@login_required
@require_http_methods(["GET", "POST"])
def credential_edit(request: HttpRequest, credential_id: int) -> HttpResponse:
    """Change a credential (an empty secret keeps the current one)."""
    credential = selectors.access_credential(request.user, credential_id)
    _staff_only(request)
    require(request.user, "vault", "change")
    form = CredentialForm(request.POST or None, actor=request.user, editing=True, initial={
        "name": credential.name, "client": credential.client_id, "username": credential.username,
        "url": credential.url, "notes": credential.notes})
    if request.method == "POST" and form.is_valid():
        try:
            services.credential_update(actor=request.user, credential=credential, data=form.service_data(),
                                       secret=form.cleaned_data.get("secret") or None,
                                       totp_seed=form.cleaned_data.get("totp_seed") or None,
                                       clear_totp=bool(form.cleaned_data.get("clear_totp")))
        except (ValidationError, services.vault.VaultKeyError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Credential saved."))
            return redirect("knowledge:credential_detail", credential_id=credential.pk)
    return _form_page(request, form, title=_("Edit %(name)s") % {"name": credential.name},
                      cancel_url=reverse("knowledge:credential_detail", args=[credential.pk]),
                      delete_url=reverse("knowledge:credential_delete", args=[credential.pk])
                      if has_capability(request.user, "vault", "delete") else None)


@login_required
@require_POST
def credential_delete(request: HttpRequest, credential_id: int) -> HttpResponse:
    """Delete a credential."""
    credential = selectors.access_credential(request.user, credential_id)
    _staff_only(request)
    services.credential_delete(actor=request.user, credential=credential)
    messages.success(request, _("Credential deleted."))
    return redirect("knowledge:credential_list")


# --- Search -------------------------------------------------------------------------------------------------


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Search runbooks, client documentation and whatever other apps provide (tickets)."""
    _staff_only(request)
    query = request.GET.get("q", "").strip()[:selectors.MAX_QUERY]
    hits = search_everything(request.user, query, limit=20) if query else []
    labels = {"runbook": _("Runbook"), "client_doc": _("Documentation"), "ticket": _("Ticket")}
    results = [{"hit": hit, "label": labels.get(hit.kind, hit.kind)} for hit in hits]
    return render(request, "knowledge/search.html", {"query": query, "results": results})
