"""The invoice document: one template (`billing/partials/invoice_document.html`) shown on the invoice page, in
the client portal and, through WeasyPrint, as the PDF sent to the client.

Pages include it with `{% include "billing/partials/invoice_document.html" with doc=doc %}` where
`doc = invoice_document(invoice)`, and link `billing/invoice.css` (which holds the print rules too)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from tenfold.billing.engine import tax_breakdown
from tenfold.billing.models import Invoice, InvoiceLine
from tenfold.core.models import Organization
from tenfold.core.selectors import organization

STYLESHEET = "billing/invoice.css"


@dataclass(frozen=True)
class TaxRow:
    """One tax rate's base and tax on an invoice."""

    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class InvoiceDocument:
    """What the invoice template shows."""

    invoice: Invoice
    lines: list[InvoiceLine]
    taxes: list[TaxRow]
    organization: Organization


def invoice_document(invoice: Invoice) -> InvoiceDocument:
    """The invoice with its lines (in order) and its tax per rate, for the shared template."""
    lines = list(InvoiceLine.objects.filter(invoice=invoice).select_related("contract").order_by("position", "pk"))
    taxes = [TaxRow(rate, base, tax) for rate, base, tax in tax_breakdown(lines)]
    return InvoiceDocument(invoice=invoice, lines=lines, taxes=taxes, organization=organization())


def stylesheet_text() -> str:
    """The invoice stylesheet (screen and print rules)."""
    path = finders.find(STYLESHEET)
    if not path:
        return ""
    return Path(str(path)).read_text(encoding="utf-8")


def invoice_html(invoice: Invoice) -> str:
    """The standalone HTML the PDF is rendered from (the shared template in a bare page)."""
    return render_to_string("billing/invoice_pdf.html", {"doc": invoice_document(invoice),
                                                         "stylesheet": stylesheet_text()})


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as a PDF, in the active language."""
    from weasyprint import HTML

    pdf: Any = HTML(string=invoice_html(invoice), base_url=str(Path(__file__).resolve().parent)).write_pdf()
    return bytes(pdf)


def pdf_filename(invoice: Invoice) -> str:
    """e.g. F2026-000123.pdf, or draft-17.pdf for a draft."""
    return f"{invoice.number or f'draft-{invoice.pk}'}.pdf"
