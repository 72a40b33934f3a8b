"""Device screens: parse, check access, call a service, render."""

from __future__ import annotations

import base64
import zlib
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.db.models import BooleanField, Case, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenfold.assets import selectors, services
from tenfold.assets.csv_import import MAX_BYTES
from tenfold.assets.forms import (
    DeviceCreateForm,
    DeviceEditForm,
    DeviceImportForm,
    DeviceStateForm,
    DeviceTagsForm,
    LicenceForm,
    TagForm,
    add_service_errors,
)
from tenfold.assets.models import Device, DeviceKind, DeviceState, DiscoveredDevice
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


def tag_chips(tags: Any) -> SafeString:
    """Tags as coloured chips (the colour is a CSS class: the strict CSP allows no inline style)."""
    return format_html_join(" ", '<span class="tag tag-{}">{}</span>', ((t.colour, t.name) for t in tags))


def _device_tags(device: Device) -> SafeString | str:
    # device.tags.all() reads the list's prefetch: no query per row.
    return tag_chips(device.tags.all()) or "—"


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
        Column("tags", gettext_lazy("Tags"), accessor=_device_tags),
    ],
    search_fields=["name", "hostname", "serial_number", "logged_in_user", "os_name", "client__name"],
    filters=[
        ChoiceFilter("client", gettext_lazy("Client"), "client_id", _client_choices),
        ChoiceFilter("tag", gettext_lazy("Tag"), "tags", lambda r: selectors.tag_choices()),
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
        "can_import": has_capability(request.user, "devices", "add") and has_capability(request.user, "devices",
                                                                                         "change"),
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
    tags = list(device.tags.all())
    return {
        "device": device, "online": online_label(device), "online_key": online_key(device),
        "tags": tags, "tags_form": DeviceTagsForm(initial={"tags": tags}),
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
@require_POST
def device_tags(request: HttpRequest, device_id: int) -> HttpResponse:
    """Give a device exactly the ticked tags (its effective policy follows)."""
    device = selectors.access_device(request.user, device_id)
    _staff_only(request)
    require(request.user, "devices", "change")
    form = DeviceTagsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose existing tags."))
        return redirect("assets:device_detail", device_id=device.pk)
    try:
        services.device_set_tags(actor=request.user, device=device, tag_ids=form.tag_ids())
    except ValidationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Tags saved."))
    return redirect("assets:device_detail", device_id=device.pk)


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
    _managed, unmanaged = selectors.managed_vs_discovered(client.pk)
    return render(request, "assets/partials/client_devices.html", {
        "client": client, "summary": summary, "rows": rows,
        "list_url": reverse("assets:device_list") + f"?client={client.pk}",
        "staff": not getattr(request.user, "is_portal", True), "unmanaged": unmanaged,
        "discovered_url": reverse("assets:discovered_list") + f"?client={client.pk}",
        "licences_url": reverse("assets:licence_list", args=[client.pk]),
        "import_url": reverse("assets:device_import", args=[client.pk]),
        "can_import": has_capability(request.user, "devices", "add") and has_capability(request.user, "devices",
                                                                                         "change")})


# --- Discovered devices ----------------------------------------------------------------------


def _discovered_status(row: DiscoveredDevice) -> str:
    if row.ignored:
        return str(_("Ignored"))
    return str(_("Matched")) if row.matched_device_id else str(_("Not managed"))


def _discovered_key(row: DiscoveredDevice) -> str:
    if row.ignored:
        return "never-seen"
    return "pass" if row.matched_device_id else "warning"


DISCOVERED_LIST = ListSpec(
    columns=[
        Column("status", gettext_lazy("Status"), accessor=_discovered_status, badge=True, badge_key=_discovered_key),
        Column("ip", gettext_lazy("IP address"), sort="ip",
               link=lambda r: reverse("assets:discovered_detail", args=[r.pk])),
        Column("mac", gettext_lazy("MAC address"), sort="mac", accessor=lambda r: r.mac or "—"),
        Column("hostname", gettext_lazy("Hostname"), sort="hostname", accessor=lambda r: r.hostname or "—"),
        Column("vendor", gettext_lazy("Vendor"), sort="vendor", accessor=lambda r: r.vendor or "—"),
        Column("client", gettext_lazy("Client"), sort="client__name",
               link=lambda r: reverse("clients:client_detail", args=[r.client_id])),
        Column("matched_device", gettext_lazy("Device"), accessor=lambda r: r.matched_device or "—",
               link=lambda r: reverse("assets:device_detail", args=[r.matched_device_id]) if r.matched_device_id
               else ""),
        Column("last_seen_at", gettext_lazy("Last seen"), sort="last_seen_at",
               accessor=lambda r: naturaltime(r.last_seen_at)),
    ],
    search_fields=["ip", "mac", "hostname", "vendor"],
    filters=[
        ChoiceFilter("client", gettext_lazy("Client"), "client_id", _client_choices),
        ChoiceFilter("matched", gettext_lazy("Device"), "is_matched",
                     lambda r: [("True", _("Matched")), ("False", _("Not managed"))]),
        ChoiceFilter("ignored", gettext_lazy("Ignored"), "ignored",
                     lambda r: [("False", _("Not ignored")), ("True", _("Ignored"))]),
    ],
    default_sort="ip",
)


@login_required
@require_GET
def discovered_list(request: HttpRequest) -> HttpResponse:
    """What agents saw on client networks; per client with ?client=."""
    _staff_only(request)
    queryset = selectors.discovered_visible(request.user).annotate(is_matched=Case(
        When(matched_device__isnull=False, then=Value(True)), default=Value(False), output_field=BooleanField()))
    client_id = request.GET.get("client", "")
    client = None
    if client_id.isdigit():
        client = clients_visible(request.user).filter(pk=int(client_id)).first()
    return render_list(request, queryset, DISCOVERED_LIST, template="assets/discovered_list.html", context={
        "client": client})


@login_required
@require_GET
def discovered_detail(request: HttpRequest, discovered_id: int) -> HttpResponse:
    """One discovered device, with its actions (ignore, add as a device)."""
    row = selectors.access_discovered(request.user, discovered_id)
    _staff_only(request)
    return render(request, "assets/discovered_detail.html", {
        "row": row, "status": _discovered_status(row), "status_key": _discovered_key(row),
        "can_change": has_capability(request.user, "devices", "change"),
        "can_add": has_capability(request.user, "devices", "add")})


@login_required
@require_POST
def discovered_ignore(request: HttpRequest, discovered_id: int) -> HttpResponse:
    """Ignore a discovered device, or stop ignoring it (`ignored=0`)."""
    row = selectors.access_discovered(request.user, discovered_id)
    _staff_only(request)
    require(request.user, "devices", "change")
    ignored = request.POST.get("ignored", "1") != "0"
    try:
        services.discovered_ignore(actor=request.user, discovered=row, ignored=ignored)
    except TenfoldError as exc:
        if exc.status == 403:
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("%(address)s is ignored.") % {"address": row.ip} if ignored
                         else _("%(address)s is no longer ignored.") % {"address": row.ip})
    return redirect("assets:discovered_detail", discovered_id=row.pk)


@login_required
@require_http_methods(["GET", "POST"])
def discovered_create_device(request: HttpRequest, discovered_id: int) -> HttpResponse:
    """Add a device by hand from a discovered one, prefilled with its address, vendor and name."""
    row = selectors.access_discovered(request.user, discovered_id)
    _staff_only(request)
    require(request.user, "devices", "add")
    initial = services.discovered_device_defaults(row)
    initial["site"] = initial.pop("site_id")
    form = DeviceCreateForm(request.POST or None, initial=initial, client=row.client)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.discovered_create_device(actor=request.user, discovered=row, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        except TenfoldError as exc:
            if exc.status == 403:
                raise
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Device “%(name)s” added.") % {"name": device.name})
            return redirect("assets:device_detail", device_id=device.pk)
    return _form_page(request, form, title=_("New device from %(address)s") % {"address": row.ip},
                      cancel_url=reverse("assets:discovered_detail", args=[row.pk]))


# --- CSV import --------------------------------------------------------------------------------

PENDING_LIMIT = 1_000_000  # bytes of the compressed file carried by the confirmation form


def _pack(content: bytes) -> str:
    return base64.b64encode(zlib.compress(content, 6)).decode()


def _unpack(value: str) -> bytes | None:
    try:
        inflater = zlib.decompressobj()
        content = inflater.decompress(base64.b64decode(value, validate=True), MAX_BYTES + 1)
    except (ValueError, zlib.error):
        return None
    return content


@login_required
@require_http_methods(["GET", "POST"])
def device_import(request: HttpRequest, client_id: int) -> HttpResponse:
    """Import devices and warranty dates from a CSV file: upload, preview every row, then confirm."""
    client = access_client(request.user, client_id)
    _staff_only(request)
    require(request.user, "devices", "add")
    require(request.user, "devices", "change")
    form = DeviceImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"client": client, "form": form, "preview": None, "pending": ""}
    status = 200
    if request.method == "POST" and "pending" in request.POST:
        content = _unpack(request.POST.get("pending", ""))
        if content is None:
            messages.error(request, _("The file to import was lost: upload it again."))
            return redirect("assets:device_import", client_id=client.pk)
        try:
            preview = services.device_import_apply(actor=request.user, client=client, content=content)
        except ValidationError:
            # The devices changed since the preview: show the new preview, nothing was written.
            context["preview"] = services.device_import_preview(actor=request.user, client=client, content=content)
            context["form"] = DeviceImportForm()
            status = 422
        else:
            messages.success(request, _("Import done: %(created)s devices added, %(updated)s updated.") % {
                "created": preview.count("create"), "updated": preview.count("update")})
            return redirect(reverse("assets:device_list") + f"?client={client.pk}")
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            form.add_error("file", _("The file is larger than 2 MiB: split it into smaller files."))
            status = 422
        else:
            content = upload.read()
            preview = services.device_import_preview(actor=request.user, client=client, content=content)
            context["preview"] = preview
            if preview.error:
                form.add_error("file", preview.error)
                status = 422
            elif preview.ok:
                packed = _pack(content)
                if len(packed) > PENDING_LIMIT:
                    form.add_error("file", _("This file is too large to import from this page: split it."))
                    status = 422
                else:
                    context["pending"] = packed
            else:
                status = 422
    elif request.method == "POST":
        status = 422
    if context["preview"] is not None:
        context["counts"] = {a: context["preview"].count(a) for a in ("create", "update", "error")}
    return render(request, "assets/device_import.html", context, status=status)


# --- Licences ----------------------------------------------------------------------------------

EXPIRY_WARNING_DAYS = 90


@login_required
@require_GET
def licence_list(request: HttpRequest, client_id: int) -> HttpResponse:
    """A client's licences: seats owned against devices with the product installed."""
    client = access_client(request.user, client_id)
    _staff_only(request)
    require(request.user, "devices", "view")
    today = timezone.localdate()
    soon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    rows = [{"licence": licence, "over": licence.installed > licence.seats,  # type: ignore[attr-defined]
             "expired": licence.expires_on is not None and licence.expires_on < today,
             "expiring": licence.expires_on is not None and today <= licence.expires_on <= soon}
            for licence in selectors.client_licences(client.pk)]
    return render(request, "assets/licence_list.html", {
        "client": client, "rows": rows, "can_add": has_capability(request.user, "devices", "add"),
        "can_change": has_capability(request.user, "devices", "change"),
        "can_delete": has_capability(request.user, "devices", "delete")})


@login_required
@require_http_methods(["GET", "POST"])
def licence_create(request: HttpRequest, client_id: int) -> HttpResponse:
    """Record a licence a client owns."""
    client = access_client(request.user, client_id)
    _staff_only(request)
    require(request.user, "devices", "add")
    form = LicenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.licence_create(actor=request.user, client=client, data=dict(form.cleaned_data))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Licence saved."))
            return redirect("assets:licence_list", client_id=client.pk)
    return _form_page(request, form, title=_("New licence for %(name)s") % {"name": client.name},
                      cancel_url=reverse("assets:licence_list", args=[client.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def licence_edit(request: HttpRequest, licence_id: int) -> HttpResponse:
    """Change a licence."""
    licence = selectors.access_licence(request.user, licence_id)
    _staff_only(request)
    require(request.user, "devices", "change")
    form = LicenceForm(request.POST or None, instance=licence)
    if request.method == "POST" and form.is_valid():
        try:
            services.licence_update(actor=request.user, licence=licence, data=dict(form.cleaned_data))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Licence saved."))
            return redirect("assets:licence_list", client_id=licence.client_id)
    return _form_page(request, form, title=_("Edit %(name)s") % {"name": licence.product},
                      cancel_url=reverse("assets:licence_list", args=[licence.client_id]))


@login_required
@require_POST
def licence_delete(request: HttpRequest, licence_id: int) -> HttpResponse:
    """Delete a licence."""
    licence = selectors.access_licence(request.user, licence_id)
    _staff_only(request)
    require(request.user, "devices", "delete")
    client_id = licence.client_id
    services.licence_delete(actor=request.user, licence=licence)
    messages.success(request, _("Licence deleted."))
    return redirect("assets:licence_list", client_id=client_id)


# --- Tags --------------------------------------------------------------------------------------

TAG_LIST = ListSpec(
    columns=[
        Column("name", gettext_lazy("Tag"), sort="name", accessor=lambda t: tag_chips([t])),
        Column("description", gettext_lazy("Description"), accessor=lambda t: t.description or "—"),
        Column("device_count", gettext_lazy("Devices"), sort="device_count",
               link=lambda t: reverse("assets:device_list") + f"?tag={t.pk}"),
        Column("edit", "", accessor=lambda t: format_html('<a href="{}">{}</a>', reverse(
            "assets:tag_edit", args=[t.pk]), _("Edit"))),
    ],
    search_fields=["name", "description"],
    default_sort="name",
)


@login_required
@require_GET
def tag_list(request: HttpRequest) -> HttpResponse:
    """The MSP's device tags, with how many devices carry each."""
    _staff_only(request)
    return render_list(request, selectors.tags_visible(request.user), TAG_LIST, template="assets/tag_list.html",
                       context={"can_add": has_capability(request.user, "policies", "add")
                                and request.user.client_scope() is None})  # type: ignore[union-attr]


@login_required
@require_http_methods(["GET", "POST"])
def tag_create(request: HttpRequest) -> HttpResponse:
    """Define a new tag."""
    _staff_only(request)
    require(request.user, "policies", "add")
    form = TagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tag = services.tag_create(actor=request.user, data=dict(form.cleaned_data))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Tag “%(name)s” created.") % {"name": tag.name})
            return redirect("assets:tag_list")
    return _form_page(request, form, title=_("New tag"), cancel_url=reverse("assets:tag_list"))


@login_required
@require_http_methods(["GET", "POST"])
def tag_edit(request: HttpRequest, tag_id: int) -> HttpResponse:
    """Rename a tag, or change its colour or description; delete it from here too."""
    tag = selectors.access_tag(request.user, tag_id)
    _staff_only(request)
    require(request.user, "policies", "change")
    form = TagForm(request.POST or None, instance=tag)
    if request.method == "POST" and form.is_valid():
        try:
            services.tag_update(actor=request.user, tag=tag, data=dict(form.cleaned_data))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Tag saved."))
            return redirect("assets:tag_list")
    return _form_page(request, form, title=_("Edit tag %(name)s") % {"name": tag.name},
                      cancel_url=reverse("assets:tag_list"), tag=tag,
                      can_delete=has_capability(request.user, "policies", "delete"))


@login_required
@require_POST
def tag_delete(request: HttpRequest, tag_id: int) -> HttpResponse:
    """Delete a tag (refused while a policy is attached to it)."""
    tag = selectors.access_tag(request.user, tag_id)
    _staff_only(request)
    try:
        services.tag_delete(actor=request.user, tag=tag)
    except TenfoldError as exc:
        if exc.status == 403:
            raise
        messages.error(request, str(exc.message))
        return redirect("assets:tag_edit", tag_id=tag.pk)
    messages.success(request, _("Tag deleted."))
    return redirect("assets:tag_list")
