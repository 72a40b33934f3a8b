"""Client scorecards (settings, snapshots of closed periods) and quarterly business reviews (cadence, meetings,
action items, recommendations, published decks)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tenfold.clients.models import Client, Contact
from tenfold.core.models import TimeStampedModel
from tenfold.core.tenancy import ClientOwnedQuerySet

ZERO = Decimal("0")


class ScorecardSettings(TimeStampedModel):
    """The MSP's scorecard settings (one row): metric weights and the thresholds of the default formulas."""

    weights = models.JSONField(_("weights"), default=dict, blank=True,
                               help_text=_("Weight of each metric (0 leaves it out of the overall score)."))
    antivirus_max_age_days = models.PositiveSmallIntegerField(
        _("antivirus definitions older than (days) are stale"), default=3,
        validators=[MinValueValidator(1), MaxValueValidator(60)])
    patch_grace_days = models.PositiveSmallIntegerField(
        _("update missing for more than (days) counts"), default=14,
        validators=[MinValueValidator(0), MaxValueValidator(365)])
    backup_window_hours = models.PositiveSmallIntegerField(
        _("backup window (hours)"), default=26, validators=[MinValueValidator(1), MaxValueValidator(744)],
        help_text=_("Used when the device's policy sets no backup age."))
    project_hourly_rate = models.DecimalField(
        _("project hourly rate"), max_digits=8, decimal_places=2, default=Decimal("90.00"),
        validators=[MinValueValidator(ZERO)], help_text=_("Prices the projects that recommendations propose."))

    class Meta:
        verbose_name = _("scorecard settings")
        verbose_name_plural = _("scorecard settings")
        constraints = [models.CheckConstraint(condition=Q(project_hourly_rate__gte=0),
                                              name="reporting_settings_rate_non_negative",
                                              violation_error_message=_("The rate cannot be negative."))]

    def __str__(self) -> str:
        return str(_("Scorecard settings"))


class PeriodKind(models.TextChoices):
    QUARTER = "quarter", _("Quarter")
    MONTH = "month", _("Month")


class ScorecardSnapshot(TimeStampedModel):
    """A client's scorecard for one period as computed at `as_of`: every metric's value, numerator and
    denominator, weight and formula version. A final snapshot (period closed) is written once and never changed;
    a deck snapshot freezes the quarter-to-date figures a published deck shows."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE,
                               related_name="scorecard_snapshots")
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"), help_text=_("The first day after the period."))
    as_of = models.DateTimeField(_("computed as of"))
    final = models.BooleanField(_("period closed"), default=True)
    overall = models.DecimalField(_("overall score"), max_digits=5, decimal_places=1, null=True, blank=True)
    metrics = models.JSONField(_("metrics"), default=list)
    formula_version = models.PositiveSmallIntegerField(_("formula version"))

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["client_id", "-period_start", "-as_of", "-pk"]
        verbose_name = _("scorecard snapshot")
        verbose_name_plural = _("scorecard snapshots")
        constraints = [models.UniqueConstraint(
            "client", "period_kind", "period_start", condition=Q(final=True), name="reporting_snapshot_final_once",
            violation_error_message=_("This period already has its final snapshot."))]
        indexes = [models.Index(fields=["period_kind", "period_start", "final"], name="reporting_snap_period")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.period_kind} {self.period_start}"


class QbrCadence(TimeStampedModel):
    """How often a client has its business review, and when the next one is due."""

    client = models.OneToOneField(Client, verbose_name=_("client"), on_delete=models.CASCADE,
                                  related_name="qbr_cadence")
    interval_months = models.PositiveSmallIntegerField(_("every (months)"), default=3,
                                                       validators=[MinValueValidator(1), MaxValueValidator(12)])
    next_due_on = models.DateField(_("next review due"))
    active = models.BooleanField(_("active"), default=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["next_due_on", "pk"]
        verbose_name = _("review cadence")
        verbose_name_plural = _("review cadences")
        constraints = [models.CheckConstraint(condition=Q(interval_months__gte=1, interval_months__lte=12),
                                              name="reporting_cadence_interval_range",
                                              violation_error_message=_("Choose between 1 and 12 months."))]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.next_due_on}"


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class QbrMeeting(TimeStampedModel):
    """A quarterly business review with a client: when, who, and what was said and decided."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE,
                               related_name="qbr_meetings")
    scheduled_at = models.DateTimeField(_("date and time"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=60,
                                                        validators=[MinValueValidator(15), MaxValueValidator(480)])
    location = models.CharField(_("location"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=MeetingStatus.choices,
                              default=MeetingStatus.PLANNED)
    decision_maker = models.ForeignKey(Contact, verbose_name=_("decision maker"), on_delete=models.PROTECT,
                                       related_name="+")
    other_contacts = models.ManyToManyField(Contact, verbose_name=_("other client attendees"), blank=True,
                                            related_name="+")
    account_manager = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("account manager"),
                                        on_delete=models.PROTECT, related_name="+")
    technician = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("technician"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    agenda = models.TextField(_("agenda"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    concerns = models.TextField(_("client concerns"), blank=True)
    decisions = models.TextField(_("decisions"), blank=True)
    uid = models.CharField(max_length=80, editable=False, unique=True)
    sequence = models.PositiveIntegerField(default=0, editable=False)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-scheduled_at", "-pk"]
        verbose_name = _("business review")
        verbose_name_plural = _("business reviews")
        indexes = [models.Index(fields=["client", "scheduled_at"], name="reporting_meeting_client_at")]

    def __str__(self) -> str:
        return f"{self.client} — {self.scheduled_at:%Y-%m-%d}"


class ActionKind(models.TextChoices):
    TASK = "task", _("Task")
    TICKET = "ticket", _("Ticket")
    DEAL = "deal", _("Deal")


class QbrActionItem(TimeStampedModel):
    """Something agreed at a review; it becomes a ticket or a deal in one click."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(QbrMeeting, verbose_name=_("review"), on_delete=models.CASCADE,
                                related_name="action_items")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ActionKind.choices, default=ActionKind.TASK)
    ticket = models.ForeignKey("servicedesk.Ticket", verbose_name=_("ticket"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    deal = models.ForeignKey("sales.Deal", verbose_name=_("deal"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    done = models.BooleanField(_("done"), default=False)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["meeting_id", "pk"]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")

    def __str__(self) -> str:
        return self.title


class RecommendationKind(models.TextChoices):
    RECURRING = "recurring", _("Monthly service")
    ONE_OFF = "one_off", _("One-off project")


class QbrRecommendation(TimeStampedModel):
    """A service proposed at a review because of a scorecard gap, priced from the catalog; editable."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(QbrMeeting, verbose_name=_("review"), on_delete=models.CASCADE,
                                related_name="recommendations")
    rule = models.CharField(_("rule"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    reason = models.CharField(_("why"), max_length=500, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=RecommendationKind.choices)
    service = models.ForeignKey("catalog.Service", verbose_name=_("service"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    offering = models.ForeignKey("catalog.Offering", verbose_name=_("offering"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2, default=Decimal(1),
                                   validators=[MinValueValidator(ZERO)])
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2,
                                     validators=[MinValueValidator(ZERO)])
    included = models.BooleanField(_("propose"), default=True)
    quote = models.ForeignKey("sales.Quote", verbose_name=_("quote"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["meeting_id", "pk"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0) & Q(unit_price__gte=0),
                                   name="reporting_recommendation_non_negative",
                                   violation_error_message=_("Amounts cannot be negative.")),
            models.UniqueConstraint("meeting", "rule", "service", name="reporting_recommendation_once",
                                    violation_error_message=_("This review already has this recommendation.")),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def amount(self) -> Decimal:
        """quantity × unit price, rounded to the cent (monthly for a service, once for a project)."""
        from tenfold.catalog.pricing import money

        return money(self.quantity * self.unit_price)


class QbrDeck(TimeStampedModel):
    """A published review deck: the PPTX and PDF files and the scorecard snapshots they show. Never changed."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="qbr_decks")
    meeting = models.ForeignKey(QbrMeeting, verbose_name=_("review"), on_delete=models.CASCADE,
                                related_name="decks")
    version = models.PositiveSmallIntegerField(_("version"))
    snapshot = models.ForeignKey(ScorecardSnapshot, verbose_name=_("scorecard"), on_delete=models.PROTECT,
                                 related_name="+")
    previous_snapshot = models.ForeignKey(ScorecardSnapshot, verbose_name=_("previous scorecard"),
                                          on_delete=models.PROTECT, related_name="+")
    content = models.JSONField(_("content"), default=dict)
    pptx = models.BinaryField(_("presentation (PPTX)"))
    pdf = models.BinaryField(_("PDF"))
    published_at = models.DateTimeField(_("published"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("published by"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("review deck")
        verbose_name_plural = _("review decks")
        constraints = [models.UniqueConstraint("meeting", "version", name="reporting_deck_version_once",
                                               violation_error_message=_("This version already exists."))]

    def __str__(self) -> str:
        return f"{self.meeting} v{self.version}"

    def file_name(self, extension: str) -> str:
        """e.g. qbr-2026-01-15-v1.pptx."""
        return f"qbr-{self.meeting.scheduled_at:%Y-%m-%d}-v{self.version}.{extension}"


from tenfold.reporting.kpi_models import *  # noqa: E402, F403
