"""Windows parsers on recorded outputs (not run on a real Windows machine here)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from conftest import Replay, recorded
from tenfold_agent.collectors.windows import (
    UNINSTALL_KEYS,
    WindowsCollector,
    parse_defender,
    parse_hardware,
    parse_machine_guid,
    parse_netsh_firewall,
    parse_os,
    parse_ps_date,
    parse_sc_query,
    parse_uninstall,
    parse_wbadmin_versions,
    parse_wevtutil_text,
)
from tenfold_agent.util import CommandResult


def _json(name: str) -> dict:
    return json.loads(recorded(f"windows/{name}"))


def test_hardware_from_cim() -> None:
    hw = parse_hardware(_json("computersystem.json"), _json("bios.json"), _json("processor.json"))
    assert hw == {
        "vendor": "Dell Inc.", "model": "OptiPlex 7090", "serial": "7XK2QH3", "memory_bytes": 17007321088,
        "cpu": {"model": "11th Gen Intel(R) Core(TM) i7-11700 @ 2.50GHz", "cores": 8, "threads": 16},
        "logged_in_users": ["COMPTA\\compta01"],
    }
    assert parse_os(_json("os.json")) == {"family": "windows", "name": "Microsoft Windows 11 Pro",
                                          "version": "10.0.22631", "build": "22631"}


def test_software_from_uninstall_keys() -> None:
    software = parse_uninstall(recorded("windows/reg_uninstall.txt"))
    assert software == [
        {"name": "Contoso Archiver 23.01 (x64)", "version": "23.01", "publisher": "Contoso Ltd.",
         "install_date": "2026-01-14"},
        {"name": "Fabrikam Backup Client", "version": None, "publisher": "Fabrikam, Inc.", "install_date": None},
        {"name": "Microsoft Edge WebView2 Runtime", "version": "131.0.2903.70", "publisher": "Microsoft Corporation",
         "install_date": "2026-11-02"},
        {"name": "Northwind Reader - Français", "version": "24.004.20220", "publisher": "Northwind Traders",
         "install_date": "2026-03-01"},
    ]


def test_defender_windows_powershell_and_powershell_7_dates() -> None:
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC).timestamp()
    assert parse_defender(_json("mpcomputerstatus.json"), now=now) == {
        "product": "Microsoft Defender Antivirus", "state": "running",
        "definitions_updated": "2026-11-25T06:00:00Z", "definitions_age_days": 1.1,
        "definitions_version": "1.421.1043.0",
    }
    av = parse_defender(_json("mpcomputerstatus_ps7.json"), now=now)
    assert av["state"] == "degraded"  # the engine is on, real-time protection is off
    assert av["definitions_updated"] == "2026-11-20T05:12:44Z"
    assert av["definitions_age_days"] == 6.1
    assert parse_ps_date("/Date(0)/") == datetime(1970, 1, 1, tzinfo=UTC)


def test_firewall_profiles() -> None:
    assert parse_netsh_firewall(recorded("windows/netsh_allprofiles_on.txt")) == {
        "product": "Windows Defender Firewall", "state": "on",
        "profiles": {"domain": "on", "private": "on", "public": "on"}}
    partial = parse_netsh_firewall(recorded("windows/netsh_allprofiles_partial.txt"))
    assert partial["state"] == "partial" and partial["profiles"]["private"] == "off"
    assert parse_netsh_firewall("The requested operation requires elevation.")["state"] == "unknown"


def test_windows_server_backup_versions() -> None:
    assert parse_wbadmin_versions(recorded("windows/wbadmin_versions.txt")) == datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
    assert parse_wbadmin_versions(recorded("windows/wbadmin_none.txt")) is None


def test_sc_query_states() -> None:
    running = parse_sc_query(CommandResult(0, recorded("windows/sc_query_running.txt"), ""))
    stopped = parse_sc_query(CommandResult(1, recorded("windows/sc_query_stopped.txt"), ""))
    missing = parse_sc_query(CommandResult(1060, recorded("windows/sc_query_missing.txt"), ""))
    assert (running.state, running.detail) == ("running", "RUNNING")
    assert (stopped.state, stopped.detail) == ("stopped", "STOPPED")
    assert missing.state == "not_found"


def test_wevtutil_events_become_one_line_each() -> None:
    events = parse_wevtutil_text(recorded("windows/wevtutil_system.txt"))
    assert len(events) == 2
    assert events[0].startswith("Log Name: System | Source: Microsoft-Windows-Disk")
    assert events[0].endswith("The device, \\Device\\Harddisk1\\DR1, has a bad block.")
    assert "Event ID: 7036" in events[1]


def test_machine_guid() -> None:
    assert parse_machine_guid(recorded("windows/reg_machineguid.txt")) == "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"


def test_collector_runs_the_expected_commands() -> None:
    replay = Replay({
        ("netsh", "advfirewall"): recorded("windows/netsh_allprofiles_on.txt"),
        ("reg", "query", UNINSTALL_KEYS[0]): recorded("windows/reg_uninstall.txt"),
        ("reg", "query", UNINSTALL_KEYS[1]): "",
        ("wbadmin", "get", "versions"): recorded("windows/wbadmin_versions.txt"),
        ("sc", "query"): recorded("windows/sc_query_running.txt"),
        ("wevtutil", "qe"): recorded("windows/wevtutil_system.txt"),
        ("powershell.exe",): CommandResult(0, "3\r\n", ""),
    })
    collector = WindowsCollector(replay)
    assert collector.firewall()["state"] == "on"
    assert len(collector.software()) == 4
    assert collector.pending_updates() == 3
    assert collector.backup_reader("windows_server_backup", {}) == {
        "tool": "windows_server_backup", "last_success": "2026-11-25T20:00:00Z"}
    assert collector.service_state("Spooler").state == "running"
    assert replay.calls[-1] == ["sc", "query", "Spooler"]
    lines = collector.log_lines("System", 300)
    assert len(lines) == 2
    assert replay.calls[-1][:3] == ["wevtutil", "qe", "System"]
    assert "timediff(@SystemTime) <= 300000" in replay.calls[-1][3]
