"""macOS: parsers of system_profiler -json, sw_vers, softwareupdate, socketfilterfw, tmutil and launchctl output.

The runners are thin: each method runs one command and hands its output to a parser. The parsers are
tested on recorded outputs; the runners were not run on a real Mac in this repository.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..util import CommandResult, Runner, iso, parse_iso, run_command
from .base import NOT_FOUND, RUNNING, STOPPED, UNKNOWN, PsutilCollector, ServiceState, age_days
from .restic import restic_last_backup

SOCKETFILTERFW = "/usr/libexec/ApplicationFirewall/socketfilterfw"
XPROTECT_PACKAGES = ("XProtectPlistConfigData", "XProtectPayloads")
_UNITS = {"KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def parse_sw_vers(output: str) -> dict[str, str]:
    """`sw_vers`: ProductName, ProductVersion, BuildVersion."""
    fields = dict(re.findall(r"^(\w+):\s*(.+?)\s*$", output, re.MULTILINE))
    return {"family": "macos", "name": fields.get("ProductName", "macOS"),
            "version": fields.get("ProductVersion", ""), "build": fields.get("BuildVersion", "")}


def _size_bytes(text: str) -> int | None:
    match = re.fullmatch(r"\s*([\d.,]+)\s*([KMGT]B)\s*", text or "")
    if not match:
        return None
    return int(float(match.group(1).replace(",", ".")) * _UNITS[match.group(2)])


def parse_hardware(output: str) -> dict[str, Any]:
    """`system_profiler -json SPHardwareDataType`: model, serial, CPU, memory and the platform UUID."""
    item = json.loads(output)["SPHardwareDataType"][0]
    chip = item.get("chip_type") or item.get("cpu_type")
    cores = None
    procs = item.get("number_processors")
    if isinstance(procs, int):
        cores = procs
    elif isinstance(procs, str):
        # Apple silicon prints "proc 10:8:2": total, performance and efficiency cores.
        match = re.match(r"proc (\d+)", procs)
        cores = int(match.group(1)) if match else None
    return {
        "vendor": "Apple",
        "model": " ".join(p for p in (item.get("machine_name"), f"({item['machine_model']})"
                                      if item.get("machine_model") else None) if p) or None,
        "serial": item.get("serial_number"),
        "cpu": {"model": chip, "cores": cores, "threads": None},
        "memory_bytes": _size_bytes(item.get("physical_memory", "")),
        "platform_uuid": item.get("platform_UUID"),
    }


def _publisher(app: Mapping[str, Any]) -> str | None:
    for authority in app.get("signed_by") or []:
        match = re.match(r"Developer ID Application: (.+?)(?: \([A-Z0-9]{10}\))?$", authority)
        if match:
            return match.group(1)
    if app.get("obtained_from") == "apple":
        return "Apple"
    return None


def parse_applications(output: str) -> list[dict[str, Any]]:
    """`system_profiler -json SPApplicationsDataType`: name, version, publisher (from the signature), date."""
    out = []
    for app in json.loads(output).get("SPApplicationsDataType", []):
        modified = app.get("lastModified")
        out.append({
            "name": app.get("_name"),
            "version": app.get("version"),
            "publisher": _publisher(app),
            "install_date": parse_iso(modified).date().isoformat() if modified else None,
        })
    return sorted(out, key=lambda s: (str(s["name"]).lower(), s["version"] or ""))


def parse_xprotect(output: str, now: float | None = None) -> dict[str, Any]:
    """XProtect (built into macOS, always on): definitions date from SPInstallHistoryDataType."""
    installs = [i for i in json.loads(output).get("SPInstallHistoryDataType", [])
                if i.get("_name") in XPROTECT_PACKAGES and i.get("install_date")]
    newest = max(installs, key=lambda i: parse_iso(i["install_date"]), default=None)
    updated = parse_iso(newest["install_date"]) if newest else None
    return {"product": "XProtect", "state": "running", "definitions_updated": iso(updated) if updated else None,
            "definitions_age_days": age_days(updated, now),
            "definitions_version": newest.get("install_version") if newest else None}


def parse_softwareupdate(output: str) -> int:
    """`softwareupdate -l`: the number of `* Label:` entries."""
    return sum(1 for line in output.splitlines() if line.strip().startswith("* Label:"))


def parse_socketfilterfw(output: str) -> dict[str, Any]:
    """`socketfilterfw --getglobalstate`: `(State = 1)` or 2 is on, 0 is off."""
    match = re.search(r"State\s*=\s*(\d)", output)
    if match:
        state = "off" if match.group(1) == "0" else "on"
    elif "enabled" in output.lower():
        state = "on"
    elif "disabled" in output.lower():
        state = "off"
    else:
        state = "unknown"
    return {"product": "macOS Application Firewall", "state": state}


def parse_tmutil_latest(output: str) -> datetime | None:
    """`tmutil latestbackup`: the local time stamp `YYYY-MM-DD-HHMMSS` at the end of the printed path."""
    found = re.findall(r"(\d{4}-\d{2}-\d{2}-\d{6})(?:\.backup)?/?\s*$", output, re.MULTILINE)
    if not found:
        return None
    # Time Machine names snapshots in the Mac's local time.
    return datetime.strptime(found[-1], "%Y-%m-%d-%H%M%S").astimezone()


def parse_launchctl_list(output: str, label: str) -> ServiceState:
    """`launchctl list`: a job with a PID is running, with `-` is loaded but not running."""
    for line in output.splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) == 3 and fields[2] == label:
            if fields[0].strip().isdigit():
                return ServiceState(RUNNING, f"pid {fields[0].strip()}")
            return ServiceState(STOPPED, f"last exit status {fields[1].strip()}")
    return ServiceState(NOT_FOUND, "no such launchd job")


class MacCollector(PsutilCollector):
    """Collects on macOS through system_profiler and the built-in tools."""

    family = "macos"

    def __init__(self, runner: Runner = run_command) -> None:
        super().__init__(runner)

    def _profile(self, data_type: str) -> CommandResult:
        return self.run("system_profiler", "-json", data_type, timeout=300)

    def os_info(self) -> dict[str, str]:
        """`sw_vers`."""
        return parse_sw_vers(self.run("sw_vers").stdout)

    def machine_id(self) -> str:
        """The platform UUID of the Mac."""
        out = self._profile("SPHardwareDataType")
        return str(parse_hardware(out.stdout).get("platform_uuid") or "") if out.ok else ""

    def hardware(self) -> dict[str, Any]:
        """SPHardwareDataType with the psutil facts."""
        hw = self.common_hardware()
        out = self._profile("SPHardwareDataType")
        if out.ok:
            parsed = parse_hardware(out.stdout)
            parsed.pop("platform_uuid", None)
            threads = hw["cpu"]["threads"]
            hw.update(parsed)
            hw["cpu"]["threads"] = threads
        for key in ("vendor", "model", "serial"):
            hw.setdefault(key, None)
        hw["os"] = self.os_info()
        return hw

    def software(self) -> list[dict[str, Any]]:
        """Applications from SPApplicationsDataType."""
        out = self._profile("SPApplicationsDataType")
        return parse_applications(out.stdout) if out.ok else []

    def antivirus(self) -> dict[str, Any]:
        """XProtect and its definitions date."""
        out = self._profile("SPInstallHistoryDataType")
        if not out.ok:
            return {"product": "XProtect", "state": "unknown", "definitions_updated": None,
                    "definitions_age_days": None}
        return parse_xprotect(out.stdout)

    def firewall(self) -> dict[str, Any]:
        """The application firewall's global state."""
        out = self.run(SOCKETFILTERFW, "--getglobalstate")
        return parse_socketfilterfw(out.stdout) if out.ok else {"product": "macOS Application Firewall",
                                                                 "state": "unknown"}

    def pending_updates(self) -> int | None:
        """`softwareupdate -l` (it asks Apple's servers, so posture runs it at most hourly)."""
        out = self.run("softwareupdate", "-l", timeout=600)
        return parse_softwareupdate(out.stdout) if out.ok else None

    def backup_reader(self, tool: str, settings: Mapping[str, Any]) -> dict[str, Any] | None:
        """Time Machine (`tmutil latestbackup`) or restic."""
        if tool == "restic":
            return restic_last_backup(settings, self.runner)
        if tool == "time_machine":
            out = self.run("tmutil", "latestbackup", timeout=120)
            last = parse_tmutil_latest(out.stdout) if out.ok else None
            result: dict[str, Any] = {"tool": "time_machine", "last_success": iso(last) if last else None}
            if last is None:
                result["error"] = (out.stderr.strip() or out.stdout.strip() or "no backup found")[:300]
            return result
        return None

    def service_state(self, name: str) -> ServiceState:
        """`launchctl list`, by job label."""
        out = self.run("launchctl", "list", timeout=15)
        if not out.ok:
            return ServiceState(UNKNOWN, (out.stderr.strip() or "launchctl failed")[:200])
        return parse_launchctl_list(out.stdout, name)

    def log_lines(self, source: str, window_s: int) -> list[str]:
        """The unified log (`log show --last Ns`); `source` must be `system`."""
        if source not in ("system", "journal"):
            raise ValueError(f"unknown log source {source!r} on macOS (use `system` or a file path)")
        out = self.run("log", "show", "--last", f"{int(window_s)}s", "--style", "compact", timeout=120)
        if not out.ok:
            raise RuntimeError((out.stderr.strip() or f"log exited with {out.returncode}")[:300])
        return out.stdout.splitlines()[1:]
