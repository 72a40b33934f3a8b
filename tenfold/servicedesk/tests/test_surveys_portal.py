"""Surveys on close (email link, portal, rollups, API) and the portal's ticket pages (scope, history)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.test import override_settings
from django.utils import timezone

from tenfold.accounts.testing import bearer, make_api_token, make_portal_user, make_staff
from tenfold.clients.models import Client, Contact
from tenfold.core import events
from tenfold.core.errors import ValidationError
from tenfold.servicedesk.models import Ticket, TicketEntry, TicketStatus
from tenfold.servicedesk.models_surveys import SurveyResponse
from tenfold.servicedesk.services import ticket_reply, ticket_set_status
from tenfold.servicedesk.surveys import survey_answer, survey_rollup

pytestmark = pytest.mark.django_db


def _client(name: str, email: str) -> tuple[Client, Contact]:
    client = Client.objects.create(name=name, status="active")
    return client, Contact.objects.create(client=client, first_name="Alice", last_name=name, email=email)


def _ticket(client: Client, contact: Contact | None, tech: object = None, title: str = "Printer") -> Ticket:
    number = f"T-{Ticket.objects.count() + 900}"
    return Ticket.objects.create(client=client, contact=contact, title=title, number=number, assignee=tech)


def _close(ticket: Ticket, actor: object) -> None:
    ticket_set_status(actor=actor, ticket=ticket, status=TicketStatus.CLOSED)
    events.deliver_pending()


@override_settings(TENFOLD_BASE_URL="https://msp.test", TENFOLD_MAIL_ADDRESS="support@msp.test")
def test_closing_mails_a_one_click_survey_answered_once_without_login() -> None:
    client, contact = _client("Martin", "alice@martin.test")
    tech = make_staff("technician", mfa=False)
    ticket = _ticket(client, contact, tech)
    _close(ticket, tech)
    events.deliver_pending()
    surveys = [m for m in mail.outbox if "How did we do?" in m.subject]
    assert [(m.to, m.subject, m.reply_to) for m in surveys] == [
        (["alice@martin.test"], f"[{ticket.number}] How did we do?", ["support@msp.test"])]
    link = re.search(r"https://msp\.test(/survey/\S+/)", surveys[0].body)
    assert link is not None
    anonymous = HttpClient()
    assert anonymous.get(link.group(1)).status_code == 200
    assert SurveyResponse.objects.get().answered_at is None  # opening the link changes nothing
    response = anonymous.post(link.group(1), {"professionalism": "5", "accuracy": "4", "speed": "3",
                                              "comment": "<script>x</script> quick"})
    assert b"Thank you for your feedback." in response.content
    survey = SurveyResponse.objects.get()
    assert (survey.professionalism, survey.accuracy, survey.speed, survey.technician, survey.client) == (
        5, 4, 3, tech, client)
    again = anonymous.post(link.group(1), {"professionalism": "1", "accuracy": "1", "speed": "1"})
    assert b"already been answered" in again.content
    survey.refresh_from_db()
    assert survey.professionalism == 5
    assert anonymous.get(link.group(1)[:-5] + "xxxx/").status_code == 404  # altered token


def test_expired_survey_and_bad_scores_are_refused() -> None:
    client, contact = _client("Martin", "alice@martin.test")
    ticket = _ticket(client, contact)
    survey = SurveyResponse.objects.create(client=client, ticket=ticket, expires_at=timezone.now() - timedelta(days=1))
    with pytest.raises(ValidationError):
        survey_answer(survey=survey, data={"professionalism": 5, "accuracy": 5, "speed": 5})
    survey.expires_at = timezone.now() + timedelta(days=1)
    survey.save()
    with pytest.raises(ValidationError):
        survey_answer(survey=survey, data={"professionalism": 6, "accuracy": 5, "speed": 5})
    assert SurveyResponse.objects.get().answered_at is None


def test_rollup_per_technician_client_and_month_with_response_rate() -> None:
    a, ca = _client("Alpha", "a@alpha.test")
    b, cb = _client("Beta", "b@beta.test")
    t1 = make_staff("technician", mfa=False, first_name="Tom", last_name="One")
    t2 = make_staff("technician", mfa=False, first_name="Tia", last_name="Two")
    later = timezone.now() + timedelta(days=1)
    rows = [(a, ca, t1, (5, 5, 4)), (a, ca, t1, (3, 4, 5)), (b, cb, t1, None), (b, cb, t2, (2, 2, 2))]
    for client, contact, tech, scores in rows:
        survey = SurveyResponse.objects.create(client=client, ticket=_ticket(client, contact, tech), technician=tech,
                                               contact=contact, expires_at=later)
        if scores:
            survey_answer(survey=survey, data=dict(zip(("professionalism", "accuracy", "speed"), scores, strict=True)))
    manager = make_staff("service_manager")
    total, by_tech = survey_rollup(manager, group="technician")
    assert total.as_dict() == {"key": "total", "label": "All", "surveys": 4, "answered": 3, "response_rate": 75.0,
                               "professionalism": 3.33, "accuracy": 3.67, "speed": 3.67, "overall": 3.56}
    assert [(r.label, r.sent, r.answered, r.response_rate, r.professionalism, r.overall) for r in by_tech] == [
        ("Tom One", 3, 2, 66.7, 4.0, 4.33), ("Tia Two", 1, 1, 100.0, 2.0, 2.0)]
    _total, by_client = survey_rollup(manager, group="client")
    assert [(r.label, r.sent, r.answered) for r in by_client] == [("Alpha", 2, 2), ("Beta", 2, 1)]
    _total, by_month = survey_rollup(manager, group="month")
    assert [(r.label, r.sent) for r in by_month] == [(timezone.now().strftime("%Y-%m"), 4)]
    restricted = make_staff("technician", clients=[b], restricted=True, mfa=False)
    assert survey_rollup(restricted, group="client")[0].sent == 2
    http = HttpClient()
    response = http.get("/api/v1/surveys/results?group=client", **bearer(make_api_token(manager)))
    assert response.status_code == 200
    assert [(r["label"], r["response_rate"]) for r in response.json()["rows"]] == [("Alpha", 100.0), ("Beta", 50.0)]
    http.force_login(manager)
    page = http.get("/service-desk/email/surveys/?group=technician")
    assert page.status_code == 200 and b"Tom One" in page.content and b"66.7 %" in page.content
    assert http.get("/api/v1/surveys/results?group=bogus", **bearer(make_api_token(manager))).status_code == 422


def test_portal_scope_history_reply_and_survey() -> None:
    client, alice = _client("Martin", "alice@martin.test")
    bob = Contact.objects.create(client=client, first_name="Bob", last_name="Martin", email="bob@martin.test")
    other, eve = _client("Other", "eve@other.test")
    tech = make_staff("technician", mfa=False)
    mine = _ticket(client, alice, tech, "Alice's printer")
    bobs = _ticket(client, bob, tech, "Bob's laptop")
    foreign = _ticket(other, eve, tech, "Other's server")
    ticket_reply(actor=tech, ticket=mine, body="Internal: check the toner SECRET-NOTE", public=False)
    ticket_reply(actor=tech, ticket=mine, body="We are on it.", public=True)
    user = make_portal_user(client, "portal_user", contact=alice)
    admin = make_portal_user(client, "portal_admin")
    http = HttpClient()
    http.force_login(user)
    listing = http.get("/portal/tickets/?show=all").content.decode()
    assert "Alice&#x27;s printer" in listing and "Bob&#x27;s laptop" not in listing and "Other" not in listing
    detail = http.get(f"/portal/tickets/{mine.pk}/").content.decode()
    assert "We are on it." in detail and "SECRET-NOTE" not in detail
    assert http.get(f"/portal/tickets/{bobs.pk}/").status_code == 404
    before = TicketEntry.objects.count()
    assert http.post(f"/portal/tickets/{foreign.pk}/reply/", {"body": "hi"}).status_code == 404
    assert TicketEntry.objects.count() == before
    # a forged client id is ignored: the ticket opens for the user's own company
    response = http.post("/portal/tickets/new/", {"title": "New screen", "description": "Please", "type": "request",
                                                  "priority": "p3", "client_id": other.pk, "client": other.pk})
    created = Ticket.objects.get(title="New screen")
    assert response.status_code == 302 and (created.client, created.contact) == (client, alice)
    assert http.post(f"/portal/tickets/{mine.pk}/reply/", {"body": "Thanks!"}).status_code == 302
    assert mine.entries.filter(author_contact=alice, body="Thanks!", visible_to_client=True).exists()
    admin_http = HttpClient()
    admin_http.force_login(admin)
    assert "Bob&#x27;s laptop" in admin_http.get("/portal/tickets/?show=all").content.decode()
    # the survey of a closed ticket is answered in the portal
    _close(mine, tech)
    assert "survey-form" in http.get(f"/portal/tickets/{mine.pk}/").content.decode()
    http.post(f"/portal/tickets/{mine.pk}/survey/", {"professionalism": "4", "accuracy": "4", "speed": "5"})
    survey = SurveyResponse.objects.get(ticket=mine)
    assert (survey.professionalism, survey.speed, survey.answered_by_user) == (4, 5, user)
