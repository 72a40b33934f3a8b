"""API shapes of billing runs, invoices, credit notes and their lines."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from tenfold.billing.models import BillingRunStatus, InvoiceKind, InvoiceStatus, LineKind
from tenfold.core.api import InputSchema

MONEY_EXAMPLE = "51.61"


class BillingRunIn(InputSchema):
    period_start: date = Field(description="First day of the month billed in advance.", examples=["2026-04-01"])
    run_date: date | None = Field(default=None, description="Unit counts are taken at the start of this day "
                                  "(today when omitted; a month already run keeps its first run date).",
                                  examples=["2026-04-01"])


class BillingRunOut(Schema):
    id: int
    period_start: date = Field(examples=["2026-04-01"])
    run_date: date = Field(examples=["2026-04-01"])
    status: BillingRunStatus
    started_by_id: int | None
    finished_at: datetime | None
    invoice_count: int = Field(examples=[12])
    total: Decimal = Field(examples=["14250.40"])
    error: str


class InvoiceLineOut(Schema):
    id: int
    position: int
    kind: LineKind
    description: str = Field(examples=["Server monitoring — 2 added, 3/12/26 to 3/31/26 (20/31 days)"])
    contract_id: int | None
    service_id: int | None
    milestone_id: int | None
    period_start: date | None
    period_end: date | None
    quantity: Decimal = Field(examples=["2.00"])
    unit_price: Decimal = Field(examples=["40.00"])
    days: int | None = Field(examples=[20])
    period_days: int | None = Field(examples=[31])
    amount: Decimal = Field(examples=[MONEY_EXAMPLE])
    tax_rate: Decimal = Field(examples=["20.000"])
    detail: dict[str, Any] = Field(examples=[{"unit": "server", "change": "added",
                                              "units": [{"id": 31, "name": "SRV-01", "kind": "device"}]}])


class InvoiceOut(Schema):
    id: int
    client_id: int
    kind: InvoiceKind
    number: str = Field(examples=["F2026-000123"])
    status: InvoiceStatus
    overdue: bool
    billing_run_id: int | None
    credited_invoice_id: int | None
    period_start: date | None
    period_end: date | None
    issue_date: date | None
    due_date: date | None
    currency: str = Field(examples=["EUR"])
    subtotal: Decimal = Field(examples=["148.06"])
    tax_total: Decimal = Field(examples=["29.61"])
    total: Decimal = Field(examples=["177.67"])
    amount_paid: Decimal
    balance: Decimal
    bill_to_name: str
    bill_to_email: str
    bill_to_address: str
    notes: str
    sent_at: datetime | None


class InvoiceDetailOut(InvoiceOut):
    lines: list[InvoiceLineOut]


class InvoiceIn(InputSchema):
    client_id: int = Field(ge=1, le=2**63 - 1, examples=[7])
    notes: str = Field(default="", max_length=5000, examples=["Order ref. PO-2026-118"])


class InvoicePatch(InputSchema):
    notes: str = Field(max_length=5000, examples=["Order ref. PO-2026-118"])


class LineIn(InputSchema):
    description: str = Field(min_length=1, max_length=300, examples=["On-site training"])
    quantity: Decimal = Field(examples=["2"], description="Not negative, at most two decimals.")
    unit_price: Decimal = Field(examples=["95.00"], description="Not negative, at most two decimals.")
    tax_rate: Decimal | None = Field(default=None, examples=["20"], description="Percent; the default rate "
                                     "when omitted.")


class LinePatch(InputSchema):
    description: str | None = Field(default=None, min_length=1, max_length=300)
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    tax_rate: Decimal | None = None


class VoidIn(InputSchema):
    reason: str = Field(default="", max_length=2000, examples=["Billed to the wrong client."])


class SendOut(Schema):
    queued: bool = True
    to: str = Field(examples=["compta@boulangerie-martin.fr"])
