"""REST endpoints for runbooks, client documentation, the vault and search.

Revealing a secret needs a person who re-authenticated in the last 15 minutes: it works from a browser
session (after re-authentication) and is refused for API tokens (403 `token_cannot_reveal`): a token is a
long-lived bearer secret, and a vault whose secrets come out for any leaked token protects nothing.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate
from tenfold.core.errors import PermissionDenied
from tenfold.knowledge import selectors, services
from tenfold.knowledge.models import RunbookKind
from tenfold.knowledge.schemas import (
    ArchiveIn,
    ClientDocOut,
    CredentialIn,
    CredentialOut,
    DiffLineOut,
    KeyApplicationIn,
    KeyApplicationOut,
    NetworkItemIn,
    NetworkItemOut,
    OverviewIn,
    RevealOut,
    RevealRecordOut,
    RunbookDetailOut,
    RunbookIn,
    RunbookOut,
    RunbookPatch,
    SearchHitOut,
    StepOut,
    VersionOut,
    VersionSummaryOut,
)
from tenfold.knowledge.search import search_everything

router = Router(tags=["knowledge"])
docs_router = Router(tags=["knowledge"])
vault_router = Router(tags=["vault"])
search_router = Router(tags=["search"])


class RunbookFilters(Schema):
    q: str | None = None
    kind: RunbookKind | None = None
    category_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    client_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    archived: bool = False
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class ListParams(Schema):
    q: str | None = None
    client_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    page: int = 1
    page_size: int | None = None


def _runbook_detail(runbook: Any) -> dict[str, Any]:
    data = RunbookOut.from_orm(runbook).model_dump()
    data["steps"] = list(runbook.steps.order_by("position"))
    return data


@router.get("", response={200: Page[RunbookOut], **ERRORS}, summary="List runbooks")
def list_runbooks(request: HttpRequest, filters: Query[RunbookFilters]) -> Any:
    """Runbooks you may see (the MSP's and your clients'), filtered and sorted (`title`, `updated_at`)."""
    queryset = selectors.runbooks_visible(actor_of(request)).filter(archived=filters.archived)
    if filters.q:
        queryset = queryset.filter(title__icontains=filters.q.strip()[:200])
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.category_id:
        queryset = queryset.filter(category_id=filters.category_id)
    if filters.client_id:
        queryset = queryset.filter(client_id=filters.client_id)
    queryset = queryset.order_by(*ordering_param(filters.ordering, {"title": "title", "updated_at": "updated_at"},
                                                 "title"))
    return paginate(queryset, filters.page, filters.page_size)


@router.post("", response={201: RunbookDetailOut, **ERRORS}, summary="Create a runbook")
def create_runbook(request: HttpRequest, payload: RunbookIn) -> Any:
    data = payload.model_dump()
    steps = [services.StepInput(s["text"], s["required"]) for s in data.pop("steps")]
    summary = data.pop("summary")
    runbook = services.runbook_create(actor=actor_of(request), data=data, steps=steps, summary=summary)
    return Status(201, _runbook_detail(runbook))


@router.get("/{runbook_id}", response={200: RunbookDetailOut, **ERRORS}, summary="Get a runbook with its steps")
def get_runbook(request: HttpRequest, runbook_id: int) -> Any:
    return _runbook_detail(selectors.access_runbook(actor_of(request), runbook_id))


@router.patch("/{runbook_id}", response={200: RunbookDetailOut, **ERRORS}, summary="Change a runbook (new version)")
def update_runbook(request: HttpRequest, runbook_id: int, payload: RunbookPatch) -> Any:
    actor = actor_of(request)
    runbook = selectors.access_runbook(actor, runbook_id)
    data = payload.model_dump(exclude_unset=True)
    # null clears only what may be empty (the category, the client); elsewhere it means "unchanged".
    data = {key: value for key, value in data.items() if value is not None or key in ("category_id", "client_id")}
    summary = data.pop("summary", "")
    raw_steps = data.pop("steps", None)
    steps = ([services.StepInput(s["text"], s["required"]) for s in raw_steps] if raw_steps is not None else
             [services.StepInput(s.text, s.required) for s in runbook.steps.order_by("position")])
    runbook = services.runbook_update(actor=actor, runbook=runbook, data=data, steps=steps, summary=summary)
    return _runbook_detail(runbook)


@router.post("/{runbook_id}/archive", response={200: RunbookOut, **ERRORS}, summary="Archive or restore a runbook")
def archive_runbook(request: HttpRequest, runbook_id: int, payload: ArchiveIn) -> Any:
    actor = actor_of(request)
    runbook = selectors.access_runbook(actor, runbook_id)
    return services.runbook_set_archived(actor=actor, runbook=runbook, archived=payload.archived)


@router.get("/{runbook_id}/steps", response={200: list[StepOut], **ERRORS}, summary="The runbook's checklist")
def list_steps(request: HttpRequest, runbook_id: int) -> Any:
    return list(selectors.access_runbook(actor_of(request), runbook_id).steps.order_by("position"))


@router.get("/{runbook_id}/versions", response={200: list[VersionSummaryOut], **ERRORS},
            summary="The runbook's versions, newest first")
def list_versions(request: HttpRequest, runbook_id: int) -> Any:
    return list(selectors.runbook_versions(selectors.access_runbook(actor_of(request), runbook_id)))


@router.get("/{runbook_id}/versions/{number}", response={200: VersionOut, **ERRORS}, summary="One version")
def get_version(request: HttpRequest, runbook_id: int, number: int) -> Any:
    return selectors.access_version(selectors.access_runbook(actor_of(request), runbook_id), number)


@router.get("/{runbook_id}/diff", response={200: list[DiffLineOut], **ERRORS},
            summary="Unified diff between two versions")
def diff_versions(request: HttpRequest, runbook_id: int, from_version: int | None = Query(None, alias="from"),
                  to_version: int | None = Query(None, alias="to")) -> Any:
    """From version `from` to version `to` (by default: the previous version to the current one)."""
    runbook = selectors.access_runbook(actor_of(request), runbook_id)
    to_number = to_version or runbook.current_version
    from_number = from_version or max(1, to_number - 1)
    old, new = selectors.access_version(runbook, from_number), selectors.access_version(runbook, to_number)
    return selectors.version_diff(old, new)


# --- Client documentation -----------------------------------------------------------------------------------


def _doc_body(client: Any) -> dict[str, Any]:
    doc = selectors.client_doc(client)
    return {"client_id": client.pk, "overview_markdown": doc.overview_markdown if doc else "",
            "shared_with_client": doc.shared_with_client if doc else False,
            "last_reviewed_at": doc.last_reviewed_at if doc else None,
            "reviewed_by_id": doc.reviewed_by_id if doc else None,
            "network": list(selectors.network_items(client)),
            "applications": list(selectors.key_applications(client))}


@docs_router.get("/{client_id}", response={200: ClientDocOut, **ERRORS}, summary="A client's documentation")
def get_client_doc(request: HttpRequest, client_id: int) -> Any:
    return _doc_body(selectors.access_client_for_docs(actor_of(request), client_id))


@docs_router.put("/{client_id}/overview", response={200: ClientDocOut, **ERRORS},
                 summary="Replace a client's environment overview (and share it or not)")
def put_overview(request: HttpRequest, client_id: int, payload: OverviewIn) -> Any:
    """`shared_with_client`: the client's portal administrators read the overview in the portal; omitted, the
    sharing is left as it is. Audited like the change in the page."""
    actor = actor_of(request)
    client = selectors.access_client_for_docs(actor, client_id)
    services.client_doc_update(actor=actor, client=client, overview_markdown=payload.overview_markdown,
                               shared_with_client=payload.shared_with_client)
    return _doc_body(client)


@docs_router.post("/{client_id}/review", response={200: ClientDocOut, **ERRORS},
                  summary="Mark a client's documentation as reviewed now")
def review_client_doc(request: HttpRequest, client_id: int) -> Any:
    actor = actor_of(request)
    client = selectors.access_client_for_docs(actor, client_id)
    services.client_doc_mark_reviewed(actor=actor, client=client)
    return _doc_body(client)


@docs_router.post("/{client_id}/network", response={201: NetworkItemOut, **ERRORS}, summary="Add a network item")
def create_network_item(request: HttpRequest, client_id: int, payload: NetworkItemIn) -> Any:
    actor = actor_of(request)
    client = selectors.access_client_for_docs(actor, client_id)
    return Status(201, services.network_item_save(actor=actor, client=client, data=payload.model_dump()))


@docs_router.post("/{client_id}/applications", response={201: KeyApplicationOut, **ERRORS},
                  summary="Add a key application")
def create_key_application(request: HttpRequest, client_id: int, payload: KeyApplicationIn) -> Any:
    actor = actor_of(request)
    client = selectors.access_client_for_docs(actor, client_id)
    return Status(201, services.key_application_save(actor=actor, client=client, data=payload.model_dump()))


# --- Vault --------------------------------------------------------------------------------------------------


@vault_router.get("", response={200: Page[CredentialOut], **ERRORS}, summary="List credentials (no secrets)")
def list_credentials(request: HttpRequest, params: Query[ListParams]) -> Any:
    queryset = selectors.credentials_visible(actor_of(request)).order_by("name", "pk")
    if params.q:
        queryset = queryset.filter(name__icontains=params.q.strip()[:200])
    if params.client_id:
        queryset = queryset.filter(client_id=params.client_id)
    return paginate(queryset, params.page, params.page_size)


@vault_router.post("", response={201: CredentialOut, **ERRORS}, summary="Store a credential")
def create_credential(request: HttpRequest, payload: CredentialIn) -> Any:
    data = payload.model_dump()
    secret, seed = data.pop("secret"), data.pop("totp_seed")
    return Status(201, services.credential_create(actor=actor_of(request), data=data, secret=secret,
                                                  totp_seed=seed))


@vault_router.get("/{credential_id}", response={200: CredentialOut, **ERRORS}, summary="Get a credential (no secret)")
def get_credential(request: HttpRequest, credential_id: int) -> Any:
    return selectors.access_credential(actor_of(request), credential_id)


@vault_router.post("/{credential_id}/reveal", response={200: RevealOut, **ERRORS},
                   summary="Reveal the secret and current TOTP code")
def reveal_credential(request: HttpRequest, credential_id: int) -> Any:
    """Browser session only, re-authenticated in the last 15 minutes; refused for API tokens. Audited."""
    actor = actor_of(request)
    credential = selectors.access_credential(actor, credential_id)
    if getattr(request, "api_token", None) is not None:
        raise PermissionDenied(services.TOKEN_REVEAL_MESSAGE, code="token_cannot_reveal")
    return services.credential_reveal(actor=actor, credential=credential,
                                      recent_auth=services.recently_authenticated(request), channel="api",
                                      ip=request.META.get("REMOTE_ADDR"))


@vault_router.get("/{credential_id}/reveals", response={200: list[RevealRecordOut], **ERRORS},
                  summary="Who revealed the credential")
def list_reveals(request: HttpRequest, credential_id: int) -> Any:
    return list(selectors.credential_reveals(selectors.access_credential(actor_of(request), credential_id)))


# --- Search -------------------------------------------------------------------------------------------------


@search_router.get("", response={200: list[SearchHitOut], **ERRORS}, summary="Search runbooks, docs and tickets")
def search(request: HttpRequest, q: str = Query("", max_length=200), limit: int = Query(20, ge=1, le=50)) -> Any:
    """Full-text search over what you may see: runbooks, client documentation and registered providers
    (an empty `q` finds nothing). Portal users: 403."""
    actor = actor_of(request)
    if getattr(actor, "is_portal", False):
        raise PermissionDenied()
    return search_everything(actor, q, limit=limit) if q.strip() else []
