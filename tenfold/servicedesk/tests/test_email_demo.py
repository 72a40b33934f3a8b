"""The demo has email-sourced tickets, client mail domains, survey answers and a message in triage."""

from __future__ import annotations

import pytest

from tenfold.accounts.models import User
from tenfold.conftest import DemoDatabase
from tenfold.servicedesk.models import Ticket, TicketSource
from tenfold.servicedesk.models_email import ClientEmailDomain, InboundEmail
from tenfold.servicedesk.models_surveys import SurveyResponse
from tenfold.servicedesk.surveys import survey_rollup

pytestmark = pytest.mark.django_db


def test_demo_email_tickets_and_surveys(demo: DemoDatabase) -> None:
    email_tickets = Ticket.objects.filter(source=TicketSource.EMAIL)
    assert email_tickets.count() >= 12
    assert ClientEmailDomain.objects.count() >= 5
    assert InboundEmail.objects.filter(status="triage").count() == 1
    answered = SurveyResponse.objects.filter(answered_at__isnull=False)
    assert answered.count() >= 3
    assert all(1 <= s.professionalism <= 5 for s in answered)  # type: ignore[operator]
    owner = User.objects.get(email__startswith="owner@")
    total, rows = survey_rollup(owner, group="technician")
    # one row per technician with surveys sent (the demo's two years of history bring a third technician)
    sent_to = SurveyResponse.objects.values("technician").distinct().count()
    assert total.answered == answered.count() and len(rows) == sent_to >= 2
