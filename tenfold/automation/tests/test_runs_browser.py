"""Browser test of device groups and agent actions: a technician makes a dynamic group, runs "Run the checks now"
on it, follows each device's status and cancels a job still queued."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_staff
from tenfold.agents.models import Job, JobStatus
from tenfold.automation.models import DeviceGroup, Run
from tenfold.automation.tests.factories import managed_device
from tenfold.clients.models import Client
from tenfold.core.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_group_action_run_status_and_cancel_in_the_browser(page: Page, live_server: Any) -> None:
    # given two Linux servers and a Windows laptop of a client
    client = Client.objects.create(name="Boulangerie Martin", status="active")
    managed_device(client, "SRV-FOUR")
    managed_device(client, "SRV-CAISSE")
    managed_device(client, "LT-GERANT", os_family="windows")
    technician = make_staff(Role.TECHNICIAN, first_name="Hugo")
    browser_log_in(page, live_server.url, technician)

    # when the technician makes a dynamic group of the client's Linux devices
    page.goto(f"{live_server.url}/automation/groups/")
    page.click("[data-testid=new-group]")
    page.fill("#id_name", "Martin Linux servers")
    page.select_option("#id_owner", str(client.pk))
    page.select_option("#id_kind", "dynamic")
    page.select_option("#id_os_family", "linux")
    page.click("[data-testid=save]")
    members = page.locator("[data-testid=members]")
    expect(members).to_contain_text("SRV-FOUR")
    expect(members).to_contain_text("SRV-CAISSE")
    expect(members).not_to_contain_text("LT-GERANT")
    group = DeviceGroup.objects.get()

    # and runs "Run the checks now" on it
    page.click("[data-testid=run-on-group]")
    page.click("[data-action=run_checks_now]")
    page.select_option("#id_target", "group")
    page.select_option("#id_group", str(group.pk))
    page.click("[data-testid=run]")

    # then the run shows each device queued
    rows = page.locator("[data-testid=run-devices] tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("[data-device=SRV-FOUR] [data-testid=device-status]")).to_have_text("Queued")
    run = Run.objects.get()
    assert (run.group_id, run.action) == (group.pk, "run_checks_now")

    # when one device's agent reports its job succeeded and the other's is still queued
    four = run.items.get(device__name="SRV-FOUR")
    Job.objects.filter(pk=four.job_id).update(status=JobStatus.SUCCEEDED, exit_code=0, stdout="3 checks run",
                                              duration_ms=640)
    page.reload()
    expect(page.locator("[data-device=SRV-FOUR] [data-testid=device-status]")).to_have_text("Succeeded")
    expect(page.locator("[data-device=SRV-FOUR]")).to_contain_text("3 checks run")

    # and the technician cancels the queued one
    page.locator("[data-device=SRV-CAISSE] [data-testid=cancel-job]").click()
    expect(page.locator("[data-device=SRV-CAISSE] [data-testid=device-status]")).to_have_text("Cancelled")
    assert Job.objects.get(pk=run.items.get(device__name="SRV-CAISSE").job_id).status == "cancelled"
