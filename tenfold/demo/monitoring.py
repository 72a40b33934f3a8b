"""Demo monitoring: Good/Better/Best baselines on the active clients, a few client policies, two device tags
("VIP", "Point of sale") on some demo devices with a policy each, alerts in every state on demo devices (in
bulk), one maintenance window. Deterministic for a seed."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from tenfold.assets.models import Device, Tag
from tenfold.clients.models import Client
from tenfold.monitoring.models import (
    Alert,
    CheckDefinition,
    CheckState,
    ClientBaseline,
    MaintenanceWindow,
    Policy,
    PolicyScope,
)

TIERS = ["good", "better", "best", "better", "good", "best"]
CLIENT_POLICIES: list[tuple[str, list[tuple[str, str, dict[str, Any], str, int]]]] = [
    ("Serveurs — services critiques", [
        ("service", "Service SQL Server", {"name": "MSSQLSERVER"}, "critical", 2),
        ("service", "Spouleur d'impression", {"name": "Spooler"}, "warning", 3),
    ]),
    ("Accès internet et VPN", [
        ("ping", "Passerelle", {"host": "192.168.1.1", "count": 3, "timeout_s": 2}, "critical", 3),
        ("tcp_port", "VPN site à site", {"host": "vpn.example.net", "port": 443, "timeout_s": 5}, "warning", 3),
    ]),
    ("Intranet", [
        ("http", "Portail intranet", {"url": "https://intranet.example", "expect_status": 200, "timeout_s": 10},
         "warning", 2),
    ]),
]


def seed_monitoring(rng: random.Random, clients: list[Client], technicians: list[Any]) -> int:
    """Write the demo monitoring records; returns how many alerts."""
    now = timezone.now()
    active = [c for c in clients if c.status == "active"]
    ClientBaseline.objects.bulk_create([ClientBaseline(client=c, tier=TIERS[i % len(TIERS)])
                                        for i, c in enumerate(active[:6])])
    policies = [Policy(name=name, scope=PolicyScope.CLIENT, client=client,
                       description="Politique de démonstration", collectors={})
                for client, (name, _checks) in zip(active[:3], CLIENT_POLICIES, strict=False)]
    Policy.objects.bulk_create(policies)
    CheckDefinition.objects.bulk_create([
        # Windows only: the demo's simulated servers are Windows, and the real local agent of `make run`
        # (this machine) must never run Windows service checks nor probe addresses of an imaginary network.
        CheckDefinition(policy=policy, check_type=kind, name=name, params=params, severity=severity,
                        failures_before_alert=failures, interval_s=300, os_family="windows")
        for policy, (_n, checks) in zip(policies, CLIENT_POLICIES, strict=False)
        for kind, name, params, severity, failures in checks])

    devices_for_tags = list(Device.objects.filter(client__in=active, managed=True).exclude(state="retired")
                            .order_by("pk"))
    _seed_tags(rng, devices_for_tags)

    baseline_checks = {c.check_type: c for c in CheckDefinition.objects.filter(
        policy__baseline_tier="good", check_type__in=["cpu", "memory"])}
    devices = list(Device.objects.filter(client__in=active, managed=True).exclude(state="retired")
                   .order_by("pk"))
    alerts: list[Alert] = []
    states: list[CheckState] = []
    for device in rng.sample(devices, k=min(40, len(devices))):
        kind = rng.choice(["cpu", "memory"])
        check = baseline_checks[kind]
        status = rng.choices(["open", "acknowledged", "resolved"], weights=[4, 2, 5])[0]
        opened = now - timedelta(hours=rng.randint(1, 240))
        tech = rng.choice(technicians)
        label = "CPU" if kind == "cpu" else "Mémoire"
        alerts.append(Alert(
            client_id=device.client_id, device=device, check_definition=check, kind="check",
            severity=rng.choice(["warning", "warning", "critical"]), status=status,
            title=f"{check.name} failing on {device.name}", message=f"{label} {rng.randint(91, 99)} %",
            opened_at=opened, last_seen_at=opened + timedelta(minutes=rng.randint(5, 90)),
            occurrences=rng.randint(1, 12),
            acknowledged_at=opened + timedelta(minutes=20) if status != "open" else None,
            acknowledged_by=tech if status != "open" else None,
            resolved_at=opened + timedelta(hours=2) if status == "resolved" else None))
        states.append(CheckState(client_id=device.client_id, device=device, check_definition=check,
                                 status=0 if status == "resolved" else 2,
                                 consecutive_failures=0 if status == "resolved" else 3,
                                 last_result_at=now - timedelta(minutes=rng.randint(1, 10)),
                                 last_value=float(rng.randint(20, 99)), last_message=f"{label}"))
    # Devices that stopped checking in long ago are offline (the periodic detection keeps this up to date).
    for device in [d for d in devices if d.last_seen_at and d.last_seen_at < now - timedelta(hours=1)][:15]:
        seen = device.last_seen_at or now
        alerts.append(Alert(client_id=device.client_id, device=device, kind="offline",
                            severity="critical" if device.kind == "server" else "warning", status="open",
                            title=f"{device.name} is offline", message="No check-in since "
                            f"{seen.isoformat(timespec='seconds')}.",
                            opened_at=seen + timedelta(minutes=3), last_seen_at=now))
    Alert.objects.bulk_create(alerts, batch_size=500)
    CheckState.objects.bulk_create(states, batch_size=500, ignore_conflicts=True)
    if active:
        MaintenanceWindow.objects.create(client=active[0], starts_at=now + timedelta(days=2),
                                         ends_at=now + timedelta(days=2, hours=4),
                                         reason="Migration du serveur de fichiers", created_by=technicians[0])
    return len(alerts)


TAGS: list[tuple[str, str, str, str, list[tuple[str, str, dict[str, Any], str, int]]]] = [
    ("VIP", "amber", "Postes de la direction : surveillés de plus près", "Postes VIP — surveillance renforcée", [
        ("cpu", "CPU (VIP)", {"warn_pct": 70, "fail_pct": 90, "samples": 3}, "critical", 2),
        ("memory", "Mémoire (VIP)", {"warn_pct": 75, "fail_pct": 90}, "critical", 2),
    ]),
    ("Point of sale", "teal", "Caisses enregistreuses et leurs imprimantes de tickets", "Caisses — impression", [
        ("service", "Spouleur d'impression (caisse)", {"name": "Spooler"}, "critical", 1),
    ]),
]


def _seed_tags(rng: random.Random, devices: list[Device]) -> None:
    """Two MSP tags on a few workstations and laptops, each with its tag policy (Windows-only checks: the
    real local agent of `make run` carries no tag, and the simulated devices are Windows)."""
    tags = Tag.objects.bulk_create([Tag(name=name, colour=colour, description=description)
                                    for name, colour, description, _p, _c in TAGS])
    desks = [d for d in devices if d.kind in ("workstation", "laptop")]
    chosen = rng.sample(desks, k=min(16, len(desks)))
    links = [Device.tags.through(device_id=d.pk, tag_id=tags[0].pk) for d in chosen[:8]]
    links += [Device.tags.through(device_id=d.pk, tag_id=tags[1].pk) for d in chosen[6:]]  # two carry both
    Device.tags.through.objects.bulk_create(links)
    policies = Policy.objects.bulk_create([
        Policy(name=policy_name, scope=PolicyScope.TAG, tag=tag, collectors={},
               description="Politique de démonstration, attachée à un tag")
        for tag, (_n, _c, _d, policy_name, _checks) in zip(tags, TAGS, strict=True)])
    CheckDefinition.objects.bulk_create([
        CheckDefinition(policy=policy, check_type=kind, name=name, params=params, severity=severity,
                        failures_before_alert=failures, interval_s=300, os_family="windows")
        for policy, (_n, _c, _d, _p, checks) in zip(policies, TAGS, strict=True)
        for kind, name, params, severity, failures in checks])
