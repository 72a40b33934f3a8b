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
from django.db.models import Count, Max, Min, QuerySet
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
from tenfold.reporting.kpi_models import Cadence, ReportKind, ReportSubscription
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


def subscriptions_visible(actor: Any) -> QuerySet[ReportSubscription]:
    require(actor, "scorecards", "view")
    if getattr(actor, "is_portal", True):
        raise PermissionDenied()
    return ReportSubscription.objects.visible_to(actor).select_related("client").order_by("next_send_on", "pk")


def access_subscription(actor: Any, subscription_id: Any) -> ReportSubscription:
    subscription: ReportSubscription = get_visible(ReportSubscription.objects.select_related("client"), actor,
                                                   subscription_id)
    if getattr(actor, "is_portal", True):
        raise PermissionDenied()
    require(actor, "scorecards", "view")
    return subscription


def clean_recipients(raw: str, client: Client | None) -> list[str]:
    """Valid, distinct addresses, at most MAX_RECIPIENTS; each a staff member's (who sees the client, or every
    client for an all-clients report) or, for one client's report, one of that client's contacts."""
    addresses: list[str] = []
    for item in raw.replace(",", "\n").splitlines():
        address = item.strip().lower()
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
    staff = {u.email.lower(): u for u in get_user_model().objects.filter(email__in=addresses, is_active=True)
             if not u.is_portal}
    contacts = set(Contact.objects.filter(client=client, email__in=addresses).values_list("email", flat=True)
                   ) if client else set()
    contacts = {c.lower() for c in contacts}
    for address in addresses:
        user = staff.get(address)
        if user is not None:
            scope = user.client_scope()
            if scope is None or (client is not None and client.pk in scope):
                continue
        if address in contacts:
            continue
        raise ValidationError(_("%(address)s is neither a staff member who sees this report's clients nor a contact "
                                "of the client.") % {"address": address[:100]}, field="recipients")
    return addresses


@transaction.atomic
def subscription_create(*, actor: Any, report: str, client_id: int | None, recipients: str, cadence: str,
                        first_send_on: date) -> ReportSubscription:
    """Schedule a report; refused (403) to roles that may not change scorecards and reports."""
    require(actor, "scorecards", "add")
    if getattr(actor, "is_portal", True):
        raise PermissionDenied()
    client = get_visible(Client.objects.all(), actor, client_id) if client_id else None
    if client is None and actor.client_scope() is not None:
        raise PermissionDenied(_("Only staff who see every client can schedule a report of all clients."))
    if report not in ReportKind.values:
        raise ValidationError(_("Unknown report."), field="report")
    if cadence not in Cadence.values:
        raise ValidationError(_("Unknown cadence."), field="cadence")
    if first_send_on < timezone.localdate():
        raise ValidationError(_("The first delivery cannot be in the past."), field="next_send_on")
    addresses = clean_recipients(recipients, client)
    subscription = ReportSubscription.objects.create(report=report, client=client, recipients="\n".join(addresses),
                                                     cadence=cadence, next_send_on=first_send_on, created_by=actor)
    audit.record(actor, "report_subscription.created", subscription, client_id=client.pk if client else None,
                 changes={"recipients": addresses, "cadence": cadence})
    events.emit("report_subscription.created", payload={"subscription_id": subscription.pk},
                client_id=client.pk if client else None)
    return subscription


@transaction.atomic
def subscription_delete(*, actor: Any, subscription: ReportSubscription) -> None:
    require(actor, "scorecards", "delete")
    client_id = subscription.client_id
    audit.record(actor, "report_subscription.deleted", subscription, client_id=client_id)
    events.emit("report_subscription.deleted", payload={"subscription_id": subscription.pk}, client_id=client_id)
    subscription.delete()


def next_date(day: date, cadence: str) -> date:
    from datetime import timedelta

    if cadence == Cadence.WEEKLY:
        return day + timedelta(days=7)
    months = 1 if cadence == Cadence.MONTHLY else 3
    target = add_months(day, months)
    import calendar

    return target.replace(day=min(day.day, calendar.monthrange(target.year, target.month)[1]))


@task()
def send_due_reports() -> dict[str, int]:
    """Claim each subscription due today or earlier (moving its date on by its cadence, in one conditional
    UPDATE) and ask for its delivery; safe to run twice."""
    today = timezone.localdate()
    claimed = 0
    for sub in ReportSubscription.objects.filter(next_send_on__lte=today).order_by("pk"):
        upcoming = next_date(sub.next_send_on, sub.cadence)
        while upcoming <= today:
            upcoming = next_date(upcoming, sub.cadence)
        with transaction.atomic():
            moved = ReportSubscription.objects.filter(pk=sub.pk, next_send_on=sub.next_send_on).update(
                next_send_on=upcoming, updated_at=timezone.now())
            if moved:
                events.emit("report.send_requested", payload={"subscription_id": sub.pk, "on": today.isoformat()},
                            client_id=sub.client_id)
                claimed += 1
    return {"claimed": claimed}


def on_report_send_requested(event: Any) -> None:
    """Outbox handler: render the report (one client, or every client in one PDF) and mail it to the
    recipients, in the organization's language. A failure raises: the outbox keeps the event."""
    from django.conf import settings
    from django.core.mail import EmailMessage
    from django.utils import translation

    payload = event.payload or {}
    sub = ReportSubscription.objects.select_related("client").filter(pk=int(payload.get("subscription_id") or 0)
                                                                     ).first()
    if sub is None:
        return
    day = date.fromisoformat(str(payload.get("on") or timezone.localdate().isoformat()))
    clients = [sub.client] if sub.client else list(Client.objects.order_by("name"))
    org = organization()
    with translation.override(org.default_language or settings.LANGUAGE_CODE):
        reports = [build_inventory(client) for client in clients]
        pdf = inventory_pdf(reports)
        subject = _("Inventory report — %(client)s — %(day)s") % {
            "client": sub.client.name if sub.client else _("All clients"), "day": day.isoformat()}
        body = _("Hello,\n\nPlease find attached the inventory report (hardware, software and licences).\n\n%(org)s\n"
                 ) % {"org": org.name}
    message = EmailMessage(subject=str(subject), body=str(body), to=sub.recipient_list(),
                           headers={"X-Tenfold-Report": f"{sub.report}:{sub.pk}"})
    message.attach(pdf_filename(sub.client, day), pdf, "application/pdf")
    message.send(fail_silently=False)
    ReportSubscription.objects.filter(pk=sub.pk).update(last_sent_at=timezone.now())
    audit.record(None, "report.sent", sub, client_id=sub.client_id, changes={"to": sub.recipient_list()})
    logger.info("report subscription %s sent", sub.pk)


def can_schedule(actor: Any) -> bool:
    return has_capability(actor, "scorecards", "add") and not getattr(actor, "is_portal", True)
