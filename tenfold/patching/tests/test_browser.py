"""Browser test of patch approval: approve a critical update for every client in bulk, and see the patch
report's share of devices up to date change."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_staff
from tenfold.core.models import Organization
from tenfold.patching.models import ApprovalDecision
from tenfold.patching.tests.factories import make_client, make_device, make_update, missing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bulk_approve_a_critical_update_and_see_the_report_change(page: Page, live_server) -> None:
    # given three devices of two clients; two miss a critical update nobody approved yet, so all three are up to
    # date (an update awaiting approval does not count against a device)
    Organization.objects.update_or_create(pk=1, defaults={"default_language": "en"})
    durand, petit = make_client("Cabinet Durand"), make_client("Garage Petit")
    critical = make_update("KB5046617", source="windows_update", version="", category="security",
                           severity="critical", title="2026-11 Cumulative Update (KB5046617)",
                           released_on=date(2026, 11, 10))
    tzdata = make_update("tzdata", category="bugfix")
    missing(make_device(durand, name="PC-COMPTA-01"), critical)
    missing(make_device(petit, name="PC-GARAGE"), critical)
    missing(make_device(petit, name="PC-ATELIER"), tzdata)
    browser_log_in(page, live_server.url, make_staff("service_manager", first_name="Claire"))

    page.click("[data-nav=patching]")
    page.click("[data-testid=patch-report]")
    expect(page.locator("[data-testid=share-up-to-date]")).to_have_text("100.0 %")

    # when the manager approves the critical update for every client in bulk
    page.goto(f"{live_server.url}/patching/")
    page.click("[data-testid=bulk-decide]")
    page.select_option("[data-testid=bulk-category]", "security")
    page.click("[data-testid=bulk-filter]")
    expect(page.locator("[data-testid=bulk-update]")).to_have_count(1)
    page.check("[data-testid=bulk-update]")
    page.select_option("#id_decision", "approved")
    page.click("[data-testid=bulk-save]")
    expect(page.locator(".messages")).to_contain_text("1 decision recorded.")

    # then the update shows approved for every client, and the report counts 1 device of 3 up to date
    assert list(ApprovalDecision.objects.values_list("client_id", "decision")) == [(None, "approved")]
    page.click("[data-testid=patch-report]")
    expect(page.locator("[data-testid=share-up-to-date]")).to_have_text("33.3 %")
    expect(page.locator("[data-testid=devices-up-to-date]")).to_have_text("1 of 3 devices")
