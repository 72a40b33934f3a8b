"""The demo's payments: a deterministic mix of paid, partly paid and overdue invoices, each amount exact."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from tenfold.accounts.models import User
from tenfold.accounts.testing import make_staff
from tenfold.billing.models import Invoice, Payment
from tenfold.billing.reports import ageing
from tenfold.billing.tests.test_payments import make_client, make_invoice
from tenfold.conftest import DemoDatabase
from tenfold.demo.payments import seed_payments

pytestmark = pytest.mark.django_db


def test_seed_payments_leaves_paid_partly_paid_and_overdue_invoices() -> None:
    # given forty issued invoices, most past due
    client = make_client()
    today = timezone.localdate()
    for n in range(40):
        issued = today - timedelta(days=20 + 5 * n)
        make_invoice(client, f"{100 + n}.50", issue_date=issued, due_date=issued + timedelta(days=30))
    draft = make_invoice(client, "10.00", status="draft")
    # when the demo pays them
    count = seed_payments(random.Random(2026), make_staff("finance"))
    # then some are paid, some in part, some left overdue; drafts are untouched
    statuses = list(Invoice.objects.exclude(pk=draft.pk).values_list("status", flat=True))
    assert count == Payment.objects.count() > 0
    assert {status: statuses.count(status) > 0 for status in ("paid", "partially_paid", "issued")} == {
        "paid": True, "partially_paid": True, "issued": True}
    assert any(i.is_overdue(today) for i in Invoice.objects.filter(status="issued"))
    draft.refresh_from_db()
    assert (draft.status, draft.amount_paid) == ("draft", Decimal("0.00"))
    # and every invoice's amount paid is the exact sum of its payments, never more than its total
    for invoice in Invoice.objects.all():
        paid = invoice.payments.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")
        assert invoice.amount_paid == paid <= invoice.total
        assert (invoice.status == "paid") == (paid == invoice.total)
        assert all(p.received_on <= today for p in invoice.payments.all())
    # and the same seed gives the same books
    first = sorted(Payment.objects.values_list("invoice__number", "amount"))
    Payment.objects.all().delete()
    Invoice.objects.exclude(pk=draft.pk).update(status="issued", amount_paid=Decimal("0.00"))
    seed_payments(random.Random(2026), make_staff("finance"))
    assert sorted(Payment.objects.values_list("invoice__number", "amount")) == first


def test_the_demo_books_have_payments_and_an_ageing_report(demo: DemoDatabase) -> None:
    assert Payment.objects.count() > 0
    assert Invoice.objects.filter(status__in=["paid", "partially_paid"]).exists()
    for invoice in Invoice.objects.filter(kind="invoice"):
        paid = invoice.payments.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")
        assert invoice.amount_paid == paid <= max(invoice.total, Decimal("0.00"))
    finance = User.objects.get(email__startswith="finance@")
    report = ageing(finance)
    assert report.total == sum(report.totals.values(), Decimal("0.00"))
    assert report.total == sum((i.balance for i in Invoice.objects.filter(kind="invoice")), Decimal("0.00"))
