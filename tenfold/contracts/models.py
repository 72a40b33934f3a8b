"""Contracts and what they promise: business-hours calendars, SLA policies, time rounding rules (MSP-level,
used by the service desk), contracts with add-ons, addenda and coverage, projects with tasks and milestones
(client-owned)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from tenfold.clients.models import Client, Contact, Site, validate_time_zone
from tenfold.contracts.businesstime import CalendarSpec, week_from_json
from tenfold.core.models import TimeStampedModel
from tenfold.core.tenancy import ClientOwnedQuerySet

ZERO = Decimal("0")
HUNDRED = Decimal("100")
PRIORITIES = ("p1", "p2", "p3", "p4")


class MspQuerySet(models.QuerySet[Any]):
    """MSP-level rows: every signed-in actor passes `visible_to`; the role check decides the rest."""

    def visible_to(self, actor: Any) -> MspQuerySet:
        if actor is None or not getattr(actor, "is_authenticated", False):
            return self.none()
        return self


def _non_negative(field: str, message: Any) -> models.CheckConstraint:
    return models.CheckConstraint(condition=models.Q(**{f"{field}__gte": 0}) | models.Q(**{f"{field}__isnull": True}),
                                  name=f"contracts_%(class)s_{field}_non_negative", violation_error_message=message)


def _money(verbose: Any, *, null: bool = False, default: Decimal | None = None, help_text: Any = "") -> Any:
    kwargs: dict[str, Any] = {"max_digits": 12, "decimal_places": 2, "validators": [MinValueValidator(ZERO)],
                              "help_text": help_text}
    if null:
        kwargs.update(null=True, blank=True)
    if default is not None:
        kwargs["default"] = default
    return models.DecimalField(verbose, **kwargs)


# --- Business-hours calendars ------------------------------------------------------------------


class BusinessCalendar(TimeStampedModel):
    """Working hours per weekday (several intervals a day allowed) in a time zone, minus holidays."""

    name = models.CharField(_("name"), max_length=200)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris",
                                 validators=[validate_time_zone])
    # Seven lists (Monday first) of [start, end] in minutes since local midnight; end 1440 is midnight.
    hours = models.JSONField(_("working hours"), default=list)

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("business-hours calendar")
        verbose_name_plural = _("business-hours calendars")
        constraints = [models.UniqueConstraint(
            Lower("name"), name="contracts_calendar_name_unique_ci",
            violation_error_message=_("A calendar with this name already exists."))]

    def __str__(self) -> str:
        return self.name

    def spec(self) -> CalendarSpec:
        """The calendar as plain values for the business-time functions (holidays read once per row)."""
        cached: CalendarSpec | None = getattr(self, "_spec", None)
        if cached is None:
            holidays = frozenset(self.holidays.values_list("date", flat=True)) if self.pk else frozenset()
            cached = CalendarSpec(self.time_zone, week_from_json(self.hours), holidays)
            self._spec = cached
        return cached

    def forget_spec(self) -> None:
        """Drop the cached spec after a change of hours or holidays."""
        self.__dict__.pop("_spec", None)


class Holiday(models.Model):
    """A whole local day on which a calendar is closed."""

    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE,
                                 related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=200, blank=True)

    class Meta:
        ordering = ["calendar_id", "date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="contracts_holiday_unique_date",
                                               violation_error_message=_("This date is already a holiday."))]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


# --- SLA policies -------------------------------------------------------------------------------


class Priority(models.TextChoices):
    P1 = "p1", _("P1 — critical")
    P2 = "p2", _("P2 — high")
    P3 = "p3", _("P3 — normal")
    P4 = "p4", _("P4 — low")


def _minutes(verbose: Any, default: int) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(verbose, default=default,
                                       validators=[MinValueValidator(1), MaxValueValidator(525600)])


class SlaPolicy(TimeStampedModel):
    """First-response and resolution targets per priority, counted in business time on a calendar."""

    name = models.CharField(_("name"), max_length=200)
    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("calendar"), on_delete=models.PROTECT,
                                 related_name="sla_policies")
    is_default = models.BooleanField(_("default"), default=False,
                                     help_text=_("Used for tickets of clients without a contract."))
    p1_first_response_minutes = _minutes(_("P1 first response (minutes)"), 30)
    p1_resolution_minutes = _minutes(_("P1 resolution (minutes)"), 240)
    p2_first_response_minutes = _minutes(_("P2 first response (minutes)"), 60)
    p2_resolution_minutes = _minutes(_("P2 resolution (minutes)"), 480)
    p3_first_response_minutes = _minutes(_("P3 first response (minutes)"), 240)
    p3_resolution_minutes = _minutes(_("P3 resolution (minutes)"), 1440)
    p4_first_response_minutes = _minutes(_("P4 first response (minutes)"), 480)
    p4_resolution_minutes = _minutes(_("P4 resolution (minutes)"), 2400)
    warning_threshold_pct = models.PositiveSmallIntegerField(
        _("warning threshold (%)"), default=80, validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=_("Warn when this share of a target's business time has passed."))

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(Lower("name"), name="contracts_slapolicy_name_unique_ci",
                                    violation_error_message=_("An SLA policy with this name already exists.")),
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                    name="contracts_slapolicy_one_default",
                                    violation_error_message=_("Only one SLA policy can be the default.")),
        ]

    def __str__(self) -> str:
        return self.name

    def targets(self, priority: str) -> tuple[int, int]:
        """(first response, resolution) in business minutes for a priority (p1…p4)."""
        if priority not in PRIORITIES:
            raise ValueError(f"unknown priority {priority!r}")
        return (getattr(self, f"{priority}_first_response_minutes"), getattr(self, f"{priority}_resolution_minutes"))

    def target_rows(self) -> list[dict[str, Any]]:
        """One row per priority for tables."""
        labels = dict(Priority.choices)
        return [{"priority": p, "label": labels[p], "first_response": self.targets(p)[0],
                 "resolution": self.targets(p)[1]} for p in PRIORITIES]


# --- Time rounding --------------------------------------------------------------------------------


class RoundingMode(models.TextChoices):
    UP = "up", _("Round up")
    NEAREST = "nearest", _("Round to the nearest")


class RoundingRule(TimeStampedModel):
    """How worked minutes become billable minutes: an increment, a direction, a minimum per entry."""

    name = models.CharField(_("name"), max_length=200)
    increment_minutes = models.PositiveSmallIntegerField(
        _("increment (minutes)"), default=15, validators=[MinValueValidator(1), MaxValueValidator(480)])
    mode = models.CharField(_("rounding"), max_length=10, choices=RoundingMode.choices, default=RoundingMode.UP)
    minimum_minutes = models.PositiveSmallIntegerField(
        _("minimum per entry (minutes)"), default=0, validators=[MaxValueValidator(480)])

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("time rounding rule")
        verbose_name_plural = _("time rounding rules")
        constraints = [models.UniqueConstraint(
            Lower("name"), name="contracts_roundingrule_name_unique_ci",
            violation_error_message=_("A rounding rule with this name already exists."))]

    def __str__(self) -> str:
        return self.name


# --- Contracts --------------------------------------------------------------------------------------


class ContractType(models.TextChoices):
    MANAGED = "managed", _("Managed services (per unit, monthly)")
    BLOCK_HOURS = "block_hours", _("Block of hours")
    TIME_MATERIALS = "time_materials", _("Time and materials")
    FIXED_PRICE = "fixed_price", _("Fixed-price project")


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Signed / active")
    ENDED = "ended", _("Ended")
    CANCELLED = "cancelled", _("Cancelled")


class Indexation(models.TextChoices):
    NONE = "none", _("None")
    PERCENT = "percent", _("Fixed percentage")
    INDEX = "index", _("Index values")


class UnusedHours(models.TextChoices):
    ROLL_OVER = "roll_over", _("Roll over to the next period")
    EXPIRE = "expire", _("Expire at the end of the period")


class Contract(TimeStampedModel):
    """What a client bought and on which terms: type, dates, plan and add-ons, SLA, rates."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="contracts")
    number = models.CharField(_("number"), max_length=40, blank=True,
                              help_text=_("Left empty, the next number is given."))
    title = models.CharField(_("title"), max_length=200, blank=True)
    type = models.CharField(_("type"), max_length=20, choices=ContractType.choices, default=ContractType.MANAGED)
    status = models.CharField(_("status"), max_length=10, choices=ContractStatus.choices,
                              default=ContractStatus.DRAFT, db_index=True)
    site = models.ForeignKey(Site, verbose_name=_("site"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="contracts",
                             help_text=_("Leave empty for the whole client; a site limits the scope to it."))
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True,
                                help_text=_("Leave empty for a contract that renews until notice is given."))
    renewal_term_months = models.PositiveSmallIntegerField(
        _("renewal term (months)"), default=12, validators=[MaxValueValidator(120)],
        help_text=_("0 for no automatic renewal."))
    notice_period_days = models.PositiveSmallIntegerField(_("notice period (days)"), default=90,
                                                          validators=[MaxValueValidator(730)])
    minimum_monthly_commitment = _money(_("minimum monthly commitment"), default=ZERO)
    indexation = models.CharField(_("yearly indexation"), max_length=10, choices=Indexation.choices,
                                  default=Indexation.NONE)
    indexation_percent = models.DecimalField(_("indexation (%)"), max_digits=6, decimal_places=3, null=True,
                                             blank=True, validators=[MinValueValidator(ZERO)])
    index_base_value = models.DecimalField(_("index base value"), max_digits=12, decimal_places=4, null=True,
                                           blank=True, validators=[MinValueValidator(ZERO)])
    index_current_value = models.DecimalField(_("index current value"), max_digits=12, decimal_places=4, null=True,
                                              blank=True, validators=[MinValueValidator(ZERO)])
    plan = models.ForeignKey("catalog.Plan", verbose_name=_("plan"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="contracts")
    sla_policy = models.ForeignKey(SlaPolicy, verbose_name=_("SLA policy"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="contracts",
                                   help_text=_("Leave empty for the default SLA policy."))
    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("business hours"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="contracts",
                                 help_text=_("Leave empty for the SLA policy's calendar."))
    rounding_rule = models.ForeignKey(RoundingRule, verbose_name=_("time rounding rule"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="contracts")
    out_of_scope_rate = _money(_("out-of-scope hourly rate"), null=True)
    # Block hours
    hours_purchased = models.DecimalField(_("hours purchased"), max_digits=8, decimal_places=2, null=True,
                                          blank=True, validators=[MinValueValidator(ZERO)])
    alert_thresholds = models.JSONField(_("alert thresholds (%)"), default=list, blank=True,
                                        help_text=_("Warn when this share of the hours is used, e.g. 75, 90."))
    unused_hours = models.CharField(_("unused hours"), max_length=10, choices=UnusedHours.choices,
                                    default=UnusedHours.EXPIRE)
    overage_rate = _money(_("overage hourly rate"), null=True)
    # Fixed price
    fixed_price_amount = _money(_("fixed price"), null=True)
    notes = models.TextField(_("notes"), blank=True)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("signed by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "number"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.UniqueConstraint(Lower("number"), name="contracts_contract_number_unique_ci",
                                    violation_error_message=_("A contract with this number already exists.")),
            _non_negative("minimum_monthly_commitment", _("Amounts cannot be negative.")),
            _non_negative("out_of_scope_rate", _("Amounts cannot be negative.")),
            _non_negative("overage_rate", _("Amounts cannot be negative.")),
            _non_negative("fixed_price_amount", _("Amounts cannot be negative.")),
            _non_negative("hours_purchased", _("Amounts cannot be negative.")),
            models.CheckConstraint(condition=models.Q(end_date__isnull=True) | models.Q(end_date__gte=models.F(
                "start_date")), name="contracts_contract_dates_ordered",
                violation_error_message=_("The end date cannot be before the start date.")),
        ]
        indexes = [models.Index(fields=["client", "type", "status"], name="contracts_client_type_status")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}".strip()

    @property
    def is_managed(self) -> bool:
        return self.type == ContractType.MANAGED

    def in_force_on(self, day: date) -> bool:
        """Active and within its dates on `day`."""
        return (self.status == ContractStatus.ACTIVE and self.start_date <= day
                and (self.end_date is None or day <= self.end_date))

    def indexation_factor(self) -> Decimal:
        """The multiplier the yearly indexation gives prices (1 when none)."""
        if self.indexation == Indexation.PERCENT and self.indexation_percent is not None:
            return 1 + self.indexation_percent / HUNDRED
        if (self.indexation == Indexation.INDEX and self.index_base_value and self.index_current_value is not None):
            return self.index_current_value / self.index_base_value
        return Decimal(1)


class ContractAddOn(TimeStampedModel):
    """A catalog service sold à la carte on a contract: per unit (follows the counts) or a fixed quantity."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    contract = models.ForeignKey(Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="addons")
    service = models.ForeignKey("catalog.Service", verbose_name=_("service"), on_delete=models.PROTECT,
                                related_name="contract_addons")
    per_unit = models.BooleanField(_("per unit"), default=True,
                                   help_text=_("Counted like the service's unit on the covered devices, users or "
                                               "sites; otherwise the fixed quantity below."))
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2, default=Decimal(1),
                                   validators=[MinValueValidator(ZERO)])
    unit_price = _money(_("unit price"), null=True, help_text=_("Leave empty for the list price."))

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["contract_id", "service__name"]
        verbose_name = _("contract add-on")
        verbose_name_plural = _("contract add-ons")
        constraints = [
            models.UniqueConstraint(fields=["contract", "service"], name="contracts_addon_unique_service",
                                    violation_error_message=_("This contract already has this add-on.")),
            _non_negative("quantity", _("Quantities cannot be negative.")),
            _non_negative("unit_price", _("Amounts cannot be negative.")),
        ]

    def __str__(self) -> str:
        return str(self.service)


class AddendumStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPLIED = "applied", _("Applied")
    CANCELLED = "cancelled", _("Cancelled")


class ContractAddendum(TimeStampedModel):
    """A change to a contract from an effective date: a new plan, add-ons, prices (applied on that date)."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    contract = models.ForeignKey(Contract, verbose_name=_("contract"), on_delete=models.CASCADE,
                                 related_name="addenda")
    effective_date = models.DateField(_("effective date"))
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=AddendumStatus.choices,
                              default=AddendumStatus.PENDING, db_index=True)
    new_plan = models.ForeignKey("catalog.Plan", verbose_name=_("new plan"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    new_minimum_monthly_commitment = _money(_("new minimum monthly commitment"), null=True)
    new_out_of_scope_rate = _money(_("new out-of-scope hourly rate"), null=True)
    new_overage_rate = _money(_("new overage hourly rate"), null=True)
    new_hours_purchased = models.DecimalField(_("new hours purchased"), max_digits=8, decimal_places=2, null=True,
                                              blank=True, validators=[MinValueValidator(ZERO)])
    new_end_date = models.DateField(_("new end date"), null=True, blank=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["contract_id", "effective_date", "pk"]
        verbose_name = _("addendum")
        verbose_name_plural = _("addenda")
        constraints = [
            _non_negative("new_minimum_monthly_commitment", _("Amounts cannot be negative.")),
            _non_negative("new_out_of_scope_rate", _("Amounts cannot be negative.")),
            _non_negative("new_overage_rate", _("Amounts cannot be negative.")),
            _non_negative("new_hours_purchased", _("Amounts cannot be negative.")),
        ]

    def __str__(self) -> str:
        return f"{self.contract.number} · {self.effective_date}"


class AddendumAddOn(models.Model):
    """One add-on an addendum sets (adds or re-prices) or removes."""

    addendum = models.ForeignKey(ContractAddendum, verbose_name=_("addendum"), on_delete=models.CASCADE,
                                 related_name="addon_changes")
    service = models.ForeignKey("catalog.Service", verbose_name=_("service"), on_delete=models.PROTECT,
                                related_name="+")
    remove = models.BooleanField(_("remove"), default=False)
    per_unit = models.BooleanField(_("per unit"), default=True)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2, default=Decimal(1),
                                   validators=[MinValueValidator(ZERO)])
    unit_price = _money(_("unit price"), null=True)

    class Meta:
        ordering = ["addendum_id", "pk"]
        verbose_name = _("add-on change")
        verbose_name_plural = _("add-on changes")
        constraints = [
            models.UniqueConstraint(fields=["addendum", "service"], name="contracts_addendumaddon_unique_service",
                                    violation_error_message=_("This addendum already changes this add-on.")),
            _non_negative("quantity", _("Quantities cannot be negative.")),
            _non_negative("unit_price", _("Amounts cannot be negative.")),
        ]

    def __str__(self) -> str:
        return str(self.service)


class CoverageKind(models.TextChoices):
    DEVICE = "device", _("Device")
    SITE = "site", _("Site")
    USER = "user", _("User")


class ContractCoverage(TimeStampedModel):
    """A device, site or user covered by a managed-services contract from `started_at` until `ended_at`.

    Devices and sites follow the RMM and the client's sites automatically; users (contacts) are added by
    hand. Ended rows stay: billing prorates the units that changed during a month."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    contract = models.ForeignKey(Contract, verbose_name=_("contract"), on_delete=models.CASCADE,
                                 related_name="coverage")
    kind = models.CharField(_("kind"), max_length=10, choices=CoverageKind.choices)
    device = models.ForeignKey("assets.Device", verbose_name=_("device"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="contract_coverage")
    site = models.ForeignKey(Site, verbose_name=_("site"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="contract_coverage")
    contact = models.ForeignKey(Contact, verbose_name=_("user"), null=True, blank=True, on_delete=models.CASCADE,
                                related_name="contract_coverage")
    automatic = models.BooleanField(_("kept in sync"), default=True)
    started_at = models.DateTimeField(_("covered since"))
    ended_at = models.DateTimeField(_("covered until"), null=True, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["contract_id", "kind", "pk"]
        verbose_name = _("coverage")
        verbose_name_plural = _("coverage")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="device", device__isnull=False, site__isnull=True, contact__isnull=True)
                           | models.Q(kind="site", device__isnull=True, site__isnull=False, contact__isnull=True)
                           | models.Q(kind="user", device__isnull=True, site__isnull=True, contact__isnull=False)),
                name="contracts_coverage_one_target",
                violation_error_message=_("A coverage row names exactly one device, site or user.")),
            models.UniqueConstraint(fields=["contract", "device"], condition=models.Q(ended_at__isnull=True,
                                                                                      device__isnull=False),
                                    name="contracts_coverage_device_once",
                                    violation_error_message=_("This device is already covered.")),
            models.UniqueConstraint(fields=["contract", "site"], condition=models.Q(ended_at__isnull=True,
                                                                                    site__isnull=False),
                                    name="contracts_coverage_site_once",
                                    violation_error_message=_("This site is already covered.")),
            models.UniqueConstraint(fields=["contract", "contact"], condition=models.Q(ended_at__isnull=True,
                                                                                       contact__isnull=False),
                                    name="contracts_coverage_user_once",
                                    violation_error_message=_("This user is already covered.")),
        ]
        indexes = [models.Index(fields=["contract", "ended_at"], name="contracts_coverage_current")]

    def __str__(self) -> str:
        return str(self.device or self.site or self.contact)


# --- Projects ---------------------------------------------------------------------------------------------


class ProjectKind(models.TextChoices):
    ONBOARDING = "onboarding", _("Onboarding project")
    OUT_OF_SCOPE = "out_of_scope", _("Out-of-scope project")


class ProjectBilling(models.TextChoices):
    FIXED = "fixed", _("Fixed price")
    HOURLY = "hourly", _("Hourly")


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Project(TimeStampedModel):
    """An onboarding or out-of-scope project for a client: budgeted hours, fixed price or hourly."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="projects")
    contract = models.ForeignKey(Contract, verbose_name=_("contract"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="projects")
    kind = models.CharField(_("kind"), max_length=20, choices=ProjectKind.choices, default=ProjectKind.ONBOARDING)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    billing = models.CharField(_("billing"), max_length=10, choices=ProjectBilling.choices,
                               default=ProjectBilling.FIXED)
    budgeted_hours = models.DecimalField(_("budgeted hours"), max_digits=8, decimal_places=2, default=ZERO,
                                         validators=[MinValueValidator(ZERO)])
    fixed_price = _money(_("fixed price"), null=True)
    hourly_rate = _money(_("hourly rate"), null=True)
    status = models.CharField(_("status"), max_length=12, choices=ProjectStatus.choices,
                              default=ProjectStatus.PLANNED, db_index=True)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        constraints = [
            _non_negative("budgeted_hours", _("Hours cannot be negative.")),
            _non_negative("fixed_price", _("Amounts cannot be negative.")),
            _non_negative("hourly_rate", _("Amounts cannot be negative.")),
        ]

    def __str__(self) -> str:
        return self.name


class ProjectTask(TimeStampedModel):
    """A task of a project."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("title"), max_length=200)
    done = models.BooleanField(_("done"), default=False)
    estimate_hours = models.DecimalField(_("estimate (hours)"), max_digits=8, decimal_places=2, default=ZERO,
                                         validators=[MinValueValidator(ZERO)])

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["project_id", "done", "pk"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        constraints = [_non_negative("estimate_hours", _("Hours cannot be negative."))]

    def __str__(self) -> str:
        return self.title


class MilestoneStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    REACHED = "reached", _("Reached")
    INVOICED = "invoiced", _("Invoiced")


class Milestone(TimeStampedModel):
    """A project milestone with the amount billing invoices once it is reached."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE,
                                related_name="milestones")
    name = models.CharField(_("name"), max_length=200)
    amount = _money(_("amount"), default=ZERO)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=MilestoneStatus.choices,
                              default=MilestoneStatus.PLANNED, db_index=True)
    reached_at = models.DateTimeField(_("reached"), null=True, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["project_id", "due_date", "pk"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        constraints = [_non_negative("amount", _("Amounts cannot be negative."))]

    def __str__(self) -> str:
        return self.name
