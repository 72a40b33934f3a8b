"""Policies (sets of checks and collectors), the state of each check on each device, alerts,
maintenance windows, and the baseline policy of each plan tier."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.assets.models import Device, OsFamily, Tag
from tenfold.clients.models import Client, Site
from tenfold.core.models import TimeStampedModel
from tenfold.core.tenancy import ClientOwnedQuerySet
from tenfold.core.tiers import Tier
from tenfold.monitoring.checktypes import CheckType

MIN_INTERVAL_S, MAX_INTERVAL_S = 30, 86400


class PolicyScope(models.TextChoices):
    GLOBAL = "global", _("Every device")
    CLIENT = "client", _("A client")
    TAG = "tag", _("Devices with a tag")
    SITE = "site", _("A site")
    DEVICE = "device", _("A device")
    BASELINE = "baseline", _("Baseline of a plan tier")


# The merge order of the effective policy, broadest first: a later scope overrides an earlier one.
SCOPE_RANK = {PolicyScope.GLOBAL: 0, PolicyScope.BASELINE: 1, PolicyScope.CLIENT: 2, PolicyScope.TAG: 3,
              PolicyScope.SITE: 4, PolicyScope.DEVICE: 5}


class MspOrClientQuerySet(ClientOwnedQuerySet[Any]):
    """MSP-level rows (no client) are visible to every staff user; client rows follow the tenancy scope."""

    def visible_to(self, actor: Any) -> Any:
        if actor is None or not getattr(actor, "is_authenticated", False):
            return self.none()
        scope = actor.client_scope()
        if scope is None:
            return self
        lookup = getattr(self.model, "tenant_lookup", "client_id")
        if getattr(actor, "is_portal", False):
            return self.filter(**{f"{lookup}__in": scope})
        return self.filter(Q(**{f"{lookup}__isnull": True}) | Q(**{f"{lookup}__in": scope}))


class Policy(TimeStampedModel):
    """A set of checks and collector settings attached globally, to a client, to the devices carrying a
    tag, to a site or to a device; the three baseline policies (one per plan tier) reach a client's
    devices through ClientBaseline.

    A site or device policy also names its client: that client owns it (tenancy); a global, tag or
    baseline policy is MSP-level (tags are the MSP's, and a tag reaches devices of every client)."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    scope = models.CharField(_("applies to"), max_length=10, choices=PolicyScope.choices, default=PolicyScope.CLIENT)
    client = models.ForeignKey(Client, verbose_name=_("client"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="policies")
    site = models.ForeignKey(Site, verbose_name=_("site"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="policies")
    device = models.ForeignKey(Device, verbose_name=_("device"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="policies")
    # PROTECT: deleting a tag never silently deletes the policies attached to it.
    tag = models.ForeignKey(Tag, verbose_name=_("tag"), null=True, blank=True, on_delete=models.PROTECT,
                            related_name="policies")
    baseline_tier = models.CharField(_("baseline of tier"), max_length=10, choices=Tier.choices, null=True,
                                     blank=True, unique=True)
    collectors = models.JSONField(_("collectors"), default=dict, blank=True,
                                  help_text=_("Inventory cadence, backup tools, network discovery, posture."))
    enabled = models.BooleanField(_("enabled"), default=True)

    objects = MspOrClientQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        constraints = [
            models.CheckConstraint(
                condition=(
                    (Q(scope="global", client__isnull=True, site__isnull=True, device__isnull=True,
                       tag__isnull=True, baseline_tier__isnull=True))
                    | Q(scope="baseline", client__isnull=True, site__isnull=True, device__isnull=True,
                        tag__isnull=True, baseline_tier__isnull=False)
                    | Q(scope="client", client__isnull=False, site__isnull=True, device__isnull=True,
                        tag__isnull=True, baseline_tier__isnull=True)
                    | Q(scope="tag", client__isnull=True, site__isnull=True, device__isnull=True,
                        tag__isnull=False, baseline_tier__isnull=True)
                    | Q(scope="site", client__isnull=False, site__isnull=False, device__isnull=True,
                        tag__isnull=True, baseline_tier__isnull=True)
                    | Q(scope="device", client__isnull=False, site__isnull=True, device__isnull=False,
                        tag__isnull=True, baseline_tier__isnull=True)),
                name="monitoring_policy_scope_target",
                violation_error_message=_("A policy names exactly the client, tag, site or device its scope "
                                          "needs.")),
        ]
        indexes = [models.Index(fields=["scope", "client"], name="monitoring_policy_scope_client")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_msp_level(self) -> bool:
        return self.client_id is None

    @property
    def target_label(self) -> str:
        if self.scope == PolicyScope.DEVICE and self.device is not None:
            return str(self.device)
        if self.scope == PolicyScope.SITE and self.site is not None:
            return f"{self.client} / {self.site}"
        if self.scope == PolicyScope.CLIENT and self.client is not None:
            return str(self.client)
        if self.scope == PolicyScope.TAG and self.tag is not None:
            return str(_("Tag %(name)s") % {"name": self.tag.name})
        if self.scope == PolicyScope.BASELINE:
            return str(Tier(self.baseline_tier).label) if self.baseline_tier else ""
        return str(_("Every device"))


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class CheckDefinition(TimeStampedModel):
    """One check of a policy: what the agent runs, how often, and when a failure becomes an alert."""

    tenant_lookup = "policy__client_id"

    policy = models.ForeignKey(Policy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="checks")
    check_type = models.CharField(_("type"), max_length=20, choices=CheckType.choices)
    name = models.CharField(_("name"), max_length=200)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    interval_s = models.PositiveIntegerField(_("interval (s)"), default=300,
                                             validators=[MinValueValidator(MIN_INTERVAL_S),
                                                         MaxValueValidator(MAX_INTERVAL_S)])
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.WARNING)
    failures_before_alert = models.PositiveSmallIntegerField(
        _("failures before alert"), default=3, validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("Consecutive failed runs that raise an alert."))
    enabled = models.BooleanField(_("enabled"), default=True,
                                  help_text=_("A disabled check on a narrower policy switches off the broader one."))
    runbook_url = models.URLField(_("runbook"), blank=True, max_length=500)
    os_family = models.CharField(_("only on"), max_length=20, choices=OsFamily.choices, blank=True,
                                 help_text=_("Run only on devices of this operating system (empty: every device)."))

    objects = MspOrClientQuerySet.as_manager()

    class Meta:
        ordering = ["policy_id", "check_type", "name", "pk"]
        verbose_name = _("check")
        verbose_name_plural = _("checks")
        constraints = [
            models.CheckConstraint(condition=Q(interval_s__gte=MIN_INTERVAL_S, interval_s__lte=MAX_INTERVAL_S),
                                   name="monitoring_check_interval_range"),
            models.CheckConstraint(condition=Q(failures_before_alert__gte=1, failures_before_alert__lte=20),
                                   name="monitoring_check_failures_range"),
        ]

    def __str__(self) -> str:
        return self.name


class CheckState(models.Model):
    """The latest state of one check on one device (derived from results, in batches)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="check_states")
    check_definition = models.ForeignKey(CheckDefinition, on_delete=models.CASCADE, related_name="states")
    status = models.PositiveSmallIntegerField(_("status"))  # assets.CheckStatus: 0 pass, 1 warn, 2 fail, 3 error
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    last_result_at = models.DateTimeField(_("last result"))
    last_value = models.FloatField(_("last value"), null=True, blank=True)
    last_message = models.CharField(_("last message"), max_length=500, blank=True)
    # The last raw result evaluated into this state: a result at or below it was already counted.
    last_result_id = models.BigIntegerField(default=0)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("check state")
        verbose_name_plural = _("check states")
        constraints = [models.UniqueConstraint("device", "check_definition", name="monitoring_checkstate_unique",
                                               violation_error_message=_("This check already has a state here."))]

    def __str__(self) -> str:
        return f"check {self.check_definition_id} on {self.device_id}: {self.status}"


class AlertKind(models.TextChoices):
    CHECK = "check", _("Check")
    OFFLINE = "offline", _("Offline")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


UNRESOLVED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


class Alert(TimeStampedModel):
    """A problem on a device: a check failing N times in a row, or no check-in. One unresolved alert per
    device, check and kind; later failures add occurrences to it."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="alerts")
    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="alerts")
    check_definition = models.ForeignKey(CheckDefinition, verbose_name=_("check"), null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="alerts")
    kind = models.CharField(_("kind"), max_length=10, choices=AlertKind.choices, default=AlertKind.CHECK)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.WARNING)
    status = models.CharField(_("status"), max_length=15, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    title = models.CharField(_("title"), max_length=300)
    message = models.CharField(_("message"), max_length=500, blank=True)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("acknowledged by"), null=True,
                                        blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    muted = models.BooleanField(_("muted"), default=False,
                                help_text=_("Raised during a maintenance window: no notification."))

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            # NULLs are distinct in unique indexes, so the offline kind (no check) has its own constraint.
            models.UniqueConstraint("device", "check_definition", condition=Q(kind="check") & ~Q(status="resolved"),
                                    name="monitoring_alert_one_open_per_check",
                                    violation_error_message=_("This check already has an unresolved alert.")),
            models.UniqueConstraint("device", condition=Q(kind="offline") & ~Q(status="resolved"),
                                    name="monitoring_alert_one_open_offline",
                                    violation_error_message=_("This device already has an offline alert.")),
        ]
        indexes = [models.Index(fields=["client", "status", "opened_at"], name="monitoring_alert_client_status"),
                   models.Index(fields=["status", "severity"], name="monitoring_alert_status_sev")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_resolved(self) -> bool:
        return self.status == AlertStatus.RESOLVED


class MaintenanceWindow(TimeStampedModel):
    """A period during which alerts of a client, one of its sites or one device are muted."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE,
                               related_name="maintenance_windows")
    site = models.ForeignKey(Site, verbose_name=_("site"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    device = models.ForeignKey(Device, verbose_name=_("device"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    reason = models.CharField(_("reason"), max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-pk"]
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                              name="monitoring_window_ends_after_start",
                                              violation_error_message=_("The end must be after the start."))]
        indexes = [models.Index(fields=["client", "ends_at"], name="monitoring_window_client_end")]

    def __str__(self) -> str:
        return self.reason

    def covers(self, device_id: int, site_id: int | None, client_id: int) -> bool:
        """Whether this window mutes the device (the whole client, the device's site, or the device)."""
        if self.client_id != client_id:
            return False
        if self.device_id is not None:
            return self.device_id == device_id
        if self.site_id is not None:
            return self.site_id == site_id
        return True


class ClientBaseline(TimeStampedModel):
    """The plan tier whose baseline policies (that tier and those below) apply to a client's devices."""

    client = models.OneToOneField(Client, verbose_name=_("client"), on_delete=models.CASCADE,
                                  related_name="baseline")
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("applied by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("client baseline")
        verbose_name_plural = _("client baselines")

    def __str__(self) -> str:
        return f"{self.client_id}: {self.tier}"


class EvaluationCursor(models.Model):
    """The last check result evaluated (one row): evaluation resumes after it."""

    last_result_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("evaluation cursor")

    def __str__(self) -> str:
        return f"after result {self.last_result_id}"


class DeviceMetricDaily(models.Model):
    """One device's metrics over one UTC day, rolled up from the raw samples (kept forever)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField(_("day"))
    samples = models.PositiveIntegerField(_("samples"))
    cpu_avg = models.FloatField(_("average CPU"), null=True)
    cpu_max = models.FloatField(_("maximum CPU"), null=True)
    mem_avg = models.FloatField(_("average memory"), null=True)
    mem_max = models.FloatField(_("maximum memory"), null=True)
    disk_min_free = models.FloatField(_("lowest free disk"), null=True)
    computed_at = models.DateTimeField(_("computed"))

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["device", "day"]
        verbose_name = _("daily device metrics")
        verbose_name_plural = _("daily device metrics")
        constraints = [models.UniqueConstraint("device", "day", name="monitoring_metricdaily_unique",
                                               violation_error_message=_("This day is already rolled up."))]

    def __str__(self) -> str:
        return f"device {self.device_id} on {self.day}"


class CheckDaily(models.Model):
    """One check's results on one device over one UTC day, rolled up from the raw results (kept forever).

    `check_id` is the check definition's id without a foreign key: the history outlives a deleted check."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+", db_index=False)
    check_id = models.PositiveIntegerField(_("check"))
    day = models.DateField(_("day"))
    runs = models.PositiveIntegerField(_("runs"))
    passes = models.PositiveIntegerField(_("passes"))
    warns = models.PositiveIntegerField(_("warnings"))
    fails = models.PositiveIntegerField(_("failures"))
    errors = models.PositiveIntegerField(_("errors"))
    computed_at = models.DateTimeField(_("computed"))

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["device", "check_id", "day"]
        verbose_name = _("daily check results")
        verbose_name_plural = _("daily check results")
        constraints = [models.UniqueConstraint("device", "check_id", "day", name="monitoring_checkdaily_unique",
                                               violation_error_message=_("This day is already rolled up."))]

    def __str__(self) -> str:
        return f"check {self.check_id} on {self.device_id} on {self.day}"


class HistoryDay(models.Model):
    """What the rollup and the retention did for one UTC day (one row a day).

    `max_sample_id` / `max_result_id` are the highest raw ids the last rollup counted: retention deletes
    only rows at or below them, so a row that arrived after the rollup is never deleted uncounted. Once
    pruning started (`pruned_at`), the day is never rolled up again (its raw rows are no longer whole)."""

    day = models.DateField(_("day"), unique=True)
    rolled_up_at = models.DateTimeField(_("rolled up"), null=True, blank=True)
    max_sample_id = models.BigIntegerField(default=0)
    max_result_id = models.BigIntegerField(default=0)
    pruned_at = models.DateTimeField(_("pruning started"), null=True, blank=True)
    prune_done = models.BooleanField(_("pruning finished"), default=False)

    class Meta:
        ordering = ["day"]
        verbose_name = _("history day")
        verbose_name_plural = _("history days")

    def __str__(self) -> str:
        return str(self.day)
