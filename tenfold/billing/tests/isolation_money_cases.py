"""Isolation cases of the payments, receivables reports, exports, contract "to date" fragment and the portal's
invoice pages (see tenfold/core/isolation.py)."""

from __future__ import annotations

import base64
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tenfold.assets.models import Device
from tenfold.billing.models import Invoice, InvoiceLine, Payment
from tenfold.contracts.models import Contract
from tenfold.core.isolation import Case, World, register

MODELS = (Invoice, InvoiceLine, Payment)
INVOICE_A_NUMBER = "ISO-INV-A-5521"
PAYMENT_A_REFERENCE = "ISO-PAY-A-7310"
CONTRACT_A_NUMBER = "ISO-MONEY-C-A-0042"
API = "api:{} /api/v1/{}"
STAFF = {"staff_only": True}
PORTAL = {"portal_only": True}


def money_invoice_a(world: World) -> Invoice:
    """An issued invoice of client A (1 200.00, 100.00 paid), on a managed contract with one device."""
    if "money_invoice_a" not in world.extra:
        contract = Contract.objects.create(client=world.client_a, number=CONTRACT_A_NUMBER, type="managed",
                                           status="active", start_date=date(2026, 1, 1))
        device = Device.objects.create(client=world.client_a, name="ISO-MONEY-PC-1", kind="workstation",
                                       state="active")
        today = timezone.localdate()
        invoice = Invoice.objects.create(client=world.client_a, number=INVOICE_A_NUMBER, status="partially_paid",
                                         issue_date=today - timedelta(days=40), due_date=today - timedelta(days=10),
                                         period_start=date(2026, 1, 1), period_end=date(2026, 1, 31),
                                         subtotal=Decimal("1000.00"), tax_total=Decimal("200.00"),
                                         total=Decimal("1200.00"), amount_paid=Decimal("100.00"))
        InvoiceLine.objects.create(client=world.client_a, invoice=invoice, kind="recurring", contract=contract,
                                   description="Monitoring", quantity=Decimal("2.00"), unit_price=Decimal("500.00"),
                                   amount=Decimal("1000.00"), tax_rate=Decimal("20.000"),
                                   detail={"units": [{"id": device.pk, "name": device.name, "kind": "device"}]})
        world.extra["money_payment_a"] = Payment.objects.create(
            client=world.client_a, invoice=invoice, received_on=today - timedelta(days=5), amount=Decimal("100.00"),
            reference=PAYMENT_A_REFERENCE)
        world.extra["money_contract_a"] = contract
        world.extra["money_invoice_a"] = invoice
    invoice: Invoice = world.extra["money_invoice_a"]
    return invoice


def invoice_params(world: World) -> dict[str, Any]:
    return {"invoice_id": money_invoice_a(world).pk}


def payment_params(world: World) -> dict[str, Any]:
    money_invoice_a(world)
    return {"payment_id": world.extra["money_payment_a"].pk}


def contract_params(world: World) -> dict[str, Any]:
    money_invoice_a(world)
    return {"contract_id": world.extra["money_contract_a"].pk}


def built(world: World) -> dict[str, Any]:
    # No id in the URL: the records are made here, before the "nothing changed" snapshot.
    money_invoice_a(world)
    return {}


def leak_invoice(world: World) -> str:
    money_invoice_a(world)
    return INVOICE_A_NUMBER


def leak_payment(world: World) -> str:
    money_invoice_a(world)
    return PAYMENT_A_REFERENCE


def leak_contract(world: World) -> str:
    money_invoice_a(world)
    return CONTRACT_A_NUMBER


def payment_form(world: World) -> dict[str, Any]:
    return {"received_on": timezone.localdate().isoformat(), "amount": "50.00", "method": "transfer",
            "reference": "ISO-NEW-PAYMENT", "notes": ""}


def csv_file(world: World) -> bytes:
    return (f"invoice_number,date,amount,method,reference\n{INVOICE_A_NUMBER},{timezone.localdate().isoformat()},"
            "10.00,transfer,ISO-IMPORTED\n").encode()


register(
    # Payments pages
    Case("ui:billing:payment_list", "list", "invoices", leak=leak_payment, **STAFF),
    Case("ui:billing:payment_create", "object", "invoices", "add", method="POST", params=invoice_params,
         body=payment_form, models=MODELS, **STAFF),
    Case("ui:billing:payment_delete", "object", "invoices", "delete", method="POST", params=payment_params,
         models=MODELS, **STAFF),
    Case("ui:billing:payment_import", "create", "invoices", "add", method="POST", params=built,
         body=lambda w: {"file": SimpleUploadedFile("payments.csv", csv_file(w), "text/csv")}, models=MODELS,
         **STAFF),
    # Reports and exports
    Case("ui:billing:ageing", "list", "invoices", params=built, leak=leak_invoice, **STAFF),
    Case("ui:billing:reconciliation", "list", "invoices", params=built, leak=leak_contract, **STAFF),
    Case("ui:billing:exports", "list", "invoices", params=built, **STAFF),
    Case("ui:billing:export_invoices", "list", "invoices", params=built, leak=leak_invoice, **STAFF),
    Case("ui:billing:export_invoice_lines", "list", "invoices", params=built, leak=leak_invoice, **STAFF),
    # The contract page's fragment
    Case("ui:billing:contract_figures_panel", "object", "contracts", params=contract_params, **STAFF),
    # Portal
    Case("ui:portal:invoice_list", "list", "invoices", params=built, leak=leak_invoice, **PORTAL),
    Case("ui:portal:invoice_detail", "object", "invoices", params=invoice_params, **PORTAL),
    Case("ui:portal:invoice_pdf", "object", "invoices", params=invoice_params, **PORTAL),
    # API: payments
    Case(API.format("GET", "payments"), "list", "invoices", params=built, leak=leak_payment),
    Case(API.format("POST", "payments"), "create", "invoices", "add", method="POST", params=built,
         body=lambda w: {"invoice_id": money_invoice_a(w).pk, **payment_form(w)}, models=MODELS),
    Case(API.format("GET", "payments/{payment_id}"), "object", "invoices", params=payment_params),
    Case(API.format("DELETE", "payments/{payment_id}"), "object", "invoices", "delete", method="DELETE",
         params=payment_params, models=MODELS),
    Case(API.format("POST", "payments/import"), "create", "invoices", "add", method="POST", params=built,
         body=lambda w: {"content_base64": base64.b64encode(csv_file(w)).decode(), "confirm": True},
         models=MODELS),
    # API: reports and exports
    Case(API.format("GET", "billing-reports/ageing"), "list", "invoices", params=built, leak=leak_invoice, **STAFF),
    Case(API.format("GET", "billing-reports/reconciliation"), "list", "invoices", params=built,
         leak=leak_contract, **STAFF),
    Case(API.format("GET", "billing-exports/invoices.csv"), "list", "invoices", params=built, leak=leak_invoice,
         **STAFF),
    Case(API.format("GET", "billing-exports/invoice-lines.csv"), "list", "invoices", params=built,
         leak=leak_invoice, **STAFF),
)
