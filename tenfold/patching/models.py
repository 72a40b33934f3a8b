"""Updates the agents report, which device misses which, approval policies and decisions, and the install
runs created inside the install windows."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.agents.models import Job, JobStatus
from tenfold.assets.models import Device, Tag
from tenfold.clients.models import Client, Site
from tenfold.core.models import TimeStampedModel
from tenfold.core.tenancy import ClientOwnedQuerySet
from tenfold.monitoring.models import MspOrClientQuerySet


class UpdateSource(models.TextChoices):
    APT = "apt", "apt"
    DNF = "dnf", "dnf"
    ZYPPER = "zypper", "zypper"
    BREW = "brew", "Homebrew"
    WINDOWS_UPDATE = "windows_update", "Windows Update"
    WINGET = "winget", "winget"
    SOFTWAREUPDATE = "softwareupdate", _("macOS software update")


class UpdateCategory(models.TextChoices):
    SECURITY = "security", _("Security")
    CRITICAL = "critical", _("Critical")
    BUGFIX = "bugfix", _("Bug fix")
    FEATURE = "feature", _("Feature")
    DRIVER = "driver", _("Driver")
    APPLICATION = "application", _("Application")


class UpdateSeverity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    IMPORTANT = "important", _("Important")
    MODERATE = "moderate", _("Moderate")
    LOW = "low", _("Low")


# "Critical" in the report: a security or critical update, or any update rated critical.
CRITICAL_CATEGORIES = (UpdateCategory.SECURITY, UpdateCategory.CRITICAL)


class UpdateQuerySet(models.QuerySet["Update"]):
    """Updates are the MSP's catalog; a user restricted to some clients sees those their devices reported."""

    def visible_to(self, actor: Any) -> UpdateQuerySet:
        if actor is None or not getattr(actor, "is_authenticated", False):
            return self.none()
        scope = actor.client_scope()
        if scope is None:
            return self
        return self.filter(Exists(DeviceUpdate.objects.filter(update=OuterRef("pk"), client_id__in=scope)))


class Update(TimeStampedModel):
    """A known update (a package version, a KB, an application release), as the agents reported it first."""

    source = models.CharField(_("source"), max_length=20, choices=UpdateSource.choices)
    identifier = models.CharField(_("identifier"), max_length=200,
                                  help_text=_("The package name, the KB number or the application id."))
    version = models.CharField(_("version"), max_length=100, blank=True,
                               help_text=_("The version the update brings (empty when the identifier names it, "
                                           "as a KB does)."))
    title = models.CharField(_("title"), max_length=500)
    category = models.CharField(_("category"), max_length=20, choices=UpdateCategory.choices)
    severity = models.CharField(_("severity"), max_length=20, choices=UpdateSeverity.choices, blank=True)
    released_on = models.DateField(_("release date"), null=True, blank=True)
    reboot_required = models.BooleanField(_("reboot required"), default=False)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)

    objects = UpdateQuerySet.as_manager()

    class Meta:
        ordering = ["-first_seen_at", "pk"]
        verbose_name = _("update")
        verbose_name_plural = _("updates")
        constraints = [models.UniqueConstraint(
            fields=["source", "identifier", "version"], name="patching_update_unique",
            violation_error_message=_("This update is already known."))]

    def __str__(self) -> str:
        return self.title

    @property
    def is_critical(self) -> bool:
        return self.category in CRITICAL_CATEGORIES or self.severity == UpdateSeverity.CRITICAL


class DeviceUpdateState(models.TextChoices):
    MISSING = "missing", _("Missing")
    PENDING_INSTALL = "pending_install", _("Install pending")
    FAILED = "failed", _("Failed")
    INSTALLED = "installed", _("Installed")
    SUPERSEDED = "superseded", _("Superseded")


# An update in one of these states is not on the device yet.
NOT_INSTALLED = (DeviceUpdateState.MISSING, DeviceUpdateState.PENDING_INSTALL, DeviceUpdateState.FAILED)


class DeviceUpdate(TimeStampedModel):
    """One update on one device: missing, being installed, failed, installed, or superseded by a newer one."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.CASCADE,
                               related_name="device_updates")
    update = models.ForeignKey(Update, verbose_name=_("update"), on_delete=models.CASCADE,
                               related_name="device_updates")
    installed_version = models.CharField(_("installed version"), max_length=100, blank=True)
    available_version = models.CharField(_("available version"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=20, choices=DeviceUpdateState.choices,
                             default=DeviceUpdateState.MISSING)
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"))
    installed_at = models.DateTimeField(_("installed"), null=True, blank=True)
    last_job = models.ForeignKey(Job, verbose_name=_("last install job"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    message = models.CharField(_("message"), max_length=500, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["device_id", "update_id"]
        verbose_name = _("device update")
        verbose_name_plural = _("device updates")
        constraints = [models.UniqueConstraint(fields=["device", "update"], name="patching_deviceupdate_unique",
                                               violation_error_message=_("This device already has this update."))]
        indexes = [models.Index(fields=["client", "state"], name="patching_du_client_state")]

    def __str__(self) -> str:
        return f"{self.update} @ {self.device}"


class DeviceUpdateScan(TimeStampedModel):
    """The last updates snapshot of a device: when, which sources were listed, which failed."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    device = models.OneToOneField(Device, verbose_name=_("device"), on_delete=models.CASCADE,
                                  related_name="update_scan")
    scanned_at = models.DateTimeField(_("listed"))
    seq = models.BigIntegerField(default=0)
    sources = models.JSONField(_("sources"), default=list, blank=True)
    errors = models.JSONField(_("errors"), default=dict, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["device_id"]
        verbose_name = _("updates listing")
        verbose_name_plural = _("updates listings")

    def __str__(self) -> str:
        return f"{self.device} @ {self.scanned_at:%Y-%m-%d %H:%M}"


class PatchScope(models.TextChoices):
    GLOBAL = "global", _("Every device")
    CLIENT = "client", _("A client")
    TAG = "tag", _("Devices with a tag")
    SITE = "site", _("A site")
    DEVICE = "device", _("A device")


# The most specific policy wins: a device's own, then its site's, a tag's, its client's, the global one.
SCOPE_RANK = {PatchScope.DEVICE: 0, PatchScope.SITE: 1, PatchScope.TAG: 2, PatchScope.CLIENT: 3,
              PatchScope.GLOBAL: 4}


class RebootRule(models.TextChoices):
    NEVER = "never", _("Never reboot")
    IF_REQUIRED = "if_required", _("Reboot if an update requires it")
    ALWAYS = "always", _("Always reboot after installing")


class ApprovalPolicy(TimeStampedModel):
    """How updates are approved and installed on the devices it reaches: auto-approval by category and
    severity after N days, an install window (days and hours in the device's time zone), and a reboot rule.

    Attached like monitoring policies; a client, site or device policy names its client (tenancy), a global
    or tag policy is MSP-level."""

    name = models.CharField(_("name"), max_length=200)
    scope = models.CharField(_("applies to"), max_length=10, choices=PatchScope.choices, default=PatchScope.CLIENT)
    client = models.ForeignKey(Client, verbose_name=_("client"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    site = models.ForeignKey(Site, verbose_name=_("site"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    device = models.ForeignKey(Device, verbose_name=_("device"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    tag = models.ForeignKey(Tag, verbose_name=_("tag"), null=True, blank=True, on_delete=models.PROTECT,
                            related_name="+")
    enabled = models.BooleanField(_("enabled"), default=True)
    auto_approve_categories = models.JSONField(_("auto-approve categories"), default=list, blank=True)
    auto_approve_severities = models.JSONField(
        _("auto-approve severities"), default=list, blank=True,
        help_text=_("Empty: any severity, including unknown."))
    auto_approve_after_days = models.PositiveSmallIntegerField(
        _("auto-approve after (days)"), null=True, blank=True,
        help_text=_("Days after the release date (or after the update was first seen). Empty: no auto-approval."))
    window_days = models.JSONField(_("install days"), default=list, blank=True,
                                   help_text=_("Days of the week, 0 = Monday."))
    window_start = models.TimeField(_("window opens"), null=True, blank=True)
    window_end = models.TimeField(_("window closes"), null=True, blank=True,
                                  help_text=_("Before the opening time: the window ends the next day."))
    reboot = models.CharField(_("reboot"), max_length=12, choices=RebootRule.choices, default=RebootRule.IF_REQUIRED)
    reboot_deferrals = models.PositiveSmallIntegerField(_("deferrals allowed to the user"), default=0)
    reboot_defer_minutes = models.PositiveSmallIntegerField(
        _("each deferral lasts (minutes)"), default=60,
        help_text=_("From 15 to 1440 minutes; used only when the user may defer the reboot."))

    objects = MspOrClientQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("approval policy")
        verbose_name_plural = _("approval policies")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="global", client__isnull=True, site__isnull=True, device__isnull=True, tag__isnull=True)
                    | Q(scope="client", client__isnull=False, site__isnull=True, device__isnull=True,
                        tag__isnull=True)
                    | Q(scope="tag", client__isnull=True, site__isnull=True, device__isnull=True, tag__isnull=False)
                    | Q(scope="site", client__isnull=False, site__isnull=False, device__isnull=True,
                        tag__isnull=True)
                    | Q(scope="device", client__isnull=False, site__isnull=True, device__isnull=False,
                        tag__isnull=True)),
                name="patching_policy_scope_target",
                violation_error_message=_("A policy names exactly the client, tag, site or device its scope needs.")),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_window(self) -> bool:
        return bool(self.window_days) and self.window_start is not None and self.window_end is not None

    @property
    def target_label(self) -> str:
        if self.scope == PatchScope.DEVICE and self.device is not None:
            return str(self.device)
        if self.scope == PatchScope.SITE and self.site is not None:
            return f"{self.client} / {self.site}"
        if self.scope == PatchScope.CLIENT and self.client is not None:
            return str(self.client)
        if self.scope == PatchScope.TAG and self.tag is not None:
            return str(_("Tag %(name)s") % {"name": self.tag.name})
        return str(_("Every device"))


class Approval(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    DEFERRED = "deferred", _("Deferred")


class UpdateApprovalStatus(models.TextChoices):
    """The effective approval of an update on a device: a decision, a policy's rule, or neither."""

    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    DEFERRED = "deferred", _("Deferred")
    AWAITING = "awaiting", _("Awaiting approval")


class ApprovalDecision(TimeStampedModel):
    """A person's decision on an update, for one client or (client empty) for every client."""

    update = models.ForeignKey(Update, verbose_name=_("update"), on_delete=models.CASCADE, related_name="decisions")
    client = models.ForeignKey(Client, verbose_name=_("client"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    decision = models.CharField(_("decision"), max_length=10, choices=Approval.choices)
    deferred_until = models.DateField(_("deferred until"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("decided"), default=timezone.now)
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = MspOrClientQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_at", "-pk"]
        verbose_name = _("approval decision")
        verbose_name_plural = _("approval decisions")
        constraints = [
            models.UniqueConstraint(fields=["update", "client"], condition=Q(client__isnull=False),
                                    name="patching_decision_client_unique",
                                    violation_error_message=_("This client already has a decision on this update.")),
            models.UniqueConstraint(fields=["update"], condition=Q(client__isnull=True),
                                    name="patching_decision_all_unique",
                                    violation_error_message=_("There is already a decision for every client.")),
            models.CheckConstraint(condition=Q(decision="deferred", deferred_until__isnull=False)
                                   | (~Q(decision="deferred") & Q(deferred_until__isnull=True)),
                                   name="patching_decision_deferred_date",
                                   violation_error_message=_("A deferral needs a date, and only a deferral.")),
        ]

    def __str__(self) -> str:
        return f"{self.update}: {self.get_decision_display()}"


class InstallRunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SUCCEEDED = "succeeded", _("Succeeded")
    PARTLY_FAILED = "partly_failed", _("Partly failed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class InstallRun(TimeStampedModel):
    """The install job of one device in one window occurrence (one per device and window: the unique key)."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(Job, verbose_name=_("job"), null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+")
    window_start = models.DateTimeField(_("window opens"))
    window_end = models.DateTimeField(_("window closes"))
    updates = models.JSONField(_("updates"), default=list, help_text=_("Ids of the device updates sent."))
    status = models.CharField(_("status"), max_length=15, choices=InstallRunStatus.choices,
                              default=InstallRunStatus.QUEUED)
    recorded_at = models.DateTimeField(_("results recorded"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True,
                               help_text=_("Why the run was not sent, or was cancelled."))
    # The outcome of the scripts run before and after installing, as the agent reported them:
    # {"pre_script": {"status", "exit_code", "stdout", "stderr"}, "post_script": {...}}.
    scripts = models.JSONField(_("scripts before and after installing"), default=dict, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-window_start", "-pk"]
        verbose_name = _("install run")
        verbose_name_plural = _("install runs")
        constraints = [models.UniqueConstraint(fields=["device", "window_start"], name="patching_installrun_once",
                                               violation_error_message=_("This window already has an install run."))]

    def __str__(self) -> str:
        return f"{self.device} @ {self.window_start:%Y-%m-%d %H:%M}"

    @property
    def script_results(self) -> list[dict[str, Any]]:
        """The scripts' outcomes for display: before installing first, each with its label and status label."""
        labels = {"pre_script": _("Before installing"), "post_script": _("After installing")}
        statuses = dict(JobStatus.choices)
        scripts = self.scripts if isinstance(self.scripts, dict) else {}
        return [{"key": key, "label": label, "status_label": statuses.get(scripts[key].get("status"),
                                                                             scripts[key].get("status")),
                 **scripts[key]} for key, label in labels.items() if isinstance(scripts.get(key), dict)]
