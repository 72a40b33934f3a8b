"""The inventory report of a client (hardware, software, licences installed against licences owned) as a page,
a CSV and a PDF, and its scheduled delivery by e-mail (report subscriptions).

Delivery: the daily `send_due_reports` task claims each due subscription with a conditional UPDATE (so two
workers send once) and emits `report.send_requested`; the outbox handler renders the PDFs and mails them, and a
failed send raises so the outbox tries again."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from tenfold.assets.models import Device, DeviceState, SoftwareItem
from tenfold.assets.selectors import client_licences
from tenfold.clients.models import Client, Contact
from tenfold.core import audit, events
from tenfold.core.errors import PermissionDenied, ValidationError
from tenfold.core.roles import has_capability, require
from tenfold.core.selectors import organization
from tenfold.core.tenancy import get_visible
from tenfold.reporting.kpi_models import Cadence, ReportFormat, ReportKind, ReportSubscription
from tenfold.reporting.kpis import add_months

logger = logging.getLogger(__name__)
STYLESHEET = "reporting/inventory.css"
MAX_RECIPIENTS = 20


# --- The report -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoftwareRow:
    name: str
    publisher: str
    versions: str
    devices: int


@dataclass(frozen=True)
class LicenceRow:
    product: str
    publisher: str
    owned: int
    installed: int
    expires_on: date | None

    @property
    def gap(self) -> int:
        """Seats owned − seats installed: negative when under-licensed."""
        return self.owned - self.installed


@dataclass
class InventoryReport:
    client: Client
    generated_at: Any
    devices: list[Device]
    software: list[SoftwareRow]
    licences: list[LicenceRow]

    @property
    def under_licensed(self) -> list[LicenceRow]:
        return [row for row in self.licences if row.gap < 0]


def build_inventory(client: Client) -> InventoryReport:
    """A client's devices in service (not retired), its installed software grouped by name and publisher (how
    many devices, which versions) and its licences with the seats installed (assets' count)."""
    devices = list(Device.objects.filter(client=client).exclude(state=DeviceState.RETIRED)
                   .select_related("site").order_by("kind", "name", "pk"))
    software_rows = (SoftwareItem.objects.filter(client=client).exclude(device__state=DeviceState.RETIRED)
                     .values("name", "publisher").annotate(n=Count("device_id", distinct=True), low=Min("version"),
                                                           high=Max("version")).order_by("name", "publisher"))
    software = [SoftwareRow(r["name"], r["publisher"], r["low"] if r["low"] == r["high"] else f"{r['low']} – "
                            f"{r['high']}", r["n"]) for r in software_rows]
    licences = [LicenceRow(lic.product, lic.publisher, lic.seats, lic.installed, lic.expires_on)  # type: ignore[attr-defined]
                for lic in client_licences(client.pk)]
    return InventoryReport(client, timezone.now(), devices, software, licences)


def _require_reader(actor: Any) -> None:
    require(actor, "devices", "view")
    if getattr(actor, "is_portal", True):
        raise PermissionDenied()


def inventory_for(actor: Any, client_id: Any) -> InventoryReport:
    """The inventory report of a client the actor sees (404 otherwise); staff who may see devices (403 else)."""
    client = get_visible(Client.objects.all(), actor, client_id)
    _require_reader(actor)
    return build_inventory(client)


def inventory_for_portal(actor: Any, client: Client) -> InventoryReport:
    """The inventory report of a portal user's own company: portal administrators read it ("devices, inventory:
    R own"), portal users may not (403); another company is a 404."""
    if not getattr(actor, "is_portal", False):
        raise PermissionDenied()
    own: Client = get_visible(Client.objects.all(), actor, client.pk)
    require(actor, "devices", "view")
    return build_inventory(own)


def inventory_clients(actor: Any) -> QuerySet[Client]:
    """Clients whose inventory report the actor may open, with their device counts."""
    _require_reader(actor)
    return (Client.objects.visible_to(actor).annotate(device_count=Count("devices")).order_by("name"))


HARDWARE_COLUMNS = ("name", "kind", "state", "managed", "site", "vendor", "model", "serial_number", "os_name",
                    "os_version", "cpu_model", "cpu_cores", "memory_gb", "purchase_date", "warranty_end",
                    "last_seen_at")


def _memory_gb(device: Device) -> str:
    return f"{device.memory_bytes / 1024 ** 3:.1f}" if device.memory_bytes else ""


def inventory_csv(report: InventoryReport) -> bytes:
    """Three sections: hardware (one device per row), software (one product per row), licences."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["hardware"])
    writer.writerow(HARDWARE_COLUMNS)
    for d in report.devices:
        writer.writerow([d.name, d.kind, d.state, "yes" if d.managed else "no", d.site.name if d.site else "",
                         d.vendor, d.model, d.serial_number, d.os_name, d.os_version, d.cpu_model, d.cpu_cores or "",
                         _memory_gb(d), d.purchase_date or "", d.warranty_end or "",
                         d.last_seen_at.isoformat() if d.last_seen_at else ""])
    writer.writerow([])
    writer.writerow(["software"])
    writer.writerow(["name", "publisher", "versions", "devices"])
    for s in report.software:
        writer.writerow([s.name, s.publisher, s.versions, s.devices])
    writer.writerow([])
    writer.writerow(["licences"])
    writer.writerow(["product", "publisher", "seats_owned", "seats_installed", "difference", "expires_on"])
    for lic in report.licences:
        writer.writerow([lic.product, lic.publisher, lic.owned, lic.installed, lic.gap, lic.expires_on or ""])
    return out.getvalue().encode("utf-8")


def stylesheet_text() -> str:
    path = finders.find(STYLESHEET)
    return Path(str(path)).read_text(encoding="utf-8") if path else ""


def inventory_html(reports: list[InventoryReport]) -> str:
    """The standalone HTML the PDF is made from (the page's own document template, one section per client)."""
    return render_to_string("reporting/inventory_pdf.html", {"reports": reports, "stylesheet": stylesheet_text(),
                                                             "organization": organization()})


def inventory_pdf(reports: list[InventoryReport]) -> bytes:
    from weasyprint import HTML

    pdf: Any = HTML(string=inventory_html(reports), base_url=str(Path(__file__).resolve().parent)).write_pdf()
    return bytes(pdf)


def pdf_filename(client: Client | None, day: date) -> str:
    return f"inventory-{client.pk if client else 'all'}-{day.isoformat()}.pdf"


# --- Subscriptions ----------------------------------------------------------------------------------------


def _require_staff(actor: Any) -> None:
    if getattr(actor, "is_portal", True):
        raise PermissionDenied()


def subscriptions_visible(actor: Any) -> QuerySet[ReportSubscription]:
    """The scheduled reports the actor sees: those of the clients they see, and the all-clients ones when they
    see every client (staff only: 403 for portal users)."""
    require(actor, "scorecards", "view")
    _require_staff(actor)
    return ReportSubscription.objects.visible_to(actor).select_related("client").order_by("next_send_on", "pk")


def access_subscription(actor: Any, subscription_id: Any) -> ReportSubscription:
    """A scheduled report the actor sees (404 otherwise, whatever the cause); staff who read reports (403 else)."""
    subscription: ReportSubscription = get_visible(ReportSubscription.objects.select_related("client"), actor,
                                                   subscription_id)
    _require_staff(actor)
    require(actor, "scorecards", "view")
    return subscription


def _require_all_clients_scope(actor: Any, client: Client | None) -> None:
    if client is None and actor.client_scope() is not None:
        raise PermissionDenied(_("Only staff who see every client can schedule a report of all clients."))


def _recipient_errors(addresses: list[str], client: Client | None) -> list[str]:
    """The addresses that are neither an active staff member's who sees the report's clients (every client for
    an all-clients report) nor, for one client's report, one of that client's contacts."""
    staff = {u.email.lower(): u for u in get_user_model().objects.filter(_any_of(addresses), is_active=True)
             if not u.is_portal}
    contacts = {c.lower() for c in Contact.objects.filter(_any_of(addresses), client=client)
                .values_list("email", flat=True)} if client else set()
    refused = []
    for address in addresses:
        user = staff.get(address)
        if user is not None:
            scope = user.client_scope()
            if scope is None or (client is not None and client.pk in scope):
                continue
        if address in contacts:
            continue
        refused.append(address)
    return refused


def _any_of(addresses: list[str]) -> Q:
    """e-mail equal to one of the addresses, whatever the case (stored addresses keep their capitals)."""
    condition = Q(pk__in=[])
    for address in addresses:
        condition |= Q(email__iexact=address)
    return condition


def clean_recipients(raw: str | list[str], client: Client | None) -> list[str]:
    """Valid, distinct addresses (lower-cased), at most MAX_RECIPIENTS; each a staff member's (who sees the
    client, or every client for an all-clients report) or, for one client's report, one of that client's
    contacts. A contact of another client is refused like any stranger."""
    items = raw if isinstance(raw, list) else raw.replace(",", "\n").splitlines()
    addresses: list[str] = []
    for item in items:
        address = str(item).strip().lower()
        if not address or address in addresses:
            continue
        try:
            validate_email(address)
        except DjangoValidationError:
            raise ValidationError(_("%(address)s is not an e-mail address.") % {"address": address[:100]},
                                  field="recipients") from None
        addresses.append(address)
    if not addresses:
        raise ValidationError(_("Give at least one recipient."), field="recipients")
    if len(addresses) > MAX_RECIPIENTS:
        raise ValidationError(_("At most %(n)s recipients.") % {"n": MAX_RECIPIENTS}, field="recipients")
    refused = _recipient_errors(addresses, client)
    if refused:
        raise ValidationError(_("%(address)s is neither a staff member who sees this report's clients nor a contact "
                                "of the client.") % {"address": refused[0][:100]}, field="recipients")
    return addresses


def _check_choices(report: str, cadence: str, fmt: str) -> None:
    if report not in ReportKind.values:
        raise ValidationError(_("Unknown report."), field="report")
    if cadence not in Cadence.values:
        raise ValidationError(_("Unknown cadence."), field="cadence")
    if fmt not in ReportFormat.values:
        raise ValidationError(_("Unknown format."), field="format")


@transaction.atomic
def subscription_create(*, actor: Any, report: str, client_id: int | None, recipients: str | list[str],
                        cadence: str, first_send_on: date, format: str = ReportFormat.PDF,
                        enabled: bool = True) -> ReportSubscription:
    """Schedule a report; refused (403) to roles that may not change scorecards and reports, and an all-clients
    report to staff restricted to some clients."""
    require(actor, "scorecards", "add")
    _require_staff(actor)
    client = get_visible(Client.objects.all(), actor, client_id) if client_id else None
    _require_all_clients_scope(actor, client)
    _check_choices(report, cadence, format)
    if first_send_on < timezone.localdate():
        raise ValidationError(_("The first delivery cannot be in the past."), field="next_send_on")
    addresses = clean_recipients(recipients, client)
    subscription = ReportSubscription.objects.create(report=report, client=client, recipients="\n".join(addresses),
                                                     cadence=cadence, format=format, enabled=enabled,
                                                     next_send_on=first_send_on, created_by=actor)
    audit.record(actor, "report_subscription.created", subscription, client_id=client.pk if client else None,
                 changes={"recipients": addresses, "cadence": cadence, "format": format, "enabled": enabled})
    events.emit("report_subscription.created", payload={"subscription_id": subscription.pk},
                client_id=client.pk if client else None)
    return subscription


EDITABLE = ("report", "recipients", "cadence", "format", "enabled", "next_send_on")


@transaction.atomic
def subscription_update(*, actor: Any, subscription: ReportSubscription, data: dict[str, Any]) -> ReportSubscription:
    """Change a scheduled report's report, recipients, cadence, format, next delivery or enable/disable it (its
    client stays). Every value is checked before anything is written; the audit row lists what changed."""
    require(actor, "scorecards", "change")
    _require_staff(actor)
    _require_all_clients_scope(actor, subscription.client)
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    values = {field: getattr(subscription, field) for field in EDITABLE}
    values.update({k: v for k, v in data.items() if v is not None})
    _check_choices(values["report"], values["cadence"], values["format"])
    if "recipients" in data and data["recipients"] is not None:
        values["recipients"] = "\n".join(clean_recipients(data["recipients"], subscription.client))
    if values["next_send_on"] != subscription.next_send_on and values["next_send_on"] < timezone.localdate():
        raise ValidationError(_("The next delivery cannot be in the past."), field="next_send_on")
    values["enabled"] = bool(values["enabled"])
    changes = {field: [_plain(getattr(subscription, field)), _plain(values[field])] for field in EDITABLE
               if getattr(subscription, field) != values[field]}
    if not changes:
        return subscription
    for field, value in values.items():
        setattr(subscription, field, value)
    subscription.save(update_fields=[*changes, "updated_at"])
    audit.record(actor, "report_subscription.updated", subscription, client_id=subscription.client_id,
                 changes=changes)
    events.emit("report_subscription.updated", payload={"subscription_id": subscription.pk},
                client_id=subscription.client_id)
    return subscription


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


@transaction.atomic
def subscription_delete(*, actor: Any, subscription: ReportSubscription) -> None:
    """Stop and remove a scheduled report."""
    require(actor, "scorecards", "delete")
    _require_staff(actor)
    _require_all_clients_scope(actor, subscription.client)
    client_id = subscription.client_id
    audit.record(actor, "report_subscription.deleted", subscription, client_id=client_id)
    events.emit("report_subscription.deleted", payload={"subscription_id": subscription.pk}, client_id=client_id)
    subscription.delete()


def next_date(day: date, cadence: str) -> date:
    """The delivery after `day`: a week, or a month or quarter later on the same day (the month's last if shorter)."""
    from datetime import timedelta

    if cadence == Cadence.WEEKLY:
        return day + timedelta(days=7)
    months = 1 if cadence == Cadence.MONTHLY else 3
    target = add_months(day, months)
    import calendar

    return target.replace(day=min(day.day, calendar.monthrange(target.year, target.month)[1]))


@task()
def send_due_reports() -> dict[str, int]:
    """Claim each enabled subscription due today or earlier (moving its date on by its cadence, in one
    conditional UPDATE) and ask for its delivery; safe to run twice."""
    today = timezone.localdate()
    claimed = 0
    for sub in ReportSubscription.objects.filter(next_send_on__lte=today, enabled=True).order_by("pk"):
        upcoming = next_date(sub.next_send_on, sub.cadence)
        while upcoming <= today:
            upcoming = next_date(upcoming, sub.cadence)
        with transaction.atomic():
            moved = ReportSubscription.objects.filter(pk=sub.pk, next_send_on=sub.next_send_on, enabled=True).update(
                next_send_on=upcoming, updated_at=timezone.now())
            if moved:
                events.emit("report.send_requested", payload={"subscription_id": sub.pk, "on": today.isoformat()},
                            client_id=sub.client_id)
                claimed += 1
    return {"claimed": claimed}


@dataclass(frozen=True)
class ReportDelivery:
    """Who reads the data when a scheduled report is rendered: the system, with a finance user's read rights on
    devices and no client restriction (the subscription itself says which client); never a user id."""

    role: str = "finance"
    pk: None = None
    is_authenticated: bool = True
    is_portal: bool = False

    def client_scope(self) -> frozenset[int] | None:
        return None

    def __str__(self) -> str:
        return "report delivery"


def report_files(sub: ReportSubscription, day: date) -> list[tuple[str, bytes, str]]:
    """The attachments of one delivery: (file name, content, MIME type). A PDF holds every client of the report;
    an inventory CSV is one file per client."""
    clients = [sub.client] if sub.client else list(Client.objects.order_by("name"))
    stem = f"{sub.client.pk if sub.client else 'all'}-{day.isoformat()}"
    if sub.report == ReportKind.PATCH:
        from tenfold.patching.report import patch_report, report_csv, report_pdf

        patch = patch_report(ReportDelivery(), sub.client)
        if sub.format == ReportFormat.CSV:
            return [(f"patch-report-{stem}.csv", report_csv(patch).encode("utf-8"), "text/csv")]
        return [(f"patch-report-{stem}.pdf", report_pdf(patch), "application/pdf")]
    reports = [build_inventory(client) for client in clients]
    if sub.format == ReportFormat.CSV:
        return [(f"inventory-{r.client.pk}-{day.isoformat()}.csv", inventory_csv(r), "text/csv") for r in reports]
    return [(pdf_filename(sub.client, day), inventory_pdf(reports), "application/pdf")]


def on_report_send_requested(event: Any) -> None:
    """Outbox handler: render the report (one client, or every client) and mail it to the recipients who may
    still receive it (a contact removed or a staff member restricted since is left out), in the organization's
    language. A failure raises: the outbox keeps the event."""
    from django.conf import settings
    from django.core.mail import EmailMessage
    from django.utils import translation

    payload = event.payload or {}
    sub = ReportSubscription.objects.select_related("client").filter(pk=int(payload.get("subscription_id") or 0)
                                                                     ).first()
    if sub is None or not sub.enabled:
        return
    day = date.fromisoformat(str(payload.get("on") or timezone.localdate().isoformat()))
    refused = set(_recipient_errors(sub.recipient_list(), sub.client))
    to = [address for address in sub.recipient_list() if address not in refused]
    if not to:
        audit.record(None, "report.skipped", sub, client_id=sub.client_id, changes={"refused": sorted(refused)})
        return
    org = organization()
    with translation.override(org.default_language or settings.LANGUAGE_CODE):
        files = report_files(sub, day)
        subject = _("%(report)s — %(client)s — %(day)s") % {
            "report": sub.get_report_display(), "client": sub.client.name if sub.client else _("All clients"),
            "day": day.isoformat()}
        body = _("Hello,\n\nPlease find attached the %(report)s.\n\n%(org)s\n") % {
            "report": str(sub.get_report_display()).lower(), "org": org.name}
    message = EmailMessage(subject=str(subject), body=str(body), to=to,
                           headers={"X-Tenfold-Report": f"{sub.report}:{sub.pk}"})
    for name, content, mimetype in files:
        message.attach(name, content, mimetype)
    message.send(fail_silently=False)
    ReportSubscription.objects.filter(pk=sub.pk).update(last_sent_at=timezone.now())
    audit.record(None, "report.sent", sub, client_id=sub.client_id, changes={"to": to, "refused": sorted(refused)})
    logger.info("report subscription %s sent", sub.pk)


def can_schedule(actor: Any) -> bool:
    """Whether the actor may schedule, change and delete reports (staff whose role changes scorecards)."""
    return has_capability(actor, "scorecards", "add") and not getattr(actor, "is_portal", True)
