"""REST endpoints for clients, sites and contacts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from tenfold.clients import selectors, services
from tenfold.clients.models import ClientStatus
from tenfold.clients.schemas import (
    ClientIn,
    ClientOut,
    ClientPatch,
    ContactIn,
    ContactOut,
    ContactPatch,
    SiteIn,
    SiteOut,
    SitePatch,
)
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate

router = Router(tags=["clients"])
sites_router = Router(tags=["clients"])
contacts_router = Router(tags=["clients"])


class ClientFilters(Schema):
    q: str | None = None
    status: ClientStatus | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class ListParams(Schema):
    q: str | None = None
    page: int = 1
    page_size: int | None = None


def _patch_data(payload: Any) -> dict[str, Any]:
    # Only what the caller sent; None on a nullable id means "clear it".
    return payload.model_dump(exclude_unset=True)


@router.get("", response={200: Page[ClientOut], **ERRORS}, summary="List clients")
def list_clients(request: HttpRequest, filters: Query[ClientFilters]) -> Any:
    """Clients you may see, filtered by `q` (name) and `status`, sorted by `ordering`."""
    queryset = selectors.clients_visible(actor_of(request))
    if filters.q:
        queryset = queryset.filter(name__icontains=filters.q.strip()[:200])
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    queryset = queryset.order_by(*ordering_param(filters.ordering, {"name": "name", "created_at": "created_at",
                                                                    "status": "status"}, "name"))
    return paginate(queryset, filters.page, filters.page_size)


@router.post("", response={201: ClientOut, **ERRORS}, summary="Create a client")
def create_client(request: HttpRequest, payload: ClientIn) -> Any:
    client = services.client_create(actor=actor_of(request), data=payload.model_dump())
    return Status(201, client)


@router.get("/{client_id}", response={200: ClientOut, **ERRORS}, summary="Get a client")
def get_client(request: HttpRequest, client_id: int) -> Any:
    return selectors.access_client(actor_of(request), client_id)


@router.patch("/{client_id}", response={200: ClientOut, **ERRORS}, summary="Change a client")
def update_client(request: HttpRequest, client_id: int, payload: ClientPatch) -> Any:
    actor = actor_of(request)
    client = selectors.access_client(actor, client_id)
    return services.client_update(actor=actor, client=client, data=_patch_data(payload))


@router.delete("/{client_id}", response={204: None, **ERRORS}, summary="Delete a client")
def delete_client(request: HttpRequest, client_id: int) -> Any:
    actor = actor_of(request)
    services.client_delete(actor=actor, client=selectors.access_client(actor, client_id))
    return Status(204, None)


@router.get("/{client_id}/sites", response={200: Page[SiteOut], **ERRORS}, summary="List a client's sites")
def list_client_sites(request: HttpRequest, client_id: int, params: Query[ListParams]) -> Any:
    client = selectors.access_client(actor_of(request), client_id)
    queryset = client.sites.order_by("name", "pk")
    if params.q:
        queryset = queryset.filter(name__icontains=params.q[:200])
    return paginate(queryset, params.page, params.page_size)


@router.post("/{client_id}/sites", response={201: SiteOut, **ERRORS}, summary="Add a site")
def create_site(request: HttpRequest, client_id: int, payload: SiteIn) -> Any:
    actor = actor_of(request)
    client = selectors.access_client(actor, client_id)
    data = payload.model_dump()
    data["country"] = data["country"].upper()
    return Status(201, services.site_create(actor=actor, client=client, data=data))


@router.get("/{client_id}/contacts", response={200: Page[ContactOut], **ERRORS}, summary="List a client's contacts")
def list_client_contacts(request: HttpRequest, client_id: int, params: Query[ListParams]) -> Any:
    actor = actor_of(request)
    client = selectors.access_client(actor, client_id)
    queryset = selectors.contacts_visible(actor).filter(client=client).order_by("last_name", "first_name", "pk")
    if params.q:
        queryset = queryset.filter(last_name__icontains=params.q[:200])
    return paginate(queryset, params.page, params.page_size)


@router.post("/{client_id}/contacts", response={201: ContactOut, **ERRORS}, summary="Add a contact")
def create_contact(request: HttpRequest, client_id: int, payload: ContactIn) -> Any:
    actor = actor_of(request)
    client = selectors.access_client(actor, client_id)
    data = payload.model_dump()
    data["email"] = data["email"] or ""
    return Status(201, services.contact_create(actor=actor, client=client, data=data))


@sites_router.get("/{site_id}", response={200: SiteOut, **ERRORS}, summary="Get a site")
def get_site(request: HttpRequest, site_id: int) -> Any:
    return selectors.access_site(actor_of(request), site_id)


@sites_router.patch("/{site_id}", response={200: SiteOut, **ERRORS}, summary="Change a site")
def update_site(request: HttpRequest, site_id: int, payload: SitePatch) -> Any:
    actor = actor_of(request)
    site = selectors.access_site(actor, site_id)
    data = _patch_data(payload)
    if data.get("country"):
        data["country"] = data["country"].upper()
    return services.site_update(actor=actor, site=site, data=data)


@sites_router.delete("/{site_id}", response={204: None, **ERRORS}, summary="Remove a site")
def delete_site(request: HttpRequest, site_id: int) -> Any:
    actor = actor_of(request)
    services.site_delete(actor=actor, site=selectors.access_site(actor, site_id))
    return Status(204, None)


@contacts_router.get("", response={200: Page[ContactOut], **ERRORS}, summary="List contacts")
def list_contacts(request: HttpRequest, params: Query[ListParams]) -> Any:
    """Contacts of every client you may see; `q` searches names and e-mail."""
    queryset = selectors.contacts_visible(actor_of(request)).order_by("last_name", "first_name", "pk")
    if params.q:
        from django.db.models import Q

        term = params.q.strip()[:200]
        queryset = queryset.filter(Q(last_name__icontains=term) | Q(first_name__icontains=term)
                                   | Q(email__icontains=term))
    return paginate(queryset, params.page, params.page_size)


@contacts_router.get("/{contact_id}", response={200: ContactOut, **ERRORS}, summary="Get a contact")
def get_contact(request: HttpRequest, contact_id: int) -> Any:
    return selectors.access_contact(actor_of(request), contact_id)


@contacts_router.patch("/{contact_id}", response={200: ContactOut, **ERRORS}, summary="Change a contact")
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch) -> Any:
    actor = actor_of(request)
    contact = selectors.access_contact(actor, contact_id)
    data = _patch_data(payload)
    if "email" in data:
        data["email"] = data["email"] or ""
    return services.contact_update(actor=actor, contact=contact, data=data)


@contacts_router.delete("/{contact_id}", response={204: None, **ERRORS}, summary="Remove a contact")
def delete_contact(request: HttpRequest, contact_id: int) -> Any:
    actor = actor_of(request)
    services.contact_delete(actor=actor, contact=selectors.access_contact(actor, contact_id))
    return Status(204, None)
