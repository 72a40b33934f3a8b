"""REST endpoints for policies, checks, alerts, maintenance windows, effective policies and baselines."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from tenfold.assets.selectors import access_device
from tenfold.clients.selectors import access_client
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate
from tenfold.monitoring import selectors, services
from tenfold.monitoring.models import AlertKind, AlertStatus, PolicyScope, Severity
from tenfold.monitoring.policies import effective_policy
from tenfold.monitoring.schemas import (
    AlertOut,
    BaselineIn,
    CheckIn,
    CheckOut,
    CheckPatch,
    ComplianceOut,
    EffectivePolicyOut,
    PolicyDetailOut,
    PolicyIn,
    PolicyOut,
    PolicyPatch,
    WindowIn,
    WindowOut,
    WindowPatch,
)

policies_router = Router(tags=["monitoring"])
checks_router = Router(tags=["monitoring"])
alerts_router = Router(tags=["monitoring"])
windows_router = Router(tags=["monitoring"])
devices_router = Router(tags=["monitoring"])
clients_router = Router(tags=["monitoring"])


class PolicyFilters(Schema):
    q: str | None = None
    scope: PolicyScope | None = None
    client_id: int | None = None
    tag_id: int | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class AlertFilters(Schema):
    q: str | None = None
    status: AlertStatus | None = None
    severity: Severity | None = None
    kind: AlertKind | None = None
    client_id: int | None = None
    device_id: int | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class WindowFilters(Schema):
    client_id: int | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


def _patch(payload: Any) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True)


# --- policies ---------------------------------------------------------------------------------


@policies_router.get("", response={200: Page[PolicyOut], **ERRORS}, summary="List policies")
def list_policies(request: HttpRequest, filters: Query[PolicyFilters]) -> Any:
    """Policies you may see: MSP-wide ones and those of your clients."""
    queryset = selectors.policies_visible(actor_of(request))
    if filters.q:
        queryset = queryset.filter(name__icontains=filters.q.strip()[:200])
    if filters.scope:
        queryset = queryset.filter(scope=filters.scope)
    if filters.client_id:
        queryset = queryset.filter(client_id=filters.client_id)
    if filters.tag_id:
        queryset = queryset.filter(tag_id=filters.tag_id)
    queryset = queryset.order_by(*ordering_param(filters.ordering, {"name": "name", "scope": "scope",
                                                                    "created_at": "created_at"}, "name"))
    return paginate(queryset, filters.page, filters.page_size)


@policies_router.post("", response={201: PolicyOut, **ERRORS}, summary="Create a policy")
def create_policy(request: HttpRequest, payload: PolicyIn) -> Any:
    data = payload.model_dump()
    return Status(201, services.policy_create(actor=actor_of(request), data=data))


def _policy_detail(policy: Any) -> dict[str, Any]:
    body = PolicyOut.from_orm(policy).model_dump()
    body["checks"] = list(selectors.policy_checks(policy))
    return body


@policies_router.get("/{policy_id}", response={200: PolicyDetailOut, **ERRORS}, summary="Get a policy")
def get_policy(request: HttpRequest, policy_id: int) -> Any:
    return _policy_detail(selectors.access_policy(actor_of(request), policy_id))


@policies_router.patch("/{policy_id}", response={200: PolicyOut, **ERRORS}, summary="Change a policy")
def update_policy(request: HttpRequest, policy_id: int, payload: PolicyPatch) -> Any:
    actor = actor_of(request)
    policy = selectors.access_policy(actor, policy_id)
    return services.policy_update(actor=actor, policy=policy, data=_patch(payload))


@policies_router.delete("/{policy_id}", response={204: None, **ERRORS}, summary="Delete a policy")
def delete_policy(request: HttpRequest, policy_id: int) -> Any:
    actor = actor_of(request)
    services.policy_delete(actor=actor, policy=selectors.access_policy(actor, policy_id))
    return Status(204, None)


@policies_router.get("/{policy_id}/checks", response={200: list[CheckOut], **ERRORS}, summary="List a policy's checks")
def list_policy_checks(request: HttpRequest, policy_id: int) -> Any:
    return list(selectors.policy_checks(selectors.access_policy(actor_of(request), policy_id)))


@policies_router.post("/{policy_id}/checks", response={201: CheckOut, **ERRORS}, summary="Add a check")
def create_check(request: HttpRequest, policy_id: int, payload: CheckIn) -> Any:
    """Add a check; `params` are validated for its `check_type` (errors name `params.<name>`)."""
    actor = actor_of(request)
    policy = selectors.access_policy(actor, policy_id)
    return Status(201, services.check_create(actor=actor, policy=policy, data=payload.model_dump()))


@checks_router.get("/{check_id}", response={200: CheckOut, **ERRORS}, summary="Get a check")
def get_check(request: HttpRequest, check_id: int) -> Any:
    return selectors.access_check(actor_of(request), check_id)


@checks_router.patch("/{check_id}", response={200: CheckOut, **ERRORS}, summary="Change a check")
def update_check(request: HttpRequest, check_id: int, payload: CheckPatch) -> Any:
    actor = actor_of(request)
    check = selectors.access_check(actor, check_id)
    return services.check_update(actor=actor, check=check, data=_patch(payload))


@checks_router.delete("/{check_id}", response={204: None, **ERRORS}, summary="Remove a check")
def delete_check(request: HttpRequest, check_id: int) -> Any:
    actor = actor_of(request)
    services.check_delete(actor=actor, check=selectors.access_check(actor, check_id))
    return Status(204, None)


# --- alerts -----------------------------------------------------------------------------------

ALERT_ORDERING = {"opened_at": "opened_at", "last_seen_at": "last_seen_at", "severity": "severity",
                  "status": "status", "occurrences": "occurrences"}


@alerts_router.get("", response={200: Page[AlertOut], **ERRORS}, summary="List alerts")
def list_alerts(request: HttpRequest, filters: Query[AlertFilters]) -> Any:
    """Alerts you may see, newest first by default; filter by status, severity, kind, client, device."""
    queryset = selectors.alerts_visible(actor_of(request))
    if filters.q:
        term = filters.q.strip()[:200]
        queryset = queryset.filter(Q(title__icontains=term) | Q(device__name__icontains=term))
    for name in ("status", "severity", "kind", "client_id", "device_id"):
        value = getattr(filters, name)
        if value:
            queryset = queryset.filter(**{name: value})
    queryset = queryset.order_by(*ordering_param(filters.ordering, ALERT_ORDERING, "-opened_at"))
    return paginate(queryset, filters.page, filters.page_size)


@alerts_router.get("/{alert_id}", response={200: AlertOut, **ERRORS}, summary="Get an alert")
def get_alert(request: HttpRequest, alert_id: int) -> Any:
    return selectors.access_alert(actor_of(request), alert_id)


@alerts_router.post("/{alert_id}/acknowledge", response={200: AlertOut, **ERRORS}, summary="Acknowledge an alert")
def acknowledge_alert(request: HttpRequest, alert_id: int) -> Any:
    actor = actor_of(request)
    return services.alert_acknowledge(actor=actor, alert=selectors.access_alert(actor, alert_id))


@alerts_router.post("/{alert_id}/resolve", response={200: AlertOut, **ERRORS}, summary="Resolve an alert")
def resolve_alert(request: HttpRequest, alert_id: int) -> Any:
    actor = actor_of(request)
    return services.alert_resolve(actor=actor, alert=selectors.access_alert(actor, alert_id))


# --- maintenance windows ----------------------------------------------------------------------


@windows_router.get("", response={200: Page[WindowOut], **ERRORS}, summary="List maintenance windows")
def list_windows(request: HttpRequest, filters: Query[WindowFilters]) -> Any:
    queryset = selectors.windows_visible(actor_of(request))
    if filters.client_id:
        queryset = queryset.filter(client_id=filters.client_id)
    queryset = queryset.order_by(*ordering_param(filters.ordering, {"starts_at": "starts_at", "ends_at": "ends_at"},
                                                 "-starts_at"))
    return paginate(queryset, filters.page, filters.page_size)


@windows_router.post("", response={201: WindowOut, **ERRORS}, summary="Plan a maintenance window")
def create_window(request: HttpRequest, payload: WindowIn) -> Any:
    actor = actor_of(request)
    data = payload.model_dump()
    client = access_client(actor, data.pop("client_id"))
    return Status(201, services.window_create(actor=actor, client=client, data=data))


@windows_router.get("/{window_id}", response={200: WindowOut, **ERRORS}, summary="Get a maintenance window")
def get_window(request: HttpRequest, window_id: int) -> Any:
    return selectors.access_window(actor_of(request), window_id)


@windows_router.patch("/{window_id}", response={200: WindowOut, **ERRORS}, summary="Change a maintenance window")
def update_window(request: HttpRequest, window_id: int, payload: WindowPatch) -> Any:
    actor = actor_of(request)
    window = selectors.access_window(actor, window_id)
    return services.window_update(actor=actor, window=window, data=_patch(payload))


@windows_router.delete("/{window_id}", response={204: None, **ERRORS}, summary="Remove a maintenance window")
def delete_window(request: HttpRequest, window_id: int) -> Any:
    actor = actor_of(request)
    services.window_delete(actor=actor, window=selectors.access_window(actor, window_id))
    return Status(204, None)


# --- effective policy, baseline ---------------------------------------------------------------


@devices_router.get("/{device_id}/policy", response={200: EffectivePolicyOut, **ERRORS},
                    summary="A device's effective policy")
def device_policy(request: HttpRequest, device_id: int) -> Any:
    """The checks and collectors the device runs, its version, and the policy each check comes from."""
    actor = actor_of(request)
    device = access_device(actor, device_id)
    effective = effective_policy(device)
    return {"device_id": device.pk, "version": effective.version, "checks": effective.checks,
            "collectors": effective.collectors,
            "sources": [{"check_id": s.check.pk, "check_name": s.check.name, "check_type": s.check.check_type,
                         "enabled": s.check.enabled, "policy_id": s.policy.pk, "policy_name": s.policy.name,
                         "scope": s.scope, "tag_id": s.policy.tag_id, "replaces": [c.pk for c in s.replaces]}
                        for s in effective.sources]}


def _compliance(client: Any) -> dict[str, Any]:
    compliance = selectors.baseline_compliance(client)
    return {"client_id": client.pk, "tier": compliance.tier, "managed": compliance.managed,
            "compliant": compliance.compliant, "share": compliance.share,
            "non_compliant_device_ids": [d.pk for d in compliance.non_compliant]}


@clients_router.get("/{client_id}/baseline", response={200: ComplianceOut, **ERRORS},
                    summary="A client's baseline tier and compliance")
def get_baseline(request: HttpRequest, client_id: int) -> Any:
    """The share of the client's managed devices whose effective policy includes its tier's baseline."""
    actor = actor_of(request)
    client = access_client(actor, client_id)
    selectors.require_policies(actor)
    return _compliance(client)


@clients_router.put("/{client_id}/baseline", response={200: ComplianceOut, **ERRORS},
                    summary="Apply a tier's baseline to a client")
def apply_baseline(request: HttpRequest, client_id: int, payload: BaselineIn) -> Any:
    actor = actor_of(request)
    client = access_client(actor, client_id)
    services.baseline_apply(actor=actor, client=client, tier=payload.tier)
    return _compliance(client)
