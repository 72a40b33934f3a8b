"""Reads of the service desk, scoped to what the actor may see: tickets and their timeline, checklists,
time entries, queues, templates, recurring tickets; plus the ticket search provider."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from tenfold.core.errors import NotFound, PermissionDenied
from tenfold.core.roles import has_capability, require
from tenfold.core.tenancy import get_visible
from tenfold.servicedesk.models import (
    ApprovalStatus,
    Queue,
    RecurringTicket,
    Ticket,
    TicketChecklistItem,
    TicketEntry,
    TicketTemplate,
    TimeEntry,
)


def _require_staff(actor: Any, capability: str = "tickets", action: str = "view") -> None:
    require(actor, capability, action)
    if getattr(actor, "is_portal", False):
        raise PermissionDenied()


def tickets_visible(actor: Any) -> QuerySet[Ticket]:
    """Tickets the actor may see (a portal user: their company's)."""
    require(actor, "tickets", "view")
    return Ticket.objects.visible_to(actor).select_related("client", "contact", "queue", "assignee")


def access_ticket(actor: Any, ticket_id: Any) -> Ticket:
    """One ticket, or NotFound (missing and not-yours answer alike)."""
    ticket = get_visible(Ticket.objects.select_related(
        "client", "contact", "queue", "assignee", "contract", "alert", "alert__device", "template", "merged_into",
        "sla_policy", "sla_calendar", "opportunity_flagged_by"), actor, ticket_id)
    require(actor, "tickets", "view")
    return ticket


def ticket_by_number(actor: Any, number: str) -> Ticket:
    """A ticket by its number ("T-000123"), or NotFound."""
    require(actor, "tickets", "view")
    ticket = Ticket.objects.visible_to(actor).filter(number__iexact=number.strip()).first()
    if ticket is None:
        raise NotFound()
    return ticket


def timeline(actor: Any, ticket: Ticket) -> QuerySet[TicketEntry]:
    """The ticket's timeline, oldest first; a portal user sees only what is visible to the client."""
    entries = ticket.entries.select_related("author", "author_contact", "alert").order_by("created_at", "pk")
    if getattr(actor, "is_portal", False):
        entries = entries.filter(visible_to_client=True)
    return entries


def checklist(ticket: Ticket) -> QuerySet[TicketChecklistItem]:
    """The ticket's checklist steps in order."""
    return ticket.checklist.select_related("done_by").order_by("position", "pk")


def open_required_steps(ticket: Ticket) -> int:
    """How many required checklist steps are not done."""
    return ticket.checklist.filter(required=True, done_at__isnull=True).count()


def access_checklist_item(actor: Any, item_id: Any) -> TicketChecklistItem:
    """One checklist step of a visible ticket, or NotFound."""
    item = get_visible(TicketChecklistItem.objects.select_related("ticket"), actor, item_id)
    require(actor, "tickets", "view")
    return item


def can_see_internal(actor: Any) -> bool:
    """Internal notes, time and SLA details are for staff."""
    return has_capability(actor, "tickets", "view") and not getattr(actor, "is_portal", False)


# --- Queues and templates (MSP-level) ---------------------------------------------------------------


def queues_visible(actor: Any) -> QuerySet[Queue]:
    """Every queue (staff only)."""
    _require_staff(actor)
    return Queue.objects.visible_to(actor)


def access_queue(actor: Any, queue_id: Any) -> Queue:
    """One queue, or NotFound."""
    _require_staff(actor)
    queue: Queue = get_visible(Queue.objects.all(), actor, queue_id)
    return queue


def templates_visible(actor: Any) -> QuerySet[TicketTemplate]:
    """Every ticket template (staff only)."""
    _require_staff(actor)
    return TicketTemplate.objects.visible_to(actor).select_related("queue")


def access_template(actor: Any, template_id: Any) -> TicketTemplate:
    """One template, or NotFound."""
    _require_staff(actor)
    template: TicketTemplate = get_visible(TicketTemplate.objects.select_related("queue"), actor, template_id)
    return template


def recurring_visible(actor: Any) -> QuerySet[RecurringTicket]:
    """Recurring tickets of the clients the actor may see (staff only)."""
    _require_staff(actor)
    return RecurringTicket.objects.visible_to(actor).select_related("client", "template", "assignee")


def access_recurring(actor: Any, recurring_id: Any) -> RecurringTicket:
    """One recurring ticket, or NotFound."""
    row = get_visible(RecurringTicket.objects.select_related("client", "template"), actor, recurring_id)
    _require_staff(actor)
    return row


# --- Time -------------------------------------------------------------------------------------------


def time_entries_visible(actor: Any) -> QuerySet[TimeEntry]:
    """Time entries of the clients the actor may see (staff only)."""
    _require_staff(actor)
    return TimeEntry.objects.visible_to(actor).select_related("client", "ticket", "project", "user", "contract")


def access_time_entry(actor: Any, entry_id: Any) -> TimeEntry:
    """One time entry, or NotFound."""
    entry = get_visible(TimeEntry.objects.select_related("client", "ticket", "project", "user", "contract"),
                        actor, entry_id)
    _require_staff(actor)
    return entry


def approval_queue(actor: Any) -> QuerySet[TimeEntry]:
    """Billable time awaiting approval (roles with the time-approval right)."""
    _require_staff(actor, "time_approval", "view")
    return (TimeEntry.objects.visible_to(actor).filter(approval_status=ApprovalStatus.PENDING, is_running=False)
            .select_related("client", "ticket", "project", "user", "contract").order_by("started_at", "pk"))


def running_timer(actor: Any) -> TimeEntry | None:
    """The actor's running timer, if any."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return TimeEntry.objects.filter(user_id=actor.pk, is_running=True).select_related("ticket", "project").first()


def ticket_time_totals(ticket: Ticket) -> dict[str, int]:
    """Actual and billable minutes logged on a ticket (running timers excluded)."""
    # One aggregate: loading the rows with .only() cost one more query per entry (a deferred field read back).
    totals = ticket.time_entries.filter(is_running=False).aggregate(actual=Sum("actual_minutes"),
                                                                    billable=Sum("billable_minutes"))
    return {"actual": totals["actual"] or 0, "billable": totals["billable"] or 0}


# --- Search -------------------------------------------------------------------------------------------


def _snippet(text: str, query: str, width: int = 160) -> str:
    lowered = text.lower()
    index = lowered.find(query.lower())
    if index < 0:
        return text[:width]
    begin = max(index - width // 3, 0)
    return ("…" if begin else "") + text[begin:begin + width]


def search_tickets(actor: Any, query: str, limit: int) -> list[Any]:
    """Tickets matching `query` in number, title, description, resolution or a timeline entry the actor may
    read, for the knowledge search page (only what the actor may see; portal users: no internal notes)."""
    from tenfold.knowledge.search import SearchHit

    query = query.strip()
    if not query or not has_capability(actor, "tickets", "view"):
        return []
    entries = TicketEntry.objects.filter(body__icontains=query)
    if getattr(actor, "is_portal", False):
        entries = entries.filter(visible_to_client=True)
    match = (Q(number__iexact=query) | Q(title__icontains=query) | Q(description__icontains=query)
             | Q(resolution__icontains=query) | Q(pk__in=entries.values("ticket_id")))
    rows = Ticket.objects.visible_to(actor).filter(match).order_by("-updated_at", "-pk")[:limit]
    hits = []
    for ticket in rows:
        text = ticket.resolution if query.lower() in ticket.resolution.lower() else ticket.description
        hits.append(SearchHit(kind="ticket", title=f"{ticket.number} {ticket.title}",
                              url=reverse("servicedesk:ticket_detail", args=[ticket.pk]),
                              snippet=_snippet(text or ticket.title, query), updated_at=ticket.updated_at))
    return hits


def overdue_count(actor: Any) -> int:
    """Open tickets past a due time (dashboard figure)."""
    now = timezone.now()
    return tickets_visible(actor).filter(resolved_at__isnull=True, paused_at__isnull=True).filter(
        Q(resolution_due_at__lt=now) | Q(first_responded_at__isnull=True, first_response_due_at__lt=now)).count()
