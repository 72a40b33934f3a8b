"""The service desk: queues (MSP-level), tickets with their timeline, checklists and SLA clocks, time
entries against tickets or projects, ticket templates and recurring tickets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from tenfold.clients.models import Client, Contact
from tenfold.contracts.models import MspQuerySet, Priority
from tenfold.core.models import TimeStampedModel
from tenfold.core.tenancy import ClientOwnedQuerySet

__all__ = [
    "ApprovalStatus",
    "Coverage",
    "EntryKind",
    "Priority",
    "Queue",
    "RecurrenceUnit",
    "RecurringTicket",
    "Ticket",
    "TicketChecklistItem",
    "TicketEntry",
    "TicketSource",
    "TicketStatus",
    "TicketTemplate",
    "TicketType",
    "TimeEntry",
    "WorkType",
]


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_CLIENT = "waiting_client", _("Waiting on client")
    WAITING_THIRD_PARTY = "waiting_third_party", _("Waiting on third party")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# The SLA clocks do not run in these statuses (waiting: paused; resolved/closed: stopped).
WAITING_STATUSES = (TicketStatus.WAITING_CLIENT, TicketStatus.WAITING_THIRD_PARTY)
DONE_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
CLOCK_STOPPED_STATUSES = WAITING_STATUSES + DONE_STATUSES
OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.IN_PROGRESS, *WAITING_STATUSES)


class TicketType(models.TextChoices):
    INCIDENT = "incident", _("Incident")
    REQUEST = "request", _("Service request")
    PROBLEM = "problem", _("Problem")
    CHANGE = "change", _("Change")


class TicketSource(models.TextChoices):
    UI = "ui", _("Staff UI")
    API = "api", _("API")
    PORTAL = "portal", _("Client portal")
    EMAIL = "email", _("Email")
    ALERT = "alert", _("Alert")
    RECURRING = "recurring", _("Recurring schedule")


class Queue(TimeStampedModel):
    """An MSP-level line of work tickets are sorted into ("Service desk", "Projects", "Onboarding")."""

    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    is_default = models.BooleanField(_("default"), default=False,
                                     help_text=_("Tickets opened without a queue land here."))
    is_active = models.BooleanField(_("active"), default=True)

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        constraints = [
            models.UniqueConstraint(Lower("name"), name="servicedesk_queue_name_unique_ci",
                                    violation_error_message=_("A queue with this name already exists.")),
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                    name="servicedesk_queue_one_default",
                                    violation_error_message=_("Only one queue can be the default.")),
        ]

    def __str__(self) -> str:
        return self.name


class Ticket(TimeStampedModel):
    """A client's request or incident: who asked, about what, how urgent, who works on it, and its SLA."""

    number = models.CharField(_("number"), max_length=20, blank=True, editable=False)
    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="tickets")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="tickets")
    devices = models.ManyToManyField("assets.Device", verbose_name=_("devices"), blank=True, related_name="tickets")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices, default=Priority.P3,
                                db_index=True)
    type = models.CharField(_("type"), max_length=10, choices=TicketType.choices, default=TicketType.INCIDENT)
    status = models.CharField(_("status"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW,
                              db_index=True)
    queue = models.ForeignKey(Queue, verbose_name=_("queue"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="tickets")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="assigned_tickets")
    watchers = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("watchers"), blank=True,
                                      related_name="watched_tickets")
    # Free labels, stored lower-case and comma-separated ("vpn,printer").
    tags = models.CharField(_("tags"), max_length=300, blank=True,
                            help_text=_("Comma-separated labels, e.g. vpn, printer."))
    due_at = models.DateTimeField(_("due date"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=TicketSource.choices, default=TicketSource.UI)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    contract = models.ForeignKey("contracts.Contract", verbose_name=_("contract"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="tickets")
    alert = models.ForeignKey("monitoring.Alert", verbose_name=_("alert"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="tickets")
    template = models.ForeignKey("servicedesk.TicketTemplate", verbose_name=_("template"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="tickets")
    recurring = models.ForeignKey("servicedesk.RecurringTicket", verbose_name=_("recurring schedule"), null=True,
                                  blank=True, on_delete=models.SET_NULL, related_name="tickets")
    # Set when a recurring schedule opened this ticket: one ticket per schedule and due time.
    recurrence_due_at = models.DateTimeField(_("recurrence due time"), null=True, blank=True, editable=False)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    merged_into = models.ForeignKey("self", verbose_name=_("merged into"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="merged_tickets")
    # SLA: targets copied from the policy at opening (a later policy change does not move open tickets).
    sla_policy = models.ForeignKey("contracts.SlaPolicy", verbose_name=_("SLA policy"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    sla_calendar = models.ForeignKey("contracts.BusinessCalendar", verbose_name=_("business hours"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    sla_started_at = models.DateTimeField(_("SLA clock started"), null=True, blank=True)
    first_response_target_minutes = models.PositiveIntegerField(_("first response target (minutes)"), null=True,
                                                                blank=True)
    resolution_target_minutes = models.PositiveIntegerField(_("resolution target (minutes)"), null=True, blank=True)
    sla_warning_pct = models.PositiveSmallIntegerField(_("warning threshold (%)"), default=80)
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True, db_index=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True, db_index=True)
    first_response_warn_at = models.DateTimeField(_("first response warning"), null=True, blank=True)
    resolution_warn_at = models.DateTimeField(_("resolution warning"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first responded"), null=True, blank=True)
    # Business seconds the clocks stood still (waiting statuses, time between resolving and reopening).
    paused_seconds = models.PositiveIntegerField(_("paused business seconds"), default=0)
    paused_at = models.DateTimeField(_("clock paused since"), null=True, blank=True)
    sla_first_response_met = models.BooleanField(_("first response target met"), null=True, blank=True)
    sla_resolution_met = models.BooleanField(_("resolution target met"), null=True, blank=True)
    sla_first_response_warned = models.BooleanField(_("first response warning sent"), default=False)
    sla_resolution_warned = models.BooleanField(_("resolution warning sent"), default=False)
    sla_first_response_breached = models.BooleanField(_("first response breached"), default=False)
    sla_resolution_breached = models.BooleanField(_("resolution breached"), default=False)
    # A sales opportunity spotted by the technician.
    opportunity_flagged = models.BooleanField(_("opportunity"), default=False)
    opportunity_note = models.TextField(_("opportunity note"), blank=True)
    opportunity_flagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opportunity flagged by"),
                                               null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    opportunity_flagged_at = models.DateTimeField(_("opportunity flagged"), null=True, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.UniqueConstraint(fields=["number"], condition=~Q(number=""), name="servicedesk_ticket_number_unique",
                                    violation_error_message=_("A ticket with this number already exists.")),
            models.UniqueConstraint("alert", condition=Q(alert__isnull=False)
                                    & Q(status__in=["new", "in_progress", "waiting_client", "waiting_third_party"])
                                    & Q(merged_into__isnull=True),
                                    name="servicedesk_ticket_one_open_per_alert",
                                    violation_error_message=_("This alert already has an open ticket.")),
            models.UniqueConstraint(fields=["recurring", "recurrence_due_at"],
                                    condition=Q(recurring__isnull=False, recurrence_due_at__isnull=False),
                                    name="servicedesk_ticket_one_per_recurrence",
                                    violation_error_message=_("This recurrence already opened a ticket.")),
        ]
        indexes = [models.Index(fields=["client", "status"], name="sd_ticket_client_status"),
                   models.Index(fields=["assignee", "status"], name="sd_ticket_assignee_status"),
                   # The KPIs count tickets opened and resolved in a period (reporting.kpis).
                   models.Index(fields=["created_at"], name="sd_ticket_created"),
                   models.Index(fields=["resolved_at"], name="sd_ticket_resolved")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}".strip()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]


class EntryKind(models.TextChoices):
    REPLY_PUBLIC = "reply_public", _("Public reply")
    NOTE_INTERNAL = "note_internal", _("Internal note")
    STATUS_CHANGE = "status_change", _("Status change")
    ALERT_LINK = "alert_link", _("Linked alert")
    MERGE = "merge", _("Merge")
    SYSTEM = "system", _("System")


class TicketEntry(TimeStampedModel):
    """One line of a ticket's timeline: a reply, an internal note, a status change, a linked alert."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(_("kind"), max_length=20, choices=EntryKind.choices, default=EntryKind.NOTE_INTERNAL)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    author_contact = models.ForeignKey(Contact, verbose_name=_("contact"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(_("text"), blank=True)
    visible_to_client = models.BooleanField(_("visible to the client"), default=False)
    email_message_id = models.CharField(_("email message id"), max_length=300, blank=True, db_index=True)
    alert = models.ForeignKey("monitoring.Alert", verbose_name=_("alert"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    # Structured detail of system lines, e.g. {"from": "new", "to": "in_progress"}.
    data = models.JSONField(_("detail"), default=dict, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["ticket_id", "created_at", "pk"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class TicketChecklistItem(TimeStampedModel):
    """A step of the runbook bound to the ticket's template; ticking it records who and when."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="checklist")
    position = models.PositiveIntegerField(_("position"), default=0)
    text = models.TextField(_("step"))
    required = models.BooleanField(_("required"), default=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("done by"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["ticket_id", "position", "pk"]
        verbose_name = _("checklist step")
        verbose_name_plural = _("checklist steps")

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class TicketTemplate(TimeStampedModel):
    """Recurring work written once (onboard a user, set up a workstation), optionally bound to a runbook
    whose steps become the ticket's checklist."""

    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("ticket title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    type = models.CharField(_("type"), max_length=10, choices=TicketType.choices, default=TicketType.REQUEST)
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices, default=Priority.P3)
    queue = models.ForeignKey(Queue, verbose_name=_("queue"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="templates")
    # The knowledge runbook whose steps are copied (an id: knowledge owns the runbook).
    runbook_id = models.PositiveIntegerField(_("runbook"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("ticket template")
        verbose_name_plural = _("ticket templates")
        constraints = [models.UniqueConstraint(Lower("name"), name="servicedesk_template_name_unique_ci",
                                               violation_error_message=_("A template with this name already exists."))]

    def __str__(self) -> str:
        return self.name


class RecurrenceUnit(models.TextChoices):
    DAYS = "days", _("days")
    WEEKS = "weeks", _("weeks")
    MONTHS = "months", _("months")
    CRON = "cron", _("cron expression")


class RecurringTicket(TimeStampedModel):
    """A template opened for a client on a schedule: every N days, weeks or months, or a cron expression
    (in the organization's time zone)."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE,
                               related_name="recurring_tickets")
    template = models.ForeignKey(TicketTemplate, verbose_name=_("template"), on_delete=models.PROTECT,
                                 related_name="schedules")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    unit = models.CharField(_("repeat"), max_length=10, choices=RecurrenceUnit.choices, default=RecurrenceUnit.MONTHS)
    interval = models.PositiveSmallIntegerField(_("every"), default=1,
                                                validators=[MinValueValidator(1), MaxValueValidator(365)])
    cron = models.CharField(_("cron expression"), max_length=100, blank=True,
                            help_text=_("Minute hour day month weekday, e.g. 0 8 * * 1 for Mondays at 8:00."))
    next_run_at = models.DateTimeField(_("next ticket"), db_index=True)
    last_run_at = models.DateTimeField(_("last ticket"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["next_run_at", "pk"]
        verbose_name = _("recurring ticket")
        verbose_name_plural = _("recurring tickets")

    def __str__(self) -> str:
        return f"{self.template} — {self.client}"


class WorkType(models.TextChoices):
    REMOTE = "remote", _("Remote support")
    ONSITE = "onsite", _("On-site")
    TRAVEL = "travel", _("Travel")
    PROJECT = "project", _("Project work")
    ADMIN = "admin", _("Administration")


class Coverage(models.TextChoices):
    COVERED = "covered", _("Covered by contract")
    OUT_OF_SCOPE = "out_of_scope", _("Out of scope")


class ApprovalStatus(models.TextChoices):
    NOT_REQUIRED = "not_required", _("Not required")
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


MONEY: dict[str, Any] = {"max_digits": 10, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}


class TimeEntry(TimeStampedModel):
    """Time a staff member worked on a ticket or a project: actual and billable minutes, the rate billed,
    the cost kept for profitability, and whether billable time was approved for invoicing."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="time_entries")
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="time_entries")
    project = models.ForeignKey("contracts.Project", verbose_name=_("project"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="time_entries")
    contract = models.ForeignKey("contracts.Contract", verbose_name=_("contract"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="time_entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("technician"), on_delete=models.PROTECT,
                             related_name="time_entries")
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    is_running = models.BooleanField(_("timer running"), default=False)
    actual_minutes = models.PositiveIntegerField(_("actual minutes"), default=0)
    billable_minutes = models.PositiveIntegerField(_("billable minutes"), default=0)
    billable = models.BooleanField(_("billable"), default=True)
    coverage = models.CharField(_("coverage"), max_length=15, choices=Coverage.choices, default=Coverage.COVERED)
    work_type = models.CharField(_("work type"), max_length=10, choices=WorkType.choices, default=WorkType.REMOTE)
    rate = models.DecimalField(_("hourly rate"), default=Decimal("0.00"), **MONEY)
    cost_rate = models.DecimalField(_("hourly cost"), default=Decimal("0.00"), **MONEY)
    notes = models.TextField(_("notes"), blank=True)
    approval_status = models.CharField(_("approval"), max_length=15, choices=ApprovalStatus.choices,
                                       default=ApprovalStatus.NOT_REQUIRED, db_index=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    rejection_reason = models.CharField(_("rejection reason"), max_length=300, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(is_running=True),
                                    name="servicedesk_one_timer_per_user",
                                    violation_error_message=_("You already have a running timer.")),
            models.CheckConstraint(condition=Q(ticket__isnull=False) | Q(project__isnull=False),
                                   name="servicedesk_time_ticket_or_project",
                                   violation_error_message=_("Time is logged against a ticket or a project.")),
        ]
        indexes = [models.Index(fields=["client", "approval_status"], name="sd_time_client_approval")]

    def __str__(self) -> str:
        return f"{self.user} {self.actual_minutes} min"

    @property
    def amount(self) -> Decimal:
        """What the entry bills: billable minutes at the rate (0 when covered or not billable)."""
        if not self.billable or self.coverage == Coverage.COVERED:
            return Decimal("0.00")
        return (self.rate * self.billable_minutes / 60).quantize(Decimal("0.01"))

    @property
    def cost(self) -> Decimal:
        return (self.cost_rate * self.actual_minutes / 60).quantize(Decimal("0.01"))


from tenfold.servicedesk import models_email, models_surveys  # noqa: E402,F401  (email channel and surveys)
