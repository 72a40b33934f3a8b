"""Isolation cases of the device pages and API (see tenfold/core/isolation.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from tenfold.assets.models import Device, DeviceStateChange, SoftwareItem
from tenfold.core.isolation import Case, World, register

MODELS = (Device, DeviceStateChange, SoftwareItem)
DEVICE_A_NAME = "ISO-DEVICE-A-7731"


def device_a(world: World) -> Device:
    if "device_a" not in world.extra:
        device = Device.objects.create(client=world.client_a, name=DEVICE_A_NAME, kind="server", state="active",
                                       managed=True, os_name="Windows Server 2022", last_seen_at=timezone.now(),
                                       warranty_end=date(2027, 3, 31))
        SoftwareItem.objects.create(client=world.client_a, device=device, name="Isolated Program", version="1.0")
        world.extra["device_a"] = device
    return world.extra["device_a"]


def device_params(world: World) -> dict[str, Any]:
    return {"device_id": device_a(world).pk}


def client_params(world: World) -> dict[str, Any]:
    device_a(world)
    return {"client_id": world.client_a.pk}


def leak(world: World) -> str:
    device_a(world)
    return DEVICE_A_NAME


def create_form(world: World) -> dict[str, Any]:
    return {"name": "IMP-ISOLATION", "kind": "other", "vendor": "Brother", "warranty_end": "2028-01-31"}


def edit_form(world: World) -> dict[str, Any]:
    return {"name": "SRV-RENAMED", "kind": "server", "notes": "changed by isolation"}


register(
    Case("ui:assets:device_list", "list", "devices", staff_only=True, leak=leak),
    Case("ui:assets:device_detail", "object", "devices", params=device_params, staff_only=True),
    Case("ui:assets:device_software", "object", "devices", params=device_params, staff_only=True),
    Case("ui:assets:client_devices_panel", "object", "devices", params=client_params, staff_only=False),
    Case("ui:assets:device_create", "create", "devices", "add", method="POST", params=client_params,
         body=create_form, models=MODELS, staff_only=True),
    Case("ui:assets:device_edit", "object", "devices", "change", method="POST", params=device_params,
         body=edit_form, models=MODELS, staff_only=True),
    Case("ui:assets:device_state", "object", "devices", "change", method="POST", params=device_params,
         body=lambda w: {"state": "maintenance", "reason": "isolation"}, models=MODELS, staff_only=True),
    # API
    Case("api:GET /api/v1/devices", "list", "devices", leak=leak),
    Case("api:POST /api/v1/devices", "create", "devices", "add", params=client_params,
         body=lambda w: {"client_id": w.client_a.pk, "name": "IMP-API", "kind": "other"}, models=MODELS),
    Case("api:GET /api/v1/devices/{device_id}", "object", "devices", params=device_params),
    Case("api:PATCH /api/v1/devices/{device_id}", "object", "devices", "change", params=device_params,
         body=lambda w: {"notes": "patched by isolation"}, models=MODELS),
    Case("api:POST /api/v1/devices/{device_id}/state", "object", "devices", "change", params=device_params,
         body=lambda w: {"state": "maintenance", "reason": "isolation"}, models=MODELS),
    Case("api:GET /api/v1/devices/{device_id}/software", "object", "devices", params=device_params),
    Case("api:GET /api/v1/devices/{device_id}/check-results", "object", "devices", params=device_params),
)
