"""API bodies of payments, the payments import, the ageing report and the reconciliation."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from tenfold.billing.models import PaymentMethod
from tenfold.core.api import InputSchema


class PaymentOut(Schema):
    id: int
    client_id: int
    invoice_id: int
    invoice_number: str = Field(examples=["F-2026-0042"])
    received_on: date
    amount: Decimal = Field(examples=["1200.00"])
    method: str = Field(examples=["transfer"])
    reference: str = Field(examples=["VIR-2026-03-118"])
    imported: bool
    notes: str
    recorded_by_id: int | None
    created_at: datetime

    @staticmethod
    def resolve_invoice_number(obj: object) -> str:
        return str(getattr(getattr(obj, "invoice", None), "number", "") or "")


class PaymentIn(InputSchema):
    """Money received against an issued invoice: more than zero and not more than the balance due."""

    invoice_id: int = Field(examples=[42])
    received_on: date = Field(examples=["2026-03-15"])
    amount: Decimal = Field(max_digits=12, decimal_places=2, examples=["1200.00"])
    method: PaymentMethod = Field(default=PaymentMethod.TRANSFER, examples=["transfer"])
    reference: str = Field(default="", max_length=120, examples=["VIR-2026-03-118"])
    notes: str = Field(default="", max_length=2000)


class PaymentImportIn(InputSchema):
    """A payments CSV file, base64-encoded; `confirm: false` (the default) only previews."""

    content_base64: str = Field(max_length=1_500_000, examples=[
        "aW52b2ljZV9udW1iZXIsZGF0ZSxhbW91bnQsbWV0aG9kLHJlZmVyZW5jZQpGLTIwMjYtMDA0MiwyMDI2LTAzLTE1LDEyMDAuMDAs"
        "dHJhbnNmZXIsVklSLTIwMjYtMDMtMTE4Cg=="])
    confirm: bool = False


class PaymentImportRowOut(Schema):
    line: int
    action: str = Field(examples=["record"], description="record, skip (already recorded) or error")
    invoice_number: str
    invoice_id: int | None
    amount: Decimal | None
    errors: list[str]
    note: str


class PaymentImportOut(Schema):
    """What the import did (confirmed) or would do (preview)."""

    confirmed: bool
    error: str = Field(description="Why the file as a whole cannot be read, or empty.")
    recorded: int
    skipped: int
    errors: int
    total: Decimal = Field(examples=["3400.00"], description="The sum of the rows recorded (or to record).")
    rows: list[PaymentImportRowOut]


class AgeingInvoiceOut(Schema):
    invoice_id: int
    number: str
    due_date: date | None
    balance: Decimal
    days_past_due: int
    bucket: str


class AgeingClientOut(Schema):
    client_id: int
    client_name: str
    buckets: dict[str, Decimal] = Field(examples=[{"not_due": "1200.00", "days_1_30": "0.00", "days_31_60": "0.00",
                                                    "days_61_90": "0.00", "over_90": "350.00"}])
    total: Decimal
    invoices: list[AgeingInvoiceOut]


class AgeingOut(Schema):
    """Open balances by client and bucket of days past due, as of a date."""

    as_of: date
    currency: str = Field(examples=["EUR"])
    buckets: list[str] = Field(examples=[["not_due", "days_1_30", "days_31_60", "days_61_90", "over_90"]])
    totals: dict[str, Decimal]
    total: Decimal
    clients: list[AgeingClientOut]


class DeviceRef(Schema):
    id: int
    name: str


class ReconciledLineOut(Schema):
    line_id: int
    description: str
    service_code: str
    unit: str = Field(examples=["workstation"])
    billed: Decimal = Field(examples=["20.00"])
    seen: int = Field(examples=[22])
    difference: Decimal = Field(examples=["2.00"])
    unit_price: Decimal = Field(examples=["25.00"])
    amount: Decimal = Field(examples=["50.00"], description="difference × unit price")


class ReconciliationOut(Schema):
    """One managed contract in force: devices seen by the RMM vs units billed on its latest invoice."""

    contract_id: int
    contract_number: str
    client_id: int
    client_name: str
    invoice_id: int | None
    invoice_number: str
    lines: list[ReconciledLineOut]
    not_billed: list[DeviceRef]
    billed_not_seen: list[DeviceRef]
    difference: Decimal
    matches: bool
