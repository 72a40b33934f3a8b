"""API shapes of contracts, coverage, addenda, SLA policies, calendars, rounding rules and projects."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field, field_validator

from tenfold.contracts.businesstime import WEEKDAYS, CalendarError, format_intervals, parse_intervals
from tenfold.contracts.models import (
    AddendumStatus,
    ContractStatus,
    ContractType,
    CoverageKind,
    Indexation,
    MilestoneStatus,
    ProjectBilling,
    ProjectKind,
    ProjectStatus,
    RoundingMode,
    UnusedHours,
)
from tenfold.core.api import InputSchema

ID = Field(default=None, ge=1, le=2**63 - 1)
HOURS_EXAMPLE = {"monday": ["08:30-12:30", "13:30-18:00"], "tuesday": ["08:30-12:30", "13:30-18:00"],
                 "wednesday": ["08:30-12:30", "13:30-18:00"], "thursday": ["08:30-12:30", "13:30-18:00"],
                 "friday": ["08:30-12:30", "13:30-18:00"], "saturday": [], "sunday": []}


# --- Calendars ------------------------------------------------------------------------------------------


DateType = date  # the holiday's field is called "date"


class HolidayIO(Schema):
    date: DateType = Field(examples=["2026-05-01"])
    name: str = Field(default="", max_length=200, examples=["Fête du Travail"])


def hours_out(stored: list[list[list[int]]]) -> dict[str, list[str]]:
    """The stored week as {"monday": ["08:30-12:30", ...], ...}."""
    return {day: [format_intervals([(i[0], i[1])]) for i in (stored[index] if index < len(stored) else [])]
            for index, day in enumerate(WEEKDAYS)}


def hours_in(value: dict[str, list[str]]) -> list[list[list[int]]]:
    """{"monday": ["08:30-12:30"], ...} (missing days closed) as the stored week."""
    unknown = set(value) - set(WEEKDAYS)
    if unknown:
        raise ValueError(f"unknown day(s): {', '.join(sorted(unknown))}")
    try:
        return [[list(i) for i in parse_intervals(", ".join(value.get(day, [])))] for day in WEEKDAYS]
    except CalendarError as exc:
        raise ValueError(str(exc)) from exc


class CalendarOut(Schema):
    id: int
    name: str = Field(examples=["Bureau Paris"])
    time_zone: str = Field(examples=["Europe/Paris"])
    hours: dict[str, list[str]] = Field(examples=[HOURS_EXAMPLE])
    holidays: list[HolidayIO]
    created_at: datetime

    @staticmethod
    def resolve_hours(obj: Any) -> dict[str, list[str]]:
        return hours_out(obj.hours)

    @staticmethod
    def resolve_holidays(obj: Any) -> list[dict[str, Any]]:
        return [{"date": h.date, "name": h.name} for h in obj.holidays.all()]


class CalendarIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["Bureau Paris"])
    time_zone: str = Field(default="Europe/Paris", max_length=64, examples=["Europe/Paris"])
    hours: dict[str, list[str]] = Field(examples=[HOURS_EXAMPLE],
                                        description="Working hours per weekday; a missing day is closed; "
                                                    "00:00-24:00 is the whole day.")
    holidays: list[HolidayIO] = Field(default_factory=list, max_length=1000,
                                      examples=[[{"date": "2026-05-01", "name": "Fête du Travail"}]])

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        hours_in(value)
        return value


class CalendarPatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    time_zone: str | None = Field(default=None, max_length=64)
    hours: dict[str, list[str]] | None = None
    holidays: list[HolidayIO] | None = Field(default=None, max_length=1000)

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        if value is not None:
            hours_in(value)
        return value


# --- SLA policies and rounding rules --------------------------------------------------------------------------



class SlaPolicyOut(Schema):
    id: int
    name: str = Field(examples=["Standard heures ouvrées"])
    calendar_id: int
    is_default: bool
    warning_threshold_pct: int = Field(examples=[80])
    p1_first_response_minutes: int = Field(examples=[30])
    p1_resolution_minutes: int = Field(examples=[240])
    p2_first_response_minutes: int
    p2_resolution_minutes: int
    p3_first_response_minutes: int
    p3_resolution_minutes: int
    p4_first_response_minutes: int
    p4_resolution_minutes: int


class SlaPolicyIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["Standard heures ouvrées"])
    calendar_id: int = Field(ge=1, le=2**63 - 1)
    is_default: bool = False
    warning_threshold_pct: int = Field(default=80, ge=1, le=99)
    p1_first_response_minutes: int = Field(default=30, ge=1, le=525600, examples=[30])
    p1_resolution_minutes: int = Field(default=240, ge=1, le=525600, examples=[240])
    p2_first_response_minutes: int = Field(default=60, ge=1, le=525600)
    p2_resolution_minutes: int = Field(default=480, ge=1, le=525600)
    p3_first_response_minutes: int = Field(default=240, ge=1, le=525600)
    p3_resolution_minutes: int = Field(default=1440, ge=1, le=525600)
    p4_first_response_minutes: int = Field(default=480, ge=1, le=525600)
    p4_resolution_minutes: int = Field(default=2400, ge=1, le=525600)


class SlaPolicyPatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    calendar_id: int | None = ID
    is_default: bool | None = None
    warning_threshold_pct: int | None = Field(default=None, ge=1, le=99)
    p1_first_response_minutes: int | None = Field(default=None, ge=1, le=525600)
    p1_resolution_minutes: int | None = Field(default=None, ge=1, le=525600)
    p2_first_response_minutes: int | None = Field(default=None, ge=1, le=525600)
    p2_resolution_minutes: int | None = Field(default=None, ge=1, le=525600)
    p3_first_response_minutes: int | None = Field(default=None, ge=1, le=525600)
    p3_resolution_minutes: int | None = Field(default=None, ge=1, le=525600)
    p4_first_response_minutes: int | None = Field(default=None, ge=1, le=525600)
    p4_resolution_minutes: int | None = Field(default=None, ge=1, le=525600)


class RoundingRuleOut(Schema):
    id: int
    name: str = Field(examples=["Quart d'heure entamé"])
    increment_minutes: int = Field(examples=[15])
    mode: RoundingMode
    minimum_minutes: int = Field(examples=[15])


class RoundingRuleIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["Quart d'heure entamé"])
    increment_minutes: int = Field(default=15, ge=1, le=480, examples=[15])
    mode: RoundingMode = RoundingMode.UP
    minimum_minutes: int = Field(default=0, ge=0, le=480, examples=[15])


class RoundingRulePatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    increment_minutes: int | None = Field(default=None, ge=1, le=480)
    mode: RoundingMode | None = None
    minimum_minutes: int | None = Field(default=None, ge=0, le=480)


# --- Contracts ----------------------------------------------------------------------------------------------


class ContractOut(Schema):
    id: int
    client_id: int
    number: str = Field(examples=["C-2026-0001"])
    title: str = Field(examples=["Infogérance Mieux"])
    type: ContractType
    status: ContractStatus
    site_id: int | None
    start_date: date
    end_date: date | None
    renewal_term_months: int = Field(examples=[12])
    notice_period_days: int = Field(examples=[90])
    plan_id: int | None
    sla_policy_id: int | None
    calendar_id: int | None
    rounding_rule_id: int | None
    indexation: Indexation
    alert_thresholds: list[int] = Field(examples=[[75, 90]])
    unused_hours: UnusedHours
    hours_purchased: Decimal | None
    # Money: null for technicians, who read a contract's scope and SLA but not its prices.
    minimum_monthly_commitment: Decimal | None = Field(examples=["500.00"])
    out_of_scope_rate: Decimal | None = Field(examples=["85.00"])
    overage_rate: Decimal | None
    fixed_price_amount: Decimal | None
    indexation_percent: Decimal | None
    index_base_value: Decimal | None
    index_current_value: Decimal | None
    notes: str
    signed_at: datetime | None
    created_at: datetime


class ContractIn(InputSchema):
    client_id: int = Field(ge=1, le=2**63 - 1)
    number: str = Field(default="", max_length=40, description="Empty: the next C-YYYY-NNNN number.")
    title: str = Field(default="", max_length=200, examples=["Infogérance Mieux"])
    type: ContractType = ContractType.MANAGED
    site_id: int | None = ID
    start_date: date = Field(examples=["2026-01-01"])
    end_date: date | None = Field(default=None, examples=["2026-12-31"])
    renewal_term_months: int = Field(default=12, ge=0, le=120)
    notice_period_days: int = Field(default=90, ge=0, le=730)
    plan_id: int | None = ID
    sla_policy_id: int | None = ID
    calendar_id: int | None = ID
    rounding_rule_id: int | None = ID
    minimum_monthly_commitment: Decimal = Field(default=Decimal(0), max_digits=12, decimal_places=2,
                                                examples=["500.00"])
    out_of_scope_rate: Decimal | None = Field(default=None, max_digits=12, decimal_places=2, examples=["85.00"])
    indexation: Indexation = Indexation.NONE
    indexation_percent: Decimal | None = Field(default=None, max_digits=6, decimal_places=3)
    index_base_value: Decimal | None = Field(default=None, max_digits=12, decimal_places=4)
    index_current_value: Decimal | None = Field(default=None, max_digits=12, decimal_places=4)
    hours_purchased: Decimal | None = Field(default=None, max_digits=8, decimal_places=2)
    alert_thresholds: list[int] = Field(default_factory=list, max_length=10, examples=[[75, 90]])
    unused_hours: UnusedHours = UnusedHours.EXPIRE
    overage_rate: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    fixed_price_amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    notes: str = Field(default="", max_length=20000)


class ContractPatch(InputSchema):
    number: str | None = Field(default=None, max_length=40)
    title: str | None = Field(default=None, max_length=200)
    type: ContractType | None = None
    site_id: int | None = ID
    start_date: date | None = None
    end_date: date | None = None
    renewal_term_months: int | None = Field(default=None, ge=0, le=120)
    notice_period_days: int | None = Field(default=None, ge=0, le=730)
    plan_id: int | None = ID
    sla_policy_id: int | None = ID
    calendar_id: int | None = ID
    rounding_rule_id: int | None = ID
    minimum_monthly_commitment: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    out_of_scope_rate: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    indexation: Indexation | None = None
    indexation_percent: Decimal | None = Field(default=None, max_digits=6, decimal_places=3)
    index_base_value: Decimal | None = Field(default=None, max_digits=12, decimal_places=4)
    index_current_value: Decimal | None = Field(default=None, max_digits=12, decimal_places=4)
    hours_purchased: Decimal | None = Field(default=None, max_digits=8, decimal_places=2)
    alert_thresholds: list[int] | None = Field(default=None, max_length=10)
    unused_hours: UnusedHours | None = None
    overage_rate: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    fixed_price_amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    notes: str | None = Field(default=None, max_length=20000)


class EndIn(InputSchema):
    end_date: date | None = Field(default=None, examples=["2026-12-31"], description="Today when empty.")


class AddOnOut(Schema):
    id: int
    contract_id: int
    service_id: int
    per_unit: bool
    quantity: Decimal
    unit_price: Decimal | None = Field(description="Null: the service's list price.")


class AddOnIn(InputSchema):
    service_id: int = Field(ge=1, le=2**63 - 1)
    per_unit: bool = True
    quantity: Decimal = Field(default=Decimal(1), max_digits=10, decimal_places=2)
    unit_price: Decimal | None = Field(default=None, max_digits=12, decimal_places=2, examples=["4.50"])


class AddOnPatch(InputSchema):
    per_unit: bool | None = None
    quantity: Decimal | None = Field(default=None, max_digits=10, decimal_places=2)
    unit_price: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)


class CoverageOut(Schema):
    id: int
    contract_id: int
    kind: CoverageKind
    device_id: int | None
    site_id: int | None
    contact_id: int | None
    automatic: bool
    started_at: datetime
    ended_at: datetime | None


class CoverageUserIn(InputSchema):
    contact_id: int = Field(ge=1, le=2**63 - 1)


class CountsOut(Schema):
    workstations: int
    servers: int
    network_devices: int
    mobiles: int
    users: int
    sites: int


class ContractLineOut(Schema):
    service_id: int
    name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    unit_cost: Decimal
    labour_minutes: Decimal
    is_addon: bool


class CostOut(Schema):
    counts: CountsOut
    lines: list[ContractLineOut]
    revenue: Decimal = Field(examples=["1290.00"])
    tool_cost: Decimal = Field(examples=["310.40"])
    labour_cost: Decimal = Field(examples=["412.50"])
    margin: Decimal = Field(examples=["567.10"])
    margin_pct: Decimal | None = Field(examples=["44.0"])
    loaded_hourly_cost: Decimal = Field(examples=["45.00"])
    minimum_monthly_commitment: Decimal
    minimum_applies: bool


class AddendumChangeIO(Schema):
    service_id: int = Field(ge=1, le=2**63 - 1)
    remove: bool = False
    per_unit: bool = True
    quantity: Decimal = Field(default=Decimal(1), max_digits=10, decimal_places=2)
    unit_price: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)


class AddendumOut(Schema):
    id: int
    contract_id: int
    effective_date: date
    description: str
    status: AddendumStatus
    new_plan_id: int | None
    new_minimum_monthly_commitment: Decimal | None
    new_out_of_scope_rate: Decimal | None
    new_overage_rate: Decimal | None
    new_hours_purchased: Decimal | None
    new_end_date: date | None
    applied_at: datetime | None
    addon_changes: list[AddendumChangeIO]

    @staticmethod
    def resolve_addon_changes(obj: Any) -> list[dict[str, Any]]:
        return [{"service_id": c.service_id, "remove": c.remove, "per_unit": c.per_unit, "quantity": c.quantity,
                 "unit_price": c.unit_price} for c in obj.addon_changes.all()]


class AddendumIn(InputSchema):
    effective_date: date = Field(examples=["2026-07-01"])
    description: str = Field(default="", max_length=5000, examples=["Passage au niveau Meilleur"])
    new_plan_id: int | None = ID
    new_minimum_monthly_commitment: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    new_out_of_scope_rate: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    new_overage_rate: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    new_hours_purchased: Decimal | None = Field(default=None, max_digits=8, decimal_places=2)
    new_end_date: date | None = None
    addon_changes: list[AddendumChangeIO] = Field(default_factory=list, max_length=50)


class AddendumPatch(InputSchema):
    effective_date: date | None = None
    description: str | None = Field(default=None, max_length=5000)
    new_plan_id: int | None = ID
    new_minimum_monthly_commitment: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    new_out_of_scope_rate: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    new_overage_rate: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    new_hours_purchased: Decimal | None = Field(default=None, max_digits=8, decimal_places=2)
    new_end_date: date | None = None
    addon_changes: list[AddendumChangeIO] | None = Field(default=None, max_length=50)


# --- Projects -------------------------------------------------------------------------------------------------


class ProjectOut(Schema):
    id: int
    client_id: int
    contract_id: int | None
    kind: ProjectKind
    name: str = Field(examples=["Intégration du parc"])
    description: str
    billing: ProjectBilling
    budgeted_hours: Decimal = Field(examples=["24.00"])
    fixed_price: Decimal | None = Field(examples=["2400.00"])
    hourly_rate: Decimal | None
    status: ProjectStatus
    start_date: date | None
    due_date: date | None
    created_at: datetime


class ProjectIn(InputSchema):
    client_id: int = Field(ge=1, le=2**63 - 1)
    contract_id: int | None = ID
    kind: ProjectKind = ProjectKind.ONBOARDING
    name: str = Field(min_length=1, max_length=200, examples=["Intégration du parc"])
    description: str = Field(default="", max_length=20000)
    billing: ProjectBilling = ProjectBilling.FIXED
    budgeted_hours: Decimal = Field(default=Decimal(0), max_digits=8, decimal_places=2, examples=["24.00"])
    fixed_price: Decimal | None = Field(default=None, max_digits=12, decimal_places=2, examples=["2400.00"])
    hourly_rate: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    status: ProjectStatus = ProjectStatus.PLANNED
    start_date: date | None = None
    due_date: date | None = None


class ProjectPatch(InputSchema):
    contract_id: int | None = ID
    kind: ProjectKind | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20000)
    billing: ProjectBilling | None = None
    budgeted_hours: Decimal | None = Field(default=None, max_digits=8, decimal_places=2)
    fixed_price: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    hourly_rate: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    status: ProjectStatus | None = None
    start_date: date | None = None
    due_date: date | None = None


class TaskOut(Schema):
    id: int
    project_id: int
    title: str = Field(examples=["Inventaire des postes"])
    done: bool
    estimate_hours: Decimal


class TaskIn(InputSchema):
    title: str = Field(min_length=1, max_length=200, examples=["Inventaire des postes"])
    done: bool = False
    estimate_hours: Decimal = Field(default=Decimal(0), max_digits=8, decimal_places=2, examples=["4.00"])


class TaskPatch(InputSchema):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    done: bool | None = None
    estimate_hours: Decimal | None = Field(default=None, max_digits=8, decimal_places=2)


class MilestoneOut(Schema):
    id: int
    project_id: int
    name: str = Field(examples=["Recette"])
    amount: Decimal = Field(examples=["1200.00"])
    due_date: date | None
    status: MilestoneStatus
    reached_at: datetime | None


class MilestoneIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["Recette"])
    amount: Decimal = Field(default=Decimal(0), max_digits=12, decimal_places=2, examples=["1200.00"])
    due_date: date | None = None
    status: MilestoneStatus = MilestoneStatus.PLANNED


class MilestonePatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    due_date: date | None = None
    status: MilestoneStatus | None = None
