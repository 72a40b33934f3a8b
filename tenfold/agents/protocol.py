"""The agent wire contract (docs/agent-protocol.md) as strict pydantic models.

Unknown fields are refused everywhere (so a body naming a `device_id` is invalid: the device comes
only from the credential), strings are bounded and may not hold NUL or lone surrogates (PostgreSQL
refuses both), numbers are finite and bounded, times carry a time zone and a sane year.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from tenfold.assets.oui import normalise_mac

MAX_ITEMS = 500
MAX_NEIGHBORS = 1024
BIGINT = 2**63 - 1
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the text is not valid Unicode") from None
    return value


def _sane_time(value: datetime) -> datetime:
    if not EARLIEST <= value <= LATEST:
        raise ValueError("the time must be between 2000 and 2200")
    return value


def Text(max_length: int, min_length: int = 0) -> Any:  # noqa: N802 - a type factory, read like a type
    return Annotated[str, StringConstraints(max_length=max_length, min_length=min_length),
                     AfterValidator(_clean_text)]


Time = Annotated[AwareDatetime, AfterValidator(_sane_time)]
Pct = Annotated[float, Field(ge=0, le=100)]
Bytes = Annotated[int, Field(ge=0, le=BIGINT)]


class Strict(BaseModel):
    """Base of every agent body: unknown fields, NaN and infinities are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class OsIn(Strict):
    family: Literal["windows", "linux", "macos", "other"]
    name: Text(200)  # type: ignore[valid-type]
    version: Text(100) = ""  # type: ignore[valid-type]


class EnrollIn(Strict):
    token: Text(200)  # type: ignore[valid-type]
    hostname: Text(255, 1)  # type: ignore[valid-type]
    machine_id: Text(200, 1)  # type: ignore[valid-type]
    os: OsIn
    agent_version: Text(50, 1)  # type: ignore[valid-type]


# --- Item data ---------------------------------------------------------------------------------


class HeartbeatData(Strict):
    uptime_s: Bytes | None = None
    logged_in_user: Text(200) | None = None  # type: ignore[valid-type]
    dropped: Annotated[int, Field(ge=0, le=BIGINT)] | dict[Text(50), Bytes] | None = None  # type: ignore[valid-type]


class DiskMetric(Strict):
    mount: Text(500, 1)  # type: ignore[valid-type]
    free_pct: Pct
    free_bytes: Bytes | None = None
    total_bytes: Bytes | None = None


class MetricsData(Strict):
    cpu_pct: Pct | None = None
    mem_pct: Pct | None = None
    disks: list[DiskMetric] = Field(default_factory=list, max_length=64)


class CheckResultData(Strict):
    check_id: int = Field(ge=1, le=2**31 - 1)
    status: Literal["pass", "warn", "fail", "error"]
    value: Annotated[float, Field(ge=-1e15, le=1e15)] | None = None
    message: Text(500) = ""  # type: ignore[valid-type]


class DiskInfo(Strict):
    mount: Text(500, 1)  # type: ignore[valid-type]
    fs: Text(50) = ""  # type: ignore[valid-type]
    total_bytes: Bytes | None = None
    free_bytes: Bytes | None = None


class NetworkInterfaceInfo(Strict):
    name: Text(200, 1)  # type: ignore[valid-type]
    mac: Text(64) = ""  # type: ignore[valid-type]
    ipv4: list[Text(64)] = Field(default_factory=list, max_length=32)  # type: ignore[valid-type]
    ipv6: list[Text(64)] = Field(default_factory=list, max_length=32)  # type: ignore[valid-type]


class HardwareData(Strict):
    hostname: Text(255) | None = None  # type: ignore[valid-type]
    vendor: Text(200) = ""  # type: ignore[valid-type]
    model: Text(200) = ""  # type: ignore[valid-type]
    serial_number: Text(200) = ""  # type: ignore[valid-type]
    cpu_model: Text(200) = ""  # type: ignore[valid-type]
    cpu_cores: int | None = Field(default=None, ge=0, le=65535)
    memory_bytes: Bytes | None = None
    os: OsIn | None = None
    disks: list[DiskInfo] = Field(default_factory=list, max_length=64)
    network_interfaces: list[NetworkInterfaceInfo] = Field(default_factory=list, max_length=64)
    logged_in_user: Text(200) | None = None  # type: ignore[valid-type]
    uptime_s: Bytes | None = None


class SoftwareData(Strict):
    name: Text(300, 1)  # type: ignore[valid-type]
    version: Text(100) = ""  # type: ignore[valid-type]
    publisher: Text(200) = ""  # type: ignore[valid-type]
    installed_on: date | None = None


class InventoryData(Strict):
    hardware: HardwareData
    software: list[SoftwareData] = Field(default_factory=list, max_length=10_000)


class AntivirusData(Strict):
    product: Text(200) = ""  # type: ignore[valid-type]
    state: Literal["running", "disabled", "out_of_date", "not_installed", "unknown"] = "unknown"
    definitions_at: Time | None = None


class FirewallData(Strict):
    state: Literal["on", "off", "unknown"] = "unknown"


class BackupData(Strict):
    tool: Text(100) = ""  # type: ignore[valid-type]
    last_success: Time | None = None


class PostureData(Strict):
    antivirus: AntivirusData | None = None
    firewall: FirewallData | None = None
    pending_updates: int | None = Field(default=None, ge=0, le=1_000_000)
    backup: BackupData | None = None


class JobResultData(Strict):
    job_id: int = Field(ge=1, le=BIGINT)
    status: Literal["running", "succeeded", "failed", "timed_out", "cancelled"]
    exit_code: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)
    stdout: Text(1_048_576) = ""  # type: ignore[valid-type]
    stderr: Text(1_048_576) = ""  # type: ignore[valid-type]
    duration_ms: Bytes | None = None


def _ip(value: str) -> str:
    if "%" in value:
        raise ValueError("an IP address without a zone index is expected")
    return str(ipaddress.ip_address(value))


def _subnet(value: str) -> str:
    if "%" in value:
        raise ValueError("a subnet without a zone index is expected")
    return str(ipaddress.ip_network(value, strict=False))


def _mac(value: str) -> str:
    return normalise_mac(value)


class NeighborData(Strict):
    ip: Annotated[str, StringConstraints(min_length=2, max_length=45), AfterValidator(_ip)]
    mac: Annotated[str, StringConstraints(max_length=32), AfterValidator(_mac)] = ""
    hostname: Text(255) = ""  # type: ignore[valid-type]
    source: Literal["arp", "ping"]


class DiscoveryData(Strict):
    neighbors: list[NeighborData] = Field(max_length=MAX_NEIGHBORS)
    subnet: Annotated[str, StringConstraints(max_length=50), AfterValidator(_subnet)] | None = None


UPDATE_SOURCES = ("apt", "dnf", "zypper", "brew", "windows_update", "winget", "softwareupdate")
MAX_UPDATES = 5000


class UpdateData(Strict):
    source: Literal["apt", "dnf", "zypper", "brew", "windows_update", "winget", "softwareupdate"]
    identifier: Text(200, 1)  # type: ignore[valid-type]
    title: Text(500) = ""  # type: ignore[valid-type]
    installed_version: Text(100) = ""  # type: ignore[valid-type]
    available_version: Text(100) = ""  # type: ignore[valid-type]
    category: Literal["security", "critical", "bugfix", "feature", "driver", "application"]
    severity: Literal["critical", "important", "moderate", "low", ""] = ""
    released_on: date | None = None
    reboot_required: bool = False
    installed: bool = False


class UpdatesData(Strict):
    """A full snapshot of a device's updates: `sources` were listed completely, `errors` failed."""

    sources: list[Literal["apt", "dnf", "zypper", "brew", "windows_update", "winget", "softwareupdate"]] = Field(
        max_length=len(UPDATE_SOURCES))
    updates: list[UpdateData] = Field(default_factory=list, max_length=MAX_UPDATES)
    errors: dict[Literal["apt", "dnf", "zypper", "brew", "windows_update", "winget", "softwareupdate"],
                 Text(300)] = Field(default_factory=dict)  # type: ignore[valid-type]
    digest: Text(64) = ""  # type: ignore[valid-type]


# --- Items and the check-in envelope -------------------------------------------------------------


class _Item(Strict):
    seq: int = Field(ge=1, le=BIGINT)
    at: Time


class HeartbeatItem(_Item):
    kind: Literal["heartbeat"]
    data: HeartbeatData


class MetricsItem(_Item):
    kind: Literal["metrics"]
    data: MetricsData


class CheckResultItem(_Item):
    kind: Literal["check_result"]
    data: CheckResultData


class InventoryItem(_Item):
    kind: Literal["inventory"]
    data: InventoryData


class PostureItem(_Item):
    kind: Literal["posture"]
    data: PostureData


class JobResultItem(_Item):
    kind: Literal["job_result"]
    data: JobResultData


class DiscoveryItem(_Item):
    kind: Literal["discovery"]
    data: DiscoveryData


class UpdatesItem(_Item):
    kind: Literal["updates"]
    data: UpdatesData


Item = Annotated[HeartbeatItem | MetricsItem | CheckResultItem | InventoryItem | PostureItem | JobResultItem
                 | DiscoveryItem | UpdatesItem, Field(discriminator="kind")]
ITEM = TypeAdapter(Item)


class CheckinEnvelope(Strict):
    agent_version: Text(50, 1)  # type: ignore[valid-type]
    policy_version: Text(128) | None = None  # type: ignore[valid-type]
    sent_at: Time | None = None
    items: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_ITEMS)


class Checkin(BaseModel):
    """A validated check-in: the envelope and its typed items, seq strictly increasing."""

    envelope: CheckinEnvelope
    items: list[Any]


class ProtocolError(Exception):
    """An invalid body: `errors` maps `"seq:<n>"` (or a field path) to messages."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes) -> Any:
    """The JSON body, or ProtocolError (NaN and Infinity are not JSON)."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ProtocolError("The body is not valid UTF-8 JSON.") from None


def _messages(exc: PydanticValidationError, prefix: str = "", tag: Any = None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        parts = list(error.get("loc", ()))
        if parts and tag is not None and parts[0] == tag:  # the union's tag, i.e. the item's kind
            parts = parts[1:]
        loc = ".".join(str(p) for p in parts)
        key = prefix or loc
        message = f"{loc}: {error.get('msg', 'invalid')}" if prefix else str(error.get("msg", "invalid"))
        errors.setdefault(key or "__all__", []).append(message)
    return errors


def parse_enroll(body: bytes) -> EnrollIn:
    """A validated enrollment body, or ProtocolError."""
    data = parse_json(body)
    try:
        return EnrollIn.model_validate(data)
    except PydanticValidationError as exc:
        raise ProtocolError("Some fields are not valid.", _messages(exc)) from None


def parse_checkin(body: bytes) -> Checkin:
    """A validated check-in, or ProtocolError naming the offending items by `seq:<n>`."""
    data = parse_json(body)
    try:
        envelope = CheckinEnvelope.model_validate(data)
    except PydanticValidationError as exc:
        raise ProtocolError("Some fields are not valid.", _messages(exc)) from None
    items: list[Any] = []
    errors: dict[str, list[str]] = {}
    for index, raw in enumerate(envelope.items):
        try:
            items.append(ITEM.validate_python(raw))
        except PydanticValidationError as exc:
            seq = raw.get("seq")
            key = f"seq:{seq}" if isinstance(seq, int) and not isinstance(seq, bool) else f"items.{index}"
            for message_list in _messages(exc, key, raw.get("kind")).values():
                errors.setdefault(key, []).extend(message_list)
    if errors:
        raise ProtocolError("Some items are not valid.", errors)
    for previous, item in itertools.pairwise(items):
        if item.seq <= previous.seq:
            raise ProtocolError("Items must be sent in strictly increasing seq order.",
                                {f"seq:{item.seq}": ["seq is not above the previous item's seq"]})
    return Checkin(envelope=envelope, items=items)
