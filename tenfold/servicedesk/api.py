"""REST endpoints of the service desk: tickets (CRUD, timeline, status, assignment, merge, bulk, opportunity,
checklist, timer), time entries (timer, approval), queues, ticket templates and recurring tickets."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from tenfold.clients.selectors import access_client
from tenfold.contracts.models import Priority
from tenfold.contracts.selectors import access_project
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate
from tenfold.core.errors import NotFound, PermissionDenied, ValidationError
from tenfold.core.roles import require
from tenfold.servicedesk import selectors, services, sla
from tenfold.servicedesk.models import ApprovalStatus, Ticket, TicketStatus, TicketType
from tenfold.servicedesk.schemas import (
    AssignIn,
    BulkIn,
    BulkOut,
    ChecklistItemOut,
    ChecklistTickIn,
    EntryIn,
    EntryOut,
    MergeIn,
    OpportunityIn,
    QueueIn,
    QueueOut,
    QueuePatch,
    RecurringIn,
    RecurringOut,
    RecurringPatch,
    RejectIn,
    StatusIn,
    TemplateIn,
    TemplateOut,
    TemplatePatch,
    TicketIn,
    TicketOut,
    TicketPatch,
    TimeEntryIn,
    TimeEntryOut,
    TimeEntryPatch,
    TimerIn,
    TimerStopIn,
)

router = Router(tags=["tickets"])
checklist_router = Router(tags=["tickets"])
time_router = Router(tags=["time"])
queues_router = Router(tags=["tickets"])
templates_router = Router(tags=["tickets"])
recurring_router = Router(tags=["tickets"])


class TicketFilters(Schema):
    q: str | None = None
    client_id: int | None = None
    status: TicketStatus | None = None
    priority: Priority | None = None
    type: TicketType | None = None
    queue_id: int | None = None
    assignee_id: int | None = None
    sla: str | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class TimeFilters(Schema):
    ticket_id: int | None = None
    project_id: int | None = None
    user_id: int | None = None
    approval_status: ApprovalStatus | None = None
    page: int = 1
    page_size: int | None = None


class RecurringFilters(Schema):
    client_id: int | None = None
    template_id: int | None = None
    is_active: bool | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class ListParams(Schema):
    page: int = 1
    page_size: int | None = None


def _patch_data(payload: Any) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True)


def _require_staff(actor: Any, action: str) -> None:
    # Ids come in the body: check the role first, so a refusal does not depend on which ids were sent.
    require(actor, "tickets", action)
    if getattr(actor, "is_portal", False):
        raise PermissionDenied()


def _ticket(actor: Any, ticket_id: int) -> Any:
    return selectors.access_ticket(actor, ticket_id)


def _as_stored(ticket: Ticket) -> Ticket:
    """The ticket as a read answers it: `due_at` is read back from the database (UTC), not left in the offset
    the caller sent."""
    ticket.refresh_from_db(fields=["due_at"])
    return ticket


def _with_relations(queryset: Any) -> Any:
    return queryset.prefetch_related("devices", "watchers")


# --- Tickets ---------------------------------------------------------------------------------------------


@router.get("", response={200: Page[TicketOut], **ERRORS}, summary="List tickets")
def list_tickets(request: HttpRequest, filters: Query[TicketFilters]) -> Any:
    """Tickets you may see; filter by text (`q`: number, title, description), client, status, priority, type,
    queue, assignee and SLA state (ok, warning, breached, paused, met, missed, none)."""
    queryset = selectors.tickets_visible(actor_of(request))
    if filters.q:
        text = filters.q.strip()[:200]
        queryset = queryset.filter(Q(number__iexact=text) | Q(title__icontains=text) | Q(description__icontains=text))
    for field in ("client_id", "status", "priority", "type", "queue_id", "assignee_id"):
        value = getattr(filters, field)
        if value is not None:
            queryset = queryset.filter(**{field: value})
    if filters.sla:
        if filters.sla not in sla.SLA_STATES:
            raise ValidationError(field="sla", message="sla must be one of: " + ", ".join(sla.SLA_STATES))
        queryset = queryset.filter(sla.state_filter(filters.sla))
    queryset = queryset.order_by(*ordering_param(filters.ordering, {
        "created_at": "created_at", "updated_at": "updated_at", "priority": "priority", "status": "status",
        "resolution_due_at": "resolution_due_at", "number": "pk"}, "-updated_at"))
    return paginate(_with_relations(queryset), filters.page, filters.page_size)


@router.post("", response={201: TicketOut, **ERRORS}, summary="Open a ticket")
def create_ticket(request: HttpRequest, payload: TicketIn) -> Any:
    """Opens a ticket for a client; the contract in force is linked and its SLA clocks start. A `template_id`
    fills in the blanks and copies the template's runbook steps into the checklist."""
    actor = actor_of(request)
    data = payload.model_dump(exclude_unset=True)
    client = access_client(actor, data.pop("client_id"))
    if "title" not in data and "template_id" not in data:
        raise ValidationError(field="title", message="Give the ticket a title or a template_id.")
    source = "portal" if getattr(actor, "is_portal", False) else "api"
    ticket = services.ticket_create(actor=actor, client=client, data=data, source=source)
    return Status(201, _as_stored(ticket))


@router.post("/bulk", response={200: BulkOut, **ERRORS}, summary="Change several tickets at once")
def bulk_tickets(request: HttpRequest, payload: BulkIn) -> Any:
    """Assign (or `unassign`), move or re-prioritise tickets; an id you cannot see is a 404 and nothing changes."""
    actor = actor_of(request)
    _require_staff(actor, "change")
    tickets = services.tickets_matching(payload.ticket_ids, actor)
    if len(tickets) != len(set(payload.ticket_ids)):
        raise NotFound()
    data: dict[str, Any] = {}
    if payload.unassign:
        data["assignee_id"] = None
    elif payload.assignee_id is not None:
        data["assignee_id"] = payload.assignee_id
    if payload.status is not None:
        data["status"] = payload.status
    if payload.priority is not None:
        data["priority"] = payload.priority
    return {"updated": services.ticket_bulk_update(actor=actor, tickets=tickets, data=data)}


@router.get("/{ticket_id}", response={200: TicketOut, **ERRORS}, summary="Get a ticket")
def get_ticket(request: HttpRequest, ticket_id: int) -> Any:
    return _ticket(actor_of(request), ticket_id)


@router.patch("/{ticket_id}", response={200: TicketOut, **ERRORS}, summary="Change a ticket")
def update_ticket(request: HttpRequest, ticket_id: int, payload: TicketPatch) -> Any:
    actor = actor_of(request)
    return _as_stored(services.ticket_update(actor=actor, ticket=_ticket(actor, ticket_id), data=_patch_data(payload)))


@router.delete("/{ticket_id}", response={204: None, **ERRORS}, summary="Delete a ticket")
def delete_ticket(request: HttpRequest, ticket_id: int) -> Any:
    actor = actor_of(request)
    services.ticket_delete(actor=actor, ticket=_ticket(actor, ticket_id))
    return Status(204, None)


@router.get("/{ticket_id}/entries", response={200: Page[EntryOut], **ERRORS}, summary="A ticket's timeline")
def list_entries(request: HttpRequest, ticket_id: int, params: Query[ListParams]) -> Any:
    """Replies, internal notes (staff only), status changes, linked alerts, oldest first."""
    actor = actor_of(request)
    return paginate(selectors.timeline(actor, _ticket(actor, ticket_id)), params.page, params.page_size)


@router.post("/{ticket_id}/entries", response={201: EntryOut, **ERRORS}, summary="Reply or add a note")
def create_entry(request: HttpRequest, ticket_id: int, payload: EntryIn) -> Any:
    actor = actor_of(request)
    entry = services.ticket_reply(actor=actor, ticket=_ticket(actor, ticket_id), body=payload.body,
                                  public=payload.public)
    return Status(201, entry)


@router.post("/{ticket_id}/status", response={200: TicketOut, **ERRORS}, summary="Change a ticket's status")
def set_status(request: HttpRequest, ticket_id: int, payload: StatusIn) -> Any:
    """Waiting statuses pause the SLA clocks; resolving is refused (409) while required checklist steps are open."""
    actor = actor_of(request)
    return services.ticket_set_status(actor=actor, ticket=_ticket(actor, ticket_id), status=payload.status,
                                      resolution=payload.resolution)


@router.post("/{ticket_id}/assign", response={200: TicketOut, **ERRORS}, summary="Assign a ticket")
def assign(request: HttpRequest, ticket_id: int, payload: AssignIn) -> Any:
    actor = actor_of(request)
    ticket = _ticket(actor, ticket_id)
    assignee = None
    if payload.assignee_id is not None:
        assignee = get_user_model().objects.filter(pk=payload.assignee_id).first()
        if assignee is None:
            raise ValidationError(field="assignee", message="Choose an active staff member.")
    return services.ticket_assign(actor=actor, ticket=ticket, assignee=assignee)


@router.post("/{ticket_id}/merge", response={200: TicketOut, **ERRORS}, summary="Merge a duplicate")
def merge(request: HttpRequest, ticket_id: int, payload: MergeIn) -> Any:
    """Merge this ticket into `target_id` (same client); answers the target."""
    actor = actor_of(request)
    source = _ticket(actor, ticket_id)
    return services.ticket_merge(actor=actor, source=source, target=_ticket(actor, payload.target_id))


@router.post("/{ticket_id}/opportunity", response={200: TicketOut, **ERRORS}, summary="Flag a sales opportunity")
def opportunity(request: HttpRequest, ticket_id: int, payload: OpportunityIn) -> Any:
    actor = actor_of(request)
    return services.ticket_flag_opportunity(actor=actor, ticket=_ticket(actor, ticket_id), note=payload.note)


@router.get("/{ticket_id}/checklist", response={200: list[ChecklistItemOut], **ERRORS},
            summary="A ticket's checklist")
def get_checklist(request: HttpRequest, ticket_id: int) -> Any:
    return list(selectors.checklist(_ticket(actor_of(request), ticket_id)))


@router.post("/{ticket_id}/timer", response={201: TimeEntryOut, **ERRORS}, summary="Start your timer")
def start_timer(request: HttpRequest, ticket_id: int, payload: TimerIn) -> Any:
    """One running timer per user: a second start is a 422 until the first is stopped."""
    actor = actor_of(request)
    return Status(201, services.timer_start(actor=actor, ticket=_ticket(actor, ticket_id),
                                            work_type=payload.work_type))


@checklist_router.post("/{item_id}", response={200: ChecklistItemOut, **ERRORS}, summary="Tick a checklist step")
def tick_step(request: HttpRequest, item_id: int, payload: ChecklistTickIn) -> Any:
    actor = actor_of(request)
    item = selectors.access_checklist_item(actor, item_id)
    return services.checklist_item_set_done(actor=actor, item=item, done=payload.done)


# --- Time ------------------------------------------------------------------------------------------------


@time_router.get("", response={200: Page[TimeEntryOut], **ERRORS}, summary="List time entries")
def list_time(request: HttpRequest, filters: Query[TimeFilters]) -> Any:
    queryset = selectors.time_entries_visible(actor_of(request))
    for field in ("ticket_id", "project_id", "user_id", "approval_status"):
        value = getattr(filters, field)
        if value is not None:
            queryset = queryset.filter(**{field: value})
    return paginate(queryset.order_by("-started_at", "-pk"), filters.page, filters.page_size)


@time_router.get("/approval-queue", response={200: Page[TimeEntryOut], **ERRORS},
                 summary="Billable time awaiting approval")
def list_approval_queue(request: HttpRequest, params: Query[ListParams]) -> Any:
    return paginate(selectors.approval_queue(actor_of(request)), params.page, params.page_size)


@time_router.post("", response={201: TimeEntryOut, **ERRORS}, summary="Log time")
def create_time(request: HttpRequest, payload: TimeEntryIn) -> Any:
    """Against a ticket or a project (exactly one). Billable minutes follow the contract's rounding rule."""
    actor = actor_of(request)
    _require_staff(actor, "add")
    data = payload.model_dump(exclude_unset=True)
    ticket_id, project_id = data.pop("ticket_id", None), data.pop("project_id", None)
    if (ticket_id is None) == (project_id is None):
        raise ValidationError(field="ticket_id", message="Give a ticket_id or a project_id.")
    ticket = _ticket(actor, ticket_id) if ticket_id is not None else None
    project = access_project(actor, project_id) if project_id is not None else None
    if data.get("coverage") is None:
        data.pop("coverage", None)
    return Status(201, services.time_entry_create(actor=actor, ticket=ticket, project=project, data=data))


@time_router.get("/{entry_id}", response={200: TimeEntryOut, **ERRORS}, summary="Get a time entry")
def get_time(request: HttpRequest, entry_id: int) -> Any:
    return selectors.access_time_entry(actor_of(request), entry_id)


@time_router.patch("/{entry_id}", response={200: TimeEntryOut, **ERRORS}, summary="Change a time entry")
def update_time(request: HttpRequest, entry_id: int, payload: TimeEntryPatch) -> Any:
    actor = actor_of(request)
    entry = selectors.access_time_entry(actor, entry_id)
    return services.time_entry_update(actor=actor, entry=entry, data=_patch_data(payload))


@time_router.delete("/{entry_id}", response={204: None, **ERRORS}, summary="Delete a time entry")
def delete_time(request: HttpRequest, entry_id: int) -> Any:
    actor = actor_of(request)
    services.time_entry_delete(actor=actor, entry=selectors.access_time_entry(actor, entry_id))
    return Status(204, None)


@time_router.post("/{entry_id}/stop", response={200: TimeEntryOut, **ERRORS}, summary="Stop your timer")
def stop_timer(request: HttpRequest, entry_id: int, payload: TimerStopIn) -> Any:
    actor = actor_of(request)
    entry = selectors.access_time_entry(actor, entry_id)
    return services.timer_stop(actor=actor, entry=entry, notes=payload.notes)


@time_router.post("/{entry_id}/approve", response={200: TimeEntryOut, **ERRORS}, summary="Approve billable time")
def approve_time(request: HttpRequest, entry_id: int) -> Any:
    actor = actor_of(request)
    return services.time_entry_approve(actor=actor, entry=selectors.access_time_entry(actor, entry_id))


@time_router.post("/{entry_id}/reject", response={200: TimeEntryOut, **ERRORS}, summary="Reject billable time")
def reject_time(request: HttpRequest, entry_id: int, payload: RejectIn) -> Any:
    actor = actor_of(request)
    return services.time_entry_reject(actor=actor, entry=selectors.access_time_entry(actor, entry_id),
                                      reason=payload.reason)


# --- Queues and templates -----------------------------------------------------------------------------------


@queues_router.get("", response={200: Page[QueueOut], **ERRORS}, summary="List queues")
def list_queues(request: HttpRequest, params: Query[ListParams]) -> Any:
    return paginate(selectors.queues_visible(actor_of(request)).order_by("name", "pk"), params.page,
                    params.page_size)


@queues_router.post("", response={201: QueueOut, **ERRORS}, summary="Create a queue")
def create_queue(request: HttpRequest, payload: QueueIn) -> Any:
    return Status(201, services.queue_create(actor=actor_of(request), data=payload.model_dump()))


@queues_router.get("/{queue_id}", response={200: QueueOut, **ERRORS}, summary="Get a queue")
def get_queue(request: HttpRequest, queue_id: int) -> Any:
    return selectors.access_queue(actor_of(request), queue_id)


@queues_router.patch("/{queue_id}", response={200: QueueOut, **ERRORS}, summary="Change a queue")
def update_queue(request: HttpRequest, queue_id: int, payload: QueuePatch) -> Any:
    actor = actor_of(request)
    return services.queue_update(actor=actor, queue=selectors.access_queue(actor, queue_id),
                                 data=_patch_data(payload))


@queues_router.delete("/{queue_id}", response={204: None, **ERRORS}, summary="Delete a queue")
def delete_queue(request: HttpRequest, queue_id: int) -> Any:
    actor = actor_of(request)
    services.queue_delete(actor=actor, queue=selectors.access_queue(actor, queue_id))
    return Status(204, None)


@templates_router.get("", response={200: Page[TemplateOut], **ERRORS}, summary="List ticket templates")
def list_templates(request: HttpRequest, params: Query[ListParams]) -> Any:
    return paginate(selectors.templates_visible(actor_of(request)).order_by("name", "pk"), params.page,
                    params.page_size)


@templates_router.post("", response={201: TemplateOut, **ERRORS}, summary="Create a ticket template")
def create_template(request: HttpRequest, payload: TemplateIn) -> Any:
    return Status(201, services.template_create(actor=actor_of(request), data=payload.model_dump()))


@templates_router.get("/{template_id}", response={200: TemplateOut, **ERRORS}, summary="Get a ticket template")
def get_template(request: HttpRequest, template_id: int) -> Any:
    return selectors.access_template(actor_of(request), template_id)


@templates_router.patch("/{template_id}", response={200: TemplateOut, **ERRORS}, summary="Change a ticket template")
def update_template(request: HttpRequest, template_id: int, payload: TemplatePatch) -> Any:
    actor = actor_of(request)
    return services.template_update(actor=actor, template=selectors.access_template(actor, template_id),
                                    data=_patch_data(payload))


@templates_router.delete("/{template_id}", response={204: None, **ERRORS}, summary="Delete a ticket template")
def delete_template(request: HttpRequest, template_id: int) -> Any:
    actor = actor_of(request)
    services.template_delete(actor=actor, template=selectors.access_template(actor, template_id))
    return Status(204, None)


# --- Recurring tickets -------------------------------------------------------------------------------------


@recurring_router.get("", response={200: Page[RecurringOut], **ERRORS}, summary="List recurring tickets")
def list_recurring(request: HttpRequest, filters: Query[RecurringFilters]) -> Any:
    """Templates opened for a client on a schedule; filter by client, template and active state."""
    queryset = selectors.recurring_visible(actor_of(request))
    for field in ("client_id", "template_id", "is_active"):
        value = getattr(filters, field)
        if value is not None:
            queryset = queryset.filter(**{field: value})
    queryset = queryset.order_by(*ordering_param(filters.ordering, {
        "next_run_at": "next_run_at", "created_at": "created_at", "client": "client__name"}, "next_run_at"))
    return paginate(queryset, filters.page, filters.page_size)


@recurring_router.post("", response={201: RecurringOut, **ERRORS}, summary="Create a recurring ticket")
def create_recurring(request: HttpRequest, payload: RecurringIn) -> Any:
    """Opens `template_id` for `client_id` at `next_run_at`, then every `interval` `unit` (or on `cron`, in the
    organization's time zone). The contact must be the client's."""
    actor = actor_of(request)
    _require_staff(actor, "add")
    data = payload.model_dump()
    client = access_client(actor, data.pop("client_id"))
    row = services.recurring_create(actor=actor, client=client, data=data)
    row.refresh_from_db()  # answer the stored (UTC) times, as a later GET does
    return Status(201, row)


@recurring_router.get("/{recurring_id}", response={200: RecurringOut, **ERRORS}, summary="Get a recurring ticket")
def get_recurring(request: HttpRequest, recurring_id: int) -> Any:
    return selectors.access_recurring(actor_of(request), recurring_id)


@recurring_router.patch("/{recurring_id}", response={200: RecurringOut, **ERRORS},
                        summary="Change a recurring ticket")
def update_recurring(request: HttpRequest, recurring_id: int, payload: RecurringPatch) -> Any:
    actor = actor_of(request)
    row = services.recurring_update(actor=actor, row=selectors.access_recurring(actor, recurring_id),
                                    data=_patch_data(payload))
    row.refresh_from_db()
    return row


@recurring_router.delete("/{recurring_id}", response={204: None, **ERRORS}, summary="Delete a recurring ticket")
def delete_recurring(request: HttpRequest, recurring_id: int) -> Any:
    """Stops the schedule; the tickets it opened stay."""
    actor = actor_of(request)
    services.recurring_delete(actor=actor, row=selectors.access_recurring(actor, recurring_id))
    return Status(204, None)
