"""Reconciliation: devices seen by the RMM vs units billed on the latest invoice of each managed contract in
force, the difference in units and money, the devices not billed and those billed but no longer seen."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tenfold.accounts.testing import make_staff
from tenfold.assets.models import Device
from tenfold.billing import reports
from tenfold.billing.tests.test_payments import logged_in, make_client, make_invoice
from tenfold.catalog.tests.factories import make_service
from tenfold.clients.models import Site
from tenfold.contracts.models import Contract

pytestmark = pytest.mark.django_db


def device(client: Any, name: str, kind: str = "workstation", state: str = "active", site: Any = None) -> Device:
    return Device.objects.create(client=client, name=name, kind=kind, state=state, site=site)


def contract(client: Any, number: str, **fields: Any) -> Contract:
    values = {"type": "managed", "status": "active", "start_date": date(2026, 1, 1), **fields}
    return Contract.objects.create(client=client, number=number, **values)


def units(*devices: Device) -> dict[str, Any]:
    return {"unit": "workstation", "units": [{"id": d.pk, "name": d.name, "kind": "device"} for d in devices]}


@pytest.fixture
def world() -> dict[str, Any]:
    ws = make_service("ws-mon", name="Workstation monitoring", price="25.00", cost="2.00")
    srv = make_service("srv-mon", name="Server monitoring", price="40.00", unit="server")
    users = make_service("mail", name="Mail filtering", price="2.00", unit="user")
    martin = make_client("Boulangerie Martin")
    pcs = [device(martin, f"PC-{n}") for n in (1, 2, 3)]
    laptop = device(martin, "LAPTOP-1", "laptop")
    old = device(martin, "PC-OLD", state="retired")
    server = device(martin, "SRV-1", "server")
    device(martin, "PRINTER", "other")
    managed = contract(martin, "C-1")
    # an older invoice, a newer void one: neither is the one compared
    make_invoice(martin, "30.00", number="F-OLD", contract=managed, period_start=date(2026, 2, 1), lines=[
        {"kind": "recurring", "description": "old", "service": ws, "quantity": Decimal("1"),
         "unit_price": Decimal("25.00"), "amount": Decimal("25.00")}])
    make_invoice(martin, "300.00", number="F-VOID", status="void", contract=managed, period_start=date(2026, 4, 1),
                 lines=[{"kind": "recurring", "description": "void", "service": ws, "quantity": Decimal("10"),
                         "unit_price": Decimal("25.00"), "amount": Decimal("250.00")}])
    latest = make_invoice(martin, "138.00", number="F-3", contract=managed, period_start=date(2026, 3, 1), lines=[
        {"kind": "recurring", "description": "Workstation monitoring — March", "service": ws,
         "quantity": Decimal("3.00"), "unit_price": Decimal("25.00"), "amount": Decimal("75.00"),
         "detail": units(pcs[0], pcs[1], old)},
        {"kind": "recurring", "description": "Server monitoring — March", "service": srv,
         "quantity": Decimal("1.00"), "unit_price": Decimal("40.00"), "amount": Decimal("40.00"),
         "detail": {"unit": "server", "units": [{"id": server.pk, "name": "SRV-1", "kind": "device"}]}},
        {"kind": "recurring", "description": "Mail filtering — March", "service": users,
         "quantity": Decimal("5.00"), "unit_price": Decimal("2.00"), "amount": Decimal("10.00"),
         "detail": {"unit": "user", "units": [{"id": 1, "name": "Claire", "kind": "user"}]}},
        {"kind": "proration", "description": "one added", "service": ws, "quantity": Decimal("1.00"),
         "unit_price": Decimal("25.00"), "amount": Decimal("13.00")}])
    # a client whose contract covers one site, billed without a device list
    perrin = make_client("Garage Perrin")
    north, south = Site.objects.create(client=perrin, name="Nord"), Site.objects.create(client=perrin, name="Sud")
    device(perrin, "N-1", site=north), device(perrin, "N-2", site=north), device(perrin, "S-1", site=south)
    by_site = contract(perrin, "C-2", site=north)
    make_invoice(perrin, "36.00", number="F-P", contract=by_site, period_start=date(2026, 3, 1), status="draft",
                 lines=[{"kind": "recurring", "description": "Workstations", "service": ws,
                         "quantity": Decimal("3.00"), "unit_price": Decimal("10.00"), "amount": Decimal("30.00")}])
    # a managed contract never billed; an ended one and a block of hours, both left out
    dupont = make_client("Cabinet Dupont")
    device(dupont, "D-1")
    contract(dupont, "C-3")
    contract(dupont, "C-4", start_date=date(2025, 1, 1), end_date=date(2025, 12, 31))
    contract(dupont, "C-5", type="block_hours", hours_purchased=Decimal("10"))
    return {"pcs": pcs, "laptop": laptop, "old": old, "latest": latest, "martin": martin}


def test_each_contract_in_force_is_compared_with_its_latest_invoice(world: dict[str, Any]) -> None:
    rows = {row.contract.number: row for row in reports.reconciliation(make_staff("finance"), date(2026, 11, 1))}
    assert sorted(rows) == ["C-1", "C-2", "C-3"]
    martin = rows["C-1"]
    assert martin.invoice == world["latest"]
    # 4 workstations seen (a laptop counts as one) against 3 billed: 1 × 25.00 more; the server matches
    assert [(x.line.description, x.billed, x.seen, x.difference, x.amount) for x in martin.lines] == [
        ("Workstation monitoring — March", Decimal("3.00"), 4, Decimal("1.00"), Decimal("25.00")),
        ("Server monitoring — March", Decimal("1.00"), 1, Decimal("0.00"), Decimal("0.00"))]
    assert martin.difference == Decimal("25.00")
    assert [d.name for d in martin.not_billed] == ["LAPTOP-1", "PC-3"]
    assert martin.billed_not_seen == [{"id": world["old"].pk, "name": "PC-OLD"}]
    assert not martin.matches


def test_a_site_contract_counts_its_site_and_a_line_without_a_device_list(world: dict[str, Any]) -> None:
    rows = {row.contract.number: row for row in reports.reconciliation(make_staff("admin"), date(2026, 11, 1))}
    perrin = rows["C-2"]
    # 2 devices at the north site, 3 billed on the draft: 1 × 10.00 billed too much
    assert [(x.billed, x.seen, x.difference, x.amount) for x in perrin.lines] == [
        (Decimal("3.00"), 2, Decimal("-1.00"), Decimal("-10.00"))]
    assert perrin.difference == Decimal("-10.00")
    assert (perrin.not_billed, perrin.billed_not_seen) == ([], [])
    never = rows["C-3"]
    assert (never.invoice, never.lines, [d.name for d in never.not_billed], never.difference) == (
        None, [], ["D-1"], Decimal("0.00"))


def test_reconciliation_is_scoped_to_the_clients_the_user_sees(world: dict[str, Any]) -> None:
    restricted = make_staff("finance", clients=[world["martin"]], restricted=True)
    assert [row.contract.number for row in reports.reconciliation(restricted, date(2026, 11, 1))] == ["C-1"]


def test_the_page_and_the_api_show_the_differences_in_money(world: dict[str, Any]) -> None:
    http = logged_in(make_staff("finance"))
    page = http.get("/billing/reports/reconciliation/").content.decode()
    assert 'data-testid="reconciliation-total">+15.00\u00a0€' in page
    assert "3 contracts differ" in page and "PC-OLD" in page
    api = {row["contract_number"]: row for row in http.get("/api/v1/billing-reports/reconciliation").json()}
    assert api["C-1"]["difference"] == "25.00"
    assert api["C-1"]["lines"][0]["amount"] == "25.00" and api["C-1"]["lines"][0]["seen"] == 4
    assert [d["name"] for d in api["C-1"]["not_billed"]] == ["LAPTOP-1", "PC-3"]
    assert api["C-2"]["difference"] == "-10.00"
    assert logged_in(make_staff("technician")).get("/billing/reports/reconciliation/").status_code == 403
