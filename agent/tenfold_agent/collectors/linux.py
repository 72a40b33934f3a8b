"""Linux: psutil, /sys/class/dmi/id, /etc/os-release, dpkg or rpm, ufw/nftables/iptables, ClamAV, apt or dnf."""

from __future__ import annotations

import platform
import re
import shutil
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from ..util import CommandResult, Runner, iso, run_command
from .base import NOT_FOUND, RUNNING, STOPPED, UNKNOWN, PsutilCollector, ServiceState, age_days
from .restic import restic_last_backup

CLAMAV_DB_DIRS = ("/var/lib/clamav", "/usr/local/share/clamav", "/var/clamav")


def parse_os_release(text: str) -> dict[str, str]:
    """Key/value pairs of /etc/os-release, quotes removed."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            out[key] = value.strip().strip("'\"")
    return out


def _epoch_date(value: str) -> str | None:
    return datetime.fromtimestamp(int(value), UTC).date().isoformat() if value.strip().isdigit() else None


def parse_dpkg(output: str) -> list[dict[str, Any]]:
    """`dpkg-query -W` with the fields status, package, version, maintainer and last-modified, tab-separated."""
    out = []
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) < 5 or not fields[0].startswith("ii"):
            continue  # only packages that are installed, not removed with their configuration kept
        publisher = re.sub(r"\s*<[^>]*>", "", fields[3]).strip() or None
        out.append({"name": fields[1], "version": fields[2], "publisher": publisher,
                    "install_date": _epoch_date(fields[4])})
    return sorted(out, key=lambda s: (s["name"], s["version"]))


def parse_rpm(output: str) -> list[dict[str, Any]]:
    """`rpm -qa --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{VENDOR}\\t%{INSTALLTIME}\\n'`."""
    out = []
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) < 4 or not fields[0]:
            continue
        vendor = None if fields[2] in ("", "(none)") else fields[2]
        out.append({"name": fields[0], "version": fields[1], "publisher": vendor,
                    "install_date": _epoch_date(fields[3])})
    return sorted(out, key=lambda s: (s["name"], s["version"]))


def parse_ufw(output: str) -> str:
    """`ufw status`: on, off or unknown."""
    match = re.search(r"^Status:\s*(\w+)", output, re.MULTILINE)
    if not match:
        return "unknown"
    return {"active": "on", "inactive": "off"}.get(match.group(1), "unknown")


def parse_nft(output: str) -> str:
    """`nft list ruleset`: on when a filter chain on the input hook drops or rejects something."""
    for body in re.findall(r"chain\s+\S+\s*\{(.*?)\n\s*\}", output, re.DOTALL):
        lines = [line.strip() for line in body.strip().splitlines() if line.strip()]
        header = next((line for line in lines if re.search(r"type\s+filter\s+hook\s+input\b", line)), None)
        if header is None:
            continue
        if re.search(r"policy\s+drop", header):
            return "on"
        if any(re.search(r"\b(drop|reject)\b", line) for line in lines if line is not header):
            return "on"
    return "off"


def parse_iptables(output: str) -> str:
    """`iptables -S`: on when INPUT drops by policy, or drops/rejects directly or through a chain it jumps to."""
    policy = re.search(r"^-P INPUT (\w+)", output, re.MULTILINE)
    if policy and policy.group(1) in ("DROP", "REJECT"):
        return "on"
    dropping_chains = {m.group(1) for m in re.finditer(r"^-A (\S+) .*-j (?:DROP|REJECT)\b", output, re.MULTILINE)}
    for match in re.finditer(r"^-A INPUT .*-j (\S+)", output, re.MULTILINE):
        if match.group(1) in ("DROP", "REJECT") or match.group(1) in dropping_chains:
            return "on"
    return "off"


def parse_apt_simulate(output: str) -> int:
    """Packages `apt-get -s upgrade` would install (its `Inst` lines)."""
    return sum(1 for line in output.splitlines() if line.startswith("Inst "))


def parse_dnf_check_update(output: str) -> int:
    """Packages listed by `dnf check-update -q` (exit 100 when there are some)."""
    count = 0
    for line in output.splitlines():
        if line.startswith("Obsoleting Packages"):
            break
        fields = line.split()
        if len(fields) == 3 and "." in fields[0] and not line.startswith(" "):
            count += 1
    return count


def parse_cvd_header(header: bytes) -> datetime | None:
    """Build time of a ClamAV database from its 512-byte header `ClamAV-VDB:14 Jan 2024 09-22 -0500:…`."""
    text = header[:512].decode("ascii", errors="replace")
    if not text.startswith("ClamAV-VDB:"):
        return None
    stamp = text.split(":")[1].strip()
    try:
        return datetime.strptime(stamp, "%d %b %Y %H-%M %z").astimezone(UTC)
    except ValueError:
        return None


def parse_systemctl(is_active: CommandResult, load_state: str = "") -> ServiceState:
    """`systemctl is-active NAME` (and `show -p LoadState`) as a service state."""
    word = is_active.stdout.strip().splitlines()[0] if is_active.stdout.strip() else ""
    if word == "active":
        return ServiceState(RUNNING, word)
    if "LoadState=not-found" in load_state:
        return ServiceState(NOT_FOUND, "no such unit")
    if word in ("inactive", "failed", "deactivating", "activating", "reloading"):
        return ServiceState(STOPPED, word)
    detail = (is_active.stderr.strip() or word or "systemctl gave no answer").splitlines()[0]
    return ServiceState(UNKNOWN, detail)


class LinuxCollector(PsutilCollector):
    """Collects on Linux for real."""

    family = "linux"

    def __init__(self, runner: Runner = run_command, root: Path = Path("/")) -> None:
        super().__init__(runner)
        # A root other than / lets tests point the file readers at a fixture tree.
        self.root = root

    def _read(self, path: str) -> str | None:
        try:
            return (self.root / path.lstrip("/")).read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None  # absent, or readable by root only (the DMI serial)

    def os_info(self) -> dict[str, str]:
        """Name and version from /etc/os-release."""
        rel = parse_os_release(self._read("/etc/os-release") or self._read("/usr/lib/os-release") or "")
        return {"family": "linux", "name": rel.get("NAME", "Linux"),
                "version": rel.get("VERSION_ID", rel.get("BUILD_ID", "")), "pretty_name": rel.get("PRETTY_NAME", ""),
                "kernel": platform.release()}

    def machine_id(self) -> str:
        """/etc/machine-id (systemd and dbus keep it stable), else the DMI product UUID, else the hostname."""
        for path in ("/etc/machine-id", "/var/lib/dbus/machine-id", "/sys/class/dmi/id/product_uuid"):
            value = self._read(path)
            if value:
                return value
        return platform.node()

    def hardware(self) -> dict[str, Any]:
        """DMI vendor/model/serial when readable, CPU model from /proc/cpuinfo, and the psutil facts."""
        hw = self.common_hardware()
        hw["vendor"] = self._read("/sys/class/dmi/id/sys_vendor")
        hw["model"] = self._read("/sys/class/dmi/id/product_name") or self._read("/proc/device-tree/model")
        hw["serial"] = self._read("/sys/class/dmi/id/product_serial")
        cpuinfo = self._read("/proc/cpuinfo") or ""
        match = re.search(r"^(?:model name|Model|Hardware)\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
        hw["cpu"]["model"] = match.group(1).strip() if match else platform.processor() or None
        hw["os"] = self.os_info()
        return hw

    def software(self) -> list[dict[str, Any]]:
        """Packages from dpkg-query, else rpm; empty when neither exists."""
        if shutil.which("dpkg-query"):
            fmt = "${db:Status-Abbrev}\t${Package}\t${Version}\t${Maintainer}\t${db-fsys:Last-Modified}\n"
            out = self.run("dpkg-query", "-W", "-f", fmt)
            if out.ok:
                return parse_dpkg(out.stdout)
        if shutil.which("rpm"):
            out = self.run("rpm", "-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\t%{VENDOR}\t%{INSTALLTIME}\n")
            if out.ok:
                return parse_rpm(out.stdout)
        return []

    def antivirus(self) -> dict[str, Any]:
        """ClamAV when installed: running when clamd runs, definitions date from the daily database header."""
        db = self._clamav_database()
        has_binary = any(shutil.which(b) for b in ("clamd", "clamscan", "freshclam"))
        if db is None and not has_binary:
            return {"product": "none", "state": "none", "definitions_updated": None, "definitions_age_days": None}
        updated = None
        if db is not None:
            with db.open("rb") as fh:
                updated = parse_cvd_header(fh.read(512))
            if updated is None:
                updated = datetime.fromtimestamp(db.stat().st_mtime, UTC)
        running = any(p.info.get("name") == "clamd" for p in psutil.process_iter(["name"]))
        return {"product": "ClamAV", "state": "running" if running else "installed",
                "definitions_updated": iso(updated) if updated else None,
                "definitions_age_days": age_days(updated)}

    def _clamav_database(self) -> Path | None:
        for folder in CLAMAV_DB_DIRS:
            for name in ("daily.cld", "daily.cvd"):
                path = self.root / folder.lstrip("/") / name
                if path.is_file():
                    return path
        return None

    def firewall(self) -> dict[str, Any]:
        """ufw when installed (it manages the rules), else nftables, else iptables, else unknown."""
        for product, argv, parser in (
            ("ufw", ("ufw", "status"), parse_ufw),
            ("nftables", ("nft", "list", "ruleset"), parse_nft),
            ("iptables", ("iptables", "-S"), parse_iptables),
        ):
            if not shutil.which(argv[0]):
                continue
            out = self.run(*argv, timeout=20)
            if not out.ok:
                return {"product": product, "state": "unknown", "detail": (out.stderr.strip() or "failed")[:200]}
            return {"product": product, "state": parser(out.stdout)}
        return {"product": None, "state": "unknown", "detail": "no ufw, nft or iptables found"}

    def pending_updates(self) -> int | None:
        """Upgradable packages by apt's simulation (read-only) or dnf check-update; None when neither works."""
        if shutil.which("apt-get"):
            out = self.run("apt-get", "-s", "-o", "Debug::NoLocking=true", "upgrade", timeout=120)
            return parse_apt_simulate(out.stdout) if out.ok else None
        if shutil.which("dnf"):
            out = self.run("dnf", "check-update", "-q", timeout=300)
            return parse_dnf_check_update(out.stdout) if out.returncode in (0, 100) else None
        return None

    def backup_reader(self, tool: str, settings: Mapping[str, Any]) -> dict[str, Any] | None:
        """restic is the backup tool read on Linux."""
        if tool == "restic":
            return restic_last_backup(settings, self.runner)
        return None

    def service_state(self, name: str) -> ServiceState:
        """`systemctl is-active`, with `systemctl show -p LoadState` to tell a missing unit."""
        out = self.run("systemctl", "is-active", name, timeout=15)
        load = ""
        if out.stdout.strip() != "active":
            load = self.run("systemctl", "show", "-p", "LoadState", name, timeout=15).stdout
        return parse_systemctl(out, load)

    def log_lines(self, source: str, window_s: int) -> list[str]:
        """The journal since `window_s` seconds ago (`journalctl --since @epoch`)."""
        if source != "journal":
            raise ValueError(f"unknown log source {source!r} on Linux (use `journal` or a file path)")
        since = int(time.time()) - int(window_s)
        out = self.run("journalctl", f"--since=@{since}", "--no-pager", "-q", "-o", "short-iso", timeout=60)
        if not out.ok:
            raise RuntimeError((out.stderr.strip() or f"journalctl exited with {out.returncode}")[:300])
        return out.stdout.splitlines()

