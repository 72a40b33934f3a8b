"""Outbound ticket email, sent from outbox event handlers (so a rolled-back change sends nothing).

To the contact: an acknowledgement when a ticket opens and each public reply by the MSP. To the assignee:
each reply by the client. Every message carries the ticket number in its subject, Reply-To the support
mailbox, a Message-ID kept (on the timeline entry and in `SentEmail`) so that the answer threads back, and
In-Reply-To/References naming the ticket's earlier messages. Acknowledgements are marked Auto-Submitted so
that well-behaved auto-responders do not answer them.
"""

from __future__ import annotations

import logging
from email.utils import make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from tenfold.servicedesk import mailconfig
from tenfold.servicedesk.email_parse import REPLY_MARKER
from tenfold.servicedesk.models import Ticket, TicketEntry
from tenfold.servicedesk.models_email import InboundEmail, SentEmail

logger = logging.getLogger("tenfold.servicedesk.email")


def base_url() -> str:
    return str(getattr(settings, "TENFOLD_BASE_URL", "")).rstrip("/")


def _language() -> str:
    from tenfold.core.models import Organization

    language = Organization.objects.order_by("pk").values_list("default_language", flat=True).first()
    return language or settings.LANGUAGE_CODE


def new_message_id() -> str:
    domain = parseaddr(mailconfig.support_address())[1].rpartition("@")[2] or "tenfold.invalid"
    return make_msgid(domain=domain)


def thread_ids(ticket: Ticket) -> list[str]:
    """The ticket's earlier message ids, oldest first (the References header)."""
    ids = list(InboundEmail.objects.filter(ticket=ticket).order_by("pk").values_list("message_id", flat=True)[:10])
    ids += list(SentEmail.objects.filter(ticket=ticket).order_by("pk").values_list("message_id", flat=True)[:20])
    ids += [m for m in TicketEntry.objects.filter(ticket=ticket).exclude(email_message_id="").order_by("pk")
            .values_list("email_message_id", flat=True)[:20] if m not in ids]
    return ids[-20:]


def send_ticket_mail(*, ticket: Ticket, kind: str, to: list[str], subject: str, body: str,
                     entry: TicketEntry | None = None, automatic: bool = False) -> SentEmail:
    """Send one message about a ticket and record it (called inside an event handler's transaction)."""
    message_id = new_message_id()
    refs = thread_ids(ticket)
    headers = {"Message-ID": message_id, "X-Tenfold-Ticket": ticket.number}
    if refs:
        headers["In-Reply-To"] = refs[-1]
        headers["References"] = " ".join(refs)
    if automatic:
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    sent = SentEmail.objects.create(client_id=ticket.client_id, ticket=ticket, entry=entry, kind=kind,
                                    message_id=message_id, recipients=", ".join(to)[:500], subject=subject[:300])
    if entry is not None and not entry.email_message_id:
        TicketEntry.objects.filter(pk=entry.pk).update(email_message_id=message_id)
    EmailMessage(subject=subject, body=body, to=to, reply_to=[mailconfig.support_address()],
                 headers=headers).send(fail_silently=False)
    logger.info("ticket %s: %s mail sent to %s", ticket.number, kind, ", ".join(to))
    return sent


def _portal_link(ticket: Ticket) -> str:
    try:
        return base_url() + reverse("portal:ticket_detail", args=[ticket.pk])
    except NoReverseMatch:  # the portal's ticket pages are not installed
        return ""


def _contact_body(ticket: Ticket, text: str) -> str:
    link = _portal_link(ticket)
    parts = [REPLY_MARKER, "", text.strip(), "", "—", f"{ticket.number}: {ticket.title}"]
    if link:
        parts.append(_("Follow this ticket in the client portal: %(url)s") % {"url": link})
    parts.append(_("Reply to this email to add to the ticket; keep %(number)s in the subject.")
                 % {"number": f"[{ticket.number}]"})
    return "\n".join(parts) + "\n"


def _ticket(event: Any) -> Ticket | None:
    return Ticket.objects.select_related("contact", "assignee").filter(
        pk=int((event.payload or {}).get("ticket_id") or 0)).first()


def on_ticket_created(event: Any) -> None:
    """Acknowledge a new ticket to its contact (a `ticket.created` handler)."""
    ticket = _ticket(event)
    if ticket is None or ticket.contact is None or not ticket.contact.email:
        return
    if SentEmail.objects.filter(ticket=ticket, kind="created").exists():
        return
    with translation.override(_language()):
        subject = f"[{ticket.number}] {ticket.title}"
        text = _("Hello %(name)s,\n\nWe have received your request and opened ticket %(number)s. We will get back "
                 "to you as soon as possible.\n\n%(description)s") % {
            "name": ticket.contact.first_name, "number": ticket.number, "description": ticket.description}
        send_ticket_mail(ticket=ticket, kind="created", to=[ticket.contact.email], subject=subject,
                         body=_contact_body(ticket, text), automatic=True)


def on_ticket_replied(event: Any) -> None:
    """A public reply: from the MSP, mail it to the contact; from the client, tell the assignee."""
    ticket = _ticket(event)
    payload = event.payload or {}
    entry = TicketEntry.objects.select_related("author", "author_contact").filter(
        pk=int(payload.get("entry_id") or 0), ticket_id=ticket.pk if ticket else 0).first()
    if ticket is None or entry is None or not entry.visible_to_client:
        return
    if SentEmail.objects.filter(entry=entry).exists():
        return
    from_client = bool(payload.get("from_client")) or (entry.author_contact_id is not None and entry.author_id is None)
    with translation.override(_language()):
        if from_client:
            assignee = ticket.assignee
            if assignee is None or not assignee.is_active or not assignee.email:
                return
            who = entry.author_contact.full_name if entry.author_contact else _("The client")
            subject = _("[%(number)s] Client reply: %(title)s") % {"number": ticket.number, "title": ticket.title}
            link = base_url() + reverse("servicedesk:ticket_detail", args=[ticket.pk]) if _has_staff_url() else ""
            body = _("%(who)s replied on %(number)s:\n\n%(body)s\n\n%(url)s") % {
                "who": who, "number": ticket.number, "body": entry.body, "url": link}
            send_ticket_mail(ticket=ticket, kind="client_reply", to=[assignee.email], subject=subject, body=body,
                             entry=entry)
            return
        if ticket.contact is None or not ticket.contact.email:
            return
        author = entry.author.get_full_name() if entry.author else _("Support")
        subject = f"Re: [{ticket.number}] {ticket.title}"
        text = _("%(author)s wrote:\n\n%(body)s") % {"author": author, "body": entry.body}
        send_ticket_mail(ticket=ticket, kind="reply", to=[ticket.contact.email], subject=subject,
                         body=_contact_body(ticket, text), entry=entry)


def _has_staff_url() -> bool:
    try:
        reverse("servicedesk:ticket_detail", args=[1])
    except NoReverseMatch:
        return False
    return True
