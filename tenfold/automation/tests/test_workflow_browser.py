"""Browser test of the workflow builder: build "alert.raised for disk checks → run the clean-up script → if it
fails, open a ticket" in the UI, then raise a real disk alert, let the agent report the job failed, and follow
the run step by step to its ticket."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_staff
from tenfold.agents.models import Job
from tenfold.automation.models import Workflow, WorkflowRun
from tenfold.automation.tests.workflow_helpers import Agent, deliver, disk_check, raise_alert, signed_cleanup
from tenfold.clients.models import Client
from tenfold.core.roles import Role
from tenfold.servicedesk.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_build_a_disk_workflow_in_the_browser_and_follow_its_run(page: Page, live_server: Any) -> None:
    # given a signed clean-up script, an enrolled server with a disk check, and the shipped alert → ticket
    # workflow switched off (this MSP opens disk tickets only when the clean-up fails)
    owner = make_staff(Role.OWNER, mfa=False)
    manager = make_staff(Role.SERVICE_MANAGER, first_name="Claire")
    script = signed_cleanup(owner, manager)
    client = Client.objects.create(name="Boulangerie Martin", status="active")
    agent = Agent(client)
    check = disk_check(client)
    Workflow.objects.filter(builtin_key="alert-ticket").update(enabled=False)
    browser_log_in(page, live_server.url, manager)

    # when the service manager builds the workflow from the Workflows menu
    page.click("[data-nav=workflows]")
    page.click("[data-testid=new-workflow]")
    page.fill("#id_name", "Disk alert → clean-up → ticket")
    page.select_option("[data-testid=trigger]", "alert.raised")
    page.click("[data-testid=add-condition]")
    page.select_option("[data-testid=condition-field-0]", "check_type")
    page.select_option("[data-testid=condition-value-0]", ["disk_free"])
    page.select_option("[data-testid=palette]", "open_ticket")
    page.click("[data-testid=add-step]")
    page.select_option("[data-testid=palette]", "run_script")
    page.click("[data-testid=add-step]")
    # the clean-up was added second: drag it above the ticket step
    expect(page.locator(".builder-step").first).to_have_attribute("data-step", "step1")
    page.drag_and_drop("[data-step=step2] .drag-handle", "[data-step=step1]")
    expect(page.locator(".builder-step").first).to_have_attribute("data-step", "step2")
    page.select_option("[data-testid=script_id-step2]", str(script.pk))
    page.fill("[data-testid=param-step2-min_free]", "20")
    page.select_option("[data-testid=on-success-step2]", "end")
    page.select_option("[data-testid=on-failure-step2]", "step1")
    # and a mail step without an address: saving refuses it, with the reason beside the step
    page.select_option("[data-testid=palette]", "send_email")
    page.click("[data-testid=add-step]")
    page.click("[data-testid=save]")
    expect(page.locator("[data-testid=step-error-step3]")).to_have_text(
        "Step “step3”: give one to ten email addresses.")
    assert not Workflow.objects.filter(name="Disk alert → clean-up → ticket").exists()
    page.click("[data-testid=remove-step3]")
    page.click("[data-testid=save]")

    # then it is saved as version 1, enabled
    expect(page.locator("h1")).to_have_text("Disk alert → clean-up → ticket")
    workflow = Workflow.objects.get(name="Disk alert → clean-up → ticket")
    steps = workflow.current_version.definition["steps"]
    assert [(s["id"], s["action"], s["on_success"], s["on_failure"]) for s in steps] == [
        ("step2", "run_script", "end", "step1"), ("step1", "open_ticket", "next", "end")]
    assert steps[0]["params"]["parameters"] == {"min_free": 20}

    # when the server's disk check fails, the alert's event is delivered and the agent reports the job failed
    alert = raise_alert(agent.device, check)
    deliver()
    run = WorkflowRun.objects.get(workflow=workflow)
    agent.report_job(Job.objects.get(pk=run.waiting_job_id), "failed", 1, stderr="rm: Device or resource busy")
    deliver()

    # then the run page shows each step, why the branch was taken, and the ticket it opened
    page.goto(f"{live_server.url}/automation/workflows/{workflow.pk}/")
    page.click(f"a[href='/automation/workflow-runs/{run.pk}/']")
    expect(page.locator("[data-testid=run-status]")).to_have_text("Succeeded")
    expect(page.locator("[data-testid=run-step-status-step2]")).to_have_text("Failed")
    expect(page.locator("[data-testid=run-step-reason-step2]")).to_contain_text("The job ended Failed (exit code 1)")
    expect(page.locator("[data-testid=run-step-status-step1]")).to_have_text("Succeeded")
    ticket = Ticket.objects.get(alert=alert)
    page.click("[data-testid=run-ticket]")
    expect(page.locator("h1")).to_contain_text(ticket.title)
