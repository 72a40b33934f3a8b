"""The service catalog: services priced per unit, offerings with Good / Better / Best plans, plan items.

Everything here is MSP-level (no client): it is what the MSP sells, not what a client bought. Every
staff role with the `catalog` capability sees all of it; the role decides what each may do.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from tenfold.core.models import TimeStampedModel
from tenfold.core.tiers import Tier

ZERO = Decimal("0")


class MspOwnedQuerySet(models.QuerySet[Any]):
    """MSP-level rows: visible to any signed-in user (the role check then decides); none to anonymous."""

    def visible_to(self, actor: Any) -> MspOwnedQuerySet:
        if actor is None or not getattr(actor, "is_authenticated", False):
            return self.none()
        return self


class UnitKind(models.TextChoices):
    """What a service is counted by on a contract."""

    WORKSTATION = "workstation", _("per workstation")
    SERVER = "server", _("per server")
    NETWORK_DEVICE = "network_device", _("per network device")
    MOBILE = "mobile", _("per mobile device")
    USER = "user", _("per user")
    SITE = "site", _("per site")
    FLAT = "flat", _("flat")


class ServiceCategory(models.TextChoices):
    MANAGEMENT = "management", _("Monitoring and management")
    SECURITY = "security", _("Security")
    BACKUP = "backup", _("Backup and continuity")
    SUPPORT = "support", _("Support")
    CLOUD = "cloud", _("Cloud and Microsoft 365")
    NETWORK = "network", _("Network")
    OTHER = "other", _("Other")


def _non_negative(field: str, message: Any) -> models.CheckConstraint:
    return models.CheckConstraint(condition=models.Q(**{f"{field}__gte": 0}),
                                  name=f"catalog_%(class)s_{field}_non_negative",
                                  violation_error_message=message)


class Service(TimeStampedModel):
    """One thing the MSP sells, priced per unit per month, with what it costs to deliver."""

    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(_("code"), max_length=60,
                            help_text=_("Short unique identifier, e.g. ws-monitoring."))
    category = models.CharField(_("category"), max_length=20, choices=ServiceCategory.choices,
                                default=ServiceCategory.MANAGEMENT, db_index=True)
    description = models.TextField(_("description"), blank=True)
    unit = models.CharField(_("unit"), max_length=20, choices=UnitKind.choices, default=UnitKind.WORKSTATION)
    list_price = models.DecimalField(_("list price"), max_digits=12, decimal_places=2,
                                     validators=[MinValueValidator(ZERO)],
                                     help_text=_("Price per unit per month, before tax."))
    unit_cost = models.DecimalField(_("tool cost per unit"), max_digits=12, decimal_places=2, default=ZERO,
                                    validators=[MinValueValidator(ZERO)],
                                    help_text=_("Tools and licences per unit per month."))
    labour_minutes = models.DecimalField(_("labour minutes per unit"), max_digits=8, decimal_places=2,
                                         default=ZERO, validators=[MinValueValidator(ZERO)],
                                         help_text=_("Expected minutes of work per unit per month."))
    includes_monitoring = models.BooleanField(_("monitoring"), default=False)
    includes_antivirus = models.BooleanField(_("antivirus"), default=False)
    includes_patching = models.BooleanField(_("patching"), default=False)
    includes_backup = models.BooleanField(_("backup"), default=False)
    is_addon = models.BooleanField(_("add-on"), default=False,
                                   help_text=_("Sold à la carte on top of any plan."))
    active = models.BooleanField(_("active"), default=True)

    objects = MspOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["category", "name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.UniqueConstraint(Lower("code"), name="catalog_service_code_unique_ci",
                                    violation_error_message=_("A service with this code already exists.")),
            _non_negative("list_price", _("The list price cannot be negative.")),
            _non_negative("unit_cost", _("The tool cost cannot be negative.")),
            _non_negative("labour_minutes", _("The labour minutes cannot be negative.")),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def policies(self) -> list[str]:
        """The policy areas this service implies (monitoring, antivirus, patching, backup)."""
        return [name for name in ("monitoring", "antivirus", "patching", "backup")
                if getattr(self, f"includes_{name}")]


class Offering(TimeStampedModel):
    """A family of plans (e.g. "Managed workplace") holding up to one plan per tier."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = MspOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("offering")
        verbose_name_plural = _("offerings")
        constraints = [models.UniqueConstraint(
            Lower("name"), name="catalog_offering_name_unique_ci",
            violation_error_message=_("An offering with this name already exists."))]

    def __str__(self) -> str:
        return self.name


class Plan(TimeStampedModel):
    """One tier of an offering; it includes the items of the lower tiers of the same offering."""

    offering = models.ForeignKey(Offering, verbose_name=_("offering"), on_delete=models.CASCADE,
                                 related_name="plans")
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = MspOwnedQuerySet.as_manager()

    class Meta:
        # "good" > "better" > "best" alphabetically, so descending tier is Good, Better, Best.
        ordering = ["offering_id", "-tier"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        constraints = [models.UniqueConstraint(
            fields=["offering", "tier"], name="catalog_plan_one_per_tier",
            violation_error_message=_("This offering already has a plan for this tier."))]

    def __str__(self) -> str:
        return self.name

    @property
    def rank(self) -> int:
        """0 for Good, 1 for Better, 2 for Best."""
        return Tier.rank(self.tier)


class PlanItem(TimeStampedModel):
    """A service included in a plan, at the plan's unit price."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="items")
    service = models.ForeignKey(Service, verbose_name=_("service"), on_delete=models.PROTECT,
                                related_name="plan_items")
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2,
                                     validators=[MinValueValidator(ZERO)],
                                     help_text=_("Price per unit per month in this plan."))

    objects = MspOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["plan_id", "service__name"]
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")
        constraints = [
            models.UniqueConstraint(fields=["plan", "service"], name="catalog_planitem_unique_service",
                                    violation_error_message=_("This plan already includes this service.")),
            _non_negative("unit_price", _("The unit price cannot be negative.")),
        ]

    def __str__(self) -> str:
        return f"{self.plan} · {self.service}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The unit price defaults to the service's list price at the time the item is created.
        if self.unit_price is None and self.service_id is not None:
            self.unit_price = self.service.list_price
        super().save(*args, **kwargs)
