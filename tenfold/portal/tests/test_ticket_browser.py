"""Browser test: a portal user finds their closed ticket, reads its history and answers the survey."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_portal_user, make_staff
from tenfold.clients.models import Client, Contact
from tenfold.core.models import Organization
from tenfold.servicedesk.models import Ticket, TicketStatus
from tenfold.servicedesk.models_surveys import SurveyResponse
from tenfold.servicedesk.services import ticket_reply, ticket_set_status
from tenfold.servicedesk.surveys import open_survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_portal_user_sees_the_closed_ticket_and_answers_the_survey(page: Page, live_server) -> None:
    # given a closed ticket of the portal user's company, with a public reply and an internal note
    Organization.objects.update_or_create(pk=1, defaults={"default_language": "en"})
    client = Client.objects.create(name="Boulangerie Martin", status="active")
    alice = Contact.objects.create(client=client, first_name="Alice", last_name="Martin", email="alice@martin.test")
    tech = make_staff("technician", mfa=False, first_name="Thomas", last_name="Tech")
    ticket = Ticket.objects.create(client=client, contact=alice, title="Printer offline", number="T-000042",
                                   assignee=tech, description="The shop printer is offline.")
    ticket_reply(actor=tech, ticket=ticket, body="Spooler restarted, it prints again.", public=True)
    ticket_reply(actor=tech, ticket=ticket, body="INTERNAL-ONLY toner low", public=False)
    ticket_set_status(actor=tech, ticket=ticket, status=TicketStatus.CLOSED)
    open_survey(ticket)
    user = make_portal_user(client, "portal_user", contact=alice, mfa=True)
    browser_log_in(page, live_server.url, user)

    # when they open their tickets, all of them, and the closed one
    page.goto(f"{live_server.url}/portal/tickets/?show=all")
    page.click("text=T-000042")
    expect(page.locator("[data-testid=ticket-status]")).to_have_text("Closed")
    expect(page.locator("[data-testid=timeline]")).to_contain_text("Spooler restarted, it prints again.")
    expect(page.locator("[data-testid=timeline]")).not_to_contain_text("INTERNAL-ONLY")

    # and answer the survey
    form = page.locator("[data-testid=survey-form]")
    form.locator("input[name=professionalism][value='5']").check()
    form.locator("input[name=accuracy][value='4']").check()
    form.locator("input[name=speed][value='5']").check()
    form.locator("textarea[name=comment]").fill("Quick and clear.")
    form.locator("button[type=submit]").click()

    # then the answer is recorded once and shown
    expect(page.locator("[data-testid=survey-done]")).to_contain_text("professionalism 5/5, accuracy 4/5, speed 5/5")
    survey = SurveyResponse.objects.get(ticket=ticket)
    assert (survey.professionalism, survey.accuracy, survey.speed, survey.comment) == (5, 4, 5, "Quick and clear.")
    assert survey.answered_at is not None and survey.answered_at > timezone.now() - timedelta(minutes=5)
