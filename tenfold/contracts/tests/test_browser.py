"""Browser test of the main contract flow: draft a managed-services contract with a form error first, sign
it, see the devices it covers and the baseline applied."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_staff
from tenfold.contracts.models import Contract
from tenfold.contracts.tests.factories import make_catalog, make_client, make_devices
from tenfold.monitoring.models import ClientBaseline

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_and_sign_a_contract(page: Page, live_server) -> None:
    # given a client with three workstations, the catalog's Good/Better plans and an account manager
    parts = make_catalog()
    client = make_client("Menuiserie Blanc")
    make_devices(client, workstation=3)
    user = make_staff("account_manager", first_name="Camille")
    browser_log_in(page, live_server.url, user)

    # when they draft a contract from the client's page with a negative minimum first
    page.goto(f"{live_server.url}/clients/{client.pk}/")
    page.click("[data-testid=new-client-contract]")
    page.select_option("#id_plan", str(parts["better"].pk))
    page.fill("#id_title", "Infogérance Mieux")
    page.fill("#id_minimum_monthly_commitment", "-10")
    page.click("[data-testid=save]")
    expect(page.locator(".field.has-error .error")).to_contain_text("Amounts cannot be negative.")
    page.fill("#id_minimum_monthly_commitment", "100")
    page.click("[data-testid=save]")
    expect(page.locator("[data-testid=contract-status]")).to_have_text("Draft")

    # and sign it
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=sign-contract]")

    # then it is active, covers the three workstations at 3 × 15 € and the Better baseline applies
    expect(page.locator("[data-testid=contract-status]")).to_have_text("Signed / active")
    expect(page.locator("[data-testid=count-workstation]")).to_have_text("3")
    expect(page.locator("[data-testid=figure-revenue]")).to_have_text("45.00")
    contract = Contract.objects.get(client=client)
    assert (contract.status, contract.plan_id, contract.signed_by_id) == ("active", parts["better"].pk, user.pk)
    assert ClientBaseline.objects.get(client=client).tier == "better"
