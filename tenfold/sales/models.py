"""Sales: leads (often a technician's, from a ticket), deals owned by a salesperson, and quotes built from the
catalog's Good / Better / Best plans that become a contract when accepted. All client-owned."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from tenfold.clients.models import Client, Contact
from tenfold.core.models import TimeStampedModel
from tenfold.core.tenancy import ClientOwnedQuerySet
from tenfold.core.tiers import Tier

ZERO = Decimal("0")
MAX_UNITS = 100000


def _non_negative(field: str, message: Any) -> models.CheckConstraint:
    return models.CheckConstraint(condition=models.Q(**{f"{field}__gte": 0}) | models.Q(**{f"{field}__isnull": True}),
                                  name=f"sales_%(class)s_{field}_non_negative", violation_error_message=message)


def _money(verbose: Any, *, null: bool = False, default: Decimal | None = None, help_text: Any = "") -> Any:
    kwargs: dict[str, Any] = {"max_digits": 12, "decimal_places": 2, "validators": [MinValueValidator(ZERO)],
                              "help_text": help_text}
    if null:
        kwargs.update(null=True, blank=True)
    if default is not None:
        kwargs["default"] = default
    return models.DecimalField(verbose, **kwargs)


# --- Leads ---------------------------------------------------------------------------------------------------


class LeadStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CONVERTED = "converted", _("Converted")
    DISMISSED = "dismissed", _("Dismissed")


class LeadSource(models.TextChoices):
    TICKET = "ticket", _("Technician lead (ticket)")
    MANUAL = "manual", _("Entered by hand")


class Lead(TimeStampedModel):
    """A possible sale spotted at a client: by a technician on a ticket, or entered by hand."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="leads")
    title = models.CharField(_("title"), max_length=200)
    note = models.TextField(_("note"), blank=True)
    source = models.CharField(_("source"), max_length=10, choices=LeadSource.choices, default=LeadSource.MANUAL)
    ticket = models.ForeignKey("servicedesk.Ticket", verbose_name=_("ticket"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="leads")
    technician = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("credited technician"), null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="sales_leads")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=LeadStatus.choices, default=LeadStatus.OPEN,
                              db_index=True)
    dismiss_reason = models.TextField(_("reason for dismissing"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [models.UniqueConstraint(
            fields=["ticket"], condition=models.Q(ticket__isnull=False), name="sales_lead_one_per_ticket",
            violation_error_message=_("This ticket already has a lead."))]

    def __str__(self) -> str:
        return self.title


# --- Deals ---------------------------------------------------------------------------------------------------


class DealStage(models.TextChoices):
    QUALIFICATION = "qualification", _("Qualification")
    PROPOSAL = "proposal", _("Proposal")
    NEGOTIATION = "negotiation", _("Negotiation")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


OPEN_STAGES = (DealStage.QUALIFICATION, DealStage.PROPOSAL, DealStage.NEGOTIATION)
CLOSED_STAGES = (DealStage.WON, DealStage.LOST)


class DealSource(models.TextChoices):
    TECHNICIAN_LEAD = "technician_lead", _("Technician lead")
    EXISTING_CLIENT = "existing_client", _("Existing client (upsell)")
    REFERRAL = "referral", _("Referral")
    WEBSITE = "website", _("Website")
    QBR = "qbr", _("Quarterly business review")
    OTHER = "other", _("Other")


class Deal(TimeStampedModel):
    """An opportunity at a client, owned by a salesperson, moving through the stages to won or lost."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="deals")
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
                              related_name="owned_deals")
    stage = models.CharField(_("stage"), max_length=15, choices=DealStage.choices,
                             default=DealStage.QUALIFICATION, db_index=True)
    monthly_value = _money(_("expected monthly value"), default=ZERO,
                           help_text=_("Recurring revenue per month, before tax."))
    one_off_value = _money(_("expected one-off value"), default=ZERO,
                           help_text=_("Projects and set-up fees, before tax."))
    close_date = models.DateField(_("expected close date"))
    source = models.CharField(_("source"), max_length=20, choices=DealSource.choices, default=DealSource.OTHER)
    lead = models.OneToOneField(Lead, verbose_name=_("lead"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="deal")
    credited_technician = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("credited technician"),
                                            null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    outcome_reason = models.TextField(_("reason won or lost"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    contract = models.ForeignKey("contracts.Contract", verbose_name=_("contract"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="deals")
    notes = models.TextField(_("notes"), blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["close_date", "pk"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        constraints = [
            _non_negative("monthly_value", _("Amounts cannot be negative.")),
            _non_negative("one_off_value", _("Amounts cannot be negative.")),
        ]
        indexes = [models.Index(fields=["client", "stage"], name="sales_deal_client_stage")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES


# --- Quotes --------------------------------------------------------------------------------------------------


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")


# What the client's portal shows: a draft is the MSP's work in progress.
CLIENT_VISIBLE_STATUSES = (QuoteStatus.SENT, QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, QuoteStatus.EXPIRED)

UNIT_FIELDS = ("workstations", "servers", "network_devices", "mobiles", "users", "sites")


def _units(verbose: Any) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(verbose, default=0, validators=[MaxValueValidator(MAX_UNITS)])


class Quote(TimeStampedModel):
    """A priced offer to a client for one deal: the three tiers of an offering side by side at the client's unit
    counts, plus add-ons and one-off items; accepted in one tier, it becomes the client's contract."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="quotes")
    deal = models.ForeignKey(Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="quotes")
    number = models.CharField(_("number"), max_length=40, editable=False)
    contact = models.ForeignKey(Contact, verbose_name=_("for the attention of"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="quotes")
    offering = models.ForeignKey("catalog.Offering", verbose_name=_("offering"), on_delete=models.PROTECT,
                                 related_name="quotes")
    status = models.CharField(_("status"), max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT,
                              db_index=True)
    valid_until = models.DateField(_("valid until"))
    start_date = models.DateField(_("contract start date"))
    introduction = models.TextField(_("introduction"), blank=True,
                                    help_text=_("Shown to the client at the top of the quote."))
    workstations = _units(_("workstations"))
    servers = _units(_("servers"))
    network_devices = _units(_("network devices"))
    mobiles = _units(_("mobile devices"))
    users = _units(_("users"))
    sites = _units(_("sites"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("sent by"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("accepted by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    accepted_tier = models.CharField(_("accepted tier"), max_length=10, choices=Tier.choices, blank=True)
    accepted_plan = models.ForeignKey("catalog.Plan", verbose_name=_("accepted plan"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey("contracts.Contract", verbose_name=_("contract"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="quotes")
    declined_at = models.DateTimeField(_("declined"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [models.UniqueConstraint(Lower("number"), name="sales_quote_number_unique_ci",
                                               violation_error_message=_("A quote with this number already exists."))]

    def __str__(self) -> str:
        return self.number

    @property
    def is_draft(self) -> bool:
        return self.status == QuoteStatus.DRAFT


class QuoteAddOn(TimeStampedModel):
    """An à la carte catalog service offered on a quote, whichever tier is chosen."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    quote = models.ForeignKey(Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="addons")
    service = models.ForeignKey("catalog.Service", verbose_name=_("service"), on_delete=models.PROTECT,
                                related_name="+")
    per_unit = models.BooleanField(_("per unit"), default=True,
                                   help_text=_("Counted like the service's unit; otherwise the fixed quantity."))
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2, default=Decimal(1),
                                   validators=[MinValueValidator(ZERO)])
    unit_price = _money(_("unit price"), null=True, help_text=_("Leave empty for the list price."))

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["quote_id", "service__name", "pk"]
        verbose_name = _("quote add-on")
        verbose_name_plural = _("quote add-ons")
        constraints = [
            models.UniqueConstraint(fields=["quote", "service"], name="sales_quoteaddon_unique_service",
                                    violation_error_message=_("This quote already has this add-on.")),
            _non_negative("quantity", _("Quantities cannot be negative.")),
            _non_negative("unit_price", _("Amounts cannot be negative.")),
        ]

    def __str__(self) -> str:
        return str(self.service)


class QuoteItem(TimeStampedModel):
    """A one-off line of a quote (an onboarding project, hardware, set-up), billed once on acceptance."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    quote = models.ForeignKey(Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="items")
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2, default=Decimal(1),
                                   validators=[MinValueValidator(ZERO)])
    unit_price = _money(_("unit price"))

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["quote_id", "pk"]
        verbose_name = _("one-off item")
        verbose_name_plural = _("one-off items")
        constraints = [
            _non_negative("quantity", _("Quantities cannot be negative.")),
            _non_negative("unit_price", _("Amounts cannot be negative.")),
        ]

    def __str__(self) -> str:
        return self.description
