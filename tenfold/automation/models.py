"""The script library (scripts and their signed versions), the MSP's signing keys, and script runs.

Scripts, versions, signatures and keys are MSP-level: every signed-in actor passes `visible_to` and the
role decides. A script run belongs to the client of the device it ran on.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenfold.agents.models import Job
from tenfold.assets.models import Device
from tenfold.clients.models import Client
from tenfold.core.models import TimeStampedModel
from tenfold.core.tenancy import ClientOwnedQuerySet


class MspQuerySet(models.QuerySet[Any]):
    """MSP-level rows: visible to any signed-in user (the role check then decides); none to anonymous."""

    def visible_to(self, actor: Any) -> MspQuerySet:
        if actor is None or not getattr(actor, "is_authenticated", False):
            return self.none()
        return self


class KeyStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REVOKED = "revoked", _("Revoked")


class SigningKey(TimeStampedModel):
    """The public half of an approver's Ed25519 key; the private half never reaches the server.

    The first key is trusted by agents at enrollment; every later key carries a countersignature by a key
    that was already trusted, and a revocation carries the signature of another trusted key.
    """

    key_id = models.CharField(_("key id"), max_length=40, unique=True,
                              error_messages={"unique": _("This key is already registered.")})
    name = models.CharField(_("name"), max_length=100)
    public_key = models.CharField(_("public key"), max_length=44)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
                              related_name="signing_keys")
    status = models.CharField(_("status"), max_length=10, choices=KeyStatus.choices, default=KeyStatus.ACTIVE)
    countersigned_by = models.ForeignKey("self", verbose_name=_("countersigned by"), null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+")
    countersignature = models.CharField(_("countersignature"), max_length=88, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by_key = models.ForeignKey("self", verbose_name=_("revoked by key"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")
    revocation_signature = models.CharField(_("revocation signature"), max_length=88, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"


class ScriptLanguage(models.TextChoices):
    POWERSHELL = "powershell", _("PowerShell")
    SHELL = "shell", _("Shell (sh/bash)")
    PYTHON = "python", _("Python")


class ScriptCategory(models.TextChoices):
    MAINTENANCE = "maintenance", _("Maintenance")
    DIAGNOSTICS = "diagnostics", _("Diagnostics")
    SERVICES = "services", _("Services")
    SECURITY = "security", _("Security")
    SOFTWARE = "software", _("Software")
    OTHER = "other", _("Other")


OS_FAMILIES = ("windows", "linux", "macos")


class Script(TimeStampedModel):
    """A library entry: what it does, its language, where and how long it may run, its parameters.

    What an agent runs is one of its signed versions (`ScriptVersion`), never this row directly.
    """

    name = models.CharField(_("name"), max_length=200, unique=True,
                            error_messages={"unique": _("A script with this name already exists.")})
    slug = models.SlugField(_("identifier"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    category = models.CharField(_("category"), max_length=20, choices=ScriptCategory.choices,
                                default=ScriptCategory.MAINTENANCE)
    language = models.CharField(_("language"), max_length=12, choices=ScriptLanguage.choices)
    os_families = models.JSONField(_("operating systems"), default=list)
    timeout_seconds = models.PositiveIntegerField(_("timeout (s)"), default=300)
    parameters = models.JSONField(_("parameters"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("script")
        verbose_name_plural = _("scripts")

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    AWAITING_SIGNATURE = "awaiting_signature", _("Awaiting signature")
    SIGNED = "signed", _("Signed")
    REVOKED = "revoked", _("Revoked")


class ScriptVersion(TimeStampedModel):
    """One immutable version of a script: the body and the signed fields, as the canonical document."""

    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    body = models.TextField(_("body"))
    language = models.CharField(_("language"), max_length=12, choices=ScriptLanguage.choices)
    os_families = models.JSONField(_("operating systems"), default=list)
    timeout_seconds = models.PositiveIntegerField(_("timeout (s)"))
    parameters = models.JSONField(_("parameters"), default=list, blank=True)
    # The exact bytes (as UTF-8 text) that approvers sign, and their SHA-256.
    document = models.TextField(_("signed document"))
    document_sha256 = models.CharField(_("document SHA-256"), max_length=64)
    status = models.CharField(_("status"), max_length=20, choices=VersionStatus.choices,
                              default=VersionStatus.AWAITING_SIGNATURE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["script", "-number"]
        verbose_name = _("script version")
        verbose_name_plural = _("script versions")
        constraints = [models.UniqueConstraint(fields=["script", "number"], name="automation_version_unique",
                                               violation_error_message=_("This version already exists."))]

    def __str__(self) -> str:
        return f"{self.script_id} v{self.number}"


class Signature(TimeStampedModel):
    """An approver's Ed25519 signature of a version's document, verified by the server before it was stored."""

    version = models.ForeignKey(ScriptVersion, on_delete=models.CASCADE, related_name="signatures")
    key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="signatures")
    signature = models.CharField(_("signature"), max_length=88)
    signed_at = models.DateTimeField(_("signed"))
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("signed by"), on_delete=models.PROTECT,
                                  related_name="+")

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["signed_at", "pk"]
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="automation_signature_unique",
                                               violation_error_message=_("This key already signed this version."))]

    def __str__(self) -> str:
        return f"{self.key_id} on {self.version_id}"


class MspOrClientQuerySet(ClientOwnedQuerySet[Any]):
    """Rows with no client are the MSP's (every staff user sees them); rows of a client follow the scope."""

    def visible_to(self, actor: Any) -> Any:
        if actor is None or not getattr(actor, "is_authenticated", False):
            return self.none()
        scope = actor.client_scope()
        if getattr(actor, "is_portal", False):
            return self.filter(client_id__in=scope or ())
        if scope is None:
            return self
        return self.filter(models.Q(client__isnull=True) | models.Q(client_id__in=scope))


class GroupKind(models.TextChoices):
    STATIC = "static", _("Static (chosen devices)")
    DYNAMIC = "dynamic", _("Dynamic (filters)")


class DeviceGroup(TimeStampedModel):
    """A named set of devices to run on: chosen devices (static) or every device matching filters (dynamic).

    With no client it is the MSP's and may span clients: a user restricted to some clients only ever sees and
    targets the members they may see. A client's group holds that client's devices only."""

    client = models.ForeignKey(Client, verbose_name=_("client"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    name = models.CharField(_("name"), max_length=200)
    description = models.CharField(_("description"), max_length=500, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=GroupKind.choices, default=GroupKind.DYNAMIC)
    # Dynamic groups: {"os_family", "client_id", "site_id", "tag_id", "software", "device_kind", "online"}.
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    devices = models.ManyToManyField(Device, verbose_name=_("devices"), blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = MspOrClientQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("device group")
        verbose_name_plural = _("device groups")
        constraints = [
            models.UniqueConstraint(fields=["client", "name"], name="automation_group_name_client",
                                    violation_error_message=_("A group with this name already exists.")),
            models.UniqueConstraint(fields=["name"], condition=models.Q(client__isnull=True),
                                    name="automation_group_name_msp",
                                    violation_error_message=_("A group with this name already exists.")),
        ]

    def __str__(self) -> str:
        return self.name


class RunKind(models.TextChoices):
    SCRIPT = "script", _("Script")
    ACTION = "action", _("Agent action")


class ScheduleKind(models.TextChoices):
    ONCE = "once", _("Once, at a date and time")
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every week")
    MONTHLY = "monthly", _("Every month")
    CRON = "cron", _("Cron expression")


class ScheduledRun(TimeStampedModel):
    """A run to start later or again and again: what (a script version and its parameters, or an agent action
    and its payload), on what (devices, a group or a client), and when (once, daily, weekly, monthly, cron).

    The periodic sweep starts it when `next_run_at` is due, once per occurrence (a conditional update claims
    it), as a system actor restricted to the clients its creator could see (`client_scope`, empty: all)."""

    client = models.ForeignKey(Client, verbose_name=_("client"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=RunKind.choices)
    version = models.ForeignKey(ScriptVersion, verbose_name=_("script version"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=40, blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    group = models.ForeignKey(DeviceGroup, verbose_name=_("group"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    device_ids = models.JSONField(_("devices"), default=list, blank=True)
    target_client = models.ForeignKey(Client, verbose_name=_("every device of"), null=True, blank=True,
                                      on_delete=models.CASCADE, related_name="+")
    schedule_kind = models.CharField(_("repeat"), max_length=10, choices=ScheduleKind.choices)
    run_at = models.DateTimeField(_("at"), null=True, blank=True)
    cron = models.CharField(_("cron expression"), max_length=100, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    enabled = models.BooleanField(_("enabled"), default=True)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True, db_index=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    client_scope = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = MspOrClientQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")

    def __str__(self) -> str:
        return self.name


class Run(TimeStampedModel):
    """A script version or an agent action sent to a set of devices of one client: one job per device
    (`ScriptRun` rows). A target spanning clients makes one run per client."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=RunKind.choices, default=RunKind.SCRIPT)
    version = models.ForeignKey(ScriptVersion, verbose_name=_("script version"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="batches")
    action = models.CharField(_("action"), max_length=40, blank=True)
    # Script parameter values (a secret one as "[secret]") or the action's payload.
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    target_label = models.CharField(_("target"), max_length=300, blank=True)
    group = models.ForeignKey(DeviceGroup, verbose_name=_("group"), null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    scheduled_run = models.ForeignKey(ScheduledRun, verbose_name=_("scheduled run"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="runs")
    retry_of = models.ForeignKey("self", verbose_name=_("retry of"), null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="retries")
    started_by = models.CharField(_("started by"), max_length=254, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("run")
        verbose_name_plural = _("runs")

    def __str__(self) -> str:
        return f"run {self.pk}"


class ScriptRun(TimeStampedModel):
    """One device's part of a run: the job that carries the script version (or the agent action) and the
    parameters (secrets by name only); a cancel asked of a job already sent is the `cancel_job` job."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(Run, verbose_name=_("run"), on_delete=models.CASCADE, related_name="items")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="script_run")
    version = models.ForeignKey(ScriptVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="runs")
    action = models.CharField(_("action"), max_length=40, blank=True)
    # Values of ordinary parameters; a secret parameter appears with the value "[secret]".
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    cancel_job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancel_requested_at = models.DateTimeField(_("cancel requested"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("run on a device")
        verbose_name_plural = _("runs on a device")

    def __str__(self) -> str:
        return f"run of {self.version_id or self.action} on {self.device_id}"

    @property
    def display_status(self) -> str:
        """The job's status, or "cancelling" while a cancel asked of a sent or running job is under way."""
        if self.cancel_requested_at is not None and self.job.status in ("sent", "running"):
            return "cancelling"
        return str(self.job.status)

    @property
    def display_status_label(self) -> str:
        if self.display_status == "cancelling":
            return str(_("Cancelling"))
        return str(self.job.get_status_display())


# --- Workflows -----------------------------------------------------------------------------------
# A workflow is MSP-level (built by owners, administrators and service managers); each save is a new
# immutable version holding the definition (trigger, conditions, steps) as JSON, validated by
# `tenfold.automation.workflows.validate_definition`. A run belongs to the client of the event it handles.


class Workflow(TimeStampedModel):
    """A named automation: its current version's trigger, conditions and steps; enabled or not."""

    name = models.CharField(_("name"), max_length=200, unique=True,
                            error_messages={"unique": _("A workflow with this name already exists.")})
    description = models.TextField(_("description"), blank=True, max_length=2000)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Shipped workflows carry a stable key (their data migration finds them by it); they stay editable.
    builtin_key = models.CharField(_("built-in"), max_length=50, blank=True, db_index=True)
    current_version = models.ForeignKey("WorkflowVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    # The current version's trigger, copied for matching without reading every definition.
    trigger_event = models.CharField(_("trigger"), max_length=60, blank=True, db_index=True)
    schedule = models.CharField(_("schedule"), max_length=100, blank=True)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("workflow")
        verbose_name_plural = _("workflows")

    def __str__(self) -> str:
        return self.name


class WorkflowVersion(TimeStampedModel):
    """One saved definition of a workflow, never changed afterwards; runs name the version they used."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("saved by"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["workflow", "-number"]
        verbose_name = _("workflow version")
        verbose_name_plural = _("workflow versions")
        constraints = [models.UniqueConstraint(fields=["workflow", "number"], name="automation_wfversion_unique",
                                               violation_error_message=_("This version already exists."))]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.number}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    WAITING = "waiting", _("Waiting")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class WorkflowRun(TimeStampedModel):
    """One execution of a workflow version for one event (or one scheduled time) of one client.

    `trigger_key` is the event's id (or the scheduled time): a redelivered event finds the run already there
    (unique per version), so it starts nothing twice."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(Workflow, verbose_name=_("workflow"), on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(WorkflowVersion, verbose_name=_("version"), on_delete=models.PROTECT,
                                related_name="runs")
    trigger = models.CharField(_("trigger"), max_length=60)
    trigger_key = models.CharField(max_length=80)
    event_payload = models.JSONField(_("event"), default=dict, blank=True)
    device = models.ForeignKey(Device, verbose_name=_("device"), null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING)
    current_step = models.CharField(_("current step"), max_length=40, blank=True)
    waiting_job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    wait_until = models.DateTimeField(_("waiting until"), null=True, blank=True)
    ticket_id = models.BigIntegerField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("workflow run")
        verbose_name_plural = _("workflow runs")
        constraints = [models.UniqueConstraint(fields=["version", "trigger_key", "client"],
                                               name="automation_wfrun_once_per_event",
                                               violation_error_message=_("This event already started this "
                                                                         "workflow."))]
        indexes = [models.Index(fields=["status", "wait_until"], name="automation_wfrun_waiting")]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.version_id}"


class StepStatus(models.TextChoices):
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    WAITING = "waiting", _("Waiting")
    SKIPPED = "skipped", _("Skipped")
    TIMED_OUT = "timed_out", _("Timed out")


class WorkflowRunStep(TimeStampedModel):
    """What one step of a run did: its inputs (secrets redacted), outputs, status and the branch taken."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="steps")
    sequence = models.PositiveIntegerField(_("order"))
    step_id = models.CharField(_("step"), max_length=40)
    action = models.CharField(_("action"), max_length=40)
    status = models.CharField(_("status"), max_length=12, choices=StepStatus.choices)
    inputs = models.JSONField(_("inputs"), default=dict, blank=True)
    outputs = models.JSONField(_("outputs"), default=dict, blank=True)
    branch = models.CharField(_("next step"), max_length=40, blank=True)
    reason = models.CharField(_("why"), max_length=500, blank=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["run", "sequence"]
        verbose_name = _("workflow run step")
        verbose_name_plural = _("workflow run steps")

    def __str__(self) -> str:
        return f"{self.step_id} of run {self.run_id}"


# --- Outbound webhooks ---------------------------------------------------------------------------


class WebhookSubscription(TimeStampedModel):
    """A URL that receives chosen events as signed JSON (HMAC-SHA256 with `secret`, shown once)."""

    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=100, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(TimeStampedModel):
    """One event to send to one subscription, retried with exponential backoff until it succeeds or gives up.

    `client` is the event's client when it has one (restricted staff see only those of their clients)."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(_("event"), max_length=60)
    key = models.CharField(max_length=80)
    body = models.JSONField(_("body"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(_("status code"), null=True, blank=True)
    last_error = models.CharField(_("error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["subscription", "key"], name="automation_delivery_once",
                                               violation_error_message=_("This event was already queued."))]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="automation_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id}"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery: the delivery log."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField(_("attempt"))
    at = models.DateTimeField(_("at"))
    status_code = models.PositiveIntegerField(_("status code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"


# --- Agent releases ------------------------------------------------------------------------------
# A wheel of the tenfold-agent package, uploaded by staff, signed by approvers with `tenfold sign` like a
# script version, then published and rolled out as `agent_update` jobs. MSP-level: the `scripts` role
# rule decides. The file lives in the default storage under the data directory, never a public path.


class ReleaseStatus(models.TextChoices):
    DRAFT = "draft", _("Awaiting signature")
    SIGNED = "signed", _("Signed")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class AgentRelease(TimeStampedModel):
    """One version of the agent: its wheel, the hash and size of it, and the document approvers sign."""

    version = models.CharField(_("version"), max_length=50, unique=True,
                               error_messages={"unique": _("A release of this version already exists.")})
    file = models.FileField(_("file"), upload_to="agent-releases/", max_length=200)
    file_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    notes = models.TextField(_("release notes"), blank=True, max_length=5000)
    # The exact text approvers sign (canonical JSON) and its SHA-256.
    document = models.TextField(_("signed document"))
    document_sha256 = models.CharField(_("document SHA-256"), max_length=64)
    status = models.CharField(_("status"), max_length=12, choices=ReleaseStatus.choices, default=ReleaseStatus.DRAFT)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("agent release")
        verbose_name_plural = _("agent releases")

    def __str__(self) -> str:
        return f"tenfold-agent {self.version}"


class AgentReleaseSignature(TimeStampedModel):
    """An approver's Ed25519 signature of a release's document, verified by the server before it was stored."""

    release = models.ForeignKey(AgentRelease, on_delete=models.CASCADE, related_name="signatures")
    key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="release_signatures")
    signature = models.CharField(_("signature"), max_length=88)
    signed_at = models.DateTimeField(_("signed"))
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("signed by"), on_delete=models.PROTECT,
                                  related_name="+")

    objects = MspQuerySet.as_manager()

    class Meta:
        ordering = ["signed_at", "pk"]
        verbose_name = _("release signature")
        verbose_name_plural = _("release signatures")
        constraints = [models.UniqueConstraint(fields=["release", "key"], name="automation_release_signature_unique",
                                               violation_error_message=_("This key already signed this release."))]

    def __str__(self) -> str:
        return f"{self.key_id} on release {self.release_id}"


class PatchPolicyScripts(TimeStampedModel):
    """The scripts an approval policy's install jobs run on the device before and after installing updates
    (each the newest signed version of the script when the job is queued). Belongs to the policy's client, or
    to the MSP for a global or tag policy."""

    policy = models.OneToOneField("patching.ApprovalPolicy", verbose_name=_("approval policy"),
                                  on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, verbose_name=_("client"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    pre_script = models.ForeignKey(Script, verbose_name=_("script before installing"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    post_script = models.ForeignKey(Script, verbose_name=_("script after installing"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    objects = MspOrClientQuerySet.as_manager()

    class Meta:
        ordering = ["policy_id"]
        verbose_name = _("scripts of an approval policy")
        verbose_name_plural = _("scripts of approval policies")

    def __str__(self) -> str:
        return f"scripts of policy {self.policy_id}"
