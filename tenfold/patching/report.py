"""The patch report, for one client or every client the reader sees: devices up to date, update status,
approval status, status per device, missing critical updates by age; as a page, CSV and PDF.

Definitions (docs/user-guide.md, "Patching"):
- the devices counted are the managed devices that are not retired and have listed their updates at least
  once; the others are reported apart as "not reported yet";
- a device is up to date when none of its updates is missing, pending install or failed *and* approved
  (effective approval: a decision, else the policy's auto-approval); an update awaiting approval, rejected
  or deferred does not make a device out of date;
- the share of devices up to date is up to date ÷ counted × 100, rounded half up to 0.1 (2 of 3: 66.7 %);
- a critical update is a security or critical update, or one rated critical; its age counts in days from its
  release date, or from the day it was first seen on the device when the date is unknown.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone

from tenfold.assets.models import Device, DeviceState
from tenfold.clients.models import Client
from tenfold.core.roles import require
from tenfold.core.selectors import organization
from tenfold.patching.approvals import statuses_for
from tenfold.patching.models import (
    NOT_INSTALLED,
    DeviceUpdate,
    DeviceUpdateScan,
    DeviceUpdateState,
    UpdateApprovalStatus,
)

STYLESHEET = "patching/report.css"
AGE_BUCKETS = (("0_7", 0, 7), ("8_30", 8, 30), ("over_30", 31, None))


@dataclass
class DeviceRow:
    """One device's line of the report."""

    device: Device
    missing: int = 0
    approved_missing: int = 0
    critical_missing: int = 0
    failed: int = 0
    installed: int = 0
    scanned_at: datetime | None = None

    @property
    def up_to_date(self) -> bool:
        return self.approved_missing == 0


@dataclass
class PatchReport:
    """The report's figures (exact counts; the share rounded to 0.1)."""

    client: Client | None
    generated_at: datetime
    devices_counted: int = 0
    devices_up_to_date: int = 0
    not_reported: list[Device] = field(default_factory=list)
    states: dict[str, int] = field(default_factory=dict)
    approvals: dict[str, int] = field(default_factory=dict)
    critical_by_age: dict[str, int] = field(default_factory=dict)
    devices: list[DeviceRow] = field(default_factory=list)

    @property
    def share_up_to_date(self) -> Decimal | None:
        if not self.devices_counted:
            return None
        share = Decimal(self.devices_up_to_date) * 100 / Decimal(self.devices_counted)
        return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def as_dict(self) -> dict[str, Any]:
        share = self.share_up_to_date
        return {
            "client_id": self.client.pk if self.client else None,
            "generated_at": self.generated_at,
            "devices_counted": self.devices_counted, "devices_up_to_date": self.devices_up_to_date,
            "share_up_to_date": str(share) if share is not None else None,
            "devices_not_reported": len(self.not_reported),
            "states": self.states, "approvals": self.approvals, "critical_by_age": self.critical_by_age,
            "devices": [{"device_id": r.device.pk, "device": r.device.name, "client": r.device.client.name,
                         "missing": r.missing, "approved_missing": r.approved_missing,
                         "critical_missing": r.critical_missing, "failed": r.failed, "installed": r.installed,
                         "up_to_date": r.up_to_date, "scanned_at": r.scanned_at} for r in self.devices],
        }


def _age_bucket(days: int) -> str:
    for key, low, high in AGE_BUCKETS:
        if days >= low and (high is None or days <= high):
            return key
    return AGE_BUCKETS[0][0]


def patch_report(actor: Any, client: Client | None = None, now: datetime | None = None) -> PatchReport:
    """The report over the devices the actor sees (of `client` when given)."""
    require(actor, "devices", "view")
    now = now or timezone.now()
    today = timezone.localdate(now)
    devices = Device.objects.visible_to(actor).filter(managed=True).exclude(state=DeviceState.RETIRED)
    if client is not None:
        devices = devices.filter(client=client)
    device_list = list(devices.select_related("client", "site").order_by("client__name", "name", "pk"))
    scans = dict(DeviceUpdateScan.objects.filter(device__in=[d.pk for d in device_list])
                 .values_list("device_id", "scanned_at"))
    report = PatchReport(client=client, generated_at=now,
                         states={s: 0 for s in (DeviceUpdateState.INSTALLED, DeviceUpdateState.MISSING,
                                                DeviceUpdateState.PENDING_INSTALL, DeviceUpdateState.FAILED)},
                         approvals={s: 0 for s in UpdateApprovalStatus.values},
                         critical_by_age={key: 0 for key, _low, _high in AGE_BUCKETS})
    rows = {d.pk: DeviceRow(device=d, scanned_at=scans[d.pk]) for d in device_list if d.pk in scans}
    report.not_reported = [d for d in device_list if d.pk not in scans]
    updates = list(DeviceUpdate.objects.filter(device_id__in=list(rows))
                   .exclude(state=DeviceUpdateState.SUPERSEDED).select_related("update", "device", "device__site"))
    pending = [du for du in updates if du.state in NOT_INSTALLED]
    statuses = statuses_for(pending, now)
    for du in updates:
        report.states[du.state] += 1
        row = rows[du.device_id]
        if du.state == DeviceUpdateState.INSTALLED:
            row.installed += 1
            continue
        row.missing += 1
        row.failed += du.state == DeviceUpdateState.FAILED
        status = statuses[du.pk]
        report.approvals[status] += 1
        if status == UpdateApprovalStatus.APPROVED:
            row.approved_missing += 1
        if du.update.is_critical:
            row.critical_missing += 1
            basis: date = du.update.released_on or timezone.localdate(du.first_seen_at)
            report.critical_by_age[_age_bucket(max(0, (today - basis).days))] += 1
    report.devices = list(rows.values())
    report.devices_counted = len(rows)
    report.devices_up_to_date = sum(1 for r in rows.values() if r.up_to_date)
    return report


def report_csv(report: PatchReport) -> str:
    """One line per device counted, then the devices not reported yet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["client", "device", "up_to_date", "missing", "approved_missing", "critical_missing", "failed",
                     "installed", "last_listed"])
    for row in report.devices:
        writer.writerow([row.device.client.name, row.device.name, "yes" if row.up_to_date else "no", row.missing,
                         row.approved_missing, row.critical_missing, row.failed, row.installed,
                         row.scanned_at.isoformat().replace("+00:00", "Z") if row.scanned_at else ""])
    for device in report.not_reported:
        writer.writerow([device.client.name, device.name, "not reported", "", "", "", "", "", ""])
    share = report.share_up_to_date
    writer.writerow([])
    writer.writerow(["devices_up_to_date", report.devices_up_to_date, "of", report.devices_counted,
                     f"{share} %" if share is not None else ""])
    return out.getvalue()


def stylesheet_text() -> str:
    """The report stylesheet (screen and print rules)."""
    path = finders.find(STYLESHEET)
    return Path(str(path)).read_text(encoding="utf-8") if path else ""


def report_pdf(report: PatchReport) -> bytes:
    """The report as a PDF, from the page's own template and stylesheet (nothing fetched from outside)."""
    from weasyprint import HTML

    html = render_to_string("patching/report_pdf.html", {"report": report, "stylesheet": stylesheet_text(),
                                                         "organization": organization()})
    pdf: Any = HTML(string=html, base_url=str(Path(__file__).resolve().parent)).write_pdf()
    return bytes(pdf)
