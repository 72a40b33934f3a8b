"""The portal's invoice pages: a portal administrator reads the company's issued invoices and credit notes, their
lines and payments, and downloads the PDF. Drafts are never shown; a portal user has no invoice pages (403);
another company's invoice is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tenfold.billing import pdf
from tenfold.billing.models import ZERO, Invoice, InvoiceStatus
from tenfold.billing.payments import access_invoice
from tenfold.core.roles import require
from tenfold.portal.views import _portal_client


def portal_invoices(user: Any) -> QuerySet[Invoice]:
    """The company's issued invoices and credit notes (never drafts), newest first."""
    require(user, "invoices", "view")
    return (Invoice.objects.visible_to(user).exclude(status=InvoiceStatus.DRAFT).exclude(number="")
            .order_by("-issue_date", "-pk"))


def _portal_invoice(request: HttpRequest, invoice_id: int) -> Invoice:
    # Fetched first: another company's invoice is a 404 for everyone; then the portal and role checks.
    invoice = access_invoice(request.user, invoice_id)
    _portal_client(request)
    return invoice


@login_required
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    """Invoices and credit notes with what is still owed on each."""
    client = _portal_client(request)
    invoices = list(portal_invoices(request.user)[:500])
    today = timezone.localdate()
    return render(request, "portal/invoice_list.html", {
        "client": client, "invoices": [{"invoice": i, "overdue": i.is_overdue(today)} for i in invoices],
        "balance": sum((i.balance for i in invoices), ZERO)})


@login_required
@require_GET
def invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """One invoice: its lines, totals and the payments received."""
    invoice = _portal_invoice(request, invoice_id)
    return render(request, "portal/invoice_detail.html", {
        "invoice": invoice, "lines": invoice.lines.order_by("position", "pk"),
        "payments": invoice.payments.order_by("received_on", "pk"),
        "overdue": invoice.is_overdue(timezone.localdate())})


@login_required
@require_GET
def invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The invoice as a PDF file."""
    invoice = _portal_invoice(request, invoice_id)
    response = HttpResponse(pdf.invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.pdf_filename(invoice)}"'
    return response
