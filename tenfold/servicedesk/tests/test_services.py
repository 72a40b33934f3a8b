"""Service desk writes: templates and checklists, time and approval, merge, opportunity, alerts, recurring,
forged ids, roles."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.assets.models import Device
from tenfold.clients.models import Contact
from tenfold.contracts.models import RoundingRule
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry, OutboxEvent
from tenfold.core.roles import Role
from tenfold.knowledge.models import Runbook, RunbookStep
from tenfold.monitoring.models import Alert
from tenfold.servicedesk import selectors, services
from tenfold.servicedesk.models import RecurringTicket, Ticket, TicketTemplate, TimeEntry
from tenfold.servicedesk.tests.factories import make_client, make_contract

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def tech():  # type: ignore[no-untyped-def]
    return make_staff(Role.TECHNICIAN, mfa=False)


def runbook_with_steps() -> Runbook:
    runbook = Runbook.objects.create(title="Workstation setup", slug="workstation-setup-test")
    RunbookStep.objects.create(runbook=runbook, position=1, text="Join the domain", required=True)
    RunbookStep.objects.create(runbook=runbook, position=2, text="Install the antivirus", required=True)
    RunbookStep.objects.create(runbook=runbook, position=3, text="Label the machine", required=False)
    return runbook


def test_a_template_copies_its_runbook_steps_and_required_steps_block_resolving(tech):  # type: ignore[no-untyped-def]
    # given a template bound to a runbook of three steps (two required)
    client = make_client()
    template = TicketTemplate.objects.create(name="New PC", title="Set up a workstation", type="request",
                                             priority="p4", runbook_id=runbook_with_steps().pk)
    # when a ticket opens from it
    ticket = services.ticket_create(actor=tech, client=client, data={"template_id": template.pk})
    steps = list(selectors.checklist(ticket))
    # then the ticket has the template's values and the steps in order
    assert (ticket.title, ticket.type, ticket.priority, ticket.template_id) == (
        "Set up a workstation", "request", "p4", template.pk)
    assert [(s.position, s.text, s.required) for s in steps] == [
        (1, "Join the domain", True), (2, "Install the antivirus", True), (3, "Label the machine", False)]
    # and resolving is refused while a required step is open, with nothing changed
    services.checklist_item_set_done(actor=tech, item=steps[0], done=True)
    with pytest.raises(Conflict, match="1 required checklist step"):
        services.ticket_set_status(actor=tech, ticket=ticket, status="resolved")
    assert Ticket.objects.get(pk=ticket.pk).status == "new"
    # ticking records who and when; then it resolves
    with time_machine.travel(utc(2026, 3, 2, 10, 0), tick=False):
        item = services.checklist_item_set_done(actor=tech, item=steps[1], done=True)
    assert (item.done_by_id, item.done_at) == (tech.pk, utc(2026, 3, 2, 10, 0))
    services.ticket_set_status(actor=tech, ticket=ticket, status="resolved", resolution="Done")
    assert Ticket.objects.get(pk=ticket.pk).status == "resolved"


def test_forged_contact_or_device_of_another_client_is_refused_and_nothing_is_created(tech):  # type: ignore[no-untyped-def]
    client, other = make_client("A SARL"), make_client("B SARL")
    foreign_contact = Contact.objects.create(client=other, first_name="Eve", last_name="Other")
    foreign_device = Device.objects.create(client=other, name="B-PC")
    before = (Ticket.objects.count(), AuditEntry.objects.count(), OutboxEvent.objects.count())
    with pytest.raises(ValidationError) as contact_error:
        services.ticket_create(actor=tech, client=client, data={"title": "x", "contact_id": foreign_contact.pk})
    with pytest.raises(ValidationError) as device_error:
        services.ticket_create(actor=tech, client=client, data={"title": "x", "device_ids": [foreign_device.pk]})
    assert contact_error.value.field == "contact" and device_error.value.field == "devices"
    assert (Ticket.objects.count(), AuditEntry.objects.count(), OutboxEvent.objects.count()) == before


def test_a_restricted_technician_cannot_open_a_ticket_for_another_client():  # type: ignore[no-untyped-def]
    client, other = make_client("A SARL"), make_client("B SARL")
    restricted = make_staff(Role.TECHNICIAN, clients=[client], restricted=True, mfa=False)
    with pytest.raises(PermissionDenied):
        services.ticket_create(actor=restricted, client=other, data={"title": "x"})
    assert Ticket.objects.count() == 0


def test_an_account_manager_may_read_but_not_reply(tech):  # type: ignore[no-untyped-def]
    ticket = services.ticket_create(actor=tech, client=make_client(), data={"title": "x"})
    manager = make_staff(Role.ACCOUNT_MANAGER, mfa=False)
    entries = ticket.entries.count()
    with pytest.raises(PermissionDenied):
        services.ticket_reply(actor=manager, ticket=ticket, body="hi", public=True)
    assert ticket.entries.count() == entries


def test_time_is_rounded_by_the_contract_priced_and_awaits_approval(tech):  # type: ignore[no-untyped-def]
    # given a time-and-materials contract: 15-minute increments rounded up, 30 minutes minimum, 120/h
    client = make_client()
    rule = RoundingRule.objects.create(name="Quarter, 30 min minimum", increment_minutes=15, minimum_minutes=30)
    make_contract(client, type="time_materials", rule=rule, out_of_scope_rate=Decimal("120.00"))
    ticket = services.ticket_create(actor=tech, client=client, data={"title": "Server slow"})
    # when the technician (cost 40/h, bill 90/h in their profile) logs 37 then 10 minutes
    long = services.time_entry_create(actor=tech, ticket=ticket, data={"actual_minutes": 37})
    short = services.time_entry_create(actor=tech, ticket=ticket, data={"actual_minutes": 10})
    # then 37 → 45 billable, 10 → 30 (minimum); out of scope at the contract's rate; cost kept on the entry
    assert (long.billable_minutes, short.billable_minutes) == (45, 30)
    assert (long.coverage, long.rate, long.cost_rate) == ("out_of_scope", Decimal("120.00"), Decimal("40.00"))
    assert long.amount == Decimal("90.00") and long.cost == Decimal("24.67")
    assert long.approval_status == "pending"
    # and a technician cannot approve; finance can
    with pytest.raises(PermissionDenied):
        services.time_entry_approve(actor=tech, entry=long)
    finance = make_staff(Role.FINANCE, mfa=False)
    services.time_entry_approve(actor=finance, entry=long)
    assert TimeEntry.objects.get(pk=long.pk).approval_status == "approved"
    assert list(selectors.approval_queue(finance)) == [short]
    with pytest.raises(Conflict):
        services.time_entry_update(actor=tech, entry=TimeEntry.objects.get(pk=long.pk), data={"actual_minutes": 5})


def test_the_timer_runs_once_per_user_and_counts_started_minutes(tech):  # type: ignore[no-untyped-def]
    client = make_client()
    first = services.ticket_create(actor=tech, client=client, data={"title": "one"})
    second = services.ticket_create(actor=tech, client=client, data={"title": "two"})
    with time_machine.travel(utc(2026, 3, 2, 9, 0, 0), tick=False):
        entry = services.timer_start(actor=tech, ticket=first)
    with pytest.raises(ValidationError, match="already have a running timer"):
        services.timer_start(actor=tech, ticket=second)
    with time_machine.travel(utc(2026, 3, 2, 9, 21, 10), tick=False):
        stopped = services.timer_stop(actor=tech, entry=entry)
    # 21 min 10 s: 22 started minutes; no contract, no rounding rule, the profile's 90/h
    assert (stopped.is_running, stopped.actual_minutes, stopped.billable_minutes, stopped.rate) == (
        False, 22, 22, Decimal("90.00"))
    assert stopped.ended_at == utc(2026, 3, 2, 9, 21, 10)


def test_merge_moves_time_and_closes_the_duplicate(tech):  # type: ignore[no-untyped-def]
    client = make_client()
    target = services.ticket_create(actor=tech, client=client, data={"title": "Mail down"})
    duplicate = services.ticket_create(actor=tech, client=client, data={"title": "No email"})
    services.time_entry_create(actor=tech, ticket=duplicate, data={"actual_minutes": 10})
    services.ticket_merge(actor=tech, source=duplicate, target=target)
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == ("closed", target.pk)
    assert target.time_entries.count() == 1
    other = services.ticket_create(actor=tech, client=make_client("Other"), data={"title": "x"})
    with pytest.raises(ValidationError):
        services.ticket_merge(actor=tech, source=other, target=target)


def test_opportunity_flag_emits_the_event_for_sales(tech):  # type: ignore[no-untyped-def]
    ticket = services.ticket_create(actor=tech, client=make_client(), data={"title": "Old firewall"})
    services.ticket_flag_opportunity(actor=tech, ticket=ticket, note="Firewall out of support")
    event = OutboxEvent.objects.get(name="ticket.opportunity_flagged")
    assert event.payload == {"ticket_id": ticket.pk, "number": ticket.number, "client_id": ticket.client_id,
                             "technician_id": tech.pk, "note": "Firewall out of support"}


def test_an_alert_opens_one_ticket_however_often_it_is_asked(tech):  # type: ignore[no-untyped-def]
    client = make_client()
    device = Device.objects.create(client=client, name="SRV-01", kind="server")
    alert = Alert.objects.create(client=client, device=device, kind="offline", severity="critical",
                                 title="SRV-01 offline")
    first = services.ticket_open_for_alert(alert, actor=tech)
    again = services.ticket_open_for_alert(alert)
    assert first.pk == again.pk and Ticket.objects.filter(alert=alert).count() == 1
    assert (first.priority, first.source, list(first.devices.values_list("pk", flat=True))) == ("p1", "alert",
                                                                                               [device.pk])
    assert first.entries.filter(kind="alert_link", alert=alert).count() == 1


def test_a_recurring_ticket_opens_once_per_due_time():  # type: ignore[no-untyped-def]
    client = make_client()
    template = TicketTemplate.objects.create(name="Monthly check", title="Monthly server check")
    row = RecurringTicket.objects.create(client=client, template=template, unit="months", interval=1,
                                         next_run_at=utc(2026, 1, 31, 8, 0))
    assert services.run_due_recurring(utc(2026, 1, 31, 7, 59)) == 0
    assert services.run_due_recurring(utc(2026, 1, 31, 8, 0)) == 1
    assert services.run_due_recurring(utc(2026, 1, 31, 8, 1)) == 0
    row.refresh_from_db()
    # the 31st becomes the last day of February
    assert row.next_run_at == utc(2026, 2, 28, 8, 0)
    ticket = Ticket.objects.get(recurring=row)
    assert (ticket.title, ticket.source, ticket.recurrence_due_at) == ("Monthly server check", "recurring",
                                                                       utc(2026, 1, 31, 8, 0))


def test_a_portal_user_opens_for_their_company_only_and_sees_no_internal_note(tech):  # type: ignore[no-untyped-def]
    client = make_client()
    contact = Contact.objects.create(client=client, first_name="Ana", last_name="Client")
    portal = make_portal_user(client, contact=contact)
    ticket = services.ticket_create(actor=portal, client=client, data={"title": "Printer"})
    assert (ticket.source, ticket.contact_id) == ("portal", contact.pk)
    services.ticket_reply(actor=tech, ticket=ticket, body="internal <script>x</script>", public=False)
    services.ticket_reply(actor=tech, ticket=ticket, body="We are on it", public=True)
    assert [e.body for e in selectors.timeline(portal, ticket) if e.body] == ["We are on it"]
    with pytest.raises(ValidationError):
        services.ticket_create(actor=portal, client=client, data={"title": "x", "assignee_id": tech.pk})


def test_ticket_search_finds_resolution_notes_only_for_who_may_see(tech):  # type: ignore[no-untyped-def]
    client, other = make_client("A SARL"), make_client("B SARL")
    ticket = services.ticket_create(actor=tech, client=client, data={"title": "Outlook crash"})
    services.ticket_set_status(actor=tech, ticket=ticket, status="resolved", resolution="Rebuilt the OST profile")
    assert [h.title for h in selectors.search_tickets(tech, "ost profile", 10)] == [f"{ticket.number} Outlook crash"]
    restricted = make_staff(Role.TECHNICIAN, clients=[other], restricted=True, mfa=False)
    assert selectors.search_tickets(restricted, "ost profile", 10) == []
