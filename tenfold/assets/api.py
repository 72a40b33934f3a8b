"""REST endpoints for devices, their software inventory, discovered devices, licences and CSV import."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tenfold.assets import selectors, services
from tenfold.assets.models import DeviceKind, DeviceState
from tenfold.assets.schemas import (
    CheckResultOut,
    DeviceImportIn,
    DeviceImportOut,
    DeviceIn,
    DeviceOut,
    DevicePatch,
    DeviceStateIn,
    DiscoveredDeviceOut,
    DiscoveredIgnoreIn,
    LicenceIn,
    LicenceOut,
    LicencePatch,
    SoftwareOut,
    TagIn,
    TagOut,
    TagPatch,
)
from tenfold.clients.selectors import access_client
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate
from tenfold.core.errors import ValidationError

router = Router(tags=["devices"])

ORDERING = {"name": "name", "client": "client__name", "kind": "kind", "state": "state", "os": "os_name",
            "last_seen_at": "last_seen_at", "warranty_end": "warranty_end", "pending_updates": "pending_updates",
            "created_at": "created_at"}


class DeviceFilters(Schema):
    q: str | None = None
    client_id: int | None = None
    site_id: int | None = None
    kind: DeviceKind | None = None
    state: DeviceState | None = None
    online: bool | None = None
    managed: bool | None = None
    tag_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class SoftwareParams(Schema):
    q: str | None = None
    page: int = 1
    page_size: int | None = None


class CheckResultParams(Schema):
    check_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    page: int = 1
    page_size: int | None = None


@router.get("", response={200: Page[DeviceOut], **ERRORS}, summary="List devices")
def list_devices(request: HttpRequest, filters: Query[DeviceFilters]) -> Any:
    """Devices you may see; `q` searches name, hostname, serial number and logged-in user."""
    queryset = selectors.devices_visible(actor_of(request))
    if filters.q:
        term = filters.q.strip()[:200]
        queryset = queryset.filter(Q(name__icontains=term) | Q(hostname__icontains=term)
                                   | Q(serial_number__icontains=term) | Q(logged_in_user__icontains=term))
    for name in ("client_id", "site_id", "kind", "state", "managed"):
        value = getattr(filters, name)
        if value is not None:
            queryset = queryset.filter(**{name: value})
    if filters.online is not None:
        queryset = queryset.filter(Q(is_online=filters.online))
    if filters.tag_id is not None:
        queryset = queryset.filter(tags=filters.tag_id)
    # Empty values (never seen, no warranty date) sort last either way, on SQLite as on PostgreSQL.
    order = ordering_param(filters.ordering, ORDERING, "name")
    queryset = queryset.order_by(*[F(o[1:]).desc(nulls_last=True) if o.startswith("-") else F(o).asc(nulls_last=True)
                                   for o in order])
    return paginate(queryset, filters.page, filters.page_size)


@router.post("", response={201: DeviceOut, **ERRORS}, summary="Add a device by hand")
def create_device(request: HttpRequest, payload: DeviceIn) -> Any:
    actor = actor_of(request)
    data = payload.model_dump()
    client = access_client(actor, data.pop("client_id"))
    device = services.device_create(actor=actor, client=client, data=data)
    return Status(201, selectors.access_device(actor, device.pk))


@router.get("/{device_id}", response={200: DeviceOut, **ERRORS}, summary="Get a device")
def get_device(request: HttpRequest, device_id: int) -> Any:
    return selectors.access_device(actor_of(request), device_id)


@router.patch("/{device_id}", response={200: DeviceOut, **ERRORS}, summary="Change a device")
def update_device(request: HttpRequest, device_id: int, payload: DevicePatch) -> Any:
    """Change what staff maintain about a device; `tag_ids` replaces its tags."""
    actor = actor_of(request)
    device = selectors.access_device(actor, device_id)
    data = payload.model_dump(exclude_unset=True)
    tag_ids = data.pop("tag_ids", None)
    with transaction.atomic():
        if data or tag_ids is None:
            services.device_update(actor=actor, device=device, data=data)
        if tag_ids is not None:
            services.device_set_tags(actor=actor, device=device, tag_ids=tag_ids)
    return selectors.access_device(actor, device_id)


@router.post("/{device_id}/state", response={200: DeviceOut, **ERRORS}, summary="Change a device's lifecycle state")
def set_device_state(request: HttpRequest, device_id: int, payload: DeviceStateIn) -> Any:
    """Onboarding, active, maintenance or retired; every move is kept in the device's history."""
    actor = actor_of(request)
    device = selectors.access_device(actor, device_id)
    services.device_set_state(actor=actor, device=device, state=payload.state, reason=payload.reason)
    return selectors.access_device(actor, device_id)


@router.get("/{device_id}/software", response={200: Page[SoftwareOut], **ERRORS},
            summary="List a device's installed software")
def list_device_software(request: HttpRequest, device_id: int, params: Query[SoftwareParams]) -> Any:
    device = selectors.access_device(actor_of(request), device_id)
    return paginate(selectors.device_software(device, params.q or ""), params.page, params.page_size)


@router.get("/{device_id}/check-results", response={200: Page[CheckResultOut], **ERRORS},
            summary="List a device's check results")
def list_device_check_results(request: HttpRequest, device_id: int, params: Query[CheckResultParams]) -> Any:
    """The raw results its agent reported, newest first; `check_id` keeps one check's."""
    device = selectors.access_device(actor_of(request), device_id)
    return paginate(selectors.device_check_results(device, params.check_id), params.page, params.page_size)


# --- Tags ----------------------------------------------------------------------------------------

tags_router = Router(tags=["devices"])


class TagFilters(Schema):
    q: str | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


@tags_router.get("", response={200: Page[TagOut], **ERRORS}, summary="List tags")
def list_tags(request: HttpRequest, filters: Query[TagFilters]) -> Any:
    """The MSP's device tags (staff only); filter devices by one with `GET /devices?tag_id=`."""
    queryset = selectors.tags_visible(actor_of(request))
    if filters.q:
        queryset = queryset.filter(name__icontains=filters.q.strip()[:50])
    queryset = queryset.order_by(*ordering_param(filters.ordering, {"name": "name", "device_count": "device_count",
                                                                    "created_at": "created_at"}, "name"))
    return paginate(queryset, filters.page, filters.page_size)


@tags_router.post("", response={201: TagOut, **ERRORS}, summary="Create a tag")
def create_tag(request: HttpRequest, payload: TagIn) -> Any:
    actor = actor_of(request)
    tag = services.tag_create(actor=actor, data=payload.model_dump())
    return Status(201, selectors.access_tag(actor, tag.pk))


@tags_router.get("/{tag_id}", response={200: TagOut, **ERRORS}, summary="Get a tag")
def get_tag(request: HttpRequest, tag_id: int) -> Any:
    return selectors.access_tag(actor_of(request), tag_id)


@tags_router.patch("/{tag_id}", response={200: TagOut, **ERRORS}, summary="Change a tag")
def update_tag(request: HttpRequest, tag_id: int, payload: TagPatch) -> Any:
    actor = actor_of(request)
    tag = selectors.access_tag(actor, tag_id)
    services.tag_update(actor=actor, tag=tag, data=payload.model_dump(exclude_unset=True))
    return selectors.access_tag(actor, tag_id)


@tags_router.delete("/{tag_id}", response={204: None, **ERRORS}, summary="Delete a tag")
def delete_tag(request: HttpRequest, tag_id: int) -> Any:
    """Delete a tag (its devices lose it); 409 while a policy is attached to it."""
    actor = actor_of(request)
    services.tag_delete(actor=actor, tag=selectors.access_tag(actor, tag_id))
    return Status(204, None)


# --- Discovered devices ------------------------------------------------------------------------

discovered_router = Router(tags=["discovered devices"])
DISCOVERED_ORDERING = {"ip": "ip", "mac": "mac", "hostname": "hostname", "vendor": "vendor",
                       "last_seen_at": "last_seen_at", "first_seen_at": "first_seen_at", "client": "client__name"}


class DiscoveredFilters(Schema):
    q: str | None = None
    client_id: int | None = None
    matched: bool | None = None
    ignored: bool | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


@discovered_router.get("", response={200: Page[DiscoveredDeviceOut], **ERRORS}, summary="List discovered devices")
def list_discovered(request: HttpRequest, filters: Query[DiscoveredFilters]) -> Any:
    """What agents saw on client networks; `q` searches IP, MAC, hostname and vendor."""
    queryset = selectors.discovered_visible(actor_of(request))
    if filters.q:
        term = filters.q.strip()[:200]
        queryset = queryset.filter(Q(ip__icontains=term) | Q(mac__icontains=term) | Q(hostname__icontains=term)
                                   | Q(vendor__icontains=term))
    if filters.client_id is not None:
        queryset = queryset.filter(client_id=filters.client_id)
    if filters.matched is not None:
        queryset = queryset.filter(matched_device__isnull=not filters.matched)
    if filters.ignored is not None:
        queryset = queryset.filter(ignored=filters.ignored)
    queryset = queryset.order_by(*ordering_param(filters.ordering, DISCOVERED_ORDERING, "ip"))
    return paginate(queryset, filters.page, filters.page_size)


@discovered_router.post("/{discovered_id}/ignore", response={200: DiscoveredDeviceOut, **ERRORS},
                        summary="Ignore a discovered device")
def ignore_discovered(request: HttpRequest, discovered_id: int, payload: DiscoveredIgnoreIn) -> Any:
    actor = actor_of(request)
    row = selectors.access_discovered(actor, discovered_id)
    return services.discovered_ignore(actor=actor, discovered=row, ignored=payload.ignored)


# --- Licences -------------------------------------------------------------------------------------

licences_router = Router(tags=["licences"])
LICENCE_ORDERING = {"product": "product", "seats": "seats", "expires_on": "expires_on", "installed": "installed",
                    "client": "client__name"}


class LicenceFilters(Schema):
    q: str | None = None
    client_id: int | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


@licences_router.get("", response={200: Page[LicenceOut], **ERRORS}, summary="List licences")
def list_licences(request: HttpRequest, filters: Query[LicenceFilters]) -> Any:
    """Licences with seats owned and `installed` (devices whose inventory matches the pattern)."""
    queryset = selectors.licences_visible(actor_of(request))
    if filters.q:
        term = filters.q.strip()[:200]
        queryset = queryset.filter(Q(product__icontains=term) | Q(publisher__icontains=term))
    if filters.client_id is not None:
        queryset = queryset.filter(client_id=filters.client_id)
    queryset = queryset.order_by(*ordering_param(filters.ordering, LICENCE_ORDERING, "product"))
    return paginate(queryset, filters.page, filters.page_size)


@licences_router.post("", response={201: LicenceOut, **ERRORS}, summary="Record a licence")
def create_licence(request: HttpRequest, payload: LicenceIn) -> Any:
    actor = actor_of(request)
    data = payload.model_dump()
    client = access_client(actor, data.pop("client_id"))
    licence = services.licence_create(actor=actor, client=client, data=data)
    return Status(201, selectors.access_licence(actor, licence.pk))


@licences_router.get("/{licence_id}", response={200: LicenceOut, **ERRORS}, summary="Get a licence")
def get_licence(request: HttpRequest, licence_id: int) -> Any:
    return selectors.access_licence(actor_of(request), licence_id)


@licences_router.patch("/{licence_id}", response={200: LicenceOut, **ERRORS}, summary="Change a licence")
def update_licence(request: HttpRequest, licence_id: int, payload: LicencePatch) -> Any:
    actor = actor_of(request)
    licence = selectors.access_licence(actor, licence_id)
    services.licence_update(actor=actor, licence=licence, data=payload.model_dump(exclude_unset=True))
    return selectors.access_licence(actor, licence_id)


@licences_router.delete("/{licence_id}", response={204: None, **ERRORS}, summary="Delete a licence")
def delete_licence(request: HttpRequest, licence_id: int) -> Any:
    actor = actor_of(request)
    services.licence_delete(actor=actor, licence=selectors.access_licence(actor, licence_id))
    return Status(204, None)


# --- CSV import ------------------------------------------------------------------------------------

import_router = Router(tags=["devices"])


@import_router.post("/{client_id}/device-import", response={200: DeviceImportOut, **ERRORS},
                    summary="Import devices and warranties from a CSV file")
def import_devices(request: HttpRequest, client_id: int, payload: DeviceImportIn) -> Any:
    """Preview (default) or, with `confirm: true`, import a CSV file of devices and warranty dates.

    Columns: name, kind, serial_number, vendor, model, purchase_date, warranty_end, site, notes. Rows
    match existing devices by serial number, else by name. A confirmed import with any wrong row is a
    422 naming each row (`row:<line>`), and nothing is written."""
    actor = actor_of(request)
    client = access_client(actor, client_id)
    try:
        content = base64.b64decode(payload.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(_("content_base64 is not valid base64."), field="content_base64") from None
    if payload.confirm:
        preview = services.device_import_apply(actor=actor, client=client, content=content)
    else:
        preview = services.device_import_preview(actor=actor, client=client, content=content)
    return {"confirmed": payload.confirm, "error": str(preview.error), "created": preview.count("create"),
            "updated": preview.count("update"), "errors": preview.count("error"),
            "rows": [{"line": r.line, "action": r.action, "device_id": r.device.pk if r.device else None,
                      "errors": r.errors} for r in preview.rows]}
