"""Browser test of the plan builder: build a plan, then watch its margin move as a price changes (HTMX)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_staff
from tenfold.catalog.models import PlanItem
from tenfold.catalog.tests.factories import make_service
from tenfold.core.models import Organization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_build_a_plan_and_see_the_margin_follow_the_price(page: Page, live_server) -> None:
    # given an administrator, a labour cost of 45 €/h and two services
    Organization.objects.update_or_create(pk=1, defaults={"loaded_labour_cost": Decimal("45.00"), "currency": "EUR",
                                                          "default_language": "en"})
    make_service("ws-rmm", name="Workstation monitoring", price="25.00", cost="3.00", minutes="18")
    make_service("fax", name="Old fax", price="15.00", active=False, unit="flat")
    browser_log_in(page, live_server.url, make_staff("admin", first_name="Claire"))

    # when they create an offering and its Good plan from the catalog menu
    page.click("[data-nav=catalog]")
    page.click("[data-testid=new-offering]")
    page.fill("#id_name", "Managed workplace")
    page.click("[data-testid=save]")
    expect(page.locator("h1")).to_have_text("Managed workplace")
    page.click("[data-testid=new-plan-good]")
    page.click("[data-testid=save]")
    expect(page.locator("h1")).to_have_text("Managed workplace Good")

    # and try to add the inactive service first (the form says why), then monitoring at its list price
    page.select_option("#id_service", label="Old fax (flat) — inactive")
    page.click("[data-testid=add-item]")
    expect(page.locator(".field.has-error .error")).to_contain_text("is inactive")
    page.select_option("#id_service", label="Workstation monitoring (per workstation)")
    page.click("[data-testid=add-item]")

    # then at 20 workstations: 500 € revenue, 60 € tools, 270 € labour (360 min), 170 € margin (34.0 %)
    expect(page.locator("[data-testid=margin]")).to_have_text("170.00\u00a0€")
    expect(page.locator("[data-testid=margin-pct]")).to_have_text("34.0\u00a0%")

    # when the price goes to 30 €, the margin follows without a page load
    page.fill("[data-testid=price-ws-rmm]", "30")
    expect(page.locator("[data-testid=margin]")).to_have_text("270.00\u00a0€")
    expect(page.locator("[data-testid=margin-pct]")).to_have_text("45.0\u00a0%")
    expect(page.locator("[data-testid=revenue]")).to_have_text("600.00\u00a0€")

    # and a negative price is refused beside the input, the margin unchanged
    page.fill("[data-testid=price-ws-rmm]", "-5")
    expect(page.locator(".item-error")).to_contain_text("The unit price cannot be negative.")
    expect(page.locator("[data-testid=margin]")).to_have_text("270.00\u00a0€")

    # when the reference client has 10 workstations, the figures follow
    page.fill("#id_workstations", "10")
    expect(page.locator("[data-testid=margin]")).to_have_text("135.00\u00a0€")
    assert PlanItem.objects.get().unit_price == Decimal("30.00")
