"""Writes of the service desk: tickets (create, update, reply, status, assign, merge, bulk, opportunity),
checklists, alert tickets, queues, templates and recurring tickets, time entries and timers, approval.
Each verb validates, writes, audits and emits in one transaction."""

from __future__ import annotations

import calendar
import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.assets.models import Device
from tenfold.clients.models import Client, Contact
from tenfold.contracts.models import PRIORITIES, Contract, ContractType, Project
from tenfold.contracts.selectors import billable_minutes
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.roles import STAFF_ROLES, has_capability, require
from tenfold.core.scheduler import next_run, validate_cron
from tenfold.core.writes import apply_fields, clean_or_raise, save_or_unique_error
from tenfold.servicedesk import sla
from tenfold.servicedesk.attachments import MAX_FILES, FileInput, refusal
from tenfold.servicedesk.models import (
    CLOCK_STOPPED_STATUSES,
    DONE_STATUSES,
    OPEN_STATUSES,
    ApprovalStatus,
    Coverage,
    EntryKind,
    Queue,
    RecurrenceUnit,
    RecurringTicket,
    Ticket,
    TicketChecklistItem,
    TicketEntry,
    TicketSource,
    TicketStatus,
    TicketTemplate,
    TimeEntry,
)
from tenfold.servicedesk.models_email import TicketAttachment

TICKET_FIELDS = ("title", "description", "priority", "type", "queue_id", "assignee_id", "contact_id", "device_ids",
                 "tags", "due_at", "contract_id")
PORTAL_TICKET_FIELDS = ("title", "description", "priority", "type")
QUEUE_FIELDS = ("name", "description", "is_default", "is_active")
TEMPLATE_FIELDS = ("name", "title", "description", "type", "priority", "queue_id", "runbook_id", "is_active")
RECURRING_FIELDS = ("template_id", "contact_id", "assignee_id", "unit", "interval", "cron", "next_run_at",
                    "is_active")
TIME_FIELDS = ("started_at", "actual_minutes", "billable", "coverage", "work_type", "notes")


def _is_portal(actor: Any) -> bool:
    return bool(getattr(actor, "is_portal", False))


def _require_staff(actor: Any, capability: str = "tickets", action: str = "change") -> None:
    require(actor, capability, action)
    if _is_portal(actor):
        raise PermissionDenied()


def _actor_id(actor: Any) -> int | None:
    return actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None


def _ticket_payload(ticket: Ticket, **extra: Any) -> dict[str, Any]:
    return {"ticket_id": ticket.pk, "number": ticket.number, "client_id": ticket.client_id, **extra}


def _emit(name: str, ticket: Ticket, **extra: Any) -> None:
    events.emit(name, client_id=ticket.client_id, payload=_ticket_payload(ticket, **extra))


def _entry(ticket: Ticket, kind: str, *, author: Any = None, body: str = "", visible: bool = False,
           contact: Contact | None = None, data: dict[str, Any] | None = None, alert: Any = None,
           message_id: str = "", at: datetime | None = None) -> TicketEntry:
    return TicketEntry.objects.create(
        client_id=ticket.client_id, ticket=ticket, kind=kind, author_id=_actor_id(author), author_contact=contact,
        body=body, visible_to_client=visible, data=data or {}, alert=alert, email_message_id=message_id[:300],
        created_at=at or timezone.now())


def normalise_tags(value: Any) -> str:
    """Labels lower-cased, trimmed, de-duplicated, comma-joined ("VPN, printer" → "vpn,printer")."""
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    seen: list[str] = []
    for item in items:
        tag = str(item).strip().lower()[:40]
        if tag and tag not in seen:
            seen.append(tag)
    text = ",".join(seen)
    if len(text) > 300:
        raise ValidationError(_("Too many tags."), field="tags")
    return text


# --- Checks of ids given in input: missing and another client's answer alike -------------------------


def _check_contact(client_id: int, contact_id: Any) -> None:
    if contact_id is not None and not Contact.objects.filter(pk=contact_id, client_id=client_id).exists():
        raise ValidationError(_("Choose a contact of this client."), field="contact")


def _check_devices(client_id: int, device_ids: list[int]) -> list[int]:
    ids = sorted({int(d) for d in device_ids})
    if ids and Device.objects.filter(pk__in=ids, client_id=client_id).count() != len(ids):
        raise ValidationError(_("Choose devices of this client."), field="devices")
    return ids


def _check_assignee(client_id: int, user_id: Any) -> None:
    if user_id is None:
        return
    user = get_user_model().objects.filter(pk=user_id, role__in=list(STAFF_ROLES), is_active=True).first()
    scope = user.client_scope() if user is not None else None
    if user is None or (scope is not None and client_id not in scope) or not has_capability(user, "tickets", "change"):
        raise ValidationError(_("Choose an active staff member who works on this client's tickets."),
                              field="assignee")


def _check_contract(client_id: int, contract_id: Any) -> Contract | None:
    if contract_id is None:
        return None
    contract = Contract.objects.select_related("sla_policy", "sla_policy__calendar", "calendar",
                                               "rounding_rule").filter(pk=contract_id, client_id=client_id).first()
    if contract is None:
        raise ValidationError(_("Choose a contract of this client."), field="contract")
    return contract


def _check_queue(queue_id: Any) -> None:
    if queue_id is not None and not Queue.objects.filter(pk=queue_id).exists():
        raise ValidationError(_("Choose an existing queue."), field="queue")


def _default_queue_id() -> int | None:
    return Queue.objects.filter(is_default=True, is_active=True).values_list("pk", flat=True).first()


def _clean_priority(ticket: Ticket) -> None:
    if ticket.priority not in PRIORITIES:
        raise ValidationError(_("Choose a priority from P1 to P4."), field="priority")


# --- Tickets ------------------------------------------------------------------------------------------


def _create(*, actor: Any, client: Client, data: dict[str, Any], source: str, template: TicketTemplate | None = None,
            alert: Any = None, recurring: RecurringTicket | None = None, at: datetime | None = None) -> Ticket:
    """The write shared by every way a ticket opens (access checked by the caller)."""
    now = at or timezone.now()
    data = dict(data)
    device_ids = _check_devices(client.pk, data.pop("device_ids", None) or [])
    contract = _check_contract(client.pk, data.get("contract_id"))
    _check_contact(client.pk, data.get("contact_id"))
    _check_assignee(client.pk, data.get("assignee_id"))
    _check_queue(data.get("queue_id"))
    if "tags" in data:
        data["tags"] = normalise_tags(data["tags"])
    ticket = Ticket(client=client, source=source, created_by_id=_actor_id(actor), template=template, alert=alert,
                    recurring=recurring, created_at=now)
    if recurring is not None:
        ticket.recurrence_due_at = recurring.next_run_at
    apply_fields(ticket, TICKET_FIELDS, data)
    if ticket.queue_id is None:
        ticket.queue_id = _default_queue_id()
    if contract is None and "contract_id" not in data:
        contract = sla.pick_contract(client.pk, device_ids, now.date())
    ticket.contract = contract
    _clean_priority(ticket)
    clean_or_raise(ticket)
    sla.start(ticket, sla.terms_for(contract), now)
    try:
        with transaction.atomic():
            ticket.save()
    except IntegrityError as exc:
        raise Conflict(_("This ticket already exists.")) from exc
    ticket.number = f"T-{ticket.pk:06d}"
    ticket.save(update_fields=["number"])
    if device_ids:
        ticket.devices.set(device_ids)
    if actor is not None and getattr(actor, "pk", None) and not _is_portal(actor):  # not a workflow's actor
        ticket.watchers.add(actor)
    if template is not None and template.runbook_id:
        copy_runbook_steps(ticket, template.runbook_id)
    _entry(ticket, EntryKind.SYSTEM, author=actor, data={"event": "created", "source": source}, at=now)
    audit.record(actor, "ticket.created", ticket, changes=audit.snapshot(ticket, [
        "number", "title", "priority", "type", "status", "queue", "assignee", "contact", "contract", "source"]))
    _emit("ticket.created", ticket, source=source, priority=ticket.priority, contract_id=ticket.contract_id)
    return ticket


def copy_runbook_steps(ticket: Ticket, runbook_id: int) -> int:
    """Copy a knowledge runbook's steps into the ticket's checklist; returns how many."""
    from tenfold.knowledge.checklists import runbook_steps

    steps = runbook_steps(runbook_id)
    TicketChecklistItem.objects.bulk_create([
        TicketChecklistItem(client_id=ticket.client_id, ticket=ticket, position=i, text=step.text,
                            required=step.required) for i, step in enumerate(steps, start=1)])
    return len(steps)


@transaction.atomic
def ticket_create(*, actor: Any, client: Client, data: dict[str, Any], source: str = TicketSource.UI,
                  opened_at: datetime | None = None) -> Ticket:
    """Open a ticket for a client (staff, API or a portal user for their company); links the contract in force
    and starts its SLA clocks. `data` may hold `template_id` to copy a template and its runbook checklist.
    `opened_at` (imports, the demo) backdates the opening and the clocks."""
    require(actor, "tickets", "add")
    if actor.client_scope() is not None and client.pk not in actor.client_scope():
        raise PermissionDenied()
    data = dict(data)
    template = None
    template_id = data.pop("template_id", None)
    if _is_portal(actor):
        unknown = set(data) - set(PORTAL_TICKET_FIELDS)
        if unknown or template_id is not None:
            raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
        data["contact_id"] = getattr(actor, "contact_id", None)
        source = TicketSource.PORTAL if source == TicketSource.UI else source
    if template_id is not None:
        template = TicketTemplate.objects.filter(pk=template_id, is_active=True).first()
        if template is None:
            raise ValidationError(_("Choose an active template."), field="template")
        data = {**template_defaults(template), **{k: v for k, v in data.items() if v not in (None, "")}}
    return _create(actor=actor, client=client, data=data, source=source, template=template, at=opened_at)


def template_defaults(template: TicketTemplate) -> dict[str, Any]:
    """The ticket fields a template fills in."""
    return {"title": template.title, "description": template.description, "type": template.type,
            "priority": template.priority, "queue_id": template.queue_id}


@transaction.atomic
def ticket_update(*, actor: Any, ticket: Ticket, data: dict[str, Any]) -> Ticket:
    """Change a ticket's details; a new priority or contract restarts the SLA targets from the opening time."""
    _require_staff(actor)
    data = dict(data)
    before = audit.snapshot(ticket)
    old_priority, old_contract = ticket.priority, ticket.contract_id
    device_ids = None
    if "device_ids" in data:
        device_ids = _check_devices(ticket.client_id, data.pop("device_ids") or [])
    contract = _check_contract(ticket.client_id, data.get("contract_id")) if "contract_id" in data else ticket.contract
    _check_contact(ticket.client_id, data.get("contact_id"))
    if "assignee_id" in data:
        _check_assignee(ticket.client_id, data["assignee_id"])
    if "queue_id" in data:
        _check_queue(data["queue_id"])
    if "tags" in data:
        data["tags"] = normalise_tags(data["tags"])
    apply_fields(ticket, TICKET_FIELDS, data)
    _clean_priority(ticket)
    clean_or_raise(ticket)
    if ticket.priority != old_priority or ticket.contract_id != old_contract:
        ticket.contract = contract
        sla.start(ticket, sla.terms_for(contract), ticket.created_at)
        _reset_sla_flags(ticket, timezone.now())
    ticket.save()
    if device_ids is not None:
        ticket.devices.set(device_ids)
    changes = audit.diff(before, audit.snapshot(ticket))
    if device_ids is not None:
        changes["devices"] = device_ids
    if changes:
        audit.record(actor, "ticket.updated", ticket, changes=changes)
        _emit("ticket.updated", ticket, fields=sorted(changes))
    return ticket


def _reset_sla_flags(ticket: Ticket, now: datetime) -> None:
    """After new targets: a warning or breach whose time is now in the future may come again."""
    for clock in ("first_response", "resolution"):
        due, warn = getattr(ticket, f"{clock}_due_at"), getattr(ticket, f"{clock}_warn_at")
        if due is not None and due > now:
            setattr(ticket, f"sla_{clock}_breached", False)
        if warn is not None and warn > now:
            setattr(ticket, f"sla_{clock}_warned", False)


@transaction.atomic
def ticket_reply(*, actor: Any, ticket: Ticket, body: str, public: bool, contact: Contact | None = None,
                 message_id: str = "") -> TicketEntry:
    """Add a public reply or an internal note. A staff member's first public reply is the first response; a
    client's reply (portal user, or `contact` for an email with `actor` None) while waiting on the client
    puts the ticket back in progress. `message_id` threads email."""
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("Write something first."), field="body")
    if len(body) > 100_000:
        raise ValidationError(_("This text is too long."), field="body")
    from_client = contact is not None or _is_portal(actor)
    if actor is not None:
        require(actor, "tickets", "change")
    elif contact is None:
        raise PermissionDenied()
    if contact is not None and contact.client_id != ticket.client_id:
        raise ValidationError(_("Choose a contact of this client."), field="contact")
    if from_client:
        public = True
        contact = contact or getattr(actor, "contact", None)
    if ticket.merged_into_id:
        raise Conflict(_("This ticket was merged into %(number)s: reply there.")
                       % {"number": ticket.merged_into.number if ticket.merged_into else ""})
    now = timezone.now()
    kind = EntryKind.REPLY_PUBLIC if public else EntryKind.NOTE_INTERNAL
    entry = _entry(ticket, kind, author=actor, body=body, visible=public, contact=contact,
                   message_id=message_id, at=now)
    fields: list[str] = []
    if public and not from_client and ticket.first_responded_at is None:
        sla.record_first_response(ticket, now)
        fields += ["first_responded_at", "sla_first_response_met"]
    if from_client and ticket.status in (TicketStatus.WAITING_CLIENT, TicketStatus.RESOLVED):
        _change_status(actor, ticket, TicketStatus.IN_PROGRESS, now)
        fields = []  # _change_status saved everything
    elif public and not from_client and ticket.status == TicketStatus.NEW:
        _change_status(actor, ticket, TicketStatus.IN_PROGRESS, now)
        fields = []
    if fields:
        ticket.save(update_fields=[*fields, "updated_at"])
    else:
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
    audit.record(actor, "ticket.replied" if public else "ticket.noted", ticket,
                 changes={"entry_id": entry.pk, "public": public},
                 actor_kind="system" if actor is None else None)
    _emit("ticket.replied" if public else "ticket.noted", ticket, entry_id=entry.pk, public=public,
          from_client=from_client)
    return entry


@transaction.atomic
def ticket_attach(*, actor: Any, ticket: Ticket, files: list[FileInput],
                  entry: TicketEntry | None = None) -> list[TicketAttachment]:
    """Attach files to a ticket (to one of its timeline entries, e.g. the reply they came with), stored like
    email attachments. Every file is checked first: one refused file refuses them all and nothing is stored.
    Files on an internal note stay staff-only; the others the client's portal users see too."""
    require(actor, "tickets", "change")
    if entry is not None and entry.ticket_id != ticket.pk:
        raise ValidationError(_("This entry belongs to another ticket."), field="entry")
    if len(files) > MAX_FILES:
        raise ValidationError(_("Attach at most %(count)d files at once.") % {"count": MAX_FILES},
                              field="attachments")
    reasons = [reason for f in files
               if (reason := refusal(f.filename, f.content_type, len(f.data), f.data, sniff=True))]
    if reasons:
        raise ValidationError(reasons[0], errors={"attachments": reasons})
    stored: list[TicketAttachment] = []
    for item in files:
        attachment = TicketAttachment(client_id=ticket.client_id, ticket=ticket, entry=entry,
                                      filename=item.filename, content_type=item.content_type, size=len(item.data))
        attachment.file.save(item.filename, ContentFile(item.data), save=False)
        attachment.save()
        stored.append(attachment)
    if stored:
        audit.record(actor, "ticket.attached", ticket, changes={
            "files": [a.filename for a in stored], "entry_id": entry.pk if entry else None})
    return stored


def _change_status(actor: Any, ticket: Ticket, status: str, now: datetime, *, resolution: str = "") -> None:
    old = ticket.status
    if status == old:
        return
    if status == TicketStatus.RESOLVED:
        open_steps = ticket.checklist.filter(required=True, done_at__isnull=True).count()
        if open_steps:
            raise Conflict(_("%(count)s required checklist step(s) are still open: tick them before resolving.")
                           % {"count": open_steps}, field="status")
    was_stopped, stops = old in CLOCK_STOPPED_STATUSES, status in CLOCK_STOPPED_STATUSES
    if was_stopped and not stops:
        if old in DONE_STATUSES:
            ticket.resolved_at = None
            ticket.closed_at = None
            ticket.sla_resolution_met = None
        sla.resume(ticket, now)
    if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED) and ticket.resolved_at is None:
        if ticket.paused_at is not None:
            sla.resume(ticket, now)
        sla.record_resolution(ticket, now)
    if status == TicketStatus.CLOSED:
        ticket.closed_at = now
    if stops:
        sla.pause(ticket, now)
    if resolution:
        ticket.resolution = resolution
    ticket.status = status
    ticket.save()
    _entry(ticket, EntryKind.STATUS_CHANGE, author=actor, data={"from": old, "to": status},
           body=resolution, visible=True, at=now)
    audit.record(actor, "ticket.status_changed", ticket, changes={"status": [old, status]},
                 actor_kind="system" if actor is None else None)
    _emit("ticket.status_changed", ticket, **{"from": old, "to": status})
    if status == TicketStatus.RESOLVED:
        _emit("ticket.resolved", ticket, sla_resolution_met=ticket.sla_resolution_met,
              assignee_id=ticket.assignee_id)
    if status == TicketStatus.CLOSED:
        _emit("ticket.closed", ticket, contact_id=ticket.contact_id, assignee_id=ticket.assignee_id)


@transaction.atomic
def ticket_set_status(*, actor: Any, ticket: Ticket, status: str, resolution: str = "") -> Ticket:
    """Move a ticket to a status: waiting statuses pause the SLA clocks, resolving records attainment (refused
    while required checklist steps are open), reopening restarts the clocks."""
    if status not in TicketStatus.values:
        raise ValidationError(_("Choose a valid status."), field="status")
    require(actor, "tickets", "change")
    if _is_portal(actor) and status not in (TicketStatus.CLOSED, TicketStatus.IN_PROGRESS):
        raise PermissionDenied()
    if ticket.merged_into_id and status not in DONE_STATUSES:
        raise Conflict(_("A merged ticket cannot be reopened."), field="status")
    _change_status(actor, ticket, status, timezone.now(), resolution=(resolution or "").strip())
    return ticket


@transaction.atomic
def ticket_assign(*, actor: Any, ticket: Ticket, assignee: Any) -> Ticket:
    """Give the ticket to a staff member (None: unassign); the assignee watches it."""
    _require_staff(actor)
    assignee_id = assignee.pk if assignee is not None else None
    _check_assignee(ticket.client_id, assignee_id)
    old = ticket.assignee_id
    if old == assignee_id:
        return ticket
    ticket.assignee_id = assignee_id
    ticket.save(update_fields=["assignee", "updated_at"])
    if assignee is not None:
        ticket.watchers.add(assignee)
    _entry(ticket, EntryKind.SYSTEM, author=actor, data={"event": "assigned", "from": old, "to": assignee_id})
    audit.record(actor, "ticket.assigned", ticket, changes={"assignee": [old, assignee_id]})
    _emit("ticket.assigned", ticket, assignee_id=assignee_id, previous_assignee_id=old)
    return ticket


@transaction.atomic
def ticket_set_watching(*, actor: Any, ticket: Ticket, user: Any, watching: bool) -> Ticket:
    """Add or remove a staff watcher (a watcher is told of every change)."""
    _require_staff(actor, action="view")
    if user.pk != actor.pk:
        require(actor, "tickets", "change")
        _check_assignee(ticket.client_id, user.pk)
    if watching:
        ticket.watchers.add(user)
    else:
        ticket.watchers.remove(user)
    audit.record(actor, "ticket.watchers_changed", ticket, changes={"user": user.pk, "watching": watching})
    return ticket


@transaction.atomic
def ticket_merge(*, actor: Any, source: Ticket, target: Ticket) -> Ticket:
    """Merge a duplicate into another ticket of the same client: the source is closed and points to the target,
    its devices, watchers and time move over, both timelines say so."""
    _require_staff(actor)
    if source.pk == target.pk:
        raise ValidationError(_("A ticket cannot be merged into itself."), field="target")
    if source.client_id != target.client_id:
        raise ValidationError(_("Choose a ticket of the same client."), field="target")
    if source.merged_into_id:
        raise Conflict(_("This ticket was already merged."))
    if target.merged_into_id:
        raise ValidationError(_("Choose a ticket that was not merged itself."), field="target")
    now = timezone.now()
    target.devices.add(*source.devices.all())
    target.watchers.add(*source.watchers.all())
    moved = TimeEntry.objects.filter(ticket=source).update(ticket=target)
    if source.alert_id and not target.alert_id and target.is_open:
        target.alert_id = source.alert_id
    source.alert_id = None
    source.merged_into = target
    source.save(update_fields=["merged_into", "alert", "updated_at"])
    target.save(update_fields=["alert", "updated_at"])
    if source.status not in DONE_STATUSES:
        _change_status(actor, source, TicketStatus.CLOSED, now)
    _entry(source, EntryKind.MERGE, author=actor, visible=True, data={"into": target.pk, "number": target.number},
           body=str(_("Merged into %(number)s.") % {"number": target.number}), at=now)
    _entry(target, EntryKind.MERGE, author=actor, visible=True, data={"from": source.pk, "number": source.number},
           body=str(_("%(number)s (%(title)s) was merged into this ticket.")
                    % {"number": source.number, "title": source.title}), at=now)
    audit.record(actor, "ticket.merged", source, changes={"into": target.pk, "time_entries_moved": moved})
    _emit("ticket.merged", source, into_ticket_id=target.pk)
    return target


@transaction.atomic
def ticket_flag_opportunity(*, actor: Any, ticket: Ticket, note: str) -> Ticket:
    """A technician spots a sales opportunity: the note goes to sales with `ticket.opportunity_flagged`."""
    _require_staff(actor)
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("Say what the client could use."), field="note")
    if len(note) > 2000:
        raise ValidationError(_("This text is too long."), field="note")
    now = timezone.now()
    ticket.opportunity_flagged = True
    ticket.opportunity_note = note
    ticket.opportunity_flagged_by = actor
    ticket.opportunity_flagged_at = now
    ticket.save(update_fields=["opportunity_flagged", "opportunity_note", "opportunity_flagged_by",
                               "opportunity_flagged_at", "updated_at"])
    _entry(ticket, EntryKind.SYSTEM, author=actor, body=note, data={"event": "opportunity"}, at=now)
    audit.record(actor, "ticket.opportunity_flagged", ticket, changes={"note": note})
    _emit("ticket.opportunity_flagged", ticket, technician_id=actor.pk, note=note)
    return ticket


@transaction.atomic
def ticket_delete(*, actor: Any, ticket: Ticket) -> None:
    """Delete a ticket opened by mistake, with its timeline and time (service managers and above); approved
    time blocks it."""
    _require_staff(actor, action="delete")
    if ticket.time_entries.filter(approval_status=ApprovalStatus.APPROVED).exists():
        raise Conflict(_("This ticket has approved time: close it instead."))
    snapshot, pk, client_id = audit.snapshot(ticket), ticket.pk, ticket.client_id
    ticket.delete()
    audit.record(actor, "ticket.deleted", object_type="servicedesk.ticket", object_id=str(pk), client_id=client_id,
                 changes=snapshot)
    events.emit("ticket.deleted", client_id=client_id, payload={"ticket_id": pk, "client_id": client_id})


BULK_FIELDS = ("assignee_id", "status", "priority")


@transaction.atomic
def ticket_bulk_update(*, actor: Any, tickets: list[Ticket], data: dict[str, Any]) -> int:
    """Apply one change (assignee, status or priority) to several visible tickets; all or nothing."""
    _require_staff(actor)
    unknown = set(data) - set(BULK_FIELDS)
    if unknown or not data:
        raise ValidationError(_("Choose an assignee, a status or a priority."))
    if len(tickets) > 500:
        raise ValidationError(_("Choose at most 500 tickets at once."))
    for ticket in tickets:
        if "assignee_id" in data:
            assignee = get_user_model().objects.filter(pk=data["assignee_id"]).first() if data[
                "assignee_id"] is not None else None
            if data["assignee_id"] is not None and assignee is None:
                raise ValidationError(_("Choose an active staff member who works on this client's tickets."),
                                      field="assignee")
            ticket_assign(actor=actor, ticket=ticket, assignee=assignee)
        if "priority" in data:
            ticket_update(actor=actor, ticket=ticket, data={"priority": data["priority"]})
        if "status" in data:
            ticket_set_status(actor=actor, ticket=ticket, status=data["status"])
    return len(tickets)


@transaction.atomic
def checklist_item_set_done(*, actor: Any, item: TicketChecklistItem, done: bool) -> TicketChecklistItem:
    """Tick (or untick) a checklist step, recording who and when."""
    _require_staff(actor)
    if done and item.done_at is None:
        item.done_at, item.done_by = timezone.now(), actor
    elif not done:
        item.done_at, item.done_by = None, None
    item.save(update_fields=["done_at", "done_by", "updated_at"])
    audit.record(actor, "ticket.checklist_ticked" if done else "ticket.checklist_unticked", item,
                 changes={"ticket_id": item.ticket_id, "step": item.text[:200]})
    return item


# --- Alerts -------------------------------------------------------------------------------------------


@transaction.atomic
@transaction.atomic
def ticket_open_for_channel(*, client: Client, data: dict[str, Any], source: str) -> Ticket:
    """Open a ticket that no person opened: an inbound channel (email) whose sender the channel has
    already matched to this client. The same write and SLA clocks as `ticket_create`, without a person's
    access checks; the audit row's actor is the system."""
    if source not in {TicketSource.EMAIL}:
        raise ValidationError(_("Only an inbound channel opens tickets without a person."), field="source")
    return _create(actor=None, client=client, data=data, source=source)


def ticket_open_for_alert(alert: Any, *, actor: Any = None) -> Ticket:
    """The open ticket of an alert, opened when there is none (one open ticket per alert: a retry or a second
    click finds the same one). The ticket names the alert's device; the alert's runbook shows on it."""
    if actor is not None:
        _require_staff(actor, action="add")
    existing = Ticket.objects.filter(alert=alert, status__in=OPEN_STATUSES, merged_into__isnull=True).first()
    if existing is not None:
        return existing
    severity_priority = {"critical": "p1", "error": "p2", "warning": "p3"}
    data = {"title": alert.title[:200], "description": alert.message, "type": "incident",
            "priority": severity_priority.get(alert.severity, "p3"), "device_ids": [alert.device_id]}
    try:
        with transaction.atomic():
            ticket = _create(actor=actor, client=alert.client, data=data, source=TicketSource.ALERT, alert=alert)
    except Conflict:
        found = Ticket.objects.filter(alert=alert, status__in=OPEN_STATUSES, merged_into__isnull=True).first()
        if found is None:
            raise
        return found
    _entry(ticket, EntryKind.ALERT_LINK, author=actor, alert=alert, body=alert.title,
           data={"alert_id": alert.pk, "severity": alert.severity})
    return ticket


def ticket_link_alert(ticket: Ticket, alert: Any) -> TicketEntry:
    """Add an alert to an open ticket (the same device and check raised again): a linked-alert entry."""
    return _entry(ticket, EntryKind.ALERT_LINK, alert=alert, body=alert.title,
                  data={"alert_id": alert.pk, "severity": alert.severity})


def runbook_for_alert(alert: Any) -> Any:
    """The runbook of the alert's check (knowledge), or None."""
    if alert is None or not getattr(alert, "check_definition_id", None):
        return None
    from tenfold.knowledge.selectors import runbook_for_check

    return runbook_for_check(alert.check_definition_id)


# --- SLA tick -------------------------------------------------------------------------------------------


def sla_tick(now: datetime | None = None) -> dict[str, int]:
    """Emit `ticket.sla_warning` and `ticket.sla_breached` once per ticket and clock whose time came (running
    clocks only: a paused ticket's due times move). A conditional update claims each, so two workers emit once."""
    now = now or timezone.now()
    counts = {"warning": 0, "breached": 0}
    running = Ticket.objects.filter(status__in=[TicketStatus.NEW, TicketStatus.IN_PROGRESS], paused_at__isnull=True,
                                    merged_into__isnull=True)
    plan = [("first_response", "warned", "warn_at", "warning"), ("first_response", "breached", "due_at", "breached"),
            ("resolution", "warned", "warn_at", "warning"), ("resolution", "breached", "due_at", "breached")]
    for clock, flag, moment, kind in plan:
        done_field = "first_responded_at" if clock == "first_response" else "resolved_at"
        rows = running.filter(**{f"sla_{clock}_{flag}": False, f"{clock}_{moment}__lte": now,
                                 f"{done_field}__isnull": True}).values_list("pk", "client_id", "number", "assignee_id",
                                                                              f"{clock}_due_at")[:1000]
        for pk, client_id, number, assignee_id, due in rows:
            with transaction.atomic():
                claimed = Ticket.objects.filter(pk=pk, **{f"sla_{clock}_{flag}": False}).update(
                    **{f"sla_{clock}_{flag}": True})
                if claimed:
                    events.emit(f"ticket.sla_{kind}", client_id=client_id, payload={
                        "ticket_id": pk, "number": number, "client_id": client_id, "clock": clock,
                        "due_at": due, "assignee_id": assignee_id})
                    counts[kind] += 1
    return counts


# --- Queues, templates, recurring --------------------------------------------------------------------


def _save(obj: Any, message: Any, field: str) -> None:
    clean_or_raise(obj)
    save_or_unique_error(obj, unique_message=message, unique_field=field)


def _save_queue(actor: Any, queue: Queue, data: dict[str, Any], action: str) -> Queue:
    before = audit.snapshot(queue) if queue.pk else {}
    apply_fields(queue, QUEUE_FIELDS, data)
    if queue.is_default:
        Queue.objects.filter(is_default=True).exclude(pk=queue.pk).update(is_default=False)
    _save(queue, _("A queue with this name already exists."), "name")
    audit.record(actor, f"queue.{action}", queue, changes=audit.diff(before, audit.snapshot(queue)))
    return queue


@transaction.atomic
def queue_create(*, actor: Any, data: dict[str, Any]) -> Queue:
    """Add a queue (service managers and above)."""
    _require_staff(actor, action="delete")
    return _save_queue(actor, Queue(), data, "created")


@transaction.atomic
def queue_update(*, actor: Any, queue: Queue, data: dict[str, Any]) -> Queue:
    """Change a queue."""
    _require_staff(actor, action="delete")
    return _save_queue(actor, queue, data, "updated")


@transaction.atomic
def queue_delete(*, actor: Any, queue: Queue) -> None:
    """Delete a queue that holds no ticket or template."""
    _require_staff(actor, action="delete")
    if queue.tickets.exists() or queue.templates.exists():
        raise Conflict(_("This queue still has tickets or templates: deactivate it instead."))
    snapshot, pk = audit.snapshot(queue), queue.pk
    queue.delete()
    audit.record(actor, "queue.deleted", object_type="servicedesk.queue", object_id=str(pk), changes=snapshot)


def _check_runbook(runbook_id: Any) -> None:
    if runbook_id is None:
        return
    from tenfold.knowledge.models import Runbook

    if not Runbook.objects.filter(pk=runbook_id, client__isnull=True, archived=False).exists():
        raise ValidationError(_("Choose an existing runbook."), field="runbook")


def _save_template(actor: Any, template: TicketTemplate, data: dict[str, Any], action: str) -> TicketTemplate:
    before = audit.snapshot(template) if template.pk else {}
    _check_queue(data.get("queue_id"))
    _check_runbook(data.get("runbook_id"))
    apply_fields(template, TEMPLATE_FIELDS, data)
    if template.priority not in PRIORITIES:
        raise ValidationError(_("Choose a priority from P1 to P4."), field="priority")
    _save(template, _("A template with this name already exists."), "name")
    audit.record(actor, f"ticket_template.{action}", template, changes=audit.diff(before, audit.snapshot(template)))
    return template


@transaction.atomic
def template_create(*, actor: Any, data: dict[str, Any]) -> TicketTemplate:
    """Add a ticket template (service managers and above)."""
    _require_staff(actor, action="delete")
    return _save_template(actor, TicketTemplate(), data, "created")


@transaction.atomic
def template_update(*, actor: Any, template: TicketTemplate, data: dict[str, Any]) -> TicketTemplate:
    """Change a ticket template (tickets already opened keep their checklist)."""
    _require_staff(actor, action="delete")
    return _save_template(actor, template, data, "updated")


@transaction.atomic
def template_delete(*, actor: Any, template: TicketTemplate) -> None:
    """Delete a template no recurring ticket uses."""
    _require_staff(actor, action="delete")
    if template.schedules.exists():
        raise Conflict(_("Recurring tickets use this template: delete them or deactivate the template."))
    snapshot, pk = audit.snapshot(template), template.pk
    template.delete()
    audit.record(actor, "ticket_template.deleted", object_type="servicedesk.tickettemplate", object_id=str(pk),
                 changes=snapshot)


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later, on the month's last day when it is shorter (31 Jan → 28 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def following_run(row: RecurringTicket, after: datetime) -> datetime:
    """The next due time of a recurring ticket strictly after `after`: the schedule's steps counted from its
    current due time (months from that date, so the 31st comes back where a month has one)."""
    if row.unit == RecurrenceUnit.CRON:
        return next_run(row.cron, after)
    count = 1
    while True:
        if row.unit == RecurrenceUnit.MONTHS:
            candidate = add_months(row.next_run_at, row.interval * count)
        else:
            days = row.interval * (7 if row.unit == RecurrenceUnit.WEEKS else 1)
            candidate = row.next_run_at + timedelta(days=days * count)
        if candidate > after:
            return candidate
        count += 1


def _save_recurring(actor: Any, row: RecurringTicket, data: dict[str, Any], action: str) -> RecurringTicket:
    before = audit.snapshot(row) if row.pk else {}
    data = dict(data)
    if "template_id" in data and not TicketTemplate.objects.filter(pk=data["template_id"]).exists():
        raise ValidationError(_("Choose an existing template."), field="template")
    _check_contact(row.client_id, data.get("contact_id"))
    _check_assignee(row.client_id, data.get("assignee_id"))
    apply_fields(row, RECURRING_FIELDS, data)
    if row.unit == RecurrenceUnit.CRON:
        try:
            row.cron = validate_cron(row.cron)
        except Exception as exc:
            raise ValidationError(_("Enter a cron expression: minute hour day month weekday."), field="cron") from exc
    else:
        row.cron = ""
    clean_or_raise(row)
    row.save()
    audit.record(actor, f"recurring_ticket.{action}", row, changes=audit.diff(before, audit.snapshot(row)))
    return row


@transaction.atomic
def recurring_create(*, actor: Any, client: Client, data: dict[str, Any]) -> RecurringTicket:
    """Open a template for a client on a schedule."""
    _require_staff(actor, action="add")
    return _save_recurring(actor, RecurringTicket(client=client), data, "created")


@transaction.atomic
def recurring_update(*, actor: Any, row: RecurringTicket, data: dict[str, Any]) -> RecurringTicket:
    """Change a recurring ticket's schedule or template."""
    _require_staff(actor)
    return _save_recurring(actor, row, data, "updated")


@transaction.atomic
def recurring_delete(*, actor: Any, row: RecurringTicket) -> None:
    """Stop and delete a recurring ticket (tickets it opened stay)."""
    _require_staff(actor, action="delete")
    snapshot, pk, client_id = audit.snapshot(row), row.pk, row.client_id
    row.delete()
    audit.record(actor, "recurring_ticket.deleted", object_type="servicedesk.recurringticket", object_id=str(pk),
                 client_id=client_id, changes=snapshot)


def run_due_recurring(now: datetime | None = None) -> int:
    """Open the tickets of every due recurring schedule, once per due time (a unique constraint on schedule and
    due time makes a second worker's attempt a no-op); a schedule late by several periods opens one ticket."""
    now = now or timezone.now()
    opened = 0
    for row_id in RecurringTicket.objects.filter(is_active=True, next_run_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            row = RecurringTicket.objects.select_for_update().select_related("template", "client").filter(
                pk=row_id, is_active=True, next_run_at__lte=now).first()
            if row is None:
                continue
            template = row.template
            data = {**template_defaults(template), "contact_id": row.contact_id, "assignee_id": row.assignee_id}
            try:
                with transaction.atomic():
                    _create(actor=None, client=row.client, data=data, source=TicketSource.RECURRING,
                            template=template, recurring=row, at=now)
                    opened += 1
            except (Conflict, ValidationError):
                pass  # already opened for this due time, or its contact/assignee no longer fits: move on
            row.last_run_at = now
            row.next_run_at = following_run(row, now)
            row.save(update_fields=["last_run_at", "next_run_at", "updated_at"])
    return opened


# --- Time entries ------------------------------------------------------------------------------------------


def _profile_rates(user: Any) -> tuple[Decimal, Decimal]:
    from tenfold.accounts.models import StaffProfile

    profile = StaffProfile.objects.filter(user_id=user.pk).first()
    if profile is None:
        return Decimal("0.00"), Decimal("0.00")
    return profile.default_bill_rate, profile.hourly_cost_rate


def _price(entry: TimeEntry) -> None:
    """Billable minutes with the contract's rounding, rate (out-of-scope rate of the contract or the
    technician's default bill rate) and cost rate (technician's), kept on the entry."""
    contract = entry.contract
    bill_rate, cost_rate = _profile_rates(entry.user)
    rule = contract.rounding_rule if contract is not None else None
    entry.billable_minutes = billable_minutes(rule, entry.actual_minutes) if entry.billable else 0
    if contract is not None and contract.out_of_scope_rate is not None:
        entry.rate = contract.out_of_scope_rate
    else:
        entry.rate = bill_rate
    entry.cost_rate = cost_rate
    entry.approval_status = ApprovalStatus.PENDING if entry.billable else ApprovalStatus.NOT_REQUIRED
    entry.approved_by, entry.approved_at, entry.rejection_reason = None, None, ""


def _default_coverage(contract: Contract | None) -> str:
    if contract is not None and contract.type in (ContractType.MANAGED, ContractType.BLOCK_HOURS):
        return Coverage.COVERED
    return Coverage.OUT_OF_SCOPE


def _target(actor: Any, ticket: Ticket | None, project: Project | None) -> tuple[int, Contract | None]:
    if (ticket is None) == (project is None):
        raise ValidationError(_("Log time against a ticket or a project."), field="ticket")
    if ticket is not None:
        client_id, contract_id = ticket.client_id, ticket.contract_id
    else:
        assert project is not None
        client_id, contract_id = project.client_id, project.contract_id
    contract = Contract.objects.select_related("rounding_rule").filter(pk=contract_id).first() if contract_id else None
    return client_id, contract


def _clean_time(data: dict[str, Any]) -> None:
    minutes = data.get("actual_minutes")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= 1440):
        raise ValidationError(_("Enter between 1 and 1440 minutes."), field="actual_minutes")


def _audit_time(actor: Any, entry: TimeEntry, action: str, changes: dict[str, Any] | None = None) -> None:
    audit.record(actor, f"time_entry.{action}", entry, changes=changes or audit.snapshot(entry, [
        "ticket", "project", "user", "actual_minutes", "billable_minutes", "billable", "coverage", "rate",
        "cost_rate", "approval_status"]))


@transaction.atomic
def time_entry_create(*, actor: Any, data: dict[str, Any], ticket: Ticket | None = None,
                      project: Project | None = None) -> TimeEntry:
    """Log worked time on a ticket or a project: billable minutes, rate and cost derived; billable time waits
    for approval."""
    _require_staff(actor, action="add")
    data = dict(data)
    _clean_time(data)
    if not data.get("actual_minutes"):
        raise ValidationError(_("Enter between 1 and 1440 minutes."), field="actual_minutes")
    client_id, contract = _target(actor, ticket, project)
    entry = TimeEntry(client_id=client_id, ticket=ticket, project=project, contract=contract, user=actor,
                      started_at=timezone.now(), coverage=_default_coverage(contract))
    apply_fields(entry, TIME_FIELDS, data)
    if "started_at" not in data or entry.started_at is None:
        entry.started_at = timezone.now() - timedelta(minutes=entry.actual_minutes)
    entry.ended_at = entry.started_at + timedelta(minutes=entry.actual_minutes)
    _price(entry)
    clean_or_raise(entry)
    entry.save()
    _audit_time(actor, entry, "created")
    events.emit("time_entry.created", client_id=client_id, payload={
        "time_entry_id": entry.pk, "ticket_id": entry.ticket_id, "project_id": entry.project_id,
        "user_id": actor.pk, "billable_minutes": entry.billable_minutes})
    return entry


def _may_edit(actor: Any, entry: TimeEntry) -> None:
    if entry.user_id != actor.pk:
        require(actor, "tickets", "delete")
    if entry.approval_status == ApprovalStatus.APPROVED:
        raise Conflict(_("Approved time cannot be changed."))


@transaction.atomic
def time_entry_update(*, actor: Any, entry: TimeEntry, data: dict[str, Any]) -> TimeEntry:
    """Change a time entry (your own, or anyone's for service managers); it goes back to approval."""
    _require_staff(actor)
    _may_edit(actor, entry)
    if entry.is_running:
        raise Conflict(_("Stop the timer first."))
    _clean_time(data)
    before = audit.snapshot(entry)
    apply_fields(entry, TIME_FIELDS, data)
    entry.ended_at = entry.started_at + timedelta(minutes=entry.actual_minutes)
    _price(entry)
    clean_or_raise(entry)
    entry.save()
    _audit_time(actor, entry, "updated", audit.diff(before, audit.snapshot(entry)))
    return entry


@transaction.atomic
def time_entry_delete(*, actor: Any, entry: TimeEntry) -> None:
    """Delete a time entry that was not approved."""
    _require_staff(actor)
    _may_edit(actor, entry)
    snapshot, pk, client_id = audit.snapshot(entry), entry.pk, entry.client_id
    entry.delete()
    audit.record(actor, "time_entry.deleted", object_type="servicedesk.timeentry", object_id=str(pk),
                 client_id=client_id, changes=snapshot)


@transaction.atomic
def timer_start(*, actor: Any, ticket: Ticket | None = None, project: Project | None = None,
                work_type: str = "remote") -> TimeEntry:
    """Start the actor's timer on a ticket or project (one running timer per user)."""
    _require_staff(actor, action="add")
    client_id, contract = _target(actor, ticket, project)
    entry = TimeEntry(client_id=client_id, ticket=ticket, project=project, contract=contract, user=actor,
                      started_at=timezone.now(), is_running=True, work_type=work_type,
                      coverage=_default_coverage(contract), approval_status=ApprovalStatus.NOT_REQUIRED)
    clean_or_raise(entry)
    save_or_unique_error(entry, unique_message=_("You already have a running timer: stop it first."),
                         unique_field="timer")
    _audit_time(actor, entry, "timer_started")
    return entry


@transaction.atomic
def timer_stop(*, actor: Any, entry: TimeEntry, notes: str = "") -> TimeEntry:
    """Stop the actor's running timer: the elapsed minutes (a started minute counts) become the entry."""
    _require_staff(actor)
    locked = TimeEntry.objects.select_for_update().filter(pk=entry.pk, user_id=actor.pk, is_running=True).first()
    if locked is None:
        raise Conflict(_("This timer is not running."))
    entry = locked
    now = timezone.now()
    entry.ended_at = now
    entry.is_running = False
    entry.actual_minutes = max(1, math.ceil((now - entry.started_at).total_seconds() / 60))
    if notes:
        entry.notes = notes.strip()
    if entry.contract_id is not None:
        entry.contract = Contract.objects.select_related("rounding_rule").filter(pk=entry.contract_id).first()
    _price(entry)
    entry.save()
    _audit_time(actor, entry, "timer_stopped")
    events.emit("time_entry.created", client_id=entry.client_id, payload={
        "time_entry_id": entry.pk, "ticket_id": entry.ticket_id, "project_id": entry.project_id,
        "user_id": actor.pk, "billable_minutes": entry.billable_minutes})
    return entry


@transaction.atomic
def time_entry_approve(*, actor: Any, entry: TimeEntry) -> TimeEntry:
    """Approve billable time for invoicing (service managers, finance)."""
    _require_staff(actor, "time_approval", "change")
    if entry.approval_status != ApprovalStatus.PENDING:
        raise Conflict(_("Only time awaiting approval can be approved."))
    entry.approval_status = ApprovalStatus.APPROVED
    entry.approved_by, entry.approved_at, entry.rejection_reason = actor, timezone.now(), ""
    entry.save(update_fields=["approval_status", "approved_by", "approved_at", "rejection_reason", "updated_at"])
    _audit_time(actor, entry, "approved", {"approval_status": ["pending", "approved"]})
    events.emit("time_entry.approved", client_id=entry.client_id, payload={
        "time_entry_id": entry.pk, "billable_minutes": entry.billable_minutes, "rate": entry.rate,
        "coverage": entry.coverage, "contract_id": entry.contract_id})
    return entry


@transaction.atomic
def time_entry_reject(*, actor: Any, entry: TimeEntry, reason: str) -> TimeEntry:
    """Send billable time back with a reason; the technician corrects it and it waits for approval again."""
    _require_staff(actor, "time_approval", "change")
    if entry.approval_status != ApprovalStatus.PENDING:
        raise Conflict(_("Only time awaiting approval can be rejected."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the time is rejected."), field="reason")
    entry.approval_status = ApprovalStatus.REJECTED
    entry.approved_by, entry.approved_at, entry.rejection_reason = actor, timezone.now(), reason[:300]
    entry.save(update_fields=["approval_status", "approved_by", "approved_at", "rejection_reason", "updated_at"])
    _audit_time(actor, entry, "rejected", {"approval_status": ["pending", "rejected"], "reason": reason})
    return entry


def tickets_matching(ids: list[int], actor: Any) -> list[Ticket]:
    """The visible tickets among ids (bulk actions); a forged id simply is not there."""
    from tenfold.servicedesk.selectors import tickets_visible

    return list(tickets_visible(actor).filter(Q(pk__in=ids)).order_by("pk"))
