"""The one interface of OS-specific collection, and the parts psutil answers the same way everywhere."""

from __future__ import annotations

import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psutil

from ..util import CommandResult, Runner, run_command

# Service states a collector reports; a check passes only on RUNNING.
RUNNING, STOPPED, NOT_FOUND, UNKNOWN = "running", "stopped", "not_found", "unknown"


@dataclass(frozen=True)
class ServiceState:
    """Whether a service runs, as the OS's service manager says, with its own words in `detail`."""

    state: str
    detail: str


class Collector(ABC):
    """What the agent needs to know about its device; one implementation per OS family."""

    family: str = ""

    def __init__(self, runner: Runner = run_command) -> None:
        # Every command goes through the runner, so tests can replay recorded outputs.
        self.runner = runner

    def run(self, *argv: str, timeout: float = 60.0) -> CommandResult:
        """Run a command through the injected runner."""
        return self.runner(argv, timeout)

    # --- identity -------------------------------------------------------------------------------
    @abstractmethod
    def os_info(self) -> dict[str, str]:
        """`{"family", "name", "version"}` of the operating system."""

    @abstractmethod
    def machine_id(self) -> str:
        """A stable identifier of this machine (survives a reinstall of the agent)."""

    # --- inventory ------------------------------------------------------------------------------
    @abstractmethod
    def hardware(self) -> dict[str, Any]:
        """Vendor, model, serial, CPU, memory, disks, network interfaces, OS, uptime, logged-in users."""

    @abstractmethod
    def software(self) -> list[dict[str, Any]]:
        """Installed software: `[{"name", "version", "publisher", "install_date"}]` sorted by name."""

    # --- metrics --------------------------------------------------------------------------------
    @abstractmethod
    def metrics(self) -> dict[str, Any]:
        """`{"cpu_pct", "mem_pct", "disks": [{"mount", "free_pct", "free_bytes"}]}`."""

    # --- security posture -----------------------------------------------------------------------
    @abstractmethod
    def antivirus(self) -> dict[str, Any]:
        """`{"product", "state", "definitions_updated", "definitions_age_days"}`; product "none" when absent."""

    @abstractmethod
    def firewall(self) -> dict[str, Any]:
        """`{"product", "state"}` with state on, off, partial or unknown."""

    @abstractmethod
    def pending_updates(self) -> int | None:
        """How many OS updates are waiting to be installed, or None when it cannot be told."""

    @abstractmethod
    def backup_reader(self, tool: str, settings: Mapping[str, Any]) -> dict[str, Any] | None:
        """`{"tool", "last_success", ...}` from one backup tool this OS knows, or None when it does not know it."""

    # --- for checks -----------------------------------------------------------------------------
    @abstractmethod
    def service_state(self, name: str) -> ServiceState:
        """The state of a service by its name in the OS's service manager."""

    @abstractmethod
    def log_lines(self, source: str, window_s: int) -> list[str]:
        """Lines of the system log `source` (journal, an event log) from the last `window_s` seconds."""

    # --- composed -------------------------------------------------------------------------------
    def inventory(self) -> dict[str, Any]:
        """The inventory item: hardware and software."""
        return {"hardware": self.hardware(), "software": self.software()}

    def last_backup(self, tools: Sequence[str], settings: Mapping[str, Any]) -> dict[str, Any] | None:
        """The most recent successful backup among the policy's tools, or None when no tool is configured."""
        results = []
        for tool in tools:
            result = self.backup_reader(tool, settings.get(tool, {}) or {})
            results.append(result or {"tool": tool, "last_success": None, "error": f"{tool} is not supported here"})
        if not results:
            return None
        succeeded = [r for r in results if r.get("last_success")]
        if succeeded:
            return max(succeeded, key=lambda r: str(r["last_success"]))
        return results[0]

    def posture(self, tools: Sequence[str] = (), settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The posture item: antivirus, firewall, pending OS updates and last backup."""
        return {
            "antivirus": self.antivirus(),
            "firewall": self.firewall(),
            "pending_updates": self.pending_updates(),
            "backup": self.last_backup(tools, settings or {}),
        }


class PsutilCollector(Collector, ABC):
    """The parts of a collector that psutil answers on every OS."""

    # How long one CPU reading lasts; tests shorten it.
    cpu_sample_s = 0.5

    # File systems that hold no user data; a disk check on them means nothing.
    PSEUDO_FS = frozenset({"squashfs", "tmpfs", "devtmpfs", "overlay", "proc", "sysfs", "cgroup", "cgroup2",
                           "autofs", "devfs", "nullfs", "iso9660", "udf"})

    def partitions(self) -> list[Any]:
        """Mounted data volumes (one entry per mount point)."""
        seen: set[str] = set()
        out = []
        for part in psutil.disk_partitions(all=False):
            if part.fstype.lower() in self.PSEUDO_FS or part.mountpoint in seen:
                continue
            if "cdrom" in part.opts or part.fstype == "":
                continue  # an empty optical drive on Windows
            seen.add(part.mountpoint)
            out.append(part)
        return out

    def metrics(self) -> dict[str, Any]:
        """CPU and memory use, and free space of every data volume."""
        disks = []
        for part in self.partitions():
            try:
                usage = psutil.disk_usage(part.mountpoint)
            except OSError:
                continue  # unmounted between the listing and the reading
            free_pct = round(100.0 * usage.free / usage.total, 1) if usage.total else 0.0
            disks.append({"mount": part.mountpoint, "free_pct": free_pct, "free_bytes": usage.free})
        return {
            "cpu_pct": round(psutil.cpu_percent(interval=self.cpu_sample_s), 1),
            "mem_pct": round(psutil.virtual_memory().percent, 1),
            "disks": disks,
        }

    def uptime_s(self) -> int:
        """Seconds since boot."""
        return max(0, int(time.time() - psutil.boot_time()))

    def common_hardware(self) -> dict[str, Any]:
        """Hardware facts psutil knows: CPU counts, memory, disks, network interfaces, uptime, users."""
        disks = []
        for part in self.partitions():
            try:
                total = psutil.disk_usage(part.mountpoint).total
            except OSError:
                continue
            disks.append({"device": part.device, "mount": part.mountpoint, "fstype": part.fstype,
                          "total_bytes": total})
        network = []
        stats = psutil.net_if_stats()
        for name, addrs in sorted(psutil.net_if_addrs().items()):
            entry: dict[str, Any] = {"name": name, "mac": None, "ipv4": [], "ipv6": [],
                                     "up": bool(stats[name].isup) if name in stats else None}
            for addr in addrs:
                if addr.family == psutil.AF_LINK:
                    entry["mac"] = addr.address
                elif addr.family == socket.AF_INET:
                    entry["ipv4"].append(addr.address)
                elif addr.family == socket.AF_INET6:
                    entry["ipv6"].append(addr.address.split("%")[0])
            network.append(entry)
        users = sorted({u.name for u in psutil.users()})
        return {
            "hostname": socket.gethostname(),
            "cpu": {"model": None, "cores": psutil.cpu_count(logical=False), "threads": psutil.cpu_count()},
            "memory_bytes": psutil.virtual_memory().total,
            "disks": disks,
            "network": network,
            "uptime_s": self.uptime_s(),
            "logged_in_users": users,
        }


def age_days(updated: Any, now: float | None = None) -> float | None:
    """Days since an aware datetime, rounded to 0.1; None for None."""
    if updated is None:
        return None
    seconds = (now if now is not None else time.time()) - updated.timestamp()
    return round(max(0.0, seconds) / 86400, 1)
