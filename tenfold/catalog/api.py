"""REST endpoints of the catalog: services, offerings, plans, plan items and a plan's cost model."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from tenfold.catalog import pricing, selectors, services
from tenfold.catalog.models import ServiceCategory, UnitKind
from tenfold.catalog.schemas import (
    CostModelOut,
    CountsIn,
    OfferingIn,
    OfferingOut,
    OfferingPatch,
    PlanIn,
    PlanItemIn,
    PlanItemOut,
    PlanItemPatch,
    PlanOut,
    PlanPatch,
    ServiceIn,
    ServiceOut,
    ServicePatch,
)
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate
from tenfold.core.errors import NotFound, ValidationError
from tenfold.core.tiers import Tier

router = Router(tags=["catalog"])


class ServiceFilters(Schema):
    q: str | None = None
    category: ServiceCategory | None = None
    unit: UnitKind | None = None
    is_addon: bool | None = None
    active: bool | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class OfferingFilters(Schema):
    q: str | None = None
    active: bool | None = None
    page: int = 1
    page_size: int | None = None


class PlanFilters(Schema):
    offering_id: int | None = None
    tier: Tier | None = None
    active: bool | None = None
    page: int = 1
    page_size: int | None = None


class ListParams(Schema):
    page: int = 1
    page_size: int | None = None


def _patch_data(payload: Any) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True)


def _no_nulls(data: dict[str, Any]) -> dict[str, Any]:
    # A PATCH may leave a field out; sending null for a field that cannot be empty is an error.
    nulls = sorted(k for k, v in data.items() if v is None)
    if nulls:
        raise ValidationError(errors={k: [str(_("This field cannot be null."))] for k in nulls})
    return data


# --- Services ---------------------------------------------------------------------------------------

@router.get("/services", response={200: Page[ServiceOut], **ERRORS}, summary="List services")
def list_services(request: HttpRequest, filters: Query[ServiceFilters]) -> Any:
    """Catalog services, searched by `q` (name, code), filtered, sorted by `ordering`."""
    queryset = selectors.services_visible(actor_of(request))
    if filters.q:
        term = filters.q.strip()[:200]
        queryset = queryset.filter(Q(name__icontains=term) | Q(code__icontains=term))
    for field in ("category", "unit", "is_addon", "active"):
        value = getattr(filters, field)
        if value is not None:
            queryset = queryset.filter(**{field: value})
    queryset = queryset.order_by(*ordering_param(filters.ordering, {
        "name": "name", "code": "code", "list_price": "list_price", "category": "category",
        "created_at": "created_at"}, "name"))
    return paginate(queryset, filters.page, filters.page_size)


@router.post("/services", response={201: ServiceOut, **ERRORS}, summary="Create a service")
def create_service(request: HttpRequest, payload: ServiceIn) -> Any:
    return Status(201, services.service_create(actor=actor_of(request), data=payload.model_dump()))


@router.get("/services/{service_id}", response={200: ServiceOut, **ERRORS}, summary="Get a service")
def get_service(request: HttpRequest, service_id: int) -> Any:
    return selectors.access_service(actor_of(request), service_id)


@router.patch("/services/{service_id}", response={200: ServiceOut, **ERRORS}, summary="Change a service")
def update_service(request: HttpRequest, service_id: int, payload: ServicePatch) -> Any:
    actor = actor_of(request)
    service = selectors.access_service(actor, service_id)
    return services.service_update(actor=actor, service=service, data=_no_nulls(_patch_data(payload)))


@router.delete("/services/{service_id}", response={204: None, **ERRORS}, summary="Delete a service")
def delete_service(request: HttpRequest, service_id: int) -> Any:
    """Refused (409) while a plan includes the service: deactivate it instead."""
    actor = actor_of(request)
    services.service_delete(actor=actor, service=selectors.access_service(actor, service_id))
    return Status(204, None)


# --- Offerings --------------------------------------------------------------------------------------

@router.get("/offerings", response={200: Page[OfferingOut], **ERRORS}, summary="List offerings")
def list_offerings(request: HttpRequest, filters: Query[OfferingFilters]) -> Any:
    queryset = selectors.offerings_visible(actor_of(request)).order_by("name", "pk")
    if filters.q:
        queryset = queryset.filter(name__icontains=filters.q.strip()[:200])
    if filters.active is not None:
        queryset = queryset.filter(active=filters.active)
    return paginate(queryset, filters.page, filters.page_size)


@router.post("/offerings", response={201: OfferingOut, **ERRORS}, summary="Create an offering")
def create_offering(request: HttpRequest, payload: OfferingIn) -> Any:
    return Status(201, services.offering_create(actor=actor_of(request), data=payload.model_dump()))


@router.get("/offerings/{offering_id}", response={200: OfferingOut, **ERRORS}, summary="Get an offering")
def get_offering(request: HttpRequest, offering_id: int) -> Any:
    return selectors.access_offering(actor_of(request), offering_id)


@router.patch("/offerings/{offering_id}", response={200: OfferingOut, **ERRORS}, summary="Change an offering")
def update_offering(request: HttpRequest, offering_id: int, payload: OfferingPatch) -> Any:
    actor = actor_of(request)
    offering = selectors.access_offering(actor, offering_id)
    return services.offering_update(actor=actor, offering=offering, data=_no_nulls(_patch_data(payload)))


@router.delete("/offerings/{offering_id}", response={204: None, **ERRORS}, summary="Delete an offering")
def delete_offering(request: HttpRequest, offering_id: int) -> Any:
    """Deletes its plans too."""
    actor = actor_of(request)
    services.offering_delete(actor=actor, offering=selectors.access_offering(actor, offering_id))
    return Status(204, None)


@router.post("/offerings/{offering_id}/plans", response={201: PlanOut, **ERRORS}, summary="Add a plan")
def create_plan(request: HttpRequest, offering_id: int, payload: PlanIn) -> Any:
    """The plan of one tier; an offering has at most one per tier (422 otherwise)."""
    actor = actor_of(request)
    offering = selectors.access_offering(actor, offering_id)
    return Status(201, services.plan_create(actor=actor, offering=offering, data=payload.model_dump()))


# --- Plans ------------------------------------------------------------------------------------------

@router.get("/plans", response={200: Page[PlanOut], **ERRORS}, summary="List plans")
def list_plans(request: HttpRequest, filters: Query[PlanFilters]) -> Any:
    queryset = selectors.plans_visible(actor_of(request)).order_by("offering__name", "-tier", "pk")
    if filters.offering_id is not None:
        queryset = queryset.filter(offering_id=filters.offering_id)
    if filters.tier is not None:
        queryset = queryset.filter(tier=filters.tier)
    if filters.active is not None:
        queryset = queryset.filter(active=filters.active)
    return paginate(queryset, filters.page, filters.page_size)


@router.get("/plans/{plan_id}", response={200: PlanOut, **ERRORS}, summary="Get a plan")
def get_plan(request: HttpRequest, plan_id: int) -> Any:
    return selectors.access_plan(actor_of(request), plan_id)


@router.patch("/plans/{plan_id}", response={200: PlanOut, **ERRORS}, summary="Change a plan")
def update_plan(request: HttpRequest, plan_id: int, payload: PlanPatch) -> Any:
    actor = actor_of(request)
    plan = selectors.access_plan(actor, plan_id)
    return services.plan_update(actor=actor, plan=plan, data=_no_nulls(_patch_data(payload)))


@router.delete("/plans/{plan_id}", response={204: None, **ERRORS}, summary="Delete a plan")
def delete_plan(request: HttpRequest, plan_id: int) -> Any:
    actor = actor_of(request)
    services.plan_delete(actor=actor, plan=selectors.access_plan(actor, plan_id))
    return Status(204, None)


@router.get("/plans/{plan_id}/items", response={200: Page[PlanItemOut], **ERRORS},
            summary="List a plan's own items")
def list_plan_items(request: HttpRequest, plan_id: int, params: Query[ListParams]) -> Any:
    """The services this plan lists itself; the cost model adds those of the lower tiers."""
    plan = selectors.access_plan(actor_of(request), plan_id)
    queryset = plan.items.select_related("service").order_by("service__name", "pk")
    return paginate(queryset, params.page, params.page_size)


@router.post("/plans/{plan_id}/items", response={201: PlanItemOut, **ERRORS}, summary="Add a service to a plan")
def create_plan_item(request: HttpRequest, plan_id: int, payload: PlanItemIn) -> Any:
    """An active service, at its list price unless `unit_price` is given."""
    actor = actor_of(request)
    plan = selectors.access_plan(actor, plan_id)
    try:
        service = selectors.access_service(actor, payload.service_id)
    except NotFound as exc:
        raise ValidationError(_("Choose an existing service."), field="service_id") from exc
    item = services.plan_item_add(actor=actor, plan=plan, service=service, unit_price=payload.unit_price)
    return Status(201, item)


@router.get("/plans/{plan_id}/cost-model", response={200: CostModelOut, **ERRORS},
            summary="Get a plan's cost model")
def get_plan_cost_model(request: HttpRequest, plan_id: int, counts: Query[CountsIn]) -> Any:
    """Revenue, tool cost, labour cost, margin and price sensitivity per month at the given unit counts
    (default: 20 workstations, 2 servers, 20 users, 1 site), including the lower tiers' services."""
    plan = selectors.access_plan(actor_of(request), plan_id)
    unit_counts = pricing.UnitCounts(**counts.model_dump())
    economics = selectors.plan_economics(plan, unit_counts)
    model = economics.model
    return {
        "plan_id": plan.pk, "currency": selectors.currency(), "loaded_hourly_cost": economics.hourly_cost,
        "counts": counts.model_dump(),
        "lines": [{"service_id": line.service_id, "name": line.name, "unit": line.unit, "tier": line.tier,
                   "quantity": line.quantity, "unit_price": line.unit_price, "unit_cost": line.unit_cost,
                   "labour_minutes": line.labour_minutes, "revenue": pricing.money(line.revenue),
                   "tool_cost": pricing.money(line.tool_cost)} for line in economics.lines],
        "revenue": model.revenue, "tool_cost": model.tool_cost, "labour_cost": model.labour_cost,
        "margin": model.margin, "margin_pct": model.margin_pct, "profit_leverage_pct": economics.leverage,
        "sensitivity": [{"change": row.key, "revenue": row.revenue, "profit_change": row.profit_change,
                         "profit_change_pct": row.profit_change_pct} for row in economics.sensitivity],
    }


# --- Plan items -------------------------------------------------------------------------------------

@router.get("/plan-items/{item_id}", response={200: PlanItemOut, **ERRORS}, summary="Get a plan item")
def get_plan_item(request: HttpRequest, item_id: int) -> Any:
    return selectors.access_plan_item(actor_of(request), item_id)


@router.patch("/plan-items/{item_id}", response={200: PlanItemOut, **ERRORS}, summary="Change a unit price")
def update_plan_item(request: HttpRequest, item_id: int, payload: PlanItemPatch) -> Any:
    actor = actor_of(request)
    item = selectors.access_plan_item(actor, item_id)
    return services.plan_item_update(actor=actor, item=item, unit_price=payload.unit_price)


@router.delete("/plan-items/{item_id}", response={204: None, **ERRORS}, summary="Remove a service from a plan")
def delete_plan_item(request: HttpRequest, item_id: int) -> Any:
    actor = actor_of(request)
    services.plan_item_remove(actor=actor, item=selectors.access_plan_item(actor, item_id))
    return Status(204, None)
