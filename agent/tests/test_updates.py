"""The updates collector: every parser on recorded outputs (exact fields), the real apt of this machine
(read-only listing), the snapshot's wire shape and the schedule that spools it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeCollector, Replay, strict_errors
from tenfold_agent.collectors.linux import LinuxCollector
from tenfold_agent.collectors.updates import (
    APT_LIST_LINE,
    Snapshot,
    UpdatesSchedule,
    list_updates,
    parse_apt_list,
    parse_apt_simulate_updates,
    parse_brew_outdated,
    parse_dnf_check_update_list,
    parse_dnf_updateinfo,
    parse_rpm_versions,
    parse_softwareupdate_list,
    parse_windows_update,
    parse_winget_upgrade,
    parse_zypper_xml,
    updates_interval,
    updates_wire,
)
from tenfold_agent.payload import build_checkin
from tenfold_agent.spool import Spool
from tenfold_agent.util import CommandResult, run_command

DATA = Path(__file__).parent / "data" / "updates"


def data(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def brief(updates: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(u["identifier"], u["installed_version"], u["available_version"], u["category"], u["severity"],
             u["reboot_required"]) for u in updates]


def test_apt_list_upgradable_debian() -> None:
    updates = parse_apt_list(data("apt_list_upgradable.txt"))
    assert brief(updates) == [
        ("base-files", "12.4+deb12u11", "12.4+deb12u12", "bugfix", "", False),
        ("ca-certificates", "20230311+deb12u1", "20250419~deb12u2", "security", "", False),
        ("krb5-locales", "1.20.1-2+deb12u3", "1.20.1-2+deb12u5", "security", "", False),
        ("libc6:amd64", "2.36-9+deb12u10", "2.36-9+deb12u13", "bugfix", "", True),
        ("libc6:i386", "2.36-9+deb12u10", "2.36-9+deb12u13", "bugfix", "", True),
        ("linux-image-amd64", "6.1.153-1", "6.1.158-1", "security", "", True),
        ("openssl", "3.0.15-1~deb12u1", "3.0.17-1~deb12u3", "security", "", False),
        ("tzdata", "2025b-0+deb12u1", "2025b-0+deb12u2", "bugfix", "", False),
    ]
    assert {u["source"] for u in updates} == {"apt"}
    assert updates[0]["title"] == "base-files" and updates[0]["released_on"] is None
    assert not any(u["installed"] for u in updates)


def test_apt_list_ubuntu_pockets() -> None:
    assert brief(parse_apt_list(data("apt_list_ubuntu.txt"))) == [
        ("libssl3t64", "3.0.13-0ubuntu3.5", "3.0.13-0ubuntu3.6", "security", "", False),
        ("snapd", "2.66.1+24.04", "2.67.1+24.04", "bugfix", "", False),
    ]


def test_apt_get_simulate_reads_the_security_origin() -> None:
    assert brief(parse_apt_simulate_updates(data("apt_get_s_upgrade.txt"))) == [
        ("base-files", "12.4+deb12u11", "12.4+deb12u12", "bugfix", "", False),
        ("libgcrypt20", "1.10.1-3", "1.10.1-3+deb12u1", "security", "", False),
        ("openssl", "3.0.15-1~deb12u1", "3.0.17-1~deb12u3", "security", "", False),
    ]


@pytest.mark.skipif(shutil.which("apt") is None, reason="this machine has no apt")
def test_the_real_apt_of_this_machine_is_listed_completely() -> None:
    # given this machine's own package manager, asked to list (never to install)
    raw = subprocess.run(["apt", "list", "--upgradable"], capture_output=True, text=True, timeout=300,
                         env={"LC_ALL": "C", "LANG": "C", "PATH": "/usr/bin:/bin"}, check=True).stdout
    lines = [line for line in raw.splitlines() if line.strip() and line.strip() != "Listing..."]
    # when the collector lists it through its own runner
    snap = list_updates("linux", run_command)
    # then every line is one update (or the list is empty), with the line's own versions
    assert "apt" in snap.sources and "apt" not in snap.errors
    apt = [u for u in snap.updates if u["source"] == "apt"]
    assert len(apt) == len(lines)
    for line in lines:
        match = APT_LIST_LINE.match(line)
        assert match is not None, line
        assert any(u["identifier"].split(":")[0] == match["name"] and u["available_version"] == match["version"]
                   and u["installed_version"] == match["old"] for u in apt), line
    # a security pocket is a security update, every other pocket is not
    for line in lines:
        match = APT_LIST_LINE.match(line)
        assert match is not None
        entry = next(u for u in apt if u["identifier"].split(":")[0] == match["name"])
        assert (entry["category"] == "security") == ("-security" in match["suites"])
    # and the server's own validation accepts the snapshot as an item
    item = {"seq": 1, "kind": "updates", "at": "2026-11-26T16:01:00Z", "data": updates_wire(snap)}
    body = json.dumps({"agent_version": "0.1.0", "items": [item]}).encode()
    assert strict_errors("/agent/v1/checkin", body) is None


def test_dnf_check_update_joined_with_advisories_and_installed_versions() -> None:
    advisories = parse_dnf_updateinfo(data("dnf_updateinfo.txt"))
    assert advisories["openssl-libs.x86_64"] == {"advisory": "FEDORA-2024-5d4c3b2a1f", "category": "critical",
                                                 "severity": "critical"}
    updates = parse_dnf_check_update_list(data("dnf_check_update.txt"), advisories,
                                          parse_rpm_versions(data("rpm_versions.txt")))
    assert brief(updates) == [
        ("curl.x86_64", "8.2.1-4.fc39", "8.2.1-5.fc39", "bugfix", "", False),
        ("kernel.x86_64", "6.10.12-100.fc39", "6.11.8-100.fc39", "security", "important", True),
        ("kernel-core.x86_64", "6.10.12-100.fc39", "6.11.8-100.fc39", "security", "important", True),
        ("openssl-libs.x86_64", "1:3.1.4-3.fc39", "1:3.1.4-4.fc39", "critical", "critical", False),
        ("python3-urllib3.noarch", "1.26.19-1.fc39", "1.26.20-1.fc39", "feature", "", False),
    ]
    assert updates[1]["title"] == "kernel.x86_64 (FEDORA-2024-7f8e9d0c1b)"


def test_zypper_packages_and_patches() -> None:
    packages = parse_zypper_xml(data("zypper_packages.xml"))
    assert brief(packages) == [
        ("libopenssl3.x86_64", "3.1.4-150600.5.10.1", "3.1.4-150600.5.15.1", "bugfix", "", False),
        ("kernel-default.x86_64", "6.4.0-150600.23.25.1", "6.4.0-150600.23.30.1", "bugfix", "", True),
    ]
    assert packages[0]["title"] == "Secure Sockets and Transport Layer Security"
    patches = parse_zypper_xml(data("zypper_patches.xml"))
    assert [(p["identifier"], p["title"], p["category"], p["severity"], p["released_on"], p["reboot_required"])
            for p in patches] == [
        ("SUSE-SLE-Module-Basesystem-15-SP6-2024-4102", "Security update for openssl-3", "security", "important",
         "2024-11-20", False),
        ("SUSE-SLE-Module-Basesystem-15-SP6-2024-4130", "Security update for the Linux Kernel", "critical",
         "critical", "2024-11-22", True),
        ("SUSE-SLE-Module-Basesystem-15-SP6-2024-3990", "Recommended update for timezone", "bugfix", "moderate",
         "2024-11-11", False),
    ]
    assert parse_zypper_xml("zypper: not found") == [] and parse_zypper_xml("<stream><update") == []


def test_brew_outdated_leaves_pinned_formulae() -> None:
    assert brief(parse_brew_outdated(data("brew_outdated.json"))) == [
        ("openssl@3", "3.3.1", "3.4.0", "application", "", False),
        ("python@3.12", "3.12.6", "3.12.7_1", "application", "", False),
        ("firefox", "131.0.3", "133.0", "application", "", False),
    ]


def test_windows_update_missing_and_installed() -> None:
    updates = parse_windows_update(data("windows_update.json"))
    missing = [u for u in updates if not u["installed"]]
    assert [(u["identifier"], u["category"], u["severity"], u["released_on"], u["reboot_required"])
            for u in missing] == [
        ("KB5046617", "security", "critical", "2026-11-10", True),
        ("KB5045935", "security", "important", "2026-11-10", False),
        ("KB890830", "bugfix", "", "2026-11-10", False),
        ("9c8b7a6d-5e4f-4321-a0b9-c8d7e6f5a4b3", "driver", "", "2026-09-24", True),
        ("KB5044030", "bugfix", "", "2026-10-22", True),
    ]
    assert missing[0]["title"] == ("2026-11 Cumulative Update for Windows 11 Version 23H2 for x64-based Systems "
                                   "(KB5046617)")
    # the history: the newest success once, an update listed as missing is not installed
    assert [u["identifier"] for u in updates if u["installed"]] == ["KB5044285", "KB2267602"]


def test_windows_update_powershell_7_single_entry() -> None:
    updates = parse_windows_update(data("windows_update_ps7_single.json"))
    assert [(u["identifier"], u["category"], u["severity"], u["released_on"], u["installed"]) for u in updates] == [
        ("KB5046617", "security", "critical", "2026-11-10", False)]
    assert parse_windows_update("not json") == [] and parse_windows_update("[]") == []


def test_winget_upgrade_english_both_tables() -> None:
    updates = parse_winget_upgrade(data("winget_upgrade_en.txt"))
    assert [(u["identifier"], u["title"], u["installed_version"], u["available_version"], u["category"])
            for u in updates] == [
        ("Mozilla.Firefox", "Mozilla Firefox (x64 en-US)", "132.0.1", "133.0", "application"),
        ("7zip.7zip", "7-Zip 23.01 (x64)", "23.01", "24.08", "application"),
        ("Microsoft.VCRedist.2015+.x64", "Microsoft Visual C++ 2015-2022 Redis", "14.38.33135.0", "14.42.34433.0",
         "application"),
        ("Notepad++.Notepad++", "Notepad++ (64-bit x64)", "8.6.9", "8.7.1", "application"),
        ("Zoom.Zoom", "Zoom Workplace", "6.1.11.4225", "6.2.10.4921", "application"),
    ]


def test_winget_upgrade_french_headers_and_nothing_to_upgrade() -> None:
    assert [(u["identifier"], u["installed_version"], u["available_version"])
            for u in parse_winget_upgrade(data("winget_upgrade_fr.txt"))] == [
        ("Adobe.Acrobat.Reader.64-bit", "24.003.20180", "24.004.20220"),
        ("Google.Chrome", "130.0.6723.117", "131.0.6778.86"),
    ]
    assert parse_winget_upgrade(data("winget_upgrade_none.txt")) == []


def test_softwareupdate_list() -> None:
    updates = parse_softwareupdate_list(data("softwareupdate_list.txt"))
    assert [(u["identifier"], u["title"], u["available_version"], u["category"], u["reboot_required"])
            for u in updates] == [
        ("macOS Sonoma 14.7.2-23H311", "macOS Sonoma 14.7.2", "14.7.2", "bugfix", True),
        ("macOS Sequoia 15.1.1-24B91", "macOS Sequoia 15.1.1", "15.1.1", "feature", True),
        ("Background Security Improvement 14.7.1 (a)-23H222a", "Background Security Improvement 14.7.1 (a)",
         "14.7.1 (a)", "security", True),
        ("Command Line Tools for Xcode-16.1", "Command Line Tools for Xcode", "16.1", "bugfix", False),
    ]
    assert parse_softwareupdate_list(data("softwareupdate_none.txt")) == []


def test_list_updates_on_windows_from_recorded_outputs() -> None:
    replay = Replay({("powershell.exe",): data("windows_update.json"),
                     ("winget", "upgrade"): CommandResult(-1978335212, data("winget_upgrade_fr.txt"), "")})
    snap = list_updates("windows", replay, which=lambda name: name if name == "winget" else None)
    assert snap.sources == ["windows_update", "winget"] and snap.errors == {}
    assert len(snap.updates) == 7 + 2


def test_a_failed_source_is_not_in_the_snapshot_sources() -> None:
    replay = Replay({("apt", "list"): CommandResult(100, "", "E: Could not open lock file")})
    snap = list_updates("linux", replay, which=lambda name: name if name == "apt" else None)
    assert (snap.sources, snap.updates, snap.errors) == ([], [], {"apt": "E: Could not open lock file"})


def test_wire_shape_sorted_deduplicated_and_bounded() -> None:
    snap = Snapshot()
    snap.add("apt", parse_apt_list(data("apt_list_upgradable.txt")))
    snap.add("apt", [{"source": "apt", "identifier": "openssl", "title": "x" * 900, "category": "weird",
                      "severity": "extreme"}])
    wire = updates_wire(snap)
    assert wire["sources"] == ["apt"] and len(wire["updates"]) == 8
    assert [u["identifier"] for u in wire["updates"]][:2] == ["base-files", "ca-certificates"]
    assert len(wire["digest"]) == 64
    assert set(wire["updates"][0]) == {"source", "identifier", "title", "installed_version", "available_version",
                                       "category", "severity", "released_on", "reboot_required", "installed"}


def test_schedule_spools_at_start_then_only_when_due_and_changed(tmp_path: Path) -> None:
    # given an agent whose collector is a real Linux collector replaying apt
    listing = {"text": data("apt_list_upgradable.txt")}

    def runner(argv: Any, timeout: float) -> CommandResult:
        return CommandResult(0, listing["text"], "")

    class AgentLike:
        collector = LinuxCollector(runner)
        state: dict[str, Any] = {}
        spool = Spool(tmp_path / "spool.sqlite3")

        def collectors_policy(self) -> dict[str, Any]:
            return {"updates_interval": 2 * 3600}

        def save_state(self) -> None:
            pass

    agent = AgentLike()
    schedule = UpdatesSchedule(which=lambda name: name if name == "apt" else None)
    # when it collects at start, one hour later, and three hours later with nothing changed
    first = schedule.maybe_spool(agent, 1000.0)
    assert first is not None
    assert schedule.maybe_spool(agent, 1000.0 + 3600) is None  # not due (every 2 hours)
    assert schedule.maybe_spool(agent, 1000.0 + 3 * 3600) is None  # due, but unchanged
    # then a change is spooled at the next due time
    listing["text"] = "Listing...\n"
    second = schedule.maybe_spool(agent, 1000.0 + 6 * 3600)
    assert second is not None and second > first
    items = agent.spool.pending(10, 1 << 20)
    assert [i.kind for i in items] == ["updates", "updates"]
    assert [len(i.data["updates"]) for i in items] == [8, 0]
    # and the body carrying them passes the server's validation
    body = build_checkin(items, agent_version="0.1.0", policy_version="", sent_at="2026-11-26T16:01:00Z").body
    assert strict_errors("/agent/v1/checkin", body) is None
    agent.spool.close()


def test_the_interval_comes_from_the_policy_within_its_bounds() -> None:
    assert updates_interval({}) == 6 * 3600
    assert updates_interval({"updates_interval": 3600}) == 3600
    assert updates_interval({"updates_interval": 60}) == 900  # below 15 minutes: 15 minutes
    assert updates_interval({"updates_interval": 30 * 24 * 3600}) == 7 * 24 * 3600
    assert updates_interval({"updates_interval": True}) == 6 * 3600
    assert updates_interval({"updates_interval": "3600"}) == 6 * 3600
    assert updates_interval({"updates_hours": 2}) == 6 * 3600  # the old key is not read any more


def test_a_fake_collector_lists_nothing(tmp_path: Path) -> None:
    class AgentLike:
        collector = FakeCollector()

        def collectors_policy(self) -> dict[str, Any]:
            return {}

    assert UpdatesSchedule().maybe_spool(AgentLike(), 1.0) is None
