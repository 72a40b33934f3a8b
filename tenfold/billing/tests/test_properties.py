"""Generated inputs (the HYPOTHESIS_PROFILE profile): an invoice's totals always equal the sums of its lines
(tax per rate, rounded once per rate), and running billing twice for a month creates nothing twice."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenfold.accounts.testing import make_staff
from tenfold.billing import services
from tenfold.billing.engine import billing_run
from tenfold.billing.models import BilledTimeEntry, BillingRun, Invoice, InvoiceLine, OneOffCharge
from tenfold.billing.tests.factories import cover, log_time, make_catalog, make_client, make_contract, make_ticket
from tenfold.core.models import TaxRate
from tenfold.core.roles import Role

pytestmark = pytest.mark.django_db
_names = itertools.count(1)

money = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2)
quantity = st.decimals(min_value=Decimal("0"), max_value=Decimal("999.99"), places=2)
rate = st.sampled_from([Decimal("0"), Decimal("2.1"), Decimal("5.5"), Decimal("10"), Decimal("20")])


def expected_totals(lines: list[tuple[Decimal, Decimal, Decimal]]) -> tuple[Decimal, Decimal, Decimal]:
    """(subtotal, tax, total) computed independently from (quantity, price, rate) triples."""
    amounts = [((q * p).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), r) for q, p, r in lines]
    subtotal = sum((a for a, _r in amounts), Decimal("0"))
    tax = Decimal("0")
    for r in {r for _a, r in amounts}:
        base = sum((a for a, rr in amounts if rr == r), Decimal("0"))
        tax += (base * r / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return subtotal, tax, subtotal + tax


@given(lines=st.lists(st.tuples(quantity, money, rate), min_size=1, max_size=8), drop=st.integers(0, 7))
def test_invoice_totals_equal_the_sums_of_their_lines(lines, drop):  # type: ignore[no-untyped-def]
    # given a draft with generated manual lines, one of them removed again
    actor = make_staff(Role.FINANCE, mfa=False)
    invoice = services.invoice_create(actor=actor, client=make_client(f"Property {next(_names)}"))
    created = [services.line_add(actor=actor, invoice=invoice, data={
        "description": "Line", "quantity": str(q), "unit_price": str(p), "tax_rate": str(r)}) for q, p, r in lines]
    if len(created) > 1:
        services.line_delete(actor=actor, line=created[drop % len(created)])
        del lines[drop % len(lines)]
    invoice.refresh_from_db()
    # then the stored totals are those of the lines
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == expected_totals(lines)
    stored = list(InvoiceLine.objects.filter(invoice=invoice))
    assert invoice.subtotal == sum((line.amount for line in stored), Decimal("0"))


changes = st.lists(st.tuples(st.sampled_from(["workstation", "server", "laptop"]), st.integers(1, 31),
                             st.one_of(st.none(), st.integers(1, 31))), max_size=6)


@given(before=st.integers(0, 4), changed=changes, minutes=st.lists(st.integers(1, 600), max_size=3),
       charges=st.lists(money, max_size=2))
def test_billing_twice_creates_nothing_twice(before, changed, minutes, charges):  # type: ignore[no-untyped-def]
    # given a client with devices before March, devices added and removed during March, out-of-scope time and
    # one-off charges, and March already billed
    TaxRate.objects.get_or_create(name="VAT 20 %", defaults={"rate": Decimal("20"), "is_default": True})
    finance = make_staff(Role.FINANCE, mfa=False)
    catalog = make_catalog() if not BillingRun.objects.exists() else None
    from tenfold.catalog.models import Plan

    plan = catalog["better"] if catalog else Plan.objects.get(tier="better")
    client = make_client(f"Property {next(_names)}")
    contract = make_contract(client, plan, minimum_monthly_commitment=Decimal("45.00"))
    cover(contract, "workstation", before, datetime(2026, 2, 10, tzinfo=UTC))
    if not BillingRun.objects.filter(period_start=date(2026, 3, 1)).exists():
        billing_run(actor=finance, period_start=date(2026, 3, 1), run_date=date(2026, 3, 1))
    for kind, added, removed in changed:
        start = datetime(2026, 3, added, 9, tzinfo=UTC)
        end = datetime(2026, 3, max(added, removed), 17, tzinfo=UTC) if removed else None
        cover(contract, kind, 1, start, end)
    tm = make_contract(client, type="time_materials", number=f"TM-{next(_names)}")
    ticket = make_ticket(client, tm)
    for n, worked in enumerate(minutes):
        log_time(finance, ticket, worked, datetime(2026, 3, 1 + n, tzinfo=UTC), coverage="out_of_scope")
    for price in charges:
        OneOffCharge.objects.create(client=client, description="Charge", unit_price=price,
                                    service_date=date(2026, 3, 20))
    # when April is billed, then billed again
    billing_run(actor=finance, period_start=date(2026, 4, 1), run_date=date(2026, 4, 1))
    snapshot = (list(Invoice.objects.order_by("pk").values_list("pk", "subtotal", "tax_total", "total")),
                list(InvoiceLine.objects.order_by("pk").values_list("pk", "amount", "key")),
                list(BilledTimeEntry.objects.order_by("pk").values_list("pk", "time_entry_id")),
                list(OneOffCharge.objects.order_by("pk").values_list("pk", "line_id")))
    billing_run(actor=finance, period_start=date(2026, 4, 1), run_date=date(2026, 4, 2))
    # then nothing changed, and each invoice's totals are the sums of its lines
    assert snapshot == (list(Invoice.objects.order_by("pk").values_list("pk", "subtotal", "tax_total", "total")),
                        list(InvoiceLine.objects.order_by("pk").values_list("pk", "amount", "key")),
                        list(BilledTimeEntry.objects.order_by("pk").values_list("pk", "time_entry_id")),
                        list(OneOffCharge.objects.order_by("pk").values_list("pk", "line_id")))
    for invoice in Invoice.objects.filter(client=client):
        amounts = list(invoice.lines.values_list("amount", "tax_rate"))
        subtotal = sum((a for a, _r in amounts), Decimal("0"))
        tax = sum(((sum((a for a, rr in amounts if rr == r), Decimal("0")) * r / 100)
                   .quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for r in {r for _a, r in amounts}), Decimal("0"))
        assert (invoice.subtotal, invoice.tax_total, invoice.total) == (subtotal, tax, subtotal + tax)
    # and every time entry and one-off charge of the client is billed exactly once
    assert BilledTimeEntry.objects.filter(client=client).count() == len(minutes)
    assert OneOffCharge.objects.filter(client=client, line__isnull=True).count() == 0
