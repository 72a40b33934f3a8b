"""REST endpoints for billing runs, invoices and credit notes, and draft lines."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from tenfold.billing import selectors, services
from tenfold.billing.engine import billing_run
from tenfold.billing.models import Invoice, InvoiceLine
from tenfold.billing.pdf import invoice_pdf, pdf_filename
from tenfold.billing.schemas import (
    BillingRunIn,
    BillingRunOut,
    InvoiceDetailOut,
    InvoiceIn,
    InvoiceLineOut,
    InvoiceOut,
    InvoicePatch,
    LineIn,
    LinePatch,
    SendOut,
    VoidIn,
)
from tenfold.clients.selectors import access_client
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate
from tenfold.core.errors import PermissionDenied, ValidationError
from tenfold.core.roles import require

runs_router = Router(tags=["billing"])
invoices_router = Router(tags=["billing"])
lines_router = Router(tags=["billing"])

STATUSES = ("draft", "issued", "partially_paid", "paid", "void", "overdue")


class RunFilters(Schema):
    page: int = 1
    page_size: int | None = None


class InvoiceFilters(Schema):
    q: str | None = None
    client_id: int | None = None
    status: str | None = None
    kind: str | None = None
    billing_run_id: int | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


def _staff(actor: Any) -> None:
    if getattr(actor, "is_portal", False):
        raise PermissionDenied()


def _invoice_out(invoice: Invoice) -> dict[str, Any]:
    body = InvoiceOut.model_validate({**{f: getattr(invoice, f) for f in InvoiceOut.model_fields
                                         if f not in ("overdue", "balance")},
                                      "overdue": invoice.is_overdue(timezone.localdate()),
                                      "balance": invoice.balance}).model_dump()
    return body


def _detail(invoice: Invoice) -> dict[str, Any]:
    lines = [InvoiceLineOut.model_validate(line, from_attributes=True).model_dump()
             for line in InvoiceLine.objects.filter(invoice=invoice).order_by("position", "pk")]
    return {**_invoice_out(invoice), "lines": lines}


# --- Billing runs ---------------------------------------------------------------------------------------------


@runs_router.get("", response={200: Page[BillingRunOut], **ERRORS}, summary="List billing runs")
def list_runs(request: HttpRequest, filters: Query[RunFilters]) -> Any:
    """Billing runs, the latest month first (staff with the invoices right)."""
    return paginate(selectors.runs_visible(actor_of(request)).order_by("-period_start"), filters.page,
                    filters.page_size)


@runs_router.post("", response={200: BillingRunOut, **ERRORS}, summary="Run billing for a month")
def start_run(request: HttpRequest, payload: BillingRunIn) -> Any:
    """Bill the month starting `period_start`: recurring lines in advance, prorations, out-of-scope time, block-hour
    overage, milestones and one-off items of the month before. Idempotent: running a month again completes it
    and never duplicates an invoice or a line."""
    actor = actor_of(request)
    selectors.runs_visible(actor)
    return billing_run(actor=actor, period_start=payload.period_start, run_date=payload.run_date)


@runs_router.get("/{run_id}", response={200: BillingRunOut, **ERRORS}, summary="Get a billing run")
def get_run(request: HttpRequest, run_id: int) -> Any:
    """One billing run with its totals (its invoices: `GET /invoices?billing_run_id=`)."""
    return selectors.access_run(actor_of(request), run_id)


# --- Invoices -----------------------------------------------------------------------------------------------------


@invoices_router.get("", response={200: Page[InvoiceOut], **ERRORS}, summary="List invoices")
def list_invoices(request: HttpRequest, filters: Query[InvoiceFilters]) -> Any:
    """Invoices and credit notes you may see, by `q` (number, client name), client, status (`overdue`: open and
    past due), kind and billing run; sorted by `ordering` (issue_date, due_date, number, total, client)."""
    queryset = selectors.invoices_visible(actor_of(request))
    queryset = selectors.search(queryset, filters.q)
    if filters.status and filters.status not in STATUSES:
        raise ValidationError(field="status", message=f"status must be one of: {', '.join(STATUSES)}.")
    queryset = selectors.filter_status(queryset, filters.status)
    if filters.client_id:
        queryset = queryset.filter(client_id=filters.client_id)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.billing_run_id:
        queryset = queryset.filter(billing_run_id=filters.billing_run_id)
    queryset = queryset.order_by(*ordering_param(filters.ordering, {
        "issue_date": "issue_date", "due_date": "due_date", "number": "number", "total": "total",
        "client": "client__name"}, "-issue_date"))
    page = paginate(queryset, filters.page, filters.page_size)
    page["items"] = [_invoice_out(i) for i in page["items"]]
    return page


@invoices_router.post("", response={201: InvoiceDetailOut, **ERRORS}, summary="Draft an invoice")
def create_invoice(request: HttpRequest, payload: InvoiceIn) -> Any:
    """A draft invoice by hand for a client; add lines next, then issue it."""
    actor = actor_of(request)
    _staff(actor)
    require(actor, "invoices", "add")
    client = access_client(actor, payload.client_id)
    return Status(201, _detail(services.invoice_create(actor=actor, client=client, data={"notes": payload.notes})))


@invoices_router.get("/{invoice_id}", response={200: InvoiceDetailOut, **ERRORS}, summary="Get an invoice")
def get_invoice(request: HttpRequest, invoice_id: int) -> Any:
    """An invoice or credit note with its lines (each line's `detail` lists the devices counted, the time
    entries, the usage behind it)."""
    return _detail(selectors.access_invoice_to_read(actor_of(request), invoice_id))


@invoices_router.patch("/{invoice_id}", response={200: InvoiceDetailOut, **ERRORS}, summary="Change a draft")
def update_invoice(request: HttpRequest, invoice_id: int, payload: InvoicePatch) -> Any:
    """Change a draft's notes; an issued invoice answers 409 and is not changed."""
    actor = actor_of(request)
    invoice = selectors.access_invoice(actor, invoice_id)
    _staff(actor)
    return _detail(services.invoice_update(actor=actor, invoice=invoice, data=payload.model_dump()))


@invoices_router.delete("/{invoice_id}", response={204: None, **ERRORS}, summary="Delete a draft")
def delete_invoice(request: HttpRequest, invoice_id: int) -> Any:
    """Delete a draft (its time, one-off charges and milestones return to the next run); 409 once issued."""
    actor = actor_of(request)
    invoice = selectors.access_invoice(actor, invoice_id)
    _staff(actor)
    services.invoice_delete(actor=actor, invoice=invoice)
    return Status(204, None)


@invoices_router.post("/{invoice_id}/lines", response={201: InvoiceLineOut, **ERRORS}, summary="Add a line to a draft")
def add_line(request: HttpRequest, invoice_id: int, payload: LineIn) -> Any:
    """A manual line (quantity and unit price not negative, two decimals at most); 409 once issued."""
    actor = actor_of(request)
    invoice = selectors.access_invoice(actor, invoice_id)
    _staff(actor)
    data = payload.model_dump(exclude_none=True)
    return Status(201, services.line_add(actor=actor, invoice=invoice, data=data))


@invoices_router.post("/{invoice_id}/issue", response={200: InvoiceDetailOut, **ERRORS}, summary="Issue")
def issue_invoice(request: HttpRequest, invoice_id: int) -> Any:
    """Give the draft the next number of the year's series (no gaps), its issue and due dates and the bill-to
    block; from then on it cannot change."""
    actor = actor_of(request)
    invoice = selectors.access_invoice(actor, invoice_id)
    _staff(actor)
    return _detail(services.invoice_issue(actor=actor, invoice=invoice))


@invoices_router.post("/{invoice_id}/send", response={202: SendOut, **ERRORS}, summary="Email to the client")
def send_invoice(request: HttpRequest, invoice_id: int) -> Any:
    """Queue the email of the invoice with its PDF to the client's billing contact (retried if sending fails)."""
    actor = actor_of(request)
    invoice = selectors.access_invoice(actor, invoice_id)
    _staff(actor)
    event = services.invoice_send(actor=actor, invoice=invoice)
    return Status(202, {"queued": True, "to": event.payload["to"]})


@invoices_router.post("/{invoice_id}/void", response={201: InvoiceDetailOut, **ERRORS},
                      summary="Void by a credit note")
def void_invoice(request: HttpRequest, invoice_id: int, payload: VoidIn) -> Any:
    """Void an issued invoice without payments: answers the credit note that negates every line (409 when the
    invoice has payments, is a draft or is already void)."""
    actor = actor_of(request)
    invoice = selectors.access_invoice(actor, invoice_id)
    _staff(actor)
    return Status(201, _detail(services.invoice_void(actor=actor, invoice=invoice, reason=payload.reason)))


@invoices_router.get("/{invoice_id}/pdf", response={200: None, **ERRORS}, summary="Download the PDF",
                     openapi_extra={"responses": {"200": {"description": "The invoice as a PDF.",
                                                          "content": {"application/pdf": {}}}}})
def download_pdf(request: HttpRequest, invoice_id: int) -> Any:
    """The invoice as a PDF (the same template as the page)."""
    invoice = selectors.access_invoice_to_read(actor_of(request), invoice_id)
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(invoice)}"'
    return response


# --- Lines of drafts ------------------------------------------------------------------------------------------------


@lines_router.patch("/{line_id}", response={200: InvoiceLineOut, **ERRORS}, summary="Change a draft's line")
def update_line(request: HttpRequest, line_id: int, payload: LinePatch) -> Any:
    """Change a line of a draft; the amount and the invoice's totals follow; 409 once issued."""
    actor = actor_of(request)
    line = selectors.access_line(actor, line_id)
    _staff(actor)
    return services.line_update(actor=actor, line=line, data=payload.model_dump(exclude_none=True))


@lines_router.delete("/{line_id}", response={204: None, **ERRORS}, summary="Remove a draft's line")
def delete_line(request: HttpRequest, line_id: int) -> Any:
    """Remove a line of a draft (what it billed returns to the next run); 409 once issued."""
    actor = actor_of(request)
    line = selectors.access_line(actor, line_id)
    _staff(actor)
    services.line_delete(actor=actor, line=line)
    return Status(204, None)
