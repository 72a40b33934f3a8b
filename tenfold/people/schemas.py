"""API shapes of people data. Peer reviews are only ever given as aggregates: no schema carries a reviewer."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from tenfold.core.api import InputSchema
from tenfold.people.models import (
    AppliesTo,
    Basis,
    CycleFrequency,
    CycleStatus,
    Measure,
    PlanRole,
    RuleKind,
    StatementStatus,
    TrainingKind,
)

MONEY = {"max_digits": 12, "decimal_places": 2}
MAX_ID = 2**63 - 1


class EmployeeOut(Schema):
    id: int
    user_id: int
    name: str = Field(examples=["Claire Martin"])
    team: str | None = Field(examples=["Service desk"])
    team_id: int | None
    manager_id: int | None
    plan_role: PlanRole
    base_pay: Decimal = Field(examples=["38000.00"])
    start_date: date
    active: bool

    @staticmethod
    def resolve_name(obj: object) -> str:
        return str(obj)

    @staticmethod
    def resolve_team(obj: object) -> str | None:
        team = getattr(obj, "team", None)
        return team.name if team else None


class EmployeeIn(InputSchema):
    user_id: int = Field(ge=1, le=MAX_ID, description="A staff user who is not yet an employee.")
    team_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    manager_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The employee they report to.")
    plan_role: PlanRole = PlanRole.TECHNICIAN
    base_pay: Decimal = Field(default=Decimal("0"), ge=0, max_digits=12, decimal_places=2, examples=["38000.00"])
    start_date: date
    active: bool = True


class EmployeePatch(InputSchema):
    team_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    manager_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    plan_role: PlanRole | None = None
    base_pay: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    start_date: date | None = None
    active: bool | None = None


class CycleIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["2026 Q3"])
    frequency: CycleFrequency = CycleFrequency.QUARTERLY
    start_date: date
    end_date: date


class TeamOut(Schema):
    id: int
    name: str = Field(examples=["Service desk"])
    member_count: int = Field(examples=[4], description="Members whose people data the caller sees.")


class TeamMemberOut(Schema):
    id: int
    name: str = Field(examples=["Claire Martin"])
    plan_role: PlanRole
    active: bool

    @staticmethod
    def resolve_name(obj: object) -> str:
        return str(obj)


class TeamDetailOut(TeamOut):
    members: list[TeamMemberOut] = Field(description="Only the members whose people data the caller sees.")


class TeamIn(InputSchema):
    name: str = Field(min_length=1, max_length=100, examples=["Service desk"])


class TrainingTargetOut(Schema):
    plan_role: PlanRole
    training_hours_per_year: Decimal | None = Field(examples=["40.00"], description="None: no target set.")
    certifications_required: int | None = Field(examples=[2], description="Valid certifications to hold.")


class TrainingTargetIn(InputSchema):
    training_hours_per_year: Decimal = Field(ge=0, le=2000, max_digits=6, decimal_places=2, examples=["40.00"])
    certifications_required: int = Field(default=0, ge=0, le=50, examples=[2])


class TrainingOut(Schema):
    id: int
    employee_id: int
    kind: TrainingKind
    title: str = Field(examples=["Windows Server 2025 administration"])
    provider: str = Field(examples=["Microsoft Learn"])
    hours: Decimal = Field(examples=["14.00"])
    date: dt.date
    expires_on: dt.date | None


class TrainingIn(InputSchema):
    kind: TrainingKind = TrainingKind.TRAINING
    title: str = Field(min_length=1, max_length=200, examples=["Windows Server 2025 administration"])
    provider: str = Field(default="", max_length=200, examples=["Microsoft Learn"])
    hours: Decimal = Field(ge=0, le=2000, max_digits=6, decimal_places=2, examples=["14.00"])
    date: dt.date
    expires_on: dt.date | None = None


class CriterionOut(Schema):
    criterion: str = Field(examples=["sharing"])
    average: Decimal = Field(examples=["4.25"])


class PeerReviewSummaryOut(Schema):
    """Aggregates only: never a reviewer, a single review or a comment."""

    shown: bool = Field(description="False below the minimum number of reviewers: then no score at all.")
    reviewers: int = Field(examples=[4])
    minimum: int = Field(examples=[3])
    score: Decimal | None = Field(examples=["4.13"])
    criteria: list[CriterionOut]


class MeasuredOut(Schema):
    value: Decimal | None
    text: str = Field(examples=["4.44 / 5 from 9 surveys"])


class HandlingOut(Schema):
    client_id: int
    client: str
    tickets: int
    average_minutes: Decimal


class TechnicianScorecardOut(Schema):
    period_start: date
    period_end: date
    tickets_handled: int = Field(examples=[42])
    handling: list[HandlingOut]
    sla: MeasuredOut
    csat: MeasuredOut
    leads_raised: int
    leads_won: MeasuredOut
    peer_review: PeerReviewSummaryOut
    training_hours: MeasuredOut
    billable_hours: Decimal = Field(examples=["312.50"])
    available_hours: Decimal = Field(examples=["448.00"])
    utilisation: Decimal | None = Field(examples=["69.8"])


class PlanStepIn(InputSchema):
    from_: Decimal = Field(alias="from", max_digits=12, decimal_places=2, examples=["4.5"])
    amount: Decimal = Field(max_digits=12, decimal_places=2, examples=["300.00"])


class RuleIn(InputSchema):
    label: str = Field(min_length=1, max_length=200, examples=["New services, first year"])
    kind: RuleKind
    measure: Measure
    rate_pct: Decimal | None = Field(default=None, max_digits=7, decimal_places=3, examples=["10"])
    basis: Basis = Basis.MONTHLY
    applies_to: AppliesTo = AppliesTo.ALL
    service_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    category: str = Field(default="", max_length=20, examples=["backup"])
    steps: list[PlanStepIn] = Field(default_factory=list, max_length=10)
    linear_start: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    linear_end: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    linear_amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    cap: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    floor: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)

    model_config = {"json_schema_extra": {"examples": [
        {"label": "New services, first year", "kind": "commission", "measure": "recurring_value", "rate_pct": "10",
         "basis": "first_year", "applies_to": "new"},
        {"label": "CSAT bonus", "kind": "threshold", "measure": "csat",
         "steps": [{"from": "4.0", "amount": "100.00"}, {"from": "4.5", "amount": "300.00"}], "cap": "300.00"},
    ]}, "extra": "forbid", "str_strip_whitespace": True, "populate_by_name": True}


class RuleOut(Schema):
    id: int
    plan_id: int
    label: str
    kind: RuleKind
    measure: Measure
    rate_pct: Decimal | None
    basis: Basis
    applies_to: AppliesTo
    service_id: int | None
    category: str
    steps: list[dict[str, str]] = Field(examples=[[{"from": "4.5", "amount": "300.00"}]])
    linear_start: Decimal | None
    linear_end: Decimal | None
    linear_amount: Decimal | None
    cap: Decimal | None
    floor: Decimal | None


class CompensationPlanIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["Technicians 2026"])
    plan_role: PlanRole
    effective_from: date
    effective_to: date | None = None
    notes: str = Field(default="", max_length=5000)


class CompensationPlanPatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    plan_role: PlanRole | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    notes: str | None = Field(default=None, max_length=5000)


class CompensationPlanEndIn(InputSchema):
    effective_to: date = Field(description="The plan's last day in force.", examples=["2026-06-30"])


class CompensationPlanOut(Schema):
    id: int
    name: str = Field(examples=["Technicians 2026"])
    plan_role: PlanRole
    effective_from: date
    effective_to: date | None
    notes: str
    rules: list[RuleOut]

    @staticmethod
    def resolve_rules(obj: object) -> list[object]:
        return list(obj.rules.order_by("position", "pk"))  # type: ignore[attr-defined]


class WarningOut(Schema):
    plan_id: int
    plan: str
    this_plan_rewards: list[str]
    other_plan_rewards: list[str]


class PayLineOut(Schema):
    rule_label: str
    measure: Measure
    value: Decimal | None
    value_text: str
    rule_text: str
    amount: Decimal = Field(examples=["150.00"])


class PreviewRowOut(Schema):
    employee_id: int
    employee: str
    lines: list[PayLineOut]
    total: Decimal


class PreviewOut(Schema):
    period_start: date
    period_end: date
    rows: list[PreviewRowOut]
    warnings: list[WarningOut]


class CycleOut(Schema):
    id: int
    name: str = Field(examples=["2026 Q1"])
    frequency: CycleFrequency
    start_date: date
    end_date: date
    status: CycleStatus


class ReviewIn(InputSchema):
    reviewee_id: int = Field(ge=1, le=MAX_ID)
    sharing: int = Field(ge=1, le=5, examples=[4])
    stepping_in: int = Field(ge=1, le=5, examples=[5])
    communication: int = Field(ge=1, le=5, examples=[4])
    reliability: int = Field(ge=1, le=5, examples=[5])
    comment: str = Field(default="", max_length=4000, examples=["Always shares what she learns on a ticket."])


class ReviewAck(Schema):
    cycle_id: int
    status: Literal["submitted"] = "submitted"


class StatementLineOut(Schema):
    position: int
    plan_name: str
    rule_label: str
    kind: RuleKind
    measure: Measure
    value: Decimal | None
    value_text: str
    rule_text: str
    segment_start: date
    segment_end: date
    amount: Decimal = Field(examples=["133.33"])
    records: list[dict[str, str]]


class StatementOut(Schema):
    id: int
    employee_id: int
    period_start: date
    period_end: date
    status: StatementStatus
    total: Decimal = Field(examples=["466.66"])
    computed_at: datetime
    reviewed_at: datetime | None
    locked_at: datetime | None


class StatementDetailOut(StatementOut):
    lines: list[StatementLineOut]

    @staticmethod
    def resolve_lines(obj: object) -> list[object]:
        return list(obj.lines.order_by("position", "pk"))  # type: ignore[attr-defined]


class StatementIn(InputSchema):
    employee_id: int = Field(ge=1, le=MAX_ID)
    period_start: date = Field(examples=["2026-07-01"], description="The first day of a quarter.")


class SatisfiedClientOut(Schema):
    client_id: int
    client: str
    csat: Decimal = Field(examples=["4.78"])
    surveys: int
    services: list[str] = Field(examples=[["Workplace Best", "Server backup"]])


class SplitIn(InputSchema):
    employee_id: int = Field(ge=1, le=MAX_ID)
    share_pct: Decimal = Field(gt=0, le=100, max_digits=5, decimal_places=2, examples=["60"])


class SplitsIn(InputSchema):
    shares: list[SplitIn] = Field(max_length=20, examples=[[{"employee_id": 3, "share_pct": "60"},
                                                             {"employee_id": 7, "share_pct": "40"}]])


class SplitOut(Schema):
    employee_id: int
    share_pct: Decimal
