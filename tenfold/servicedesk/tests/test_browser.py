"""Browser test of the service desk's main flow in one go, with two browsers: a technician opens a ticket from a
template, ticks its checklist (resolving is refused while a required step is open), logs time with the timer,
answers the client and resolves; the client's portal user (the ticket's contact) sees it resolved, then closed,
and answers the survey; the technician then sees the survey's result."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import Browser, Page, expect

from tenfold.accounts.testing import browser_log_in, make_portal_user, make_staff
from tenfold.clients.models import Contact
from tenfold.core.models import Organization
from tenfold.knowledge.models import Runbook, RunbookStep
from tenfold.servicedesk.models import Ticket, TicketTemplate, TimeEntry
from tenfold.servicedesk.models_surveys import SurveyResponse
from tenfold.servicedesk.tests.factories import make_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _when(value: Any) -> str:
    """A date and time as the pages print it."""
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def test_template_ticket_checklist_timer_resolve_then_portal_survey_seen_by_staff(
        page: Page, browser: Browser, live_server: Any) -> None:
    # given a template bound to a runbook with two required steps, a client with a contact who is a portal
    # user, and a technician
    Organization.objects.update_or_create(pk=1, defaults={"default_language": "en"})
    runbook = Runbook.objects.create(title="Workstation setup (browser)", slug="workstation-setup-browser")
    RunbookStep.objects.create(runbook=runbook, position=1, text="Join the domain", required=True)
    RunbookStep.objects.create(runbook=runbook, position=2, text="Install the antivirus", required=True)
    template = TicketTemplate.objects.create(name="New PC", title="Set up a workstation", type="request",
                                             priority="p3", runbook_id=runbook.pk)
    client = make_client("Menuiserie Blanc")
    alice = Contact.objects.create(client=client, first_name="Alice", last_name="Blanc", email="alice@blanc.test")
    tech = make_staff("technician", first_name="Karim", last_name="Haddad")
    portal_user = make_portal_user(client, "portal_user", contact=alice, mfa=True)
    browser_log_in(page, live_server.url, tech)

    # when the technician opens a ticket from the template for the client, with Alice as contact
    page.goto(f"{live_server.url}/tickets/templates/")
    page.click(f"[data-testid=use-template-{template.pk}]")
    page.select_option("#id_client", str(client.pk))
    page.select_option("#id_contact", str(alice.pk))
    page.select_option("#id_assignee", str(tech.pk))
    page.click("[data-testid=save]")

    # then the ticket shows the template's checklist
    expect(page.locator("[data-testid=checklist]")).to_contain_text("Join the domain")
    ticket = Ticket.objects.get(client=client)
    assert (ticket.title, ticket.contact_id, ticket.assignee_id) == ("Set up a workstation", alice.pk, tech.pk)

    # when they tick the first step, then try to resolve
    page.click("[data-testid=tick-1]")
    expect(page.locator("[data-testid=open-required]")).to_contain_text("1 required step still open.")
    page.select_option("#id_status", "resolved")
    page.click("[data-testid=change-status]")

    # then resolving is refused, and the ticked step says who ticked it and when
    expect(page.locator("body")).to_contain_text("required checklist step(s) are still open")
    expect(page.locator("[data-testid=ticket-status]")).to_have_text("New")
    first = ticket.checklist.get(position=1)
    assert first.done_by_id == tech.pk
    expect(page.locator("[data-testid=step-1]")).to_contain_text(f"Karim Haddad {_when(first.done_at)}")
    expect(page.locator("[data-testid=step-2]")).not_to_contain_text("Karim Haddad")

    # when they tick the second step and run the timer
    page.click("[data-testid=tick-2]")
    expect(page.locator("[data-testid=open-required]")).to_have_count(0)
    second = ticket.checklist.get(position=2)
    expect(page.locator("[data-testid=step-2]")).to_contain_text(f"Karim Haddad {_when(second.done_at)}")
    page.click("[data-testid=start-timer]")
    expect(page.locator("[data-testid=timer-running]")).to_be_visible()
    page.fill("#timer-notes", "Installed and joined")
    page.click("[data-testid=stop-timer]")

    # then the timer's entry is on the page: their name, the minute worked, not running any more
    expect(page.locator("[data-testid=time-totals]")).to_contain_text("1 min worked")
    entry = TimeEntry.objects.get(ticket=ticket)
    assert (entry.user_id, entry.actual_minutes, entry.is_running, entry.notes) == (tech.pk, 1, False,
                                                                                   "Installed and joined")
    row = page.locator("[data-testid=time-entries] tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text(_when(entry.started_at))
    expect(row.locator("td").nth(1)).to_have_text("Karim Haddad")
    expect(row.locator("td").nth(2)).to_have_text("1")

    # when they answer the client, write an internal note, and resolve
    page.fill("#id_body", "Your new workstation is ready, you can sign in.")
    page.click("[data-testid=send-reply]")
    page.fill("#id_body", "INTERNAL-ONLY local admin password is in the vault")
    page.uncheck("#id_public")
    page.click("[data-testid=send-reply]")
    page.select_option("#id_status", "resolved")
    page.fill("#id_resolution", "Workstation delivered")
    page.click("[data-testid=change-status]")
    expect(page.locator("[data-testid=ticket-status]")).to_have_text("Resolved")

    # then Alice, in her own browser, finds the ticket resolved with the answer but not the internal note
    portal_context = browser.new_context()
    try:
        portal = portal_context.new_page()
        browser_log_in(portal, live_server.url, portal_user)
        portal.goto(f"{live_server.url}/portal/tickets/?show=all")
        portal.click(f"text={ticket.number}")
        expect(portal.locator("[data-testid=ticket-status]")).to_have_text("Resolved")
        expect(portal.locator("[data-testid=timeline]")).to_contain_text(
            "Your new workstation is ready, you can sign in.")
        expect(portal.locator("[data-testid=timeline]")).not_to_contain_text("INTERNAL-ONLY")
        expect(portal.locator("[data-testid=survey-form]")).to_have_count(0)

        # when the technician closes it
        page.select_option("#id_status", "closed")
        page.click("[data-testid=change-status]")
        expect(page.locator("[data-testid=ticket-status]")).to_have_text("Closed")
        expect(page.locator("[data-testid=ticket-survey]")).to_contain_text("Not answered yet")

        # then Alice sees it closed and answers the survey: three scores and a comment
        portal.reload()
        expect(portal.locator("[data-testid=ticket-status]")).to_have_text("Closed")
        form = portal.locator("[data-testid=survey-form]")
        form.locator("input[name=professionalism][value='5']").check()
        form.locator("input[name=accuracy][value='4']").check()
        form.locator("input[name=speed][value='3']").check()
        form.locator("textarea[name=comment]").fill("Quick and clear.")
        form.locator("button[type=submit]").click()
        expect(portal.locator("[data-testid=survey-done]")).to_contain_text(
            "professionalism 5/5, accuracy 4/5, speed 3/5")
    finally:
        portal_context.close()
    survey = SurveyResponse.objects.get(ticket=ticket)
    assert (survey.professionalism, survey.accuracy, survey.speed, survey.comment, survey.answered_by_user_id,
            survey.technician_id) == (5, 4, 3, "Quick and clear.", portal_user.pk, tech.pk)

    # when the technician looks again at the ticket, then at the survey results
    page.reload()

    # then both show Alice's answer
    expect(page.locator("[data-testid=ticket-survey]")).to_contain_text(
        f"Professionalism 5/5, accuracy 4/5, speed 3/5 (answered {_when(survey.answered_at)}).")
    expect(page.locator("[data-testid=ticket-survey]")).to_contain_text("Quick and clear.")
    page.goto(f"{live_server.url}/service-desk/email/surveys/?group=technician")
    results = page.locator("[data-testid=survey-results] tbody tr", has_text="Karim Haddad")
    expect(results.locator("td")).to_have_text(["Karim Haddad", "1", "1", "100.0 %", "5.0", "4.0", "3.0", "4.0"])
    expect(page.locator("main")).to_contain_text(
        f"Menuiserie Blanc · {ticket.number} · Karim Haddad: “Quick and clear.”")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution, ticket.checklist.filter(done_by=tech).count()) == (
        "closed", "Workstation delivered", 2)
