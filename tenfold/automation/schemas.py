"""API shapes of signing keys, scripts, versions, signatures and script runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field, StringConstraints

from tenfold.core.api import InputSchema

# A script body is signed byte for byte: it is never stripped (the other input strings are).
Body = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=262144)]


class SigningKeyOut(Schema):
    id: int
    key_id: str = Field(examples=["ed25519:3f9a0c1d2e4b5a69"])
    name: str
    public_key: str
    owner_id: int
    status: str
    countersigned_by: str | None
    countersignature: str | None
    revoked_at: datetime | None
    revoked_by: str | None
    created_at: datetime

    @staticmethod
    def resolve_countersigned_by(obj: Any) -> str | None:
        return obj.countersigned_by.key_id if obj.countersigned_by_id else None

    @staticmethod
    def resolve_revoked_by(obj: Any) -> str | None:
        return obj.revoked_by_key.key_id if obj.revoked_by_key_id else None


class SigningKeyIn(InputSchema):
    name: str = Field(min_length=1, max_length=100, examples=["Approver laptop 2026"])
    public_key: str = Field(min_length=1, max_length=100, description="Base64 of the raw 32-byte Ed25519 public key.")
    owner_id: int | None = Field(default=None, ge=1, le=2**63 - 1,
                                 description="The approver the key belongs to (default: you).")
    countersigned_by: str | None = Field(default=None, max_length=40)
    countersignature: str | None = Field(default=None, max_length=100)


class KeyRevokeIn(InputSchema):
    revoked_by: str = Field(min_length=1, max_length=40, description="The key id of another active key.")
    signature: str = Field(min_length=1, max_length=100, description="Its signature of the revocation document.")


class ScriptOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    category: str
    language: str
    os_families: list[str]
    timeout_seconds: int
    parameters: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


class ScriptIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["Restart the print spooler"])
    description: str = Field(default="", max_length=5000)
    category: str = Field(default="maintenance", max_length=20)
    language: str = Field(max_length=12, examples=["shell"])
    os_families: list[str] = Field(max_length=3, examples=[["linux"]])
    timeout_seconds: int = Field(default=300)
    parameters: list[dict[str, Any]] = Field(default_factory=list, max_length=20)
    body: Body


class ScriptPatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    category: str | None = Field(default=None, max_length=20)
    language: str | None = Field(default=None, max_length=12)
    os_families: list[str] | None = Field(default=None, max_length=3)
    timeout_seconds: int | None = None
    parameters: list[dict[str, Any]] | None = Field(default=None, max_length=20)
    body: Body | None = None


class SignatureOut(Schema):
    id: int
    key_id: str
    signature: str
    signed_at: datetime
    signed_by_id: int

    @staticmethod
    def resolve_key_id(obj: Any) -> str:
        return str(obj.key.key_id)


class ScriptVersionOut(Schema):
    """A version as an approver reviews it: `tenfold sign review` rebuilds the document from these fields
    and hashes the body itself; `document` and `document_sha256` are the server's and only compared."""

    id: int
    script_id: int
    script_name: str
    number: int
    status: str
    language: str
    os_families: list[str]
    timeout_seconds: int
    parameters: list[dict[str, Any]]
    body: str
    document: str
    document_sha256: str
    created_at: datetime
    signatures: list[SignatureOut]

    @staticmethod
    def resolve_script_name(obj: Any) -> str:
        return str(obj.script.name)

    @staticmethod
    def resolve_signatures(obj: Any) -> list[Any]:
        return list(obj.signatures.select_related("key").all())


class SignatureIn(InputSchema):
    key_id: str = Field(min_length=1, max_length=40)
    signature: str = Field(min_length=1, max_length=100, description="Base64 Ed25519 signature of the document.")


Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ScriptRunIn(InputSchema):
    device_ids: list[Id] | None = Field(default=None, max_length=500)
    group_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    client_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    parameters: dict[str, Any] = Field(default_factory=dict)


class ScriptRunOut(Schema):
    id: int
    run_id: int
    job_id: int
    client_id: int
    device_id: int
    script_id: int
    version: int
    parameters: dict[str, Any]
    status: str
    exit_code: int | None
    stdout: str
    stderr: str
    duration_ms: int | None
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_script_id(obj: Any) -> int:
        return int(obj.version.script_id)

    @staticmethod
    def resolve_version(obj: Any) -> int:
        return int(obj.version.number)

    @staticmethod
    def resolve_status(obj: Any) -> str:
        return str(obj.job.status)

    @staticmethod
    def resolve_exit_code(obj: Any) -> int | None:
        return obj.job.exit_code  # type: ignore[no-any-return]

    @staticmethod
    def resolve_stdout(obj: Any) -> str:
        return str(obj.job.stdout)

    @staticmethod
    def resolve_stderr(obj: Any) -> str:
        return str(obj.job.stderr)

    @staticmethod
    def resolve_duration_ms(obj: Any) -> int | None:
        return obj.job.duration_ms  # type: ignore[no-any-return]

    @staticmethod
    def resolve_finished_at(obj: Any) -> datetime | None:
        return obj.job.finished_at  # type: ignore[no-any-return]


# --- Runs (scripts and agent actions), device groups, scheduled runs ----------------------------------


class ActionParameterOut(Schema):
    name: str
    label: str
    type: str
    required: bool
    default: Any = None
    help: str


class ActionOut(Schema):
    """A built-in agent action: its job kind, what it does, its parameters."""

    kind: str = Field(examples=["restart_service"])
    label: str
    description: str
    timeout_seconds: int
    parameters: list[ActionParameterOut]


class RunIn(InputSchema):
    """A script (`script_id`, optional `version`) or an agent action (`action`), with its `parameters`, on
    `device_ids`, a `group_id` or every managed device of `client_id` (exactly one of the three)."""

    script_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    action: str | None = Field(default=None, max_length=40, examples=["run_checks_now"])
    parameters: dict[str, Any] = Field(default_factory=dict)
    device_ids: list[Id] | None = Field(default=None, max_length=500)
    group_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    client_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


class RunDeviceOut(Schema):
    """One device's part of a run: status (queued, sent, running, succeeded, failed, timed_out, cancelled, or
    cancelling while a cancel is on its way), exit code, output (capped, secrets redacted), duration."""

    id: int
    device_id: int
    device_name: str
    job_id: int
    status: str
    exit_code: int | None
    stdout: str
    stderr: str
    duration_ms: int | None
    finished_at: datetime | None

    @staticmethod
    def resolve_device_name(obj: Any) -> str:
        return str(obj.device.name)

    @staticmethod
    def resolve_status(obj: Any) -> str:
        return str(obj.display_status)

    @staticmethod
    def resolve_exit_code(obj: Any) -> int | None:
        return obj.job.exit_code  # type: ignore[no-any-return]

    @staticmethod
    def resolve_stdout(obj: Any) -> str:
        return str(obj.job.stdout)

    @staticmethod
    def resolve_stderr(obj: Any) -> str:
        return str(obj.job.stderr)

    @staticmethod
    def resolve_duration_ms(obj: Any) -> int | None:
        return obj.job.duration_ms  # type: ignore[no-any-return]

    @staticmethod
    def resolve_finished_at(obj: Any) -> datetime | None:
        return obj.job.finished_at  # type: ignore[no-any-return]


class RunOut(Schema):
    id: int
    client_id: int
    kind: str
    script_id: int | None
    version: int | None
    action: str
    parameters: dict[str, Any]
    target_label: str
    group_id: int | None
    scheduled_run_id: int | None
    retry_of_id: int | None
    started_by: str
    created_at: datetime
    devices: list[RunDeviceOut]

    @staticmethod
    def resolve_script_id(obj: Any) -> int | None:
        return obj.version.script_id if obj.version_id else None

    @staticmethod
    def resolve_version(obj: Any) -> int | None:
        return obj.version.number if obj.version_id else None

    @staticmethod
    def resolve_devices(obj: Any) -> list[Any]:
        return list(obj.items.select_related("device", "job").order_by("device__name", "pk"))


class RetryIn(InputSchema):
    secrets: dict[str, str] = Field(default_factory=dict, description="The run's secret parameters, again.")


class CancelOut(Schema):
    cancelled: int
    cancelling: int


class GroupOut(Schema):
    id: int
    client_id: int | None
    name: str
    description: str
    kind: str
    filters: dict[str, Any]
    device_ids: list[int]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_device_ids(obj: Any) -> list[int]:
        # Set by the endpoint: only the chosen devices the caller may see (an MSP group may span clients).
        return list(getattr(obj, "visible_device_ids", []))


class GroupIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["All Linux servers"])
    description: str = Field(default="", max_length=500)
    client_id: int | None = Field(default=None, ge=1, le=2**63 - 1, description="Empty: the MSP's group.")
    kind: str = Field(default="dynamic", max_length=10, examples=["dynamic"])
    filters: dict[str, Any] = Field(default_factory=dict, description="Dynamic groups: os_family, client_id, "
                                    "site_id, tag_id, software, device_kind, online (online or offline).")
    device_ids: list[Id] = Field(default_factory=list, max_length=1000, description="Static groups.")


class GroupPatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=500)
    kind: str | None = Field(default=None, max_length=10)
    filters: dict[str, Any] | None = None
    device_ids: list[Id] | None = Field(default=None, max_length=1000)


class DeviceBriefOut(Schema):
    id: int
    name: str
    client_id: int
    os_family: str
    kind: str
    last_seen_at: datetime | None


class ScheduledRunIn(InputSchema):
    """What (a script without secret parameters, or an action), on what (devices, a group or a client), when:
    `schedule_kind` once (`run_at`), daily (`time`), weekly (`time`, `weekday` 0 = Monday), monthly (`time`,
    `day_of_month` 1-28) or cron (`cron`, five fields, in the MSP's time zone)."""

    name: str = Field(min_length=1, max_length=200, examples=["Weekly disk clean-up"])
    script_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    action: str | None = Field(default=None, max_length=40)
    parameters: dict[str, Any] = Field(default_factory=dict)
    device_ids: list[Id] | None = Field(default=None, max_length=500)
    group_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    client_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    schedule_kind: str = Field(max_length=10, examples=["weekly"])
    run_at: datetime | None = None
    time: str | None = Field(default=None, max_length=5, examples=["03:00"])
    weekday: int | None = Field(default=None, ge=0, le=6)
    day_of_month: int | None = Field(default=None, ge=1, le=28)
    cron: str | None = Field(default=None, max_length=100)
    enabled: bool = True


class ScheduledRunPatch(InputSchema):
    """Pause or resume (`enabled` alone), or change any field of the scheduled run; fields left out keep their
    value. A new `script_id` or `action` replaces what runs (with its `version` and `parameters`), one of
    `device_ids`, `group_id` or `client_id` the whole target, `schedule_kind` the whole schedule (give its
    `run_at`, `time`, `weekday`, `day_of_month` or `cron` with it). The result is checked as a new scheduled run
    is, and the next run is worked out again from now."""

    name: str | None = Field(default=None, min_length=1, max_length=200, examples=["Weekly disk clean-up"])
    script_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    action: str | None = Field(default=None, max_length=40)
    parameters: dict[str, Any] | None = None
    device_ids: list[Id] | None = Field(default=None, max_length=500)
    group_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    client_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    schedule_kind: str | None = Field(default=None, max_length=10, examples=["cron"])
    run_at: datetime | None = None
    time: str | None = Field(default=None, max_length=5, examples=["03:00"])
    weekday: int | None = Field(default=None, ge=0, le=6)
    day_of_month: int | None = Field(default=None, ge=1, le=28)
    cron: str | None = Field(default=None, max_length=100, examples=["30 2 * * 1-5"])
    enabled: bool | None = None


class ScheduledRunOut(Schema):
    id: int
    client_id: int | None
    name: str
    kind: str
    script_id: int | None
    version: int | None
    action: str
    parameters: dict[str, Any]
    group_id: int | None
    device_ids: list[int]
    target_client_id: int | None
    schedule_kind: str
    run_at: datetime | None
    cron: str
    time_zone: str
    enabled: bool
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_error: str

    @staticmethod
    def resolve_script_id(obj: Any) -> int | None:
        return obj.version.script_id if obj.version_id else None

    @staticmethod
    def resolve_version(obj: Any) -> int | None:
        return obj.version.number if obj.version_id else None
