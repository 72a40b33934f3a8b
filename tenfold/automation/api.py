"""REST endpoints of the script library, signing keys, signatures and script runs.

`tenfold sign` uses `GET /script-versions/pending`, `GET /script-versions/{id}` and
`POST /script-versions/{id}/signatures` with the approver's own API token.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from tenfold.accounts.models import User
from tenfold.automation import selectors, services
from tenfold.automation.schemas import (
    KeyRevokeIn,
    RunIn,
    RunOut,
    ScriptIn,
    ScriptOut,
    ScriptPatch,
    SignatureIn,
    SignatureOut,
    SigningKeyIn,
    SigningKeyOut,
    VersionOut,
)
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate
from tenfold.core.errors import ValidationError

keys_router = Router(tags=["automation"])
scripts_router = Router(tags=["automation"])
versions_router = Router(tags=["automation"])
runs_router = Router(tags=["automation"])


class ListParams(Schema):
    page: int = 1
    page_size: int | None = None


class ScriptFilters(Schema):
    q: str | None = None
    category: str | None = None
    language: str | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class RunFilters(Schema):
    device_id: int | None = None
    script_id: int | None = None
    status: str | None = None
    page: int = 1
    page_size: int | None = None


# --- Signing keys ------------------------------------------------------------------------------


@keys_router.get("", response={200: Page[SigningKeyOut], **ERRORS}, summary="List signing keys")
def list_keys(request: HttpRequest, params: Query[ListParams]) -> Any:
    """Every registered public key, active and revoked (private keys are never on the server)."""
    return paginate(selectors.keys_visible(actor_of(request)).order_by("created_at", "pk"), params.page,
                    params.page_size)


@keys_router.post("", response={201: SigningKeyOut, **ERRORS}, summary="Register a signing key")
def register_key(request: HttpRequest, payload: SigningKeyIn) -> Any:
    """Register an approver's public key: the first one as is, later ones with a countersignature by an
    active key (`tenfold sign countersign`). Owners and administrators only."""
    actor = actor_of(request)
    owner = actor
    if payload.owner_id is not None:
        owner = User.objects.filter(pk=payload.owner_id).first()
        if owner is None:
            raise ValidationError("No user with this id.", field="owner_id")
    key = services.signing_key_register(actor=actor, name=payload.name, public_key=payload.public_key, owner=owner,
                                        countersigned_by=payload.countersigned_by,
                                        countersignature=payload.countersignature)
    return Status(201, key)


@keys_router.post("/{key_pk}/revoke", response={200: SigningKeyOut, **ERRORS}, summary="Revoke a signing key")
def revoke_key(request: HttpRequest, key_pk: int, payload: KeyRevokeIn) -> Any:
    """Revoke a key with a revocation signed by another active key (`tenfold sign revoke`)."""
    actor = actor_of(request)
    key = selectors.access_key(actor, key_pk)
    return services.signing_key_revoke(actor=actor, key=key, revoked_by=payload.revoked_by,
                                       signature=payload.signature)


# --- Scripts -----------------------------------------------------------------------------------


@scripts_router.get("", response={200: Page[ScriptOut], **ERRORS}, summary="List scripts")
def list_scripts(request: HttpRequest, filters: Query[ScriptFilters]) -> Any:
    """The script library, filtered by `q` (name), `category` and `language`, sorted by `ordering`."""
    queryset = selectors.scripts_visible(actor_of(request))
    if filters.q:
        queryset = queryset.filter(name__icontains=filters.q.strip()[:200])
    if filters.category:
        queryset = queryset.filter(category=filters.category[:20])
    if filters.language:
        queryset = queryset.filter(language=filters.language[:12])
    queryset = queryset.order_by(*ordering_param(filters.ordering, {"name": "name", "category": "category",
                                                                    "updated_at": "updated_at"}, "name"))
    return paginate(queryset, filters.page, filters.page_size)


@scripts_router.post("", response={201: ScriptOut, **ERRORS}, summary="Create a script")
def create_script(request: HttpRequest, payload: ScriptIn) -> Any:
    """A new library entry; its body is version 1, awaiting signature."""
    return Status(201, services.script_create(actor=actor_of(request), data=payload.model_dump()))


@scripts_router.get("/{script_id}", response={200: ScriptOut, **ERRORS}, summary="Get a script")
def get_script(request: HttpRequest, script_id: int) -> Any:
    return selectors.access_script(actor_of(request), script_id)


@scripts_router.patch("/{script_id}", response={200: ScriptOut, **ERRORS}, summary="Change a script")
def update_script(request: HttpRequest, script_id: int, payload: ScriptPatch) -> Any:
    """A change of the body, language, systems, timeout or parameters makes a new version awaiting signature."""
    actor = actor_of(request)
    script = selectors.access_script(actor, script_id)
    services.script_update(actor=actor, script=script, data=payload.model_dump(exclude_unset=True))
    script.refresh_from_db()
    return script


@scripts_router.delete("/{script_id}", response={204: None, **ERRORS}, summary="Delete a script")
def delete_script(request: HttpRequest, script_id: int) -> Any:
    actor = actor_of(request)
    services.script_delete(actor=actor, script=selectors.access_script(actor, script_id))
    return Status(204, None)


@scripts_router.get("/{script_id}/versions", response={200: list[VersionOut], **ERRORS},
                    summary="List a script's versions")
def list_versions(request: HttpRequest, script_id: int) -> Any:
    return selectors.script_versions(selectors.access_script(actor_of(request), script_id))


@scripts_router.post("/{script_id}/run", response={201: list[RunOut], **ERRORS}, summary="Run a script")
def run_script(request: HttpRequest, script_id: int, payload: RunIn) -> Any:
    """Queue the latest signed version (or `version`) on `device_ids`, or on every managed device of
    `client_id`: one job per device. A device you may not see is a 404 and nothing is queued."""
    actor = actor_of(request)
    script = selectors.access_script_for_run(actor, script_id)
    runs = services.script_run(actor=actor, script=script, device_ids=payload.device_ids, client_id=payload.client_id,
                               parameters=payload.parameters, version_number=payload.version)
    return Status(201, runs)


@scripts_router.get("/{script_id}/runs", response={200: Page[RunOut], **ERRORS}, summary="List a script's runs")
def list_script_runs(request: HttpRequest, script_id: int, params: Query[ListParams]) -> Any:
    actor = actor_of(request)
    script = selectors.access_script(actor, script_id)
    return paginate(selectors.runs_visible(actor).filter(version__script=script), params.page, params.page_size)


# --- Versions and signatures -------------------------------------------------------------------


@versions_router.get("/pending", response={200: Page[VersionOut], **ERRORS},
                     summary="List versions awaiting signature")
def pending_versions(request: HttpRequest, params: Query[ListParams]) -> Any:
    return paginate(selectors.versions_awaiting_signature(actor_of(request)), params.page, params.page_size)


@versions_router.get("/{version_id}", response={200: VersionOut, **ERRORS}, summary="Get a script version")
def get_version(request: HttpRequest, version_id: int) -> Any:
    return selectors.access_version(actor_of(request), version_id)


@versions_router.post("/{version_id}/signatures", response={201: SignatureOut, **ERRORS},
                      summary="Upload a signature")
def upload_signature(request: HttpRequest, version_id: int, payload: SignatureIn) -> Any:
    """The approver's Ed25519 signature of the version's document, made with `tenfold sign approve`. It is
    verified with the approver's registered public key before it is stored (422 when it does not verify)."""
    actor = actor_of(request)
    version = selectors.access_version(actor, version_id)
    return Status(201, services.signature_upload(actor=actor, version=version, key_id=payload.key_id,
                                                 signature=payload.signature))


@versions_router.post("/{version_id}/revoke", response={200: VersionOut, **ERRORS}, summary="Revoke a version")
def revoke_version(request: HttpRequest, version_id: int) -> Any:
    actor = actor_of(request)
    return services.version_revoke(actor=actor, version=selectors.access_version(actor, version_id))


# --- Runs --------------------------------------------------------------------------------------


@runs_router.get("", response={200: Page[RunOut], **ERRORS}, summary="List script runs")
def list_runs(request: HttpRequest, filters: Query[RunFilters]) -> Any:
    """Runs on devices of clients you may see, newest first; output has secret values redacted."""
    queryset = selectors.runs_visible(actor_of(request))
    if filters.device_id:
        queryset = queryset.filter(device_id=filters.device_id)
    if filters.script_id:
        queryset = queryset.filter(version__script_id=filters.script_id)
    if filters.status:
        queryset = queryset.filter(job__status=filters.status[:12])
    return paginate(queryset.order_by("-created_at", "-pk"), filters.page, filters.page_size)


@runs_router.get("/{run_id}", response={200: RunOut, **ERRORS}, summary="Get a script run")
def get_run(request: HttpRequest, run_id: int) -> Any:
    return selectors.access_run(actor_of(request), run_id)
