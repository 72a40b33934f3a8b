"""Applying an inbound email to the service desk, once per Message-ID.

A reply threads onto its ticket by the ticket number in the subject ("[T-000123]") or by In-Reply-To /
References naming a message the ticket sent or received; it is taken as the client's reply only when
the sender belongs to the ticket's client (a contact's address or one of its mail domains), otherwise it
is kept as an internal note. Anything else opens a ticket for the client the sender belongs to (contact
address first, then the client's mail domains; a sender known only by domain becomes a contact). An
unknown sender's message waits in triage or is refused (`TENFOLD_MAIL_UNKNOWN_SENDERS`). Automatic
messages (auto-replies, bounces, lists) are recorded and ignored, so no mail loop can start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tenfold.clients.models import Client, Contact
from tenfold.core import audit, events
from tenfold.servicedesk import mailconfig
from tenfold.servicedesk.attachments import refusal
from tenfold.servicedesk.email_parse import ParsedEmail, parse_email, strip_reply
from tenfold.servicedesk.models import EntryKind, Ticket, TicketEntry, TicketSource, TicketStatus
from tenfold.servicedesk.models_email import (
    ClientEmailDomain,
    InboundEmail,
    InboundStatus,
    SentEmail,
    TicketAttachment,
)

logger = logging.getLogger("tenfold.servicedesk.email")


@dataclass
class Requester:
    client: Client
    contact: Contact | None


def find_requester(sender: str, domain_only_creates_contact: bool = True, name: str = "") -> Requester | None:
    """The client (and contact) an address belongs to: a contact's address, else a client's mail domain."""
    if not sender:
        return None
    contacts = list(Contact.objects.select_related("client").filter(email__iexact=sender).order_by("pk")[:5])
    domain = sender.rpartition("@")[2].lower()
    mapped = ClientEmailDomain.objects.select_related("client").filter(domain__iexact=domain).first()
    if len({c.client_id for c in contacts}) == 1:
        return Requester(contacts[0].client, contacts[0])
    if contacts and mapped is not None:
        # The same address at several clients: the domain decides.
        chosen = next((c for c in contacts if c.client_id == mapped.client_id), None)
        if chosen is not None:
            return Requester(chosen.client, chosen)
    if contacts:
        return None  # ambiguous: a person decides in triage
    if mapped is None:
        return None
    contact = _contact_for(mapped.client, sender, name) if domain_only_creates_contact else None
    return Requester(mapped.client, contact)


def _contact_for(client: Client, email: str, name: str) -> Contact:
    """A contact for a sender known by domain only, so that replies and surveys reach them."""
    local = email.partition("@")[0]
    first, _sep, last = (name or local.replace(".", " ").title()).partition(" ")
    contact = Contact(client=client, first_name=first[:100] or local[:100], last_name=(last or "-")[:100],
                      email=email.lower())
    contact.save()
    audit.record(None, "contact.created", contact, changes={"email": email, "source": "email"})
    events.emit("contact.created", client_id=client.pk, payload={"contact_id": contact.pk, "client_id": client.pk})
    return contact


def belongs_to(sender: str, client_id: int) -> Contact | bool:
    """The sender's contact at this client, True when known only by the client's domain, False otherwise."""
    contact = Contact.objects.filter(client_id=client_id, email__iexact=sender).first()
    if contact is not None:
        return contact
    domain = sender.rpartition("@")[2].lower()
    return ClientEmailDomain.objects.filter(client_id=client_id, domain__iexact=domain).exists()


def find_thread(parsed: ParsedEmail) -> tuple[Ticket | None, bool]:
    """The ticket this message answers, and whether it was found by a message id (rather than the number
    in the subject, which anybody can type)."""
    ids = parsed.thread_ids
    if ids:
        entry = TicketEntry.objects.filter(email_message_id__in=ids).select_related("ticket").order_by("-pk").first()
        if entry is not None:
            return entry.ticket, True
        inbound = InboundEmail.objects.filter(message_id__in=ids, ticket__isnull=False).order_by("-pk").first()
        if inbound is not None and inbound.ticket_id:
            return Ticket.objects.get(pk=inbound.ticket_id), True
        sent = SentEmail.objects.filter(message_id__in=ids).order_by("-pk").first()
        if sent is not None:
            return Ticket.objects.get(pk=sent.ticket_id), True
    if parsed.ticket_number:
        return Ticket.objects.filter(number__iexact=parsed.ticket_number).first(), False
    return None, False


def _check_attachment(att: Any) -> str:
    """Why an attachment is refused, or "" when it is accepted (the same checks as uploads, on the declared
    type)."""
    return refusal(att.filename, att.content_type, len(att.data))


def store_attachments(ticket: Ticket, entry: TicketEntry | None, attachments: list[Any]) -> list[str]:
    """Store the accepted attachments; the messages of the refused ones (each a sentence)."""
    refused: list[str] = []
    for att in attachments:
        reason = _check_attachment(att)
        if reason:
            refused.append(reason)
            continue
        item = TicketAttachment(client_id=ticket.client_id, ticket=ticket, entry=entry, filename=att.filename,
                                content_type=att.content_type, size=len(att.data))
        item.file.save(att.filename, ContentFile(att.data), save=False)
        item.save()
    return refused


def _system_note(ticket: Ticket, body: str, message_id: str = "") -> TicketEntry:
    """An internal note written by the email channel itself (no person acts)."""
    entry = TicketEntry.objects.create(client_id=ticket.client_id, ticket=ticket, kind=EntryKind.NOTE_INTERNAL,
                                       body=body, visible_to_client=False, email_message_id=message_id[:300])
    audit.record(None, "ticket.noted", ticket, changes={"entry_id": entry.pk, "public": False, "source": "email"},
                 actor_kind="system")
    return entry


def _note_refused(ticket: Ticket, refused: list[str]) -> None:
    if refused:
        _system_note(ticket, _("Attachments refused from the email:") + "\n"
                     + "\n".join(f"- {line}" for line in refused))


def _open_ticket(parsed: ParsedEmail, requester: Requester) -> Ticket:
    # The ticket is opened by the email channel, not by a person (the sender was matched to this client above).
    from tenfold.servicedesk.services import ticket_open_for_channel

    text = strip_reply(parsed.text) or parsed.subject or _("(no text)")
    title = parsed.subject or _("Email from %(sender)s") % {"sender": parsed.sender}
    return ticket_open_for_channel(client=requester.client, source=TicketSource.EMAIL, data={
        "title": title[:200], "description": text,
        "contact_id": requester.contact.pk if requester.contact else None})


def _reply(ticket: Ticket, parsed: ParsedEmail, contact: Contact | None, public: bool) -> TicketEntry:
    from tenfold.servicedesk.services import ticket_reply

    body = strip_reply(parsed.text) or _("(no text)")
    if not public or contact is None:
        # Not the client speaking (a third party answering the thread): staff only.
        return _system_note(ticket, _("Email from %(sender)s:") % {"sender": parsed.sender} + "\n\n" + body,
                            parsed.message_id)
    return ticket_reply(actor=None, ticket=ticket, body=body, public=True, contact=contact,
                        message_id=parsed.message_id)


def apply_email(raw: bytes, channel: str = "imap") -> InboundEmail:
    """Apply one raw message; the same Message-ID is applied once (a second call returns the first record)."""
    parsed = parse_email(raw, mailconfig.own_addresses())
    existing = InboundEmail.objects.filter(message_id=parsed.message_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            record = _apply(parsed, raw, channel)
    except IntegrityError:
        # Applied concurrently by another worker (the unique message id won): that one stands.
        existing = InboundEmail.objects.filter(message_id=parsed.message_id).first()
        if existing is None:
            raise
        return existing
    logger.info("inbound email %s from %s: %s", parsed.message_id, parsed.sender, record.status)
    return record


def _record(parsed: ParsedEmail, channel: str, status: str, ticket: Ticket | None = None, detail: str = "",
            raw: bytes = b"") -> InboundEmail:
    return InboundEmail.objects.create(
        message_id=parsed.message_id, channel=channel, sender=parsed.sender[:254],
        sender_name=parsed.sender_name, subject=parsed.subject[:300], status=status, ticket=ticket,
        detail=detail[:300], raw=raw)


def _apply(parsed: ParsedEmail, raw: bytes, channel: str) -> InboundEmail:
    if parsed.automatic:
        return _record(parsed, channel, InboundStatus.IGNORED, detail=parsed.automatic)
    ticket, by_message_id = find_thread(parsed)
    if ticket is not None and ticket.merged_into_id:
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    who: Contact | bool = False
    if ticket is not None:
        who = belongs_to(parsed.sender, ticket.client_id)
        if who is False and not by_message_id:
            # A ticket number in the subject from a stranger threads nothing: treated as a new message.
            ticket = None
        elif ticket.status == TicketStatus.CLOSED and who is not False:
            ticket = None  # a closed ticket stays closed: the client's new message opens a new one
    if ticket is not None:
        contact: Contact | None = who if isinstance(who, Contact) else None
        if who is True:
            requester = find_requester(parsed.sender, name=parsed.sender_name)
            contact = requester.contact if requester and requester.client.pk == ticket.client_id else None
        entry = _reply(ticket, parsed, contact, public=who is not False)
        _note_refused(ticket, store_attachments(ticket, entry, parsed.attachments))
        return _record(parsed, channel, InboundStatus.THREADED, ticket)
    requester = find_requester(parsed.sender, name=parsed.sender_name)
    if requester is None:
        if mailconfig.unknown_senders() == "refuse":
            return _record(parsed, channel, InboundStatus.REFUSED, detail=_("Unknown sender."))
        return _record(parsed, channel, InboundStatus.TRIAGE, detail=_("Unknown sender."), raw=raw)
    ticket = _open_ticket(parsed, requester)
    _note_refused(ticket, store_attachments(ticket, None, parsed.attachments))
    return _record(parsed, channel, InboundStatus.CREATED, ticket)


@transaction.atomic
def triage_assign(*, actor: Any, inbound: InboundEmail, client: Client) -> Ticket:
    """A staff member files a triaged message under a client: the ticket opens, the sender becomes a contact."""
    from tenfold.core.errors import ValidationError
    from tenfold.core.roles import require

    require(actor, "tickets", "add")
    if actor.client_scope() is not None and client.pk not in actor.client_scope():
        from tenfold.core.errors import NotFound

        raise NotFound()
    inbound = InboundEmail.objects.select_for_update().get(pk=inbound.pk)
    if inbound.status != InboundStatus.TRIAGE:
        raise ValidationError({"status": [_("This message is no longer waiting in triage.")]})
    parsed = parse_email(bytes(inbound.raw), mailconfig.own_addresses())
    contact = Contact.objects.filter(client=client, email__iexact=parsed.sender).first() if parsed.sender else None
    if contact is None and parsed.sender:
        contact = _contact_for(client, parsed.sender, parsed.sender_name)
    ticket = _open_ticket(parsed, Requester(client, contact))
    _note_refused(ticket, store_attachments(ticket, None, parsed.attachments))
    inbound.status, inbound.ticket, inbound.raw = InboundStatus.ASSIGNED, ticket, b""
    inbound.save(update_fields=["status", "ticket", "raw", "updated_at"])
    audit.record(actor, "inbound_email.assigned", inbound, client_id=client.pk,
                 changes={"ticket": ticket.number, "sender": inbound.sender})
    return ticket


@transaction.atomic
def triage_dismiss(*, actor: Any, inbound: InboundEmail) -> None:
    """Drop a triaged message (spam, wrong address)."""
    from tenfold.core.errors import ValidationError
    from tenfold.core.roles import require

    require(actor, "tickets", "delete")
    inbound = InboundEmail.objects.select_for_update().get(pk=inbound.pk)
    if inbound.status != InboundStatus.TRIAGE:
        raise ValidationError({"status": [_("This message is no longer waiting in triage.")]})
    inbound.status, inbound.raw = InboundStatus.DISMISSED, b""
    inbound.save(update_fields=["status", "raw", "updated_at"])
    audit.record(actor, "inbound_email.dismissed", inbound, changes={"sender": inbound.sender})
