"""Which approval policy reaches a device, and the effective approval of an update on a device.

Effective approval, in this order:
1. the decision for the device's client on this update (approved, rejected, or deferred until a date);
2. else the decision for every client on this update;
3. else the device's policy: approved when the update's category is among the policy's auto-approve
   categories, its severity among the policy's severities (none listed: any), and N days have passed since
   its release date (or, when the date is unknown, since the update was first seen);
4. else awaiting approval.
A deferral that has passed its date no longer decides: the next rule does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from tenfold.assets.models import Device
from tenfold.core.selectors import organization
from tenfold.patching.models import (
    SCOPE_RANK,
    Approval,
    ApprovalDecision,
    ApprovalPolicy,
    PatchScope,
    Update,
    UpdateApprovalStatus,
)
from tenfold.patching.windows import WindowSpec, zone


@dataclass(frozen=True)
class DecisionRef:
    """The parts of a decision the effective approval reads."""

    decision: str
    deferred_until: date | None


class PolicyIndex:
    """Every enabled approval policy, loaded once, answering "which policy reaches this device"."""

    def __init__(self, policies: Iterable[ApprovalPolicy] | None = None) -> None:
        rows = list(policies) if policies is not None else list(
            ApprovalPolicy.objects.filter(enabled=True).order_by("pk"))
        self.policies = sorted(rows, key=lambda p: (SCOPE_RANK[PatchScope(p.scope)], p.pk))

    def for_device(self, device: Device, tag_ids: Iterable[int] = ()) -> ApprovalPolicy | None:
        """The most specific policy: the device's, its site's, one of its tags' (lowest id), its client's, global."""
        tags = set(tag_ids)
        for policy in self.policies:
            if policy.scope == PatchScope.DEVICE and policy.device_id == device.pk:
                return policy
            if policy.scope == PatchScope.SITE and device.site_id is not None and policy.site_id == device.site_id:
                return policy
            if policy.scope == PatchScope.TAG and policy.tag_id in tags:
                return policy
            if policy.scope == PatchScope.CLIENT and policy.client_id == device.client_id:
                return policy
            if policy.scope == PatchScope.GLOBAL:
                return policy
        return None


def device_tag_ids(devices: Iterable[Device]) -> dict[int, set[int]]:
    """The tag ids of each device (one query)."""
    ids = [d.pk for d in devices]
    out: dict[int, set[int]] = {pk: set() for pk in ids}
    for device_id, tag_id in Device.tags.through.objects.filter(device_id__in=ids).values_list("device_id", "tag_id"):
        out[device_id].add(tag_id)
    return out


def decisions_for(update_ids: Iterable[int]) -> dict[tuple[int, int | None], DecisionRef]:
    """The decisions on these updates by (update id, client id or None for every client)."""
    rows = ApprovalDecision.objects.filter(update_id__in=list(set(update_ids))).values_list(
        "update_id", "client_id", "decision", "deferred_until")
    return {(u, c): DecisionRef(d, until) for u, c, d, until in rows}


def _decided(ref: DecisionRef | None, today: date) -> str | None:
    if ref is None:
        return None
    if ref.decision == Approval.DEFERRED:
        return UpdateApprovalStatus.DEFERRED if ref.deferred_until is not None and today < ref.deferred_until else None
    return UpdateApprovalStatus.APPROVED if ref.decision == Approval.APPROVED else UpdateApprovalStatus.REJECTED


def auto_approved_on(policy: ApprovalPolicy | None, update: Update) -> date | None:
    """The day the policy approves this update by itself, or None when its rule does not cover it."""
    if policy is None or policy.auto_approve_after_days is None:
        return None
    if update.category not in (policy.auto_approve_categories or []):
        return None
    severities = policy.auto_approve_severities or []
    if severities and update.severity not in severities:
        return None
    basis = update.released_on or timezone.localdate(update.first_seen_at)
    return basis + timedelta(days=policy.auto_approve_after_days)


def effective_status(update: Update, client_id: int, policy: ApprovalPolicy | None,
                     decisions: dict[tuple[int, int | None], DecisionRef], now: datetime | None = None) -> str:
    """The effective approval of `update` on a device of `client_id` reached by `policy` (module docstring)."""
    today = timezone.localdate(now or timezone.now())
    for key in ((update.pk, client_id), (update.pk, None)):
        decided = _decided(decisions.get(key), today)
        if decided is not None:
            return decided
    approve_on = auto_approved_on(policy, update)
    if approve_on is not None and today >= approve_on:
        return UpdateApprovalStatus.APPROVED
    return UpdateApprovalStatus.AWAITING


def device_time_zone(device: Device, default: str | None = None) -> str:
    """The device's wall clock: its site's time zone, else the organization's default."""
    site = getattr(device, "site", None) if device.site_id else None
    if site is not None and site.time_zone:
        return str(site.time_zone)
    return default or organization().default_time_zone


def window_spec(policy: ApprovalPolicy | None) -> WindowSpec | None:
    """The policy's install window, or None when it has none (no install is scheduled then)."""
    if policy is None or not policy.has_window:
        return None
    assert policy.window_start is not None and policy.window_end is not None
    return WindowSpec(tuple(int(d) for d in policy.window_days), policy.window_start, policy.window_end)


def statuses_for(pairs: list[Any], now: datetime | None = None, index: PolicyIndex | None = None) -> dict[int, str]:
    """Effective approval of many device updates (with `update` and `device` loaded), by device update id."""
    index = index or PolicyIndex()
    decisions = decisions_for(du.update_id for du in pairs)
    devices = {du.device_id: du.device for du in pairs}
    tags = device_tag_ids(devices.values())
    policies = {pk: index.for_device(device, tags.get(pk, ())) for pk, device in devices.items()}
    return {du.pk: effective_status(du.update, du.client_id, policies[du.device_id], decisions, now) for du in pairs}


__all__ = ["PolicyIndex", "auto_approved_on", "decisions_for", "device_tag_ids", "device_time_zone",
           "effective_status", "statuses_for", "window_spec", "zone"]
