"""Browser test of the main client flow: log in with MFA, create a client with a site and a contact,
switch the interface to French."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_staff
from tenfold.clients.models import Client, Contact, Site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]




def test_create_client_with_site_and_contact_then_switch_to_french(page: Page, live_server) -> None:
    # given an account manager with MFA
    user = make_staff("account_manager", first_name="Camille")
    browser_log_in(page, live_server.url, user)

    # when they create a client
    page.click("[data-nav=clients]")
    page.click("[data-testid=new-client]")
    page.fill("#id_name", "Menuiserie Blanc")
    page.select_option("#id_status", "active")
    page.click("[data-testid=save]")
    expect(page.locator("h1")).to_have_text("Menuiserie Blanc")

    # and a site, leaving the name empty first (the form says what is wrong)
    page.click("[data-testid=new-site]")
    page.fill("#id_city", "Annecy")
    page.click("[data-testid=save]")
    expect(page.locator(".field.has-error .error")).to_contain_text("This field is required.")
    page.fill("#id_name", "Atelier")
    page.click("[data-testid=save]")
    expect(page.locator("[data-testid=sites]")).to_contain_text("Atelier")

    # and a contact who decides
    page.click("[data-testid=new-contact]")
    page.fill("#id_first_name", "Paul")
    page.fill("#id_last_name", "Blanc")
    page.fill("#id_email", "paul@menuiserie-blanc.example")
    page.select_option("#id_site", label="Atelier")
    page.check("#id_is_decision_maker")
    page.click("[data-testid=save]")
    expect(page.locator("[data-testid=contacts]")).to_contain_text("Paul Blanc")

    # then the records exist exactly as entered
    client = Client.objects.get(name="Menuiserie Blanc")
    assert client.status == "active"
    assert Site.objects.get(client=client).city == "Annecy"
    contact = Contact.objects.get(client=client)
    assert (contact.email, contact.is_decision_maker, contact.site.name) == (
        "paul@menuiserie-blanc.example", True, "Atelier")

    # when the list is searched live (HTMX fragment)
    page.click("[data-nav=clients]")
    page.fill("#list-search", "menuis")
    expect(page.locator("[data-testid=list-table]")).to_contain_text("Menuiserie Blanc")

    # when they switch the interface to French on their account page
    page.click("[data-testid=user-menu]")
    page.click("text=Your account")
    page.select_option("#id_language", "fr")
    page.click("[data-testid=save-profile]")
    page.click("[data-nav=clients]")

    # then the interface speaks French
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("[data-testid=new-client]")).to_have_text("Nouveau client")
    expect(page).to_have_title(re.compile("Clients"))
