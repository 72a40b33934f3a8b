"""The contract page's "to date" fragment: hours used / remaining / overrun of a block this month, revenue
(issued lines less credit notes), cost (labour + tools), effective hourly rate; who sees which figures."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.billing import reports
from tenfold.billing.tests.test_payments import logged_in, make_client, make_invoice
from tenfold.catalog.tests.factories import make_service
from tenfold.contracts.models import Contract
from tenfold.servicedesk.models import Ticket, TimeEntry

pytestmark = pytest.mark.django_db


def block_contract(client: Any, number: str = "B-1") -> Contract:
    return Contract.objects.create(client=client, number=number, type="block_hours", status="active",
                                   start_date=timezone.localdate().replace(year=2025, day=1),
                                   hours_purchased=Decimal("10.00"))


def worked(user: Any, contract: Contract, actual: int, billable: int, cost_rate: str, *, when: Any = None,
           approval: str = "approved") -> TimeEntry:
    ticket = Ticket.objects.create(client=contract.client, contract=contract, title="Work",
                                   number=f"T-{Ticket.objects.count() + 1}")
    moment = when or timezone.now()
    return TimeEntry.objects.create(client=contract.client, ticket=ticket, contract=contract, user=user,
                                    started_at=moment, ended_at=moment, actual_minutes=actual,
                                    billable_minutes=billable, coverage="covered", rate=Decimal("90.00"),
                                    cost_rate=Decimal(cost_rate), approval_status=approval)


@pytest.fixture
def block() -> dict[str, Any]:
    client = make_client()
    contract = block_contract(client)
    tech = make_staff("technician")
    # this month: 240 + 180 + 300 billable minutes = 12.00 h of a 10 h block; 690 minutes worked
    worked(tech, contract, 240, 240, "40.00")
    worked(tech, contract, 150, 180, "35.50", approval="not_required")
    worked(tech, contract, 300, 300, "40.00")
    # a year ago: worked (cost and hours to date) but not this month's block
    worked(tech, contract, 120, 120, "40.00", when=timezone.now() - timedelta(days=366))
    line = {"contract": contract}
    make_invoice(client, "1296.00", lines=[
        {"kind": "block", "description": "Block", "quantity": Decimal("1"), "unit_price": Decimal("900.00"),
         "amount": Decimal("900.00"), **line},
        {"kind": "overage", "description": "Overage", "quantity": Decimal("2"), "unit_price": Decimal("90.00"),
         "amount": Decimal("180.00"), **line}])
    voided = make_invoice(client, "600.00", status="void", lines=[
        {"kind": "manual", "description": "Mistake", "quantity": Decimal("1"), "unit_price": Decimal("500.00"),
         "amount": Decimal("500.00"), **line}])
    make_invoice(client, "-600.00", kind="credit_note", credited_invoice=voided, lines=[
        {"kind": "manual", "description": "Mistake", "quantity": Decimal("1"), "unit_price": Decimal("-500.00"),
         "amount": Decimal("-500.00"), **line}])
    make_invoice(client, "999.00", status="draft", lines=[
        {"kind": "manual", "description": "Not issued", "quantity": Decimal("1"), "unit_price": Decimal("999.00"),
         "amount": Decimal("999.00"), **line}])
    other = block_contract(client, "B-2")
    make_invoice(client, "120.00", lines=[
        {"kind": "block", "description": "Other", "quantity": Decimal("1"), "unit_price": Decimal("100.00"),
         "amount": Decimal("100.00"), "contract": other}])
    return {"client": client, "contract": contract}


def test_revenue_cost_and_rate_to_date(block: dict[str, Any]) -> None:
    figures = reports.contract_to_date(block["contract"])
    # 810 minutes worked: 13.50 h; labour 160.00 + 88.75 + 200.00 + 80.00; revenue 900 + 180 + 500 − 500
    assert figures.hours_worked == Decimal("13.50")
    assert (figures.invoiced, figures.credited, figures.revenue) == (Decimal("1580.00"), Decimal("500.00"),
                                                                     Decimal("1080.00"))
    assert (figures.labour_cost, figures.tool_cost, figures.cost) == (Decimal("528.75"), Decimal("0.00"),
                                                                      Decimal("528.75"))
    assert figures.margin == Decimal("551.25")
    assert figures.effective_rate == Decimal("80.00")


def test_tool_cost_comes_from_the_billed_recurring_quantities() -> None:
    client = make_client()
    contract = Contract.objects.create(client=client, number="M-1", type="managed", status="active",
                                       start_date=timezone.localdate())
    ws = make_service("ws-mon", price="25.00", cost="2.35")
    recurring = {"kind": "recurring", "description": "Monitoring", "service": ws, "quantity": Decimal("4.00"),
                 "unit_price": Decimal("25.00"), "amount": Decimal("100.00")}
    make_invoice(client, "120.00", contract=contract, lines=[recurring])
    make_invoice(client, "120.00", contract=contract, status="void", lines=[recurring])
    figures = reports.contract_to_date(contract)
    assert (figures.revenue, figures.tool_cost, figures.hours_worked, figures.effective_rate) == (
        Decimal("200.00"), Decimal("9.40"), Decimal("0.00"), None)


def test_the_fragment_shows_the_block_hours_and_money_to_finance(block: dict[str, Any]) -> None:
    html = logged_in(make_staff("finance")).get(
        f"/billing/contracts/{block['contract'].pk}/to-date/").content.decode()
    assert 'data-testid="hours-used">12.00 h (120.0\u00a0%)' in html
    assert 'data-testid="hours-remaining">0.00 h' in html
    assert 'data-testid="hours-overrun" class="negative">2.00 h' in html
    assert 'data-testid="to-date-revenue">1,080.00\u00a0€' in html
    assert 'data-testid="to-date-rate">80.00\u00a0€' in html


def test_a_technician_sees_the_hours_but_no_money(block: dict[str, Any]) -> None:
    html = logged_in(make_staff("technician")).get(
        f"/billing/contracts/{block['contract'].pk}/to-date/").content.decode()
    assert 'data-testid="hours-used">12.00 h' in html and 'data-testid="hours-worked">13.50 h' in html
    assert "to-date-revenue" not in html and "1,080.00" not in html and "to-date-cost" not in html


def test_the_service_manager_and_account_manager_see_the_money(block: dict[str, Any]) -> None:
    for role in ("service_manager", "account_manager"):
        html = logged_in(make_staff(role)).get(f"/billing/contracts/{block['contract'].pk}/to-date/").content.decode()
        assert 'data-testid="to-date-revenue">1,080.00\u00a0€' in html, role


def test_a_portal_admin_gets_403_and_another_clients_user_404(block: dict[str, Any]) -> None:
    url = f"/billing/contracts/{block['contract'].pk}/to-date/"
    other = make_client("Other")
    assert logged_in(make_portal_user(block["client"], "portal_admin")).get(url).status_code == 403
    assert logged_in(make_staff("technician", clients=[other], restricted=True)).get(url).status_code == 404
    assert logged_in(make_portal_user(other, "portal_admin")).get(url).status_code == 404


def test_the_contract_page_loads_the_fragment_for_staff_only(block: dict[str, Any]) -> None:
    url = f"/billing/contracts/{block['contract'].pk}/to-date/"
    staff_page = logged_in(make_staff("admin")).get(f"/contracts/{block['contract'].pk}/").content.decode()
    assert f'hx-get="{url}"' in staff_page
