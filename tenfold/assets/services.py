"""Writes of devices: by staff (create, edit, lifecycle) and by agents (registration, telemetry).

Staff writes validate, write, audit and emit in one transaction. Agent telemetry is not audited
(architecture rule 3) and is written set-based: one UPDATE of the device and one multi-row INSERT
per kind of row, whatever the number of items.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from tenfold.assets.models import (
    CheckResult,
    Device,
    DeviceKind,
    DeviceState,
    DeviceStateChange,
    MetricSample,
    SoftwareChange,
    SoftwareChangeKind,
    SoftwareItem,
)
from tenfold.clients.models import Client, Site
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, ValidationError, validation_error_from_django
from tenfold.core.models import ActorKind
from tenfold.core.roles import require

CREATE_FIELDS = ("name", "hostname", "kind", "site_id", "os_name", "os_version", "vendor", "model",
                 "serial_number", "purchase_date", "warranty_end", "notes")
UPDATE_FIELDS = ("name", "kind", "site_id", "purchase_date", "warranty_end", "notes")
AUDITED_FIELDS = [*CREATE_FIELDS, "state", "managed", "client"]
UNIQUE_MACHINE = _("This client already has a device with this machine id.")


def _apply(device: Device, fields: tuple[str, ...], data: dict[str, Any]) -> None:
    unknown = set(data) - set(fields)
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    for key, value in data.items():
        setattr(device, key, value.strip() if isinstance(value, str) else value)


def _check_site(client_id: int, data: dict[str, Any]) -> None:
    site_id = data.get("site_id")
    if site_id is not None and not Site.objects.filter(pk=site_id, client_id=client_id).exists():
        # Same message whether the site is missing or another client's: never confirm it exists.
        raise ValidationError(_("Choose one of this client's sites."), field="site")


def _save(device: Device) -> None:
    try:
        device.full_clean(validate_constraints=False, validate_unique=False)
    except DjangoValidationError as exc:
        raise validation_error_from_django(exc) from exc
    if device.warranty_end and device.purchase_date and device.warranty_end < device.purchase_date:
        raise ValidationError(_("The warranty cannot end before the purchase date."), field="warranty_end")
    try:
        with transaction.atomic():
            device.save()
    except IntegrityError as exc:
        raise ValidationError(UNIQUE_MACHINE, field="machine_id") from exc


def _record_state(device: Device, from_state: str, actor: Any, reason: str = "") -> DeviceStateChange:
    return DeviceStateChange.objects.create(
        client_id=device.client_id, device=device, from_state=from_state, to_state=device.state,
        actor=actor if getattr(actor, "pk", None) else None, reason=reason[:300])


@transaction.atomic
def device_create(*, actor: Any, client: Client, data: dict[str, Any]) -> Device:
    """Add a device by hand (a printer, a switch, a phone): unmanaged until an agent reports on it."""
    require(actor, "devices", "add")
    _check_site(client.pk, data)
    device = Device(client=client, state=DeviceState.ACTIVE, managed=False)
    _apply(device, CREATE_FIELDS, data)
    _save(device)
    _record_state(device, "", actor, str(_("Added by hand")))
    audit.record(actor, "device.created", device, changes=audit.snapshot(device, AUDITED_FIELDS))
    events.emit("device.created", client_id=client.pk,
                payload={"device_id": device.pk, "client_id": client.pk, "kind": device.kind, "managed": False})
    return device


@transaction.atomic
def device_update(*, actor: Any, device: Device, data: dict[str, Any]) -> Device:
    """Change what staff maintain about a device: name, kind, site, purchase and warranty dates, notes."""
    require(actor, "devices", "change")
    _check_site(device.client_id, data)
    before = audit.snapshot(device, list(UPDATE_FIELDS))
    _apply(device, UPDATE_FIELDS, data)
    _save(device)
    changes = audit.diff(before, audit.snapshot(device, list(UPDATE_FIELDS)))
    if changes:
        audit.record(actor, "device.updated", device, changes=changes)
        if "warranty_end" in changes:
            events.emit("device.warranty_changed", client_id=device.client_id,
                        payload={"device_id": device.pk, "from": changes["warranty_end"][0],
                                 "to": changes["warranty_end"][1]})
    return device


@transaction.atomic
def device_set_state(*, actor: Any, device: Device, state: str, reason: str = "") -> Device:
    """Move a device through its lifecycle; every move is kept in its history."""
    require(actor, "devices", "change")
    if state not in DeviceState.values:
        raise ValidationError(_("Choose a lifecycle state."), field="state")
    if state == device.state:
        raise Conflict(_("The device is already in this state."))
    old = device.state
    device.state = state
    device.save(update_fields=["state", "updated_at"])
    _record_state(device, old, actor, reason.strip())
    audit.record(actor, "device.state_changed", device, changes={"state": [old, state], "reason": reason.strip()})
    events.emit("device.state_changed", client_id=device.client_id,
                payload={"device_id": device.pk, "client_id": device.client_id, "from": old, "to": state})
    return device


def device_retire(*, actor: Any, device: Device, reason: str = "") -> Device:
    """Retire a device: it leaves monitoring, billing counts and the scorecard from now on."""
    return device_set_state(actor=actor, device=device, state=DeviceState.RETIRED, reason=reason)


# --- Agent side -------------------------------------------------------------------------------


def device_register_agent(*, client: Client, site: Site | None, machine_id: str, hostname: str,
                          os_family: str, os_name: str, os_version: str) -> tuple[Device, bool]:
    """The device an agent enrolls as: the client's device with this machine id, or a new one.

    Called by the agents app inside its enrollment transaction; returns (device, created).
    """
    device = Device.objects.select_for_update().filter(client=client, machine_id=machine_id).first()
    created = device is None
    if device is None:
        device = Device(client=client, site=site, machine_id=machine_id, name=hostname[:200],
                        state=DeviceState.ONBOARDING, kind=DeviceKind.WORKSTATION)
    elif site is not None:
        device.site = site
    device.hostname, device.os_family, device.os_name, device.os_version = hostname, os_family, os_name, os_version
    device.managed = True
    old_state = device.state
    if device.state == DeviceState.RETIRED:
        device.state = DeviceState.ONBOARDING
    try:
        with transaction.atomic():
            device.save()
    except IntegrityError:
        # Another enrollment of the same machine created it first: use that one.
        return device_register_agent(client=client, site=site, machine_id=machine_id, hostname=hostname,
                                     os_family=os_family, os_name=os_name, os_version=os_version)
    if created or old_state != device.state:
        _record_state(device, "" if created else old_state, None, str(_("Agent enrolled")))
        if not created:
            events.emit("device.state_changed", client_id=device.client_id,
                        payload={"device_id": device.pk, "client_id": device.client_id, "from": old_state,
                                 "to": device.state})
    audit.record(None, "device.registered", device, actor_kind=ActorKind.AGENT,
                 changes={"created": created, "hostname": hostname, "machine_id": machine_id})
    return device, created


@dataclass
class Inventory:
    """A device's hardware and software as an agent reported them."""

    at: datetime
    device_fields: dict[str, Any]
    hardware: dict[str, Any]
    software: list[tuple[str, str, str, date | None]]
    digest: str = ""


@dataclass
class Telemetry:
    """What one check-in carries for the device, in columns ready for set-based writes."""

    device_id: int
    client_id: int
    seen_at: datetime
    ip: str = ""
    uptime_seconds: int | None = None
    logged_in_user: str | None = None
    metrics: list[tuple[datetime, float | None, float | None, float | None]] = field(default_factory=list)
    results: list[tuple[int, datetime, int, float | None, str, int]] = field(default_factory=list)
    posture: dict[str, Any] | None = None
    inventory: Inventory | None = None


def inventory_digest(hardware: dict[str, Any], software: list[tuple[str, str, str, date | None]]) -> str:
    """A stable hash of an inventory, to skip the work when nothing changed."""
    canonical = json.dumps({"hardware": hardware, "software": sorted(software, key=lambda s: tuple(map(str, s)))},
                           sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def telemetry_record(telemetry: Telemetry) -> None:
    """Apply one check-in's telemetry to a device (call inside the check-in transaction)."""
    updates: dict[str, Any] = {"last_seen_at": telemetry.seen_at}
    if telemetry.ip:
        updates["last_ip"] = telemetry.ip[:64]
    if telemetry.uptime_seconds is not None:
        updates["uptime_seconds"] = telemetry.uptime_seconds
    if telemetry.logged_in_user is not None:
        updates["logged_in_user"] = telemetry.logged_in_user[:200]
    if telemetry.posture:
        updates.update(telemetry.posture)
    if telemetry.inventory is not None:
        updates.update(_inventory_updates(telemetry))
    Device.objects.filter(pk=telemetry.device_id).update(**updates)
    if telemetry.metrics:
        MetricSample.objects.bulk_create([
            MetricSample(device_id=telemetry.device_id, client_id=telemetry.client_id, at=at, cpu_pct=cpu,
                         mem_pct=mem, disk_min_free_pct=disk) for at, cpu, mem, disk in telemetry.metrics])
    if telemetry.results:
        CheckResult.objects.bulk_create([
            CheckResult(device_id=telemetry.device_id, client_id=telemetry.client_id, check_id=check_id, at=at,
                        status=status, value=value, message=message[:500], seq=seq)
            for check_id, at, status, value, message, seq in telemetry.results])


def _inventory_updates(telemetry: Telemetry) -> dict[str, Any]:
    inventory = telemetry.inventory
    assert inventory is not None
    digest = inventory.digest or inventory_digest(inventory.hardware, inventory.software)
    updates: dict[str, Any] = {"inventory_at": inventory.at}
    current = Device.objects.filter(pk=telemetry.device_id).values_list("inventory_hash", flat=True).first()
    if current == digest:
        return updates
    updates.update(inventory.device_fields)
    updates["hardware"] = inventory.hardware
    updates["inventory_hash"] = digest
    _replace_software(telemetry.device_id, telemetry.client_id, inventory, first=not current)
    return updates


def _replace_software(device_id: int, client_id: int, inventory: Inventory, *, first: bool) -> None:
    """Replace the device's software set and record what was installed, removed or updated."""
    new_items: dict[tuple[str, str, str], date | None] = {}
    for name, version, publisher, installed_on in inventory.software:
        new_items.setdefault((name, version, publisher), installed_on)
    old_rows = list(SoftwareItem.objects.filter(device_id=device_id).values_list("name", "version", "publisher"))

    def versions(rows: Any) -> dict[tuple[str, str], set[str]]:
        grouped: dict[tuple[str, str], set[str]] = {}
        for name, version, publisher in rows:
            grouped.setdefault((name, publisher), set()).add(version)
        return grouped

    before, after = versions(old_rows), versions(new_items)
    changes: list[SoftwareChange] = []

    def change(kind: str, name: str, publisher: str, old: str = "", new: str = "") -> None:
        changes.append(SoftwareChange(client_id=client_id, device_id=device_id, at=inventory.at, change=kind,
                                      name=name, publisher=publisher, version_before=old, version_after=new))

    if not first:  # the first inventory is a baseline, not a list of installs
        for key in sorted(set(before) | set(after)):
            name, publisher = key
            old_versions, new_versions = before.get(key, set()), after.get(key, set())
            gone, came = sorted(old_versions - new_versions), sorted(new_versions - old_versions)
            if len(gone) == 1 and len(came) == 1:
                change(SoftwareChangeKind.UPDATED, name, publisher, gone[0], came[0])
                continue
            for version in gone:
                change(SoftwareChangeKind.REMOVED, name, publisher, old=version)
            for version in came:
                change(SoftwareChangeKind.ADDED, name, publisher, new=version)
    if old_rows:
        SoftwareItem.objects.filter(device_id=device_id).delete()
    SoftwareItem.objects.bulk_create([
        SoftwareItem(client_id=client_id, device_id=device_id, name=name, version=version, publisher=publisher,
                     installed_on=installed_on)
        for (name, version, publisher), installed_on in new_items.items()], batch_size=500)
    if changes:
        SoftwareChange.objects.bulk_create(changes, batch_size=500)
