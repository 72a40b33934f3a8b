"""Clients (the unit of isolation), their sites and contacts."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from tenfold.core.models import TimeStampedModel
from tenfold.core.tenancy import ClientOwnedQuerySet


class ClientStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    FORMER = "former", _("Former")


def validate_time_zone(value: str) -> None:
    """Accept only IANA time zone names (Europe/Paris)."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone (e.g. Europe/Paris)."),
                              params={"value": value}, code="invalid_time_zone")


class Client(TimeStampedModel):
    """A company the MSP serves; every client-owned record points to one."""

    tenant_lookup = "pk"

    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=ClientStatus.choices,
                              default=ClientStatus.PROSPECT, db_index=True)
    account_manager = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("account manager"),
                                        null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="managed_clients")
    website = models.URLField(_("website"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [models.UniqueConstraint(
            Lower("name"), name="clients_client_name_unique_ci",
            violation_error_message=_("A client with this name already exists."))]

    def __str__(self) -> str:
        return self.name


class Site(TimeStampedModel):
    """A location of a client; its time zone drives business hours and schedules there."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, default="FR",
                               help_text=_("Two-letter ISO code, e.g. FR."))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris",
                                 validators=[validate_time_zone])

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["client_id", "name"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [models.UniqueConstraint(
            "client", Lower("name"), name="clients_site_name_unique_ci",
            violation_error_message=_("This client already has a site with this name."))]

    def __str__(self) -> str:
        return self.name


class Contact(TimeStampedModel):
    """A person at a client: a decision maker, a billing contact, a requester."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE,
                               related_name="contacts")
    site = models.ForeignKey(Site, verbose_name=_("site"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="contacts")
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    job_title = models.CharField(_("role"), max_length=120, blank=True)
    is_decision_maker = models.BooleanField(_("decision maker"), default=False)
    is_billing_contact = models.BooleanField(_("billing contact"), default=False)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [models.UniqueConstraint(
            "client", Lower("email"), condition=~models.Q(email=""), name="clients_contact_email_unique_ci",
            violation_error_message=_("This client already has a contact with this email."))]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def clean(self) -> None:
        if self.site is not None and self.client_id and self.site.client_id != self.client_id:
            raise ValidationError({"site": _("This site belongs to another client.")})
