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


class ScriptRunIn(InputSchema):
    device_ids: list[int] | None = Field(default=None, max_length=500)
    client_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    parameters: dict[str, Any] = Field(default_factory=dict)


class ScriptRunOut(Schema):
    id: int
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
