"""The built-in actions: the exact commands built for each OS, payloads refused with nothing run, and the
install result as the server's patching reads it. Nothing here restarts, installs or removes anything on this
machine: every command goes to a replaying runner that records it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import Replay, recorded
from tenfold_agent import actions
from tenfold_agent.actions import Host, PayloadError
from tenfold_agent.collectors.windows import powershell
from tenfold_agent.process import CancelToken
from tenfold_agent.util import CommandResult

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC).timestamp()
TOOLS = {"apt-get", "dnf", "zypper", "brew", "winget", "softwareupdate", "powershell.exe", "systemctl", "shutdown"}
APT = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
KEEP = ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]


def host(family: str, replay: Replay, *, tools: set[str] | None = None, clock: Any = None,
         exists: Any = None) -> Host:
    present = TOOLS if tools is None else tools
    return Host(family=family, run=replay, which=lambda name: f"/usr/bin/{name}" if name in present else None,
                clock=clock or (lambda: NOW), exists=exists or (lambda path: False), token=CancelToken())


def ok(stdout: str = "") -> CommandResult:
    return CommandResult(0, stdout, "")


# --- restart_service ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("family", "argv"), [
    ("linux", ["systemctl", "restart", "nginx.service"]),
    ("macos", ["launchctl", "kickstart", "-k", "system/nginx.service"]),
    ("windows", ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command",
                 "Restart-Service -Name 'nginx.service' -Force -ErrorAction Stop"]),
])
def test_restart_service_runs_the_system_s_command(family: str, argv: list[str]) -> None:
    replay = Replay({(argv[0],): ok("restarted\n")})
    outcome = actions.restart_service({"service": "nginx.service"}, host(family, replay))
    assert replay.calls == [argv]
    assert (outcome.status, outcome.exit_code, outcome.stdout, outcome.stderr) == ("succeeded", 0, "restarted\n", "")


def test_restart_service_reports_the_command_s_failure() -> None:
    replay = Replay({("systemctl",): CommandResult(5, "", "Failed to restart nope.service: Unit not found.\n")})
    outcome = actions.restart_service({"service": "nope"}, host("linux", replay))
    assert (outcome.status, outcome.exit_code, outcome.stderr) == (
        "failed", 5, "Failed to restart nope.service: Unit not found.\n")


@pytest.mark.parametrize(("payload", "message"), [
    ({}, "service must be a service name"),
    ({"service": "a b"}, "service must be a service name"),
    ({"service": "x;reboot"}, "service must be a service name"),
    ({"service": "$(id)"}, "service must be a service name"),
    ({"service": "-H"}, "service must be a service name"),
    ({"service": "a" * 129}, "service must be a service name"),
    ({"service": 7}, "service must be a service name"),
    ({"service": "cups", "force": True}, "unknown payload field(s): force"),
    (["cups"], "the payload must be an object"),
])
def test_restart_service_refuses_a_bad_payload_and_runs_nothing(payload: Any, message: str) -> None:
    replay = Replay({})
    with pytest.raises(PayloadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        actions.restart_service(payload, host("linux", replay))
    assert replay.calls == []


# --- reboot -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("family", "argv"), [
    ("linux", ["shutdown", "-r", "+10", "Saving your work, please."]),
    ("macos", ["shutdown", "-r", "+10", "Saving your work, please."]),
    ("windows", ["shutdown", "/r", "/t", "600", "/c", "Saving your work, please."]),
])
def test_reboot_tells_users_and_schedules_the_restart(family: str, argv: list[str]) -> None:
    replay = Replay({("shutdown",): ok()})
    outcome = actions.reboot({"delay_minutes": 10, "message": "Saving your work, please."}, host(family, replay))
    assert replay.calls == [argv]
    assert (outcome.status, outcome.exit_code, outcome.stdout) == (
        "succeeded", 0, "restart scheduled for 2026-11-27T02:10:00Z (in 10 minutes); logged-in users were told: "
                        "Saving your work, please.")


def test_reboot_defaults_to_five_minutes_and_a_default_message() -> None:
    replay = Replay({("shutdown",): ok()})
    outcome = actions.reboot({}, host("linux", replay))
    assert replay.calls == [["shutdown", "-r", "+5", "Tenfold: this computer restarts in 5 minutes for maintenance."]]
    assert outcome.stdout.startswith("restart scheduled for 2026-11-27T02:05:00Z (in 5 minutes)")
    replay = Replay({("shutdown",): ok()})
    actions.reboot({"delay_minutes": 0}, host("windows", replay))
    assert replay.calls == [["shutdown", "/r", "/t", "0", "/c",
                             "Tenfold: this computer restarts in 0 minutes for maintenance."]]


def test_reboot_that_cannot_be_scheduled_fails() -> None:
    replay = Replay({("shutdown",): CommandResult(1, "", "Failed to schedule shutdown: Access denied\n")})
    outcome = actions.reboot({"delay_minutes": 1}, host("linux", replay))
    assert (outcome.status, outcome.stderr) == ("failed", "Failed to schedule shutdown: Access denied")


@pytest.mark.parametrize(("payload", "message"), [
    ({"delay_minutes": 1441}, "delay_minutes must be a whole number between 0 and 1440"),
    ({"delay_minutes": -1}, "delay_minutes must be a whole number between 0 and 1440"),
    ({"delay_minutes": True}, "delay_minutes must be a whole number between 0 and 1440"),
    ({"delay_minutes": "5"}, "delay_minutes must be a whole number between 0 and 1440"),
    ({"delay_minutes": 2.5}, "delay_minutes must be a whole number between 0 and 1440"),
    ({"message": "x" * 201}, "message must be text of 1 to 200 characters on one line"),
    ({"message": "two\nlines"}, "message must be text of 1 to 200 characters on one line"),
    ({"message": ""}, "message must be text of 1 to 200 characters on one line"),
    ({"message": "-h now"}, "message must not start with - or /"),
    ({"message": "/s"}, "message must not start with - or /"),
    ({"delay": 5}, "unknown payload field"),
])
def test_reboot_refuses_a_bad_payload_and_runs_nothing(payload: dict[str, Any], message: str) -> None:
    replay = Replay({})
    with pytest.raises(PayloadError, match=message):
        actions.reboot(payload, host("linux", replay))
    assert replay.calls == []


# --- install_updates ------------------------------------------------------------------------------------------


def install(updates: list[dict[str, str]], reboot: str = "if_required", **extra: Any) -> dict[str, Any]:
    return {"updates": updates, "reboot": reboot, "reboot_deferrals": 0,
            "window_ends_at": "2026-11-27T04:00:00Z", **extra}


def test_install_apt_updates_pinned_to_their_version_with_exact_results() -> None:
    # given two apt updates, one whose version the mirror no longer has
    replay = Replay({
        (*APT, "install", "-y", "--only-upgrade", *KEEP, "openssl=3.0.11-1~deb12u2"):
            ok(recorded("linux/apt_get_install_only_upgrade.txt")),
        (*APT, "install", "-y", "--only-upgrade", *KEEP, "curl=9.9.9-1"):
            CommandResult(100, "", recorded("linux/apt_get_install_version_missing.txt")),
    })
    payload = install([{"source": "apt", "identifier": "openssl", "version": "3.0.11-1~deb12u2"},
                       {"source": "apt", "identifier": "curl", "version": "9.9.9-1"}])
    # when
    outcome = actions.install_updates(payload, host("linux", replay))
    # then one command per update, in order, and nothing else (no restart: nothing needs one)
    assert replay.calls == [
        [*APT, "install", "-y", "--only-upgrade", *KEEP, "openssl=3.0.11-1~deb12u2"],
        [*APT, "install", "-y", "--only-upgrade", *KEEP, "curl=9.9.9-1"],
    ]
    assert outcome.stdout == json.dumps({"results": [
        {"identifier": "openssl", "status": "installed", "message": ""},
        {"identifier": "curl", "status": "failed", "message": "E: Version '9.9.9-1' for 'curl' was not found"},
    ], "reboot": "not needed"})
    assert (outcome.status, outcome.exit_code, outcome.stderr) == ("failed", 1, "1 of 2 update(s) not installed")


def test_the_install_output_is_what_the_server_s_patching_reads() -> None:
    # the parser of tenfold/patching/services.py, copied here: the agent package has no Django
    replay = Replay({("env",): ok()})
    outcome = actions.install_updates(install([{"source": "apt", "identifier": "libc6:amd64", "version": "2.36-9"}],
                                              reboot="never"), host("linux", replay))
    data = json.loads(outcome.stdout)
    assert [(r["identifier"], r["status"], r["message"]) for r in data["results"]] == [("libc6:amd64", "installed", "")]
    assert data["reboot"] == "not allowed by the policy"
    assert outcome.status == "succeeded" and outcome.exit_code == 0 and outcome.stderr == ""


@pytest.mark.parametrize(("rule", "identifier", "flag", "restarts"), [
    ("if_required", "linux-image-amd64", False, True),     # a kernel: the name says so
    ("if_required", "openssl", True, True),                # Debian's /var/run/reboot-required says so
    ("if_required", "openssl", False, False),
    ("always", "openssl", False, True),
    ("never", "linux-image-amd64", True, False),
])
def test_install_restarts_as_the_policy_s_rule_says(rule: str, identifier: str, flag: bool, restarts: bool) -> None:
    replay = Replay({("env",): ok(), ("shutdown",): ok()})
    device = host("linux", replay, exists=lambda path: flag and path == "/var/run/reboot-required")
    outcome = actions.install_updates(install([{"source": "apt", "identifier": identifier, "version": "1"}],
                                              reboot=rule), device)
    restart = ["shutdown", "-r", "+5", "Tenfold: this computer restarts in 5 minutes to finish installing updates."]
    assert (restart in replay.calls) is restarts
    assert replay.calls[-1] == restart if restarts else replay.calls[-1][0] == "env"
    expected = ("restart scheduled for 2026-11-27T02:05:00Z (in 5 minutes)" if restarts
                else "not allowed by the policy" if rule == "never" else "not needed")
    assert json.loads(outcome.stdout)["reboot"] == expected


def test_no_restart_when_nothing_installed() -> None:
    replay = Replay({("env",): CommandResult(100, "", "E: broken\n"), ("shutdown",): ok()})
    outcome = actions.install_updates(install([{"source": "apt", "identifier": "linux-image-amd64", "version": "1"}],
                                              reboot="always"), host("linux", replay))
    assert [c[0] for c in replay.calls] == ["env"]
    assert json.loads(outcome.stdout)["reboot"] == "none"


@pytest.mark.parametrize(("update", "argv"), [
    ({"source": "dnf", "identifier": "kernel.x86_64", "version": "6.5.6-300.fc39"},
     ["dnf", "upgrade", "-y", "kernel-6.5.6-300.fc39.x86_64"]),
    ({"source": "dnf", "identifier": "vim-enhanced.x86_64", "version": "2:9.0.2120-1.fc39"},
     ["dnf", "upgrade", "-y", "vim-enhanced-2:9.0.2120-1.fc39.x86_64"]),
    ({"source": "dnf", "identifier": "bash.x86_64", "version": ""}, ["dnf", "upgrade", "-y", "bash.x86_64"]),
    ({"source": "zypper", "identifier": "vim.x86_64", "version": "9.0.2103-150000.5.10.1"},
     ["zypper", "--non-interactive", "update", "vim.x86_64"]),
    ({"source": "zypper", "identifier": "openSUSE-SLE-15.5-2024-1234", "version": "1"},
     ["zypper", "--non-interactive", "install", "-t", "patch", "openSUSE-SLE-15.5-2024-1234"]),
    ({"source": "brew", "identifier": "python@3.12", "version": "3.12.1"}, ["brew", "upgrade", "python@3.12"]),
])
def test_install_commands_of_the_other_linux_package_managers(update: dict[str, str], argv: list[str]) -> None:
    replay = Replay({(argv[0],): ok()})
    outcome = actions.install_updates(install([update], reboot="never"), host("linux", replay))
    assert replay.calls == [argv]
    assert json.loads(outcome.stdout)["results"] == [
        {"identifier": update["identifier"], "status": "installed", "message": ""}]


def test_install_on_macos_softwareupdate_then_restart_it_asks_for() -> None:
    replay = Replay({
        ("softwareupdate", "--install", "macOS Sonoma 14.2-23C64"):
            ok(recorded("macos/softwareupdate_install_restart.txt")),
        ("softwareupdate", "--install", "Safari17.2VenturaAuto-17.2"):
            ok(recorded("macos/softwareupdate_install_safari.txt")),
        ("brew",): ok(), ("shutdown",): ok()})
    outcome = actions.install_updates(install([
        {"source": "softwareupdate", "identifier": "Safari17.2VenturaAuto-17.2", "version": "17.2"},
        {"source": "brew", "identifier": "git", "version": "2.43.0"},
        {"source": "softwareupdate", "identifier": "macOS Sonoma 14.2-23C64", "version": "14.2"},
    ]), host("macos", replay))
    assert replay.calls == [
        ["softwareupdate", "--install", "Safari17.2VenturaAuto-17.2"],
        ["brew", "upgrade", "git"],
        ["softwareupdate", "--install", "macOS Sonoma 14.2-23C64"],
        ["shutdown", "-r", "+5", "Tenfold: this computer restarts in 5 minutes to finish installing updates."],
    ]
    assert outcome.status == "succeeded"
    assert [r["status"] for r in json.loads(outcome.stdout)["results"]] == ["installed"] * 3


def test_install_on_windows_through_windows_update_and_winget() -> None:
    # given two Windows Update KBs (the recorded answer: one installed, one failed) and a winget package
    script = actions.windows_update_script(["KB5032189", "KB890830"])
    replay = Replay({("powershell.exe",): ok(recorded("windows/wua_install_two.json")), ("winget",): ok(),
                     ("shutdown",): ok()})
    # when
    outcome = actions.install_updates(install([
        {"source": "windows_update", "identifier": "KB5032189", "version": ""},
        {"source": "winget", "identifier": "Mozilla.Firefox", "version": "121.0"},
        {"source": "windows_update", "identifier": "KB890830", "version": ""},
    ]), host("windows", replay))
    # then winget per package, the KBs in one Windows Update run, and the restart it asked for
    assert replay.calls == [
        ["winget", "upgrade", "--id", "Mozilla.Firefox", "--exact", "--silent", "--accept-package-agreements",
         "--accept-source-agreements", "--disable-interactivity"],
        powershell(script),
        ["shutdown", "/r", "/t", "300", "/c",
         "Tenfold: this computer restarts in 5 minutes to finish installing updates."],
    ]
    assert script.startswith("$want = @('KB5032189','KB890830'); ")
    assert json.loads(outcome.stdout) == {"results": [
        {"identifier": "KB5032189", "status": "installed", "message": ""},
        {"identifier": "Mozilla.Firefox", "status": "installed", "message": ""},
        {"identifier": "KB890830", "status": "failed", "message": "Windows Update result code 4 (HRESULT 0x80240017)"},
    ], "reboot": "restart scheduled for 2026-11-27T02:05:00Z (in 5 minutes)"}
    assert outcome.status == "failed"


def test_windows_update_results_of_one_update_and_of_an_update_not_offered() -> None:
    # PowerShell 5.1 writes a one-element array as the element itself
    results, restart = actions.parse_windows_install(recorded("windows/wua_install_one.json"),
                                                     ["KB5032189", "KB5031356"])
    assert results == [
        {"identifier": "KB5032189", "status": "installed", "message": "installed with errors"},
        {"identifier": "KB5031356", "status": "failed",
         "message": "not offered by Windows Update on this device (installed, hidden or superseded)"}]
    assert restart is False
    assert actions.parse_windows_install("not json", ["KB5032189"]) == (
        [{"identifier": "KB5032189", "status": "failed", "message": "Windows Update printed no result"}], False)


def test_an_update_of_another_system_or_a_missing_tool_fails_alone() -> None:
    replay = Replay({("brew",): ok()})
    outcome = actions.install_updates(install([
        {"source": "apt", "identifier": "openssl", "version": "1"},
        {"source": "brew", "identifier": "git", "version": "2"},
        {"source": "dnf", "identifier": "bash.x86_64", "version": "5"},
    ], reboot="never"), host("macos", replay, tools={"brew"}))
    assert replay.calls == [["brew", "upgrade", "git"]]
    assert json.loads(outcome.stdout)["results"] == [
        {"identifier": "openssl", "status": "failed", "message": "apt updates do not apply to a macos device"},
        {"identifier": "git", "status": "installed", "message": ""},
        {"identifier": "bash.x86_64", "status": "failed", "message": "dnf updates do not apply to a macos device"},
    ]
    replay = Replay({})
    outcome = actions.install_updates(install([{"source": "zypper", "identifier": "vim", "version": "1"}]),
                                      host("linux", replay, tools=set()))
    assert replay.calls == []
    assert json.loads(outcome.stdout)["results"] == [
        {"identifier": "vim", "status": "failed", "message": "zypper is not installed on this device"}]


def test_nothing_is_installed_once_the_install_window_has_ended() -> None:
    replay = Replay({("env",): ok()})
    outcome = actions.install_updates(install([{"source": "apt", "identifier": "openssl", "version": "1"}],
                                              window_ends_at="2026-11-27T01:59:00Z"), host("linux", replay))
    assert replay.calls == []
    assert (outcome.status, outcome.stdout, outcome.stderr) == (
        "failed", "", "the install window ended at 2026-11-27T01:59:00Z, before the job started: nothing was installed")


def test_the_window_ending_between_two_updates_stops_the_rest() -> None:
    times = iter([NOW, NOW + 1800, NOW + 7200, NOW + 7200])
    replay = Replay({("env",): ok()})
    outcome = actions.install_updates(install([{"source": "apt", "identifier": "openssl", "version": "1"},
                                               {"source": "apt", "identifier": "curl", "version": "1"}],
                                              reboot="always"), host("linux", replay, clock=lambda: next(times)))
    assert replay.calls == [
        [*APT, "install", "-y", "--only-upgrade", *KEEP, "openssl=1"],
        ["shutdown", "-r", "+5", "Tenfold: this computer restarts in 5 minutes to finish installing updates."]]
    assert json.loads(outcome.stdout)["results"][1] == {
        "identifier": "curl", "status": "failed", "message": "the install window ended before it was installed"}


def test_a_cancel_between_two_updates_stops_the_rest_and_no_restart() -> None:
    box: dict[str, Host] = {}

    def run_then_cancel(argv: Any, timeout: float) -> CommandResult:
        box["host"].token.cancel()
        return ok()

    box["host"] = host("linux", Replay({}))
    box["host"].run = run_then_cancel
    outcome = actions.install_updates(install([{"source": "apt", "identifier": "openssl", "version": "1"},
                                               {"source": "apt", "identifier": "curl", "version": "1"}],
                                              reboot="always"), box["host"])
    assert json.loads(outcome.stdout) == {"results": [
        {"identifier": "openssl", "status": "installed", "message": ""},
        {"identifier": "curl", "status": "failed", "message": "cancelled before it was installed"}], "reboot": "none"}


@pytest.mark.parametrize(("payload", "message"), [
    ({"updates": []}, "updates must be a list of 1 to 500 updates"),
    ({"updates": "openssl"}, "updates must be a list of 1 to 500 updates"),
    ({"updates": [{"source": "pip", "identifier": "x", "version": "1"}]}, "update 1: source must be one of"),
    ({"updates": [{"source": "apt", "identifier": "openssl;reboot", "version": "1"}]},
     "update 1: 'openssl;reboot' is not a valid apt identifier"),
    ({"updates": [{"source": "apt", "identifier": "-oAPT::x", "version": "1"}]}, "is not a valid apt identifier"),
    ({"updates": [{"source": "apt", "identifier": "openssl", "version": "1 2"}]}, "update 1: '1 2' is not a valid"),
    ({"updates": [{"source": "windows_update", "identifier": "KB12'); Remove-Item C:\\", "version": ""}]},
     "is not a valid windows_update identifier"),
    ({"updates": [{"source": "winget", "identifier": "a b", "version": ""}]}, "is not a valid winget identifier"),
    ({"updates": [{"source": "softwareupdate", "identifier": "-a", "version": ""}]}, "not a valid softwareupdate"),
    ({"updates": [{"source": "apt", "identifier": "x", "version": "1", "extra": 1}]}, "update 1: an object with"),
    ({"updates": [{"source": "apt", "identifier": "x", "version": "1"}], "reboot": "sometimes"},
     "reboot must be one of never, if_required, always"),
    ({"updates": [{"source": "apt", "identifier": "x", "version": "1"}], "reboot_deferrals": -1},
     "reboot_deferrals must be a whole number"),
    ({"updates": [{"source": "apt", "identifier": "x", "version": "1"}], "window_ends_at": "tomorrow"},
     "window_ends_at must be an ISO 8601 time"),
    ({"updates": [{"source": "apt", "identifier": "x", "version": "1"}], "force": True}, "unknown payload field"),
])
def test_install_refuses_a_bad_payload_and_runs_nothing(payload: dict[str, Any], message: str) -> None:
    replay = Replay({})
    with pytest.raises(PayloadError) as refused:
        actions.install_updates(payload, host("linux", replay))
    assert message in str(refused.value)
    assert replay.calls == []


# --- uninstall_software -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("family", "source", "argv"), [
    ("linux", "apt", [*APT, "remove", "-y", "vlc"]),
    ("linux", "dnf", ["dnf", "remove", "-y", "vlc"]),
    ("linux", "zypper", ["zypper", "--non-interactive", "remove", "vlc"]),
    ("macos", "brew", ["brew", "uninstall", "vlc"]),
    ("windows", "winget", ["winget", "uninstall", "--id", "vlc", "--exact", "--silent", "--accept-source-agreements",
                           "--disable-interactivity"]),
])
def test_uninstall_with_the_named_package_manager(family: str, source: str, argv: list[str]) -> None:
    replay = Replay({(argv[0],): ok("Removing vlc\n")})
    outcome = actions.uninstall_software({"name": "vlc", "source": source}, host(family, replay))
    assert replay.calls == [argv]
    assert (outcome.status, outcome.exit_code, outcome.stdout) == ("succeeded", 0, "Removing vlc\n")


@pytest.mark.parametrize(("family", "tools", "argv"), [
    ("linux", {"dnf", "brew"}, ["dnf", "remove", "-y", "VideoLAN.VLC"]),
    ("linux", {"apt-get", "dnf"}, [*APT, "remove", "-y", "VideoLAN.VLC"]),
    ("macos", {"brew"}, ["brew", "uninstall", "VideoLAN.VLC"]),
    ("windows", {"winget"}, ["winget", "uninstall", "--id", "VideoLAN.VLC", "--exact", "--silent",
                             "--accept-source-agreements", "--disable-interactivity"]),
])
def test_uninstall_without_a_source_picks_the_machine_s_package_manager(family: str, tools: set[str],
                                                                         argv: list[str]) -> None:
    replay = Replay({(argv[0],): ok()})
    actions.uninstall_software({"name": "VideoLAN.VLC"}, host(family, replay, tools=tools))
    assert replay.calls == [argv]


def test_uninstall_fails_without_a_package_manager_or_with_one_of_another_system() -> None:
    replay = Replay({})
    none = actions.uninstall_software({"name": "vlc"}, host("linux", replay, tools=set()))
    other = actions.uninstall_software({"name": "vlc", "source": "winget"}, host("linux", replay))
    failed = actions.uninstall_software({"name": "vlc", "source": "apt"}, host(
        "linux", Replay({("env",): CommandResult(100, "", "E: Unable to locate package vlc\n")})))
    assert replay.calls == []
    assert (none.status, none.stderr) == ("failed", "no package manager found on this linux device")
    assert (other.status, other.stderr) == ("failed", "winget updates do not apply to a linux device")
    assert (failed.status, failed.exit_code, failed.stderr) == ("failed", 100, "E: Unable to locate package vlc\n")


@pytest.mark.parametrize(("payload", "message"), [
    ({}, "name must be a package name"),
    ({"name": "vlc; rm -rf /"}, "name must be a package name"),
    ({"name": "--purge"}, "name must be a package name"),
    ({"name": "vlc", "source": "pip"}, "source must be one of apt, dnf, zypper, brew, winget"),
    ({"name": "vlc", "source": "windows_update"}, "source must be one of"),
    ({"name": "vlc", "purge": True}, "unknown payload field"),
])
def test_uninstall_refuses_a_bad_payload_and_runs_nothing(payload: dict[str, Any], message: str) -> None:
    replay = Replay({})
    with pytest.raises(PayloadError, match=message):
        actions.uninstall_software(payload, host("linux", replay))
    assert replay.calls == []
