"""Browser test of sharing a client's documentation: a technician shares the environment overview, the client's
portal administrator reads it in the portal's documentation page; once unshared it is gone (its URL a 404)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tenfold.accounts.testing import browser_log_in, make_portal_user, make_staff
from tenfold.clients.models import Client
from tenfold.core.models import AuditEntry
from tenfold.knowledge.models import ClientDoc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_shares_a_client_doc_the_portal_admin_reads_it_then_it_is_unshared(
        page: Page, browser: Browser, live_server: Any) -> None:
    # given a client, a technician assigned to it and the client's portal administrator, each in a browser
    client = Client.objects.create(name="Boulangerie Martin", status="active")
    tech = make_staff("technician", clients=[client], restricted=True, first_name="Inès")
    portal_admin = make_portal_user(client, "portal_admin", mfa=True)
    browser_log_in(page, live_server.url, tech)
    portal_context = browser.new_context()
    try:
        portal = portal_context.new_page()
        browser_log_in(portal, live_server.url, portal_admin)
        portal.goto(f"{live_server.url}/portal/documentation/")
        expect(portal.locator("[data-testid=portal-documentation]")).to_contain_text("Nothing is shared with you yet.")

        # when the technician writes the overview and shares it with the client
        page.goto(f"{live_server.url}/knowledge/clients/{client.pk}/")
        page.click("[data-testid=edit-overview]")
        page.fill("#id_overview_markdown", "## Network\n\nTwelve PCs behind the shop's firewall.")
        page.check("#id_shared_with_client")
        page.click("[data-testid=save]")
        expect(page.locator("[data-testid=shared-with-client]")).to_be_visible()

        # then the portal administrator finds it in the documentation page and reads it rendered
        portal.goto(f"{live_server.url}/portal/documentation/")
        portal.click("[data-testid=shared-overview]")
        expect(portal.locator("main")).to_contain_text("Twelve PCs behind the shop's firewall.")
        expect(portal.locator("main h2", has_text="Network")).to_be_visible()
        overview_url = portal.url
        doc = ClientDoc.objects.get(client=client)
        assert overview_url == f"{live_server.url}/portal/documentation/overview/{doc.pk}/"

        # when the technician unshares it
        page.click("[data-testid=edit-overview]")
        page.uncheck("#id_shared_with_client")
        page.click("[data-testid=save]")
        expect(page.locator("[data-testid=shared-with-client]")).to_have_count(0)

        # then it is gone from the portal: not listed, and its URL is a 404
        portal.goto(f"{live_server.url}/portal/documentation/")
        expect(portal.locator("[data-testid=shared-overview]")).to_have_count(0)
        response = portal.goto(overview_url)
        assert response is not None and response.status == 404
        assert list(AuditEntry.objects.filter(action="client_doc.updated", object_id=str(doc.pk))
                    .order_by("pk").values_list("actor_id", "changes")) == [
            (tech.pk, {"overview_markdown": "changed", "shared_with_client": [False, True]}),
            (tech.pk, {"shared_with_client": [True, False]})]
    finally:
        portal_context.close()
