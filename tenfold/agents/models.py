"""Enrollment tokens, agent credentials, the agent state of each managed device, and jobs sent to agents."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.assets.models import Device
from tenfold.clients.models import Client, Site
from tenfold.core.models import TimeStampedModel
from tenfold.core.tenancy import ClientOwnedQuerySet


class EnrollmentToken(TimeStampedModel):
    """A per-client secret an agent enrolls with; it expires, may be limited in uses, can be revoked.

    Only the SHA-256 of the token is stored: the plain token is shown once, when it is created.
    """

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE,
                               related_name="enrollment_tokens")
    site = models.ForeignKey(Site, verbose_name=_("site"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=8, unique=True)
    token_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField(_("expires"))
    max_uses = models.PositiveIntegerField(_("maximum uses"), null=True, blank=True)
    uses = models.PositiveIntegerField(_("uses"), default=0)
    # The check-in interval given to agents enrolled with this token; empty: the server-wide one.
    checkin_interval = models.PositiveIntegerField(_("check-in interval (s)"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("enrollment token")
        verbose_name_plural = _("enrollment tokens")

    def __str__(self) -> str:
        return f"{self.name} (tfe_{self.prefix}_…)"

    def is_usable(self, now: datetime | None = None) -> bool:
        """Not revoked, not expired, not used up."""
        now = now or timezone.now()
        return (self.revoked_at is None and self.expires_at > now
                and (self.max_uses is None or self.uses < self.max_uses))


class AgentCredential(TimeStampedModel):
    """The secret one agent authenticates with (`tfa_<prefix>_<secret>`); stored as its SHA-256."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="agent_credentials")
    prefix = models.CharField(max_length=8, unique=True)
    secret_hash = models.CharField(max_length=64)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("agent credential")
        verbose_name_plural = _("agent credentials")

    def __str__(self) -> str:
        return f"tfa_{self.prefix}_…"


class Agent(TimeStampedModel):
    """The agent of a managed device: version, acknowledged sequence high-water mark, check-in cadence."""

    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="agent")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    agent_version = models.CharField(_("agent version"), max_length=50, blank=True)
    last_seq = models.BigIntegerField(_("acknowledged sequence"), default=0)
    enrolled_at = models.DateTimeField(_("enrolled"), default=timezone.now)
    last_checkin_at = models.DateTimeField(_("last check-in"), null=True, blank=True)
    checkin_interval = models.PositiveIntegerField(_("check-in interval (s)"), default=60)
    rotation_requested_at = models.DateTimeField(_("credential rotation requested"), null=True, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")

    def __str__(self) -> str:
        return f"agent of device {self.device_id}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    TIMED_OUT = "timed_out", _("Timed out")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.SENT, JobStatus.RUNNING)
OUTPUT_LIMIT = 64 * 1024


class Job(TimeStampedModel):
    """Work sent to one agent (a script run, an update install): payload snapshot, status, output."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(_("kind"), max_length=50)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    exit_code = models.IntegerField(_("exit code"), null=True, blank=True)
    stdout = models.TextField(_("output"), blank=True)
    stderr = models.TextField(_("errors"), blank=True)
    duration_ms = models.BigIntegerField(_("duration (ms)"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # The first send, kept when the job is sent again (a lost answer): the time-out counts from here, so an
    # agent that checks in without ever answering does not keep its job open forever.
    first_sent_at = models.DateTimeField(_("first sent"), null=True, blank=True)
    # How long the agent may take once the job is sent; past it (plus a grace) the job is timed out.
    timeout_seconds = models.PositiveIntegerField(_("timeout (s)"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        indexes = [models.Index(fields=["device", "status"], name="agents_job_device_status")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"
