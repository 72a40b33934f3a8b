"""REST endpoints of patching: updates, device updates, approval decisions (one by one and in bulk), approval
policies and the patch report."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from tenfold.assets.selectors import access_device
from tenfold.clients.selectors import access_client, access_site
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate
from tenfold.patching import selectors, services
from tenfold.patching.approvals import statuses_for
from tenfold.patching.models import (
    NOT_INSTALLED,
    DeviceUpdateState,
    PatchScope,
    UpdateCategory,
    UpdateSeverity,
)
from tenfold.patching.report import patch_report
from tenfold.patching.schemas import (
    ApprovalPolicyIn,
    ApprovalPolicyOut,
    ApprovalPolicyPatch,
    BulkDecisionIn,
    DecisionIn,
    DecisionOut,
    DeviceUpdateOut,
    ReportOut,
    UpdateOut,
)

updates_router = Router(tags=["patching"])
device_updates_router = Router(tags=["patching"])
decisions_router = Router(tags=["patching"])
policies_router = Router(tags=["patching"])
report_router = Router(tags=["patching"])


class UpdateFilters(Schema):
    q: str | None = None
    category: UpdateCategory | None = None
    severity: UpdateSeverity | None = None
    approval: str | None = None
    client_id: int | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class DeviceUpdateFilters(Schema):
    device_id: int | None = None
    client_id: int | None = None
    update_id: int | None = None
    state: DeviceUpdateState | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class DecisionFilters(Schema):
    update_id: int | None = None
    client_id: int | None = None
    page: int = 1
    page_size: int | None = None


class PolicyFilters(Schema):
    q: str | None = None
    scope: PatchScope | None = None
    client_id: int | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class ReportFilters(Schema):
    client_id: int | None = None


UPDATE_ORDERING = {"title": "title", "first_seen_at": "first_seen_at", "released_on": "released_on",
                   "category": "category", "missing_count": "missing_count"}


@updates_router.get("", response={200: Page[UpdateOut], **ERRORS}, summary="List updates")
def list_updates(request: HttpRequest, filters: Query[UpdateFilters]) -> Any:
    """Updates the agents reported, with how many devices you see miss each and the decision for every
    client; filter by category, severity, approval (approved, rejected, deferred, none) and client."""
    actor = actor_of(request)
    client_id = access_client(actor, filters.client_id).pk if filters.client_id else None
    queryset = selectors.update_list(actor, client_id=client_id)
    if filters.q:
        term = filters.q.strip()[:200]
        queryset = queryset.filter(Q(title__icontains=term) | Q(identifier__icontains=term))
    for name in ("category", "severity", "approval"):
        value = getattr(filters, name)
        if value:
            queryset = queryset.filter(**{name: value})
    queryset = queryset.order_by(*ordering_param(filters.ordering, UPDATE_ORDERING, "-first_seen_at"))
    return paginate(queryset, filters.page, filters.page_size)


@updates_router.get("/{update_id}", response={200: UpdateOut, **ERRORS}, summary="Get an update")
def get_update(request: HttpRequest, update_id: int) -> Any:
    return selectors.access_update(actor_of(request), update_id)


def _device_update(row: Any, approval: str | None) -> dict[str, Any]:
    return {"id": row.pk, "client_id": row.client_id, "device_id": row.device_id, "device": row.device.name,
            "update_id": row.update_id, "update": row.update.title, "category": row.update.category,
            "installed_version": row.installed_version, "available_version": row.available_version,
            "state": row.state, "approval": approval, "first_seen_at": row.first_seen_at,
            "last_seen_at": row.last_seen_at, "installed_at": row.installed_at, "message": row.message}


@device_updates_router.get("", response={200: Page[DeviceUpdateOut], **ERRORS}, summary="List device updates")
def list_device_updates(request: HttpRequest, filters: Query[DeviceUpdateFilters]) -> Any:
    """Each update on each device you see, with its state and (when not installed) its effective approval."""
    queryset = selectors.device_updates_visible(actor_of(request)).exclude(state=DeviceUpdateState.SUPERSEDED)
    for name in ("device_id", "client_id", "update_id", "state"):
        value = getattr(filters, name)
        if value:
            queryset = queryset.filter(**{name: value})
    queryset = queryset.order_by(*ordering_param(filters.ordering, {"first_seen_at": "first_seen_at",
                                                                    "state": "state", "device": "device__name"},
                                                 "device"))
    page = paginate(queryset, filters.page, filters.page_size)
    pending = [row for row in page["items"] if row.state in NOT_INSTALLED]
    statuses = statuses_for(pending)
    page["items"] = [_device_update(row, statuses.get(row.pk)) for row in page["items"]]
    return page


@decisions_router.get("", response={200: Page[DecisionOut], **ERRORS}, summary="List approval decisions")
def list_decisions(request: HttpRequest, filters: Query[DecisionFilters]) -> Any:
    """Decisions for every client and for the clients you see, newest first."""
    queryset = selectors.decisions_visible(actor_of(request))
    if filters.update_id:
        queryset = queryset.filter(update_id=filters.update_id)
    if filters.client_id:
        queryset = queryset.filter(client_id=filters.client_id)
    return paginate(queryset.order_by("-decided_at", "-pk"), filters.page, filters.page_size)


@decisions_router.post("", response={201: DecisionOut, **ERRORS}, summary="Decide on an update")
def create_decision(request: HttpRequest, payload: DecisionIn) -> Any:
    """Approve, reject or defer (with `deferred_until`) one update for one client, or for every client when
    `client_id` is null. A second decision for the same update and client replaces the first."""
    actor = actor_of(request)
    update = selectors.access_update(actor, payload.update_id)
    client = access_client(actor, payload.client_id) if payload.client_id else None
    return Status(201, services.decision_set(actor=actor, update=update, client=client, decision=payload.decision,
                                             deferred_until=payload.deferred_until, note=payload.note))


@decisions_router.post("/bulk", response={201: list[DecisionOut], **ERRORS}, summary="Decide on updates in bulk")
def bulk_decision(request: HttpRequest, payload: BulkDecisionIn) -> Any:
    """The same decision on several updates, for the listed clients or (client_ids null) every client.
    An unknown update or a client you cannot see is a 404 and nothing is decided."""
    actor = actor_of(request)
    updates = [selectors.access_update(actor, pk) for pk in dict.fromkeys(payload.update_ids)]
    clients = None
    if payload.client_ids is not None:
        clients = [access_client(actor, pk) for pk in dict.fromkeys(payload.client_ids)]
    return Status(201, services.decision_bulk(actor=actor, updates=updates, clients=clients,
                                              decision=payload.decision, deferred_until=payload.deferred_until,
                                              note=payload.note))


@decisions_router.get("/{decision_id}", response={200: DecisionOut, **ERRORS}, summary="Get a decision")
def get_decision(request: HttpRequest, decision_id: int) -> Any:
    return selectors.access_decision(actor_of(request), decision_id)


@decisions_router.delete("/{decision_id}", response={204: None, **ERRORS}, summary="Withdraw a decision")
def delete_decision(request: HttpRequest, decision_id: int) -> Any:
    actor = actor_of(request)
    services.decision_delete(actor=actor, decision=selectors.access_decision(actor, decision_id))
    return Status(204, None)


@policies_router.get("", response={200: Page[ApprovalPolicyOut], **ERRORS}, summary="List approval policies")
def list_policies(request: HttpRequest, filters: Query[PolicyFilters]) -> Any:
    """Approval policies you may see: MSP-wide ones and those of your clients."""
    queryset = selectors.policies_visible(actor_of(request))
    if filters.q:
        queryset = queryset.filter(name__icontains=filters.q.strip()[:200])
    if filters.scope:
        queryset = queryset.filter(scope=filters.scope)
    if filters.client_id:
        queryset = queryset.filter(client_id=filters.client_id)
    queryset = queryset.order_by(*ordering_param(filters.ordering, {"name": "name", "scope": "scope"}, "name"))
    return paginate(queryset, filters.page, filters.page_size)


def _check_targets(actor: Any, data: dict[str, Any]) -> None:
    # A client, site or device the actor cannot see is a 404, as everywhere else.
    if data.get("client_id"):
        access_client(actor, data["client_id"])
    if data.get("site_id"):
        access_site(actor, data["site_id"])
    if data.get("device_id"):
        access_device(actor, data["device_id"])


@policies_router.post("", response={201: ApprovalPolicyOut, **ERRORS}, summary="Create an approval policy")
def create_policy(request: HttpRequest, payload: ApprovalPolicyIn) -> Any:
    """Auto-approval (categories, severities, days), install window (days 0 = Monday, opening and closing times
    in the device's time zone; closing before opening ends the next day) and reboot rule."""
    actor = actor_of(request)
    data = payload.model_dump()
    _check_targets(actor, data)
    return Status(201, services.policy_create(actor=actor, data=data))


@policies_router.get("/{policy_id}", response={200: ApprovalPolicyOut, **ERRORS}, summary="Get an approval policy")
def get_policy(request: HttpRequest, policy_id: int) -> Any:
    return selectors.access_policy(actor_of(request), policy_id)


@policies_router.patch("/{policy_id}", response={200: ApprovalPolicyOut, **ERRORS}, summary="Change an approval policy")
def update_policy(request: HttpRequest, policy_id: int, payload: ApprovalPolicyPatch) -> Any:
    actor = actor_of(request)
    policy = selectors.access_policy(actor, policy_id)
    data = payload.model_dump(exclude_unset=True)
    _check_targets(actor, data)
    return services.policy_update(actor=actor, policy=policy, data=data)


@policies_router.delete("/{policy_id}", response={204: None, **ERRORS}, summary="Delete an approval policy")
def delete_policy(request: HttpRequest, policy_id: int) -> Any:
    actor = actor_of(request)
    services.policy_delete(actor=actor, policy=selectors.access_policy(actor, policy_id))
    return Status(204, None)


@report_router.get("", response={200: ReportOut, **ERRORS}, summary="The patch report")
def get_report(request: HttpRequest, filters: Query[ReportFilters]) -> Any:
    """Devices up to date (share rounded to 0.1 %), update status, approval status, missing critical updates by
    age (0–7, 8–30, over 30 days) and one line per device; for one client or every client you see."""
    actor = actor_of(request)
    client = access_client(actor, filters.client_id) if filters.client_id else None
    return patch_report(actor, client).as_dict()

