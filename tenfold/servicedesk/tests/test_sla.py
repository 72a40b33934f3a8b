"""SLA clocks with exact due times across business hours, holidays, time zones, DST and pauses."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from tenfold.accounts.testing import make_staff
from tenfold.core.models import OutboxEvent
from tenfold.core.roles import Role
from tenfold.servicedesk import services
from tenfold.servicedesk.tests.factories import make_calendar, make_client, make_contract, make_policy

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def open_ticket(at: datetime, client, tech, priority: str = "p3"):  # type: ignore[no-untyped-def]
    with time_machine.travel(at, tick=False):
        return services.ticket_create(actor=tech, client=client, data={"title": "Printer down", "priority": priority})


@pytest.fixture
def paris():  # type: ignore[no-untyped-def]
    client = make_client()
    calendar = make_calendar()
    policy = make_policy(calendar)
    contract = make_contract(client, policy=policy)
    return {"client": client, "calendar": calendar, "policy": policy, "contract": contract,
            "tech": make_staff(Role.TECHNICIAN, mfa=False)}


def test_due_times_run_in_business_hours_across_a_weekend(paris):  # type: ignore[no-untyped-def]
    # given Mon–Fri 9:00–17:00 Paris (UTC+1 in March), P3: 240 min first response, 1440 min resolution
    # when a ticket opens on Thursday 5 March 2026 at 15:00 Paris
    ticket = open_ticket(utc(2026, 3, 5, 14, 0), paris["client"], paris["tech"])
    # then Thu 2 h + Fri 2 h → Friday 11:00 Paris; Thu 2 + Fri 8 + Mon 8 + Tue 6 h → Tuesday 15:00 Paris
    assert ticket.contract_id == paris["contract"].pk
    assert ticket.first_response_due_at == utc(2026, 3, 6, 10, 0)
    assert ticket.resolution_due_at == utc(2026, 3, 10, 14, 0)
    # 80 % of 1440 min = 1152 min = 19 h 12: Thu 2 + Fri 8 + Mon 8 + Tue 1 h 12 → Tuesday 10:12 Paris
    assert ticket.resolution_warn_at == utc(2026, 3, 10, 9, 12)
    # 80 % of 240 min = 192 min: Thu 2 h + Fri 1 h 12 → Friday 10:12 Paris
    assert ticket.first_response_warn_at == utc(2026, 3, 6, 9, 12)


def test_a_holiday_moves_the_due_time_to_the_next_working_day(paris):  # type: ignore[no-untyped-def]
    # given Friday 6 March 2026 is a holiday on the contract's calendar
    paris["calendar"].holidays.create(date=date(2026, 3, 6))
    # when a ticket opens on Thursday at 15:00 Paris
    ticket = open_ticket(utc(2026, 3, 5, 14, 0), paris["client"], paris["tech"])
    # then the 2 h left after Thursday are spent on Monday 9 March: 11:00 Paris
    assert ticket.first_response_due_at == utc(2026, 3, 9, 10, 0)


def test_due_time_across_the_change_to_summer_time(paris):  # type: ignore[no-untyped-def]
    # given Paris moves to UTC+2 on Sunday 29 March 2026
    # when a ticket opens on Friday 27 March at 16:00 Paris (15:00 UTC)
    ticket = open_ticket(utc(2026, 3, 27, 15, 0), paris["client"], paris["tech"])
    # then Fri 1 h + Mon 3 h → Monday 30 March 12:00 Paris, now 10:00 UTC
    assert ticket.first_response_due_at == utc(2026, 3, 30, 10, 0)


def test_a_calendar_in_another_time_zone(paris):  # type: ignore[no-untyped-def]
    # given the contract's own calendar is New York 9:00–17:00 (UTC−5 in early March 2026)
    client = make_client("Hudson Dental")
    calendar = make_calendar("New York office", time_zone="America/New_York")
    make_contract(client, policy=paris["policy"], calendar=calendar)
    # when a ticket opens at 14:00 UTC on Thursday 5 March (09:00 in New York)
    ticket = open_ticket(utc(2026, 3, 5, 14, 0), client, paris["tech"])
    # then 240 business minutes later is 13:00 New York = 18:00 UTC
    assert ticket.sla_calendar_id == calendar.pk
    assert ticket.first_response_due_at == utc(2026, 3, 5, 18, 0)


def test_waiting_on_the_client_pauses_the_clocks_and_moves_the_due_times(paris):  # type: ignore[no-untyped-def]
    # given a ticket opened Monday 2 March 2026 at 09:00 Paris: due Monday 13:00 / Wednesday 17:00 Paris
    ticket = open_ticket(utc(2026, 3, 2, 8, 0), paris["client"], paris["tech"])
    assert ticket.first_response_due_at == utc(2026, 3, 2, 12, 0)
    assert ticket.resolution_due_at == utc(2026, 3, 4, 16, 0)
    # when it waits on the client from Monday 10:00 to Tuesday 10:00 Paris (7 h + 1 h of business time)
    with time_machine.travel(utc(2026, 3, 2, 9, 0), tick=False):
        services.ticket_set_status(actor=paris["tech"], ticket=ticket, status="waiting_client")
    assert ticket.paused_at == utc(2026, 3, 2, 9, 0)
    with time_machine.travel(utc(2026, 3, 3, 9, 0), tick=False):
        services.ticket_set_status(actor=paris["tech"], ticket=ticket, status="in_progress")
    ticket.refresh_from_db()
    # then both clocks moved by 8 business hours
    assert ticket.paused_seconds == 8 * 3600
    assert ticket.paused_at is None
    assert ticket.first_response_due_at == utc(2026, 3, 3, 12, 0)
    assert ticket.resolution_due_at == utc(2026, 3, 5, 16, 0)


def test_a_pause_outside_business_hours_moves_nothing(paris):  # type: ignore[no-untyped-def]
    # given a ticket opened Friday 6 March at 16:00 Paris
    ticket = open_ticket(utc(2026, 3, 6, 15, 0), paris["client"], paris["tech"])
    due = ticket.resolution_due_at
    # when it waits from Friday 17:30 to Monday 08:30 Paris (the office is closed all that time)
    with time_machine.travel(utc(2026, 3, 6, 16, 30), tick=False):
        services.ticket_set_status(actor=paris["tech"], ticket=ticket, status="waiting_third_party")
    with time_machine.travel(utc(2026, 3, 9, 7, 30), tick=False):
        services.ticket_set_status(actor=paris["tech"], ticket=ticket, status="in_progress")
    ticket.refresh_from_db()
    # then no business time was paused
    assert ticket.paused_seconds == 0
    assert ticket.resolution_due_at == due == utc(2026, 3, 11, 15, 0)


def test_attainment_is_recorded_with_pauses_excluded(paris):  # type: ignore[no-untyped-def]
    # given a P1 ticket (30 min first response, 240 min resolution) opened Monday 2 March 09:00 Paris
    ticket = open_ticket(utc(2026, 3, 2, 8, 0), paris["client"], paris["tech"], priority="p1")
    # when the first public reply comes at 09:45 (45 business minutes: late)
    with time_machine.travel(utc(2026, 3, 2, 8, 45), tick=False):
        services.ticket_reply(actor=paris["tech"], ticket=ticket, body="Looking into it.", public=True)
    # and it waits on the client 10:00–15:00, then is resolved at 15:30 (1 h + 30 min of running time)
    with time_machine.travel(utc(2026, 3, 2, 9, 0), tick=False):
        services.ticket_set_status(actor=paris["tech"], ticket=ticket, status="waiting_client")
    with time_machine.travel(utc(2026, 3, 2, 14, 0), tick=False):
        services.ticket_set_status(actor=paris["tech"], ticket=ticket, status="in_progress")
    with time_machine.travel(utc(2026, 3, 2, 14, 30), tick=False):
        services.ticket_set_status(actor=paris["tech"], ticket=ticket, status="resolved", resolution="Toner")
    ticket.refresh_from_db()
    # then the first response missed, the resolution (90 running minutes of 240) met
    assert ticket.first_responded_at == utc(2026, 3, 2, 8, 45)
    assert ticket.sla_first_response_met is False
    assert ticket.sla_resolution_met is True
    assert ticket.resolved_at == utc(2026, 3, 2, 14, 30)
    assert ticket.paused_seconds == 5 * 3600


def test_a_ticket_without_contract_uses_the_default_policy():  # type: ignore[no-untyped-def]
    # given a client without any contract; the default policy ("Standard") from the migrations
    from tenfold.contracts.models import SlaPolicy

    client = make_client("No Contract SARL")
    tech = make_staff(Role.TECHNICIAN, mfa=False)
    default = SlaPolicy.objects.get(is_default=True)
    ticket = open_ticket(utc(2026, 3, 2, 8, 0), client, tech)
    assert ticket.contract_id is None
    assert ticket.sla_policy_id == default.pk
    assert ticket.first_response_target_minutes == default.p3_first_response_minutes


def test_the_tick_emits_warning_and_breach_once_each(paris):  # type: ignore[no-untyped-def]
    # given a ticket due Monday 2 March 13:00 Paris (first response), warned at 12:12
    ticket = open_ticket(utc(2026, 3, 2, 8, 0), paris["client"], paris["tech"])

    def names() -> list[str]:
        return sorted(OutboxEvent.objects.filter(name__startswith="ticket.sla_").values_list("name", flat=True))

    # when the tick runs before the warning time: nothing
    assert services.sla_tick(utc(2026, 3, 2, 11, 11)) == {"warning": 0, "breached": 0}
    # at the warning time, once, however often it runs
    assert services.sla_tick(utc(2026, 3, 2, 11, 12)) == {"warning": 1, "breached": 0}
    assert services.sla_tick(utc(2026, 3, 2, 11, 30)) == {"warning": 0, "breached": 0}
    # at the first-response due time: the breach, once
    assert services.sla_tick(utc(2026, 3, 2, 12, 0)) == {"warning": 0, "breached": 1}
    assert services.sla_tick(utc(2026, 3, 2, 12, 1)) == {"warning": 0, "breached": 0}
    assert names() == ["ticket.sla_breached", "ticket.sla_warning"]
    event = OutboxEvent.objects.get(name="ticket.sla_breached")
    assert event.payload["ticket_id"] == ticket.pk and event.payload["clock"] == "first_response"


def test_a_paused_ticket_is_not_warned(paris):  # type: ignore[no-untyped-def]
    ticket = open_ticket(utc(2026, 3, 2, 8, 0), paris["client"], paris["tech"])
    with time_machine.travel(utc(2026, 3, 2, 8, 30), tick=False):
        services.ticket_set_status(actor=paris["tech"], ticket=ticket, status="waiting_client")
    assert services.sla_tick(utc(2026, 3, 2, 15, 0)) == {"warning": 0, "breached": 0}


def test_a_new_priority_restarts_the_targets_from_the_opening(paris):  # type: ignore[no-untyped-def]
    ticket = open_ticket(utc(2026, 3, 2, 8, 0), paris["client"], paris["tech"])
    with time_machine.travel(utc(2026, 3, 2, 8, 10), tick=False):
        services.ticket_update(actor=paris["tech"], ticket=ticket, data={"priority": "p1"})
    ticket.refresh_from_db()
    # P1: 30 min first response from Monday 09:00 Paris
    assert ticket.first_response_due_at == utc(2026, 3, 2, 8, 30)
    assert ticket.resolution_due_at == utc(2026, 3, 2, 12, 0)
