"""A hand-built MSP for the KPI tests: three months of invoices, deals, contracts, devices, tickets, time and
surveys, small enough that every expected figure is worked out by hand in tests/test_kpis.py.

The period under test is March 2026; February 2026 is the previous period (TIME_ZONE is UTC)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from tenfold.accounts.testing import make_staff
from tenfold.assets.models import Device, DeviceStateChange, DiscoveredDevice
from tenfold.billing.models import Invoice, InvoiceLine
from tenfold.catalog.models import Service
from tenfold.clients.models import Client
from tenfold.contracts.models import Contract, ContractCoverage
from tenfold.sales.models import Deal
from tenfold.servicedesk.models import Ticket, TimeEntry
from tenfold.servicedesk.models_surveys import SurveyResponse


def at(month: int, day: int, hour: int = 12, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Msp:
    users: dict[str, Any] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    contracts: dict[str, Contract] = field(default_factory=dict)
    tickets: dict[str, Ticket] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)


_numbers = {"n": 0}


def invoice(msp: Msp, key: str, client: str, issued: date, status: str = "issued",
            lines: list[dict[str, Any]] | None = None) -> Invoice:
    """An invoice with its lines; its subtotal is the sum of the lines (as `recompute_totals` would set it)."""
    _numbers["n"] += 1
    lines = lines or []
    subtotal = sum((Decimal(line["amount"]) for line in lines), Decimal("0.00"))
    inv = Invoice.objects.create(client=msp.clients[client], status=status, issue_date=issued,
                                 number="" if status == "draft" else f"F2026-{_numbers['n']:06d}",
                                 subtotal=subtotal, total=subtotal)
    for position, line in enumerate(lines):
        InvoiceLine.objects.create(client=inv.client, invoice=inv, position=position, description=line.get(
            "description", "line"), kind=line.get("kind", "recurring"), service=line.get("service"),
            contract=line.get("contract"), quantity=Decimal(line.get("quantity", "1")),
            unit_price=Decimal(line.get("unit_price", line["amount"])), amount=Decimal(line["amount"]),
            period_start=line.get("period_start", issued.replace(day=1)))
    msp.invoices[key] = inv
    return inv


def build_msp() -> Msp:
    """The whole dataset; see the test module for every figure it must give."""
    msp = Msp()
    u = msp.users
    u["owner"] = make_staff("owner")
    u["finance"] = make_staff("finance")
    u["service"] = make_staff("service_manager")
    u["sales1"] = make_staff("account_manager", first_name="Anne", last_name="Alpha")
    u["sales2"] = make_staff("account_manager", first_name="Bruno", last_name="Beta")
    u["tech1"] = make_staff("technician", first_name="Tom", last_name="One")
    u["tech2"] = make_staff("technician", first_name="Tina", last_name="Two")
    u["tech3"] = make_staff("technician", first_name="Theo", last_name="Three")

    c = msp.clients
    c["A"] = Client.objects.create(name="Alpha Bakery", status="active", account_manager=u["sales1"])
    c["B"] = Client.objects.create(name="Beta Garage", status="active", account_manager=u["sales1"])
    c["C"] = Client.objects.create(name="Gamma Clinic", status="active", account_manager=u["sales2"])
    c["D"] = Client.objects.create(name="Delta Notary", status="active", account_manager=u["sales2"])

    s = msp.services
    s["ws"] = Service.objects.create(name="Managed workstation", code="ws", unit="workstation",
                                     list_price=Decimal("30.00"))
    s["backup"] = Service.objects.create(name="Cloud backup", code="backup", unit="workstation", category="backup",
                                         list_price=Decimal("10.00"), includes_backup=True, is_addon=True)
    s["server"] = Service.objects.create(name="Managed server", code="server", unit="server",
                                         list_price=Decimal("400.00"))

    k = msp.contracts
    k["A1"] = Contract.objects.create(client=c["A"], number="A-1", type="managed", status="active",
                                      start_date=date(2025, 12, 1))
    k["B1"] = Contract.objects.create(client=c["B"], number="B-1", type="managed", status="active",
                                      start_date=date(2025, 11, 1))
    k["C1"] = Contract.objects.create(client=c["C"], number="C-1", type="managed", status="active",
                                      start_date=date(2026, 3, 1))
    k["C2"] = Contract.objects.create(client=c["C"], number="C-2", type="fixed_price", status="active",
                                      start_date=date(2026, 3, 10), fixed_price_amount=Decimal("2500.00"))
    k["C3"] = Contract.objects.create(client=c["C"], number="C-3", type="managed", status="draft",
                                      start_date=date(2026, 3, 15))
    k["D1"] = Contract.objects.create(client=c["D"], number="D-1", type="managed", status="ended",
                                      start_date=date(2026, 2, 1), end_date=date(2026, 2, 28))

    # Deals
    def deal(client: str, owner: str, stage: str, monthly: str, one_off: str, closed: datetime | None) -> Deal:
        return Deal.objects.create(client=c[client], title=f"{client} {stage}", owner=u[owner], stage=stage,
                                   monthly_value=Decimal(monthly), one_off_value=Decimal(one_off),
                                   close_date=(closed or at(4, 1)).date(), closed_at=closed)

    deal("A", "sales1", "won", "100.00", "500.00", at(3, 10))
    deal("B", "sales1", "won", "50.00", "0.00", at(3, 20))
    deal("C", "sales2", "won", "200.00", "1000.00", at(3, 5))
    deal("C", "sales2", "lost", "80.00", "0.00", at(3, 15))
    deal("A", "sales1", "won", "10.00", "0.00", at(2, 10))
    deal("B", "sales2", "qualification", "70.00", "0.00", None)

    # Invoices: January, February, March
    ws, backup, server = s["ws"], s["backup"], s["server"]
    invoice(msp, "A-jan", "A", date(2026, 1, 1), lines=[
        {"service": ws, "contract": k["A1"], "quantity": "10", "unit_price": "30.00", "amount": "300.00"}])
    invoice(msp, "B-jan", "B", date(2026, 1, 1), "paid", lines=[
        {"service": ws, "contract": k["B1"], "quantity": "5", "unit_price": "40.00", "amount": "200.00"}])
    invoice(msp, "A-feb", "A", date(2026, 2, 1), lines=[
        {"service": ws, "contract": k["A1"], "quantity": "10", "unit_price": "30.00", "amount": "300.00"}])
    invoice(msp, "B-feb", "B", date(2026, 2, 1), "partially_paid", lines=[
        {"service": ws, "contract": k["B1"], "quantity": "5", "unit_price": "40.00", "amount": "200.00"}])
    invoice(msp, "D-feb", "D", date(2026, 2, 1), "paid", lines=[
        {"kind": "minimum", "contract": k["D1"], "amount": "100.00"}])
    invoice(msp, "A-mar", "A", date(2026, 3, 1), lines=[
        {"service": ws, "contract": k["A1"], "quantity": "10", "unit_price": "30.00", "amount": "300.00"},
        {"service": backup, "contract": k["A1"], "quantity": "5", "unit_price": "10.00", "amount": "50.00"},
        {"kind": "proration", "service": ws, "contract": k["A1"], "quantity": "1", "unit_price": "30.00",
         "amount": "20.00", "period_start": date(2026, 2, 10)}])
    invoice(msp, "B-mar", "B", date(2026, 3, 1), lines=[
        {"service": ws, "contract": k["B1"], "quantity": "3", "unit_price": "50.00", "amount": "150.00"}])
    invoice(msp, "B-mar-void", "B", date(2026, 3, 2), "void", lines=[
        {"service": ws, "contract": k["B1"], "quantity": "10", "unit_price": "100.00", "amount": "1000.00"}])
    invoice(msp, "C-mar", "C", date(2026, 3, 1), lines=[
        {"service": server, "contract": k["C1"], "quantity": "1", "unit_price": "400.00", "amount": "400.00"}])
    invoice(msp, "C-mar-draft", "C", date(2026, 3, 3), "draft", lines=[
        {"service": ws, "contract": k["C1"], "quantity": "1", "unit_price": "999.00", "amount": "999.00"}])

    # Devices and coverage
    def device(client: str, name: str, kind: str, created: datetime, state: str = "active") -> Device:
        dev = Device.objects.create(client=c[client], name=name, kind=kind, state=state)
        Device.objects.filter(pk=dev.pk).update(created_at=created)
        return dev

    def covered(contract: str, dev: Device, since: datetime, until: datetime | None = None) -> None:
        ContractCoverage.objects.create(client=dev.client, contract=k[contract], kind="device", device=dev,
                                        started_at=since, ended_at=until)

    for n in range(1, 9):
        covered("A1", device("A", f"A-WS{n}", "workstation", at(1, 2)), at(1, 5))
    covered("A1", device("A", "A-LT1", "laptop", at(1, 2)), at(1, 5))
    covered("A1", device("A", "A-LT2", "laptop", at(1, 2)), at(1, 5), at(3, 15))
    covered("A1", device("A", "A-SRV1", "server", at(1, 2)), at(1, 5))
    covered("A1", device("A", "A-WS9", "workstation", at(3, 18)), at(3, 20))
    DiscoveredDevice.objects.create(client=c["A"], ip="10.0.0.50", first_seen_at=at(2, 1), last_seen_at=at(3, 30))
    DiscoveredDevice.objects.create(client=c["A"], ip="10.0.0.51", first_seen_at=at(2, 1), last_seen_at=at(3, 30),
                                    ignored=True)
    for n in range(1, 4):
        device("B", f"B-WS{n}", "workstation", at(1, 3))
    old = device("B", "B-WS-OLD", "workstation", at(1, 3), state="retired")
    DeviceStateChange.objects.create(client=c["B"], device=old, at=at(3, 10), from_state="active",
                                     to_state="retired")
    covered("C1", device("C", "C-SRV", "server", at(1, 10)), at(3, 1, 0))

    # Tickets
    t = msp.tickets

    def ticket(key: str, client: str, created: datetime, assignee: str | None = None, **fields: Any) -> Ticket:
        row = Ticket.objects.create(client=c[client], title=key, number=key, assignee=u[assignee] if assignee else None,
                                    **fields)
        Ticket.objects.filter(pk=row.pk).update(created_at=created)
        row.refresh_from_db()
        t[key] = row
        return row

    ticket("t1", "A", at(3, 2, 10), "tech1", resolved_at=at(3, 2, 14), sla_resolution_met=True,
           first_responded_at=at(3, 2, 10, 30), sla_first_response_met=True, status="resolved")
    ticket("t2", "A", at(3, 5, 9), "tech1", resolved_at=at(3, 6, 9), sla_resolution_met=False,
           first_responded_at=at(3, 5, 11), sla_first_response_met=False, status="resolved")
    ticket("t3", "A", at(3, 10, 8), "tech1")
    ticket("t4", "B", at(3, 12, 10), "tech2", resolved_at=at(3, 12, 12), sla_resolution_met=True, status="closed")
    ticket("t5", "B", at(3, 20, 10), "tech2", merged_into=t["t4"], status="closed")
    ticket("t6", "C", at(2, 25, 10), "tech2", resolved_at=at(3, 1, 10), sla_resolution_met=True, status="closed")
    ticket("t7", "A", at(3, 25, 10))

    # Time
    def entry(client: str, ticket_key: str, user: str, started: datetime, minutes: int, rate: str,
              coverage: str = "out_of_scope", approval: str = "not_required", billable: bool = True) -> None:
        TimeEntry.objects.create(client=c[client], ticket=t[ticket_key], user=u[user], started_at=started,
                                 actual_minutes=minutes, billable_minutes=minutes, rate=Decimal(rate),
                                 coverage=coverage, approval_status=approval, billable=billable)

    entry("A", "t1", "tech1", at(3, 2, 11), 90, "80.00")
    entry("A", "t2", "tech1", at(3, 5, 10), 45, "75.00", approval="approved")
    entry("B", "t4", "tech2", at(3, 12, 10), 50, "70.00")
    entry("A", "t3", "tech2", at(3, 10, 9), 60, "90.00", coverage="covered")
    entry("A", "t1", "tech1", at(3, 3, 9), 30, "80.00", approval="pending")
    entry("B", "t4", "tech2", at(3, 12, 11), 20, "70.00", billable=False)
    entry("C", "t6", "tech2", at(2, 26, 9), 60, "90.00")

    # Surveys
    def survey(ticket_key: str, tech: str, sent: datetime, answered: datetime | None = None,
               scores: tuple[int, int, int] | None = None) -> None:
        p, a, s_ = scores or (None, None, None)
        SurveyResponse.objects.create(client=t[ticket_key].client, ticket=t[ticket_key], technician=u[tech],
                                      sent_at=sent, expires_at=at(6, 1), answered_at=answered, professionalism=p,
                                      accuracy=a, speed=s_)

    survey("t1", "tech1", at(3, 2, 15), at(3, 3), (5, 4, 5))
    survey("t2", "tech1", at(3, 6), at(3, 7), (3, 3, 2))
    survey("t4", "tech2", at(3, 12, 13))
    survey("t6", "tech2", at(3, 1, 11), at(3, 2), (4, 4, 4))
    return msp
