"""The demo seed's service desk: queues, templates bound to the shipped runbooks, tickets in every status with
timelines, SLA states (some breached), time awaiting approval, a recurring ticket."""

from __future__ import annotations

import pytest

from tenfold.conftest import DemoDatabase
from tenfold.servicedesk.models import RecurringTicket, Ticket, TicketStatus, TicketTemplate, TimeEntry

pytestmark = pytest.mark.django_db


def test_demo_service_desk(demo: DemoDatabase) -> None:
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert set(TicketStatus.values) <= statuses
    assert Ticket.objects.filter(sla_resolution_breached=True).exists() or Ticket.objects.filter(
        sla_first_response_breached=True).exists()
    assert Ticket.objects.filter(sla_resolution_met=True).exists()
    assert TimeEntry.objects.filter(approval_status="pending").exists()
    assert TimeEntry.objects.filter(approval_status="approved").exists()
    workstation = TicketTemplate.objects.get(name="New workstation")
    assert workstation.runbook_id is not None
    assert Ticket.objects.filter(template=workstation, checklist__isnull=False).exists()
    assert RecurringTicket.objects.filter(is_active=True).count() == 1
    assert Ticket.objects.filter(opportunity_flagged=True).count() == 1
    assert Ticket.objects.filter(entries__kind="reply_public").exists()
