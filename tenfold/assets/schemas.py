"""API shapes of devices and their software inventory."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from tenfold.assets.models import DeviceKind, DeviceState
from tenfold.core.api import InputSchema

ID = Field(default=None, ge=1, le=2**63 - 1)


class DeviceOut(Schema):
    """A device with its hardware, OS, presence and security posture."""

    id: int
    client_id: int
    site_id: int | None
    name: str = Field(examples=["PC-COMPTA-01"])
    hostname: str
    kind: DeviceKind
    state: DeviceState
    managed: bool
    online: bool = Field(description="Checked in within the last three check-in intervals.")
    os_family: str = Field(examples=["windows"])
    os_name: str = Field(examples=["Windows 11 Pro"])
    os_version: str = Field(examples=["23H2"])
    vendor: str
    model: str
    serial_number: str
    machine_id: str
    cpu_model: str
    cpu_cores: int | None
    memory_bytes: int | None
    hardware: dict[str, Any]
    last_seen_at: datetime | None
    last_ip: str
    logged_in_user: str
    uptime_seconds: int | None
    antivirus_product: str
    antivirus_state: str
    antivirus_definitions_at: datetime | None
    firewall_state: str
    pending_updates: int | None
    backup_tool: str
    last_backup_at: datetime | None
    inventory_at: datetime | None
    purchase_date: date | None
    warranty_end: date | None
    notes: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_online(obj: Any) -> bool:
        value = getattr(obj, "is_online", None)
        return bool(value) if value is not None else obj.online_now()


class DeviceIn(InputSchema):
    """A device added by hand (a printer, a switch): unmanaged until an agent reports on it."""

    client_id: int = Field(ge=1, le=2**63 - 1)
    site_id: int | None = ID
    name: str = Field(min_length=1, max_length=200, examples=["IMP-ACCUEIL"])
    hostname: str = Field(default="", max_length=255)
    kind: DeviceKind = DeviceKind.OTHER
    os_name: str = Field(default="", max_length=200)
    os_version: str = Field(default="", max_length=100)
    vendor: str = Field(default="", max_length=200, examples=["Brother"])
    model: str = Field(default="", max_length=200, examples=["MFC-L8900CDW"])
    serial_number: str = Field(default="", max_length=200)
    purchase_date: date | None = None
    warranty_end: date | None = None
    notes: str = Field(default="", max_length=20000)


class DevicePatch(InputSchema):
    """What staff maintain about a device; absent fields are left as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: DeviceKind | None = None
    site_id: int | None = ID
    purchase_date: date | None = None
    warranty_end: date | None = None
    notes: str | None = Field(default=None, max_length=20000)


class DeviceStateIn(InputSchema):
    """A move through the device lifecycle."""

    state: DeviceState
    reason: str = Field(default="", max_length=300, examples=["Replaced by PC-COMPTA-04"])


class SoftwareOut(Schema):
    """A program installed on a device, as in its latest inventory."""

    id: int
    name: str = Field(examples=["Mozilla Firefox"])
    version: str = Field(examples=["128.0.3"])
    publisher: str = Field(examples=["Mozilla"])
    installed_on: date | None
