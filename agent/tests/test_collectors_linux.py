"""Linux collection, for real on this machine, and the Linux parsers on recorded outputs."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import psutil
from conftest import Replay, recorded
from tenfold_agent.collectors import get_collector
from tenfold_agent.collectors.linux import (
    LinuxCollector,
    parse_apt_simulate,
    parse_cvd_header,
    parse_dnf_check_update,
    parse_dpkg,
    parse_iptables,
    parse_nft,
    parse_os_release,
    parse_rpm,
    parse_systemctl,
    parse_ufw,
)
from tenfold_agent.collectors.macos import MacCollector
from tenfold_agent.collectors.windows import WindowsCollector
from tenfold_agent.util import CommandResult

HARDWARE_FIELDS = {"hostname", "vendor", "model", "serial", "cpu", "memory_bytes", "disks", "network", "os",
                   "uptime_s", "logged_in_users"}


def test_collector_by_platform() -> None:
    assert isinstance(get_collector("linux"), LinuxCollector)
    assert isinstance(get_collector("win32"), WindowsCollector)
    assert isinstance(get_collector("darwin"), MacCollector)


def test_real_hardware_inventory_of_this_machine() -> None:
    hw = LinuxCollector().hardware()
    assert set(hw) >= HARDWARE_FIELDS
    assert hw["memory_bytes"] == psutil.virtual_memory().total
    assert hw["cpu"]["threads"] == psutil.cpu_count() and hw["cpu"]["model"]
    assert any(d["mount"] == "/" and d["total_bytes"] > 0 for d in hw["disks"])
    lo = next(n for n in hw["network"] if n["name"] == "lo")
    assert "127.0.0.1" in lo["ipv4"]
    assert hw["uptime_s"] > 0
    assert hw["os"]["family"] == "linux" and hw["os"]["name"]
    os_release = parse_os_release(Path("/etc/os-release").read_text())
    assert hw["os"]["version"] == os_release.get("VERSION_ID", "")
    if Path("/sys/class/dmi/id/sys_vendor").exists():
        assert hw["vendor"] == Path("/sys/class/dmi/id/sys_vendor").read_text().strip()
    else:
        assert hw["vendor"] is None  # a container or a board without DMI: unknown, not invented


def test_real_software_inventory_of_this_machine() -> None:
    software = LinuxCollector().software()
    if shutil.which("dpkg-query"):
        names = {s["name"] for s in software}
        assert {"dpkg", "bash"} <= names
        dpkg = next(s for s in software if s["name"] == "dpkg")
        assert dpkg["version"] and set(dpkg) == {"name", "version", "publisher", "install_date"}
        assert software == sorted(software, key=lambda s: (s["name"], s["version"]))


def test_real_metrics_and_posture_of_this_machine() -> None:
    collector = LinuxCollector()
    collector.cpu_sample_s = 0.05
    metrics = collector.metrics()
    assert set(metrics) == {"cpu_pct", "mem_pct", "disks"}
    assert 0 <= metrics["cpu_pct"] <= 100 and 0 < metrics["mem_pct"] <= 100
    root = next(d for d in metrics["disks"] if d["mount"] == "/")
    assert 0 <= root["free_pct"] <= 100 and root["free_bytes"] > 0
    posture = collector.posture()
    assert set(posture) == {"antivirus", "firewall", "pending_updates", "backup"}
    assert posture["backup"] is None  # no backup tool in the policy
    assert posture["firewall"]["state"] in {"on", "off", "partial", "unknown"}
    if not any(shutil.which(b) for b in ("ufw", "nft", "iptables")):
        assert posture["firewall"] == {"product": None, "state": "unknown", "detail": "no ufw, nft or iptables found"}
    if shutil.which("apt-get"):
        assert isinstance(posture["pending_updates"], int) and posture["pending_updates"] >= 0
    if not shutil.which("clamscan") and not Path("/var/lib/clamav").exists():
        assert posture["antivirus"]["product"] == "none"


def test_machine_id_and_os_info_from_files(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "machine-id").write_text("4c4c4544004210\n")
    (tmp_path / "etc" / "os-release").write_text(recorded("linux/os-release"))
    collector = LinuxCollector(root=tmp_path)
    assert collector.machine_id() == "4c4c4544004210"
    info = collector.os_info()
    assert (info["name"], info["version"], info["pretty_name"]) == ("Debian GNU/Linux", "12",
                                                                    "Debian GNU/Linux 12 (bookworm)")


def test_clamav_definitions_from_the_database_header(tmp_path: Path) -> None:
    header = b"ClamAV-VDB:14 Jan 2026 09-22 -0500:27154:2064556:90:a1b2c3:sig:builder:1705242120"
    assert parse_cvd_header(header.ljust(512, b" ")) == datetime(2026, 1, 14, 14, 22, tzinfo=UTC)
    assert parse_cvd_header(b"garbage") is None
    db = tmp_path / "var" / "lib" / "clamav"
    db.mkdir(parents=True)
    (db / "daily.cld").write_bytes(header.ljust(512, b" ") + b"\x00" * 64)
    av = LinuxCollector(root=tmp_path).antivirus()
    assert av["product"] == "ClamAV" and av["definitions_updated"] == "2026-01-14T14:22:00Z"
    assert av["state"] in ("running", "installed")
    assert av["definitions_age_days"] is not None and av["definitions_age_days"] > 0


def test_package_parsers() -> None:
    assert parse_dpkg(recorded("linux/dpkg_query.txt")) == [
        {"name": "adduser", "version": "3.134", "publisher": "Debian Adduser Developers", "install_date": "2025-05-20"},
        {"name": "python3", "version": "3.11.2-1+b1", "publisher": "Debian Python Team", "install_date": "2025-06-24"},
        {"name": "zlib1g", "version": "1:1.2.13.dfsg-1", "publisher": "Debian QA Group", "install_date": None},
    ]
    assert parse_rpm(recorded("linux/rpm_qa.txt")) == [
        {"name": "bash", "version": "5.1.8-9.el9", "publisher": "Red Hat, Inc.", "install_date": "2024-11-12"},
        {"name": "gpg-pubkey", "version": "5a6340b3-6229229e", "publisher": None, "install_date": "2024-11-12"},
    ]


def test_firewall_parsers() -> None:
    assert parse_ufw(recorded("linux/ufw_status_active.txt")) == "on"
    assert parse_ufw(recorded("linux/ufw_status_inactive.txt")) == "off"
    assert parse_ufw("ERROR: You need to be root to run this script") == "unknown"
    assert parse_nft(recorded("linux/nft_ruleset_drop.txt")) == "on"
    assert parse_nft(recorded("linux/nft_ruleset_open.txt")) == "off"  # drops only forwarded traffic
    assert parse_nft("") == "off"
    assert parse_iptables(recorded("linux/iptables_S_reject.txt")) == "on"
    assert parse_iptables(recorded("linux/iptables_S_open.txt")) == "off"
    assert parse_iptables("-P INPUT DROP\n") == "on"


def test_update_parsers() -> None:
    assert parse_apt_simulate(recorded("linux/apt_get_s_upgrade.txt")) == 3
    assert parse_dnf_check_update(recorded("linux/dnf_check_update.txt")) == 3


def test_systemctl_parser() -> None:
    assert parse_systemctl(CommandResult(0, "active\n", "")).state == "running"
    assert parse_systemctl(CommandResult(3, "failed\n", "")).state == "stopped"
    assert parse_systemctl(CommandResult(3, "inactive\n", ""), "LoadState=not-found\n").state == "not_found"
    offline = parse_systemctl(CommandResult(1, "", "System has not been booted with systemd as init system (PID 1)."))
    assert offline.state == "unknown" and "not been booted" in offline.detail


def test_firewall_runner_picks_ufw_first(monkeypatch: object) -> None:
    replay = Replay({("ufw", "status"): recorded("linux/ufw_status_active.txt"),
                     ("nft", "list", "ruleset"): recorded("linux/nft_ruleset_open.txt")})
    import tenfold_agent.collectors.linux as linux

    monkeypatch.setattr(linux.shutil, "which", lambda name: f"/usr/sbin/{name}")  # type: ignore[attr-defined]
    assert LinuxCollector(replay).firewall() == {"product": "ufw", "state": "on"}
    denied = Replay({("ufw", "status"): CommandResult(1, "", "ERROR: You need to be root to run this script")})
    assert LinuxCollector(denied).firewall()["state"] == "unknown"
