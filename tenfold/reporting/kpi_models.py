"""Scheduled delivery of reports by e-mail: which report, for one client or all, to whom, how often."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenfold.clients.models import Client
from tenfold.core.models import TimeStampedModel
from tenfold.knowledge.models import StaffOrClientQuerySet

__all__ = ["Cadence", "ReportFormat", "ReportKind", "ReportSubscription"]


class ReportKind(models.TextChoices):
    INVENTORY = "inventory", _("Inventory report")
    PATCH = "patch", _("Patch report")


class ReportFormat(models.TextChoices):
    PDF = "pdf", _("PDF")
    CSV = "csv", _("CSV")


class Cadence(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")


class SubscriptionQuerySet(StaffOrClientQuerySet):
    """One client's reports follow the tenancy scope; an all-clients report is seen only by staff who see every
    client (it reports on clients a restricted user does not see, and only such staff may schedule or change
    one)."""

    def visible_to(self, actor: Any) -> Any:
        visible = super().visible_to(actor)
        if actor is not None and getattr(actor, "is_authenticated", False) and actor.client_scope() is not None:
            visible = visible.filter(client__isnull=False)
        return visible


class ReportSubscription(TimeStampedModel):
    """A report sent by e-mail on a cadence, as a PDF or CSV, for one client (to its contacts or staff) or for
    every client (to staff only). MSP-level when it covers all clients; a disabled one is kept but not sent."""

    report = models.CharField(_("report"), max_length=20, choices=ReportKind.choices, default=ReportKind.INVENTORY)
    client = models.ForeignKey(Client, verbose_name=_("client"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="report_subscriptions", help_text=_("Leave empty for all clients."))
    recipients = models.TextField(_("recipients"), help_text=_("E-mail addresses, one per line."))
    cadence = models.CharField(_("cadence"), max_length=10, choices=Cadence.choices, default=Cadence.MONTHLY)
    format = models.CharField(_("format"), max_length=10, choices=ReportFormat.choices, default=ReportFormat.PDF)
    enabled = models.BooleanField(_("enabled"), default=True, help_text=_("A disabled report is not sent."))
    next_send_on = models.DateField(_("next delivery"))
    last_sent_at = models.DateTimeField(_("last sent"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["next_send_on", "pk"]
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")

    def __str__(self) -> str:
        return f"{self.get_report_display()} — {self.client or _('All clients')}"

    def recipient_list(self) -> list[str]:
        """The addresses, one per line as stored."""
        return [line.strip() for line in self.recipients.replace(",", "\n").splitlines() if line.strip()]
