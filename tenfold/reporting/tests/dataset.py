"""A hand-built client whose scorecard is worked out by hand in test_scorecard.py.

"Now" is 2026-02-15 12:00 UTC: the current quarter is 2026-Q1 (as of now), the previous one 2025-Q4 (closed,
as of 2026-01-01 00:00)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tenfold.assets.models import Device, DeviceStateChange, DiscoveredDevice
from tenfold.clients.models import Client, Contact, Site
from tenfold.monitoring.models import Alert, CheckDaily, CheckDefinition, CheckState, Policy
from tenfold.servicedesk.models import Ticket

NOW = datetime(2026, 2, 15, 12, 0, tzinfo=UTC)
CREATED = datetime(2025, 6, 1, tzinfo=UTC)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@dataclass
class Dataset:
    client: Client
    sites: dict[str, Site] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    checks: dict[str, CheckDefinition] = field(default_factory=dict)
    decision_maker: Contact | None = None


def _device(ds: Dataset, key: str, kind: str, *, managed: bool, warranty: date | None, created: datetime = CREATED,
            state: str = "active", **extra: Any) -> Device:
    device = Device.objects.create(client=ds.client, name=key, kind=kind, managed=managed, warranty_end=warranty,
                                   state=state, created_at=created, **extra)
    ds.devices[key] = device
    return device


def _daily(ds: Dataset, device: str, check: str, day: date, runs: int, passes: int, warns: int = 0,
           fails: int = 0) -> None:
    CheckDaily.objects.create(client=ds.client, device=ds.devices[device], check_id=ds.checks[check].pk, day=day,
                              runs=runs, passes=passes, warns=warns, fails=fails, errors=runs - passes - warns - fails,
                              computed_at=NOW)


def build(name: str = "Hand Built SARL") -> Dataset:
    client = Client.objects.create(name=name, status="active")
    ds = Dataset(client=client)
    for site in ("Head office", "Warehouse"):
        ds.sites[site] = Site.objects.create(client=client, name=site, created_at=CREATED)
    ds.decision_maker = Contact.objects.create(client=client, first_name="Claire", last_name="Martin",
                                               email=f"claire@{client.pk}.example", is_decision_maker=True)
    # Devices
    _device(ds, "SRV1", "server", managed=True, warranty=date(2026, 12, 31), antivirus_state="running",
            antivirus_definitions_at=NOW - timedelta(days=1), backup_tool="restic",
            last_backup_at=NOW - timedelta(hours=2))
    _device(ds, "SRV2", "server", managed=True, warranty=date(2025, 11, 30), antivirus_state="running",
            antivirus_definitions_at=NOW - timedelta(days=10), backup_tool="restic",
            last_backup_at=NOW - timedelta(days=3))
    _device(ds, "FW1", "network_device", managed=False, warranty=date(2026, 1, 31), model="FortiGate 40F",
            site=ds.sites["Head office"])
    _device(ds, "WS1", "workstation", managed=True, warranty=date(2027, 1, 1), antivirus_state="running",
            antivirus_definitions_at=NOW - timedelta(days=1))
    _device(ds, "WS2", "laptop", managed=True, warranty=date(2025, 12, 15), antivirus_state="disabled")
    _device(ds, "WS3", "workstation", managed=True, warranty=date(2028, 1, 1), created=at(2026, 1, 10))
    _device(ds, "WS4", "workstation", managed=True, warranty=date(2027, 1, 1), state="retired")
    DeviceStateChange.objects.create(client=client, device=ds.devices["WS4"], at=at(2025, 12, 1),
                                     from_state="active", to_state="retired")
    _device(ds, "MOB1", "mobile", managed=False, warranty=None)
    # Discovered devices: D1 and D3 unmanaged (D3 first seen in Q1), D2 is WS1, D4 ignored.
    for ip, first, matched, ignored in (("10.0.0.51", at(2025, 7, 1), None, False),
                                        ("10.0.0.52", at(2025, 7, 1), ds.devices["WS1"], False),
                                        ("10.0.0.53", at(2026, 1, 20), None, False),
                                        ("10.0.0.54", at(2025, 7, 1), None, True)):
        DiscoveredDevice.objects.create(client=client, ip=ip, first_seen_at=first, last_seen_at=NOW,
                                        matched_device=matched, ignored=ignored)
    # Checks
    policy = Policy.objects.create(name="Hand policy", scope="client", client=client)
    for key, kind, params in (("svc", "service", {"name": "MSSQL"}), ("ping", "ping", {"host": "10.0.0.1"}),
                              ("cpu", "cpu", {}), ("mem", "memory", {}), ("disk", "disk_free", {"mount": "C:\\"})):
        ds.checks[key] = CheckDefinition.objects.create(policy=policy, check_type=kind, name=key, params=params)
    _daily(ds, "SRV1", "svc", date(2026, 1, 15), 100, 95, warns=3, fails=2)
    _daily(ds, "SRV1", "svc", date(2026, 2, 1), 100, 100)
    _daily(ds, "SRV1", "svc", date(2025, 11, 1), 200, 150, fails=50)
    _daily(ds, "SRV1", "svc", date(2025, 12, 31), 100, 100)
    _daily(ds, "FW1", "ping", date(2026, 1, 15), 288, 280, fails=8)
    _daily(ds, "SRV2", "cpu", date(2025, 12, 10), 10, 5, fails=5)
    _daily(ds, "SRV2", "cpu", date(2025, 12, 20), 10, 10)
    for device, check, status in (("SRV1", "svc", 0), ("SRV1", "cpu", 0), ("SRV2", "cpu", 2)):
        CheckState.objects.create(client=client, device=ds.devices[device], check_definition=ds.checks[check],
                                  status=status, last_result_at=NOW)
    # Performance alerts: SRV2 cpu Feb 1 00:00 → Feb 2 00:00 and memory Feb 1 12:00 → Feb 3 00:00 (merged: 48 h);
    # WS1 disk Dec 31 18:00 → Jan 1 06:00 (6 h in each quarter).
    for device, check, opened, resolved in (("SRV2", "cpu", at(2026, 2, 1), at(2026, 2, 2)),
                                            ("SRV2", "mem", at(2026, 2, 1, 12), at(2026, 2, 3)),
                                            ("WS1", "disk", at(2025, 12, 31, 18), at(2026, 1, 1, 6))):
        Alert.objects.create(client=client, device=ds.devices[device], check_definition=ds.checks[check],
                             title=f"{check} on {device}", status="resolved", opened_at=opened, resolved_at=resolved)
    # Tickets: resolved in Q1: met, missed, no SLA; one open. Resolved in Q4: met, missed (first response), met.
    for title, resolved, due, first_met, resolution_met in (
            ("T1", at(2026, 1, 20), True, True, True), ("T2", at(2026, 2, 10), True, True, False),
            ("T3", at(2026, 2, 12), False, None, None), ("T4", None, True, None, None),
            ("T5", at(2025, 11, 15), True, True, True), ("T6", at(2025, 12, 1), True, False, True),
            ("T7", at(2025, 12, 20), True, True, True)):
        Ticket.objects.create(client=client, title=title, resolved_at=resolved,
                              resolution_due_at=(resolved or NOW) if due else None,
                              sla_first_response_met=first_met, sla_resolution_met=resolution_met,
                              created_at=(resolved or NOW) - timedelta(days=2))
    _patching(ds)
    return ds


def _patching(ds: Dataset) -> None:
    from tenfold.patching.models import ApprovalDecision, DeviceUpdate, DeviceUpdateScan, Update

    for device in ("SRV1", "WS1", "WS2"):
        DeviceUpdateScan.objects.create(client=ds.client, device=ds.devices[device], scanned_at=NOW,
                                        created_at=at(2025, 9, 1))
    # Updates are the MSP's catalog: a second hand-built client reuses them.
    kb, _ = Update.objects.get_or_create(source="windows_update", identifier="KB5034441", version="",
                                         defaults={"title": "Security update", "category": "security"})
    app, _ = Update.objects.get_or_create(source="winget", identifier="Mozilla.Firefox", version="122.0",
                                          defaults={"title": "Firefox 122", "category": "application"})
    rejected, _ = Update.objects.get_or_create(source="windows_update", identifier="KB5000001", version="",
                                               defaults={"title": "Preview update", "category": "feature"})
    ApprovalDecision.objects.create(update=rejected, client=ds.client, decision="rejected",
                                    decided_at=at(2025, 10, 2))
    for device, update, state, first, installed in (
            ("SRV1", kb, "missing", at(2026, 1, 5), None),
            ("WS1", kb, "installed", at(2025, 11, 1), at(2026, 1, 10)),
            ("WS2", app, "missing", at(2025, 10, 1), None),
            ("WS2", rejected, "missing", at(2025, 10, 1), None)):
        DeviceUpdate.objects.create(client=ds.client, device=ds.devices[device], update=update, state=state,
                                    first_seen_at=first, last_seen_at=NOW, installed_at=installed)
