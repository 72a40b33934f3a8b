"""Device screens: parse, check access, call a service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenfold.assets import selectors, services
from tenfold.assets.forms import DeviceCreateForm, DeviceEditForm, DeviceStateForm, add_service_errors
from tenfold.assets.models import Device, DeviceKind, DeviceState
from tenfold.clients.selectors import access_client, clients_visible
from tenfold.core.errors import TenfoldError, ValidationError
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.roles import has_capability, require

SOFTWARE_PAGE = 200


def online_label(device: Device) -> str:
    """Online, offline, or never seen (for a device entered by hand)."""
    if device.last_seen_at is None:
        return str(_("Never seen"))
    return str(_("Online")) if getattr(device, "is_online", False) else str(_("Offline"))


def online_key(device: Device) -> str:
    """The language-independent form of online_label, for the badge colour."""
    if device.last_seen_at is None:
        return "never-seen"
    return "online" if getattr(device, "is_online", False) else "offline"


def _os(device: Device) -> str:
    return f"{device.os_name} {device.os_version}".strip()


def _client_choices(request: HttpRequest) -> list[tuple[str, Any]]:
    return [(str(pk), name) for pk, name in clients_visible(request.user).values_list("pk", "name")]


DEVICE_LIST = ListSpec(
    columns=[
        Column("status", gettext_lazy("Status"), accessor=online_label, sort="last_seen_at", badge=True,
               badge_key=online_key),
        Column("name", gettext_lazy("Name"), sort="name",
               link=lambda d: reverse("assets:device_detail", args=[d.pk])),
        Column("client", gettext_lazy("Client"), sort="client__name",
               link=lambda d: reverse("clients:client_detail", args=[d.client_id])),
        Column("kind", gettext_lazy("Kind"), sort="kind"),
        Column("os", gettext_lazy("Operating system"), accessor=_os, sort="os_name"),
        Column("last_seen_at", gettext_lazy("Last seen"), sort="last_seen_at",
               accessor=lambda d: naturaltime(d.last_seen_at) if d.last_seen_at else "—"),
        Column("antivirus_state", gettext_lazy("Antivirus"), sort="antivirus_state",
               accessor=lambda d: d.get_antivirus_state_display() or "—"),
        Column("pending_updates", gettext_lazy("Pending updates"), sort="pending_updates",
               accessor=lambda d: "—" if d.pending_updates is None else d.pending_updates),
    ],
    search_fields=["name", "hostname", "serial_number", "logged_in_user", "os_name", "client__name"],
    filters=[
        ChoiceFilter("client", gettext_lazy("Client"), "client_id", _client_choices),
        ChoiceFilter("kind", gettext_lazy("Kind"), "kind", lambda r: list(DeviceKind.choices)),
        ChoiceFilter("state", gettext_lazy("State"), "state", lambda r: list(DeviceState.choices)),
        ChoiceFilter("online", gettext_lazy("Status"), "is_online",
                     lambda r: [("True", _("Online")), ("False", _("Offline"))]),
    ],
    default_sort="name",
)


def _staff_only(request: HttpRequest) -> None:
    # The staff console is not the portal. Called after the object is fetched, so another client's
    # device is a 404 for a portal user, their own a 403.
    if getattr(request.user, "is_portal", True):
        require(None, "devices", "view")


@login_required
@require_GET
def device_list(request: HttpRequest) -> HttpResponse:
    """Every visible device: status, OS, posture; searchable, filterable, sortable, paginated."""
    _staff_only(request)
    queryset = selectors.devices_visible(request.user)
    client_id = request.GET.get("client", "")
    return render_list(request, queryset, DEVICE_LIST, template="assets/device_list.html", context={
        "can_add": has_capability(request.user, "devices", "add"),
        "client_filter": client_id if client_id.isdigit() else ""})


@login_required
@require_GET
def device_detail(request: HttpRequest, device_id: int) -> HttpResponse:
    """A device: hardware, OS, posture, software, lifecycle history."""
    device = selectors.access_device(request.user, device_id)
    _staff_only(request)
    return render(request, "assets/device_detail.html", _detail_context(request, device, DeviceStateForm()))


def _detail_context(request: HttpRequest, device: Device, state_form: DeviceStateForm) -> dict[str, Any]:
    software = selectors.device_software(device)
    return {
        "device": device, "online": online_label(device), "online_key": online_key(device),
        "software": list(software[:SOFTWARE_PAGE]), "software_count": software.count(), "software_q": "",
        "history": selectors.device_state_history(device)[:50],
        "software_changes": selectors.device_software_changes(device),
        "state_form": state_form, "can_change": has_capability(request.user, "devices", "change"),
    }


@login_required
@require_GET
def device_software(request: HttpRequest, device_id: int) -> HttpResponse:
    """The software table of a device, searched (an HTMX fragment)."""
    device = selectors.access_device(request.user, device_id)
    _staff_only(request)
    q = request.GET.get("q", "")[:200]
    software = selectors.device_software(device, q)
    return render(request, "assets/partials/software.html", {
        "device": device, "software": list(software[:SOFTWARE_PAGE]), "software_count": software.count(),
        "software_q": q})


def _form_page(request: HttpRequest, form: Any, *, title: str, cancel_url: str, **extra: Any) -> HttpResponse:
    return render(request, "assets/form.html", {"form": form, "title": title, "cancel_url": cancel_url, **extra})


@login_required
@require_http_methods(["GET", "POST"])
def device_create(request: HttpRequest, client_id: int) -> HttpResponse:
    """Add a device by hand to a client."""
    client = access_client(request.user, client_id)
    _staff_only(request)
    require(request.user, "devices", "add")
    form = DeviceCreateForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.device_create(actor=request.user, client=client, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Device “%(name)s” added.") % {"name": device.name})
            return redirect("assets:device_detail", device_id=device.pk)
    return _form_page(request, form, title=_("New device for %(name)s") % {"name": client.name},
                      cancel_url=reverse("assets:device_list") + f"?client={client.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def device_edit(request: HttpRequest, device_id: int) -> HttpResponse:
    """Edit a device's name, kind, site, dates and notes."""
    device = selectors.access_device(request.user, device_id)
    _staff_only(request)
    require(request.user, "devices", "change")
    form = DeviceEditForm(request.POST or None, instance=device, client=device.client)
    if request.method == "POST" and form.is_valid():
        try:
            services.device_update(actor=request.user, device=device, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Device saved."))
            return redirect("assets:device_detail", device_id=device.pk)
    return _form_page(request, form, title=_("Edit %(name)s") % {"name": device.name},
                      cancel_url=reverse("assets:device_detail", args=[device.pk]), device=device)


@login_required
@require_POST
def device_state(request: HttpRequest, device_id: int) -> HttpResponse:
    """Move a device through its lifecycle."""
    device = selectors.access_device(request.user, device_id)
    _staff_only(request)
    require(request.user, "devices", "change")
    form = DeviceStateForm(request.POST)
    if form.is_valid():
        try:
            services.device_set_state(actor=request.user, device=device, state=form.cleaned_data["state"],
                                      reason=form.cleaned_data["reason"])
        except TenfoldError as exc:
            if exc.status == 403:
                raise
            form.add_error("state", str(exc.message))
        else:
            messages.success(request, _("Device is now %(state)s.") % {"state": device.get_state_display()})
            return redirect("assets:device_detail", device_id=device.pk)
    device = selectors.access_device(request.user, device_id)
    return render(request, "assets/device_detail.html", _detail_context(request, device, form), status=422)


@login_required
@require_GET
def client_devices_panel(request: HttpRequest, client_id: int) -> HttpResponse:
    """The devices panel of a client's page (an HTMX fragment: clients sits below assets)."""
    client = access_client(request.user, client_id)
    require(request.user, "devices", "view")
    summary = selectors.client_device_summary(client.pk)
    kinds = dict(DeviceKind.choices)
    rows = [{"label": kinds.get(row["kind"], row["kind"]), "count": row["count"],
             "url": reverse("assets:device_list") + f"?client={client.pk}&kind={row['kind']}"}
            for row in summary["by_kind"]]
    return render(request, "assets/partials/client_devices.html", {
        "client": client, "summary": summary, "rows": rows,
        "list_url": reverse("assets:device_list") + f"?client={client.pk}"})
