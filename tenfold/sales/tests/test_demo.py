"""The demo seed's sales: leads from the technicians' tickets, deals in every stage (won ones on existing
contracts, lost ones with reasons), a quote awaiting Boulangerie Martin SARL's portal administrator that they can
accept, and an accepted one with its contract."""

from __future__ import annotations

import pytest

from tenfold.accounts.models import User
from tenfold.conftest import DemoDatabase
from tenfold.contracts.models import Contract
from tenfold.sales import selectors, services
from tenfold.sales.models import Deal, Lead, Quote

pytestmark = pytest.mark.django_db


def test_demo_sales(demo: DemoDatabase) -> None:
    # given the demo MSP
    # then deals stand in every stage; won ones carry an existing contract, lost ones their reason
    assert set(Deal.objects.values_list("stage", flat=True)) == {"qualification", "proposal", "negotiation", "won",
                                                                 "lost"}
    assert not Deal.objects.filter(stage="won", contract__isnull=True).exists()
    assert Deal.objects.filter(stage="won").count() >= 3
    assert not Deal.objects.filter(stage="lost", outcome_reason="").exists()
    # and the flagged ticket became a lead credited to its technician, and was converted; technicians entered more
    ticket_lead = Lead.objects.get(source="ticket")
    assert ticket_lead.technician is not None and ticket_lead.technician.role == "technician"
    assert Deal.objects.get(lead=ticket_lead).credited_technician == ticket_lead.technician
    assert Lead.objects.filter(technician__role="technician", status="open").count() >= 2
    # and one quote is accepted with its signed contract
    accepted = Quote.objects.get(status="accepted")
    assert accepted.contract is not None and accepted.contract.status == "active"
    assert accepted.contract.plan_id == accepted.accepted_plan_id
    # and Boulangerie Martin SARL's portal administrator finds a sent quote and can accept it
    admin = User.objects.get(role="portal_admin", client__name="Boulangerie Martin SARL")
    waiting = list(selectors.portal_quotes(admin).filter(status="sent"))
    assert len(waiting) == 1
    contracts = Contract.objects.count()
    services.quote_accept(actor=admin, quote=waiting[0], tier="better")
    assert Quote.objects.get(pk=waiting[0].pk).status == "accepted"
    assert Contract.objects.count() == contracts  # an addendum to the bakery's contract, not a second contract
