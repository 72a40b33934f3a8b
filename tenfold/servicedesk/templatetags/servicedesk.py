"""Template filters of the service desk: ticket text rendered as sanitized Markdown, status labels."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from tenfold.knowledge.markdown import render_markdown
from tenfold.servicedesk.models import TicketStatus

register = template.Library()


@register.filter
def ticket_markdown(text: str) -> SafeString:
    """A reply, note or description as Markdown turned into sanitized HTML (scripts and handlers removed)."""
    return render_markdown(text or "")


@register.filter
def ticket_status_label(value: str) -> str:
    """The translated label of a status value."""
    labels = dict(TicketStatus.choices)
    return str(labels.get(value, value))
