"""The billing run: exact amounts for recurring lines, proration, block overage and roll-over, time with the
contract's rounding rule, milestones, one-off charges, minimum commitment, indexation and tax; idempotency."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tenfold.accounts.testing import make_staff
from tenfold.billing import services
from tenfold.billing.engine import billing_run
from tenfold.billing.models import BilledTimeEntry, BillingRun, Invoice, InvoiceLine, OneOffCharge
from tenfold.billing.tests.factories import (
    at,
    cover,
    log_time,
    make_catalog,
    make_client,
    make_contract,
    make_tax,
    make_ticket,
)
from tenfold.contracts.models import Milestone, Project, RoundingRule
from tenfold.core.errors import PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry, OutboxEvent
from tenfold.core.roles import Role
from tenfold.servicedesk import services as desk

pytestmark = pytest.mark.django_db

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


@pytest.fixture
def finance():  # type: ignore[no-untyped-def]
    return make_staff(Role.FINANCE, mfa=False)


def lines_of(invoice: Invoice) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return [(line.kind, line.quantity, line.unit_price, line.amount)
            for line in InvoiceLine.objects.filter(invoice=invoice).order_by("position")]


def test_recurring_in_advance_and_prorations_for_the_past_month(finance):
    # given 3 workstations covered since February on the Good plan (10 €/workstation, 40 €/server), 20 % tax
    make_tax("20.000")
    catalog = make_catalog()
    client = make_client()
    contract = make_contract(client, catalog["good"])
    workstations = cover(contract, "workstation", 3, at(2026, 2, 15), prefix="PC")
    # and March billed in advance on March 1st
    march = billing_run(actor=finance, period_start=MARCH, run_date=MARCH)
    # when 2 servers are added on March 12th and a workstation removed on March 21st
    servers = cover(contract, "server", 2, at(2026, 3, 12, 10), prefix="SRV")
    row = contract.coverage.get(device=workstations[0])
    row.ended_at = at(2026, 3, 21, 10)
    row.save()
    april = billing_run(actor=finance, period_start=APRIL, run_date=APRIL)
    # then March's invoice billed 3 workstations and no proration (no run billed February)
    march_invoice = Invoice.objects.get(billing_run=march)
    assert lines_of(march_invoice) == [("recurring", Decimal("3.00"), Decimal("10.00"), Decimal("30.00"))]
    # and April's bills the counts of April 1st in advance, plus March's changes by days:
    # servers 2 × 40 × 20/31 = 51.61, the workstation credited 1 × 10 × 11/31 = −3.55
    invoice = Invoice.objects.get(billing_run=april)
    assert lines_of(invoice) == [
        ("recurring", Decimal("2.00"), Decimal("40.00"), Decimal("80.00")),
        ("recurring", Decimal("2.00"), Decimal("10.00"), Decimal("20.00")),
        ("proration", Decimal("2.00"), Decimal("40.00"), Decimal("51.61")),
        ("proration", Decimal("1.00"), Decimal("-10.00"), Decimal("-3.55")),
    ]
    proration = InvoiceLine.objects.get(invoice=invoice, kind="proration", amount=Decimal("51.61"))
    assert (proration.days, proration.period_days, proration.period_start, proration.period_end) == (
        20, 31, date(2026, 3, 12), date(2026, 3, 31))
    assert [u["name"] for u in proration.detail["units"]] == [s.name for s in servers]
    counted = InvoiceLine.objects.get(invoice=invoice, kind="recurring", unit_price=Decimal("40.00"))
    assert [u["id"] for u in counted.detail["units"]] == [s.pk for s in servers]
    # and the totals: 148.06 + 20 % (29.61) = 177.67
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("148.06"), Decimal("29.61"), Decimal("177.67"))
    assert (april.invoice_count, april.total, april.status) == (1, Decimal("177.67"), "done")


def test_block_of_hours_with_roll_over_bills_the_block_and_the_overage(finance):
    # given a 10-hour monthly block at 500 € rolling over, overage 95 €/h; 4 h used in January, 7 h in
    # February, 20.25 h in March (9 h carried into March, so 1.25 h over)
    make_tax("20.000")
    client = make_client()
    contract = make_contract(client, type="block_hours", hours_purchased=Decimal("10"), unused_hours="roll_over",
                             overage_rate=Decimal("95.00"), fixed_price_amount=Decimal("500.00"))
    ticket = make_ticket(client, contract)
    tech = make_staff(Role.TECHNICIAN, mfa=False)
    log_time(tech, ticket, 240, at(2026, 1, 15))
    log_time(tech, ticket, 420, at(2026, 2, 15))
    log_time(tech, ticket, 1215, at(2026, 3, 15))
    # when April is billed
    billing_run(actor=finance, period_start=APRIL, run_date=APRIL)
    # then the block is billed in advance and March's overrun in arrears: 1.25 h × 95 = 118.75
    invoice = Invoice.objects.get(client=client)
    assert lines_of(invoice) == [("block", Decimal("1.00"), Decimal("500.00"), Decimal("500.00")),
                                 ("overage", Decimal("1.25"), Decimal("95.00"), Decimal("118.75"))]
    overage = InvoiceLine.objects.get(invoice=invoice, kind="overage")
    assert overage.detail["carried_in"] == "9.00" and overage.detail["used"] == "20.25"
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("618.75"), Decimal("123.75"), Decimal("742.50"))


def test_block_overage_with_expiring_hours(finance):
    # 10 h expiring, 4 h used in February, 12.5 h in March: 2.5 h × 95 = 237.50 (February's unused hours lost)
    client = make_client()
    contract = make_contract(client, type="block_hours", hours_purchased=Decimal("10"), unused_hours="expire",
                             overage_rate=Decimal("95.00"))
    ticket = make_ticket(client, contract)
    tech = make_staff(Role.TECHNICIAN, mfa=False)
    log_time(tech, ticket, 240, at(2026, 2, 10))
    log_time(tech, ticket, 750, at(2026, 3, 10))
    billing_run(actor=finance, period_start=APRIL, run_date=APRIL)
    invoice = Invoice.objects.get(client=client)
    assert lines_of(invoice) == [("overage", Decimal("2.50"), Decimal("95.00"), Decimal("237.50"))]
    assert invoice.tax_total == Decimal("0.00")  # no tax rate set up: 0 %


def test_out_of_scope_time_is_billed_with_the_contracts_rounding_rule(finance):
    # given a time-and-materials contract at 80 €/h rounding up to 15 minutes with a 30-minute minimum
    rule = RoundingRule.objects.create(name="Quarter, 30 min minimum", increment_minutes=15, mode="up",
                                       minimum_minutes=30)
    client = make_client()
    contract = make_contract(client, type="time_materials", rounding_rule=rule, out_of_scope_rate=Decimal("80.00"))
    ticket = make_ticket(client, contract, title="New printer")
    tech = make_staff(Role.TECHNICIAN, mfa=False)
    manager = make_staff(Role.SERVICE_MANAGER, mfa=False)
    # when a technician logs 7 and 50 minutes in March (billed 30 and 60), both approved, and 20 minutes that
    # are still pending
    short = desk.time_entry_create(actor=tech, ticket=ticket, data={"actual_minutes": 7,
                                                                     "started_at": at(2026, 3, 3)})
    long = desk.time_entry_create(actor=tech, ticket=ticket, data={"actual_minutes": 50,
                                                                    "started_at": at(2026, 3, 4)})
    pending = desk.time_entry_create(actor=tech, ticket=ticket, data={"actual_minutes": 20,
                                                                       "started_at": at(2026, 3, 5)})
    desk.time_entry_approve(actor=manager, entry=short)
    desk.time_entry_approve(actor=manager, entry=long)
    billing_run(actor=finance, period_start=APRIL, run_date=APRIL)
    # then 90 billable minutes = 1.50 h × 80 = 120.00 on one line for the ticket; the pending entry waits
    invoice = Invoice.objects.get(client=client)
    assert lines_of(invoice) == [("time", Decimal("1.50"), Decimal("80.00"), Decimal("120.00"))]
    line = InvoiceLine.objects.get(invoice=invoice)
    assert [e["billable_minutes"] for e in line.detail["entries"]] == [30, 60]
    assert set(BilledTimeEntry.objects.values_list("time_entry_id", flat=True)) == {short.pk, long.pk}
    assert not BilledTimeEntry.objects.filter(time_entry=pending).exists()
    assert ticket.number in line.description


def test_time_of_the_current_month_waits_for_the_next_run(finance):
    client = make_client()
    contract = make_contract(client, type="time_materials", out_of_scope_rate=Decimal("60.00"))
    ticket = make_ticket(client, contract)
    tech = make_staff(Role.TECHNICIAN, mfa=False)
    log_time(tech, ticket, 60, at(2026, 4, 2), coverage="out_of_scope", rate="60.00")
    billing_run(actor=finance, period_start=APRIL, run_date=date(2026, 4, 3))
    assert not Invoice.objects.exists()
    billing_run(actor=finance, period_start=date(2026, 5, 1), run_date=date(2026, 5, 1))
    assert lines_of(Invoice.objects.get()) == [("time", Decimal("1.00"), Decimal("60.00"), Decimal("60.00"))]


def test_minimum_commitment_tops_up_the_recurring_total(finance):
    catalog = make_catalog()
    client = make_client()
    contract = make_contract(client, catalog["good"], minimum_monthly_commitment=Decimal("100.00"))
    cover(contract, "workstation", 3, at(2026, 2, 1))
    billing_run(actor=finance, period_start=APRIL, run_date=APRIL)
    invoice = Invoice.objects.get(client=client)
    assert lines_of(invoice) == [("recurring", Decimal("3.00"), Decimal("10.00"), Decimal("30.00")),
                                 ("minimum", Decimal("1.00"), Decimal("70.00"), Decimal("70.00"))]
    assert invoice.subtotal == Decimal("100.00")


def test_indexation_multiplies_catalog_prices(finance):
    # 3.5 % a year: 10 € → 10.35; an index 100 → 104.2: 40 € → 41.68
    catalog = make_catalog()
    first, second = make_client("Alpha"), make_client("Beta")
    percent = make_contract(first, catalog["good"], indexation="percent", indexation_percent=Decimal("3.5"))
    index = make_contract(second, catalog["good"], indexation="index", index_base_value=Decimal("100"),
                          index_current_value=Decimal("104.2"))
    cover(percent, "workstation", 3, at(2026, 2, 1))
    cover(index, "server", 1, at(2026, 2, 1))
    billing_run(actor=finance, period_start=APRIL, run_date=APRIL)
    assert lines_of(Invoice.objects.get(client=first)) == [
        ("recurring", Decimal("3.00"), Decimal("10.35"), Decimal("31.05"))]
    line = InvoiceLine.objects.get(client=second)
    assert (line.unit_price, line.amount, line.detail["list_unit_price"]) == (
        Decimal("41.68"), Decimal("41.68"), "40.00")


def test_tax_is_summed_per_rate_and_rounded_once_per_rate(finance):
    # given a run's line at the default 20 % and two manual lines at 5.5 %
    make_tax("20.000")
    catalog = make_catalog()
    client = make_client()
    contract = make_contract(client, catalog["good"])
    cover(contract, "workstation", 3, at(2026, 2, 1))
    billing_run(actor=finance, period_start=APRIL, run_date=APRIL)
    invoice = Invoice.objects.get(client=client)
    for _n in range(2):
        services.line_add(actor=finance, invoice=invoice, data={"description": "Training", "quantity": "1",
                                                                "unit_price": "33.33", "tax_rate": "5.5"})
    invoice.refresh_from_db()
    # then tax = 30 × 20 % + round(66.66 × 5.5 %) = 6.00 + 3.67 (3.6663) — not 2 × 1.83
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("96.66"), Decimal("9.67"), Decimal("106.33"))


def test_milestones_and_one_off_charges_are_billed_once_and_return_when_the_draft_is_deleted(finance):
    client = make_client()
    project = Project.objects.create(client=client, name="Onboarding", fixed_price=Decimal("1500.00"))
    reached = Milestone.objects.create(client=client, project=project, name="Audit done", amount=Decimal("600.00"),
                                       status="reached", reached_at=at(2026, 3, 20))
    planned = Milestone.objects.create(client=client, project=project, name="Migration", amount=Decimal("900.00"))
    charge = OneOffCharge.objects.create(client=client, description="Onboarding fee", quantity=Decimal("2"),
                                         unit_price=Decimal("125.50"), service_date=date(2026, 3, 28))
    later = OneOffCharge.objects.create(client=client, description="Router", quantity=Decimal("1"),
                                        unit_price=Decimal("300.00"), service_date=date(2026, 4, 20))
    # when April is billed
    run = billing_run(actor=finance, period_start=APRIL, run_date=APRIL)
    invoice = Invoice.objects.get(client=client)
    # then the reached milestone and the charge dated before the run are on the invoice
    assert lines_of(invoice) == [("milestone", Decimal("1.00"), Decimal("600.00"), Decimal("600.00")),
                                 ("one_off", Decimal("2.00"), Decimal("125.50"), Decimal("251.00"))]
    reached.refresh_from_db()
    planned.refresh_from_db()
    charge.refresh_from_db()
    later.refresh_from_db()
    assert (reached.status, planned.status) == ("invoiced", "planned")
    assert charge.line is not None and later.line is None
    # when the draft is deleted, the milestone and the charge wait for the next run, which bills them again
    services.invoice_delete(actor=finance, invoice=invoice)
    reached.refresh_from_db()
    charge.refresh_from_db()
    assert (reached.status, charge.line_id) == ("reached", None)
    billing_run(actor=finance, period_start=APRIL, run_date=APRIL)
    again = Invoice.objects.get(client=client)
    assert [line[0] for line in lines_of(again)] == ["milestone", "one_off"]
    assert again.billing_run_id == run.pk


def test_a_second_run_creates_nothing_twice(finance):
    # given a client with every kind of item, billed once
    make_tax("20.000")
    catalog = make_catalog()
    client = make_client()
    contract = make_contract(client, catalog["good"], minimum_monthly_commitment=Decimal("200.00"))
    cover(contract, "workstation", 2, at(2026, 2, 1))
    billing_run(actor=finance, period_start=MARCH, run_date=MARCH)
    cover(contract, "server", 1, at(2026, 3, 10))
    tm = make_contract(client, type="time_materials", number="TM-1")
    tech = make_staff(Role.TECHNICIAN, mfa=False)
    log_time(tech, make_ticket(client, tm), 45, at(2026, 3, 11), coverage="out_of_scope", rate="80.00")
    OneOffCharge.objects.create(client=client, description="Cabling", unit_price=Decimal("99.00"),
                                service_date=date(2026, 3, 30))
    billing_run(actor=finance, period_start=APRIL, run_date=APRIL)
    before = (list(Invoice.objects.order_by("pk").values_list("pk", "total")),
              list(InvoiceLine.objects.order_by("pk").values_list("pk", "key", "amount")),
              BilledTimeEntry.objects.count(), BillingRun.objects.count())
    # when April is run again (and March too)
    billing_run(actor=finance, period_start=APRIL, run_date=date(2026, 4, 5))
    billing_run(actor=finance, period_start=MARCH, run_date=MARCH)
    # then nothing was added
    after = (list(Invoice.objects.order_by("pk").values_list("pk", "total")),
             list(InvoiceLine.objects.order_by("pk").values_list("pk", "key", "amount")),
             BilledTimeEntry.objects.count(), BillingRun.objects.count())
    assert after == before
    assert BillingRun.objects.get(period_start=APRIL).run_date == APRIL  # the first run's date is kept


def test_a_run_needs_the_first_of_a_month_and_the_right_role(finance):
    technician = make_staff(Role.TECHNICIAN, mfa=False)
    with pytest.raises(ValidationError, match="first day of a month"):
        billing_run(actor=finance, period_start=date(2026, 4, 2))
    with pytest.raises(PermissionDenied):
        billing_run(actor=technician, period_start=APRIL)
    assert not BillingRun.objects.exists()


def test_the_run_is_audited_and_evented(finance):
    client = make_client()
    OneOffCharge.objects.create(client=client, description="Cabling", unit_price=Decimal("99.00"),
                                service_date=date(2026, 3, 30))
    run = billing_run(actor=finance, period_start=APRIL, run_date=APRIL)
    assert AuditEntry.objects.filter(action="billing_run.completed", object_id=str(run.pk)).exists()
    event = OutboxEvent.objects.get(name="billing_run.completed")
    assert event.payload["invoices_created"] == [Invoice.objects.get().pk]


def test_quote_accepted_creates_one_off_charges_once():
    client = make_client()
    payload = {"quote_id": 42, "deal_id": 7, "contract_id": None, "client_id": client.pk, "tier": "better",
               "one_off_items": [{"index": 0, "description": "Onboarding", "quantity": "1", "unit_price": "450.00"},
                                 {"index": 1, "description": "Firewall", "quantity": "2", "unit_price": "320.50"}]}
    event = OutboxEvent.objects.create(name="quote.accepted", client_id=client.pk, payload=payload)
    services.on_quote_accepted(event)
    services.on_quote_accepted(event)
    assert sorted(OneOffCharge.objects.values_list("source", "quantity", "unit_price")) == [
        ("quote:42:0", Decimal("1.00"), Decimal("450.00")), ("quote:42:1", Decimal("2.00"), Decimal("320.50"))]


def test_quote_accepted_with_a_negative_price_writes_nothing():
    client = make_client()
    event = OutboxEvent.objects.create(name="quote.accepted", client_id=client.pk, payload={
        "quote_id": 43, "client_id": client.pk, "one_off_items": [
            {"index": 0, "description": "Fee", "quantity": "1", "unit_price": "100"},
            {"index": 1, "description": "Discount", "quantity": "1", "unit_price": "-50"}]})
    with pytest.raises(ValidationError, match="not negative"):
        services.on_quote_accepted(event)
    assert not OneOffCharge.objects.exists()


def test_counts_exclude_units_added_on_the_run_date_after_midnight(finance):
    # a device covered on April 1st at 09:00 is not in April's in-advance count (it is prorated next month)
    catalog = make_catalog()
    client = make_client()
    contract = make_contract(client, catalog["good"])
    cover(contract, "workstation", 1, datetime(2026, 3, 31, 23, 0, tzinfo=UTC))
    cover(contract, "workstation", 1, datetime(2026, 4, 1, 9, 0, tzinfo=UTC))
    billing_run(actor=finance, period_start=APRIL, run_date=APRIL)
    assert lines_of(Invoice.objects.get()) == [("recurring", Decimal("1.00"), Decimal("10.00"), Decimal("10.00"))]
