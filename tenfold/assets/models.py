"""Devices (managed by an agent, or entered by hand), their lifecycle, inventory and raw telemetry."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.clients.models import Client, Site
from tenfold.core.models import TimeStampedModel
from tenfold.core.tenancy import ClientOwnedQuerySet

DEFAULT_CHECKIN_INTERVAL = 60
MISSED_CHECKINS_OFFLINE = 3


def checkin_interval_seconds() -> int:
    """The server-wide agent check-in interval (per-device intervals come with policies)."""
    return int(getattr(settings, "TENFOLD_AGENT_CHECKIN_INTERVAL", DEFAULT_CHECKIN_INTERVAL))


def online_cutoff() -> datetime:
    """A device last seen before this instant is offline (three missed check-ins)."""
    return timezone.now() - timedelta(seconds=checkin_interval_seconds() * MISSED_CHECKINS_OFFLINE)


class DeviceKind(models.TextChoices):
    WORKSTATION = "workstation", _("Workstation")
    LAPTOP = "laptop", _("Laptop")
    SERVER = "server", _("Server")
    NETWORK_DEVICE = "network_device", _("Network device")
    MOBILE = "mobile", _("Mobile")
    OTHER = "other", _("Other")


class DeviceState(models.TextChoices):
    ONBOARDING = "onboarding", _("Onboarding")
    ACTIVE = "active", _("Active")
    MAINTENANCE = "maintenance", _("Maintenance")
    RETIRED = "retired", _("Retired")


class OsFamily(models.TextChoices):
    WINDOWS = "windows", "Windows"
    LINUX = "linux", "Linux"
    MACOS = "macos", "macOS"
    OTHER = "other", _("Other")


class AntivirusState(models.TextChoices):
    RUNNING = "running", _("Running")
    DISABLED = "disabled", _("Disabled")
    OUT_OF_DATE = "out_of_date", _("Out of date")
    NOT_INSTALLED = "not_installed", _("Not installed")
    UNKNOWN = "unknown", _("Unknown")


class FirewallState(models.TextChoices):
    ON = "on", _("On")
    OFF = "off", _("Off")
    UNKNOWN = "unknown", _("Unknown")


class TagColour(models.TextChoices):
    GREY = "grey", _("Grey")
    BLUE = "blue", _("Blue")
    GREEN = "green", _("Green")
    AMBER = "amber", _("Amber")
    RED = "red", _("Red")
    PURPLE = "purple", _("Purple")
    TEAL = "teal", _("Teal")


class Tag(TimeStampedModel):
    """An MSP-wide label of devices ("VIP", "Point of sale"); a device carries any number of them.

    Not client-owned: every staff user sees the MSP's tags, and a policy attached to a tag (monitoring)
    applies to every device that carries it, whatever its client. Names are unique, any case."""

    name = models.CharField(_("name"), max_length=50)
    colour = models.CharField(_("colour"), max_length=10, choices=TagColour.choices, default=TagColour.GREY)
    description = models.CharField(_("description"), max_length=300, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [models.UniqueConstraint(Lower("name"), name="assets_tag_name_unique",
                                               violation_error_message=_("A tag with this name already exists."))]

    def __str__(self) -> str:
        return self.name


class Device(TimeStampedModel):
    """A computer, server, network device or phone of a client; managed when an agent reports on it."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="devices")
    site = models.ForeignKey(Site, verbose_name=_("site"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="devices")
    name = models.CharField(_("name"), max_length=200)
    hostname = models.CharField(_("hostname"), max_length=255, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=DeviceKind.choices, default=DeviceKind.WORKSTATION)
    state = models.CharField(_("lifecycle state"), max_length=20, choices=DeviceState.choices,
                             default=DeviceState.ONBOARDING, db_index=True)
    managed = models.BooleanField(_("managed"), default=False,
                                  help_text=_("An agent reports on this device."))
    # Operating system and hardware
    os_family = models.CharField(_("OS family"), max_length=20, choices=OsFamily.choices, blank=True)
    os_name = models.CharField(_("operating system"), max_length=200, blank=True)
    os_version = models.CharField(_("OS version"), max_length=100, blank=True)
    vendor = models.CharField(_("vendor"), max_length=200, blank=True)
    model = models.CharField(_("model"), max_length=200, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=200, blank=True)
    machine_id = models.CharField(_("machine id"), max_length=200, blank=True,
                                  help_text=_("The operating system's stable identifier of this machine."))
    cpu_model = models.CharField(_("CPU"), max_length=200, blank=True)
    cpu_cores = models.PositiveIntegerField(_("CPU cores"), null=True, blank=True)
    memory_bytes = models.BigIntegerField(_("memory (bytes)"), null=True, blank=True)
    hardware = models.JSONField(_("hardware details"), default=dict, blank=True,
                                help_text=_("Disks and network interfaces as last reported."))
    # Presence
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, db_index=True)
    last_ip = models.CharField(_("last IP address"), max_length=64, blank=True)
    logged_in_user = models.CharField(_("logged-in user"), max_length=200, blank=True)
    uptime_seconds = models.BigIntegerField(_("uptime (seconds)"), null=True, blank=True)
    # Security posture
    antivirus_product = models.CharField(_("antivirus"), max_length=200, blank=True)
    antivirus_state = models.CharField(_("antivirus state"), max_length=20, choices=AntivirusState.choices,
                                       blank=True)
    antivirus_definitions_at = models.DateTimeField(_("antivirus definitions"), null=True, blank=True)
    firewall_state = models.CharField(_("firewall"), max_length=20, choices=FirewallState.choices, blank=True)
    pending_updates = models.PositiveIntegerField(_("pending updates"), null=True, blank=True)
    backup_tool = models.CharField(_("backup tool"), max_length=100, blank=True)
    last_backup_at = models.DateTimeField(_("last successful backup"), null=True, blank=True)
    # Inventory
    inventory_hash = models.CharField(max_length=64, blank=True, editable=False)
    inventory_at = models.DateTimeField(_("inventory received"), null=True, blank=True)
    # Lifecycle dates
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)
    warranty_end = models.DateField(_("warranty end"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="devices")

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [models.UniqueConstraint(
            "client", "machine_id", condition=~models.Q(machine_id=""), name="assets_device_machine_id_unique",
            violation_error_message=_("This client already has a device with this machine id."))]
        indexes = [models.Index(fields=["client", "name"], name="assets_device_client_name")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.site is not None and self.client_id and self.site.client_id != self.client_id:
            raise ValidationError({"site": _("This site belongs to another client.")})

    def online_now(self, cutoff: datetime | None = None) -> bool:
        """Whether the device checked in within the last three intervals."""
        return self.last_seen_at is not None and self.last_seen_at >= (cutoff or online_cutoff())

    @property
    def disks(self) -> list[dict[str, object]]:
        value = (self.hardware or {}).get("disks") or []
        return value if isinstance(value, list) else []

    @property
    def network_interfaces(self) -> list[dict[str, object]]:
        value = (self.hardware or {}).get("network_interfaces") or []
        return value if isinstance(value, list) else []


class DeviceStateChange(models.Model):
    """One move of a device through its lifecycle; kept forever (scorecards of past periods)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="state_changes")
    at = models.DateTimeField(_("when"), default=timezone.now)
    from_state = models.CharField(_("from"), max_length=20, choices=DeviceState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=DeviceState.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("device state change")
        verbose_name_plural = _("device state changes")

    def __str__(self) -> str:
        return f"{self.device_id}: {self.from_state or '∅'} → {self.to_state}"


class SoftwareItem(models.Model):
    """One installed program on a device, as in its latest inventory (replaced as a set)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="software")
    name = models.CharField(_("name"), max_length=300)
    version = models.CharField(_("version"), max_length=100, blank=True)
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "version"]
        verbose_name = _("installed software")
        verbose_name_plural = _("installed software")
        indexes = [models.Index(fields=["client", "name"], name="assets_software_client_name")]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()


class SoftwareChangeKind(models.TextChoices):
    ADDED = "added", _("Installed")
    REMOVED = "removed", _("Removed")
    UPDATED = "updated", _("Updated")


class SoftwareChange(models.Model):
    """A difference between two inventories of a device: a program installed, removed or updated."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="software_changes")
    at = models.DateTimeField(_("when"), default=timezone.now)
    change = models.CharField(_("change"), max_length=10, choices=SoftwareChangeKind.choices)
    name = models.CharField(_("name"), max_length=300)
    version_before = models.CharField(_("version before"), max_length=100, blank=True)
    version_after = models.CharField(_("version after"), max_length=100, blank=True)
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "name"]
        verbose_name = _("software change")
        verbose_name_plural = _("software changes")

    def __str__(self) -> str:
        return f"{self.change} {self.name}"


class MetricSample(models.Model):
    """Raw performance sample (narrow time series; rolled up and pruned later)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", db_index=False)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+", db_index=False)
    at = models.DateTimeField()
    cpu_pct = models.FloatField(null=True)
    mem_pct = models.FloatField(null=True)
    disk_min_free_pct = models.FloatField(null=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("metric sample")
        indexes = [models.Index(fields=["device", "at"], name="assets_metric_device_at"),
                   models.Index(fields=["client", "at"], name="assets_metric_client_at")]

    def __str__(self) -> str:
        return f"{self.device_id}@{self.at:%Y-%m-%d %H:%M}"


class CheckStatus(models.IntegerChoices):
    PASS = 0, _("Pass")
    WARN = 1, _("Warning")
    FAIL = 2, _("Fail")
    ERROR = 3, _("Error")


class CheckResult(models.Model):
    """Raw result of one check run on a device (narrow time series; monitoring evaluates them in batches)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", db_index=False)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+", db_index=False)
    check_id = models.PositiveIntegerField()
    at = models.DateTimeField()
    status = models.PositiveSmallIntegerField(choices=CheckStatus.choices)
    value = models.FloatField(null=True)
    message = models.CharField(max_length=500, blank=True)
    seq = models.BigIntegerField()

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("check result")
        indexes = [models.Index(fields=["device", "check_id", "at"], name="assets_result_device_check_at"),
                   models.Index(fields=["client", "at"], name="assets_result_client_at")]

    def __str__(self) -> str:
        return f"check {self.check_id} on {self.device_id}: {self.get_status_display()}"


class DiscoveredDevice(TimeStampedModel):
    """Something an agent saw on a client's network (ARP/neighbour table or ping sweep), managed or not.

    One row per client and MAC address (or per IP address when the MAC is unknown), upserted by every
    agent that reports it. `matched_device` is set when a device of the client has that MAC or IP.
    """

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE,
                               related_name="discovered_devices")
    site = models.ForeignKey(Site, verbose_name=_("site"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    ip = models.CharField(_("IP address"), max_length=45)
    mac = models.CharField(_("MAC address"), max_length=17, blank=True,
                           help_text=_("Lower case, colon separated (aa:bb:cc:dd:ee:ff)."))
    hostname = models.CharField(_("hostname"), max_length=255, blank=True)
    vendor = models.CharField(_("vendor"), max_length=100, blank=True,
                              help_text=_("From the MAC address prefix, when known."))
    source = models.CharField(_("seen by"), max_length=10, blank=True)
    subnet = models.CharField(_("subnet"), max_length=50, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"), db_index=True)
    seen_by = models.ForeignKey(Device, verbose_name=_("seen by device"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    ignored = models.BooleanField(_("ignored"), default=False)
    matched_device = models.ForeignKey(Device, verbose_name=_("matching device"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="discovered_as")

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["ip", "pk"]
        verbose_name = _("discovered device")
        verbose_name_plural = _("discovered devices")
        constraints = [
            models.UniqueConstraint("client", "mac", condition=~models.Q(mac=""), name="assets_discovered_mac_unique",
                                    violation_error_message=_("This client already has a discovered device with "
                                                              "this MAC address.")),
            models.UniqueConstraint("client", "ip", condition=models.Q(mac=""), name="assets_discovered_ip_unique",
                                    violation_error_message=_("This client already has a discovered device with "
                                                              "this IP address.")),
        ]
        indexes = [models.Index(fields=["client", "ip"], name="assets_discovered_client_ip")]

    def __str__(self) -> str:
        return self.hostname or self.ip


class Licence(TimeStampedModel):
    """Software licences a client owns: seats against the devices whose inventory shows the product."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="licences")
    product = models.CharField(_("product"), max_length=200)
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    seats = models.PositiveIntegerField(_("seats"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    match_pattern = models.CharField(
        _("match pattern"), max_length=200,
        help_text=_("Installed programs whose name contains this text (any case) count as installed seats."))
    notes = models.TextField(_("notes"), blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["product", "pk"]
        verbose_name = _("licence")
        verbose_name_plural = _("licences")

    def __str__(self) -> str:
        return self.product


class DevicePostureDaily(models.Model):
    """A device's antivirus and backup posture as it stood at the end of one UTC day (the last posture the
    agent reported that day wins); kept forever, like the daily check rollups, so past scorecards read it."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField(_("day"))
    antivirus_state = models.CharField(_("antivirus state"), max_length=20, choices=AntivirusState.choices,
                                       blank=True)
    antivirus_definitions_at = models.DateTimeField(_("antivirus definitions"), null=True, blank=True)
    backup_tool = models.CharField(_("backup tool"), max_length=100, blank=True)
    last_backup_at = models.DateTimeField(_("last successful backup"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded"))

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["device", "day"]
        verbose_name = _("daily device posture")
        verbose_name_plural = _("daily device posture")
        constraints = [models.UniqueConstraint("device", "day", name="assets_posturedaily_device_day",
                                               violation_error_message=_("This day's posture is already kept."))]
        indexes = [models.Index(fields=["client", "day"], name="assets_posturedaily_client_day")]

    def __str__(self) -> str:
        return f"{self.device_id}@{self.day}"
