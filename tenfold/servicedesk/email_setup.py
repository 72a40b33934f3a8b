"""Wiring of the email channel and surveys, imported once by the service desk's `ready()`:
outbox handlers (mail goes out only after the change committed) and the mailbox poll schedule."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tenfold.core import events, navigation, scheduler
from tenfold.servicedesk import email_outbound, surveys

events.register("ticket.created", "servicedesk.email_ticket_created", email_outbound.on_ticket_created)
events.register("ticket.replied", "servicedesk.email_ticket_replied", email_outbound.on_ticket_replied)
events.register("ticket.closed", "servicedesk.survey_on_close", surveys.on_ticket_closed)
scheduler.register_builtin(scheduler.BuiltinSchedule(
    "servicedesk.mailbox", "tenfold.servicedesk.email_tasks.poll_mailbox", "* * * * *"))

navigation.register(navigation.NavItem("email-triage", _("Email"), "servicedesk_email:triage", "tickets", order=32))
navigation.register(navigation.NavItem("surveys", _("Surveys"), "servicedesk_email:survey_results", "scorecards",
                                       order=34))
