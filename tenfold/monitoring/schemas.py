"""API shapes of policies, checks, alerts, maintenance windows and effective policies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from tenfold.core.api import InputSchema
from tenfold.core.tiers import Tier
from tenfold.monitoring.checktypes import CheckType
from tenfold.monitoring.models import AlertKind, AlertStatus, PolicyScope, Severity

ID = Field(default=None, ge=1, le=2**63 - 1)


class CheckOut(Schema):
    id: int
    policy_id: int
    check_type: CheckType
    name: str = Field(examples=["Free space on C:"])
    params: dict[str, Any] = Field(examples=[{"mount": "C:\\", "warn_pct": 15, "fail_pct": 5}])
    interval_s: int
    severity: Severity
    failures_before_alert: int
    enabled: bool
    runbook_url: str
    os_family: str


class CheckIn(InputSchema):
    check_type: CheckType
    name: str = Field(min_length=1, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)
    interval_s: int = Field(default=300, ge=30, le=86400)
    severity: Severity = Severity.WARNING
    failures_before_alert: int = Field(default=3, ge=1, le=20)
    enabled: bool = True
    runbook_url: str = Field(default="", max_length=500)
    os_family: str = Field(default="", max_length=20)


class CheckPatch(InputSchema):
    check_type: CheckType | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    params: dict[str, Any] | None = None
    interval_s: int | None = Field(default=None, ge=30, le=86400)
    severity: Severity | None = None
    failures_before_alert: int | None = Field(default=None, ge=1, le=20)
    enabled: bool | None = None
    runbook_url: str | None = Field(default=None, max_length=500)
    os_family: str | None = Field(default=None, max_length=20)


class PolicyOut(Schema):
    id: int
    name: str = Field(examples=["Servers of Boulangerie Martin"])
    description: str
    scope: PolicyScope
    client_id: int | None
    site_id: int | None
    device_id: int | None
    tag_id: int | None
    baseline_tier: Tier | None
    collectors: dict[str, Any]
    enabled: bool
    created_at: datetime
    updated_at: datetime


class PolicyDetailOut(PolicyOut):
    checks: list[CheckOut]


class PolicyIn(InputSchema):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    scope: PolicyScope = PolicyScope.CLIENT
    client_id: int | None = ID
    site_id: int | None = ID
    device_id: int | None = ID
    tag_id: int | None = ID
    collectors: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True


class PolicyPatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    collectors: dict[str, Any] | None = None
    enabled: bool | None = None


class AlertOut(Schema):
    id: int
    client_id: int
    device_id: int
    check_definition_id: int | None
    kind: AlertKind
    severity: Severity
    status: AlertStatus
    title: str
    message: str
    opened_at: datetime
    last_seen_at: datetime
    occurrences: int
    acknowledged_at: datetime | None
    acknowledged_by_id: int | None
    resolved_at: datetime | None
    muted: bool


class WindowOut(Schema):
    id: int
    client_id: int
    site_id: int | None
    device_id: int | None
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by_id: int | None
    created_at: datetime


class WindowIn(InputSchema):
    client_id: int = Field(ge=1, le=2**63 - 1)
    site_id: int | None = ID
    device_id: int | None = ID
    starts_at: datetime
    ends_at: datetime
    reason: str = Field(min_length=1, max_length=300, examples=["Server migration"])


class WindowPatch(InputSchema):
    site_id: int | None = ID
    device_id: int | None = ID
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    reason: str | None = Field(default=None, min_length=1, max_length=300)


class SourceOut(Schema):
    check_id: int
    check_name: str
    check_type: str
    enabled: bool
    policy_id: int
    policy_name: str
    scope: str
    tag_id: int | None = Field(default=None, description="The tag of a tag policy (scope `tag`).")
    replaces: list[int]


class EffectivePolicyOut(Schema):
    device_id: int
    version: str = Field(examples=["c0ffee…"])
    checks: list[dict[str, Any]]
    collectors: dict[str, Any]
    sources: list[SourceOut]


class BaselineIn(InputSchema):
    tier: Tier


class ComplianceOut(Schema):
    client_id: int
    tier: Tier | None
    managed: int
    compliant: int
    share: float | None
    non_compliant_device_ids: list[int]
