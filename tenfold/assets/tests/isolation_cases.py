"""Isolation cases of the device pages and API (see tenfold/core/isolation.py)."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tenfold.assets.models import Device, DeviceStateChange, DiscoveredDevice, Licence, SoftwareItem, Tag
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


# --- Discovered devices, licences, CSV import -----------------------------------------------------

DISCOVERED_A_HOST = "ISO-DISCOVERED-A-4417"
LICENCE_A_PRODUCT = "ISO-LICENCE-A-9902"
EXTRA_MODELS = (Device, DeviceStateChange, DiscoveredDevice, Licence)


def discovered_a(world: World) -> DiscoveredDevice:
    if "discovered_a" not in world.extra:
        now = timezone.now()
        world.extra["discovered_a"] = DiscoveredDevice.objects.create(
            client=world.client_a, ip="192.0.2.44", mac="00:80:77:00:00:44", hostname=DISCOVERED_A_HOST,
            vendor="Brother", source="arp", first_seen_at=now, last_seen_at=now)
    return world.extra["discovered_a"]


def licence_a(world: World) -> Licence:
    if "licence_a" not in world.extra:
        device_a(world)
        world.extra["licence_a"] = Licence.objects.create(client=world.client_a, product=LICENCE_A_PRODUCT, seats=1,
                                                          match_pattern="Isolated")
    return world.extra["licence_a"]


def discovered_params(world: World) -> dict[str, Any]:
    return {"discovered_id": discovered_a(world).pk}


def licence_params(world: World) -> dict[str, Any]:
    return {"licence_id": licence_a(world).pk}


def discovered_leak(world: World) -> str:
    discovered_a(world)
    return DISCOVERED_A_HOST


def licence_leak(world: World) -> str:
    licence_a(world)
    return LICENCE_A_PRODUCT


def licence_client_params(world: World) -> dict[str, Any]:
    licence_a(world)
    return {"client_id": world.client_a.pk}


CSV = b"name;kind;serial_number;warranty_end\nIMP-CSV-01;other;SN-ISO-1;31/12/2028\n"


def import_form(world: World) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("devices.csv", CSV, content_type="text/csv")}


register(
    Case("ui:assets:discovered_list", "list", "devices", staff_only=True, leak=discovered_leak),
    Case("ui:assets:discovered_detail", "object", "devices", params=discovered_params, staff_only=True),
    Case("ui:assets:discovered_ignore", "object", "devices", "change", method="POST", params=discovered_params,
         body=lambda w: {"ignored": "1"}, models=EXTRA_MODELS, staff_only=True),
    Case("ui:assets:discovered_create_device", "object", "devices", "add", method="POST", params=discovered_params,
         body=lambda w: {"name": "IMP-FROM-DISCOVERY", "kind": "other"}, models=EXTRA_MODELS, staff_only=True),
    Case("ui:assets:device_import", "create", "devices", "add", method="POST", params=client_params,
         body=import_form, models=EXTRA_MODELS, staff_only=True),
    Case("ui:assets:licence_list", "object", "devices", params=licence_client_params, staff_only=True),
    Case("ui:assets:licence_create", "create", "devices", "add", method="POST", params=client_params,
         body=lambda w: {"product": "Sage 100", "seats": "3", "match_pattern": "Sage"}, models=EXTRA_MODELS,
         staff_only=True),
    Case("ui:assets:licence_edit", "object", "devices", "change", method="POST", params=licence_params,
         body=lambda w: {"product": "Renamed", "seats": "4", "match_pattern": "Isolated"}, models=EXTRA_MODELS,
         staff_only=True),
    Case("ui:assets:licence_delete", "object", "devices", "delete", method="POST", params=licence_params,
         models=EXTRA_MODELS, staff_only=True),
    # API
    Case("api:GET /api/v1/discovered-devices", "list", "devices", leak=discovered_leak),
    Case("api:POST /api/v1/discovered-devices/{discovered_id}/ignore", "object", "devices", "change",
         params=discovered_params, body=lambda w: {"ignored": True}, models=EXTRA_MODELS),
    Case("api:GET /api/v1/licences", "list", "devices", leak=licence_leak),
    Case("api:POST /api/v1/licences", "create", "devices", "add", params=client_params,
         body=lambda w: {"client_id": w.client_a.pk, "product": "Sage 100", "seats": 2}, models=EXTRA_MODELS),
    Case("api:GET /api/v1/licences/{licence_id}", "object", "devices", params=licence_params),
    Case("api:PATCH /api/v1/licences/{licence_id}", "object", "devices", "change", params=licence_params,
         body=lambda w: {"seats": 5}, models=EXTRA_MODELS),
    Case("api:DELETE /api/v1/licences/{licence_id}", "object", "devices", "delete", params=licence_params,
         models=EXTRA_MODELS),
    Case("api:POST /api/v1/clients/{client_id}/device-import", "create", "devices", "add", params=client_params,
         body=lambda w: {"content_base64": base64.b64encode(CSV).decode(), "confirm": True}, models=EXTRA_MODELS),
)


# --- Tags (MSP-level labels; a device's tags are its client's data) ---------------------------------

TAG_NAME = "ISO-TAG-5108"
TAG_MODELS = (Tag, Device, Device.tags.through)


def tag_a(world: World) -> Tag:
    if "tag_a" not in world.extra:
        world.extra["tag_a"] = Tag.objects.create(name=TAG_NAME, colour="red")
    return world.extra["tag_a"]


def tag_params(world: World) -> dict[str, Any]:
    return {"tag_id": tag_a(world).pk}


def device_with_tag_params(world: World) -> dict[str, Any]:
    tag_a(world)
    return device_params(world)


def device_tag_leak(world: World) -> str:
    # client A's device carries the tag: users who cannot see client A must not find the device through it
    device_a(world).tags.add(tag_a(world))
    return DEVICE_A_NAME


register(
    Case("ui:assets:tag_list", "list", "devices", staff_only=True, client_owned=False, leak=device_tag_leak,
         note="Tags are the MSP's; the device count only counts devices the user may see."),
    Case("ui:assets:tag_create", "create", "policies", "add", method="POST",
         body=lambda w: {"name": "VIP", "colour": "amber"}, models=TAG_MODELS, staff_only=True, client_owned=False,
         note="An MSP-level record: restricted staff may not define tags."),
    Case("ui:assets:tag_edit", "object", "policies", "change", method="POST", params=tag_params,
         body=lambda w: {"name": "Renamed tag", "colour": "blue"}, models=TAG_MODELS, staff_only=True,
         client_owned=False),
    Case("ui:assets:tag_delete", "object", "policies", "delete", method="POST", params=tag_params,
         models=TAG_MODELS, staff_only=True, client_owned=False),
    Case("ui:assets:device_tags", "object", "devices", "change", method="POST", params=device_with_tag_params,
         body=lambda w: {"tags": [str(tag_a(w).pk)]}, models=TAG_MODELS, staff_only=True),
    # API
    Case("api:GET /api/v1/tags", "list", "devices", staff_only=True, client_owned=False, leak=device_tag_leak),
    Case("api:POST /api/v1/tags", "create", "policies", "add", body=lambda w: {"name": "Point of sale"},
         models=TAG_MODELS, staff_only=True, client_owned=False),
    Case("api:GET /api/v1/tags/{tag_id}", "object", "devices", params=tag_params, staff_only=True,
         client_owned=False),
    Case("api:PATCH /api/v1/tags/{tag_id}", "object", "policies", "change", params=tag_params,
         body=lambda w: {"colour": "green"}, models=TAG_MODELS, staff_only=True, client_owned=False),
    Case("api:DELETE /api/v1/tags/{tag_id}", "object", "policies", "delete", params=tag_params, models=TAG_MODELS,
         staff_only=True, client_owned=False),
)
