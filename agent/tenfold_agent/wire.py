"""Shapes the collectors' findings into the item data the server accepts (`tenfold/agents/protocol.py`).

The server refuses unknown fields and bounds every string and list, so what the collectors know
beyond the protocol (definition versions, firewall profiles, tool errors) stays on the device,
and strings are cut to the server's lengths here rather than rejected there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

AV_STATES = {"running": "running", "stopped": "disabled", "degraded": "disabled", "installed": "disabled",
             "none": "not_installed", "out_of_date": "out_of_date", "disabled": "disabled"}
MAX_LIST = 64
MAX_SOFTWARE = 10_000
OS_FAMILIES = ("windows", "linux", "macos")


def _text(value: Any, limit: int) -> str:
    if value is None:
        return ""
    return str(value).replace("\x00", "")[:limit]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def os_wire(info: Mapping[str, Any]) -> dict[str, str]:
    """`{"family", "name", "version"}` (enrollment and inventory)."""
    family = info.get("family")
    return {"family": family if family in OS_FAMILIES else "other", "name": _text(info.get("name"), 200),
            "version": _text(info.get("version"), 100)}


def hardware_wire(hw: Mapping[str, Any]) -> dict[str, Any]:
    """The `hardware` part of an inventory item."""
    cpu = hw.get("cpu") or {}
    users = hw.get("logged_in_users") or []
    disks = [{"mount": _text(d.get("mount"), 500), "fs": _text(d.get("fstype"), 50),
              "total_bytes": _int(d.get("total_bytes"))}
             for d in hw.get("disks") or [] if d.get("mount")][:MAX_LIST]
    interfaces = [{"name": _text(n.get("name"), 200), "mac": _text(n.get("mac"), 64),
                   "ipv4": [_text(a, 64) for a in n.get("ipv4") or []][:32],
                   "ipv6": [_text(a, 64) for a in n.get("ipv6") or []][:32]}
                  for n in hw.get("network") or [] if n.get("name")][:MAX_LIST]
    cores = _int(cpu.get("cores")) or _int(cpu.get("threads"))
    return {
        "hostname": _text(hw.get("hostname"), 255) or None,
        "vendor": _text(hw.get("vendor"), 200),
        "model": _text(hw.get("model"), 200),
        "serial_number": _text(hw.get("serial"), 200),
        "cpu_model": _text(cpu.get("model"), 200),
        "cpu_cores": min(cores, 65535) if cores is not None else None,
        "memory_bytes": _int(hw.get("memory_bytes")),
        "os": os_wire(hw["os"]) if hw.get("os") else None,
        "disks": disks,
        "network_interfaces": interfaces,
        "logged_in_user": _text(users[0], 200) if users else None,
        "uptime_s": _int(hw.get("uptime_s")),
    }


def software_wire(software: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The `software` part of an inventory item (named entries only, at most 10,000)."""
    out = []
    for entry in software:
        name = _text(entry.get("name"), 300).strip()
        if name:
            out.append({"name": name, "version": _text(entry.get("version"), 100),
                        "publisher": _text(entry.get("publisher"), 200), "installed_on": entry.get("install_date")})
    return out[:MAX_SOFTWARE]


def inventory_wire(inventory: Mapping[str, Any]) -> dict[str, Any]:
    """An inventory item's data."""
    return {"hardware": hardware_wire(inventory.get("hardware") or {}),
            "software": software_wire(list(inventory.get("software") or []))}


def posture_wire(posture: Mapping[str, Any]) -> dict[str, Any]:
    """A posture item's data: antivirus state and definitions time, firewall state, updates, backup."""
    av = posture.get("antivirus") or {}
    firewall = posture.get("firewall") or {}
    backup = posture.get("backup")
    fw_state = firewall.get("state")
    return {
        "antivirus": {"product": _text(av.get("product") if av.get("product") != "none" else "", 200),
                      "state": AV_STATES.get(str(av.get("state")), "unknown"),
                      "definitions_at": av.get("definitions_updated")},
        # Some profiles off (Windows) is not a protected device.
        "firewall": {"state": "off" if fw_state == "partial" else fw_state if fw_state in ("on", "off") else "unknown"},
        "pending_updates": _int(posture.get("pending_updates")),
        "backup": None if backup is None else {"tool": _text(backup.get("tool"), 100),
                                               "last_success": backup.get("last_success")},
    }


DISCOVERY_SOURCES = ("arp", "ping")
MAX_NEIGHBORS = 1024


def discovery_wire(found: Mapping[str, Any]) -> dict[str, Any]:
    """A discovery item's data: `{"neighbors": [{ip, mac, hostname, source}], "subnet"}`, at most 1024
    neighbours, mac lower-case with colons ("" when unknown), source `arp` or `ping`, subnet None when
    the machine has no default route."""
    neighbors = []
    for entry in found.get("neighbors") or []:
        ip = _text(entry.get("ip"), 45)
        if not ip:
            continue
        source = entry.get("source")
        neighbors.append({"ip": ip, "mac": _text(entry.get("mac"), 17).lower(),
                          "hostname": _text(entry.get("hostname"), 255),
                          "source": source if source in DISCOVERY_SOURCES else "arp"})
    # No default route: no subnet, sent as null (the server refuses "").
    return {"neighbors": neighbors[:MAX_NEIGHBORS], "subnet": _text(found.get("subnet"), 43) or None}
