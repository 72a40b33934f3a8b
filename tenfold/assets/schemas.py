"""API shapes of devices and their software inventory."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from tenfold.assets.models import CheckStatus, DeviceKind, DeviceState, TagColour
from tenfold.core.api import InputSchema

ID = Field(default=None, ge=1, le=2**63 - 1)


class TagRef(Schema):
    """A tag as a device carries it."""

    id: int
    name: str = Field(examples=["VIP"])
    colour: TagColour


class TagOut(TagRef):
    """An MSP-wide device tag; `device_count` counts the devices carrying it that you may see."""

    description: str
    device_count: int = 0
    created_at: datetime
    updated_at: datetime


class TagIn(InputSchema):
    """A new tag; names are unique, any case."""

    name: str = Field(min_length=1, max_length=50, examples=["Point of sale"])
    colour: TagColour = TagColour.GREY
    description: str = Field(default="", max_length=300)


class TagPatch(InputSchema):
    """Changes to a tag; absent fields are left as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=50)
    colour: TagColour | None = None
    description: str | None = Field(default=None, max_length=300)


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
    tags: list[TagRef] = Field(description="The MSP's tags this device carries (a tag policy follows them).")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_tags(obj: Any) -> list[Any]:
        return list(obj.tags.all())

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
    tag_ids: list[int] | None = Field(default=None, max_length=50,
                                      description="The device's tags, replacing the current ones ([] removes all).")


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


STATUS_WORDS = {CheckStatus.PASS: "pass", CheckStatus.WARN: "warn", CheckStatus.FAIL: "fail",
                CheckStatus.ERROR: "error"}


class CheckResultOut(Schema):
    """One result of a check, as the device's agent reported it (before alert evaluation)."""

    id: int
    check_id: int
    at: datetime
    status: str = Field(examples=["fail"], description="pass, warn, fail or error (the check could not run)")
    value: float | None
    message: str = Field(examples=["connection refused"])
    seq: int = Field(description="The agent's sequence number of the item that carried this result.")

    @staticmethod
    def resolve_status(obj: Any) -> str:
        return STATUS_WORDS.get(obj.status, str(obj.status))


class DiscoveredDeviceOut(Schema):
    """Something an agent saw on a client's network."""

    id: int
    client_id: int
    site_id: int | None
    ip: str = Field(examples=["192.0.2.10"])
    mac: str = Field(examples=["00:80:77:12:34:56"])
    hostname: str
    vendor: str = Field(examples=["Brother"], description="From the MAC address prefix, when known.")
    source: str = Field(examples=["arp"])
    subnet: str = Field(examples=["192.0.2.0/24"])
    first_seen_at: datetime
    last_seen_at: datetime
    seen_by_id: int | None
    ignored: bool
    matched_device_id: int | None


class DiscoveredIgnoreIn(InputSchema):
    """Ignore a discovered device, or (`ignored: false`) stop ignoring it."""

    ignored: bool = True


class LicenceOut(Schema):
    """Licences a client owns, against the devices whose inventory shows the product."""

    id: int
    client_id: int
    product: str = Field(examples=["Microsoft 365 Business Standard"])
    publisher: str
    seats: int
    expires_on: date | None
    match_pattern: str = Field(examples=["Microsoft 365"])
    notes: str
    installed: int = Field(description="Devices of the client (not retired) with a program matching the pattern.")
    over_deployed: bool
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_over_deployed(obj: Any) -> bool:
        return int(getattr(obj, "installed", 0) or 0) > obj.seats


class LicenceIn(InputSchema):
    """A licence record; `match_pattern` defaults to the product name."""

    client_id: int = Field(ge=1, le=2**63 - 1)
    product: str = Field(min_length=1, max_length=200)
    publisher: str = Field(default="", max_length=200)
    seats: int = Field(ge=0, le=1_000_000)
    expires_on: date | None = None
    match_pattern: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=20000)


class LicencePatch(InputSchema):
    """Changes to a licence; absent fields are left as they are."""

    product: str | None = Field(default=None, min_length=1, max_length=200)
    publisher: str | None = Field(default=None, max_length=200)
    seats: int | None = Field(default=None, ge=0, le=1_000_000)
    expires_on: date | None = None
    match_pattern: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=20000)


class DeviceImportIn(InputSchema):
    """A device and warranty CSV file, base64-encoded; `confirm: false` (the default) only previews."""

    content_base64: str = Field(max_length=3_000_000)
    confirm: bool = False


class ImportRowOut(Schema):
    line: int
    action: str = Field(examples=["create"], description="create, update or error")
    device_id: int | None
    errors: dict[str, list[str]]


class DeviceImportOut(Schema):
    """What the import did (confirmed) or would do (preview)."""

    confirmed: bool
    error: str = Field(description="Why the file as a whole cannot be read, or empty.")
    created: int
    updated: int
    errors: int
    rows: list[ImportRowOut]
