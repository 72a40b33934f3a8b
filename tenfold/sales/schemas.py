"""API shapes of leads, deals and quotes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from tenfold.core.api import InputSchema
from tenfold.core.tiers import Tier
from tenfold.sales.models import DealSource, DealStage, LeadSource, LeadStatus, QuoteStatus

MAX_ID = 2**63 - 1
MAX_UNITS = 100000


# --- Leads ---------------------------------------------------------------------------------------------------


class LeadOut(Schema):
    id: int
    client_id: int
    title: str = Field(examples=["Opportunity on ticket T-000123"])
    note: str = Field(examples=["Their firewall is out of support: quote a replacement."])
    source: LeadSource
    ticket_id: int | None
    technician_id: int | None
    status: LeadStatus
    dismiss_reason: str
    deal_id: int | None = None
    created_at: datetime

    @staticmethod
    def resolve_deal_id(obj: object) -> int | None:
        # The reverse one-to-one raises an AttributeError subclass when the lead has no deal.
        deal = getattr(obj, "deal", None)
        return getattr(deal, "pk", None)


class LeadIn(InputSchema):
    client_id: int = Field(ge=1, le=MAX_ID, examples=[12])
    title: str = Field(min_length=1, max_length=200, examples=["Backup for the two servers"])
    note: str = Field(default="", max_length=5000, examples=["The NAS copy is the only backup."])
    technician_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class LeadPatch(InputSchema):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=5000)
    technician_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class LeadDismissIn(InputSchema):
    reason: str = Field(min_length=1, max_length=2000, examples=["Client bought it elsewhere."])


class LeadConvertIn(InputSchema):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    owner_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    stage: DealStage = DealStage.QUALIFICATION
    monthly_value: Decimal = Field(default=Decimal(0), max_digits=12, decimal_places=2, examples=["450.00"])
    one_off_value: Decimal = Field(default=Decimal(0), max_digits=12, decimal_places=2, examples=["1800.00"])
    close_date: date = Field(examples=["2026-06-30"])
    notes: str = Field(default="", max_length=20000)


# --- Deals ---------------------------------------------------------------------------------------------------


class DealOut(Schema):
    id: int
    client_id: int
    title: str = Field(examples=["Move to the Better tier"])
    owner_id: int
    stage: DealStage
    monthly_value: Decimal = Field(examples=["450.00"])
    one_off_value: Decimal = Field(examples=["1800.00"])
    close_date: date
    source: DealSource
    lead_id: int | None
    credited_technician_id: int | None
    outcome_reason: str
    closed_at: datetime | None
    contract_id: int | None
    notes: str
    created_at: datetime
    updated_at: datetime


class DealIn(InputSchema):
    client_id: int = Field(ge=1, le=MAX_ID, examples=[12])
    title: str = Field(min_length=1, max_length=200, examples=["Move to the Better tier"])
    owner_id: int | None = Field(default=None, ge=1, le=MAX_ID, examples=[7])
    stage: DealStage = DealStage.QUALIFICATION
    monthly_value: Decimal = Field(default=Decimal(0), max_digits=12, decimal_places=2, examples=["450.00"])
    one_off_value: Decimal = Field(default=Decimal(0), max_digits=12, decimal_places=2, examples=["1800.00"])
    close_date: date = Field(examples=["2026-06-30"])
    source: DealSource = DealSource.OTHER
    credited_technician_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    notes: str = Field(default="", max_length=20000)


class DealPatch(InputSchema):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    owner_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    stage: DealStage | None = None
    monthly_value: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    one_off_value: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    close_date: date | None = None
    source: DealSource | None = None
    credited_technician_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    notes: str | None = Field(default=None, max_length=20000)


class DealCloseIn(InputSchema):
    outcome: str = Field(pattern="^(won|lost)$", examples=["lost"])
    reason: str = Field(default="", max_length=2000, examples=["Chose a cheaper provider."])
    contract_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="For a won deal: its contract.")


# --- Quotes --------------------------------------------------------------------------------------------------


class QuoteAddOnIn(InputSchema):
    service_id: int = Field(ge=1, le=MAX_ID, examples=[14])
    per_unit: bool = True
    quantity: Decimal = Field(default=Decimal(1), max_digits=10, decimal_places=2, examples=["1"])
    unit_price: Decimal | None = Field(default=None, max_digits=12, decimal_places=2, examples=["3.50"])


class QuoteItemIn(InputSchema):
    description: str = Field(min_length=1, max_length=300, examples=["Onboarding project"])
    quantity: Decimal = Field(default=Decimal(1), max_digits=10, decimal_places=2, examples=["1"])
    unit_price: Decimal = Field(max_digits=12, decimal_places=2, examples=["1800.00"])


class QuoteIn(InputSchema):
    deal_id: int = Field(ge=1, le=MAX_ID, examples=[31])
    client_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="Optional; must be the deal's client.")
    offering_id: int = Field(ge=1, le=MAX_ID, examples=[1])
    contact_id: int | None = Field(default=None, ge=1, le=MAX_ID, examples=[40])
    valid_until: date | None = Field(default=None, examples=["2026-07-31"])
    start_date: date | None = Field(default=None, examples=["2026-08-01"])
    introduction: str = Field(default="", max_length=20000)
    workstations: int | None = Field(default=None, ge=0, le=MAX_UNITS, description="Default: the client's live count.")
    servers: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    network_devices: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    mobiles: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    users: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    sites: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    addons: list[QuoteAddOnIn] = Field(default_factory=list, max_length=50)
    items: list[QuoteItemIn] = Field(default_factory=list, max_length=100)


class QuotePatch(InputSchema):
    offering_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    contact_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    valid_until: date | None = None
    start_date: date | None = None
    introduction: str | None = Field(default=None, max_length=20000)
    workstations: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    servers: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    network_devices: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    mobiles: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    users: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    sites: int | None = Field(default=None, ge=0, le=MAX_UNITS)


class QuoteAcceptIn(InputSchema):
    tier: Tier = Field(examples=["better"])


class QuoteDeclineIn(InputSchema):
    reason: str = Field(default="", max_length=2000, examples=["Budget postponed to next year."])


class QuoteLineOut(Schema):
    service_id: int
    name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    is_addon: bool


class TierOut(Schema):
    tier: Tier
    plan_id: int
    plan_name: str
    lines: list[QuoteLineOut]
    monthly_total: Decimal = Field(examples=["1234.50"])


class QuoteAddOnOut(Schema):
    id: int
    service_id: int
    per_unit: bool
    quantity: Decimal
    unit_price: Decimal | None


class QuoteItemOut(Schema):
    id: int
    description: str
    quantity: Decimal
    unit_price: Decimal


class QuoteOut(Schema):
    id: int
    number: str = Field(examples=["Q-2026-0007"])
    client_id: int
    deal_id: int
    contact_id: int | None
    offering_id: int
    status: QuoteStatus
    valid_until: date
    start_date: date
    introduction: str
    workstations: int
    servers: int
    network_devices: int
    mobiles: int
    users: int
    sites: int
    sent_at: datetime | None
    accepted_at: datetime | None
    accepted_tier: str
    contract_id: int | None
    decline_reason: str
    created_at: datetime


class QuoteDetailOut(QuoteOut):
    addons: list[QuoteAddOnOut]
    items: list[QuoteItemOut]
    tiers: list[TierOut]
    one_off_total: Decimal = Field(examples=["1800.00"])
    currency: str = Field(examples=["EUR"])
