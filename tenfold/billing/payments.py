"""Payments: recorded by hand or imported from a CSV file, each recomputing the invoice's amount paid and its
status (issued ↔ partially paid ↔ paid). Audited; `payment.recorded`, `payment.deleted` and `invoice.paid`
are emitted in the same transaction.

The CSV import is all or nothing: the whole file is read and every row checked first (file-level problems:
size, encoding, columns; row problems: unknown invoice, bad amount, overpayment, duplicate reference), then,
only if no row is wrong, every payment is written in one transaction, the invoices locked and the checks run
again under the lock. A row whose reference is already recorded for its invoice (same amount and date) is
skipped, so importing the same bank statement twice records nothing the second time.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenfold.assets.csv_import import parse_date
from tenfold.billing.models import (
    OPEN_STATUSES,
    ZERO,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
)
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, ValidationError
from tenfold.core.roles import require
from tenfold.core.tenancy import get_visible
from tenfold.core.writes import clean_or_raise, save_or_unique_error

__all__ = [
    "COLUMNS",
    "MAX_BYTES",
    "MAX_ROWS",
    "ImportResult",
    "ImportRow",
    "access_invoice",
    "access_payment",
    "parse_amount",
    "payable_problem",
    "payment_delete",
    "payment_record",
    "payments_import_csv",
    "payments_import_preview",
    "payments_visible",
]

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")
MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
PAID_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID)
# The columns of a payments file, and the other header names accepted for each.
COLUMNS = ("invoice_number", "date", "amount", "method", "reference")
REQUIRED = ("invoice_number", "date", "amount", "reference")
ALIASES = {
    "invoice_number": "invoice_number", "invoice": "invoice_number", "invoice_no": "invoice_number",
    "number": "invoice_number", "date": "date", "received_on": "date", "payment_date": "date",
    "amount": "amount", "method": "method", "reference": "reference", "ref": "reference",
}
PAYMENT_FIELDS = ("received_on", "amount", "method", "reference", "notes")
_AMOUNT = re.compile(r"^\d+(\.\d+)?$")


# --- Reads ------------------------------------------------------------------------------------------------------


def payments_visible(actor: Any) -> QuerySet[Payment]:
    """Payments the actor may see (403 for a role without the invoices capability)."""
    require(actor, "invoices", "view")
    return Payment.objects.visible_to(actor).select_related("invoice", "client", "recorded_by")


def access_payment(actor: Any, payment_id: Any) -> Payment:
    """One payment, or NotFound (missing and not-yours answer alike)."""
    payment = get_visible(Payment.objects.select_related("invoice", "client"), actor, payment_id)
    require(actor, "invoices", "view")
    return payment


def access_invoice(actor: Any, invoice_id: Any) -> Invoice:
    """One invoice or credit note, or NotFound; a portal user never sees a draft."""
    queryset = Invoice.objects.select_related("client")
    if getattr(actor, "is_portal", False):
        queryset = queryset.exclude(status=InvoiceStatus.DRAFT)
    invoice = get_visible(queryset, actor, invoice_id)
    require(actor, "invoices", "view")
    return invoice


# --- Amounts and status ----------------------------------------------------------------------------------------


def parse_amount(text: str) -> tuple[Decimal | None, str]:
    """An amount from "1234.50", "1234,50", "1 234,50", "1,234.50" or "1.234,50" (the last separator is the
    decimal one); (None, why) otherwise. Zero and negative amounts are refused."""
    value = re.sub(r"[\s\u00a0\u202f']", "", text.strip())
    for symbol in ("€", "EUR", "$", "£", "CHF"):
        value = value.replace(symbol, "")
    if value.startswith("-") or value.startswith("−"):
        return None, _("The amount must be more than zero.")
    if "," in value and "." in value:
        decimal_mark = "," if value.rfind(",") > value.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        value = value.replace(grouping, "").replace(decimal_mark, ".")
    elif value.count(",") == 1:
        value = value.replace(",", ".")
    if not _AMOUNT.match(value):
        return None, _("“%(value)s” is not an amount: write 1234.50 or 1234,50.") % {"value": text.strip()[:50]}
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None, _("“%(value)s” is not an amount: write 1234.50 or 1234,50.") % {"value": text.strip()[:50]}
    if amount > MAX_AMOUNT:  # first: quantizing a number of more than 28 digits raises InvalidOperation
        return None, _("This amount is too large.")
    if amount != amount.quantize(CENT):
        return None, _("An amount has at most two decimal places.")
    if amount <= 0:
        return None, _("The amount must be more than zero.")
    return amount.quantize(CENT), ""


def _paid_total(invoice: Invoice) -> Decimal:
    total = Payment.objects.filter(invoice=invoice).aggregate(total=Sum("amount"))["total"]
    return (total or ZERO).quantize(CENT)


def _status_for(invoice: Invoice, paid: Decimal) -> str:
    if invoice.status not in PAID_STATUSES:
        return str(invoice.status)  # a void invoice stays void
    if paid <= 0:
        return InvoiceStatus.ISSUED
    if paid >= invoice.total:
        return InvoiceStatus.PAID
    return InvoiceStatus.PARTIALLY_PAID


def _recompute(actor: Any, invoice: Invoice) -> tuple[str, str]:
    """Set amount paid from the invoice's payments and move its status; returns (status before, after)."""
    before = str(invoice.status)
    invoice.amount_paid = _paid_total(invoice)
    invoice.status = _status_for(invoice, invoice.amount_paid)
    invoice.save(update_fields=["amount_paid", "status", "updated_at"])
    if invoice.status == InvoiceStatus.PAID and before != InvoiceStatus.PAID:
        audit.record(actor, "invoice.paid", invoice, changes={"status": [before, str(invoice.status)],
                                                              "amount_paid": str(invoice.amount_paid)})
        events.emit("invoice.paid", client_id=invoice.client_id, payload={
            "invoice_id": invoice.pk, "client_id": invoice.client_id, "number": invoice.number,
            "total": str(invoice.total)})
    return before, str(invoice.status)


def payable_problem(invoice: Invoice) -> str:
    """Why no payment can be recorded on this invoice now, or ""."""
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        return _("%(number)s is a credit note: payments are recorded on invoices.") % {"number": invoice}
    if invoice.status == InvoiceStatus.DRAFT:
        return _("This invoice is a draft: issue it before recording a payment.")
    if invoice.status == InvoiceStatus.VOID:
        return _("Invoice %(number)s is void: it cannot be paid.") % {"number": invoice}
    if invoice.status == InvoiceStatus.PAID:
        return _("Invoice %(number)s is already paid.") % {"number": invoice}
    return ""


def _overpayment(invoice: Invoice, amount: Decimal, balance: Decimal) -> str:
    return _("This payment of %(amount)s is more than the balance due on %(number)s (%(balance)s): "
             "overpayments are not recorded.") % {"amount": amount, "number": invoice, "balance": balance}


def _lock(invoice: Invoice) -> Invoice:
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    return locked


def _save_payment(actor: Any, payment: Payment) -> None:
    clean_or_raise(payment)
    save_or_unique_error(payment, unique_field="reference", unique_message=gettext_lazy(
        "A payment with this reference is already recorded for this invoice."))


def _recorded(actor: Any, payment: Payment, invoice: Invoice, status: tuple[str, str]) -> None:
    changes = audit.snapshot(payment, ["invoice", "received_on", "amount", "method", "reference", "imported"])
    changes["invoice_status"] = list(status)
    audit.record(actor, "payment.recorded", payment, changes=changes)
    events.emit("payment.recorded", client_id=payment.client_id, payload={
        "payment_id": payment.pk, "invoice_id": invoice.pk, "client_id": payment.client_id,
        "amount": str(payment.amount), "received_on": payment.received_on.isoformat(),
        "invoice_status": str(invoice.status)})


# --- Writes -----------------------------------------------------------------------------------------------------


@transaction.atomic
def payment_record(*, actor: Any, invoice: Invoice, data: dict[str, Any]) -> Payment:
    """Record money received against an issued invoice: more than zero, not beyond the balance due, not in
    the future; the invoice becomes partially paid or paid."""
    require(actor, "invoices", "add")
    unknown = set(data) - set(PAYMENT_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    invoice = _lock(invoice)
    problem = payable_problem(invoice)
    if problem:
        raise Conflict(problem)
    amount = data.get("amount")
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValidationError(_("Enter the amount received."), field="amount")
    if amount <= 0:
        raise ValidationError(_("The amount must be more than zero."), field="amount")
    if amount != amount.quantize(CENT):
        raise ValidationError(_("An amount has at most two decimal places."), field="amount")
    received_on = data.get("received_on")
    if not isinstance(received_on, date):
        raise ValidationError(_("Enter the date the payment was received."), field="received_on")
    if received_on > timezone.localdate():
        raise ValidationError(_("A payment cannot be received in the future."), field="received_on")
    balance = invoice.total - _paid_total(invoice)
    if amount > balance:
        raise ValidationError(_overpayment(invoice, amount, balance), field="amount")
    payment = Payment(client_id=invoice.client_id, invoice=invoice, received_on=received_on, amount=amount,
                      method=data.get("method") or PaymentMethod.TRANSFER,
                      reference=(data.get("reference") or "").strip(), notes=(data.get("notes") or "").strip(),
                      recorded_by=actor if getattr(actor, "pk", None) else None)
    _save_payment(actor, payment)
    status = _recompute(actor, invoice)
    _recorded(actor, payment, invoice, status)
    payment.invoice = invoice
    return payment


@transaction.atomic
def payment_delete(*, actor: Any, payment: Payment) -> Invoice:
    """Remove a payment entered by mistake; the invoice's amount paid and status follow. Returns the invoice."""
    require(actor, "invoices", "delete")
    invoice = _lock(payment.invoice)
    snapshot = audit.snapshot(payment)
    payment_id, client_id = payment.pk, payment.client_id
    payment.delete()
    status = _recompute(actor, invoice)
    snapshot["invoice_status"] = list(status)
    audit.record(actor, "payment.deleted", object_type="billing.payment", object_id=str(payment_id),
                 client_id=client_id, changes=snapshot)
    events.emit("payment.deleted", client_id=client_id, payload={
        "payment_id": payment_id, "invoice_id": invoice.pk, "client_id": client_id,
        "invoice_status": str(invoice.status)})
    return invoice


# --- CSV import -------------------------------------------------------------------------------------------------


@dataclass
class ImportRow:
    """One data row of a payments file: what it says, what importing it does (record, skip or error), why."""

    line: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    action: str = "error"
    invoice: Invoice | None = None
    note: str = ""

    def error(self, column: str, message: str) -> None:
        self.errors.setdefault(column, []).append(message)

    def messages(self) -> list[str]:
        """Every problem as one line, "column: message"."""
        return [message if column == "__all__" else f"{column}: {message}"
                for column, messages in self.errors.items() for message in messages]


@dataclass
class ImportResult:
    """What an import did (applied) or would do: a file-level error, or every row with its action."""

    error: str = ""
    rows: list[ImportRow] = field(default_factory=list)
    applied: bool = False
    payments: list[Payment] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.rows) and not self.count("error")

    @property
    def total(self) -> Decimal:
        """The sum of the rows that are (or would be) recorded."""
        return sum((row.values["amount"] for row in self.rows if row.action == "record"), ZERO)

    def errors_by_row(self) -> dict[str, list[str]]:
        """{"row:<line>": [messages]} for the API and the validation error."""
        if self.error:
            return {"file": [self.error]}
        return {f"row:{row.line}": row.messages() for row in self.rows if row.errors}


def _read(file: Any) -> tuple[bytes, str]:
    if isinstance(file, bytes | bytearray):
        data = bytes(file)
    else:
        size = getattr(file, "size", None)
        if size is not None and size > MAX_BYTES:
            return b"", _("The file is larger than 1 MiB: split it into smaller files.")
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return b"", _("The file is larger than 1 MiB: split it into smaller files.")
    return data, ""


def _decode(data: bytes) -> tuple[str, str]:
    if b"\x00" in data:
        return "", _("This is not a CSV text file.")
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        return "", _("The file is not UTF-8 text: save it as “CSV UTF-8” and try again.")


def _methods() -> dict[str, str]:
    found: dict[str, str] = {}
    for value, label in PaymentMethod.choices:
        found[value] = value
        found[value.replace("_", " ")] = value
        found[str(label).lower()] = value
    return found


def _parse(data: bytes) -> tuple[list[ImportRow], str]:
    """The rows of a payments file with their cell errors, or a file-level error (no database)."""
    text, problem = _decode(data)
    if problem:
        return [], problem
    if not text.strip():
        return [], _("The file is empty.")
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter, strict=True)
    records: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for index, cells in enumerate(reader):
            if index > MAX_ROWS:
                return [], _("The file has more than %(max)s rows: split it into smaller files.") % {"max": MAX_ROWS}
            records.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        return [], _("The file is not valid CSV: %(reason)s") % {"reason": str(exc)[:200]}
    header = [cell.strip().lower().replace(" ", "_") for cell in records[0][1]] if records else []
    names = [ALIASES.get(name, name) for name in header]
    expected = ", ".join(COLUMNS)
    unknown = sorted({header[i] for i, name in enumerate(names) if name and name not in COLUMNS})
    if unknown:
        return [], _("Unknown columns: %(unknown)s. The columns are: %(columns)s.") % {
            "unknown": ", ".join(unknown), "columns": expected}
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        return [], _("The first row must name the columns; missing: %(missing)s. The columns are: %(columns)s.") % {
            "missing": ", ".join(missing), "columns": expected}
    duplicated = sorted({n for n in names if n and names.count(n) > 1})
    if duplicated:
        return [], _("These columns appear twice: %(columns)s.") % {"columns": ", ".join(duplicated)}
    methods = _methods()
    rows = [_parse_row(line, names, cells, methods) for line, cells in records[1:] if any(c.strip() for c in cells)]
    if not rows:
        return [], _("The file has a header but no rows.")
    return rows, ""


def _parse_row(line: int, names: list[str], cells: list[str], methods: dict[str, str]) -> ImportRow:
    row = ImportRow(line=line)
    if len(cells) > len(names):
        row.error("__all__", _("This row has %(cells)s cells but the header names %(columns)s columns.")
                  % {"cells": len(cells), "columns": len(names)})
    raw = {name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(names) if name}
    number = raw.get("invoice_number", "")
    if not number:
        row.error("invoice_number", _("The invoice number is required."))
    elif len(number) > 40:
        row.error("invoice_number", _("At most %(max)s characters.") % {"max": 40})
    else:
        row.values["invoice_number"] = number
    when = raw.get("date", "")
    received_on = parse_date(when) if when else None
    if not when:
        row.error("date", _("The date is required."))
    elif received_on is None:
        row.error("date", _("“%(value)s” is not a date: write 2026-03-31 or 31/03/2026.") % {"value": when[:50]})
    elif received_on > timezone.localdate():
        row.error("date", _("A payment cannot be received in the future."))
    else:
        row.values["received_on"] = received_on
    if not raw.get("amount"):
        row.error("amount", _("The amount is required."))
    else:
        amount, problem = parse_amount(raw["amount"])
        if amount is None:
            row.error("amount", problem)
        else:
            row.values["amount"] = amount
    method = raw.get("method", "")
    if method and method.lower() not in methods:
        row.error("method", _("Unknown method “%(value)s”: use one of %(methods)s.") % {
            "value": method[:50], "methods": ", ".join(PaymentMethod.values)})
    else:
        row.values["method"] = methods.get(method.lower(), PaymentMethod.TRANSFER)
    reference = raw.get("reference", "")
    if not reference:
        row.error("reference", _("The reference is required: it makes a second import of the same file harmless."))
    elif len(reference) > 120:
        row.error("reference", _("At most %(max)s characters.") % {"max": 120})
    else:
        row.values["reference"] = reference
    return row


def _check_rows(actor: Any, rows: list[ImportRow], *, lock: bool) -> None:
    """Match every row to a visible invoice and decide its action: record, skip (already recorded) or error."""
    numbers = sorted({row.values["invoice_number"] for row in rows if "invoice_number" in row.values})
    queryset = Invoice.objects.visible_to(actor).filter(number__in=numbers).exclude(number="").order_by("pk")
    if lock:
        queryset = queryset.select_for_update()
    invoices = {invoice.number: invoice for invoice in queryset}
    ids = [invoice.pk for invoice in invoices.values()]
    paid = {row["invoice_id"]: row["total"] for row in Payment.objects.filter(invoice_id__in=ids)
            .values("invoice_id").annotate(total=Sum("amount")).order_by()}
    existing = {(p.invoice_id, p.reference): p for p in Payment.objects.filter(invoice_id__in=ids).exclude(
        reference="")}
    balance = {invoice.pk: invoice.total - (paid.get(invoice.pk) or ZERO) for invoice in invoices.values()}
    seen: dict[tuple[int, str], int] = {}
    for row in rows:
        number = row.values.get("invoice_number")
        invoice = invoices.get(number) if number else None
        row.invoice = invoice
        if number and invoice is None:
            row.error("invoice_number", _("No invoice numbered “%(number)s”.") % {"number": number[:40]})
        if row.errors or invoice is None:
            row.action = "error"
            continue
        reference, amount = row.values["reference"], row.values["amount"]
        key = (invoice.pk, reference)
        if key in seen:
            row.error("reference", _("Row %(line)s already pays %(number)s with this reference.")
                      % {"line": seen[key], "number": invoice})
            row.action = "error"
            continue
        seen[key] = row.line
        before = existing.get(key)
        if before is not None:
            if before.amount == amount and before.received_on == row.values["received_on"]:
                row.action, row.note = "skip", _("Already recorded.")
            else:
                row.error("reference", _("Reference “%(reference)s” is already recorded for %(number)s with "
                                         "%(amount)s on %(date)s: this row differs.") % {
                    "reference": reference[:60], "number": invoice, "amount": before.amount,
                    "date": before.received_on.isoformat()})
                row.action = "error"
            continue
        problem = payable_problem(invoice)
        if problem:
            row.error("invoice_number", problem)
        elif amount > balance[invoice.pk]:
            row.error("amount", _overpayment(invoice, amount, balance[invoice.pk]))
        if row.errors:
            row.action = "error"
            continue
        balance[invoice.pk] -= amount
        row.action = "record"


def _prepare(actor: Any, file: Any, *, lock: bool) -> ImportResult:
    data, problem = _read(file)
    if problem:
        return ImportResult(error=problem)
    rows, problem = _parse(data)
    if problem:
        return ImportResult(error=problem)
    _check_rows(actor, rows, lock=lock)
    return ImportResult(rows=rows)


def payments_import_preview(*, actor: Any, file: Any) -> ImportResult:
    """Read a payments file and say, row by row, what importing it would do. Writes nothing."""
    require(actor, "invoices", "add")
    return _prepare(actor, file, lock=False)


@transaction.atomic
def payments_import_csv(*, actor: Any, file: Any) -> ImportResult:
    """Import a payments file: every row checked first (invoices locked), then every payment written in this
    one transaction; if any row is wrong, nothing is written and the result says why, row by row."""
    require(actor, "invoices", "add")
    result = _prepare(actor, file, lock=True)
    if not result.ok:
        return result
    touched: dict[int, Invoice] = {}
    for row in result.rows:
        if row.action != "record" or row.invoice is None:
            continue
        payment = Payment(client_id=row.invoice.client_id, invoice=row.invoice, imported=True,
                          recorded_by=actor if getattr(actor, "pk", None) else None,
                          **{k: v for k, v in row.values.items() if k != "invoice_number"})
        _save_payment(actor, payment)
        result.payments.append(payment)
        touched[row.invoice.pk] = row.invoice
    statuses = {pk: _recompute(actor, invoice) for pk, invoice in sorted(touched.items())}
    for payment in result.payments:
        _recorded(actor, payment, touched[payment.invoice_id], statuses[payment.invoice_id])
    if result.payments:
        audit.record(actor, "payments.imported", object_type="billing.payment", changes={
            "rows": len(result.rows), "recorded": result.count("record"), "skipped": result.count("skip"),
            "total": str(result.total)})
    result.applied = True
    return result


def open_invoices_for(actor: Any) -> QuerySet[Invoice]:
    """Invoices that can still take a payment, for pickers."""
    return Invoice.objects.visible_to(actor).filter(kind=InvoiceKind.INVOICE, status__in=OPEN_STATUSES).filter(
        ~Q(number=""))
