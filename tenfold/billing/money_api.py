"""REST endpoints of payments (list, record, remove, CSV import), the receivables reports (ageing,
reconciliation) and the accounting exports (CSV)."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema, Status

from tenfold.billing import payments, reports
from tenfold.billing.models import PaymentMethod
from tenfold.billing.money_schemas import (
    AgeingOut,
    PaymentImportIn,
    PaymentImportOut,
    PaymentIn,
    PaymentOut,
    ReconciliationOut,
)
from tenfold.catalog.selectors import currency
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate
from tenfold.core.errors import ValidationError
from tenfold.core.roles import require

payments_router = Router(tags=["payments"])
reports_router = Router(tags=["payments"])
exports_router = Router(tags=["payments"])


class PaymentFilters(Schema):
    q: str | None = None
    client_id: int | None = None
    invoice_id: int | None = None
    method: PaymentMethod | None = None
    received_from: date | None = None
    received_until: date | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


@payments_router.get("", response={200: Page[PaymentOut], **ERRORS}, summary="List payments")
def list_payments(request: HttpRequest, filters: Query[PaymentFilters]) -> Any:
    """Payments you may see, filtered by `q` (reference or invoice number), client, invoice, method and date,
    sorted by `ordering` (received_on, amount, created_at; prefix with - for descending)."""
    queryset = payments.payments_visible(actor_of(request))
    if filters.q:
        text = filters.q.strip()[:200]
        queryset = queryset.filter(reference__icontains=text) | queryset.filter(invoice__number__icontains=text)
    if filters.client_id is not None:
        queryset = queryset.filter(client_id=filters.client_id)
    if filters.invoice_id is not None:
        queryset = queryset.filter(invoice_id=filters.invoice_id)
    if filters.method:
        queryset = queryset.filter(method=filters.method)
    if filters.received_from:
        queryset = queryset.filter(received_on__gte=filters.received_from)
    if filters.received_until:
        queryset = queryset.filter(received_on__lte=filters.received_until)
    queryset = queryset.order_by(*ordering_param(filters.ordering, {
        "received_on": "received_on", "amount": "amount", "created_at": "created_at"}, "-received_on"))
    return paginate(queryset, filters.page, filters.page_size)


@payments_router.post("", response={201: PaymentOut, **ERRORS}, summary="Record a payment",
                      openapi_extra={"requestBody": {"content": {"application/json": {"examples": {
                          "transfer": {"summary": "A bank transfer", "value": {
                              "invoice_id": 42, "received_on": "2026-03-15", "amount": "1200.00",
                              "method": "transfer", "reference": "VIR-2026-03-118"}}}}}}})
def create_payment(request: HttpRequest, payload: PaymentIn) -> Any:
    """Money received against an issued invoice. 409 on a draft, void or paid invoice or a credit note; 422 for
    an amount of zero or less or more than the balance due (no overpayment), a date in the future, or a
    reference already recorded on the invoice. The invoice becomes partially paid or paid."""
    actor = actor_of(request)
    require(actor, "invoices", "add")
    invoice = payments.access_invoice(actor, payload.invoice_id)
    data = payload.model_dump(exclude={"invoice_id"})
    return Status(201, payments.payment_record(actor=actor, invoice=invoice, data=data))


@payments_router.post("/import", response={200: PaymentImportOut, **ERRORS},
                      summary="Import payments from a CSV file")
def import_payments(request: HttpRequest, payload: PaymentImportIn) -> Any:
    """Preview (default) or, with `confirm: true`, import a CSV file of payments.

    Columns (header row, any order): invoice_number, date, amount, method (optional: transfer, direct_debit,
    card, cheque, cash, other), reference. Separated by `,` or `;`; UTF-8 with or without BOM; at most 1 MiB
    and 5000 rows; amounts as 1234.50 or 1234,50; dates as 2026-03-15 or 15/03/2026. The whole file is
    checked first; a confirmed import with any wrong row is a 422 naming each row (`row:<line>`) and writes
    nothing. A row whose reference is already recorded on its invoice (same amount and date) is skipped."""
    actor = actor_of(request)
    require(actor, "invoices", "add")
    try:
        content = base64.b64decode(payload.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(_("content_base64 is not valid base64."), field="content_base64") from None
    if payload.confirm:
        result = payments.payments_import_csv(actor=actor, file=content)
        if not result.applied:
            raise ValidationError(result.error or _("Some rows are not valid: nothing was imported."),
                                  errors=result.errors_by_row())
    else:
        result = payments.payments_import_preview(actor=actor, file=content)
    return {"confirmed": result.applied, "error": str(result.error), "recorded": result.count("record"),
            "skipped": result.count("skip"), "errors": result.count("error"), "total": result.total,
            "rows": [{"line": r.line, "action": r.action, "invoice_number": r.values.get("invoice_number", ""),
                      "invoice_id": r.invoice.pk if r.invoice else None, "amount": r.values.get("amount"),
                      "errors": r.messages(), "note": str(r.note)} for r in result.rows]}


@payments_router.get("/{payment_id}", response={200: PaymentOut, **ERRORS}, summary="Get a payment")
def get_payment(request: HttpRequest, payment_id: int) -> Any:
    return payments.access_payment(actor_of(request), payment_id)


@payments_router.delete("/{payment_id}", response={204: None, **ERRORS}, summary="Remove a payment")
def delete_payment(request: HttpRequest, payment_id: int) -> Any:
    """The invoice's amount paid and status follow (paid → partially paid or issued)."""
    actor = actor_of(request)
    payments.payment_delete(actor=actor, payment=payments.access_payment(actor, payment_id))
    return Status(204, None)


class AsOf(Schema):
    as_of: date | None = None


@reports_router.get("/ageing", response={200: AgeingOut, **ERRORS}, summary="Ageing of open balances")
def ageing_report(request: HttpRequest, params: Query[AsOf]) -> Any:
    """Open balances by client as of `as_of` (today by default), in buckets of days past the due date:
    not_due, days_1_30, days_31_60, days_61_90, over_90; with the totals per bucket."""
    report = reports.ageing(actor_of(request), params.as_of)
    return {"as_of": report.as_of, "currency": currency(), "buckets": [k for k, _low, _high in reports.BUCKETS],
            "totals": report.totals, "total": report.total,
            "clients": [{"client_id": c.client_id, "client_name": c.client_name, "buckets": c.buckets,
                         "total": c.total, "invoices": [
                             {"invoice_id": i.invoice.pk, "number": i.invoice.number, "due_date": i.invoice.due_date,
                              "balance": i.balance, "days_past_due": i.days_past_due, "bucket": i.bucket}
                             for i in c.invoices]} for c in report.clients]}


@reports_router.get("/reconciliation", response={200: list[ReconciliationOut], **ERRORS},
                    summary="Devices seen vs units billed")
def reconciliation_report(request: HttpRequest) -> Any:
    """Per managed contract in force: the devices the RMM sees now against the units billed on the latest issued
    or draft invoice's recurring lines, the difference in units and in money at each line's unit price, the
    devices seen but not billed and those billed but no longer seen."""
    return [{"contract_id": row.contract.pk, "contract_number": row.contract.number,
             "client_id": row.contract.client_id, "client_name": row.contract.client.name,
             "invoice_id": row.invoice.pk if row.invoice else None,
             "invoice_number": row.invoice.number if row.invoice else "",
             "lines": [{"line_id": x.line.pk, "description": x.line.description,
                        "service_code": x.line.service.code if x.line.service else "", "unit": x.unit,
                        "billed": x.billed, "seen": x.seen, "difference": x.difference,
                        "unit_price": x.line.unit_price, "amount": x.amount} for x in row.lines],
             "not_billed": [{"id": d.pk, "name": d.name} for d in row.not_billed],
             "billed_not_seen": row.billed_not_seen, "difference": row.difference, "matches": row.matches}
            for row in reports.reconciliation(actor_of(request))]


class Period(Schema):
    start: date | None = None
    end: date | None = None


def _csv(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_doc(columns: tuple[str, ...], example: str) -> dict[str, Any]:
    return {"responses": {"200": {"description": "CSV, UTF-8, comma-separated, decimal point. Columns: "
                                                 + ", ".join(columns),
                                  "content": {"text/csv": {"schema": {"type": "string"}, "example": example}}}}}


def _check_period(period: Period) -> None:
    if period.start and period.end and period.end < period.start:
        raise ValidationError(_("The period ends before it starts."), field="end")


@exports_router.get("/invoices.csv", response=ERRORS, summary="Export invoices as CSV",
                    openapi_extra=_csv_doc(reports.INVOICE_COLUMNS, ",".join(reports.INVOICE_COLUMNS) + "\r\n"
                                           "F-2026-0042,invoice,paid,Boulangerie Martin,7,2026-03-01,2026-03-31,"
                                           "2026-03-01,2026-03-31,EUR,1000.00,200.00,1200.00,1200.00,0.00,\r\n"))
def export_invoices(request: HttpRequest, period: Query[Period]) -> Any:
    """Issued invoices and credit notes (not drafts) with an issue date in [start, end], one row each."""
    _check_period(period)
    return _csv(reports.invoices_csv(actor_of(request), period.start, period.end), "invoices.csv")


@exports_router.get("/invoice-lines.csv", response=ERRORS, summary="Export invoice lines as CSV",
                    openapi_extra=_csv_doc(reports.LINE_COLUMNS, ",".join(reports.LINE_COLUMNS) + "\r\n"
                                           "F-2026-0042,invoice,2026-03-01,Boulangerie Martin,7,0,recurring,"
                                           "Workstation monitoring,C-0007,ws-mon,2026-03-01,2026-03-31,20.00,"
                                           "25.00,,,500.00,20.000\r\n"))
def export_invoice_lines(request: HttpRequest, period: Query[Period]) -> Any:
    """The lines of those invoices and credit notes, one row each."""
    _check_period(period)
    return _csv(reports.invoice_lines_csv(actor_of(request), period.start, period.end), "invoice-lines.csv")
