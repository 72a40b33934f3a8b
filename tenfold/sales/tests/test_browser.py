"""Browser test of a sale: staff build a three-tier quote and send it; the client's portal administrator opens it
in the portal and accepts the Better tier; the contract appears."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_portal_user, make_staff
from tenfold.clients.models import Contact
from tenfold.contracts.models import Contract
from tenfold.monitoring.models import ClientBaseline
from tenfold.sales.models import Quote
from tenfold.sales.tests.factories import make_catalog, make_client, make_deal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_quote_three_tiers_and_the_portal_administrator_accepts_better(page: Page, live_server) -> None:
    # given the catalog, a client with 12 workstations, 2 servers and 3 contacts, and a deal
    parts = make_catalog()
    client = make_client()
    manager = make_staff("account_manager", first_name="Camille")
    deal = make_deal(client, manager, title="Managed services for the shops")
    page.on("dialog", lambda dialog: dialog.accept())

    # when the account manager drafts a quote from the deal (live counts prefilled) and prices 15 users
    browser_log_in(page, live_server.url, manager)
    page.goto(f"{live_server.url}/sales/deals/{deal.pk}/")
    page.click("[data-testid=new-quote]")
    expect(page.locator("[data-testid=units-workstations]")).to_have_value("12")
    page.select_option("#id_offering", label="Managed workplace")
    page.fill("[data-testid=units-users]", "15")
    page.click("[data-testid=save]")

    # then the three tiers stand side by side: Good 420, Better 540, Best 650
    expect(page.locator("[data-testid=tier-total-good]")).to_have_text("420.00\u00a0€")
    expect(page.locator("[data-testid=tier-total-better]")).to_have_text("540.00\u00a0€")
    expect(page.locator("[data-testid=tier-total-best]")).to_have_text("650.00\u00a0€")

    # when they add the Microsoft 365 backup add-on (15 users × 3.50) and the onboarding project
    page.select_option("#id_addon-service", label="Microsoft 365 backup")
    page.click("[data-testid=add-addon]")
    expect(page.locator("[data-testid=tier-total-better]")).to_have_text("592.50\u00a0€")
    page.fill("#id_item-description", "Onboarding project")
    page.fill("#id_item-unit_price", "1800")
    page.click("[data-testid=add-item]")
    expect(page.locator("[data-testid=one-off-total]")).to_have_text("1,800.00\u00a0€")
    # and send it
    page.click("[data-testid=send-quote]")
    expect(page.locator("[data-testid=quote-status]")).to_have_text("Sent")
    quote = Quote.objects.get()
    page.click("[data-testid=user-menu]")
    page.click("[data-testid=logout]")

    # when the client's portal administrator opens it in the portal and accepts the Better tier
    contact = Contact.objects.filter(client=client).order_by("pk").first()
    admin = make_portal_user(client, "portal_admin", contact=contact, mfa=True, first_name="Claire")
    browser_log_in(page, live_server.url, admin)
    page.click("[data-nav=portal-quotes]")
    page.click(f"text={quote.number}")
    expect(page.locator("[data-testid=tier-total-better]")).to_have_text("592.50\u00a0€")
    page.click("[data-testid=accept-better]")

    # then the quote is accepted and the contract appears, on the Better plan with its baseline
    expect(page.locator("[data-testid=quote-status]")).to_have_text("Accepted")
    contract = Contract.objects.get()
    expect(page.locator("[data-testid=portal-contract]")).to_contain_text(contract.number)
    page.click("[data-testid=portal-contract]")
    expect(page.locator("[data-testid=contract-plan]")).to_contain_text("Workplace Better")
    assert (contract.client_id, contract.plan_id, contract.status) == (client.pk, parts["better"].pk, "active")
    assert [(a.service.code, a.unit_price) for a in contract.addons.all()] == [("m365-backup", None)]
    assert ClientBaseline.objects.get(client=client).tier == "better"
    quote.refresh_from_db()
    assert (quote.status, quote.accepted_by, quote.deal.stage) == ("accepted", admin, "won")
    assert quote.items.get().unit_price == Decimal("1800.00")
