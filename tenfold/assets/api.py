"""REST endpoints for devices and their software inventory."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from tenfold.assets import selectors, services
from tenfold.assets.models import DeviceKind, DeviceState
from tenfold.assets.schemas import DeviceIn, DeviceOut, DevicePatch, DeviceStateIn, SoftwareOut
from tenfold.clients.selectors import access_client
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate

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
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class SoftwareParams(Schema):
    q: str | None = None
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
    actor = actor_of(request)
    device = selectors.access_device(actor, device_id)
    services.device_update(actor=actor, device=device, data=payload.model_dump(exclude_unset=True))
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
