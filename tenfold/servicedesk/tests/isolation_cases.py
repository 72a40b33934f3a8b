"""Isolation cases of the service desk pages and API (see tenfold/core/isolation.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from tenfold.assets.models import Device
from tenfold.contracts.models import Project
from tenfold.core.isolation import Case, World, register
from tenfold.monitoring.models import Alert
from tenfold.servicedesk.models import (
    Queue,
    RecurringTicket,
    Ticket,
    TicketChecklistItem,
    TicketEntry,
    TicketTemplate,
    TimeEntry,
)

MODELS = (Ticket, TicketEntry, TicketChecklistItem, TimeEntry, RecurringTicket)
MSP_MODELS = (Queue, TicketTemplate)
ALL_MODELS = MODELS + MSP_MODELS
TICKET_A_TITLE = "ISO-TICKET-A-5521"
TIME_A_NOTE = "ISO-TIME-A-8842"


def desk(world: World) -> dict[str, Any]:
    """Client A's ticket with a checklist step, two pending time entries (the admin's),
    a recurring ticket, an alert and a project; plus a queue and a template (MSP-level)."""
    if "desk" not in world.extra:
        queue = Queue.objects.create(name="Isolation queue")
        spare_queue = Queue.objects.create(name="Isolation spare queue")
        template = TicketTemplate.objects.create(name="Isolation template", title="Set up a workstation",
                                                 queue=queue)
        spare_template = TicketTemplate.objects.create(name="Isolation spare template", title="Spare")
        ticket = Ticket.objects.create(client=world.client_a, number="T-ISO-A", title=TICKET_A_TITLE, queue=queue)
        other = Ticket.objects.create(client=world.client_a, number="T-ISO-A2", title="Duplicate of A")
        item = TicketChecklistItem.objects.create(client=world.client_a, ticket=ticket, position=1, text="Check")
        admin = world.users["admin"]
        now = timezone.now()
        pending = TimeEntry.objects.create(client=world.client_a, ticket=ticket, user=admin, started_at=now,
                                           ended_at=now + timedelta(minutes=30), actual_minutes=30,
                                           billable_minutes=30, approval_status="pending", notes=TIME_A_NOTE)
        rejectable = TimeEntry.objects.create(client=world.client_a, ticket=ticket, user=admin, started_at=now,
                                              ended_at=now + timedelta(minutes=15), actual_minutes=15,
                                              billable_minutes=15, approval_status="pending")
        recurring = RecurringTicket.objects.create(client=world.client_a, template=template, unit="weeks",
                                                   interval=1, next_run_at=now + timedelta(days=3))
        device = Device.objects.create(client=world.client_a, name="ISO-A-PC", kind="workstation", state="active")
        alert = Alert.objects.create(client=world.client_a, device=device, kind="offline", title="ISO-A offline")
        project = Project.objects.create(client=world.client_a, name="ISO project A")
        world.extra["desk"] = {"queue": queue, "spare_queue": spare_queue, "template": template,
                               "spare_template": spare_template, "ticket": ticket, "other": other, "item": item,
                               "pending": pending, "rejectable": rejectable,
                               "recurring": recurring, "alert": alert, "project": project, "device": device}
    return world.extra["desk"]


def running(world: World) -> dict[str, Any]:
    """The admin's running timer on client A's ticket (only for the routes that stop it)."""
    if "desk_running" not in world.extra:
        world.extra["desk_running"] = TimeEntry.objects.create(
            client=world.client_a, ticket=desk(world)["ticket"], user=world.users["admin"], is_running=True,
            started_at=timezone.now() - timedelta(minutes=10), approval_status="not_required")
    return {"entry_id": world.extra["desk_running"].pk}


def _param(key: str, name: str) -> Any:
    def params(world: World) -> dict[str, Any]:
        return {name: desk(world)[key].pk}
    return params


def _built(world: World) -> dict[str, Any]:
    desk(world)
    return {}


def _client_params(world: World) -> dict[str, Any]:
    desk(world)
    return {"client_id": world.client_a.pk}


def leak_ticket(world: World) -> str:
    desk(world)
    return TICKET_A_TITLE


def leak_client(world: World) -> str:
    desk(world)
    return str(world.client_a.name)


TICKET = _param("ticket", "ticket_id")


def ticket_form(world: World) -> dict[str, Any]:
    d = desk(world)
    return {"client": world.client_a.pk, "title": "Opened by isolation", "description": "", "priority": "p3",
            "type": "incident", "queue": d["queue"].pk, "assignee": "", "contact": "", "tags": "", "due_at": "",
            "contract": "", "template": ""}


def ticket_edit_form(world: World) -> dict[str, Any]:
    body = ticket_form(world)
    body.pop("client")
    body.pop("template")
    body["title"] = "Changed by isolation"
    return body


def ui(name: str, kind: str, capability: str | None, action: str = "view", *, method: str = "GET",
       params: Any = _built, body: Any = None, models: tuple[Any, ...] = MODELS, leak: Any = None,
       client_owned: bool = True, note: str = "") -> Case:
    return Case(f"ui:servicedesk:{name}", kind, capability, action, method, params, body, models, leak,
                staff_only=True, client_owned=client_owned, note=note)


register(
    ui("ticket_list", "list", "tickets", leak=leak_ticket),
    ui("ticket_create", "object", "tickets", "add", method="POST", body=ticket_form,
       note="the client is in the body: a forged one is refused by the form (tests/test_views.py)"),
    ui("ticket_bulk", "object", "tickets", "change", method="POST",
       body=lambda w: {"ticket": [desk(w)["ticket"].pk], "priority": "p1"},
       note="ids in the body: one you cannot see refuses the whole action (tests/test_views.py)"),
    ui("ticket_detail", "object", "tickets", params=TICKET),
    ui("ticket_edit", "object", "tickets", "change", method="POST", params=TICKET, body=ticket_edit_form),
    ui("ticket_reply", "object", "tickets", "change", method="POST", params=TICKET,
       body=lambda w: {"body": "Isolation reply", "public": "on"}),
    ui("ticket_status", "object", "tickets", "change", method="POST", params=TICKET,
       body=lambda w: {"status": "in_progress", "resolution": ""}),
    ui("ticket_assign", "object", "tickets", "change", method="POST", params=TICKET,
       body=lambda w: {"assignee": w.users["technician"].pk}),
    ui("ticket_watch", "object", "tickets", method="POST", params=TICKET, body=lambda w: {"watching": "1"}),
    ui("ticket_merge", "object", "tickets", "change", method="POST", params=_param("other", "ticket_id"),
       body=lambda w: {"target": "T-ISO-A"}),
    ui("ticket_opportunity", "object", "tickets", "change", method="POST", params=TICKET,
       body=lambda w: {"note": "Needs a new firewall"}),
    ui("ticket_time_create", "object", "tickets", "add", method="POST", params=TICKET,
       body=lambda w: {"actual_minutes": "20", "work_type": "remote", "billable": "on", "notes": ""}),
    ui("ticket_timer_start", "object", "tickets", "add", method="POST", params=TICKET),
    ui("checklist_toggle", "object", "tickets", "change", method="POST", params=_param("item", "item_id"),
       body=lambda w: {"done": "1"}),
    ui("time_list", "list", "tickets", leak=leak_client),
    ui("approval_queue", "list", "time_approval", leak=leak_client),
    ui("timer_stop", "object", "tickets", "change", method="POST", params=running),
    ui("time_entry_delete", "object", "tickets", "change", method="POST", params=_param("pending", "entry_id")),
    ui("time_entry_approve", "object", "time_approval", "change", method="POST",
       params=_param("pending", "entry_id")),
    ui("time_entry_reject", "object", "time_approval", "change", method="POST",
       params=_param("rejectable", "entry_id"), body=lambda w: {"reason": "Covered by the contract"}),
    ui("project_time_create", "object", "tickets", "add", method="POST", params=_param("project", "project_id"),
       body=lambda w: {"actual_minutes": "60", "work_type": "project", "billable": "on", "notes": ""}),
    ui("queue_list", "list", "tickets", models=ALL_MODELS),
    ui("queue_create", "create", "tickets", "delete", method="POST", params=lambda w: {},
       body=lambda w: {"name": "Created by isolation", "description": ""}, models=ALL_MODELS, client_owned=False),
    ui("queue_edit", "object", "tickets", "delete", method="POST", params=_param("queue", "queue_id"),
       body=lambda w: {"name": "Renamed by isolation", "description": "", "is_active": "on"}, models=ALL_MODELS,
       client_owned=False),
    ui("queue_delete", "object", "tickets", "delete", method="POST", params=_param("spare_queue", "queue_id"),
       models=ALL_MODELS, client_owned=False),
    ui("template_list", "list", "tickets", leak=leak_client, models=ALL_MODELS),
    ui("template_create", "create", "tickets", "delete", method="POST", params=lambda w: {},
       body=lambda w: {"name": "Isolation new template", "title": "Do it", "description": "", "type": "request",
                       "priority": "p3", "queue": "", "runbook": "", "is_active": "on"},
       models=ALL_MODELS, client_owned=False),
    ui("template_edit", "object", "tickets", "delete", method="POST", params=_param("template", "template_id"),
       body=lambda w: {"name": "Isolation renamed template", "title": "Do it", "description": "",
                       "type": "request", "priority": "p2", "queue": "", "runbook": "", "is_active": "on"},
       models=ALL_MODELS, client_owned=False),
    ui("template_delete", "object", "tickets", "delete", method="POST",
       params=_param("spare_template", "template_id"), models=ALL_MODELS, client_owned=False),
    ui("recurring_create", "create", "tickets", "add", method="POST", params=_client_params,
       body=lambda w: {"template": desk(w)["template"].pk, "contact": "", "assignee": "", "unit": "months",
                       "interval": "1", "cron": "", "next_run_at": "2031-01-05T08:00", "is_active": "on"}),
    ui("recurring_edit", "object", "tickets", "change", method="POST", params=_param("recurring", "recurring_id"),
       body=lambda w: {"template": desk(w)["template"].pk, "contact": "", "assignee": "", "unit": "days",
                       "interval": "3", "cron": "", "next_run_at": "2031-01-05T08:00", "is_active": "on"}),
    ui("recurring_delete", "object", "tickets", "delete", method="POST",
       params=_param("recurring", "recurring_id")),
    ui("alert_ticket_panel", "object", "devices", params=_param("alert", "alert_id")),
    ui("alert_open_ticket", "object", "tickets", "add", method="POST", params=_param("alert", "alert_id")),
)

# --- API -------------------------------------------------------------------------------------------------


def deletable(world: World) -> dict[str, Any]:
    if "desk_deletable" not in world.extra:
        desk(world)
        world.extra["desk_deletable"] = Ticket.objects.create(client=world.client_a, number="T-ISO-DEL",
                                                              title="Opened by mistake")
    return {"ticket_id": world.extra["desk_deletable"].pk}


def api(route: str, kind: str, capability: str | None, action: str = "view", *, params: Any = _built,
        body: Any = None, models: tuple[Any, ...] = MODELS, leak: Any = None, staff_only: bool = True,
        client_owned: bool = True, note: str = "") -> Case:
    method = route.split(" ", 1)[0]
    return Case(f"api:{route}", kind, capability, action, method, params, body, models, leak,
                staff_only=staff_only, client_owned=client_owned, note=note)


T = "/api/v1/tickets"
TE = "/api/v1/time-entries"
Q_ = "/api/v1/queues"
TT = "/api/v1/ticket-templates"
RT = "/api/v1/recurring-tickets"
ENTRY = _param("pending", "entry_id")
RECURRING = _param("recurring", "recurring_id")


def recurring_leak(world: World) -> str:
    return f'"id": {desk(world)["recurring"].pk}, "client_id": {world.client_a.pk}'

register(
    api(f"GET {T}", "list", "tickets", leak=leak_ticket, staff_only=False),
    api(f"POST {T}", "object", "tickets", "add", staff_only=False,
        body=lambda w: {"client_id": w.client_a.pk, "title": "Opened by the API", "priority": "p2"},
        note="the client is in the body: another client's is a 404 (tests/test_api.py)"),
    api(f"POST {T}/bulk", "object", "tickets", "change",
        body=lambda w: {"ticket_ids": [desk(w)["ticket"].pk], "priority": "p2"},
        note="ids in the body: one you cannot see is a 404 (tests/test_api.py)"),
    api(f"GET {T}/{{ticket_id}}", "object", "tickets", params=TICKET, staff_only=False),
    api(f"PATCH {T}/{{ticket_id}}", "object", "tickets", "change", params=TICKET, body=lambda w: {"title": "API"}),
    api(f"DELETE {T}/{{ticket_id}}", "object", "tickets", "delete", params=deletable),
    api(f"GET {T}/{{ticket_id}}/entries", "object", "tickets", params=TICKET, staff_only=False),
    api(f"POST {T}/{{ticket_id}}/entries", "object", "tickets", "change", params=TICKET, staff_only=False,
        body=lambda w: {"body": "API reply", "public": True}),
    api(f"POST {T}/{{ticket_id}}/status", "object", "tickets", "change", params=TICKET, staff_only=False,
        body=lambda w: {"status": "in_progress"}),
    api(f"POST {T}/{{ticket_id}}/assign", "object", "tickets", "change", params=TICKET,
        body=lambda w: {"assignee_id": w.users["technician"].pk}),
    api(f"POST {T}/{{ticket_id}}/merge", "object", "tickets", "change", params=_param("other", "ticket_id"),
        body=lambda w: {"target_id": desk(w)["ticket"].pk}),
    api(f"POST {T}/{{ticket_id}}/opportunity", "object", "tickets", "change", params=TICKET,
        body=lambda w: {"note": "New firewall"}),
    api(f"GET {T}/{{ticket_id}}/checklist", "object", "tickets", params=TICKET, staff_only=False),
    api(f"POST {T}/{{ticket_id}}/timer", "object", "tickets", "add", params=TICKET, body=lambda w: {}),
    api("POST /api/v1/ticket-checklist/{item_id}", "object", "tickets", "change", params=_param("item", "item_id"),
        body=lambda w: {"done": True}),
    api(f"GET {TE}", "list", "tickets", leak=lambda w: (desk(w), TIME_A_NOTE)[1]),
    api(f"GET {TE}/approval-queue", "list", "time_approval", leak=lambda w: (desk(w), TIME_A_NOTE)[1]),
    api(f"POST {TE}", "object", "tickets", "add",
        body=lambda w: {"ticket_id": desk(w)["ticket"].pk, "actual_minutes": 20},
        note="the ticket is in the body: another client's is a 404 (tests/test_api.py)"),
    api(f"GET {TE}/{{entry_id}}", "object", "tickets", params=ENTRY),
    api(f"PATCH {TE}/{{entry_id}}", "object", "tickets", "change", params=ENTRY,
        body=lambda w: {"actual_minutes": 45}),
    api(f"DELETE {TE}/{{entry_id}}", "object", "tickets", "change", params=ENTRY),
    api(f"POST {TE}/{{entry_id}}/stop", "object", "tickets", "change", params=running,
        body=lambda w: {}),
    api(f"POST {TE}/{{entry_id}}/approve", "object", "time_approval", "change", params=ENTRY),
    api(f"POST {TE}/{{entry_id}}/reject", "object", "time_approval", "change", params=_param("rejectable", "entry_id"),
        body=lambda w: {"reason": "Covered"}),
    api(f"GET {Q_}", "list", "tickets", models=ALL_MODELS, client_owned=False),
    api(f"POST {Q_}", "create", "tickets", "delete", params=lambda w: {}, body=lambda w: {"name": "API queue"},
        models=ALL_MODELS, client_owned=False),
    api(f"GET {Q_}/{{queue_id}}", "object", "tickets", params=_param("queue", "queue_id"), models=ALL_MODELS,
        client_owned=False),
    api(f"PATCH {Q_}/{{queue_id}}", "object", "tickets", "delete", params=_param("queue", "queue_id"),
        body=lambda w: {"description": "API"}, models=ALL_MODELS, client_owned=False),
    api(f"DELETE {Q_}/{{queue_id}}", "object", "tickets", "delete", params=_param("spare_queue", "queue_id"),
        models=ALL_MODELS, client_owned=False),
    api(f"GET {TT}", "list", "tickets", models=ALL_MODELS, client_owned=False),
    api(f"POST {TT}", "create", "tickets", "delete", params=lambda w: {},
        body=lambda w: {"name": "API template", "title": "Do it"}, models=ALL_MODELS, client_owned=False),
    api(f"GET {TT}/{{template_id}}", "object", "tickets", params=_param("template", "template_id"),
        models=ALL_MODELS, client_owned=False),
    api(f"PATCH {TT}/{{template_id}}", "object", "tickets", "delete", params=_param("template", "template_id"),
        body=lambda w: {"priority": "p1"}, models=ALL_MODELS, client_owned=False),
    api(f"DELETE {TT}/{{template_id}}", "object", "tickets", "delete",
        params=_param("spare_template", "template_id"), models=ALL_MODELS, client_owned=False),
    api(f"GET {RT}", "list", "tickets", leak=recurring_leak),
    api(f"POST {RT}", "object", "tickets", "add",
        body=lambda w: {"client_id": w.client_a.pk, "template_id": desk(w)["template"].pk, "unit": "weeks",
                        "interval": 2, "next_run_at": "2031-01-06T08:00:00+00:00"},
        note="the client is in the body: another client's is a 404 (tests/test_api.py)"),
    api(f"GET {RT}/{{recurring_id}}", "object", "tickets", params=RECURRING),
    api(f"PATCH {RT}/{{recurring_id}}", "object", "tickets", "change", params=RECURRING,
        body=lambda w: {"interval": 3}),
    api(f"DELETE {RT}/{{recurring_id}}", "object", "tickets", "delete", params=RECURRING),
)

from tenfold.servicedesk.tests import isolation_cases_email  # noqa: E402,F401  (email, surveys, portal tickets)
