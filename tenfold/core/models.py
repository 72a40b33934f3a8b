"""Core records: timestamps base, organization settings, audit log, event outbox, schedules, workers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Base of every Tenfold record: when it was created and last changed."""

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class Organization(TimeStampedModel):
    """The MSP itself: one row per deployment (v1 hosts one MSP)."""

    name = models.CharField(_("name"), max_length=200, default="My MSP")
    currency = models.CharField(_("currency"), max_length=3, default="EUR",
                                help_text=_("ISO 4217 code; one currency per deployment."))
    loaded_labour_cost = models.DecimalField(
        _("loaded labour cost per hour"), max_digits=10, decimal_places=2, default=Decimal("45.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Salary plus overheads per productive hour; used by the cost model."))
    default_language = models.CharField(_("default language"), max_length=8, default="en",
                                        choices=settings.LANGUAGES)
    default_time_zone = models.CharField(_("default time zone"), max_length=64, default="Europe/Paris")

    class Meta:
        verbose_name = _("organization")

    def __str__(self) -> str:
        return self.name


class TaxRate(TimeStampedModel):
    """A tax rate the MSP invoices with (e.g. VAT 20 %)."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    rate = models.DecimalField(_("rate (%)"), max_digits=6, decimal_places=3,
                               validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))])
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tax rate")
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                    name="core_taxrate_one_default"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.rate} %)"


class ActorKind(models.TextChoices):
    USER = "user", _("User")
    TOKEN = "token", _("API token")
    AGENT = "agent", _("Agent")
    SYSTEM = "system", _("System")


class AuditEntry(models.Model):
    """One change or sensitive read. Append-only; sealed later into a hash chain (see core/audit.py).

    The chained digest covers the fixed fields and a hash of the personal fields, so the personal
    fields (who by name, from where, before/after values) can be erased and the chain still verifies.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices, default=ActorKind.USER)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    client_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # Personal, erasable part.
    actor_label = models.CharField(max_length=254, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    personal_hash = models.CharField(max_length=64)
    erased_at = models.DateTimeField(null=True, blank=True)
    # Chain, filled by the sealing task.
    digest = models.CharField(max_length=64)
    chain_index = models.BigIntegerField(null=True, blank=True, unique=True)
    chain_hash = models.CharField(max_length=64, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["sealed_at", "id"], name="core_audit_unsealed")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"


class AuditSeal(models.Model):
    """The head of the audit hash chain (one row, locked while sealing)."""

    last_index = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"audit chain head at {self.last_index}"


class OutboxEvent(models.Model):
    """A domain event written in the writer's transaction; delivered by the worker at least once."""

    name = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField(default=dict)
    client_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["delivered_at", "available_at"], name="core_outbox_pending")]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class EventDelivery(models.Model):
    """Proof that one handler applied one event: written in the handler's transaction, so a
    redelivered event is applied once."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    handler = models.CharField(max_length=200)
    delivered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "handler"], name="core_delivery_once")]

    def __str__(self) -> str:
        return f"{self.handler} applied event #{self.event_id}"


class Schedule(TimeStampedModel):
    """A cron-style schedule that enqueues a task; due rows are claimed by one worker only."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    task_path = models.CharField(_("task"), max_length=200)
    cron = models.CharField(_("cron expression"), max_length=100)
    kwargs = models.JSONField(_("arguments"), default=dict, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    builtin = models.BooleanField(_("built in"), default=False)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True, db_index=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_worker = models.CharField(_("last worker"), max_length=100, blank=True)
    run_count = models.PositiveIntegerField(_("runs"), default=0)

    class Meta:
        ordering = ["name"]
        verbose_name = _("schedule")

    def __str__(self) -> str:
        return self.name


class WorkerHeartbeat(models.Model):
    """A running worker process and when it last showed signs of life."""

    worker_id = models.CharField(max_length=100, unique=True)
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    backend = models.CharField(max_length=100)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid}"


def as_jsonable(value: Any) -> Any:
    """A value as it goes into JSON columns (Decimals and dates as strings)."""
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value
