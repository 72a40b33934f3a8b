"""Check-in bodies as tenfold-agent sends them (docs/agent-protocol.md), built fast with string templates.

A regular check-in carries a heartbeat, a metrics sample and 5 check results; the hourly one adds the
inventory (hardware and 100 software packages, with the uptime that changes every time, as the real
agent's wire format does) and the security posture.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

AGENT_VERSION = "0.1.0"
SOFTWARE_PACKAGES = 100
STATUSES = ("pass",) * 17 + ("warn", "fail", "error")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def software() -> list[dict[str, object]]:
    return [{"name": f"Package {n:03d}", "version": f"{n % 7}.{n % 13}.{n}", "publisher": f"Vendor {n % 9}",
             "installed_on": "2025-01-15"} for n in range(SOFTWARE_PACKAGES)]


SOFTWARE_JSON = json.dumps(software(), separators=(",", ":"))


def hardware(index: int, uptime_s: int) -> dict[str, object]:
    return {"hostname": f"bench-{index:06d}", "vendor": "Dell Inc.", "model": "OptiPlex 7090",
            "serial_number": f"SN{index:08d}", "cpu_model": "Intel(R) Core(TM) i5-10500 CPU @ 3.10GHz",
            "cpu_cores": 6, "memory_bytes": 17179869184,
            "os": {"family": "windows", "name": "Windows 11 Pro", "version": "23H2"},
            "disks": [{"mount": "C:", "fs": "NTFS", "total_bytes": 512110190592}],
            "network_interfaces": [{"name": "Ethernet",
                                    "mac": f"00:16:3e:{index % 256:02x}:{index // 256 % 256:02x}:01",
                                    "ipv4": [f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}"],
                                    "ipv6": []}],
            "logged_in_user": "CORP\\user", "uptime_s": uptime_s}


def checkin_body(*, index: int, seq: int, check_ids: list[int], policy_version: str, inventory: bool,
                 rng: random.Random, at: str | None = None) -> tuple[bytes, int]:
    """One check-in body and the last seq it uses (items use seq, seq+1, ...)."""
    at = at or now_iso()
    uptime = 86400 + index * 7 + seq
    items = [
        f'{{"seq":{seq},"kind":"heartbeat","at":"{at}","data":{{"uptime_s":{uptime},"logged_in_user":"CORP\\\\user"}}}}',
        f'{{"seq":{seq + 1},"kind":"metrics","at":"{at}","data":{{"cpu_pct":{rng.uniform(1, 95):.1f},'
        f'"mem_pct":{rng.uniform(20, 90):.1f},"disks":[{{"mount":"C:","free_pct":{rng.uniform(5, 80):.1f},'
        f'"free_bytes":{rng.randrange(10**9, 4 * 10**11)},"total_bytes":512110190592}}]}}}}',
    ]
    next_seq = seq + 2
    for check_id in check_ids:
        status = rng.choice(STATUSES)
        items.append(f'{{"seq":{next_seq},"kind":"check_result","at":"{at}","data":{{"check_id":{check_id},'
                     f'"status":"{status}","value":{rng.uniform(0, 100):.2f},"message":"{status}: bench"}}}}')
        next_seq += 1
    if inventory:
        inv = json.dumps({"hardware": hardware(index, uptime), "software": []}, separators=(",", ":"))
        inv = inv[:-3] + SOFTWARE_JSON + "}"  # splice the shared software list in place of []
        items.append(f'{{"seq":{next_seq},"kind":"inventory","at":"{at}","data":{inv}}}')
        items.append(f'{{"seq":{next_seq + 1},"kind":"posture","at":"{at}","data":{{"antivirus":{{"product":'
                     f'"Microsoft Defender","state":"running","definitions_at":"{at}"}},"firewall":{{"state":"on"}},'
                     f'"pending_updates":{rng.randrange(0, 12)},"backup":{{"tool":"restic","last_success":"{at}"}}}}}}')
        next_seq += 2
    body = (f'{{"agent_version":"{AGENT_VERSION}","policy_version":"{policy_version}","sent_at":"{at}",'
            f'"items":[{",".join(items)}]}}')
    return body.encode(), next_seq - 1


def results_only_body(*, seq: int, check_ids: list[int], policy_version: str, at: str) -> bytes:
    """The capacity run's body: 5 check results and nothing else."""
    items = [f'{{"seq":{seq + n},"kind":"check_result","at":"{at}","data":{{"check_id":{cid},"status":"pass",'
             f'"value":42.5,"message":"ok"}}}}' for n, cid in enumerate(check_ids)]
    return (f'{{"agent_version":"{AGENT_VERSION}","policy_version":"{policy_version}","sent_at":"{at}",'
            f'"items":[{",".join(items)}]}}').encode()
