"""REST endpoints of agent releases: upload (multipart), review, signatures, publish, withdraw, roll-out.

`tenfold sign` uses `GET /agent-releases/pending`, `GET /agent-releases/{id}`, `GET /agent-releases/{id}/file`
(to hash the wheel on the approver's machine) and `POST /agent-releases/{id}/signatures`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from tenfold.automation import releases
from tenfold.automation.models import ReleaseStatus
from tenfold.core.api import ERRORS, InputSchema, Page, actor_of, paginate
from tenfold.core.errors import ValidationError

router = Router(tags=["automation"])


class ReleaseSignatureOut(Schema):
    id: int
    key_id: str
    signature: str
    key_active: bool
    signed_at: datetime
    signed_by_id: int

    @staticmethod
    def resolve_key_id(obj: Any) -> str:
        return str(obj.key.key_id)

    @staticmethod
    def resolve_key_active(obj: Any) -> bool:
        return bool(obj.key.status == "active")


class ReleaseOut(Schema):
    """A release as an approver reviews it: `tenfold sign` rebuilds the document from `version`, `file_name`
    and the SHA-256 and size of the file it downloads itself; `document` is the server's and only compared."""

    id: int
    version: str = Field(examples=["0.2.0"])
    file_name: str = Field(examples=["tenfold_agent-0.2.0-py3-none-any.whl"])
    sha256: str
    size: int
    notes: str
    status: str = Field(examples=["draft"])
    document: str
    document_sha256: str
    created_at: datetime
    published_at: datetime | None
    withdrawn_at: datetime | None
    created_by_id: int | None
    signatures: list[ReleaseSignatureOut]

    @staticmethod
    def resolve_signatures(obj: Any) -> list[Any]:
        return releases.release_signatures(obj)


class ReleaseFilters(Schema):
    status: str | None = None
    page: int = 1
    page_size: int | None = None


class ListParams(Schema):
    page: int = 1
    page_size: int | None = None


class ReleaseSignatureIn(InputSchema):
    key_id: str = Field(min_length=1, max_length=40)
    signature: str = Field(min_length=1, max_length=100, description="Base64 Ed25519 signature of the document.")


class RolloutIn(InputSchema):
    device_ids: list[int] | None = Field(default=None, max_length=500,
                                         description="Devices to update (each must run an older agent).")
    client_id: int | None = Field(default=None, ge=1, le=2**63 - 1,
                                  description="Or: every managed device of this client whose agent is older.")


class UpdateJobOut(Schema):
    id: int
    client_id: int
    device_id: int
    device_name: str
    status: str
    exit_code: int | None
    stderr: str
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_device_name(obj: Any) -> str:
        return str(obj.device.name)


@router.get("", response={200: Page[ReleaseOut], **ERRORS}, summary="List agent releases")
def list_releases(request: HttpRequest, filters: Query[ReleaseFilters]) -> Any:
    """Every release of the agent, newest first, filtered by `status` (draft, signed, published, withdrawn)."""
    queryset = releases.releases_visible(actor_of(request))
    if filters.status:
        if filters.status not in ReleaseStatus.values:
            raise ValidationError(f"status must be one of: {', '.join(ReleaseStatus.values)}.", field="status")
        queryset = queryset.filter(status=filters.status)
    return paginate(queryset.order_by("-created_at", "-pk"), filters.page, filters.page_size)


@router.get("/pending", response={200: Page[ReleaseOut], **ERRORS}, summary="List releases awaiting signature")
def pending_releases(request: HttpRequest, params: Query[ListParams]) -> Any:
    return paginate(releases.releases_awaiting_signature(actor_of(request)), params.page, params.page_size)


@router.post("", response={201: ReleaseOut, **ERRORS}, summary="Upload an agent release")
def upload_release(request: HttpRequest, file: File[UploadedFile], version: Form[str],
                   notes: Form[str] = "") -> Any:
    """A wheel of the tenfold-agent package (multipart `file`) of `version`: it must be a ZIP with a
    `*.dist-info/METADATA` naming tenfold-agent and this version, at most 50 MB (and within the server's request
    limit). It awaits an approver's signature."""
    actor = actor_of(request)
    releases.require_library_write(actor, "add")
    if (file.size or 0) > releases.MAX_RELEASE_BYTES:
        raise ValidationError(f"A release is at most {releases.MAX_RELEASE_BYTES // 1048576} MB.", field="file")
    data = file.read(releases.MAX_RELEASE_BYTES + 1)
    release = releases.release_upload(actor=actor, version=version[:60], file_name=file.name or "", data=data,
                                      notes=notes)
    return Status(201, release)


@router.get("/{release_id}", response={200: ReleaseOut, **ERRORS}, summary="Get an agent release")
def get_release(request: HttpRequest, release_id: int) -> Any:
    return releases.access_release(actor_of(request), release_id)


@router.get("/{release_id}/file", response={200: None, **ERRORS}, summary="Download a release's wheel",
            openapi_extra={"responses": {"200": {"description": "The wheel", "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}})
def download_release(request: HttpRequest, release_id: int) -> Any:
    """The wheel's bytes, so that an approver hashes the file on their own machine before signing."""
    release = releases.access_release(actor_of(request), release_id)
    with release.file.open("rb") as handle:
        data = handle.read()
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{release.file_name}"'
    return response


@router.post("/{release_id}/signatures", response={201: ReleaseSignatureOut, **ERRORS},
             summary="Upload a release signature")
def upload_release_signature(request: HttpRequest, release_id: int, payload: ReleaseSignatureIn) -> Any:
    """The approver's Ed25519 signature of the release document (`tenfold sign release-approve`), verified with
    the approver's registered public key before it is stored (422 when it does not verify)."""
    actor = actor_of(request)
    release = releases.access_release(actor, release_id)
    return Status(201, releases.release_signature_upload(actor=actor, release=release, key_id=payload.key_id,
                                                         signature=payload.signature))


@router.post("/{release_id}/publish", response={200: ReleaseOut, **ERRORS}, summary="Publish an agent release")
def publish_release(request: HttpRequest, release_id: int) -> Any:
    """Only a release signed by an active key (409 otherwise); owners, administrators and service managers."""
    actor = actor_of(request)
    return releases.release_publish(actor=actor, release=releases.access_release(actor, release_id))


@router.post("/{release_id}/withdraw", response={200: ReleaseOut, **ERRORS}, summary="Withdraw an agent release")
def withdraw_release(request: HttpRequest, release_id: int) -> Any:
    """Its file is no longer served to agents; jobs not yet fetched fail."""
    actor = actor_of(request)
    return releases.release_withdraw(actor=actor, release=releases.access_release(actor, release_id))


@router.post("/{release_id}/rollout", response={201: list[UpdateJobOut], **ERRORS}, summary="Roll out a release")
def rollout_release(request: HttpRequest, release_id: int, payload: RolloutIn) -> Any:
    """Queue an `agent_update` job on `device_ids`, or on every managed device of `client_id` whose agent is older.
    A device you may not see is a 404 and nothing is queued."""
    actor = actor_of(request)
    release = releases.access_release_for_rollout(actor, release_id)
    jobs = releases.release_rollout(actor=actor, release=release, device_ids=payload.device_ids,
                                    client_id=payload.client_id)
    return Status(201, jobs)


@router.get("/{release_id}/jobs", response={200: Page[UpdateJobOut], **ERRORS}, summary="List a release's updates")
def list_release_jobs(request: HttpRequest, release_id: int, params: Query[ListParams]) -> Any:
    """The `agent_update` jobs of this release on devices of clients you may see, newest first."""
    actor = actor_of(request)
    release = releases.access_release(actor, release_id)
    return paginate(releases.rollout_jobs(actor, release), params.page, params.page_size)
