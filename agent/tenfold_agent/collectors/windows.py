"""Windows: parsers of CIM (PowerShell `ConvertTo-Json`), Defender, netsh, registry, wbadmin, sc and wevtutil output.

The runners are thin: each method runs one command and hands its output to a parser. The parsers are
tested on recorded outputs; the runners were not run on a real Windows machine in this repository.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..util import CommandResult, Runner, iso, parse_iso, run_command
from .base import NOT_FOUND, RUNNING, STOPPED, UNKNOWN, PsutilCollector, ServiceState, age_days
from .restic import restic_last_backup

UNINSTALL_KEYS = (
    r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall",
    r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall",
)
SC_STATES = {1: STOPPED, 2: STOPPED, 3: STOPPED, 4: RUNNING, 5: RUNNING, 6: STOPPED, 7: STOPPED}


def powershell(script: str) -> list[str]:
    """The argument vector that runs one PowerShell pipeline quietly."""
    return ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command", script]


def parse_cim_json(output: str) -> dict[str, Any]:
    """`… | ConvertTo-Json` of one CIM instance (the first one when PowerShell printed a list)."""
    data = json.loads(output or "{}")
    if isinstance(data, list):
        data = data[0] if data else {}
    if not isinstance(data, dict):
        raise ValueError("ConvertTo-Json did not print an object")
    return data


def parse_ps_date(value: Any) -> datetime | None:
    """A date as Windows PowerShell 5.1 (`/Date(ms)/`) or PowerShell 7 (ISO 8601) serializes it."""
    if value in (None, ""):
        return None
    text = str(value)
    match = re.fullmatch(r"\\?/Date\((-?\d+)(?:[+-]\d{4})?\)\\?/", text.strip())
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    return parse_iso(text)


def parse_hardware(system: Mapping[str, Any], bios: Mapping[str, Any], cpu: Mapping[str, Any]) -> dict[str, Any]:
    """Vendor, model, serial, memory, CPU and user from Win32_ComputerSystem, Win32_BIOS, Win32_Processor."""
    user = system.get("UserName")
    return {
        "vendor": (system.get("Manufacturer") or "").strip() or None,
        "model": (system.get("Model") or "").strip() or None,
        "serial": (bios.get("SerialNumber") or "").strip() or None,
        "memory_bytes": int(system["TotalPhysicalMemory"]) if system.get("TotalPhysicalMemory") else None,
        "cpu": {"model": (cpu.get("Name") or "").strip() or None, "cores": cpu.get("NumberOfCores"),
                "threads": cpu.get("NumberOfLogicalProcessors")},
        "logged_in_users": [user] if user else [],
    }


def parse_os(os_data: Mapping[str, Any]) -> dict[str, str]:
    """Family, name and version from Win32_OperatingSystem."""
    return {"family": "windows", "name": str(os_data.get("Caption", "Windows")).strip(),
            "version": str(os_data.get("Version", "")), "build": str(os_data.get("BuildNumber", ""))}


def parse_reg_query(output: str) -> dict[str, dict[str, str]]:
    """`reg query KEY /s`: every subkey with its values (`{key: {name: data}}`)."""
    keys: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in output.splitlines():
        line = raw.rstrip()
        if line.startswith("HKEY_"):
            current = keys.setdefault(line, {})
            continue
        match = re.match(r"^\s{4}(\S.*?)\s{4}(REG_\w+)(?:\s{4}(.*))?$", line)
        if match and current is not None:
            current[match.group(1)] = (match.group(3) or "").strip()
    return keys


def parse_uninstall(output: str) -> list[dict[str, Any]]:
    """Installed programs from the registry Uninstall keys (`reg query … /s` output)."""
    out = []
    seen: set[tuple[str, str]] = set()
    for values in parse_reg_query(output).values():
        name = values.get("DisplayName")
        # System components and updates are listed there too, but are not programs a person installed.
        if not name or values.get("SystemComponent") == "0x1" or values.get("ParentKeyName"):
            continue
        version = values.get("DisplayVersion", "")
        if (name, version) in seen:
            continue
        seen.add((name, version))
        date = values.get("InstallDate", "")
        install_date = f"{date[:4]}-{date[4:6]}-{date[6:8]}" if re.fullmatch(r"\d{8}", date) else None
        out.append({"name": name, "version": version or None, "publisher": values.get("Publisher") or None,
                    "install_date": install_date})
    return sorted(out, key=lambda s: (s["name"].lower(), s["version"] or ""))


def parse_defender(status: Mapping[str, Any], now: float | None = None) -> dict[str, Any]:
    """Microsoft Defender from `Get-MpComputerStatus | ConvertTo-Json`."""
    updated = parse_ps_date(status.get("AntivirusSignatureLastUpdated"))
    enabled = bool(status.get("AMServiceEnabled")) and bool(status.get("AntivirusEnabled"))
    realtime = bool(status.get("RealTimeProtectionEnabled"))
    state = "running" if enabled and realtime else ("degraded" if enabled else "stopped")
    return {"product": "Microsoft Defender Antivirus", "state": state,
            "definitions_updated": iso(updated) if updated else None,
            "definitions_age_days": age_days(updated, now),
            "definitions_version": status.get("AntivirusSignatureVersion")}


def parse_netsh_firewall(output: str) -> dict[str, Any]:
    """`netsh advfirewall show allprofiles state`: on when every profile is on, partial when some are."""
    profiles: dict[str, bool] = {}
    current = None
    for line in output.splitlines():
        header = re.match(r"^(\w+) Profile Settings", line.strip())
        if header:
            current = header.group(1).lower()
            continue
        state = re.match(r"^State\s+(ON|OFF)\b", line.strip(), re.IGNORECASE)
        if state and current:
            profiles[current] = state.group(1).upper() == "ON"
    if not profiles:
        return {"product": "Windows Defender Firewall", "state": "unknown", "profiles": {}}
    overall = "on" if all(profiles.values()) else ("off" if not any(profiles.values()) else "partial")
    return {"product": "Windows Defender Firewall", "state": overall,
            "profiles": {k: "on" if v else "off" for k, v in profiles.items()}}


def parse_wbadmin_versions(output: str) -> datetime | None:
    """Newest backup of `wbadmin get versions`, from its version identifiers (UTC `MM/DD/YYYY-HH:MM`)."""
    # The identifier's format does not follow the display language, unlike the labels around it.
    stamps = [datetime.strptime(m.group(1), "%m/%d/%Y-%H:%M").replace(tzinfo=UTC)
              for m in re.finditer(r":\s*(\d{2}/\d{2}/\d{4}-\d{2}:\d{2})\s*$", output, re.MULTILINE)]
    return max(stamps) if stamps else None


def parse_sc_query(result: CommandResult) -> ServiceState:
    """`sc query NAME`: the numeric state code (4 is RUNNING), or FAILED 1060 for no such service."""
    text = result.stdout + result.stderr
    if "1060" in text and "FAILED" in text:
        return ServiceState(NOT_FOUND, "no such service")
    match = re.search(r"STATE\s*:\s*(\d+)\s+(\w+)", text)
    if not match:
        return ServiceState(UNKNOWN, (text.strip() or "sc gave no answer").splitlines()[0][:200])
    return ServiceState(SC_STATES.get(int(match.group(1)), UNKNOWN), match.group(2))


def parse_wevtutil_text(output: str) -> list[str]:
    """`wevtutil qe LOG /f:text`: one line per event (its fields and description joined by ` | `)."""
    events: list[list[str]] = []
    for line in output.splitlines():
        if re.match(r"^Event\[\d+\]:", line):
            events.append([])
        elif events and line.strip():
            events[-1].append(line.strip())
    return [" | ".join(parts) for parts in events]


def parse_machine_guid(output: str) -> str | None:
    """`reg query HKLM\\SOFTWARE\\Microsoft\\Cryptography /v MachineGuid`."""
    match = re.search(r"MachineGuid\s+REG_SZ\s+(\S+)", output)
    return match.group(1) if match else None


class WindowsCollector(PsutilCollector):
    """Collects on Windows through CIM, Defender, netsh, the registry and wbadmin."""

    family = "windows"

    def __init__(self, runner: Runner = run_command) -> None:
        super().__init__(runner)

    def _cim(self, script: str) -> dict[str, Any]:
        out = self.run(*powershell(script + " | ConvertTo-Json -Compress"))
        if not out.ok:
            return {}
        try:
            return parse_cim_json(out.stdout)
        except ValueError:
            return {}

    def os_info(self) -> dict[str, str]:
        """Caption and version of Win32_OperatingSystem."""
        return parse_os(self._cim("Get-CimInstance Win32_OperatingSystem | Select-Object Caption,Version,BuildNumber"))

    def machine_id(self) -> str:
        """The MachineGuid the OS generated at installation."""
        out = self.run("reg", "query", r"HKLM\SOFTWARE\Microsoft\Cryptography", "/v", "MachineGuid")
        return parse_machine_guid(out.stdout) or ""

    def hardware(self) -> dict[str, Any]:
        """Win32_ComputerSystem, Win32_BIOS and Win32_Processor, with the psutil facts."""
        hw = self.common_hardware()
        system = self._cim("Get-CimInstance Win32_ComputerSystem | "
                           "Select-Object Manufacturer,Model,TotalPhysicalMemory,UserName")
        bios = self._cim("Get-CimInstance Win32_BIOS | Select-Object SerialNumber,SMBIOSBIOSVersion")
        cpu = self._cim("Get-CimInstance Win32_Processor | Select-Object Name,NumberOfCores,NumberOfLogicalProcessors")
        parsed = parse_hardware(system, bios, cpu)
        hw.update({k: v for k, v in parsed.items() if v not in (None, [])})
        hw.setdefault("vendor", None)
        hw.setdefault("model", None)
        hw.setdefault("serial", None)
        hw["os"] = self.os_info()
        return hw

    def software(self) -> list[dict[str, Any]]:
        """Programs from the 64- and 32-bit Uninstall registry keys."""
        outputs = [self.run("reg", "query", key, "/s").stdout for key in UNINSTALL_KEYS]
        return parse_uninstall("\n".join(outputs))

    def antivirus(self) -> dict[str, Any]:
        """Microsoft Defender's status (third-party products are not read yet)."""
        data = self._cim("Get-MpComputerStatus | Select-Object AMServiceEnabled,AntivirusEnabled,"
                         "RealTimeProtectionEnabled,AntivirusSignatureLastUpdated,AntivirusSignatureVersion")
        if not data:
            return {"product": "none", "state": "unknown", "definitions_updated": None, "definitions_age_days": None}
        return parse_defender(data)

    def firewall(self) -> dict[str, Any]:
        """The three firewall profiles from netsh."""
        return parse_netsh_firewall(self.run("netsh", "advfirewall", "show", "allprofiles", "state").stdout)

    def pending_updates(self) -> int | None:
        """Updates the Windows Update agent finds not installed (and not hidden)."""
        out = self.run(*powershell("(New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher()"
                                   ".Search('IsInstalled=0 and IsHidden=0').Updates.Count"), timeout=600)
        text = out.stdout.strip()
        return int(text) if out.ok and text.isdigit() else None

    def backup_reader(self, tool: str, settings: Mapping[str, Any]) -> dict[str, Any] | None:
        """Windows Server Backup (`wbadmin get versions`) or restic."""
        if tool == "restic":
            return restic_last_backup(settings, self.runner)
        if tool in ("windows_server_backup", "wbadmin"):
            out = self.run("wbadmin", "get", "versions", timeout=120)
            last = parse_wbadmin_versions(out.stdout)
            result: dict[str, Any] = {"tool": "windows_server_backup", "last_success": iso(last) if last else None}
            if not out.ok and last is None:
                result["error"] = (out.stdout.strip() or out.stderr.strip() or "wbadmin failed").splitlines()[-1][:300]
            return result
        return None

    def service_state(self, name: str) -> ServiceState:
        """`sc query NAME`."""
        return parse_sc_query(self.run("sc", "query", name, timeout=15))

    def log_lines(self, source: str, window_s: int) -> list[str]:
        """Events of the event log `source` (System, Application …) from the last `window_s` seconds."""
        if not re.fullmatch(r"[\w /\-]+", source):
            raise ValueError(f"not an event log name: {source!r}")
        query = f"*[System[TimeCreated[timediff(@SystemTime) <= {int(window_s) * 1000}]]]"
        out = self.run("wevtutil", "qe", source, f"/q:{query}", "/f:text", "/rd:true", "/c:2000", timeout=60)
        if not out.ok:
            raise RuntimeError((out.stderr.strip() or f"wevtutil exited with {out.returncode}")[:300])
        return parse_wevtutil_text(out.stdout)
