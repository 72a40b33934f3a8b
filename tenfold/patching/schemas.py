"""API shapes of updates, device updates, approval decisions, approval policies and the patch report."""

from __future__ import annotations

from datetime import date, datetime, time

from ninja import Schema
from pydantic import Field

from tenfold.core.api import InputSchema
from tenfold.patching.models import (
    Approval,
    DeviceUpdateState,
    PatchScope,
    RebootRule,
    UpdateApprovalStatus,
    UpdateCategory,
    UpdateSeverity,
    UpdateSource,
)

ID = Field(default=None, ge=1, le=2**63 - 1)


class UpdateOut(Schema):
    id: int
    source: UpdateSource
    identifier: str = Field(examples=["KB5046617"])
    version: str = Field(examples=[""])
    title: str = Field(examples=["2026-11 Cumulative Update for Windows 11 Version 23H2 (KB5046617)"])
    category: UpdateCategory
    severity: str = Field(examples=["critical"])
    released_on: date | None = Field(examples=["2026-11-10"])
    reboot_required: bool
    first_seen_at: datetime
    missing_count: int = Field(default=0, examples=[4], description="Devices you see that miss it.")
    approval: str = Field(default="none", examples=["approved"],
                          description="The decision for every client: approved, rejected, deferred or none.")


class DeviceUpdateOut(Schema):
    id: int
    client_id: int
    device_id: int
    device: str = Field(examples=["PC-COMPTA-01"])
    update_id: int
    update: str = Field(examples=["openssl"])
    category: UpdateCategory
    installed_version: str = Field(examples=["3.0.15-1~deb12u1"])
    available_version: str = Field(examples=["3.0.17-1~deb12u3"])
    state: DeviceUpdateState
    approval: UpdateApprovalStatus | None = Field(default=None, examples=["awaiting"],
                                            description="Effective approval (for updates not installed).")
    first_seen_at: datetime
    last_seen_at: datetime
    installed_at: datetime | None
    message: str


class DecisionOut(Schema):
    id: int
    update_id: int
    client_id: int | None = Field(examples=[None], description="None: the decision holds for every client.")
    decision: Approval
    deferred_until: date | None
    decided_by_id: int | None
    decided_at: datetime
    note: str


class DecisionIn(InputSchema):
    update_id: int = Field(ge=1, le=2**63 - 1, examples=[12])
    client_id: int | None = Field(default=None, ge=1, le=2**63 - 1, examples=[None])
    decision: Approval = Field(examples=["approved"])
    deferred_until: date | None = Field(default=None, examples=[None])
    note: str = Field(default="", max_length=500)


class BulkDecisionIn(InputSchema):
    update_ids: list[int] = Field(min_length=1, max_length=500, examples=[[12, 13]])
    client_ids: list[int] | None = Field(default=None, max_length=1000, examples=[None],
                                         description="None: every client.")
    decision: Approval = Field(examples=["approved"])
    deferred_until: date | None = None
    note: str = Field(default="", max_length=500)


class ApprovalPolicyOut(Schema):
    id: int
    name: str = Field(examples=["Security updates after 3 days"])
    scope: PatchScope
    client_id: int | None
    site_id: int | None
    device_id: int | None
    tag_id: int | None
    enabled: bool
    auto_approve_categories: list[str] = Field(examples=[["security", "critical"]])
    auto_approve_severities: list[str] = Field(examples=[[]])
    auto_approve_after_days: int | None = Field(examples=[3])
    window_days: list[int] = Field(examples=[[1, 3]])
    window_start: time | None = Field(examples=["22:00:00"])
    window_end: time | None = Field(examples=["04:00:00"])
    reboot: RebootRule
    reboot_deferrals: int
    reboot_defer_minutes: int = Field(examples=[60], description="How long each deferral of the reboot lasts.")


class ApprovalPolicyIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["Security updates after 3 days"])
    scope: PatchScope = PatchScope.CLIENT
    client_id: int | None = ID
    site_id: int | None = ID
    device_id: int | None = ID
    tag_id: int | None = ID
    enabled: bool = True
    auto_approve_categories: list[UpdateCategory] = Field(default_factory=list, max_length=6)
    auto_approve_severities: list[UpdateSeverity] = Field(default_factory=list, max_length=4)
    auto_approve_after_days: int | None = Field(default=None, ge=0, le=365)
    window_days: list[int] = Field(default_factory=list, max_length=7, examples=[[1, 3]])
    window_start: time | None = Field(default=None, examples=["22:00"])
    window_end: time | None = Field(default=None, examples=["04:00"])
    reboot: RebootRule = RebootRule.IF_REQUIRED
    reboot_deferrals: int = Field(default=0, ge=0, le=10)
    reboot_defer_minutes: int = Field(default=60, ge=15, le=1440, examples=[60],
                                      description="How long each deferral of the reboot lasts (minutes).")


class ApprovalPolicyPatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    scope: PatchScope | None = None
    client_id: int | None = ID
    site_id: int | None = ID
    device_id: int | None = ID
    tag_id: int | None = ID
    enabled: bool | None = None
    auto_approve_categories: list[UpdateCategory] | None = Field(default=None, max_length=6)
    auto_approve_severities: list[UpdateSeverity] | None = Field(default=None, max_length=4)
    auto_approve_after_days: int | None = Field(default=None, ge=0, le=365)
    window_days: list[int] | None = Field(default=None, max_length=7)
    window_start: time | None = None
    window_end: time | None = None
    reboot: RebootRule | None = None
    reboot_deferrals: int | None = Field(default=None, ge=0, le=10)
    reboot_defer_minutes: int | None = Field(default=None, ge=15, le=1440, examples=[120])


class ReportDeviceOut(Schema):
    device_id: int
    device: str
    client: str
    missing: int
    approved_missing: int
    critical_missing: int
    failed: int
    installed: int
    up_to_date: bool
    scanned_at: datetime | None


class ReportOut(Schema):
    client_id: int | None
    generated_at: datetime
    devices_counted: int = Field(examples=[3])
    devices_up_to_date: int = Field(examples=[2])
    share_up_to_date: str | None = Field(examples=["66.7"], description="Percent, rounded half up to 0.1.")
    devices_not_reported: int
    states: dict[str, int] = Field(examples=[{"installed": 40, "missing": 7, "pending_install": 0, "failed": 1}])
    approvals: dict[str, int] = Field(examples=[{"approved": 2, "rejected": 1, "deferred": 0, "awaiting": 5}])
    critical_by_age: dict[str, int] = Field(examples=[{"0_7": 1, "8_30": 2, "over_30": 0}])
    devices: list[ReportDeviceOut]
