"""Demo patching: the updates the demo devices "reported" (Windows Update, winget, apt, macOS), a global policy
approving security updates after 3 days with a nightly window, decisions (one approved for every client, a
driver rejected, a feature update deferred for one client), and a third of the devices missing an approved
update, so the patch report shows about 67 % of devices up to date. Deterministic for a seed.

This machine's own agent (`make run`) reports its real apt updates on top, through the check-in."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from tenfold.assets.models import Device, DeviceState
from tenfold.clients.models import Client
from tenfold.patching.models import (
    ApprovalDecision,
    ApprovalPolicy,
    DeviceUpdate,
    DeviceUpdateScan,
    DeviceUpdateState,
    Update,
)

# (source, identifier, version, title, category, severity, days since release, reboot)
CATALOG: dict[str, list[tuple[str, str, str, str, str, str, int, bool]]] = {
    "windows": [
        ("windows_update", "KB5046617", "", "Mise à jour cumulative 2026-11 pour Windows 11 23H2 (KB5046617)",
         "security", "critical", 16, True),
        ("windows_update", "KB5045935", "", "Mise à jour cumulative .NET Framework 3.5 et 4.8.1 (KB5045935)",
         "security", "important", 16, False),
        ("windows_update", "KB890830", "", "Outil de suppression de logiciels malveillants v5.130 (KB890830)",
         "bugfix", "", 16, False),
        ("windows_update", "KB5044030", "", "Aperçu de la mise à jour cumulative 2026-10 (KB5044030)",
         "feature", "", 35, True),
        ("windows_update", "DRV-INTEL-31.0.101.5590", "", "Intel Corporation - Display - 31.0.101.5590", "driver",
         "", 63, True),
        ("winget", "Mozilla.Firefox", "133.0", "Mozilla Firefox", "application", "", 5, False),
        ("winget", "7zip.7zip", "24.08", "7-Zip", "application", "", 40, False),
        ("winget", "Adobe.Acrobat.Reader.64-bit", "24.004.20220", "Adobe Acrobat Reader", "application", "", 12,
         False),
    ],
    "linux": [
        ("apt", "openssl", "3.0.13-0ubuntu3.6", "openssl", "security", "", 9, False),
        ("apt", "linux-image-generic", "5.15.0.126.124", "linux-image-generic", "security", "", 21, True),
        ("apt", "tzdata", "2025b-0ubuntu0.22.04", "tzdata", "bugfix", "", 30, False),
    ],
    "macos": [
        ("softwareupdate", "macOS Sonoma 14.7.2-23H311", "", "macOS Sonoma 14.7.2", "security", "", 14, True),
        ("softwareupdate", "Safari18.2SonomaAuto-18.2", "", "Safari 18.2", "bugfix", "", 14, False),
    ],
}
# The update every device of a family misses when it is one of the out-of-date third (an approved one).
APPROVED_FIRST = {"windows": "KB5046617", "linux": "openssl", "macos": "macOS Sonoma 14.7.2-23H311"}


def seed_patching(rng: random.Random, clients: list[Client], approver: Any) -> dict[str, int]:
    """Write the demo patching records; returns counts."""
    now = timezone.now()
    today = timezone.localdate(now)
    updates: dict[str, list[Update]] = {}
    for family, entries in CATALOG.items():
        updates[family] = Update.objects.bulk_create([
            Update(source=source, identifier=identifier, version=version, title=title, category=category,
                   severity=severity, released_on=today - timedelta(days=days), reboot_required=reboot,
                   first_seen_at=now - timedelta(days=min(days, 20)))
            for source, identifier, version, title, category, severity, days, reboot in entries])
    ApprovalPolicy.objects.create(
        name="Correctifs de sécurité après 3 jours", scope="global", auto_approve_categories=["security", "critical"],
        auto_approve_after_days=3, window_days=[1, 3], window_start=time(22, 0), window_end=time(4, 0),
        reboot="if_required", reboot_deferrals=2)
    active = [c for c in clients if c.status == "active"]
    if active:
        ApprovalPolicy.objects.create(
            name="Serveurs : fenêtre du dimanche", scope="client", client=active[0],
            auto_approve_categories=["security", "critical"], auto_approve_after_days=7, window_days=[6],
            window_start=time(2, 0), window_end=time(6, 0), reboot="always", reboot_deferrals=0)
    by_key = {u.identifier: u for family in updates.values() for u in family}
    decisions = [ApprovalDecision(update=by_key["KB5045935"], client=None, decision="approved",
                                  decided_by=approver, decided_at=now - timedelta(days=10),
                                  note="Validé sur le parc pilote"),
                 ApprovalDecision(update=by_key["DRV-INTEL-31.0.101.5590"], client=None, decision="rejected",
                                  decided_by=approver, decided_at=now - timedelta(days=30),
                                  note="Pilote instable sur OptiPlex 7010"),
                 ApprovalDecision(update=by_key["Mozilla.Firefox"], client=None, decision="approved",
                                  decided_by=approver, decided_at=now - timedelta(days=2))]
    if len(active) > 1:
        decisions.append(ApprovalDecision(update=by_key["KB5044030"], client=active[1], decision="deferred",
                                          deferred_until=today + timedelta(days=14), decided_by=approver,
                                          decided_at=now - timedelta(days=3), note="Après la clôture comptable"))
    ApprovalDecision.objects.bulk_create(decisions)
    devices = list(Device.objects.filter(client__in=active, managed=True, os_family__in=list(CATALOG))
                   .exclude(state=DeviceState.RETIRED).order_by("client_id", "name", "pk"))
    scans: list[DeviceUpdateScan] = []
    rows: list[DeviceUpdate] = []
    for index, device in enumerate(devices):
        family = device.os_family
        catalog = updates[family]
        listed_at = now - timedelta(hours=rng.randint(1, 20))
        scans.append(DeviceUpdateScan(client_id=device.client_id, device=device, scanned_at=listed_at, seq=1,
                                      sources=sorted({u.source for u in catalog})))
        out_of_date = index % 3 == 0
        for update in catalog:
            state = _state_for(rng, update, family, out_of_date)
            if state is None:
                continue
            first_seen = max(update.first_seen_at, now - timedelta(days=rng.randint(1, 20)))
            rows.append(DeviceUpdate(
                client_id=device.client_id, device=device, update=update, state=state,
                installed_version="" if update.version == "" else "older", available_version=update.version,
                first_seen_at=first_seen, last_seen_at=listed_at,
                installed_at=_installed_at(rng, first_seen, listed_at) if state == DeviceUpdateState.INSTALLED
                else None))
    DeviceUpdateScan.objects.bulk_create(scans)
    DeviceUpdate.objects.bulk_create(rows, batch_size=1000)
    return {"updates": sum(len(v) for v in updates.values()), "devices": len(devices), "device_updates": len(rows)}


def _state_for(rng: random.Random, update: Update, family: str, out_of_date: bool) -> str | None:
    if update.identifier == APPROVED_FIRST[family]:
        return DeviceUpdateState.MISSING if out_of_date else DeviceUpdateState.INSTALLED
    if update.category in ("security", "critical") or update.identifier == "Mozilla.Firefox":
        # Approved ones: installed on the up-to-date devices, sometimes missing on the out-of-date ones.
        if out_of_date and rng.random() < 0.5:
            return DeviceUpdateState.FAILED if rng.random() < 0.2 else DeviceUpdateState.MISSING
        return DeviceUpdateState.INSTALLED
    roll = rng.random()
    if roll < 0.45:
        return DeviceUpdateState.MISSING  # awaiting approval, rejected or deferred: not counted against the device
    if roll < 0.8:
        return DeviceUpdateState.INSTALLED
    return None


def _installed_at(rng: random.Random, first_seen: datetime, listed_at: datetime) -> datetime:
    span = max(1, int((listed_at - first_seen).total_seconds()))
    return first_seen + timedelta(seconds=rng.randint(0, span))

