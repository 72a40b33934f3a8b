"""Demo service desk: queues, templates bound to the shipped runbooks, tickets in every status with
timelines and SLA states (some breached), time entries (some awaiting approval), a recurring ticket."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.utils import timezone

TICKETS = [
    ("Printer on the first floor does not print", "p3", "incident", "The HP on the first floor shows 'offline'."),
    ("VPN disconnects every 10 minutes", "p2", "incident", "Since the router was replaced, home workers drop."),
    ("New starter on Monday: Julie Garnier", "p3", "request", "Account, laptop and phone for the new accountant."),
    ("Outlook asks for the password again and again", "p3", "incident", "Three users in sales since this morning."),
    ("Server room temperature alarm", "p1", "incident", "The sensor reads 31 °C."),
    ("Install the new accounting software", "p4", "change", "Version 2026 on the four finance workstations."),
    ("Shared drive is nearly full", "p2", "problem", "S: at 96 %; recurring every quarter."),
    ("Wi-Fi in the meeting room is slow", "p4", "incident", "Video calls freeze in room B."),
]
STATUSES = ["new", "in_progress", "waiting_client", "waiting_third_party", "resolved", "closed", "in_progress",
            "new"]


def seed_servicedesk(rng: random.Random, clients: list[Any], technicians: list[Any], manager: Any) -> int:
    """Seed the service desk; returns the number of tickets opened."""
    if not apps.is_installed("tenfold.servicedesk") or not technicians:
        return 0
    from tenfold.servicedesk import services
    from tenfold.servicedesk.models import Queue, RecurringTicket, TicketTemplate

    desk = Queue.objects.create(name="Service desk", description="Incidents and requests", is_default=True)
    onboarding = Queue.objects.create(name="Onboarding", description="New users and workstations")
    Queue.objects.create(name="Escalations", description="Second line and vendors")
    runbooks: dict[str, int] = {}
    if apps.is_installed("tenfold.knowledge"):
        from tenfold.knowledge.models import Runbook

        runbooks = dict(Runbook.objects.filter(slug__in=["workstation-setup", "new-user-onboarding"])
                        .values_list("slug", "pk"))
    workstation = TicketTemplate.objects.create(
        name="New workstation", title="Set up a workstation", type="request", priority="p3", queue=onboarding,
        description="Prepare, install and hand over a workstation.", runbook_id=runbooks.get("workstation-setup"))
    TicketTemplate.objects.create(
        name="New user", title="Onboard a new user", type="request", priority="p3", queue=onboarding,
        description="Accounts, licences, equipment.", runbook_id=runbooks.get("new-user-onboarding"))
    monthly = TicketTemplate.objects.create(name="Monthly server check", title="Monthly server health check",
                                            type="request", priority="p4", queue=desk,
                                            description="Backups, disks, event logs, pending updates.")
    now = timezone.now()
    opened = 0
    for c_index, client in enumerate(clients[:8]):
        contacts = list(client.contacts.order_by("pk")[:3])
        devices = list(client.devices.order_by("pk").values_list("pk", flat=True)[:3])
        for t_index in range(4 + c_index % 3):
            title, priority, kind, description = TICKETS[(c_index + t_index) % len(TICKETS)]
            tech = technicians[(c_index + t_index) % len(technicians)]
            status = STATUSES[(c_index * 3 + t_index) % len(STATUSES)]
            data: dict[str, Any] = {"title": title, "priority": priority, "type": kind, "description": description,
                                    "assignee_id": tech.pk, "contact_id": contacts[t_index % len(contacts)].pk
                                    if contacts else None, "device_ids": devices[:1]}
            if kind == "request" and t_index % 2 == 0:
                data = {**data, "template_id": workstation.pk}
            ticket = services.ticket_create(actor=tech, client=client, data=data,
                                            opened_at=now - timedelta(hours=rng.randint(2, 240)))
            opened += 1
            if status != "new":
                services.ticket_reply(actor=tech, ticket=ticket, body="Hello, I am looking into it now.", public=True)
                services.ticket_reply(actor=tech, ticket=ticket, public=False,
                                      body="Checked the event log: **no hardware error**.")
            for item in ticket.checklist.all():
                if status in ("resolved", "closed") or rng.random() < 0.4:
                    services.checklist_item_set_done(actor=tech, item=item, done=True)
            minutes = rng.choice([15, 25, 40, 55, 90])
            if status != "new":
                entry = services.time_entry_create(actor=tech, ticket=ticket, data={
                    "actual_minutes": minutes, "work_type": rng.choice(["remote", "onsite"]),
                    "billable": t_index % 2 == 0, "notes": "Diagnosis and fix"})
                if entry.approval_status == "pending" and (c_index + t_index) % 3 == 0:
                    services.time_entry_approve(actor=manager, entry=entry)
            if status in ("resolved", "closed"):
                services.ticket_set_status(actor=tech, ticket=ticket, status="resolved",
                                           resolution="Fixed; the user confirmed it works.")
            if status != "resolved" and status not in ("new", "in_progress"):
                services.ticket_set_status(actor=tech, ticket=ticket, status=status)
            if c_index == 1 and t_index == 0:
                services.ticket_flag_opportunity(actor=tech, ticket=ticket,
                                                 note="Their firewall is out of support: quote a replacement.")
    if clients:
        RecurringTicket.objects.create(client=clients[0], template=monthly, unit="months", interval=1,
                                       assignee=technicians[0], next_run_at=now + timedelta(days=3))
    services.sla_tick(now)
    return opened
