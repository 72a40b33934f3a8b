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


class ScriptRun(TimeStampedModel):
    """A script version sent to one device: the job that carries it and the parameters (secrets by name only)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="script_run")
    version = models.ForeignKey(ScriptVersion, on_delete=models.PROTECT, related_name="runs")
    # Values of ordinary parameters; a secret parameter appears with the value "[secret]".
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("script run")
        verbose_name_plural = _("script runs")

    def __str__(self) -> str:
        return f"run of {self.version_id} on {self.device_id}"
