"""API shapes of scorecards, snapshots, the portfolio, business reviews, action items and decks."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import AwareDatetime, Field

from tenfold.core.api import InputSchema
from tenfold.reporting.models import ActionKind, MeetingStatus


class MetricOut(Schema):
    key: str = Field(examples=["managed_devices"])
    area: str = Field(examples=["asset_management"])
    label: str = Field(examples=["Managed devices"])
    value: Decimal | None = Field(description="Percent to 0.1; null when N/A.", examples=["71.4"])
    numerator: int = Field(examples=[5])
    denominator: int = Field(examples=[7])
    weight: int = Field(examples=[1])
    reason: str = Field(description="Why the metric is N/A (empty when measured).", examples=[""])
    previous_value: Decimal | None = Field(examples=["80.0"])
    trend: str = Field(examples=["down"])


class ScorecardOut(Schema):
    client_id: int
    period: str = Field(examples=["2026-Q1"])
    previous_period: str = Field(examples=["2025-Q4"])
    as_of: datetime
    overall: Decimal | None = Field(examples=["64.1"])
    previous_overall: Decimal | None = Field(examples=["66.3"])
    trend: str = Field(examples=["down"])
    snapshot_id: int | None = Field(description="The final snapshot the figures come from, if any.")
    formula_version: int = Field(examples=[1])
    metrics: list[MetricOut]


class SnapshotOut(Schema):
    id: int
    client_id: int
    period_kind: str = Field(examples=["quarter"])
    period_start: date
    period_end: date
    as_of: datetime
    final: bool
    overall: Decimal | None = Field(examples=["85.0"])
    formula_version: int
    metrics: list[dict[str, Any]] = Field(examples=[[{"key": "managed_devices", "numerator": 5, "denominator": 7,
                                                      "value": "71.4", "weight": 1, "reason": ""}]])


class PortfolioRowOut(Schema):
    client_id: int
    client: str = Field(examples=["Boulangerie Martin SARL"])
    score: Decimal | None = Field(examples=["85.0"])
    previous_score: Decimal | None = Field(examples=["81.5"])
    change: Decimal | None = Field(examples=["3.5"])
    trend: str = Field(examples=["up"])
    next_qbr: date | None


class PortfolioOut(Schema):
    period: str = Field(examples=["2025-Q4"])
    items: list[PortfolioRowOut]
    count: int
    page: int
    pages: int
    page_size: int


class MeetingOut(Schema):
    id: int
    client_id: int
    scheduled_at: datetime
    duration_minutes: int
    location: str
    status: MeetingStatus
    decision_maker_id: int
    other_contact_ids: list[int]
    account_manager_id: int
    technician_id: int | None
    agenda: str
    notes: str
    concerns: str
    decisions: str

    @staticmethod
    def resolve_other_contact_ids(obj: Any) -> list[int]:
        return sorted(c.pk for c in obj.other_contacts.all())


class MeetingIn(InputSchema):
    client_id: int = Field(ge=1, le=2**63 - 1)
    scheduled_at: AwareDatetime = Field(examples=["2026-04-15T09:00:00+02:00"])
    duration_minutes: int = Field(default=60, ge=15, le=480)
    location: str = Field(default="", max_length=300, examples=["Client's office, Lyon"])
    decision_maker_id: int = Field(ge=1, le=2**63 - 1)
    other_contact_ids: list[int] = Field(default_factory=list, max_length=50)
    account_manager_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    technician_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    agenda: str = Field(default="", max_length=10000, examples=["Scorecard\nProjects\nYour concerns"])
    notes: str = Field(default="", max_length=20000)
    concerns: str = Field(default="", max_length=20000)
    decisions: str = Field(default="", max_length=20000)


class MeetingPatch(InputSchema):
    scheduled_at: AwareDatetime | None = None
    duration_minutes: int | None = Field(default=None, ge=15, le=480)
    location: str | None = Field(default=None, max_length=300)
    decision_maker_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    other_contact_ids: list[int] | None = Field(default=None, max_length=50)
    technician_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    agenda: str | None = Field(default=None, max_length=10000)
    notes: str | None = Field(default=None, max_length=20000)
    concerns: str | None = Field(default=None, max_length=20000, examples=["Printer outages at the warehouse"])
    decisions: str | None = Field(default=None, max_length=20000)
    status: MeetingStatus | None = Field(default=None, description="held or cancelled (from planned).")


class ActionItemOut(Schema):
    id: int
    meeting_id: int
    title: str = Field(examples=["Replace the warehouse printer"])
    description: str
    kind: ActionKind
    ticket_id: int | None
    deal_id: int | None
    done: bool


class ActionItemIn(InputSchema):
    title: str = Field(min_length=1, max_length=200, examples=["Replace the warehouse printer"])
    description: str = Field(default="", max_length=5000)


class DealValuesIn(InputSchema):
    monthly_value: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2, examples=["40.00"])
    one_off_value: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)


class CreatedOut(Schema):
    id: int = Field(description="The ticket's or deal's id.")
    number: str = Field(default="", examples=["T-000042"])


class DeckOut(Schema):
    id: int
    meeting_id: int
    client_id: int
    version: int
    snapshot_id: int
    previous_snapshot_id: int
    published_at: datetime
