"""API shapes of the catalog: services, offerings, plans, plan items and a plan's cost model."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from tenfold.catalog.models import ServiceCategory, UnitKind
from tenfold.catalog.pricing import DEFAULT_REFERENCE
from tenfold.core.api import InputSchema
from tenfold.core.tiers import Tier

MAX_PRICE = Decimal("9999999999.99")
CODE_PATTERN = r"^[-a-zA-Z0-9_]+$"


class ServiceOut(Schema):
    id: int
    name: str = Field(examples=["Workstation monitoring"])
    code: str = Field(examples=["ws-monitoring"])
    category: ServiceCategory
    description: str
    unit: UnitKind
    list_price: Decimal = Field(examples=["25.00"])
    unit_cost: Decimal = Field(examples=["4.50"])
    labour_minutes: Decimal = Field(examples=["12.00"])
    includes_monitoring: bool
    includes_antivirus: bool
    includes_patching: bool
    includes_backup: bool
    is_addon: bool
    active: bool
    created_at: datetime
    updated_at: datetime


class ServiceIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["Workstation monitoring"])
    code: str = Field(min_length=1, max_length=60, pattern=CODE_PATTERN, examples=["ws-monitoring"])
    category: ServiceCategory = ServiceCategory.MANAGEMENT
    description: str = Field(default="", max_length=20000)
    unit: UnitKind = Field(default=UnitKind.WORKSTATION, examples=["workstation"])
    list_price: Decimal = Field(ge=0, le=MAX_PRICE, max_digits=12, decimal_places=2, examples=["25.00"])
    unit_cost: Decimal = Field(default=Decimal("0"), ge=0, le=MAX_PRICE, max_digits=12, decimal_places=2,
                               examples=["4.50"])
    labour_minutes: Decimal = Field(default=Decimal("0"), ge=0, max_digits=8, decimal_places=2, examples=["12"])
    includes_monitoring: bool = False
    includes_antivirus: bool = False
    includes_patching: bool = False
    includes_backup: bool = False
    is_addon: bool = False
    active: bool = True


class ServicePatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    code: str | None = Field(default=None, min_length=1, max_length=60, pattern=CODE_PATTERN)
    category: ServiceCategory | None = None
    description: str | None = Field(default=None, max_length=20000)
    unit: UnitKind | None = None
    list_price: Decimal | None = Field(default=None, ge=0, le=MAX_PRICE, max_digits=12, decimal_places=2,
                                       examples=["27.00"])
    unit_cost: Decimal | None = Field(default=None, ge=0, le=MAX_PRICE, max_digits=12, decimal_places=2)
    labour_minutes: Decimal | None = Field(default=None, ge=0, max_digits=8, decimal_places=2)
    includes_monitoring: bool | None = None
    includes_antivirus: bool | None = None
    includes_patching: bool | None = None
    includes_backup: bool | None = None
    is_addon: bool | None = None
    active: bool | None = None


class PlanSummary(Schema):
    id: int
    tier: Tier
    name: str
    active: bool


class OfferingOut(Schema):
    id: int
    name: str = Field(examples=["Managed workplace"])
    description: str
    active: bool
    plans: list[PlanSummary]
    created_at: datetime
    updated_at: datetime


class OfferingIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["Managed workplace"])
    description: str = Field(default="", max_length=20000)
    active: bool = True


class OfferingPatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20000)
    active: bool | None = None


class PlanOut(Schema):
    id: int
    offering_id: int
    tier: Tier
    name: str = Field(examples=["Managed workplace Better"])
    description: str
    active: bool
    created_at: datetime
    updated_at: datetime


class PlanIn(InputSchema):
    tier: Tier = Field(examples=["better"])
    name: str = Field(default="", max_length=200, examples=["Managed workplace Better"],
                      description="Empty: the offering's name and the tier.")
    description: str = Field(default="", max_length=20000)
    active: bool = True


class PlanPatch(InputSchema):
    tier: Tier | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20000)
    active: bool | None = None


class PlanItemOut(Schema):
    id: int
    plan_id: int
    service_id: int
    service_code: str = Field(examples=["ws-antivirus"])
    service_name: str = Field(examples=["Managed antivirus (EDR)"])
    unit: UnitKind
    unit_price: Decimal = Field(examples=["7.00"])
    created_at: datetime

    @staticmethod
    def resolve_service_code(obj: Any) -> str:
        return str(obj.service.code)

    @staticmethod
    def resolve_service_name(obj: Any) -> str:
        return str(obj.service.name)

    @staticmethod
    def resolve_unit(obj: Any) -> str:
        return str(obj.service.unit)


class PlanItemIn(InputSchema):
    service_id: int = Field(ge=1, le=2**63 - 1, examples=[3])
    unit_price: Decimal | None = Field(default=None, ge=0, le=MAX_PRICE, max_digits=12, decimal_places=2,
                                       examples=["7.00"], description="Empty: the service's list price.")


class PlanItemPatch(InputSchema):
    unit_price: Decimal = Field(ge=0, le=MAX_PRICE, max_digits=12, decimal_places=2, examples=["7.50"])


class CountsIn(Schema):
    """Unit counts of a reference client (default: pricing.DEFAULT_REFERENCE)."""

    workstations: int = Field(default=DEFAULT_REFERENCE.workstations, ge=0, le=100000)
    servers: int = Field(default=DEFAULT_REFERENCE.servers, ge=0, le=100000)
    network_devices: int = Field(default=DEFAULT_REFERENCE.network_devices, ge=0, le=100000)
    mobiles: int = Field(default=DEFAULT_REFERENCE.mobiles, ge=0, le=100000)
    users: int = Field(default=DEFAULT_REFERENCE.users, ge=0, le=100000)
    sites: int = Field(default=DEFAULT_REFERENCE.sites, ge=0, le=100000)


class LineOut(Schema):
    service_id: int
    name: str
    unit: UnitKind
    tier: str = Field(description="The tier whose item sets the price; empty for an add-on.")
    quantity: Decimal
    unit_price: Decimal
    unit_cost: Decimal
    labour_minutes: Decimal
    revenue: Decimal
    tool_cost: Decimal


class SensitivityOut(Schema):
    change: str = Field(examples=["+1%"], description="-1%, +1%, -1 (currency unit per unit) or +1.")
    revenue: Decimal
    profit_change: Decimal = Field(examples=["12.30"])
    profit_change_pct: Decimal | None = Field(examples=["10.0"], description="Of the current profit; null at 0.")


class CostModelOut(Schema):
    plan_id: int
    currency: str = Field(examples=["EUR"])
    loaded_hourly_cost: Decimal = Field(examples=["45.00"])
    counts: CountsIn
    lines: list[LineOut]
    revenue: Decimal = Field(examples=["1230.00"])
    tool_cost: Decimal = Field(examples=["310.00"])
    labour_cost: Decimal = Field(examples=["540.00"])
    margin: Decimal = Field(examples=["380.00"])
    margin_pct: Decimal | None = Field(examples=["30.9"], description="Null when revenue is 0.")
    profit_leverage_pct: Decimal | None = Field(
        examples=["3.2"], description="Profit change in % for a 1 % price rise; null without profit.")
    sensitivity: list[SensitivityOut]
