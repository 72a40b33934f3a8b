"""What goes on the wire matches what the server accepts (validated by the server's own models when installed)."""

from __future__ import annotations

import json

import pytest
from conftest import FakeCollector, recorded, server_protocol
from tenfold_agent.checks import result
from tenfold_agent.collectors.linux import LinuxCollector
from tenfold_agent.collectors.windows import parse_defender
from tenfold_agent.spool import encode_item
from tenfold_agent.wire import hardware_wire, inventory_wire, posture_wire, software_wire


def test_hardware_and_software_shapes() -> None:
    hw = {"hostname": "pc", "vendor": None, "model": "M" * 300, "serial": "SN1",
          "cpu": {"model": "CPU", "cores": None, "threads": 8}, "memory_bytes": 1024,
          "disks": [{"device": "/dev/sda1", "mount": "/", "fstype": "ext4", "total_bytes": 10}],
          "network": [{"name": "lo", "mac": None, "ipv4": ["127.0.0.1"], "ipv6": ["::1"], "up": True}],
          "os": {"family": "linux", "name": "Debian GNU/Linux", "version": "12", "kernel": "6.1"},
          "uptime_s": 5, "logged_in_users": ["compta01", "admin"]}
    assert hardware_wire(hw) == {
        "hostname": "pc", "vendor": "", "model": "M" * 200, "serial_number": "SN1", "cpu_model": "CPU",
        "cpu_cores": 8, "memory_bytes": 1024, "os": {"family": "linux", "name": "Debian GNU/Linux", "version": "12"},
        "disks": [{"mount": "/", "fs": "ext4", "total_bytes": 10}],
        "network_interfaces": [{"name": "lo", "mac": "", "ipv4": ["127.0.0.1"], "ipv6": ["::1"]}],
        "logged_in_user": "compta01", "uptime_s": 5,
    }
    assert software_wire([{"name": "", "version": "1"}, {"name": "a", "version": None, "publisher": None,
                                                          "install_date": "2026-01-02"}]) == [
        {"name": "a", "version": "", "publisher": "", "installed_on": "2026-01-02"}]


def test_posture_shapes() -> None:
    defender = parse_defender(json.loads(recorded("windows/mpcomputerstatus_ps7.json")))
    posture = {"antivirus": defender, "firewall": {"product": "x", "state": "partial", "profiles": {}},
               "pending_updates": 3, "backup": {"tool": "restic", "last_success": None, "error": "wrong password"}}
    assert posture_wire(posture) == {
        "antivirus": {"product": "Microsoft Defender Antivirus", "state": "disabled",
                      "definitions_at": "2026-11-20T05:12:44Z"},
        "firewall": {"state": "off"}, "pending_updates": 3, "backup": {"tool": "restic", "last_success": None},
    }
    none = posture_wire({"antivirus": {"product": "none", "state": "none"}, "firewall": {"state": "unknown"},
                         "pending_updates": None, "backup": None})
    assert none["antivirus"] == {"product": "", "state": "not_installed", "definitions_at": None}
    assert none["backup"] is None


def _body(items: list[tuple[str, dict]]) -> bytes:
    encoded = b",".join(encode_item(n, kind, "2026-11-26T16:00:00Z", data) for n, (kind, data) in enumerate(items, 1))
    return b'{"agent_version":"0.1.0","policy_version":"","sent_at":"2026-11-26T16:00:00Z","items":[' + encoded + b"]}"


@pytest.mark.skipif(server_protocol is None, reason="the server package (tenfold) is not installed beside the agent")
def test_real_items_of_this_machine_pass_the_servers_validation() -> None:
    collector = LinuxCollector()
    collector.cpu_sample_s = 0.05
    items = [
        ("heartbeat", {"uptime_s": collector.uptime_s(), "dropped": 3}),
        ("metrics", collector.metrics()),
        ("inventory", inventory_wire(collector.inventory())),
        ("posture", posture_wire(collector.posture(["restic"], {}))),
        ("check_result", result(7, "error", None, "x" * 600)),  # the runner cuts messages to 500
    ]
    checkin = server_protocol.parse_checkin(_body(items))
    assert [i.kind for i in checkin.items] == ["heartbeat", "metrics", "inventory", "posture", "check_result"]
    # The same validation refuses what the agent must not send, naming the item.
    items[-1] = ("check_result", {"check_id": 7, "status": "error", "value": None, "message": "x" * 600})
    with pytest.raises(server_protocol.ProtocolError) as refused:
        server_protocol.parse_checkin(_body(items))
    assert list(refused.value.errors) == ["seq:5"]


def test_fake_collector_items_are_valid_too() -> None:
    posture = posture_wire(FakeCollector().posture())
    assert posture["firewall"] == {"state": "unknown"}
