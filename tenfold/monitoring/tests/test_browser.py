"""Browser test of the RMM main flow: enroll a device through the real agent endpoint, find it in the
device list, see its effective policy, get an alert from a failing check, acknowledge and resolve it."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_staff
from tenfold.agents import auth
from tenfold.agents.tests.helpers import checkin_body, enroll, post, result
from tenfold.monitoring.evaluation import evaluate_new_results
from tenfold.monitoring.models import Alert, PolicyScope
from tenfold.monitoring.tests.factories import make_check, make_client, make_policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]




def test_device_alert_flow(page: Page, live_server) -> None:
    # given a client with a disk check that alerts at the first failure, and a device enrolled by an agent
    auth.cache_clear()
    client = make_client("Pharmacie du Centre")
    check = make_check(make_policy(PolicyScope.CLIENT, client=client, name="Pharmacy servers"), "disk_free",
                       {"mount": "/", "warn_pct": 20, "fail_pct": 10}, name="Free space on /",
                       failures_before_alert=1)
    enrolled = enroll(client, hostname="srv-pharma-01")
    failing = result(1, check_id=check.pk, status="fail", value=4.5, message="4.5 % free on /")
    assert post(HttpClient(), "/agent/v1/checkin", checkin_body(failing), enrolled["credential"]).status_code == 200
    evaluate_new_results()
    manager = make_staff("service_manager")
    browser_log_in(page, live_server.url, manager)

    # when the service manager searches the device list
    page.click("[data-nav=devices]")
    page.fill("#list-search", "pharma")
    expect(page.locator("[data-testid=list-table]")).to_contain_text("srv-pharma-01")
    page.click("text=srv-pharma-01")

    # then the device page shows the check from its client's policy (fragment served by monitoring)
    expect(page.locator("#monitoring-panel, [data-testid=check-states]").first).to_contain_text("Free space on /")

    # when they open the alert console and the alert
    page.click("[data-nav=alerts]")
    expect(page.locator("[data-testid=list-table]")).to_contain_text("srv-pharma-01")
    page.locator("[data-testid=list-table] a", has_text="Free space on /").first.click()
    expect(page.locator("[data-testid=status]")).to_have_text("Open")
    expect(page.locator("[data-testid=message]")).to_have_text("4.5 % free on /")

    # and acknowledge, then resolve it
    page.click("[data-testid=acknowledge]")
    expect(page.locator("[data-testid=status]")).to_have_text("Acknowledged")
    page.click("[data-testid=resolve]")
    expect(page.locator("[data-testid=status]")).to_have_text("Resolved")

    # then the alert is resolved and records who acknowledged it
    alert = Alert.objects.get()
    assert (alert.status, alert.acknowledged_by_id, alert.device_id) == ("resolved", manager.pk,
                                                                         enrolled["device_id"])
