"""Reads of patching, always scoped: updates, device updates, approval policies and decisions."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from tenfold.core.roles import require
from tenfold.core.tenancy import get_visible
from tenfold.patching.approvals import PolicyIndex, device_tag_ids, statuses_for
from tenfold.patching.models import (
    NOT_INSTALLED,
    ApprovalDecision,
    ApprovalPolicy,
    DeviceUpdate,
    DeviceUpdateScan,
    InstallRun,
    Update,
)


def updates_visible(actor: Any) -> QuerySet[Update]:
    """The updates the actor may see (a restricted user: those reported by their clients' devices)."""
    require(actor, "policies", "view")
    return Update.objects.visible_to(actor)


def update_list(actor: Any, client_id: int | None = None) -> QuerySet[Update]:
    """Updates with how many visible devices miss each and the decision for every client ("none" without one)."""
    missing = DeviceUpdate.objects.visible_to(actor).filter(update=OuterRef("pk"), state__in=NOT_INSTALLED)
    if client_id is not None:
        missing = missing.filter(client_id=client_id)
    counted = missing.order_by().values("update").annotate(n=Count("pk")).values("n")
    decision = ApprovalDecision.objects.filter(update=OuterRef("pk"), client__isnull=True).values("decision")[:1]
    queryset = updates_visible(actor).annotate(
        missing_count=Coalesce(Subquery(counted), Value(0)),
        approval=Coalesce(Subquery(decision), Value("none")))
    if client_id is not None:
        queryset = queryset.filter(Exists(DeviceUpdate.objects.filter(update=OuterRef("pk"), client_id=client_id)))
    return queryset


def access_update(actor: Any, update_id: Any) -> Update:
    """One update, or NotFound (unknown, or seen only on devices of clients the actor may not see)."""
    update = get_visible(Update.objects.all(), actor, update_id)
    require(actor, "policies", "view")
    return update


def device_updates_visible(actor: Any) -> QuerySet[DeviceUpdate]:
    """Device updates the actor may see (the devices capability: update status is part of a device's state)."""
    require(actor, "devices", "view")
    return DeviceUpdate.objects.visible_to(actor).select_related("update", "device", "device__client",
                                                                 "device__site")


def devices_missing(actor: Any, update: Update) -> list[dict[str, Any]]:
    """The visible devices that miss `update`, with the effective approval on each."""
    rows = list(DeviceUpdate.objects.visible_to(actor).filter(update=update, state__in=NOT_INSTALLED)
                .select_related("update", "device", "device__client", "device__site")
                .order_by("device__client__name", "device__name", "pk"))
    statuses = statuses_for(rows)
    return [{"row": row, "approval": statuses[row.pk]} for row in rows]


def device_patch_status(actor: Any, device: Any) -> dict[str, Any]:
    """A device's updates (newest first) with their effective approval, its policy and its last listing."""
    rows = list(DeviceUpdate.objects.visible_to(actor).filter(device=device)
                .select_related("update", "device", "device__site")
                .order_by("state", "-update__first_seen_at", "pk"))
    statuses = statuses_for(rows)
    policy = PolicyIndex().for_device(device, device_tag_ids([device]).get(device.pk, ()))
    scan = DeviceUpdateScan.objects.visible_to(actor).filter(device=device).first()
    runs = list(InstallRun.objects.visible_to(actor).filter(device=device).select_related("job")[:5])
    return {"rows": [{"row": r, "approval": statuses[r.pk]} for r in rows], "policy": policy, "scan": scan,
            "runs": runs, "missing": sum(1 for r in rows if r.state in NOT_INSTALLED)}


def policies_visible(actor: Any) -> QuerySet[ApprovalPolicy]:
    """Approval policies: MSP-level ones and those of the clients the actor may see."""
    require(actor, "policies", "view")
    return ApprovalPolicy.objects.visible_to(actor).select_related("client", "site", "device", "tag")


def access_policy(actor: Any, policy_id: Any) -> ApprovalPolicy:
    """One approval policy, or NotFound."""
    policy = get_visible(ApprovalPolicy.objects.select_related("client", "site", "device", "tag"), actor, policy_id)
    require(actor, "policies", "view")
    return policy


def decisions_visible(actor: Any) -> QuerySet[ApprovalDecision]:
    """Decisions for every client and for the clients the actor may see."""
    require(actor, "policies", "view")
    return ApprovalDecision.objects.visible_to(actor).select_related("update", "client", "decided_by")


def access_decision(actor: Any, decision_id: Any) -> ApprovalDecision:
    """One decision, or NotFound."""
    decision = get_visible(ApprovalDecision.objects.select_related("update", "client"), actor, decision_id)
    require(actor, "policies", "view")
    return decision
