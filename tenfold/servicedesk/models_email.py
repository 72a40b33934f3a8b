"""The service desk's email channel: client email domains, the record of every inbound message (the
idempotence key and the triage queue), ticket attachments, and the mailbox's polling state."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from tenfold.core.models import TimeStampedModel
from tenfold.core.tenancy import ClientOwnedQuerySet


class ClientEmailDomain(TimeStampedModel):
    """A mail domain of a client: a sender at this domain who is not yet a contact opens tickets for it."""

    client = models.ForeignKey("clients.Client", verbose_name=_("client"), on_delete=models.CASCADE,
                               related_name="email_domains")
    domain = models.CharField(_("domain"), max_length=253,
                              help_text=_("The part after @ in the client's addresses, e.g. example.com."))

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["domain"]
        verbose_name = _("client email domain")
        verbose_name_plural = _("client email domains")
        constraints = [models.UniqueConstraint(
            Lower("domain"), name="servicedesk_email_domain_unique_ci",
            violation_error_message=_("This domain already belongs to a client."))]

    def __str__(self) -> str:
        return self.domain


class InboundStatus(models.TextChoices):
    CREATED = "created", _("Ticket opened")
    THREADED = "threaded", _("Added to a ticket")
    TRIAGE = "triage", _("Waiting in triage")
    REFUSED = "refused", _("Refused (unknown sender)")
    IGNORED = "ignored", _("Ignored (automatic message)")
    ASSIGNED = "assigned", _("Assigned from triage")
    DISMISSED = "dismissed", _("Dismissed from triage")


class InboundEmail(TimeStampedModel):
    """One message received by the support mailbox (IMAP or SMTP), applied once by its Message-ID.

    A message from an unknown sender waits here in triage (when the setting says so) with its raw
    content, until a staff member assigns it to a client or dismisses it. MSP-level: checked by role."""

    message_id = models.CharField(_("message id"), max_length=300, unique=True)
    channel = models.CharField(_("channel"), max_length=10, default="imap")
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    sender_name = models.CharField(_("sender name"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=InboundStatus.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    ticket = models.ForeignKey("servicedesk.Ticket", verbose_name=_("ticket"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    raw = models.BinaryField(_("raw message"), blank=True, default=b"")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")
        indexes = [models.Index(fields=["status", "-created_at"], name="sd_inbound_status")]

    def __str__(self) -> str:
        return f"{self.sender}: {self.subject}"


class TicketAttachment(TimeStampedModel):
    """A file received with a ticket's email (or added in the portal), stored in the media storage."""

    client = models.ForeignKey("clients.Client", verbose_name=_("client"), on_delete=models.CASCADE,
                               related_name="+")
    ticket = models.ForeignKey("servicedesk.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE,
                               related_name="attachments")
    entry = models.ForeignKey("servicedesk.TicketEntry", verbose_name=_("timeline entry"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="attachments")
    file = models.FileField(_("file"), upload_to="tickets/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class SentEmail(TimeStampedModel):
    """A notification the service desk sent about a ticket: its Message-ID threads the answer back."""

    client = models.ForeignKey("clients.Client", verbose_name=_("client"), on_delete=models.CASCADE,
                               related_name="+")
    ticket = models.ForeignKey("servicedesk.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE,
                               related_name="sent_emails")
    entry = models.ForeignKey("servicedesk.TicketEntry", verbose_name=_("timeline entry"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(_("kind"), max_length=20)
    message_id = models.CharField(_("message id"), max_length=300, unique=True)
    recipients = models.CharField(_("recipients"), max_length=500)
    subject = models.CharField(_("subject"), max_length=300)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("sent email")
        verbose_name_plural = _("sent emails")

    def __str__(self) -> str:
        return self.subject


class MailboxState(models.Model):
    """The support mailbox's last poll (one row): when, how many, the last error; for the status page."""

    name = models.CharField(max_length=40, unique=True, default="support")
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_count = models.PositiveIntegerField(default=0)
    total_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("mailbox state")

    def __str__(self) -> str:
        return self.name
