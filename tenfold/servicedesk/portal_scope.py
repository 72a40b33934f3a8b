"""Which tickets a portal user sees: a portal administrator every ticket of the company, a portal user the
tickets they opened or are the contact of (roles.md: "W own tickets")."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from tenfold.core.errors import NotFound, PermissionDenied
from tenfold.core.roles import Role
from tenfold.servicedesk import selectors
from tenfold.servicedesk.models import Ticket


def portal_tickets(user: Any) -> QuerySet[Ticket]:
    """The tickets this portal user may see (merged duplicates left out)."""
    if not getattr(user, "is_portal", False):
        raise PermissionDenied()
    tickets = selectors.tickets_visible(user).filter(client_id=user.client_id, merged_into__isnull=True)
    if user.role != Role.PORTAL_ADMIN:
        own = Q(created_by=user)
        if user.contact_id:
            own |= Q(contact_id=user.contact_id)
        tickets = tickets.filter(own)
    return tickets


def portal_ticket(user: Any, ticket_id: Any) -> Ticket:
    """One ticket the portal user may see, else NotFound (another company's and not-theirs alike)."""
    ticket = selectors.access_ticket(user, ticket_id)
    if not portal_tickets(user).filter(pk=ticket.pk).exists():
        raise NotFound()
    return ticket
