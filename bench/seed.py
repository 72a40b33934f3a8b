"""Bulk data for the benchmarks (needs Django set up): clients, enrolled devices with agent credentials,
a global policy of 5 checks, and 50,000-device fleets for the device list.

Fast on purpose: bulk_create and precomputed SHA-256 credential hashes instead of N HTTP enrollments.
The rows are the ones an enrollment writes (Device managed + Agent + AgentCredential), already used
once (`last_used_at` set), i.e. a fleet in its steady state.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

BATCH = 2000
KINDS = ["workstation"] * 6 + ["laptop"] * 3 + ["server", "network_device", "other"]
OSES = [("windows", "Windows 11 Pro", "23H2"), ("windows", "Windows 10 Pro", "22H2"),
        ("windows", "Windows Server 2022", "21H2"), ("linux", "Debian GNU/Linux", "12"),
        ("linux", "Ubuntu", "24.04"), ("macos", "macOS", "14.5")]
AV_STATES = ["running"] * 8 + ["disabled", "out_of_date", "not_installed", "unknown"]
STATES = ["active"] * 8 + ["onboarding", "maintenance", "retired"]


@dataclass(frozen=True)
class Fleet:
    tokens: list[str]           # tfa_… credential of device index i
    device_ids: list[int]
    check_ids: list[int]
    policy_version: str


def _clients(count: int, label: str) -> list[int]:
    from tenfold.clients.models import Client

    clients = Client.objects.bulk_create([Client(name=f"{label} {n:02d}", status="active") for n in range(count)])
    return [c.pk for c in clients]


def _policy() -> list[int]:
    from tenfold.monitoring.models import CheckDefinition, Policy

    policy = Policy.objects.create(name="Bench baseline", scope="global")
    checks = [("cpu", {"warn_pct": 85, "fail_pct": 95, "samples": 3}), ("memory", {"warn_pct": 85, "fail_pct": 95}),
              ("disk_free", {"mount": "C:", "warn_pct": 20, "fail_pct": 10}), ("service", {"name": "Spooler"}),
              ("tcp_port", {"host": "127.0.0.1", "port": 445, "timeout_s": 3})]
    rows = CheckDefinition.objects.bulk_create([
        CheckDefinition(policy=policy, check_type=kind, name=f"Bench {kind}", params=params, interval_s=60)
        for kind, params in checks])
    return [c.pk for c in rows]


def _device(client_id: int, index: int, rng: random.Random, now: datetime, *, managed: bool,
            state: str | None = None) -> Any:
    from tenfold.assets.models import Device

    family, os_name, version = OSES[index % len(OSES)]
    seen = now - timedelta(seconds=rng.choice([rng.randrange(0, 170), rng.randrange(200, 30 * 86400)]))
    return Device(client_id=client_id, name=f"PC-{index:06d}", hostname=f"bench-{index:06d}",
                  kind=KINDS[index % len(KINDS)], state=state or STATES[rng.randrange(len(STATES))],
                  managed=managed, os_family=family, os_name=os_name, os_version=version, vendor="Dell Inc.",
                  model="OptiPlex 7090", serial_number=f"SN{index:08d}", machine_id=f"machine-{index:08d}",
                  last_seen_at=seen, antivirus_state=AV_STATES[index % len(AV_STATES)],
                  antivirus_product="Microsoft Defender", firewall_state="on",
                  pending_updates=rng.randrange(0, 30), logged_in_user=f"user{index % 500}")


def seed_fleet(agents: int, *, clients: int = 10, inventory_devices: set[int] | frozenset[int] = frozenset(),
               seed: int = 1) -> Fleet:
    """`agents` enrolled devices spread over `clients` clients, each with a credential; devices in
    `inventory_devices` (indexes) also get the 100 software packages the simulator reports, as after
    an earlier inventory, so their next inventory is a real replacement, not a first one."""
    from bench.payloads import software
    from tenfold.agents.models import Agent, AgentCredential
    from tenfold.agents.secrets import CREDENTIAL, hash_secret
    from tenfold.assets.models import Device, SoftwareItem
    from tenfold.monitoring import policies

    rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
    now = timezone.now()
    client_ids = _clients(clients, "Bench client")
    check_ids = _policy()
    tokens: list[str] = []
    device_ids: list[int] = []
    run_key = secrets.token_hex(8)
    packages = software()
    with transaction.atomic():
        for start in range(0, agents, BATCH):
            indexes = range(start, min(agents, start + BATCH))
            devices = Device.objects.bulk_create([
                _device(client_ids[i % len(client_ids)], i, rng, now, managed=True, state="active") for i in indexes])
            for d in devices:
                d.last_seen_at = now
            Agent.objects.bulk_create([
                Agent(device_id=d.pk, client_id=d.client_id, agent_version="0.1.0", last_seq=0, enrolled_at=now,
                      last_checkin_at=now, checkin_interval=60) for d in devices])
            creds = []
            for i, d in zip(indexes, devices, strict=True):
                # Prefix = the index in hex: unique, and the secret is derived, not stored anywhere.
                token = f"{CREDENTIAL}_{i:08x}_{run_key}{secrets.token_hex(12)}"
                tokens.append(token)
                device_ids.append(d.pk)
                creds.append(AgentCredential(client_id=d.client_id, device_id=d.pk, prefix=f"{i:08x}",
                                             secret_hash=hash_secret(token), last_used_at=now))
            AgentCredential.objects.bulk_create(creds)
            inv = [d for i, d in zip(indexes, devices, strict=True) if i in inventory_devices]
            if inv:
                SoftwareItem.objects.bulk_create([
                    SoftwareItem(client_id=d.client_id, device_id=d.pk, name=str(p["name"]),
                                 version=str(p["version"]), publisher=str(p["publisher"]),
                                 installed_on=str(p["installed_on"])) for d in inv for p in packages],
                    batch_size=5000)
                Device.objects.filter(pk__in=[d.pk for d in inv]).update(inventory_hash="seeded")
    first = Device.objects.get(pk=device_ids[0])
    version = policies.effective_policy(first).version
    return Fleet(tokens=tokens, device_ids=device_ids, check_ids=check_ids, policy_version=version)


def seed_device_list(total: int = 50_000, clients: int = 25, seed: int = 2) -> list[int]:
    """`total` devices spread evenly across `clients` clients (2,000 each by default); returns client ids."""
    from tenfold.assets.models import Device

    rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
    now = timezone.now()
    client_ids = _clients(clients, "Client")
    per_client = total // clients
    with transaction.atomic():
        for c_index, client_id in enumerate(client_ids):
            base = c_index * per_client
            Device.objects.bulk_create([_device(client_id, base + n, rng, now, managed=rng.random() < 0.9)
                                        for n in range(per_client)], batch_size=BATCH)
    return client_ids
