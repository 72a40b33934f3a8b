"""The demo seed's billing: three monthly runs by the real engine, the older months issued without gaps, this
month's drafts with prorated lines, one invoice voided by a credit note; totals equal the sums of the lines."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone

from tenfold.billing.models import BillingRun, Invoice, InvoiceLine
from tenfold.billing.usage import month_start
from tenfold.conftest import DemoDatabase

pytestmark = pytest.mark.django_db


def test_demo_billing(demo: DemoDatabase) -> None:
    runs = list(BillingRun.objects.order_by("period_start"))
    assert len(runs) == 3 and runs[-1].period_start == month_start(timezone.localdate())
    assert all(r.status == "done" and r.invoice_count > 0 for r in runs)
    # The billing engine's series (F2026-000001); the demo's two years of history use their own (FH202501-…).
    issued = Invoice.objects.filter(kind="invoice").exclude(number="").values_list("number", flat=True)
    numbers = sorted(n for n in issued if re.fullmatch(r"F\d{4}-\d{6}", n))
    by_year: dict[str, list[int]] = {}
    for number in numbers:
        by_year.setdefault(number[:5], []).append(int(number[6:]))
    assert all(sorted(seq) == list(range(1, len(seq) + 1)) for seq in by_year.values())
    assert Invoice.objects.filter(billing_run=runs[-1], status="draft").exists()
    assert InvoiceLine.objects.filter(invoice__billing_run=runs[-1], kind="proration").exists()
    assert InvoiceLine.objects.filter(kind="recurring").exclude(detail__units=[]).exists()
    assert Invoice.objects.filter(kind="credit_note").count() == 1
    assert Invoice.objects.filter(status="void").count() == 1
    for invoice in Invoice.objects.all():
        rows = list(invoice.lines.values_list("amount", "tax_rate"))
        subtotal = sum((a for a, _r in rows), Decimal("0"))
        tax = sum(((sum((a for a, rr in rows if rr == r), Decimal("0")) * r / 100)
                   .quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for r in {r for _a, r in rows}), Decimal("0"))
        assert (invoice.subtotal, invoice.tax_total, invoice.total) == (subtotal, tax, subtotal + tax)
