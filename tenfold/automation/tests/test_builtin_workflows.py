"""The shipped workflows are the automatic path from an alert to a ticket: one ticket per alert (the alert
page's button finds the same one), a re-raised alert of the same device and check joins the open ticket, and
a resolved alert closes its ticket only when nobody worked on it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.automation.models import Workflow, WorkflowRun
from tenfold.automation.tests.workflow_helpers import deliver, disk_check, raise_alert, resolve_alert
from tenfold.clients.models import Client
from tenfold.core.roles import Role
from tenfold.monitoring.tests.factories import make_device
from tenfold.servicedesk import services as desk
from tenfold.servicedesk.models import EntryKind, Ticket, TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client.objects.create(name="Boulangerie Martin", status="active")


def test_the_builtin_workflows_are_shipped_enabled_and_editable() -> None:
    shipped = {w.builtin_key: w for w in Workflow.objects.exclude(builtin_key="")}
    assert set(shipped) == {"alert-ticket", "alert-resolved-close"}
    assert all(w.enabled and w.current_version.number == 1 for w in shipped.values())
    assert shipped["alert-ticket"].trigger_event == "alert.raised"
    # a shipped definition passes the same validation as any saved one (so it can be edited and saved)
    from tenfold.automation.workflows import validate_definition

    for workflow in shipped.values():
        assert validate_definition(workflow.current_version.definition) == workflow.current_version.definition


def test_one_ticket_per_alert_whichever_path_and_however_often_delivered(client: Client) -> None:
    device = make_device(client, name="SRV-FILES")
    check = disk_check(client)
    alert = raise_alert(device, check)
    deliver()
    ticket = Ticket.objects.get()
    assert (ticket.alert_id, ticket.source, ticket.priority, ticket.title) == (
        alert.pk, "alert", "p1", alert.title)
    assert list(ticket.devices.values_list("pk", flat=True)) == [device.pk]
    # the alert page's button (as a technician) finds the same ticket
    technician = make_staff(Role.TECHNICIAN, mfa=False)
    assert desk.ticket_open_for_alert(alert, actor=technician).pk == ticket.pk
    # a second delivery of the event changes nothing
    from tenfold.automation import workflows
    from tenfold.core.models import OutboxEvent

    workflows.on_event(OutboxEvent.objects.get(name="alert.raised"))
    assert Ticket.objects.count() == 1 and WorkflowRun.objects.filter(trigger="alert.raised").count() == 1


def test_a_raised_again_alert_of_the_same_device_and_check_joins_the_open_ticket(client: Client) -> None:
    device = make_device(client, name="SRV-FILES")
    check = disk_check(client)
    first = raise_alert(device, check)
    deliver()
    ticket = Ticket.objects.get()
    # a technician works on it, so the resolution leaves it open
    desk.ticket_reply(actor=make_staff(Role.TECHNICIAN, mfa=False), ticket=ticket, body="Looking at it", public=True)
    resolve_alert(device, check)
    deliver()
    second = raise_alert(device, check)
    deliver()
    assert second.pk != first.pk
    assert Ticket.objects.count() == 1
    assert ticket.entries.filter(kind=EntryKind.ALERT_LINK, alert=second).exists()
    run = WorkflowRun.objects.filter(trigger="alert.raised").order_by("-pk").first()
    assert run.steps.get().reason.startswith(f"Added to the open ticket {ticket.number} of the same device and check.")


def test_a_resolved_alert_closes_its_untouched_ticket_with_a_note(client: Client) -> None:
    device = make_device(client, name="SRV-FILES")
    check = disk_check(client)
    raise_alert(device, check)
    deliver()
    ticket = Ticket.objects.get()
    resolve_alert(device, check)
    deliver()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    note = ticket.entries.get(kind=EntryKind.NOTE_INTERNAL)
    assert note.body == "The alert was resolved (check_passed)."
    run = WorkflowRun.objects.get(trigger="alert.resolved")
    assert [(s.step_id, s.status) for s in run.steps.order_by("sequence")] == [("note", "succeeded"),
                                                                                ("close", "succeeded")]


@pytest.mark.parametrize("work", ["public_reply", "time_entry"])
def test_a_resolved_alert_leaves_a_worked_on_ticket_open(client: Client, work: str) -> None:
    device = make_device(client, name="SRV-FILES")
    check = disk_check(client)
    raise_alert(device, check)
    deliver()
    ticket = Ticket.objects.get()
    technician = make_staff(Role.TECHNICIAN, mfa=False)
    if work == "public_reply":
        desk.ticket_reply(actor=technician, ticket=ticket, body="We are cleaning the disk.", public=True)
        why = "a public reply"
    else:
        desk.time_entry_create(actor=technician, ticket=ticket, data={
            "started_at": timezone.now(), "actual_minutes": 15, "billable": False, "notes": "Checked the disk"})
        why = "a time entry"
    status_before = Ticket.objects.get().status
    resolve_alert(device, check)
    deliver()
    ticket.refresh_from_db()
    assert ticket.status == status_before and ticket.status != TicketStatus.CLOSED
    run = WorkflowRun.objects.get(trigger="alert.resolved")
    close = run.steps.get(step_id="close")
    assert close.status == "skipped"
    assert close.reason.startswith(f"{ticket.number} left open: someone worked on it ({why}).")
