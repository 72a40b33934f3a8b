"""Writes of billing: draft invoices and their lines, issue with a gap-free number, send by email, void by a
credit note, one-off charges from accepted quotes. Each verb checks the role, validates, writes, audits and
emits in one transaction.

An issued invoice (or credit note) is never edited nor deleted: every write below refuses it with a Conflict
and changes nothing; it is voided by a credit note."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.billing.engine import _bill_to, default_tax_rate, money, recompute_totals
from tenfold.billing.models import (
    BillingRun,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    NumberSequence,
    OneOffCharge,
)
from tenfold.clients.models import Client
from tenfold.contracts.models import Contract, Milestone, MilestoneStatus
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, ValidationError
from tenfold.core.models import OutboxEvent
from tenfold.core.roles import require
from tenfold.core.selectors import organization

logger = logging.getLogger("tenfold.billing")

# Days between an invoice's issue date and its due date (the organization settings have no payment term yet).
PAYMENT_TERM_DAYS = 30
INVOICE_PREFIX = "F"
CREDIT_NOTE_PREFIX = "AV"
MAX_QUANTITY = Decimal("999999.99")
MAX_PRICE = Decimal("9999999.99")
LINE_FIELDS = ("description", "quantity", "unit_price", "tax_rate")
ISSUED_MESSAGE = _("This invoice is issued: it cannot be changed or deleted. Void it with a credit note instead.")


# --- Checks -----------------------------------------------------------------------------------------------------


def _draft_only(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict(ISSUED_MESSAGE)


def _lock(invoice: Invoice) -> Invoice:
    """The same invoice, its row locked for this transaction and its fields read again."""
    list(Invoice.objects.select_for_update().filter(pk=invoice.pk).values_list("pk", flat=True))
    invoice.refresh_from_db()
    return invoice


def _decimal(value: Any, field: str, *, maximum: Decimal, message: Any) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Enter a number."), field=field) from None
    if not number.is_finite():
        raise ValidationError(_("Enter a number."), field=field)
    if number < 0:
        raise ValidationError(message, field=field)
    if number > maximum:
        raise ValidationError(_("This number is too large."), field=field)
    if number != number.quantize(Decimal("0.01")):
        raise ValidationError(_("Use at most two decimal places."), field=field)
    return number.quantize(Decimal("0.01"))


def _clean_line(data: dict[str, Any], line: InvoiceLine) -> None:
    unknown = set(data) - set(LINE_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    if "description" in data:
        description = str(data["description"] or "").strip()
        if not description:
            raise ValidationError(_("Describe the line."), field="description")
        if len(description) > 300:
            raise ValidationError(_("Keep the description under 300 characters."), field="description")
        line.description = description
    if "quantity" in data:
        line.quantity = _decimal(data["quantity"], "quantity", maximum=MAX_QUANTITY,
                                 message=_("A quantity cannot be negative."))
    if "unit_price" in data:
        line.unit_price = _decimal(data["unit_price"], "unit_price", maximum=MAX_PRICE,
                                   message=_("A price cannot be negative."))
    if "tax_rate" in data and data["tax_rate"] is not None:
        rate = _decimal(data["tax_rate"], "tax_rate", maximum=Decimal("100"),
                        message=_("A tax rate cannot be negative."))
        line.tax_rate = rate
    if line.days and line.period_days:
        line.amount = money(line.quantity * line.unit_price * line.days / line.period_days)
    else:
        line.amount = money(line.quantity * line.unit_price)


# --- Drafts -------------------------------------------------------------------------------------------------------


@transaction.atomic
def invoice_create(*, actor: Any, client: Client, data: dict[str, Any] | None = None) -> Invoice:
    """Start a draft invoice by hand for a client (lines are added next)."""
    require(actor, "invoices", "add")
    data = dict(data or {})
    notes = str(data.pop("notes", "") or "").strip()
    if data:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(data))})
    if len(notes) > 5000:
        raise ValidationError(_("Keep the notes under 5000 characters."), field="notes")
    invoice = Invoice.objects.create(client=client, kind=InvoiceKind.INVOICE, status=InvoiceStatus.DRAFT, notes=notes,
                                     currency=organization().currency, **_bill_to(client))
    audit.record(actor, "invoice.created", invoice, changes={"notes": notes})
    events.emit("invoice.created", client_id=client.pk, payload={"invoice_id": invoice.pk, "total": invoice.total})
    return invoice


@transaction.atomic
def invoice_update(*, actor: Any, invoice: Invoice, data: dict[str, Any]) -> Invoice:
    """Change a draft's notes."""
    require(actor, "invoices", "change")
    invoice = _lock(invoice)
    _draft_only(invoice)
    data = dict(data)
    unknown = set(data) - {"notes"}
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    notes = str(data.get("notes", invoice.notes) or "").strip()
    if len(notes) > 5000:
        raise ValidationError(_("Keep the notes under 5000 characters."), field="notes")
    before = invoice.notes
    invoice.notes = notes
    invoice.save(update_fields=["notes", "updated_at"])
    if before != notes:
        audit.record(actor, "invoice.updated", invoice, changes={"notes": [before, notes]})
    return invoice


def _release(lines: Any) -> list[int]:
    """Give back what these lines billed: milestones return to reached (time entries and one-off charges follow
    the lines' deletion by their foreign keys)."""
    milestone_ids = [pk for pk in lines.exclude(milestone__isnull=True).values_list("milestone_id", flat=True)]
    if milestone_ids:
        Milestone.objects.filter(pk__in=milestone_ids, status=MilestoneStatus.INVOICED).update(
            status=MilestoneStatus.REACHED, updated_at=timezone.now())
    return milestone_ids


@transaction.atomic
def invoice_delete(*, actor: Any, invoice: Invoice) -> None:
    """Delete a draft: its time entries, one-off charges and milestones return to the next billing run."""
    require(actor, "invoices", "delete")
    invoice = _lock(invoice)
    _draft_only(invoice)
    snapshot = audit.snapshot(invoice, ["client", "billing_run", "period_start", "total"])
    lines = InvoiceLine.objects.filter(invoice=invoice)
    released = {"milestones": _release(lines),
                "time_entries": list(lines.filter(time_entries__isnull=False)
                                     .values_list("time_entries__time_entry_id", flat=True)),
                "one_off_charges": list(OneOffCharge.objects.filter(line__invoice=invoice)
                                        .values_list("pk", flat=True))}
    pk, client_id, run_id = invoice.pk, invoice.client_id, invoice.billing_run_id
    invoice.delete()
    if run_id is not None:
        BillingRun.objects.filter(pk=run_id, invoice_count__gt=0).update(invoice_count=F("invoice_count") - 1,
                                                                           total=F("total") - snapshot["total"])
    audit.record(actor, "invoice.deleted", object_type="billing.invoice", object_id=str(pk), client_id=client_id,
                 changes={**snapshot, **released})
    events.emit("invoice.deleted", client_id=client_id, payload={"invoice_id": pk, **released})


@transaction.atomic
def line_add(*, actor: Any, invoice: Invoice, data: dict[str, Any]) -> InvoiceLine:
    """Add a manual line to a draft: description, quantity and unit price (neither negative); tax at the given
    rate or the default one."""
    require(actor, "invoices", "change")
    invoice = _lock(invoice)
    _draft_only(invoice)
    data = dict(data)
    for required in ("description", "quantity", "unit_price"):
        if data.get(required) in (None, ""):
            raise ValidationError(_("This field is required."), field=required)
    position = (InvoiceLine.objects.filter(invoice=invoice).aggregate(top=Max("position"))["top"] or 0) + 1
    line = InvoiceLine(client_id=invoice.client_id, invoice=invoice, kind=LineKind.MANUAL, position=position,
                       tax_rate=default_tax_rate(), unit_price=Decimal("0.00"), amount=Decimal("0.00"))
    _clean_line(data, line)
    line.save()
    recompute_totals(invoice)
    audit.record(actor, "invoice_line.created", line, changes=audit.snapshot(line, [
        "invoice", "description", "quantity", "unit_price", "amount", "tax_rate"]))
    return line


@transaction.atomic
def line_update(*, actor: Any, line: InvoiceLine, data: dict[str, Any]) -> InvoiceLine:
    """Change a draft's line (description, quantity, unit price, tax rate); the amount follows."""
    require(actor, "invoices", "change")
    _lock(line.invoice)
    _draft_only(line.invoice)
    before = audit.snapshot(line, ["description", "quantity", "unit_price", "amount", "tax_rate"])
    sign = -1 if line.unit_price < 0 else 1
    if sign < 0:  # a prorated credit keeps its sign; the price is edited as a positive number
        line.unit_price = -line.unit_price
    _clean_line(dict(data), line)
    if sign < 0:
        line.unit_price, line.amount = -line.unit_price, -line.amount
    line.save()
    recompute_totals(line.invoice)
    changes = audit.diff(before, audit.snapshot(line, ["description", "quantity", "unit_price", "amount",
                                                       "tax_rate"]))
    if changes:
        audit.record(actor, "invoice_line.updated", line, changes=changes)
    return line


@transaction.atomic
def line_delete(*, actor: Any, line: InvoiceLine) -> None:
    """Remove a line from a draft: what it billed returns to the next billing run."""
    require(actor, "invoices", "change")
    invoice = line.invoice
    _lock(invoice)
    _draft_only(invoice)
    snapshot = audit.snapshot(line, ["invoice", "kind", "description", "quantity", "unit_price", "amount"])
    _release(InvoiceLine.objects.filter(pk=line.pk))
    pk, client_id = line.pk, line.client_id
    line.delete()
    recompute_totals(invoice)
    audit.record(actor, "invoice_line.deleted", object_type="billing.invoiceline", object_id=str(pk),
                 client_id=client_id, changes=snapshot)


# --- Numbers ------------------------------------------------------------------------------------------------------


def next_number(prefix: str, year: int) -> str:
    """The next number of a series (e.g. F2026-000123), given inside the caller's transaction with the series row
    locked: a rolled-back issue gives its number back, so numbers have no gaps."""
    key = f"{prefix}{year}"
    NumberSequence.objects.bulk_create([NumberSequence(key=key, last=0)], ignore_conflicts=True)
    sequence = NumberSequence.objects.select_for_update().get(key=key)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{prefix}{year}-{sequence.last:06d}"


def _issue(invoice: Invoice, actor: Any, issue_date: date, prefix: str) -> None:
    invoice.number = next_number(prefix, issue_date.year)
    invoice.status = InvoiceStatus.ISSUED
    invoice.issue_date = issue_date
    invoice.due_date = issue_date + timedelta(days=PAYMENT_TERM_DAYS)
    invoice.issued_at = timezone.now()
    invoice.issued_by = actor if actor is not None and getattr(actor, "pk", None) else None
    for name, value in _bill_to(invoice.client).items():
        setattr(invoice, name, value)
    invoice.save()


@transaction.atomic
def invoice_issue(*, actor: Any, invoice: Invoice, issue_date: date | None = None) -> Invoice:
    """Issue a draft: the next number of the year's series, issue and due dates, the bill-to block as it is now.
    From then on the invoice cannot be changed."""
    require(actor, "invoices", "change")
    invoice = _lock(invoice)
    _draft_only(invoice)
    if not InvoiceLine.objects.filter(invoice=invoice).exists():
        raise ValidationError(_("An invoice needs at least one line before it is issued."))
    recompute_totals(invoice)
    if invoice.total < 0:
        raise ValidationError(_("An invoice cannot be issued with a negative total; issue a credit note instead."))
    _issue(invoice, actor, issue_date or timezone.localdate(), INVOICE_PREFIX)
    audit.record(actor, "invoice.issued", invoice, changes={"number": invoice.number, "total": invoice.total,
                                                            "due_date": invoice.due_date})
    events.emit("invoice.issued", client_id=invoice.client_id, payload={
        "invoice_id": invoice.pk, "number": invoice.number, "total": invoice.total, "due_date": invoice.due_date})
    return invoice


@transaction.atomic
def invoice_void(*, actor: Any, invoice: Invoice, reason: str = "", issue_date: date | None = None) -> Invoice:
    """Void an issued invoice without payments by a credit note that negates every line; returns the credit note."""
    require(actor, "invoices", "change")
    invoice = _lock(invoice)
    if invoice.kind != InvoiceKind.INVOICE:
        raise Conflict(_("A credit note cannot be voided."))
    if invoice.status == InvoiceStatus.DRAFT:
        raise Conflict(_("A draft is not voided: delete it instead."))
    if invoice.status == InvoiceStatus.VOID:
        raise Conflict(_("This invoice is already void."))
    if invoice.amount_paid > 0 or invoice.payments.exists() or invoice.status != InvoiceStatus.ISSUED:
        raise Conflict(_("This invoice has payments: it cannot be voided. Record a refund or a credit by hand."))
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ValidationError(_("Keep the reason under 2000 characters."), field="reason")
    credit = Invoice.objects.create(
        client_id=invoice.client_id, kind=InvoiceKind.CREDIT_NOTE, status=InvoiceStatus.DRAFT,
        credited_invoice=invoice, period_start=invoice.period_start, period_end=invoice.period_end,
        currency=invoice.currency, notes=reason or str(_("Cancels invoice %(number)s.") % {"number": invoice.number}))
    InvoiceLine.objects.bulk_create([InvoiceLine(
        client_id=line.client_id, invoice=credit, position=line.position, kind=line.kind,
        description=line.description, contract_id=line.contract_id, service_id=line.service_id,
        period_start=line.period_start, period_end=line.period_end, quantity=line.quantity,
        unit_price=-line.unit_price, days=line.days, period_days=line.period_days, amount=-line.amount,
        tax_rate=line.tax_rate, detail={**line.detail, "credits_line": line.pk})
        for line in InvoiceLine.objects.filter(invoice=invoice).order_by("position", "pk")])
    recompute_totals(credit)
    try:
        with transaction.atomic():
            _issue(credit, actor, issue_date or timezone.localdate(), CREDIT_NOTE_PREFIX)
    except IntegrityError:
        raise Conflict(_("This invoice already has a credit note.")) from None
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.VOID, voided_at=timezone.now(),
                                                 updated_at=timezone.now())
    invoice.refresh_from_db()
    audit.record(actor, "invoice.voided", invoice, changes={"status": ["issued", "void"],
                                                            "credit_note": credit.number, "reason": reason})
    audit.record(actor, "credit_note.issued", credit, changes={"number": credit.number, "total": credit.total,
                                                               "credits": invoice.number})
    events.emit("invoice.voided", client_id=invoice.client_id, payload={
        "invoice_id": invoice.pk, "credit_note_id": credit.pk, "credit_note_number": credit.number})
    return credit


# --- Sending ------------------------------------------------------------------------------------------------------


@transaction.atomic
def invoice_send(*, actor: Any, invoice: Invoice) -> OutboxEvent:
    """Ask for the invoice (with its PDF) to be emailed to the client's billing contact; the outbox handler sends
    it, and retries a failed send."""
    require(actor, "invoices", "change")
    if invoice.status == InvoiceStatus.DRAFT:
        raise Conflict(_("Issue the invoice before sending it."))
    if invoice.status == InvoiceStatus.VOID:
        raise Conflict(_("A void invoice is not sent."))
    recipient = invoice.bill_to_email or _bill_to(invoice.client)["bill_to_email"]
    if not recipient:
        raise ValidationError(_("The client has no billing contact with an email address: mark a contact as the "
                                "billing contact first."))
    audit.record(actor, "invoice.send_requested", invoice, changes={"to": recipient})
    return events.emit("invoice.send_requested", client_id=invoice.client_id,
                       payload={"invoice_id": invoice.pk, "to": recipient})


def on_invoice_send_requested(event: Any) -> None:
    """Event handler (`invoice.send_requested`): email the invoice with its PDF to the billing contact, in the
    organization's language. A failure raises, so the outbox keeps the event and tries again later."""
    from django.conf import settings
    from django.core.mail import EmailMessage
    from django.utils import translation

    from tenfold.billing.pdf import invoice_pdf, pdf_filename

    payload = event.payload or {}
    invoice = Invoice.objects.select_related("client").filter(pk=int(payload.get("invoice_id") or 0)).first()
    if invoice is None or invoice.status == InvoiceStatus.DRAFT:
        return
    to = str(payload.get("to") or invoice.bill_to_email)
    org = organization()
    with translation.override(org.default_language or settings.LANGUAGE_CODE):
        kind = _("Credit note") if invoice.kind == InvoiceKind.CREDIT_NOTE else _("Invoice")
        subject = _("%(kind)s %(number)s from %(org)s") % {"kind": kind, "number": invoice.number, "org": org.name}
        body = _("Hello,\n\nPlease find attached %(kind)s %(number)s of %(total)s %(currency)s%(due)s.\n\n"
                 "Thank you,\n%(org)s\n") % {
            "kind": str(kind).lower(), "number": invoice.number, "total": invoice.total, "currency": invoice.currency,
            "due": (_(", due on %(date)s") % {"date": invoice.due_date.isoformat()})
            if invoice.due_date and invoice.kind == InvoiceKind.INVOICE else "", "org": org.name}
        pdf = invoice_pdf(invoice)
    message = EmailMessage(subject=str(subject), body=str(body), to=[to],
                           headers={"X-Tenfold-Invoice": invoice.number})
    message.attach(pdf_filename(invoice), pdf, "application/pdf")
    message.send(fail_silently=False)
    Invoice.objects.filter(pk=invoice.pk).update(sent_at=timezone.now(), updated_at=timezone.now())
    audit.record(None, "invoice.sent", invoice, changes={"to": to})
    logger.info("invoice %s sent to %s", invoice.number, to)


# --- One-off charges from accepted quotes -------------------------------------------------------------------------


def _item_decimal(value: Any, *, positive: bool) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(_("A quote item has an amount that is not a number.")) from None
    if not number.is_finite() or number < 0 or (positive and number == 0):
        raise ValidationError(_("Quantities must be positive and prices not negative."))
    return number.quantize(Decimal("0.01"))


def on_quote_accepted(event: Any) -> None:
    """Event handler (`quote.accepted`): one one-off charge per one-off item of the quote, keyed by
    quote:<id>:<index> so a second delivery adds nothing. A malformed item fails the whole event (nothing is
    written) and the outbox keeps the error."""
    payload = event.payload or {}
    client_id = int(payload.get("client_id") or event.client_id or 0)
    quote_id = payload.get("quote_id")
    client = Client.objects.filter(pk=client_id).first()
    if client is None or quote_id in (None, ""):
        logger.warning("quote.accepted #%s without a known client or quote id", event.pk)
        return
    contract_id = payload.get("contract_id")
    contract = Contract.objects.filter(pk=contract_id, client_id=client_id).first() if contract_id else None
    charges = []
    for item in payload.get("one_off_items") or []:
        description = str(item.get("description") or "").strip()[:300]
        if not description:
            raise ValidationError(_("A quote item has no description."))
        charges.append(OneOffCharge(
            client=client, contract=contract, description=description,
            quantity=_item_decimal(item.get("quantity"), positive=True),
            unit_price=_item_decimal(item.get("unit_price"), positive=False),
            service_date=timezone.localdate(), source=f"quote:{quote_id}:{item.get('index')}"[:80]))
    existing = set(OneOffCharge.objects.filter(source__in=[c.source for c in charges]).values_list("source", flat=True))
    new = [c for c in charges if c.source not in existing]
    if not new:
        return
    OneOffCharge.objects.bulk_create(new, ignore_conflicts=True)
    audit.record(None, "one_off_charge.created", client, changes={
        "quote_id": quote_id, "sources": [c.source for c in new],
        "total": str(sum((c.quantity * c.unit_price for c in new), Decimal(0)))})
