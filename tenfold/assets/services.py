"""Writes of devices: by staff (create, edit, lifecycle) and by agents (registration, telemetry).

Staff writes validate, write, audit and emit in one transaction. Agent telemetry is not audited
(architecture rule 3) and is written set-based: one UPDATE of the device and one multi-row INSERT
per kind of row, whatever the number of items.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.assets.csv_import import parse_devices_csv
from tenfold.assets.discovery import discovery_record
from tenfold.assets.models import (
    CheckResult,
    Device,
    DeviceKind,
    DevicePostureDaily,
    DeviceState,
    DeviceStateChange,
    DiscoveredDevice,
    Licence,
    MetricSample,
    SoftwareChange,
    SoftwareChangeKind,
    SoftwareItem,
    Tag,
)
from tenfold.clients.models import Client, Site
from tenfold.clients.services import check_site_of_client
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.models import ActorKind
from tenfold.core.roles import require
from tenfold.core.writes import apply_fields, clean_or_raise, save_or_unique_error

CREATE_FIELDS = ("name", "hostname", "kind", "site_id", "os_name", "os_version", "vendor", "model",
                 "serial_number", "purchase_date", "warranty_end", "notes")
UPDATE_FIELDS = ("name", "kind", "site_id", "purchase_date", "warranty_end", "notes")
AUDITED_FIELDS = [*CREATE_FIELDS, "state", "managed", "client"]
UNIQUE_MACHINE = _("This client already has a device with this machine id.")


def _save(device: Device) -> None:
    clean_or_raise(device)
    if device.warranty_end and device.purchase_date and device.warranty_end < device.purchase_date:
        raise ValidationError(_("The warranty cannot end before the purchase date."), field="warranty_end")
    save_or_unique_error(device, unique_message=UNIQUE_MACHINE, unique_field="machine_id")


def _record_state(device: Device, from_state: str, actor: Any, reason: str = "") -> DeviceStateChange:
    return DeviceStateChange.objects.create(
        client_id=device.client_id, device=device, from_state=from_state, to_state=device.state,
        actor=actor if getattr(actor, "pk", None) else None, reason=reason[:300])


@transaction.atomic
def device_create(*, actor: Any, client: Client, data: dict[str, Any]) -> Device:
    """Add a device by hand (a printer, a switch, a phone): unmanaged until an agent reports on it."""
    require(actor, "devices", "add")
    check_site_of_client(client.pk, data.get("site_id"))
    device = Device(client=client, state=DeviceState.ACTIVE, managed=False)
    apply_fields(device, CREATE_FIELDS, data)
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
    check_site_of_client(device.client_id, data.get("site_id"))
    before = audit.snapshot(device, list(UPDATE_FIELDS))
    apply_fields(device, UPDATE_FIELDS, data)
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


# --- Tags ---------------------------------------------------------------------------------------

TAG_FIELDS = ("name", "colour", "description")
UNIQUE_TAG = _("A tag with this name already exists.")
MAX_TAGS_PER_DEVICE = 50


def _require_tag_write(actor: Any, action: str) -> None:
    # Tags are the MSP's: a tag policy reaches devices of every client through them. Defining them is a
    # policy matter (owner, admin, service manager), and never for staff restricted to some clients.
    require(actor, "policies", action)
    if actor.client_scope() is not None:
        raise PermissionDenied(_("Users restricted to assigned clients cannot change the MSP's tags."))


def _tag_save(tag: Tag, data: dict[str, Any]) -> None:
    apply_fields(tag, TAG_FIELDS, data)
    clean_or_raise(tag)
    save_or_unique_error(tag, unique_message=UNIQUE_TAG, unique_field="name")


@transaction.atomic
def tag_create(*, actor: Any, data: dict[str, Any]) -> Tag:
    """Define a tag devices can carry (and policies can be attached to)."""
    _require_tag_write(actor, "add")
    tag = Tag()
    _tag_save(tag, data)
    audit.record(actor, "tag.created", tag, changes=audit.snapshot(tag, list(TAG_FIELDS)))
    return tag


@transaction.atomic
def tag_update(*, actor: Any, tag: Tag, data: dict[str, Any]) -> Tag:
    """Rename a tag or change its colour or description (the devices carrying it keep it)."""
    _require_tag_write(actor, "change")
    before = audit.snapshot(tag, list(TAG_FIELDS))
    _tag_save(tag, data)
    changes = audit.diff(before, audit.snapshot(tag, list(TAG_FIELDS)))
    if changes:
        audit.record(actor, "tag.updated", tag, changes=changes)
    return tag


@transaction.atomic
def tag_delete(*, actor: Any, tag: Tag) -> None:
    """Delete a tag: the devices carrying it lose it. Refused while a policy is attached to it."""
    _require_tag_write(actor, "delete")
    device_ids = list(tag.devices.order_by("pk").values_list("pk", flat=True))
    snapshot, tag_id = audit.snapshot(tag, list(TAG_FIELDS)), tag.pk
    try:
        with transaction.atomic():
            tag.delete()
    except ProtectedError as exc:
        raise Conflict(_("Policies are attached to this tag: delete them or attach them elsewhere first.")) \
            from exc
    audit.record(actor, "tag.deleted", object_type="assets.tag", object_id=str(tag_id),
                 changes={**snapshot, "devices": len(device_ids)})
    events.emit("tag.deleted", payload={"tag_id": tag_id, "device_ids": device_ids})


@transaction.atomic
def device_set_tags(*, actor: Any, device: Device, tag_ids: list[int]) -> Device:
    """Give a device exactly these tags (existing ones); its effective policy follows its tags."""
    require(actor, "devices", "change")
    wanted = set(tag_ids)
    if len(wanted) > MAX_TAGS_PER_DEVICE:
        raise ValidationError(_("A device carries at most %(max)s tags.") % {"max": MAX_TAGS_PER_DEVICE},
                              field="tags")
    found = dict(Tag.objects.filter(pk__in=wanted).values_list("pk", "name"))
    if len(found) != len(wanted):
        raise ValidationError(_("Choose existing tags."), field="tags")
    current = dict(device.tags.values_list("pk", "name"))
    added, removed = sorted(wanted - set(current)), sorted(set(current) - wanted)
    if not added and not removed:
        return device
    if removed:
        device.tags.remove(*removed)
    if added:
        device.tags.add(*added)
    audit.record(actor, "device.tags_changed", device, changes={
        "tags": [sorted(current.values(), key=str.lower), sorted(found.values(), key=str.lower)]})
    events.emit("device.tags_changed", client_id=device.client_id, payload={
        "device_id": device.pk, "client_id": device.client_id, "added": added, "removed": removed})
    return device


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
    # Network discovery: (at, subnet, [(ip, mac, hostname, source), ...]) per item.
    discovery: list[tuple[datetime, str, list[tuple[str, str, str, str]]]] = field(default_factory=list)


# Change at every report without the inventory having changed; still written to the device's own fields.
VOLATILE_HARDWARE_KEYS = frozenset({"uptime_s", "logged_in_user"})


def inventory_digest(hardware: dict[str, Any], software: list[tuple[str, str, str, date | None]]) -> str:
    """A stable hash of an inventory, to skip the work when nothing changed (volatile keys left out)."""
    stable = {k: v for k, v in hardware.items() if k not in VOLATILE_HARDWARE_KEYS}
    canonical = json.dumps({"hardware": stable, "software": sorted(software, key=lambda s: tuple(map(str, s)))},
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
    if telemetry.posture:
        posture_day_record(telemetry.device_id, telemetry.client_id, telemetry.seen_at)
    if telemetry.metrics:
        MetricSample.objects.bulk_create([
            MetricSample(device_id=telemetry.device_id, client_id=telemetry.client_id, at=at, cpu_pct=cpu,
                         mem_pct=mem, disk_min_free_pct=disk) for at, cpu, mem, disk in telemetry.metrics])
    if telemetry.results:
        CheckResult.objects.bulk_create([
            CheckResult(device_id=telemetry.device_id, client_id=telemetry.client_id, check_id=check_id, at=at,
                        status=status, value=value, message=message[:500], seq=seq)
            for check_id, at, status, value, message, seq in telemetry.results])
    if telemetry.discovery:
        discovery_record(telemetry.client_id, telemetry.device_id, telemetry.discovery)


POSTURE_HISTORY_FIELDS = ("antivirus_state", "antivirus_definitions_at", "backup_tool", "last_backup_at")


def posture_day_record(device_id: int, client_id: int, at: datetime) -> None:
    """Keep the device's posture, as it now stands, as its posture of the UTC day of `at`: one row per device and
    day, the day's last report wins (one read of the device, one INSERT … ON CONFLICT UPDATE). A posture report
    may carry the antivirus or the backup alone: the row holds the device's merged state, not the report."""
    current = Device.objects.filter(pk=device_id).values(*POSTURE_HISTORY_FIELDS).first()
    if current is None:
        return
    DevicePostureDaily.objects.bulk_create(
        [DevicePostureDaily(client_id=client_id, device_id=device_id, day=at.astimezone(UTC).date(), recorded_at=at,
                            **current)],
        update_conflicts=True, unique_fields=["device", "day"], update_fields=[*POSTURE_HISTORY_FIELDS, "recorded_at"])


def _inventory_updates(telemetry: Telemetry) -> dict[str, Any]:
    inventory = telemetry.inventory
    assert inventory is not None
    digest = inventory.digest or inventory_digest(inventory.hardware, inventory.software)
    # The device's own fields (uptime, logged-in user, OS…) ride on the one device UPDATE every time;
    # the hardware document and the software set are rewritten only when the inventory changed.
    updates: dict[str, Any] = {"inventory_at": inventory.at, **inventory.device_fields}
    current = Device.objects.filter(pk=telemetry.device_id).values_list("inventory_hash", flat=True).first()
    if current == digest:
        return updates
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


# --- Discovered devices (staff) --------------------------------------------------------------


@transaction.atomic
def discovered_ignore(*, actor: Any, discovered: DiscoveredDevice, ignored: bool = True) -> DiscoveredDevice:
    """Ignore a discovered device (a guest phone, a smart plug), or stop ignoring it."""
    require(actor, "devices", "change")
    if discovered.ignored == ignored:
        raise Conflict(_("This discovered device is already ignored.") if ignored
                       else _("This discovered device is not ignored."))
    discovered.ignored = ignored
    discovered.save(update_fields=["ignored", "updated_at"])
    audit.record(actor, "discovered_device.ignored" if ignored else "discovered_device.unignored", discovered,
                 changes={"ip": discovered.ip, "mac": discovered.mac})
    return discovered


def discovered_device_defaults(discovered: DiscoveredDevice) -> dict[str, Any]:
    """What a manual device made from a discovered one starts with."""
    network_vendors = {"Cisco", "Cisco Meraki", "Juniper", "Fortinet", "Aruba", "Ubiquiti", "MikroTik", "Netgear",
                       "TP-Link", "Zyxel", "AVM", "Huawei"}
    name = discovered.hostname or (f"{discovered.vendor}-{discovered.ip}" if discovered.vendor else discovered.ip)
    notes = f"MAC {discovered.mac}, IP {discovered.ip}" if discovered.mac else f"IP {discovered.ip}"
    return {"name": name[:200], "hostname": discovered.hostname, "vendor": discovered.vendor,
            "kind": DeviceKind.NETWORK_DEVICE if discovered.vendor in network_vendors else DeviceKind.OTHER,
            "site_id": discovered.site_id, "notes": notes}


@transaction.atomic
def discovered_create_device(*, actor: Any, discovered: DiscoveredDevice, data: dict[str, Any]) -> Device:
    """Add a device by hand from a discovered one; the discovered row is then matched to it."""
    require(actor, "devices", "add")
    if discovered.matched_device_id is not None:
        raise Conflict(_("This discovered device already matches a device."))
    device = device_create(actor=actor, client=discovered.client, data=data)
    discovered.matched_device = device
    discovered.save(update_fields=["matched_device", "updated_at"])
    audit.record(actor, "discovered_device.matched", discovered, changes={"device_id": device.pk})
    return device


# --- Licences -------------------------------------------------------------------------------

LICENCE_FIELDS = ("product", "publisher", "seats", "expires_on", "match_pattern", "notes")


def _licence_save(licence: Licence, data: dict[str, Any]) -> None:
    apply_fields(licence, LICENCE_FIELDS, data)
    if not licence.match_pattern:
        licence.match_pattern = licence.product
    if licence.seats is not None and licence.seats < 0:
        raise ValidationError(_("The number of seats cannot be negative."), field="seats")
    clean_or_raise(licence)
    licence.save()


@transaction.atomic
def licence_create(*, actor: Any, client: Client, data: dict[str, Any]) -> Licence:
    """Record licences a client owns (product, seats, expiry, how to find it in inventories)."""
    require(actor, "devices", "add")
    licence = Licence(client=client)
    _licence_save(licence, data)
    audit.record(actor, "licence.created", licence, changes=audit.snapshot(licence, list(LICENCE_FIELDS)))
    return licence


@transaction.atomic
def licence_update(*, actor: Any, licence: Licence, data: dict[str, Any]) -> Licence:
    """Change a licence record."""
    require(actor, "devices", "change")
    before = audit.snapshot(licence, list(LICENCE_FIELDS))
    _licence_save(licence, data)
    changes = audit.diff(before, audit.snapshot(licence, list(LICENCE_FIELDS)))
    if changes:
        audit.record(actor, "licence.updated", licence, changes=changes)
    return licence


@transaction.atomic
def licence_delete(*, actor: Any, licence: Licence) -> None:
    """Delete a licence record."""
    require(actor, "devices", "delete")
    audit.record(actor, "licence.deleted", licence, changes=audit.snapshot(licence, list(LICENCE_FIELDS)))
    licence.delete()


# --- CSV import of devices and warranties ------------------------------------------------------

IMPORT_FIELDS = ("name", "kind", "serial_number", "vendor", "model", "purchase_date", "warranty_end", "notes")


@dataclass
class ImportRow:
    """What confirming the import would do with one row of the file."""

    line: int
    action: str  # "create", "update" or "error"
    values: dict[str, Any]
    errors: dict[str, list[str]]
    device: Device | None = None


@dataclass
class ImportPreview:
    """The plan of an import: a file-level error, or every row with its action."""

    error: str = ""
    rows: list[ImportRow] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.rows) and not self.count("error")


def device_import_preview(*, actor: Any, client: Client, content: bytes) -> ImportPreview:
    """Read a device and warranty CSV file and say, row by row, what importing it would do. Writes nothing."""
    require(actor, "devices", "add")
    require(actor, "devices", "change")
    parsed = parse_devices_csv(content)
    if parsed.error:
        return ImportPreview(error=parsed.error)
    devices = list(Device.objects.filter(client=client).only(
        "pk", "name", "serial_number", "client_id", *[f for f in IMPORT_FIELDS], "site_id"))
    by_serial: dict[str, Device] = {}
    by_name: dict[str, Device] = {}
    for device in devices:
        if device.serial_number:
            by_serial.setdefault(device.serial_number.lower(), device)
        by_name.setdefault(device.name.lower(), device)
    sites = {name.lower(): pk for pk, name in Site.objects.filter(client=client).values_list("pk", "name")}
    preview = ImportPreview()
    claimed: dict[Any, int] = {}
    for parsed_row in parsed.rows:
        values, errors = dict(parsed_row.values), {k: list(v) for k, v in parsed_row.errors.items()}
        site_name = values.pop("site", None)
        if site_name is not None:
            site_id = sites.get(site_name.lower())
            if site_id is None:
                errors.setdefault("site", []).append(str(_("No site of this client is named “%(name)s”.")
                                                         % {"name": site_name[:100]}))
            else:
                values["site_id"] = site_id
        serial, name = values.get("serial_number", ""), values.get("name", "")
        match = (by_serial.get(serial.lower()) if serial else None) or (by_name.get(name.lower()) if name else None)
        identity: Any = match.pk if match is not None else ("new", (serial or name).lower())
        if not errors and identity in claimed:
            errors.setdefault("__all__", []).append(str(_("Row %(line)s already imports this device.")
                                                        % {"line": claimed[identity]}))
        claimed.setdefault(identity, parsed_row.line)
        if match is not None and not errors:
            purchase = values.get("purchase_date", match.purchase_date)
            warranty = values.get("warranty_end", match.warranty_end)
            if purchase and warranty and warranty < purchase:
                errors["warranty_end"] = [str(_("The warranty cannot end before the purchase date."))]
        action = "error" if errors else ("update" if match is not None else "create")
        preview.rows.append(ImportRow(line=parsed_row.line, action=action, values=values, errors=errors,
                                      device=match))
    return preview


@transaction.atomic
def device_import_apply(*, actor: Any, client: Client, content: bytes) -> ImportPreview:
    """Import a device and warranty CSV file in one transaction: every row, or none if any is wrong."""
    preview = device_import_preview(actor=actor, client=client, content=content)
    if not preview.ok:
        errors = {f"row:{row.line}": [f"{col}: {m}" if col != "__all__" else m for col, ms in row.errors.items()
                                      for m in ms] for row in preview.rows if row.errors}
        raise ValidationError(preview.error or _("Some rows are not valid: nothing was imported."),
                              errors=errors or {"file": [str(preview.error)]})
    now = timezone.now()
    new = [Device(client=client, state=DeviceState.ACTIVE, managed=False, kind=row.values.get("kind", DeviceKind.OTHER),
                  created_at=now, updated_at=now, **{k: v for k, v in row.values.items() if k != "kind"})
           for row in preview.rows if row.action == "create"]
    created = Device.objects.bulk_create(new, batch_size=500)  # ids returned (PostgreSQL, SQLite ≥ 3.35)
    DeviceStateChange.objects.bulk_create([
        DeviceStateChange(client_id=client.pk, device=device, from_state="", to_state=DeviceState.ACTIVE,
                          actor=actor if getattr(actor, "pk", None) else None,
                          reason=str(_("Imported from a CSV file")))
        for device in created], batch_size=500)
    changed: list[Device] = []
    fields: set[str] = set()
    for row in preview.rows:
        if row.action != "update" or row.device is None:
            continue
        for key, value in row.values.items():
            setattr(row.device, key, value)
            fields.add(key)
        row.device.updated_at = now
        changed.append(row.device)
    if changed:
        Device.objects.bulk_update(changed, sorted(fields | {"updated_at"}), batch_size=500)
    counts = {"created": len(created), "updated": len(changed), "rows": len(preview.rows)}
    audit.record(actor, "devices.imported", client, client_id=client.pk, changes=counts)
    events.emit("devices.imported", client_id=client.pk, payload={
        "client_id": client.pk, "created": [d.pk for d in created], "updated": [d.pk for d in changed]})
    return preview
