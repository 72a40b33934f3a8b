"""Browser test of the technician's flow: open a ticket from a template, tick its checklist (resolving is
refused while a required step is open), log time with the timer, resolve."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_staff
from tenfold.knowledge.models import Runbook, RunbookStep
from tenfold.servicedesk.models import Ticket, TicketTemplate, TimeEntry
from tenfold.servicedesk.tests.factories import make_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ticket_from_template_checklist_timer_resolve(page: Page, live_server) -> None:  # type: ignore[no-untyped-def]
    # given a template bound to a runbook with two required steps, a client and a technician
    runbook = Runbook.objects.create(title="Workstation setup (browser)", slug="workstation-setup-browser")
    RunbookStep.objects.create(runbook=runbook, position=1, text="Join the domain", required=True)
    RunbookStep.objects.create(runbook=runbook, position=2, text="Install the antivirus", required=True)
    template = TicketTemplate.objects.create(name="New PC", title="Set up a workstation", type="request",
                                             priority="p3", runbook_id=runbook.pk)
    client = make_client("Menuiserie Blanc")
    tech = make_staff("technician", first_name="Karim")
    browser_log_in(page, live_server.url, tech)

    # when they open a ticket from the template for the client
    page.goto(f"{live_server.url}/tickets/templates/")
    page.click(f"[data-testid=use-template-{template.pk}]")
    page.select_option("#id_client", str(client.pk))
    page.click("[data-testid=save]")
    expect(page.locator("[data-testid=checklist]")).to_contain_text("Join the domain")
    ticket = Ticket.objects.get(client=client)
    assert ticket.title == "Set up a workstation"

    # and tick one step, then try to resolve
    page.click("[data-testid=tick-1]")
    expect(page.locator("[data-testid=open-required]")).to_contain_text("1 required step still open.")
    page.select_option("#id_status", "resolved")
    page.click("[data-testid=change-status]")
    expect(page.locator("body")).to_contain_text("required checklist step(s) are still open")
    expect(page.locator("[data-testid=ticket-status]")).to_have_text("New")

    # and tick the other, start then stop the timer
    page.click("[data-testid=tick-2]")
    expect(page.locator("[data-testid=open-required]")).to_have_count(0)
    page.click("[data-testid=start-timer]")
    expect(page.locator("[data-testid=timer-running]")).to_be_visible()
    page.fill("#timer-notes", "Installed and joined")
    page.click("[data-testid=stop-timer]")
    expect(page.locator("[data-testid=time-totals]")).to_contain_text("1 min worked")

    # then it resolves
    page.select_option("#id_status", "resolved")
    page.fill("#id_resolution", "Workstation delivered")
    page.click("[data-testid=change-status]")
    expect(page.locator("[data-testid=ticket-status]")).to_have_text("Resolved")
    entry = TimeEntry.objects.get(ticket=ticket)
    assert (entry.user_id, entry.actual_minutes, entry.is_running, entry.notes) == (tech.pk, 1, False,
                                                                                   "Installed and joined")
    ticket.refresh_from_db()
    assert ticket.status == "resolved" and ticket.checklist.filter(done_by=tech).count() == 2
