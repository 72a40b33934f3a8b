"""Runbooks (versioned, with checklists), client documentation, the credential vault and the search index."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.clients.models import Client, Site
from tenfold.core.models import TimeStampedModel
from tenfold.core.tenancy import ClientOwnedQuerySet
from tenfold.monitoring.checktypes import CheckType
from tenfold.monitoring.models import CheckDefinition

MAX_TITLE = 200


class StaffOrClientQuerySet(ClientOwnedQuerySet[Any]):
    """Rows with no client are the MSP's: every staff user sees them. Rows of a client follow the tenancy
    scope (a portal user's scope is their own client; the selectors then refuse portal users: 403)."""

    def visible_to(self, actor: Any) -> Any:
        if actor is None or not getattr(actor, "is_authenticated", False):
            return self.none()
        scope = actor.client_scope()
        if getattr(actor, "is_portal", False):
            lookup = getattr(self.model, "tenant_lookup", "client_id")
            return self.filter(**{f"{lookup}__in": scope or ()})
        if scope is None:
            return self
        lookup = getattr(self.model, "tenant_lookup", "client_id")
        return self.filter(Q(**{f"{lookup}__isnull": True}) | Q(**{f"{lookup}__in": scope}))


class RunbookCategory(TimeStampedModel):
    """A heading runbooks are filed under (Onboarding, Security, Workstations …). MSP-level."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("runbook category")
        verbose_name_plural = _("runbook categories")

    def __str__(self) -> str:
        return self.name


class RunbookKind(models.TextChoices):
    HOW_WE_WORK = "how_we_work", _("How we work")
    TASK = "task", _("Task procedure")
    TEMPLATE = "template", _("Template")


class Runbook(TimeStampedModel):
    """A documented procedure in Markdown with a checklist of steps. No client: the MSP's, seen by every
    staff user; with a client: that client's, seen only by who sees the client (and, once shared with the
    client, by its portal administrators in the portal). Every save is a version."""

    title = models.CharField(_("title"), max_length=MAX_TITLE)
    slug = models.SlugField(_("slug"), max_length=220, unique=True)
    category = models.ForeignKey(RunbookCategory, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="runbooks")
    kind = models.CharField(_("kind"), max_length=20, choices=RunbookKind.choices, default=RunbookKind.TASK,
                            db_index=True)
    client = models.ForeignKey(Client, verbose_name=_("client"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="runbooks", help_text=_("Empty: a procedure of the whole MSP."))
    body_markdown = models.TextField(_("body (Markdown)"), blank=True)
    current_version = models.PositiveIntegerField(_("version"), default=0)
    archived = models.BooleanField(_("archived"), default=False, db_index=True)
    shared_with_client = models.BooleanField(
        _("shared with the client"), default=False,
        help_text=_("The client's portal administrators can read it in the portal (client runbooks only)."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("updated by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    objects = StaffOrClientQuerySet.as_manager()

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("runbook")
        verbose_name_plural = _("runbooks")

    def __str__(self) -> str:
        return self.title


class RunbookStep(models.Model):
    """One step of a runbook's current checklist."""

    tenant_lookup = "runbook__client_id"

    runbook = models.ForeignKey(Runbook, verbose_name=_("runbook"), on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"))
    text = models.CharField(_("step"), max_length=500)
    required = models.BooleanField(_("required"), default=True)

    objects = StaffOrClientQuerySet.as_manager()

    class Meta:
        ordering = ["runbook_id", "position"]
        verbose_name = _("runbook step")
        verbose_name_plural = _("runbook steps")
        constraints = [models.UniqueConstraint("runbook", "position", name="knowledge_step_position_unique",
                                               violation_error_message=_("Two steps have the same position."))]

    def __str__(self) -> str:
        return self.text


class RunbookVersion(models.Model):
    """A saved state of a runbook: its text and its steps as they were. Kept for ever; diffs compare two."""

    tenant_lookup = "runbook__client_id"

    runbook = models.ForeignKey(Runbook, verbose_name=_("runbook"), on_delete=models.CASCADE,
                                related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=MAX_TITLE)
    body_markdown = models.TextField(_("body (Markdown)"), blank=True)
    steps = models.JSONField(_("steps"), default=list, blank=True)
    summary = models.CharField(_("change summary"), max_length=300, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = StaffOrClientQuerySet.as_manager()

    class Meta:
        ordering = ["runbook_id", "-number"]
        verbose_name = _("runbook version")
        verbose_name_plural = _("runbook versions")
        constraints = [models.UniqueConstraint("runbook", "number", name="knowledge_version_number_unique",
                                               violation_error_message=_("This version already exists."))]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"


class CheckRunbookLink(TimeStampedModel):
    """Which runbook to follow when a check fails: for every check of a type, or for one check
    (the more specific link wins). The runbook is the MSP's (no client), as check types are."""

    tenant_lookup = "check_definition__policy__client_id"

    check_type = models.CharField(_("check type"), max_length=20, choices=CheckType.choices, blank=True)
    check_definition = models.ForeignKey(CheckDefinition, verbose_name=_("check"), null=True, blank=True,
                                         on_delete=models.CASCADE, related_name="+")
    runbook = models.ForeignKey(Runbook, verbose_name=_("runbook"), on_delete=models.CASCADE,
                                related_name="check_links")

    objects = StaffOrClientQuerySet.as_manager()

    class Meta:
        ordering = ["check_type", "check_definition_id"]
        verbose_name = _("check runbook")
        verbose_name_plural = _("check runbooks")
        constraints = [
            models.CheckConstraint(
                condition=(Q(check_definition__isnull=True) & ~Q(check_type=""))
                | (Q(check_definition__isnull=False) & Q(check_type="")),
                name="knowledge_link_type_or_check"),
            models.UniqueConstraint("check_type", condition=Q(check_definition__isnull=True),
                                    name="knowledge_link_one_per_type",
                                    violation_error_message=_("This check type already has a runbook.")),
            models.UniqueConstraint("check_definition", condition=Q(check_definition__isnull=False),
                                    name="knowledge_link_one_per_check",
                                    violation_error_message=_("This check already has a runbook.")),
        ]

    def __str__(self) -> str:
        return f"{self.check_type or self.check_definition_id} → {self.runbook_id}"


class ClientDoc(TimeStampedModel):
    """A client's documentation: the environment overview and when it was last reviewed, by whom. Once shared
    with the client, its portal administrators read the overview in the portal."""

    client = models.OneToOneField(Client, verbose_name=_("client"), on_delete=models.CASCADE,
                                  related_name="documentation")
    overview_markdown = models.TextField(_("environment overview (Markdown)"), blank=True)
    last_reviewed_at = models.DateTimeField(_("last reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    shared_with_client = models.BooleanField(
        _("shared with the client"), default=False,
        help_text=_("The client's portal administrators can read the environment overview in the portal."))

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["client_id"]
        verbose_name = _("client documentation")
        verbose_name_plural = _("client documentation")

    def __str__(self) -> str:
        return str(self.client)


class NetworkKind(models.TextChoices):
    SUBNET = "subnet", _("Subnet")
    VLAN = "vlan", _("VLAN")
    FIREWALL = "firewall", _("Firewall")
    ISP = "isp", _("Internet access (ISP)")


class NetworkItem(TimeStampedModel):
    """One row of a client's network: a subnet (CIDR), a VLAN (1–4094), a firewall or an internet line."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE,
                               related_name="network_items")
    site = models.ForeignKey(Site, verbose_name=_("site"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=NetworkKind.choices)
    name = models.CharField(_("name"), max_length=120)
    address = models.CharField(_("address"), max_length=64, blank=True,
                               help_text=_("Subnet in CIDR notation (10.0.10.0/24) or an IP address."))
    vlan_id = models.PositiveSmallIntegerField(_("VLAN id"), null=True, blank=True,
                                               validators=[MinValueValidator(1), MaxValueValidator(4094)])
    provider = models.CharField(_("provider / model"), max_length=120, blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["client_id", "kind", "name"]
        verbose_name = _("network item")
        verbose_name_plural = _("network items")

    def __str__(self) -> str:
        return self.name


class KeyApplication(TimeStampedModel):
    """An application the client's business depends on, with who supports it."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE,
                               related_name="key_applications")
    name = models.CharField(_("name"), max_length=120)
    vendor = models.CharField(_("vendor"), max_length=120, blank=True)
    url = models.URLField(_("URL"), blank=True, max_length=500)
    support_contact = models.CharField(_("vendor support"), max_length=200, blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["client_id", "name"]
        verbose_name = _("key application")
        verbose_name_plural = _("key applications")

    def __str__(self) -> str:
        return self.name


class Credential(TimeStampedModel):
    """A secret in the vault: encrypted with its own data key, which the key-encryption key (outside the
    database) wraps. No client: the MSP's own credential."""

    client = models.ForeignKey(Client, verbose_name=_("client"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="credentials", help_text=_("Empty: a credential of the MSP itself."))
    name = models.CharField(_("name"), max_length=200)
    username = models.CharField(_("username"), max_length=200, blank=True)
    url = models.URLField(_("URL"), blank=True, max_length=500)
    notes = models.TextField(_("notes"), blank=True, help_text=_("Not encrypted: put no secret here."))
    wrapped_key = models.BinaryField(_("wrapped data key"))
    key_id = models.CharField(_("key-encryption key id"), max_length=16)
    secret_ciphertext = models.BinaryField(_("encrypted secret"))
    totp_ciphertext = models.BinaryField(_("encrypted TOTP seed"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    objects = StaffOrClientQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")

    def __str__(self) -> str:
        return self.name

    @property
    def has_totp(self) -> bool:
        return self.totp_ciphertext is not None


class CredentialReveal(models.Model):
    """Someone saw a credential's secret (or its TOTP code): who, when, from where."""

    tenant_lookup = "credential__client_id"

    credential = models.ForeignKey(Credential, verbose_name=_("credential"), on_delete=models.CASCADE,
                                   related_name="reveals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True,
                             on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("when"), default=timezone.now)
    channel = models.CharField(_("channel"), max_length=10, default="ui")
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = StaffOrClientQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("credential reveal")
        verbose_name_plural = _("credential reveals")

    def __str__(self) -> str:
        return f"{self.credential_id} @ {self.at:%Y-%m-%d %H:%M}"


class SearchDocument(models.Model):
    """The search index: one row per searchable record (runbook, client documentation), kept in step by the
    services. On PostgreSQL a generated tsvector column `search_vector` with a GIN index (added by the
migration, outside the model state); on SQLite an FTS5 table kept in step by triggers (see migration 0002)."""

    kind = models.CharField(max_length=20)
    object_id = models.PositiveBigIntegerField()
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = StaffOrClientQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = "search document"
        constraints = [models.UniqueConstraint("kind", "object_id", name="knowledge_searchdoc_unique")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"
