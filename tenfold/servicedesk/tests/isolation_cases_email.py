"""Isolation cases of the email channel, survey and portal ticket pages and API (loaded by the service
desk's isolation_cases)."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.clients.models import Contact
from tenfold.core.isolation import Case, World, register
from tenfold.servicedesk.models import Ticket, TicketEntry, TicketStatus
from tenfold.servicedesk.models_email import ClientEmailDomain, InboundEmail, InboundStatus, TicketAttachment
from tenfold.servicedesk.models_surveys import SurveyResponse
from tenfold.servicedesk.surveys import make_token

PORTAL_TICKET_A = "ISO-PORTAL-TICKET-A-7731"
DOMAIN_A = "iso-client-a.example"
SURVEY_TECH_A = "Surveytechalpha"
MODELS = (Ticket, TicketEntry, SurveyResponse, Contact, InboundEmail, ClientEmailDomain, TicketAttachment)


def mail(world: World) -> dict[str, Any]:
    """Client A's open ticket with an attachment, a closed ticket with an answered-later survey, a mail domain;
    an MSP-level message waiting in triage."""
    if "mail" not in world.extra:
        ticket = Ticket.objects.create(client=world.client_a, number="T-ISO-P1", title=PORTAL_TICKET_A)
        closed = Ticket.objects.create(client=world.client_a, number="T-ISO-P2", title="Closed A",
                                       status=TicketStatus.CLOSED, closed_at=timezone.now())
        tech = make_staff("technician", mfa=False, last_name=SURVEY_TECH_A)
        survey = SurveyResponse.objects.create(client=world.client_a, ticket=closed, technician=tech,
                                               expires_at=timezone.now() + timedelta(days=7))
        answered_ticket = Ticket.objects.create(client=world.client_a, number="T-ISO-P3", title="Answered A",
                                                status=TicketStatus.CLOSED)
        SurveyResponse.objects.create(client=world.client_a, ticket=answered_ticket, technician=tech,
                                      expires_at=timezone.now() + timedelta(days=7), answered_at=timezone.now(),
                                      professionalism=5, accuracy=4, speed=3, comment="ISO-SURVEY-COMMENT-A")
        attachment = TicketAttachment(client=world.client_a, ticket=ticket, filename="iso.txt",
                                      content_type="text/plain", size=5)
        attachment.file.save("iso.txt", ContentFile(b"hello"), save=True)
        domain = ClientEmailDomain.objects.create(client=world.client_a, domain=DOMAIN_A)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = (
            "stranger@unknown.example", "support@msp.test", "Who am I", "<iso-triage@unknown.example>")
        msg.set_content("Please help.")
        inbound = InboundEmail.objects.create(message_id="<iso-triage@unknown.example>", subject="Who am I",
                                              sender="stranger@unknown.example", status=InboundStatus.TRIAGE,
                                              raw=msg.as_bytes())
        world.extra["mail"] = {"ticket": ticket, "closed": closed, "survey": survey, "attachment": attachment,
                               "domain": domain, "inbound": inbound}
    return world.extra["mail"]


def _param(key: str, name: str) -> Any:
    def params(world: World) -> dict[str, Any]:
        return {name: mail(world)[key].pk}
    return params


def _built(world: World) -> dict[str, Any]:
    mail(world)
    return {}


def _leak(value: str) -> Any:
    def leak(world: World) -> str:
        mail(world)
        return value
    return leak


register(
    # Staff pages of the email channel and surveys
    Case("ui:servicedesk_email:triage", "list", "tickets", params=_built, staff_only=True,
         leak=lambda w: (mail(w), str(w.client_a.name))[1]),
    Case("ui:servicedesk_email:triage_assign", "create", "tickets", "add", method="POST",
         params=_param("inbound", "inbound_id"), body=lambda w: {"client_id": w.client_a.pk}, models=MODELS,
         staff_only=True),
    Case("ui:servicedesk_email:triage_dismiss", "object", "tickets", "delete", method="POST",
         params=_param("inbound", "inbound_id"), models=MODELS, staff_only=True, client_owned=False),
    Case("ui:servicedesk_email:domain_list", "list", "clients", params=_built, staff_only=True,
         leak=_leak(DOMAIN_A)),
    Case("ui:servicedesk_email:domain_delete", "object", "clients", "change", method="POST",
         params=_param("domain", "domain_id"), models=MODELS, staff_only=True),
    Case("ui:servicedesk_email:attachment_download", "object", "tickets", params=_param("attachment", "attachment_id")),
    Case("ui:servicedesk_email:survey_results", "list", "scorecards", params=_built, staff_only=True,
         leak=_leak(SURVEY_TECH_A)),
    Case("ui:survey:answer", "public", params=lambda w: {"token": make_token(mail(w)["survey"])}),
    # The portal's ticket pages
    Case("ui:portal:ticket_list", "list", "tickets", params=_built, portal_only=True, leak=_leak(PORTAL_TICKET_A)),
    Case("ui:portal:ticket_create", "create", "tickets", "add", method="POST", portal_only=True,
         body=lambda w: {"title": "Printer jam", "description": "Paper stuck.", "type": "incident",
                         "priority": "p3"}, models=MODELS),
    Case("ui:portal:ticket_detail", "object", "tickets", params=_param("ticket", "ticket_id"), portal_only=True),
    Case("ui:portal:ticket_reply", "object", "tickets", "change", method="POST", params=_param("ticket", "ticket_id"),
         body=lambda w: {"body": "Any news?"}, models=MODELS, portal_only=True),
    Case("ui:portal:ticket_survey", "object", "tickets", "change", method="POST", params=_param("closed", "ticket_id"),
         body=lambda w: {"professionalism": "5", "accuracy": "4", "speed": "5", "comment": "Great"},
         models=MODELS, portal_only=True),
    # API
    Case("api:GET /api/v1/email/status", "object", "settings", params=_built, staff_only=True, client_owned=False),
    Case("api:GET /api/v1/surveys/results", "list", "scorecards", params=_built, staff_only=True,
         leak=_leak(SURVEY_TECH_A)),
)
