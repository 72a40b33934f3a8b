"""People: employees and their teams, compensation plans built from rules, peer reviews, training, and the
quarterly statements that explain every line of variable pay.

Employee data is not client-owned: who sees it follows the "reports to" line (`Employee.manager`) and the
roles of `core.roles.PEOPLE_SEE_ALL`. Deal splits are client-owned (they hang off a client's deal)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenfold.core.models import TimeStampedModel
from tenfold.core.tenancy import ClientOwnedQuerySet

ZERO = Decimal("0.00")
MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}
SCORE = [MinValueValidator(1), MaxValueValidator(5)]


class PlanRole(models.TextChoices):
    """The role a compensation plan is written for (not the access role of the user)."""

    TECHNICIAN = "technician", _("Technician")
    SALESPERSON = "salesperson", _("Salesperson")
    SERVICE_MANAGER = "service_manager", _("Service manager")
    OTHER = "other", _("Other")


class PeopleSettings(models.Model):
    """MSP-wide settings of the people screens (one row)."""

    min_reviewers = models.PositiveSmallIntegerField(
        _("minimum number of reviewers"), default=3, validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("A peer-review score is shown only when at least this many colleagues reviewed the person."))
    hours_per_day = models.DecimalField(
        _("working hours per day"), max_digits=4, decimal_places=2, default=Decimal("7.00"),
        validators=[MinValueValidator(Decimal("0.50")), MaxValueValidator(Decimal("24.00"))],
        help_text=_("Available hours of a working day, for utilisation."))

    class Meta:
        verbose_name = _("people settings")
        verbose_name_plural = _("people settings")

    def __str__(self) -> str:
        return str(_("People settings"))


class Team(TimeStampedModel):
    """A group of employees (the service desk, sales)."""

    name = models.CharField(_("name"), max_length=100, unique=True,
                            error_messages={"unique": _("A team with this name already exists.")})

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Employee(TimeStampedModel):
    """A staff user as an employee: team, who they report to, base pay, and the plan role that picks their
    compensation plan."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                                related_name="employee")
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="members")
    manager = models.ForeignKey("self", verbose_name=_("reports to"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="reports")
    plan_role = models.CharField(_("plan role"), max_length=20, choices=PlanRole.choices,
                                 default=PlanRole.TECHNICIAN)
    base_pay = models.DecimalField(_("yearly base pay"), default=ZERO, validators=[MinValueValidator(ZERO)],
                                   **MONEY)
    start_date = models.DateField(_("start date"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["user__first_name", "user__last_name", "pk"]
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        constraints = [
            models.CheckConstraint(condition=models.Q(base_pay__gte=0), name="people_employee_base_pay_non_negative",
                                   violation_error_message=_("The base pay cannot be negative.")),
            models.CheckConstraint(condition=~models.Q(manager=models.F("pk")), name="people_employee_not_own_manager",
                                   violation_error_message=_("An employee cannot report to themselves.")),
        ]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.email


class Measure(models.TextChoices):
    """What a rule is computed from (docs/people.md defines each)."""

    RECURRING_VALUE = "recurring_value", _("Recurring value of won deals")
    CSAT = "csat", _("Customer satisfaction (CSAT)")
    SLA = "sla", _("SLA attainment (%)")
    DEVICES_MANAGED = "devices_managed", _("Assigned clients' devices managed (%)")
    BACKED_UP = "backed_up", _("Assigned clients' environments backed up (%)")
    UPSELL_LEADS_WON = "upsell_leads_won", _("Upsell leads won")
    PEER_REVIEW = "peer_review", _("Peer-review score")
    TRAINING_HOURS = "training_hours", _("Training hours")


class RuleKind(models.TextChoices):
    COMMISSION = "commission", _("Commission (percentage of recurring value)")
    THRESHOLD = "threshold", _("Bonus by thresholds (steps)")
    LINEAR = "linear", _("Bonus on a linear scale")


class Basis(models.TextChoices):
    MONTHLY = "monthly", _("Monthly recurring value")
    FIRST_YEAR = "first_year", _("First-year value (12 months)")


class AppliesTo(models.TextChoices):
    ALL = "all", _("All services sold")
    NEW = "new", _("New services only")
    EXISTING = "existing", _("Renewals and existing services only")


class CompensationPlan(TimeStampedModel):
    """The rules that make the variable pay of one plan role, in force from a date (to a date)."""

    name = models.CharField(_("name"), max_length=200)
    plan_role = models.CharField(_("plan role"), max_length=20, choices=PlanRole.choices)
    effective_from = models.DateField(_("in force from"))
    effective_to = models.DateField(_("in force until"), null=True, blank=True,
                                    help_text=_("Last day in force; empty: until further notice."))
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["plan_role", "-effective_from", "pk"]
        verbose_name = _("compensation plan")
        verbose_name_plural = _("compensation plans")
        constraints = [models.CheckConstraint(
            condition=models.Q(effective_to__isnull=True) | models.Q(effective_to__gte=models.F("effective_from")),
            name="people_plan_dates_ordered",
            violation_error_message=_("The end date cannot be before the start date."))]

    def __str__(self) -> str:
        return self.name


class PlanRule(TimeStampedModel):
    """One line of a plan: a commission on won recurring value, or a bonus by steps or on a linear scale of a
    measure; optionally capped and floored."""

    plan = models.ForeignKey(CompensationPlan, verbose_name=_("plan"), on_delete=models.CASCADE,
                             related_name="rules")
    label = models.CharField(_("label"), max_length=200)
    kind = models.CharField(_("type"), max_length=12, choices=RuleKind.choices)
    measure = models.CharField(_("measure"), max_length=20, choices=Measure.choices)
    rate_pct = models.DecimalField(_("rate (%)"), max_digits=7, decimal_places=3, null=True, blank=True)
    basis = models.CharField(_("basis"), max_length=12, choices=Basis.choices, default=Basis.MONTHLY)
    applies_to = models.CharField(_("applies to"), max_length=10, choices=AppliesTo.choices, default=AppliesTo.ALL)
    service = models.ForeignKey("catalog.Service", verbose_name=_("service"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    category = models.CharField(_("service category"), max_length=20, blank=True)
    steps = models.JSONField(_("steps"), default=list, blank=True,
                             help_text=_("Thresholds and amounts: from this value, this amount."))
    linear_start = models.DecimalField(_("scale starts at"), max_digits=12, decimal_places=2, null=True, blank=True)
    linear_end = models.DecimalField(_("scale ends at"), max_digits=12, decimal_places=2, null=True, blank=True)
    linear_amount = models.DecimalField(_("amount at the end of the scale"), null=True, blank=True, **MONEY)
    cap = models.DecimalField(_("cap"), null=True, blank=True, **MONEY)
    floor = models.DecimalField(_("floor"), null=True, blank=True, **MONEY)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["plan", "position", "pk"]
        verbose_name = _("plan rule")
        verbose_name_plural = _("plan rules")

    def __str__(self) -> str:
        return self.label


class CycleFrequency(models.TextChoices):
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


class CycleStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class ReviewCycle(TimeStampedModel):
    """A round of peer reviews over a quarter or a year."""

    name = models.CharField(_("name"), max_length=200)
    frequency = models.CharField(_("frequency"), max_length=10, choices=CycleFrequency.choices,
                                 default=CycleFrequency.QUARTERLY)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    status = models.CharField(_("status"), max_length=10, choices=CycleStatus.choices, default=CycleStatus.OPEN)

    class Meta:
        ordering = ["-start_date", "pk"]
        verbose_name = _("review cycle")
        verbose_name_plural = _("review cycles")
        constraints = [models.CheckConstraint(
            condition=models.Q(end_date__gte=models.F("start_date")), name="people_cycle_dates_ordered",
            violation_error_message=_("The end date cannot be before the start date."))]

    def __str__(self) -> str:
        return self.name


CRITERIA: tuple[tuple[str, Any], ...] = (
    ("sharing", _("Shares information")),
    ("stepping_in", _("Steps in for colleagues")),
    ("communication", _("Communication")),
    ("reliability", _("Reliability")),
)


class PeerReview(TimeStampedModel):
    """One employee's ratings (1–5) of a peer on the teamwork criteria. Never shown with its author to the
    person reviewed: they see aggregates per criterion only."""

    cycle = models.ForeignKey(ReviewCycle, verbose_name=_("cycle"), on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(Employee, verbose_name=_("reviewer"), on_delete=models.CASCADE,
                                 related_name="reviews_written")
    reviewee = models.ForeignKey(Employee, verbose_name=_("reviewed"), on_delete=models.CASCADE,
                                 related_name="reviews_received")
    sharing = models.PositiveSmallIntegerField(_("shares information"), validators=SCORE)
    stepping_in = models.PositiveSmallIntegerField(_("steps in for colleagues"), validators=SCORE)
    communication = models.PositiveSmallIntegerField(_("communication"), validators=SCORE)
    reliability = models.PositiveSmallIntegerField(_("reliability"), validators=SCORE)
    comment = models.TextField(_("comment"), blank=True, max_length=4000)

    class Meta:
        ordering = ["cycle", "pk"]
        verbose_name = _("peer review")
        verbose_name_plural = _("peer reviews")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "reviewer", "reviewee"], name="people_review_once_per_cycle",
                                    violation_error_message=_("You already reviewed this colleague in this cycle.")),
            models.CheckConstraint(condition=~models.Q(reviewer=models.F("reviewee")), name="people_review_not_self",
                                   violation_error_message=_("You cannot review yourself.")),
            models.CheckConstraint(
                condition=models.Q(sharing__gte=1, sharing__lte=5, stepping_in__gte=1, stepping_in__lte=5,
                                   communication__gte=1, communication__lte=5, reliability__gte=1,
                                   reliability__lte=5),
                name="people_review_scores_1_5", violation_error_message=_("Each score is between 1 and 5.")),
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id}:{self.reviewee_id}"


class TrainingKind(models.TextChoices):
    TRAINING = "training", _("Training")
    CERTIFICATION = "certification", _("Certification")


class Training(TimeStampedModel):
    """A training followed or a certification obtained, with its hours."""

    employee = models.ForeignKey(Employee, verbose_name=_("employee"), on_delete=models.CASCADE,
                                 related_name="trainings")
    kind = models.CharField(_("kind"), max_length=15, choices=TrainingKind.choices, default=TrainingKind.TRAINING)
    title = models.CharField(_("title"), max_length=200)
    provider = models.CharField(_("provider"), max_length=200, blank=True)
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2,
                                validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("2000"))])
    date = models.DateField(_("date"))
    expires_on = models.DateField(_("expires"), null=True, blank=True)

    class Meta:
        ordering = ["-date", "pk"]
        verbose_name = _("training")
        verbose_name_plural = _("trainings")
        constraints = [models.CheckConstraint(
            condition=models.Q(hours__gte=0), name="people_training_hours_non_negative",
            violation_error_message=_("Hours cannot be negative."))]

    def __str__(self) -> str:
        return self.title


class RoleTarget(TimeStampedModel):
    """Personal-development target of a plan role: training hours per year and the number of valid (not expired)
    certifications each person of the role should hold."""

    plan_role = models.CharField(_("plan role"), max_length=20, choices=PlanRole.choices, unique=True,
                                 error_messages={"unique": _("This plan role already has a target.")})
    training_hours_per_year = models.DecimalField(_("training hours per year"), max_digits=6, decimal_places=2,
                                                  validators=[MinValueValidator(ZERO),
                                                              MaxValueValidator(Decimal("2000"))])
    certifications_required = models.PositiveSmallIntegerField(
        _("valid certifications to hold"), default=0, validators=[MaxValueValidator(50)],
        help_text=_("Certifications not yet expired that each person of this role should hold; 0: none."))

    class Meta:
        ordering = ["plan_role"]
        verbose_name = _("training target")
        verbose_name_plural = _("training targets")

    def __str__(self) -> str:
        return self.plan_role


class StatementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEWED = "reviewed", _("Reviewed")
    LOCKED = "locked", _("Locked")


class Statement(TimeStampedModel):
    """An employee's variable pay for one quarter, line by line. Locked, it never changes: every line stores
    its own values."""

    employee = models.ForeignKey(Employee, verbose_name=_("employee"), on_delete=models.PROTECT,
                                 related_name="statements")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    status = models.CharField(_("status"), max_length=10, choices=StatementStatus.choices,
                              default=StatementStatus.DRAFT)
    total = models.DecimalField(_("variable pay"), default=ZERO, **MONEY)
    computed_at = models.DateTimeField(_("computed"))
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    locked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("locked by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    locked_at = models.DateTimeField(_("locked"), null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "employee", "pk"]
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        constraints = [models.UniqueConstraint(
            fields=["employee", "period_start"], name="people_statement_one_per_quarter",
            violation_error_message=_("This employee already has a statement for this quarter."))]

    def __str__(self) -> str:
        return f"{self.employee} {self.period_start:%Y-%m}"


class StatementLine(models.Model):
    """One line of a statement, with the measure's value, the rule applied and the records behind it, as
    computed (stored, not recomputed)."""

    statement = models.ForeignKey(Statement, verbose_name=_("statement"), on_delete=models.CASCADE,
                                  related_name="lines")
    position = models.PositiveIntegerField(_("position"), default=0)
    plan = models.ForeignKey(CompensationPlan, verbose_name=_("plan"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="statement_lines",
                             help_text=_("The plan the line was computed with: a plan behind a statement cannot be "
                                         "deleted, only ended."))
    plan_name = models.CharField(_("plan"), max_length=200)
    rule_label = models.CharField(_("rule"), max_length=200)
    kind = models.CharField(_("type"), max_length=12, choices=RuleKind.choices)
    measure = models.CharField(_("measure"), max_length=20, choices=Measure.choices)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2, null=True, blank=True)
    value_text = models.CharField(_("value"), max_length=300, blank=True)
    rule_text = models.CharField(_("rule applied"), max_length=500)
    segment_start = models.DateField(_("from"))
    segment_end = models.DateField(_("to"))
    amount = models.DecimalField(_("amount"), **MONEY)
    records = models.JSONField(_("records"), default=list, blank=True)

    class Meta:
        ordering = ["statement", "position", "pk"]
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")

    def __str__(self) -> str:
        return self.rule_label


class DealSplit(TimeStampedModel):
    """A share of a won deal's commission credited to an employee; without splits the deal's owner has it all."""

    client = models.ForeignKey("clients.Client", verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    deal = models.ForeignKey("sales.Deal", verbose_name=_("deal"), on_delete=models.CASCADE, related_name="+")
    employee = models.ForeignKey(Employee, verbose_name=_("employee"), on_delete=models.CASCADE,
                                 related_name="deal_splits")
    share_pct = models.DecimalField(_("share (%)"), max_digits=5, decimal_places=2,
                                    validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))])

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["deal", "-share_pct", "pk"]
        verbose_name = _("deal split")
        verbose_name_plural = _("deal splits")
        constraints = [
            models.UniqueConstraint(fields=["deal", "employee"], name="people_split_once_per_deal",
                                    violation_error_message=_("This employee already has a share of this deal.")),
            models.CheckConstraint(condition=models.Q(share_pct__gt=0, share_pct__lte=100),
                                   name="people_split_share_range",
                                   violation_error_message=_("A share must be above 0 and at most 100 percent.")),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}:{self.employee_id}"
