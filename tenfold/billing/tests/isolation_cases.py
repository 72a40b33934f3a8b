"""Isolation cases of the billing run and invoice pages and API (see tenfold/core/isolation.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tenfold.billing.models import BilledTimeEntry, BillingRun, Invoice, InvoiceLine, NumberSequence, OneOffCharge
from tenfold.clients.models import Contact
from tenfold.core.isolation import Case, World, register

MODELS = (Invoice, InvoiceLine, BilledTimeEntry, OneOffCharge, NumberSequence, BillingRun)
ISSUED_A = "F-ISO-A-5521"
A = "api:{} /api/v1/{}"
UI_STAFF = {"staff_only": True}


def invoices_a(world: World) -> dict[str, Any]:
    """Client A: an issued invoice (billing contact set), a draft with a line, and a one-off charge."""
    if "invoices_a" not in world.extra:
        client = world.client_a
        Contact.objects.create(client=client, first_name="Billing", last_name="Contact", email="billing@a.test",
                               is_billing_contact=True)
        issued = Invoice.objects.create(client=client, number=ISSUED_A, status="issued", issue_date=date(2026, 4, 1),
                                        due_date=date(2026, 5, 1), subtotal=Decimal("100.00"),
                                        total=Decimal("100.00"), bill_to_name=client.name,
                                        bill_to_email="billing@a.test")
        InvoiceLine.objects.create(client=client, invoice=issued, description="Issued line", quantity=Decimal("1"),
                                   unit_price=Decimal("100.00"), amount=Decimal("100.00"))
        draft = Invoice.objects.create(client=client, subtotal=Decimal("50.00"), total=Decimal("50.00"))
        line = InvoiceLine.objects.create(client=client, invoice=draft, description="Draft line",
                                          quantity=Decimal("1"), unit_price=Decimal("50.00"), amount=Decimal("50.00"))
        OneOffCharge.objects.create(client=client, description="Isolation fee", unit_price=Decimal("10.00"),
                                    service_date=date(2026, 3, 15))
        world.extra["invoices_a"] = {"issued": issued, "draft": draft, "line": line}
    return world.extra["invoices_a"]


def run(world: World) -> BillingRun:
    if "run" not in world.extra:
        world.extra["run"] = BillingRun.objects.create(period_start=date(2026, 1, 1), run_date=date(2026, 1, 1),
                                                       status="done")
    return world.extra["run"]


def issued_params(world: World) -> dict[str, Any]:
    return {"invoice_id": invoices_a(world)["issued"].pk}


def draft_params(world: World) -> dict[str, Any]:
    return {"invoice_id": invoices_a(world)["draft"].pk}


def line_params(world: World) -> dict[str, Any]:
    return {"line_id": invoices_a(world)["line"].pk}


def run_params(world: World) -> dict[str, Any]:
    return {"run_id": run(world).pk}


def _built(builder: Any) -> Any:
    def params(world: World) -> dict[str, Any]:
        builder(world)
        return {}
    return params


def leak(world: World) -> str:
    invoices_a(world)
    return ISSUED_A


LINE_FORM = {"description": "Isolation line", "quantity": "1", "unit_price": "5.00", "tax_rate": ""}

register(
    # Pages
    Case("ui:billing:invoice_list", "list", "invoices", leak=leak),
    Case("ui:billing:invoice_create", "create", "invoices", "add", method="POST",
         body=lambda w: {"client": w.client_a.pk, "notes": "By isolation"}, params=_built(invoices_a), models=MODELS,
         **UI_STAFF),
    Case("ui:billing:invoice_detail", "object", "invoices", params=issued_params),
    Case("ui:billing:invoice_pdf", "object", "invoices", params=issued_params),
    Case("ui:billing:invoice_notes", "object", "invoices", "change", method="POST", params=draft_params,
         body=lambda w: {"notes": "Changed"}, models=MODELS, **UI_STAFF),
    Case("ui:billing:line_add", "object", "invoices", "change", method="POST", params=draft_params,
         body=lambda w: LINE_FORM, models=MODELS, **UI_STAFF),
    Case("ui:billing:line_edit", "object", "invoices", "change", method="POST", params=line_params,
         body=lambda w: LINE_FORM, models=MODELS, **UI_STAFF),
    Case("ui:billing:line_delete", "object", "invoices", "change", method="POST", params=line_params,
         models=MODELS, **UI_STAFF),
    Case("ui:billing:invoice_issue", "object", "invoices", "change", method="POST", params=draft_params,
         models=MODELS, **UI_STAFF),
    Case("ui:billing:invoice_send", "object", "invoices", "change", method="POST", params=issued_params,
         models=MODELS, **UI_STAFF),
    Case("ui:billing:invoice_void", "object", "invoices", "change", method="POST", params=issued_params,
         body=lambda w: {"reason": "Isolation"}, models=MODELS, **UI_STAFF),
    Case("ui:billing:invoice_delete", "object", "invoices", "delete", method="POST", params=draft_params,
         models=MODELS, **UI_STAFF),
    Case("ui:billing:run_list", "list", "invoices", params=_built(run), client_owned=False, **UI_STAFF),
    Case("ui:billing:run_start", "create", "invoices", "add", method="POST", body=lambda w: {"month": "2026-04"},
         params=_built(invoices_a), models=MODELS, client_owned=False, **UI_STAFF),
    Case("ui:billing:run_detail", "object", "invoices", params=run_params, client_owned=False, **UI_STAFF),
    # API
    Case(A.format("GET", "billing-runs"), "list", "invoices", params=_built(run), client_owned=False, **UI_STAFF),
    Case(A.format("POST", "billing-runs"), "create", "invoices", "add", method="POST",
         body=lambda w: {"period_start": "2026-04-01", "run_date": "2026-04-01"}, params=_built(invoices_a),
         models=MODELS, client_owned=False, **UI_STAFF),
    Case(A.format("GET", "billing-runs/{run_id}"), "object", "invoices", params=run_params, client_owned=False,
         **UI_STAFF),
    Case(A.format("GET", "invoices"), "list", "invoices", leak=leak),
    Case(A.format("POST", "invoices"), "create", "invoices", "add", method="POST",
         body=lambda w: {"client_id": w.client_a.pk, "notes": "By isolation"}, params=_built(invoices_a),
         models=MODELS, **UI_STAFF),
    Case(A.format("GET", "invoices/{invoice_id}"), "object", "invoices", params=issued_params),
    Case(A.format("PATCH", "invoices/{invoice_id}"), "object", "invoices", "change", method="PATCH",
         params=draft_params, body=lambda w: {"notes": "Changed"}, models=MODELS, **UI_STAFF),
    Case(A.format("DELETE", "invoices/{invoice_id}"), "object", "invoices", "delete", method="DELETE",
         params=draft_params, models=MODELS, **UI_STAFF),
    Case(A.format("POST", "invoices/{invoice_id}/lines"), "object", "invoices", "change", method="POST",
         params=draft_params, body=lambda w: {"description": "Isolation", "quantity": "1", "unit_price": "5"},
         models=MODELS, **UI_STAFF),
    Case(A.format("POST", "invoices/{invoice_id}/issue"), "object", "invoices", "change", method="POST",
         params=draft_params, models=MODELS, **UI_STAFF),
    Case(A.format("POST", "invoices/{invoice_id}/send"), "object", "invoices", "change", method="POST",
         params=issued_params, models=MODELS, success=(202,), **UI_STAFF),
    Case(A.format("POST", "invoices/{invoice_id}/void"), "object", "invoices", "change", method="POST",
         params=issued_params, body=lambda w: {"reason": "Isolation"}, models=MODELS, **UI_STAFF),
    Case(A.format("GET", "invoices/{invoice_id}/pdf"), "object", "invoices", params=issued_params),
    Case(A.format("PATCH", "invoice-lines/{line_id}"), "object", "invoices", "change", method="PATCH",
         params=line_params, body=lambda w: {"quantity": "2"}, models=MODELS, **UI_STAFF),
    Case(A.format("DELETE", "invoice-lines/{line_id}"), "object", "invoices", "change", method="DELETE",
         params=line_params, models=MODELS, **UI_STAFF),
)
