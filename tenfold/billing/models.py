"""Billing: monthly billing runs (MSP-level), invoices and credit notes with their lines, one-off charges
waiting for the next run, payments, and the gap-free number sequences (client-owned except the runs and
sequences).

Money is `Decimal` with two places. A line's amount is computed once by the billing engine and stored;
an invoice's totals are the sums of its lines (tax summed per rate, each rounded once), so what is shown
adds up. An issued invoice is never edited nor deleted: it is voided by a credit note."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tenfold.clients.models import Client
from tenfold.contracts.models import MspQuerySet
from tenfold.core.models import TimeStampedModel
from tenfold.core.tenancy import ClientOwnedQuerySet

ZERO = Decimal("0.00")
MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}

__all__ = [
    "BilledTimeEntry",
    "BillingRun",
    "BillingRunStatus",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceStatus",
    "LineKind",
    "NumberSequence",
    "OneOffCharge",
    "Payment",
    "PaymentMethod",
]


class BillingRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class BillingRun(TimeStampedModel):
    """The monthly run for one period (the month billed in advance): one per period, so running it again
    completes what is missing and creates nothing twice."""

    period_start = models.DateField(_("period"), unique=True,
                                    help_text=_("First day of the month billed in advance."))
    run_date = models.DateField(_("run date"), help_text=_("Unit counts are taken on this date."))
    status = models.CharField(_("status"), max_length=10, choices=BillingRunStatus.choices,
                              default=BillingRunStatus.RUNNING)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("started by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    invoice_count = models.PositiveIntegerField(_("invoices"), default=0)
    total = models.DecimalField(_("total"), default=ZERO, **MONEY)
    error = models.TextField(_("error"), blank=True)

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start"]
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")

    def __str__(self) -> str:
        return self.period_start.strftime("%Y-%m")


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")


# Statuses whose balance is still owed; "overdue" is one of these past its due date (derived, not stored).
OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


class NumberSequence(models.Model):
    """The last number given in a series (e.g. invoices of 2026). Locked while a number is given, inside the
    transaction that issues the document, so numbers have no gaps."""

    key = models.CharField(_("series"), max_length=40, unique=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self) -> str:
        return f"{self.key}: {self.last}"


class Invoice(TimeStampedModel):
    """An invoice or a credit note for one client. Numbered when issued; drafts can be edited or deleted."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(_("kind"), max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    number = models.CharField(_("number"), max_length=40, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=15, choices=InvoiceStatus.choices,
                              default=InvoiceStatus.DRAFT, db_index=True)
    billing_run = models.ForeignKey(BillingRun, verbose_name=_("billing run"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="invoices")
    credited_invoice = models.ForeignKey("self", verbose_name=_("credits invoice"), null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="credit_notes")
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    subtotal = models.DecimalField(_("subtotal"), default=ZERO, **MONEY)
    tax_total = models.DecimalField(_("tax"), default=ZERO, **MONEY)
    total = models.DecimalField(_("total"), default=ZERO, **MONEY)
    amount_paid = models.DecimalField(_("paid"), default=ZERO, **MONEY)
    # The bill-to block as it was when the invoice was issued (a later change of the client's address or
    # billing contact does not rewrite an issued invoice).
    bill_to_name = models.CharField(_("bill to"), max_length=200, blank=True)
    bill_to_email = models.EmailField(_("billing e-mail"), blank=True)
    bill_to_address = models.TextField(_("billing address"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("issued by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-pk"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            # One invoice per client and billing run: the run's idempotency holds in the database too.
            models.UniqueConstraint(fields=["client", "billing_run"], condition=Q(billing_run__isnull=False,
                                                                                  kind="invoice"),
                                    name="billing_invoice_one_per_client_run",
                                    violation_error_message=_("This client already has an invoice in this run.")),
            models.UniqueConstraint(fields=["number"], condition=~Q(number=""), name="billing_invoice_number_unique",
                                    violation_error_message=_("An invoice with this number already exists.")),
            models.CheckConstraint(condition=Q(amount_paid__gte=0), name="billing_invoice_paid_non_negative",
                                   violation_error_message=_("Amounts cannot be negative.")),
            # An invoice is voided by one credit note, never two.
            models.UniqueConstraint(fields=["credited_invoice"], condition=Q(kind="credit_note"),
                                    name="billing_one_credit_note_per_invoice",
                                    violation_error_message=_("This invoice already has a credit note.")),
        ]
        indexes = [models.Index(fields=["client", "status"], name="billing_invoice_client_status")]

    def __str__(self) -> str:
        return self.number or str(_("Draft %(pk)s") % {"pk": self.pk})

    @property
    def balance(self) -> Decimal:
        """What is still owed (0 for drafts, void invoices and credit notes)."""
        if self.status not in OPEN_STATUSES or self.kind != InvoiceKind.INVOICE:
            return ZERO
        return self.total - self.amount_paid

    def is_overdue(self, today: date) -> bool:
        return (self.kind == InvoiceKind.INVOICE and self.status in OPEN_STATUSES and self.due_date is not None
                and self.due_date < today)


class LineKind(models.TextChoices):
    RECURRING = "recurring", _("Recurring (in advance)")
    PRORATION = "proration", _("Prorated adjustment")
    TIME = "time", _("Time out of scope")
    BLOCK = "block", _("Block of hours")
    OVERAGE = "overage", _("Block-hour overage")
    MILESTONE = "milestone", _("Project milestone")
    ONE_OFF = "one_off", _("One-off item")
    MINIMUM = "minimum", _("Minimum commitment")
    MANUAL = "manual", _("Manual line")
    CREDIT = "credit", _("Credit")


class InvoiceLine(models.Model):
    """One line: quantity × unit price (× days / period days for a prorated line) = amount, rounded once to the
    cent by the engine, with the tax rate as it was. `detail` lists what stands behind the line: the devices
    counted, the time entries, the milestone."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=12, choices=LineKind.choices, default=LineKind.MANUAL)
    description = models.CharField(_("description"), max_length=300)
    contract = models.ForeignKey("contracts.Contract", verbose_name=_("contract"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="invoice_lines")
    service = models.ForeignKey("catalog.Service", verbose_name=_("service"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="invoice_lines")
    milestone = models.ForeignKey("contracts.Milestone", verbose_name=_("milestone"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="invoice_lines")
    period_start = models.DateField(_("from"), null=True, blank=True)
    period_end = models.DateField(_("to"), null=True, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2, default=Decimal("1.00"))
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    # Prorated lines: the amount is quantity × unit price × days / period_days.
    days = models.PositiveSmallIntegerField(_("days"), null=True, blank=True)
    period_days = models.PositiveSmallIntegerField(_("days in period"), null=True, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=6, decimal_places=3, default=Decimal("0.000"),
                                   validators=[MinValueValidator(Decimal("0"))])
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    # What the billing run billed on this line, e.g. "proration:17:2026-03:added" or "overage:4:2026-03": unique,
    # so a second run (or a concurrent one) cannot bill the same thing twice. Empty for manual and credit lines.
    key = models.CharField(_("billing key"), max_length=120, blank=True, editable=False)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["invoice_id", "position", "pk"]
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        constraints = [
            models.CheckConstraint(condition=Q(tax_rate__gte=0), name="billing_line_tax_non_negative",
                                   violation_error_message=_("A tax rate cannot be negative.")),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="billing_line_quantity_non_negative",
                                   violation_error_message=_("A quantity cannot be negative.")),
            models.UniqueConstraint(fields=["key"], condition=~Q(key=""), name="billing_line_key_once",
                                    violation_error_message=_("This item is already billed.")),
        ]

    def __str__(self) -> str:
        return self.description


class BilledTimeEntry(models.Model):
    """A time entry invoiced on a line: each entry is billed once (the unique key makes a second run a no-op).
    Deleted with its line when a draft invoice is deleted, so the time returns to the next run."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="+")
    time_entry = models.OneToOneField("servicedesk.TimeEntry", verbose_name=_("time entry"),
                                      on_delete=models.PROTECT, related_name="billed")
    line = models.ForeignKey(InvoiceLine, verbose_name=_("line"), on_delete=models.CASCADE,
                             related_name="time_entries")

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("billed time entry")
        verbose_name_plural = _("billed time entries")

    def __str__(self) -> str:
        return f"{self.time_entry_id} → {self.line_id}"


class OneOffCharge(TimeStampedModel):
    """A one-off item waiting for the next billing run (an onboarding fee from an accepted quote, hardware,
    a charge entered by hand); `line` is set once it is invoiced."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.PROTECT,
                               related_name="one_off_charges")
    contract = models.ForeignKey("contracts.Contract", verbose_name=_("contract"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="one_off_charges")
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2, default=Decimal("1.00"),
                                   validators=[MinValueValidator(Decimal("0.01"))])
    unit_price = models.DecimalField(_("unit price"), validators=[MinValueValidator(ZERO)], **MONEY)
    service_date = models.DateField(_("date"))
    source = models.CharField(_("source"), max_length=80, blank=True,
                              help_text=_("Where the charge comes from, e.g. quote:42."))
    line = models.OneToOneField(InvoiceLine, verbose_name=_("invoiced on"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="one_off_charge")

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["service_date", "pk"]
        verbose_name = _("one-off charge")
        verbose_name_plural = _("one-off charges")
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0) & Q(quantity__gt=0),
                                   name="billing_oneoff_positive",
                                   violation_error_message=_("Quantities must be positive and prices not negative.")),
            models.UniqueConstraint(fields=["source"], condition=~Q(source=""), name="billing_oneoff_source_once",
                                    violation_error_message=_("This charge was already recorded.")),
        ]

    def __str__(self) -> str:
        return self.description


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")
    CARD = "card", _("Card")
    CHEQUE = "cheque", _("Cheque")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other")


class Payment(TimeStampedModel):
    """Money received against an invoice, entered by hand or imported from a CSV (the reference makes an
    import idempotent)."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="payments")
    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT,
                                related_name="payments")
    received_on = models.DateField(_("received on"))
    amount = models.DecimalField(_("amount"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY)
    method = models.CharField(_("method"), max_length=15, choices=PaymentMethod.choices,
                              default=PaymentMethod.TRANSFER)
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    imported = models.BooleanField(_("imported"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "-pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_payment_positive",
                                   violation_error_message=_("A payment must be a positive amount.")),
            models.UniqueConstraint(fields=["invoice", "reference"], condition=~Q(reference=""),
                                    name="billing_payment_reference_once",
                                    violation_error_message=_("A payment with this reference is already recorded "
                                                              "for this invoice.")),
        ]

    def __str__(self) -> str:
        return f"{self.invoice} {self.amount}"
