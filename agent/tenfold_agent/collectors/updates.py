"""Available and installed updates: one pure parser per package manager, and the snapshot the agent spools.

Every parser takes the text a command printed and returns update dicts with the protocol's fields
(`source`, `identifier`, `title`, `installed_version`, `available_version`, `category`, `severity`,
`released_on`, `reboot_required`, `installed`). The commands only list (nothing is installed, nothing
needs root). The Linux parsers run on this machine's real apt in the tests; the Windows Update, winget
and softwareupdate parsers are tested on recorded outputs only.

A snapshot names the `sources` it listed completely: the server marks an update of one of those sources
that is no longer listed as installed, and leaves the updates of a source that failed untouched.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..util import Runner, log
from .windows import parse_ps_date, powershell

SOURCES = ("apt", "dnf", "zypper", "brew", "windows_update", "winget", "softwareupdate")
CATEGORIES = ("security", "critical", "bugfix", "feature", "driver", "application")
SEVERITIES = ("critical", "important", "moderate", "low")
MAX_UPDATES = 5000
# How often the updates are listed: the policy's collectors `updates_interval` (seconds), within these bounds.
DEFAULT_UPDATES_INTERVAL_S = 6 * 3600
MIN_UPDATES_INTERVAL_S = 900
MAX_UPDATES_INTERVAL_S = 7 * 24 * 3600
# An unchanged snapshot is sent again once a day, so the server knows the device still lists its updates.
RESEND_UNCHANGED_S = 24 * 3600

# Packages whose new version takes effect only after a restart (a heuristic: the package managers
# listed here do not say it before installing).
REBOOT_PACKAGES = re.compile(r"^(linux-image-.*|linux-firmware.*|kernel(-core|-modules.*)?|kernel-default|libc6|glibc"
                             r"|systemd|dbus|microcode_ctl|intel-microcode|amd64-microcode)$")


def _update(source: str, identifier: str, *, title: str = "", installed_version: str = "",
            available_version: str = "", category: str = "bugfix", severity: str = "",
            released_on: str | None = None, reboot_required: bool = False, installed: bool = False) -> dict[str, Any]:
    return {"source": source, "identifier": identifier, "title": title or identifier,
            "installed_version": installed_version, "available_version": available_version, "category": category,
            "severity": severity, "released_on": released_on, "reboot_required": reboot_required,
            "installed": installed}


# --- apt ------------------------------------------------------------------------------------------

APT_LIST_LINE = re.compile(r"^(?P<name>[^/\s]+)/(?P<suites>\S+)\s+(?P<version>\S+)\s+(?P<arch>\S+)"
                           r"\s+\[upgradable from: (?P<old>[^\]]+)\]\s*$")


def _apt_category(suites: str) -> str:
    # The pocket tells a security update: bookworm-security, stable-security, jammy-security.
    return "security" if any(s.endswith("-security") or s.endswith("/updates") for s in suites.split(",")) \
        else "bugfix"


def _unique_identifiers(updates: list[dict[str, Any]], arches: list[str]) -> list[dict[str, Any]]:
    # A package listed for two architectures (libc6 amd64 and i386) gets its architecture in the name.
    counts: dict[str, int] = {}
    for entry in updates:
        counts[entry["identifier"]] = counts.get(entry["identifier"], 0) + 1
    for entry, arch in zip(updates, arches, strict=True):
        if counts[entry["identifier"]] > 1:
            entry["identifier"] = f"{entry['identifier']}:{arch}"
    return updates


def parse_apt_list(output: str) -> list[dict[str, Any]]:
    """`apt list --upgradable`: `name/suite[,suite] version arch [upgradable from: old]` lines."""
    updates, arches = [], []
    for line in output.splitlines():
        match = APT_LIST_LINE.match(line.strip())
        if not match:
            continue
        name = match["name"]
        updates.append(_update("apt", name, title=name, installed_version=match["old"],
                               available_version=match["version"], category=_apt_category(match["suites"]),
                               reboot_required=bool(REBOOT_PACKAGES.match(name))))
        arches.append(match["arch"])
    return _unique_identifiers(updates, arches)


APT_INST_LINE = re.compile(r"^Inst (?P<name>\S+) \[(?P<old>[^\]]+)\] \((?P<version>\S+) (?P<origins>.*) "
                           r"\[(?P<arch>[^\]]+)\]\)")


def parse_apt_simulate_updates(output: str) -> list[dict[str, Any]]:
    """`apt-get -s upgrade`: its `Inst name [old] (new Origin:release/suite[, …] [arch])` lines."""
    updates, arches = [], []
    for line in output.splitlines():
        match = APT_INST_LINE.match(line)
        if not match:
            continue
        suites = ",".join(origin.strip().rpartition("/")[2] for origin in match["origins"].split(","))
        name = match["name"]
        updates.append(_update("apt", name, title=name, installed_version=match["old"],
                               available_version=match["version"], category=_apt_category(suites),
                               reboot_required=bool(REBOOT_PACKAGES.match(name))))
        arches.append(match["arch"])
    return _unique_identifiers(updates, arches)


# --- dnf ------------------------------------------------------------------------------------------

NEVRA = re.compile(r"^(?P<name>.+)-(?P<version>[^-]+-[^-]+)\.(?P<arch>[^.]+)$")
SERIOUSNESS = ("critical", "security", "bugfix", "feature")
DNF_TYPES = {"security": "security", "bugfix": "bugfix", "enhancement": "feature", "newpackage": "feature"}


def parse_dnf_updateinfo(output: str) -> dict[str, dict[str, str]]:
    """`dnf updateinfo list --updates` (dnf 4): `ADVISORY  Type[/Sec.]  name-[epoch:]version-release.arch` lines,
    by `name.arch`: `{"advisory", "category", "severity"}`."""
    out: dict[str, dict[str, str]] = {}
    for line in output.splitlines():
        fields = line.split()
        if len(fields) != 3:
            continue
        advisory, kind, nevra = fields
        match = NEVRA.match(nevra)
        if not match:
            continue
        severity = ""
        if kind.endswith("/Sec."):
            severity = kind[: -len("/Sec.")].lower()
            category = "critical" if severity == "critical" else "security"
        elif kind.lower() in DNF_TYPES:
            category = DNF_TYPES[kind.lower()]
        else:
            continue
        key = f"{match['name']}.{match['arch']}"
        previous = out.get(key)
        # A package fixed by several advisories takes the most serious one.
        if previous is None or SERIOUSNESS.index(category) < SERIOUSNESS.index(previous["category"]):
            out[key] = {"advisory": advisory, "category": category,
                        "severity": severity if severity in SEVERITIES else ""}
    return out


def parse_dnf_check_update_list(output: str, advisories: Mapping[str, Mapping[str, str]] | None = None,
                                installed: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """`dnf check-update -q`: `name.arch  version  repository` lines (up to "Obsoleting Packages"), joined with
    the advisories of `parse_dnf_updateinfo` and the installed versions of `rpm -q`."""
    advisories = advisories or {}
    installed = installed or {}
    updates = []
    for line in output.splitlines():
        if line.startswith("Obsoleting Packages"):
            break
        fields = line.split()
        if len(fields) != 3 or line.startswith(" ") or "." not in fields[0]:
            continue
        name_arch, version, _repo = fields
        name = name_arch.rsplit(".", 1)[0]
        advisory = advisories.get(name_arch, {})
        title = f"{name_arch} ({advisory['advisory']})" if advisory.get("advisory") else name_arch
        updates.append(_update("dnf", name_arch, title=title, installed_version=installed.get(name_arch, ""),
                               available_version=version, category=advisory.get("category", "bugfix"),
                               severity=advisory.get("severity", ""),
                               reboot_required=bool(REBOOT_PACKAGES.match(name))))
    return updates


def parse_rpm_versions(output: str) -> dict[str, str]:
    """`rpm -qa --qf '%{NAME}.%{ARCH}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\n'` as `{name.arch: version}`
    (the epoch dropped when 0, as dnf prints it)."""
    out = {}
    for line in output.splitlines():
        key, sep, version = line.partition("\t")
        if sep and key:
            out[key] = version[2:] if version.startswith("0:") else version
    return out


# --- zypper ---------------------------------------------------------------------------------------

ZYPPER_CATEGORIES = {"security": "security", "recommended": "bugfix", "optional": "feature", "feature": "feature",
                     "document": "bugfix", "yast": "bugfix"}


def parse_zypper_xml(output: str) -> list[dict[str, Any]]:
    """`zypper --xmlout list-updates [-t patch]`: `<update kind="package|patch" …>` elements."""
    start = output.find("<?xml")
    if start < 0:
        start = output.find("<stream")
    if start < 0:
        return []
    try:
        root = ET.fromstring(output[start:])  # noqa: S314  # nosec B314 - the local zypper's own output
    except ET.ParseError:
        return []
    updates = []
    for node in root.iter("update"):
        kind = node.get("kind", "package")
        name = node.get("name") or ""
        if not name:
            continue
        summary = (node.findtext("summary") or "").strip()
        if kind == "patch":
            category = ZYPPER_CATEGORIES.get(node.get("category", ""), "bugfix")
            severity = node.get("severity", "").lower()
            if severity == "critical" and category == "security":
                category = "critical"
            issued = node.find("issue-date")
            released = None
            if issued is not None and (issued.get("time") or "").isdigit():
                released = datetime.fromtimestamp(int(issued.get("time") or 0), UTC).date().isoformat()
            updates.append(_update("zypper", name, title=summary or name, available_version=node.get("edition", ""),
                                   category=category, severity=severity if severity in SEVERITIES else "",
                                   released_on=released, reboot_required=node.get("restart") == "true"))
        else:
            arch = node.get("arch", "")
            identifier = f"{name}.{arch}" if arch else name
            updates.append(_update("zypper", identifier, title=summary or identifier,
                                   installed_version=node.get("edition-old", ""),
                                   available_version=node.get("edition", ""),
                                   reboot_required=bool(REBOOT_PACKAGES.match(name))))
    return updates


# --- Homebrew -------------------------------------------------------------------------------------


def parse_brew_outdated(output: str) -> list[dict[str, Any]]:
    """`brew outdated --json=v2`: `{"formulae": [...], "casks": [...]}`, pinned formulae left out."""
    try:
        data = json.loads(output or "{}")
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    updates = []
    for group in ("formulae", "casks"):
        for entry in data.get(group) or []:
            if not isinstance(entry, dict) or not entry.get("name") or entry.get("pinned"):
                continue
            versions = entry.get("installed_versions") or []
            updates.append(_update("brew", str(entry["name"]), title=str(entry["name"]),
                                   installed_version=str(versions[-1]) if versions else "",
                                   available_version=str(entry.get("current_version") or ""),
                                   category="application"))
    return updates


# --- Windows Update (the COM API through PowerShell) ------------------------------------------------

# Lists what the Windows Update agent finds not installed (and not hidden), and the updates it installed
# successfully (its history, last 100 entries), as JSON. Read-only: no download, no install.
WINDOWS_UPDATE_SCRIPT = (
    "$s = New-Object -ComObject Microsoft.Update.Session; $q = $s.CreateUpdateSearcher(); "
    "$r = $q.Search('IsInstalled=0 and IsHidden=0'); "
    "$m = foreach ($u in $r.Updates) { [pscustomobject]@{ KB = (@($u.KBArticleIDs) | Select-Object -First 1); "
    "Title = $u.Title; UpdateID = $u.Identity.UpdateID; Categories = @($u.Categories | ForEach-Object { $_.Name }); "
    "MsrcSeverity = $u.MsrcSeverity; LastDeploymentChangeTime = $u.LastDeploymentChangeTime; "
    "RebootBehavior = $u.InstallationBehavior.RebootBehavior } }; "
    "$n = $q.GetTotalHistoryCount(); "
    "$h = if ($n -gt 0) { foreach ($e in $q.QueryHistory(0, [Math]::Min($n, 100))) { if ($e.ResultCode -eq 2) { "
    "[pscustomobject]@{ Title = $e.Title; UpdateID = $e.UpdateIdentity.UpdateID; Date = $e.Date } } } }; "
    "[pscustomobject]@{ Updates = @($m); History = @($h) } | ConvertTo-Json -Depth 4 -Compress"
)
KB_IN_TITLE = re.compile(r"\bKB(\d{6,8})\b")


def _windows_category(names: list[str]) -> str:
    lowered = {n.lower() for n in names}
    if "security updates" in lowered:
        return "security"
    if "critical updates" in lowered:
        return "critical"
    if "drivers" in lowered:
        return "driver"
    if lowered & {"feature packs", "upgrades"}:
        return "feature"
    return "bugfix"


def _as_list(value: Any) -> list[Any]:
    # ConvertTo-Json writes a one-element array as the element itself (Windows PowerShell 5.1).
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_windows_update(output: str) -> list[dict[str, Any]]:
    """The JSON of `WINDOWS_UPDATE_SCRIPT`: missing updates, then the installed ones from the history."""
    try:
        data = json.loads(output or "{}")
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    updates = []
    missing_ids = set()
    for entry in _as_list(data.get("Updates")):
        if not isinstance(entry, dict) or not entry.get("Title"):
            continue
        kb = str(entry.get("KB") or "").strip()
        identifier = f"KB{kb}" if kb else str(entry.get("UpdateID") or entry["Title"])[:200]
        missing_ids.add(identifier)
        severity = str(entry.get("MsrcSeverity") or "").lower()
        released = parse_ps_date(entry.get("LastDeploymentChangeTime"))
        updates.append(_update("windows_update", identifier, title=str(entry["Title"]),
                               category=_windows_category([str(c) for c in _as_list(entry.get("Categories"))]),
                               severity=severity if severity in SEVERITIES else "",
                               released_on=released.date().isoformat() if released else None,
                               reboot_required=entry.get("RebootBehavior") not in (0, None)))
    seen = set()
    for entry in _as_list(data.get("History")):
        if not isinstance(entry, dict) or not entry.get("Title"):
            continue
        match = KB_IN_TITLE.search(str(entry["Title"]))
        identifier = f"KB{match.group(1)}" if match else str(entry.get("UpdateID") or entry["Title"])[:200]
        # The history keeps every attempt: the newest success counts, and a listed update is not installed.
        if identifier in seen or identifier in missing_ids:
            continue
        seen.add(identifier)
        updates.append(_update("windows_update", identifier, title=str(entry["Title"]), installed=True))
    return updates


# --- winget ---------------------------------------------------------------------------------------


def parse_winget_upgrade(output: str) -> list[dict[str, Any]]:
    """`winget upgrade`: tables (Name, Id, Version, Available, Source in the user's language) whose columns
    start where their header words start; the line under a header is dashes."""
    # winget draws a spinner with carriage returns before the table: keep what follows the last one.
    lines = [line.rsplit("\r", 1)[-1].rstrip() for line in output.splitlines()]
    updates = []
    index = 0
    while index < len(lines) - 1:
        header, rule = lines[index], lines[index + 1]
        if not (rule and set(rule.strip()) == {"-"} and header.strip()):
            index += 1
            continue
        starts = [m.start() for m in re.finditer(r"\S+", header)]
        if len(starts) < 4:
            index += 2
            continue
        index += 2
        while index < len(lines) and _table_row(lines[index], starts):
            row = lines[index]
            bounds = [*starts[1:], len(row) + 1]
            cells = [row[s:e].strip() for s, e in zip(starts, bounds, strict=False)]
            name, identifier, version, available = cells[0], cells[1], cells[2], cells[3]
            if identifier and available:
                updates.append(_update("winget", identifier, title=name.rstrip("…").strip() or identifier,
                                       installed_version=version, available_version=available,
                                       category="application"))
            index += 1
    return updates


def _table_row(row: str, starts: list[int]) -> bool:
    # A row reaches the Available column and has a blank before each column (a sentence under the table does not).
    return len(row) > starts[3] and all(row[s - 1] == " " for s in starts[1:4])


# --- macOS softwareupdate -------------------------------------------------------------------------

SECURITY_TITLE = re.compile(r"Security Update|Rapid Security Response|Background Security", re.IGNORECASE)


def parse_softwareupdate_list(output: str) -> list[dict[str, Any]]:
    """`softwareupdate --list`: `* Label: …` then a tab-indented `Title: …, Version: …, …` line."""
    updates = []
    label: str | None = None
    for line in output.splitlines():
        stripped = line.strip()
        if stripped.startswith("* Label:"):
            label = stripped[len("* Label:"):].strip()
            continue
        if label is None or not stripped.startswith("Title:"):
            continue
        fields = {}
        for part in stripped.split(", "):
            key, sep, value = part.partition(": ")
            if sep:
                fields[key.strip()] = value.strip().rstrip(",")
        title = fields.get("Title", label)
        recommended = fields.get("Recommended", "").upper() == "YES"
        category = "security" if SECURITY_TITLE.search(title) else "bugfix" if recommended else "feature"
        updates.append(_update("softwareupdate", label, title=title, available_version=fields.get("Version", ""),
                               category=category,
                               reboot_required=fields.get("Action", "").lower() in ("restart", "shut down")))
        label = None
    return updates


# --- the snapshot -----------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """What one listing found: the updates, the sources listed completely, and the sources that failed."""

    updates: list[dict[str, Any]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def add(self, source: str, updates: list[dict[str, Any]]) -> None:
        self.sources.append(source)
        self.updates.extend(updates)

    def fail(self, source: str, message: str) -> None:
        self.errors[source] = (message.strip() or "failed").splitlines()[-1][:300]


def _first_error(result: Any, default: str) -> str:
    return result.stderr.strip() or result.stdout.strip() or default


def list_updates(family: str, runner: Runner, which: Callable[[str], str | None] = shutil.which) -> Snapshot:
    """List the updates of every package manager present on this OS family (read-only commands)."""
    snap = Snapshot()
    if family == "linux":
        if which("apt"):
            out = runner(["apt", "list", "--upgradable"], 300)
            if out.ok:
                snap.add("apt", parse_apt_list(out.stdout))
            else:
                snap.fail("apt", _first_error(out, "apt list failed"))
        if which("dnf"):
            out = runner(["dnf", "check-update", "-q"], 600)
            if out.returncode in (0, 100):
                info = runner(["dnf", "updateinfo", "list", "--updates", "-q"], 600)
                rpm = runner(["rpm", "-qa", "--qf", "%{NAME}.%{ARCH}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\n"], 120)
                snap.add("dnf", parse_dnf_check_update_list(
                    out.stdout, parse_dnf_updateinfo(info.stdout) if info.ok else {},
                    parse_rpm_versions(rpm.stdout) if rpm.ok else {}))
            else:
                snap.fail("dnf", _first_error(out, "dnf check-update failed"))
        if which("zypper"):
            packages = runner(["zypper", "--non-interactive", "--xmlout", "list-updates"], 600)
            patches = runner(["zypper", "--non-interactive", "--xmlout", "list-updates", "-t", "patch"], 600)
            if packages.ok and patches.ok:
                snap.add("zypper", parse_zypper_xml(packages.stdout) + parse_zypper_xml(patches.stdout))
            else:
                snap.fail("zypper", _first_error(packages if not packages.ok else patches, "zypper failed"))
    if family in ("linux", "macos") and which("brew"):
        out = runner(["brew", "outdated", "--json=v2"], 300)
        if out.ok:
            snap.add("brew", parse_brew_outdated(out.stdout))
        else:
            snap.fail("brew", _first_error(out, "brew outdated failed"))
    if family == "macos":
        out = runner(["softwareupdate", "--list"], 900)
        if out.ok:
            snap.add("softwareupdate", parse_softwareupdate_list(out.stdout))
        else:
            snap.fail("softwareupdate", _first_error(out, "softwareupdate failed"))
    if family == "windows":
        out = runner(powershell(WINDOWS_UPDATE_SCRIPT), 900)
        if out.ok:
            snap.add("windows_update", parse_windows_update(out.stdout))
        else:
            snap.fail("windows_update", _first_error(out, "the Windows Update search failed"))
        if which("winget"):
            out = runner(["winget", "upgrade", "--accept-source-agreements", "--disable-interactivity"], 600)
            # winget exits non-zero when it finds nothing to upgrade; a table or its absence is the answer.
            if out.returncode is not None:
                snap.add("winget", parse_winget_upgrade(out.stdout))
            else:
                snap.fail("winget", _first_error(out, "winget failed"))
    return snap


def _text(value: Any, limit: int) -> str:
    return "" if value is None else str(value).replace("\x00", "")[:limit]


def updates_wire(snap: Snapshot) -> dict[str, Any]:
    """An `updates` item's data: the snapshot sorted, strings cut to the server's lengths, at most 5000 updates."""
    entries = []
    seen = set()
    for entry in snap.updates:
        key = (entry["source"], _text(entry["identifier"], 200))
        if not key[1] or key in seen or entry["source"] not in SOURCES:
            continue
        seen.add(key)
        entries.append({
            "source": entry["source"], "identifier": key[1], "title": _text(entry.get("title"), 500),
            "installed_version": _text(entry.get("installed_version"), 100),
            "available_version": _text(entry.get("available_version"), 100),
            "category": entry["category"] if entry.get("category") in CATEGORIES else "bugfix",
            "severity": entry["severity"] if entry.get("severity") in SEVERITIES else "",
            "released_on": entry.get("released_on"), "reboot_required": bool(entry.get("reboot_required")),
            "installed": bool(entry.get("installed")),
        })
    entries.sort(key=lambda e: (e["source"], e["identifier"]))
    data: dict[str, Any] = {"sources": sorted(set(snap.sources)), "updates": entries[:MAX_UPDATES],
                            "errors": {k: _text(v, 300) for k, v in sorted(snap.errors.items())}}
    data["digest"] = snapshot_digest(data)
    return data


def snapshot_digest(data: Mapping[str, Any]) -> str:
    """A digest of the snapshot's sources and updates, to send an unchanged snapshot only once a day."""
    canonical = json.dumps({"sources": data.get("sources"), "updates": data.get("updates")}, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def updates_interval(collectors: Mapping[str, Any]) -> float:
    """The seconds between two listings: the collectors' `updates_interval` (15 minutes to 7 days; the server
    validates it, a value out of bounds is brought within them), 6 hours by default."""
    value = collectors.get("updates_interval")
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return float(DEFAULT_UPDATES_INTERVAL_S)
    return float(min(max(value, MIN_UPDATES_INTERVAL_S), MAX_UPDATES_INTERVAL_S))


class UpdatesSchedule:
    """When the agent lists updates: at start, then every `updates_interval` seconds of the policy's collectors
    (6 hours by default); the snapshot is spooled when it changed, or unchanged once a day."""

    def __init__(self, which: Callable[[str], str | None] = shutil.which) -> None:
        self.looked_at: float | None = None  # None: not yet in this process, so the first collection lists
        self.which = which

    def due(self, now: float, interval_s: float) -> bool:
        return self.looked_at is None or now - self.looked_at >= interval_s or now < self.looked_at

    def maybe_spool(self, agent: Any, now: float, force: bool = False) -> int | None:
        """List and spool the updates when due; returns the item's seq, or None (not due, unchanged, or a
        collector this module does not know, such as a test's fake one)."""
        family = _known_family(agent.collector)
        if family is None:
            return None
        if not force and not self.due(now, updates_interval(agent.collectors_policy())):
            return None
        self.looked_at = now
        snap = list_updates(family, agent.collector.runner, self.which)
        for source, message in snap.errors.items():
            log.warning("listing %s updates failed: %s", source, message)
        data = updates_wire(snap)
        stale = now - float(agent.state.get("updates_sent_at", 0)) >= RESEND_UNCHANGED_S
        if not (force or stale or data["digest"] != agent.state.get("updates_digest")):
            return None
        seq: int = agent.spool.put("updates", data)
        agent.state.update(updates_digest=data["digest"], updates_sent_at=now)
        agent.save_state()
        return seq


def _known_family(collector: Any) -> str | None:
    # Only the real collectors of this package run the package managers (a test's fake collector lists nothing).
    from .linux import LinuxCollector
    from .macos import MacCollector
    from .windows import WindowsCollector

    for cls, family in ((LinuxCollector, "linux"), (MacCollector, "macos"), (WindowsCollector, "windows")):
        if isinstance(collector, cls):
            return family
    return None
