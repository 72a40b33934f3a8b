"""Demo payments on the demo's issued invoices, so the ageing report and the portal look lived-in: most
invoices past their due date were paid around it, some only in part, some are left open (overdue); a few
recent ones were paid early. Recorded through the payments service (amounts paid, statuses, audit)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from tenfold.billing.models import Invoice, InvoiceKind, InvoiceStatus, PaymentMethod
from tenfold.billing.payments import payment_record

CENT = Decimal("0.01")


def seed_payments(rng: random.Random, actor: Any) -> int:
    """Pay the demo's issued invoices in a realistic mix; returns how many payments were recorded."""
    today = timezone.localdate()
    invoices = list(Invoice.objects.filter(kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED, total__gt=0)
                    .exclude(number="").order_by("issue_date", "pk"))
    recorded = 0
    for invoice in invoices:
        issued = invoice.issue_date or today
        due = invoice.due_date or issued
        roll = rng.random()
        if due < today - timedelta(days=10):
            # past due: 70 % paid around the due date, 15 % paid in part, 15 % left open
            plan = "full" if roll < 0.70 else "part" if roll < 0.85 else "open"
        else:
            plan = "full" if roll < 0.30 else "open"
        if plan == "open":
            continue
        day = min(today, max(issued, due + timedelta(days=rng.randint(-12, 8))))
        amount = invoice.total
        if plan == "part":
            amount = (invoice.total * Decimal(rng.randint(30, 70)) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        method = PaymentMethod.DIRECT_DEBIT if rng.random() < 0.3 else PaymentMethod.TRANSFER
        prefix = "PRLV" if method == PaymentMethod.DIRECT_DEBIT else "VIR"
        payment_record(actor=actor, invoice=invoice, data={
            "amount": amount, "received_on": day, "method": method,
            "reference": f"{prefix}-{day:%Y%m%d}-{invoice.pk:05d}", "notes": ""})
        recorded += 1
    return recorded
