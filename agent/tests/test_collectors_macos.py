"""macOS parsers on recorded outputs (not run on a real Mac here)."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import Replay, recorded
from tenfold_agent.collectors.macos import (
    SOCKETFILTERFW,
    MacCollector,
    parse_applications,
    parse_hardware,
    parse_launchctl_list,
    parse_socketfilterfw,
    parse_softwareupdate,
    parse_sw_vers,
    parse_tmutil_latest,
    parse_xprotect,
)


def test_hardware_apple_silicon_and_intel() -> None:
    assert parse_hardware(recorded("macos/sphardware_arm.json")) == {
        "vendor": "Apple", "model": "MacBook Pro (MacBookPro18,3)", "serial": "FVFGK2ABQ6L4",
        "cpu": {"model": "Apple M1 Pro", "cores": 8, "threads": None}, "memory_bytes": 16 * 1024**3,
        "platform_uuid": "8C2B6A1E-5F3D-4E7A-9B0C-1D2E3F4A5B6C",
    }
    intel = parse_hardware(recorded("macos/sphardware_intel.json"))
    assert intel["cpu"] == {"model": "Quad-Core Intel Core i5", "cores": 4, "threads": None}
    assert intel["serial"] == "C02ZX1ABMD6T"


def test_applications() -> None:
    assert parse_applications(recorded("macos/spapplications.json")) == [
        {"name": "Contoso Notes", "version": "4.2.0", "publisher": "Contoso Ltd.", "install_date": "2026-11-02"},
        {"name": "internal-tool", "version": None, "publisher": None, "install_date": "2025-05-19"},
        {"name": "Safari", "version": "18.1", "publisher": "Apple", "install_date": "2026-10-28"},
    ]


def test_os_version() -> None:
    assert parse_sw_vers(recorded("macos/sw_vers.txt")) == {"family": "macos", "name": "macOS", "version": "14.7.1",
                                                          "build": "23H222"}


def test_xprotect_definitions_from_install_history() -> None:
    now = datetime(2026, 11, 26, 3, 20, 58, tzinfo=UTC).timestamp()
    assert parse_xprotect(recorded("macos/spinstallhistory.json"), now=now) == {
        "product": "XProtect", "state": "running", "definitions_updated": "2026-11-19T03:20:58Z",
        "definitions_age_days": 7.0, "definitions_version": "149",
    }


def test_pending_updates_firewall_backup() -> None:
    assert parse_softwareupdate(recorded("macos/softwareupdate_some.txt")) == 3
    assert parse_softwareupdate(recorded("macos/softwareupdate_none.txt")) == 0
    assert parse_socketfilterfw(recorded("macos/socketfilterfw_on.txt"))["state"] == "on"
    assert parse_socketfilterfw(recorded("macos/socketfilterfw_off.txt"))["state"] == "off"
    assert parse_socketfilterfw(recorded("macos/socketfilterfw_block.txt"))["state"] == "on"
    apfs = parse_tmutil_latest(recorded("macos/tmutil_latestbackup.txt"))
    hfs = parse_tmutil_latest(recorded("macos/tmutil_latestbackup_hfs.txt"))
    assert apfs is not None and apfs.replace(tzinfo=None) == datetime(2026, 11, 26, 10, 15, 30)
    assert hfs is not None and hfs.replace(tzinfo=None) == datetime(2026, 11, 20, 22, 10, 4)
    assert parse_tmutil_latest("No machine directory found for host.\n") is None


def test_launchctl_list() -> None:
    text = recorded("macos/launchctl_list.txt")
    assert parse_launchctl_list(text, "com.apple.Finder").state == "running"
    stopped = parse_launchctl_list(text, "com.contoso.backupd")
    assert (stopped.state, stopped.detail) == ("stopped", "last exit status 78")
    assert parse_launchctl_list(text, "com.example.absent").state == "not_found"


def test_collector_runs_the_expected_commands() -> None:
    replay = Replay({
        ("system_profiler", "-json", "SPHardwareDataType"): recorded("macos/sphardware_arm.json"),
        ("sw_vers",): recorded("macos/sw_vers.txt"),
        (SOCKETFILTERFW, "--getglobalstate"): recorded("macos/socketfilterfw_on.txt"),
        ("softwareupdate", "-l"): recorded("macos/softwareupdate_some.txt"),
        ("tmutil", "latestbackup"): recorded("macos/tmutil_latestbackup.txt"),
        ("launchctl", "list"): recorded("macos/launchctl_list.txt"),
    })
    collector = MacCollector(replay)
    assert collector.machine_id() == "8C2B6A1E-5F3D-4E7A-9B0C-1D2E3F4A5B6C"
    assert collector.os_info()["version"] == "14.7.1"
    assert collector.firewall()["state"] == "on"
    assert collector.pending_updates() == 3
    backup = collector.backup_reader("time_machine", {})
    assert backup is not None and backup["tool"] == "time_machine" and backup["last_success"]
    assert collector.service_state("com.tenfold.agent").state == "running"
    hw = collector.hardware()
    assert (hw["vendor"], hw["serial"], hw["os"]["name"]) == ("Apple", "FVFGK2ABQ6L4", "macOS")
