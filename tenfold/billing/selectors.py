"""Reads of billing, scoped to what the actor may see: invoices by client scope (a portal administrator sees
their company's issued invoices), billing runs for staff with the invoices right."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from tenfold.billing.models import OPEN_STATUSES, BillingRun, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from tenfold.core.errors import NotFound, PermissionDenied
from tenfold.core.roles import require
from tenfold.core.tenancy import get_visible

STATUS_FILTERS = ("draft", "issued", "partially_paid", "paid", "void", "overdue")


def invoices_visible(actor: Any) -> QuerySet[Invoice]:
    """Invoices and credit notes the actor may see (portal users: issued ones of their company only); 403 for a
    role without the invoices right."""
    require(actor, "invoices", "view")
    queryset = Invoice.objects.visible_to(actor).select_related("client", "credited_invoice", "billing_run")
    if getattr(actor, "is_portal", False):
        queryset = queryset.exclude(status=InvoiceStatus.DRAFT)
    return queryset


def access_invoice(actor: Any, invoice_id: Any) -> Invoice:
    """One invoice of a client the actor may see, or NotFound (missing and not-yours answer alike); then the
    role. Writes refuse portal users after this (403); pages that show an invoice use `access_invoice_to_read`."""
    invoice = get_visible(Invoice.objects.select_related("client", "credited_invoice", "billing_run"), actor,
                          invoice_id)
    require(actor, "invoices", "view")
    return invoice


def access_invoice_to_read(actor: Any, invoice_id: Any) -> Invoice:
    """access_invoice, and a draft is NotFound for a portal user (the client sees issued documents only)."""
    invoice = access_invoice(actor, invoice_id)
    if getattr(actor, "is_portal", False) and invoice.status == InvoiceStatus.DRAFT:
        raise NotFound()
    return invoice


def access_line(actor: Any, line_id: Any) -> InvoiceLine:
    """One invoice line the actor may see (404 otherwise)."""
    line = get_visible(InvoiceLine.objects.select_related("invoice", "invoice__client"), actor, line_id)
    require(actor, "invoices", "view")
    return line


def _staff_only(actor: Any) -> None:
    require(actor, "invoices", "view")
    if getattr(actor, "is_portal", False):
        raise PermissionDenied()


def runs_visible(actor: Any) -> QuerySet[BillingRun]:
    """Billing runs (MSP-level): staff with the invoices right."""
    _staff_only(actor)
    return BillingRun.objects.visible_to(actor).select_related("started_by")


def access_run(actor: Any, run_id: Any) -> BillingRun:
    """One billing run (404 when missing)."""
    _staff_only(actor)
    try:
        pk = int(run_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    run = BillingRun.objects.filter(pk=pk).select_related("started_by").first()
    if run is None:
        raise NotFound()
    return run


def run_invoices(actor: Any, run: BillingRun) -> QuerySet[Invoice]:
    """The invoices of a run that the actor may see (a restricted staff user sees their clients' only)."""
    return invoices_visible(actor).filter(billing_run=run).order_by("client__name", "pk")


def filter_status(queryset: QuerySet[Invoice], status: str | None, today: date | None = None) -> QuerySet[Invoice]:
    """Filter by a stored status, or "overdue" (open invoices past their due date)."""
    if not status:
        return queryset
    if status == "overdue":
        return queryset.filter(kind=InvoiceKind.INVOICE, status__in=OPEN_STATUSES,
                               due_date__lt=today or timezone.localdate())
    return queryset.filter(status=status)


def search(queryset: QuerySet[Invoice], term: str | None) -> QuerySet[Invoice]:
    """By number or client name."""
    term = (term or "").strip()[:200]
    if not term:
        return queryset
    return queryset.filter(Q(number__icontains=term) | Q(client__name__icontains=term))
