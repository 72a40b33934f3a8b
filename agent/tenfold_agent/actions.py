"""The built-in job actions: restart a service, restart the computer, install updates, uninstall software.

Each action validates its payload strictly first (`PayloadError`: the job fails with the reason and nothing
runs), then builds argument vectors (never a shell line) from validated values only, and runs them through
the `Host`'s command runner, which tests replace to check the exact commands without running them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .collectors.updates import REBOOT_PACKAGES, SOURCES
from .collectors.windows import powershell
from .process import CancelToken
from .scripts import ScriptResult, run_script
from .signing import TrustStore
from .util import CommandResult, Runner, iso, parse_iso

if TYPE_CHECKING:
    from .restart import PendingRestarts

SERVICE_NAME = re.compile(r"^[A-Za-z0-9@._:-]{1,128}$")
PACKAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+:@~-]{0,199}$")
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+:~-]{0,99}$")
KB_ID = re.compile(r"^KB\d{6,8}$")
UPDATE_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# softwareupdate labels carry spaces and parentheses: "macOS Sonoma 14.2-23C64", "Safari17.2VenturaAuto-17.2".
SOFTWAREUPDATE_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+:()/,-]{0,199}$")
ZYPPER_PATCH = re.compile(r"^(SUSE|openSUSE)-.*-\d{4}-\d+$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

REBOOT_RULES = ("never", "if_required", "always")
MAX_REBOOT_DELAY_MIN = 1440
DEFAULT_REBOOT_DELAY_MIN = 5
MAX_MESSAGE = 200
INSTALL_REBOOT_DELAY_MIN = 5
MAX_UPDATES_PER_JOB = 500
MIN_DEFER_MINUTES, MAX_DEFER_MINUTES, DEFAULT_DEFER_MINUTES = 15, 1440, 60
MAX_REBOOT_DEFERRALS = 100
# A pre- or post-install script is a `run_script` job payload.
SCRIPT_FIELDS = ("script_id", "version", "name", "document", "signatures", "body", "parameters", "secret_names",
                 "secret_parameters")
SCRIPT_TAIL = 2000
UNINSTALL_SOURCES = ("apt", "dnf", "zypper", "brew", "winget")
# The family a source belongs to, and the tool it runs.
SOURCE_FAMILIES: dict[str, tuple[str, ...]] = {
    "apt": ("linux",), "dnf": ("linux",), "zypper": ("linux",), "brew": ("linux", "macos"),
    "winget": ("windows",), "windows_update": ("windows",), "softwareupdate": ("macos",)}
SOURCE_TOOLS = {"apt": "apt-get", "dnf": "dnf", "zypper": "zypper", "brew": "brew", "winget": "winget",
                "windows_update": "powershell.exe", "softwareupdate": "softwareupdate"}
APT_ENV = ["env", "DEBIAN_FRONTEND=noninteractive"]
APT_KEEP_CONFIG = ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]
DEBIAN_REBOOT_FLAG = "/var/run/reboot-required"
SERVICE_TIMEOUT_S = 300
PACKAGE_TIMEOUT_S = 1800
WINDOWS_UPDATE_TIMEOUT_S = 4 * 3600
SOFTWAREUPDATE_TIMEOUT_S = 2 * 3600
# Windows Update result codes (OperationResultCode): 2 succeeded, 3 succeeded with errors.
WUA_INSTALLED = (2, 3)


class PayloadError(ValueError):
    """The job's payload is not valid: the job fails with this reason and nothing runs."""


@dataclass
class Outcome:
    """What a job result carries (its `job_id` and `duration_ms` are added by the job runner)."""

    status: str
    exit_code: int | None
    stdout: str
    stderr: str


@dataclass
class Host:
    """This device as the actions see it: its OS family and how commands run (tests inject their own)."""

    family: str
    run: Runner
    which: Callable[[str], str | None] = shutil.which
    clock: Callable[[], float] = lambda: datetime.now(UTC).timestamp()
    exists: Callable[[str], bool] = os.path.exists
    token: CancelToken = field(default_factory=CancelToken)
    # The keys signed scripts are checked against (None: every script is refused).
    trust: TrustStore | None = None
    # Where a restart the user may postpone is kept (None: such a restart cannot be offered).
    restarts: PendingRestarts | None = None


def _from_result(result: CommandResult) -> Outcome:
    status = "succeeded" if result.ok else "failed"
    return Outcome(status, result.returncode, result.stdout, result.stderr)


def _only_keys(payload: Any, allowed: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise PayloadError("the payload must be an object")
    unknown = sorted(set(payload) - set(allowed))
    if unknown:
        raise PayloadError(f"unknown payload field(s): {', '.join(map(str, unknown))}")
    return payload


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PayloadError(f"{name} must be a whole number between {low} and {high}")
    return value


# --- restart_service ------------------------------------------------------------------------------------


def validate_restart_service(payload: Any) -> str:
    """The service name of a `restart_service` payload `{"service": "<name>"}`."""
    data = _only_keys(payload, ("service",))
    name = data.get("service")
    if not isinstance(name, str) or not SERVICE_NAME.match(name) or name.startswith("-"):
        raise PayloadError("service must be a service name of 1 to 128 letters, digits and @ . _ : - "
                           "(not starting with -)")
    return name


def restart_service_command(family: str, name: str) -> list[str]:
    """The command that restarts a service on this OS family."""
    if family == "linux":
        return ["systemctl", "restart", name]
    if family == "macos":
        return ["launchctl", "kickstart", "-k", f"system/{name}"]
    if family == "windows":
        # The name is validated (no quote can be in it), so it is safe inside single quotes.
        return powershell(f"Restart-Service -Name '{name}' -Force -ErrorAction Stop")
    raise PayloadError(f"restarting a service is not supported on {family or 'this system'}")


def restart_service(payload: Any, host: Host) -> Outcome:
    """Restart one service; the result carries the command's exit code and output."""
    name = validate_restart_service(payload)
    return _from_result(host.run(restart_service_command(host.family, name), SERVICE_TIMEOUT_S))


# --- reboot -----------------------------------------------------------------------------------------------


def default_reboot_message(minutes: int) -> str:
    """What logged-in users are told when the job gives no message."""
    return f"Tenfold: this computer restarts in {minutes} minutes for maintenance."


def _message(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_MESSAGE or CONTROL.search(value):
        raise PayloadError(f"message must be text of 1 to {MAX_MESSAGE} characters on one line")
    if value[0] in "-/":
        raise PayloadError("message must not start with - or / (it would read as an option)")
    return value


def validate_reboot(payload: Any) -> tuple[int, str]:
    """`(delay_minutes, message)` of a `reboot` payload `{"delay_minutes": 0..1440, "message": "…"}`."""
    data = _only_keys(payload if payload is not None else {}, ("delay_minutes", "message"))
    minutes = _int(data.get("delay_minutes", DEFAULT_REBOOT_DELAY_MIN), "delay_minutes", 0, MAX_REBOOT_DELAY_MIN)
    message = data.get("message")
    return minutes, default_reboot_message(minutes) if message is None else _message(message)


def reboot_command(family: str, minutes: int, message: str) -> list[str]:
    """The command that schedules a restart in `minutes` and tells logged-in users `message`."""
    if family in ("linux", "macos"):
        # shutdown broadcasts the message to every terminal (wall) and warns again as the time nears.
        return ["shutdown", "-r", f"+{minutes}", message]
    if family == "windows":
        return ["shutdown", "/r", "/t", str(minutes * 60), "/c", message]
    raise PayloadError(f"restarting is not supported on {family or 'this system'}")


def schedule_restart(host: Host, minutes: int, message: str) -> Outcome:
    """Schedule the restart; succeeded once it is scheduled, and stdout says when."""
    result = host.run(reboot_command(host.family, minutes, message), 60)
    if not result.ok:
        return Outcome("failed", result.returncode, result.stdout,
                       result.stderr.strip() or "the restart could not be scheduled")
    when = datetime.fromtimestamp(host.clock(), UTC) + timedelta(minutes=minutes)
    return Outcome("succeeded", 0, f"restart scheduled for {iso(when)} (in {minutes} minutes); "
                                  f"logged-in users were told: {message}", result.stderr)


def reboot(payload: Any, host: Host) -> Outcome:
    """Tell logged-in users and schedule a restart of this computer."""
    minutes, message = validate_reboot(payload)
    return schedule_restart(host, minutes, message)


# --- install_updates ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateRequest:
    """One update to install, validated."""

    source: str
    identifier: str
    version: str


@dataclass(frozen=True)
class InstallRequest:
    """An `install_updates` payload, validated."""

    updates: list[UpdateRequest]
    reboot: str
    reboot_deferrals: int
    window_ends_at: datetime | None
    reboot_defer_minutes: int = DEFAULT_DEFER_MINUTES
    pre_script: Mapping[str, Any] | None = None
    post_script: Mapping[str, Any] | None = None


def _valid_identifier(source: str, identifier: str) -> bool:
    if source == "windows_update":
        return bool(KB_ID.match(identifier) or UPDATE_GUID.match(identifier))
    if source == "softwareupdate":
        return bool(SOFTWAREUPDATE_LABEL.match(identifier))
    return bool(PACKAGE_NAME.match(identifier))


def validate_script_payload(value: Any, name: str) -> Mapping[str, Any] | None:
    """A `pre_script` / `post_script` of an `install_updates` payload: None, or a `run_script` job payload whose
    shape is checked here (its signature is checked when it runs, by `scripts.run_script`)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise PayloadError(f"{name} must be an object: a run_script job payload")
    unknown = sorted(set(value) - set(SCRIPT_FIELDS))
    if unknown:
        raise PayloadError(f"{name}: unknown field(s): {', '.join(map(str, unknown))}")
    for key in ("document", "body"):
        if not isinstance(value.get(key), str):
            raise PayloadError(f"{name}: {key} must be text")
    if not isinstance(value.get("signatures"), list):
        raise PayloadError(f"{name}: signatures must be a list")
    for key in ("parameters", "secret_parameters"):
        if value.get(key) is not None and not isinstance(value.get(key), Mapping):
            raise PayloadError(f"{name}: {key} must be an object")
    names = value.get("secret_names")
    if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
        raise PayloadError(f"{name}: secret_names must be a list of names")
    return value


def validate_install(payload: Any) -> InstallRequest:
    """An `install_updates` payload as the server's patching sends it."""
    data = _only_keys(payload, ("updates", "reboot", "reboot_deferrals", "reboot_defer_minutes", "window_ends_at",
                                "pre_script", "post_script"))
    entries = data.get("updates")
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_UPDATES_PER_JOB:
        raise PayloadError(f"updates must be a list of 1 to {MAX_UPDATES_PER_JOB} updates")
    updates = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, Mapping) or set(entry) - {"source", "identifier", "version"}:
            raise PayloadError(f"update {number}: an object with source, identifier and version is expected")
        source, identifier, version = entry.get("source"), entry.get("identifier"), entry.get("version") or ""
        if source not in SOURCES:
            raise PayloadError(f"update {number}: source must be one of {', '.join(SOURCES)}")
        if not isinstance(identifier, str) or not _valid_identifier(str(source), identifier):
            raise PayloadError(f"update {number}: {identifier!r} is not a valid {source} identifier")
        if not isinstance(version, str) or (version and not VERSION.match(version)):
            raise PayloadError(f"update {number}: {version!r} is not a valid version")
        updates.append(UpdateRequest(str(source), identifier, version))
    rule = data.get("reboot", "if_required")
    if rule not in REBOOT_RULES:
        raise PayloadError(f"reboot must be one of {', '.join(REBOOT_RULES)}")
    deferrals = _int(data.get("reboot_deferrals", 0), "reboot_deferrals", 0, MAX_REBOOT_DEFERRALS)
    defer_minutes = _int(data.get("reboot_defer_minutes", DEFAULT_DEFER_MINUTES), "reboot_defer_minutes",
                         MIN_DEFER_MINUTES, MAX_DEFER_MINUTES)
    pre_script = validate_script_payload(data.get("pre_script"), "pre_script")
    post_script = validate_script_payload(data.get("post_script"), "post_script")
    ends = data.get("window_ends_at")
    window_end = None
    if ends is not None:
        try:
            window_end = parse_iso(ends) if isinstance(ends, str) else None
        except ValueError:
            window_end = None
        if window_end is None:
            raise PayloadError("window_ends_at must be an ISO 8601 time")
    return InstallRequest(updates, str(rule), deferrals, window_end, defer_minutes, pre_script, post_script)


def install_command(update: UpdateRequest) -> list[str]:
    """The command that installs one package-manager update (not Windows Update: see `windows_update_script`)."""
    source, ident, version = update.source, update.identifier, update.version
    if source == "apt":
        target = f"{ident}={version}" if version else ident
        return [*APT_ENV, "apt-get", "install", "-y", "--only-upgrade", *APT_KEEP_CONFIG, target]
    if source == "dnf":
        if not version:
            return ["dnf", "upgrade", "-y", ident]
        name, dot, arch = ident.rpartition(".")
        # dnf names a version as name-[epoch:]version-release.arch.
        return ["dnf", "upgrade", "-y", f"{name}-{version}.{arch}" if dot else f"{ident}-{version}"]
    if source == "zypper":
        if ZYPPER_PATCH.match(ident):
            return ["zypper", "--non-interactive", "install", "-t", "patch", ident]
        return ["zypper", "--non-interactive", "update", ident]
    if source == "brew":
        return ["brew", "upgrade", ident]
    if source == "winget":
        return ["winget", "upgrade", "--id", ident, "--exact", "--silent", "--accept-package-agreements",
                "--accept-source-agreements", "--disable-interactivity"]
    if source == "softwareupdate":
        return ["softwareupdate", "--install", ident]
    raise PayloadError(f"no install command for {source}")


def windows_update_script(identifiers: Sequence[str]) -> str:
    """PowerShell that installs the named updates (KB numbers or update ids) through the Windows Update Agent
    COM API and prints, as JSON, each one's result code and whether a restart is needed. The identifiers are
    validated (KB digits or a GUID), so they are safe inside single quotes."""
    wanted = ",".join(f"'{i}'" for i in identifiers)
    return (
        f"$want = @({wanted}); "
        "$s = New-Object -ComObject Microsoft.Update.Session; $q = $s.CreateUpdateSearcher(); "
        "$r = $q.Search('IsInstalled=0 and IsHidden=0'); "
        "$c = New-Object -ComObject Microsoft.Update.UpdateColl; $keys = @(); "
        "foreach ($u in $r.Updates) { $kb = @($u.KBArticleIDs) | Select-Object -First 1; "
        "$key = if ($kb) { 'KB' + $kb } else { $u.Identity.UpdateID }; "
        "if ($want -contains $key) { if (-not $u.EulaAccepted) { $u.AcceptEula() }; [void]$c.Add($u); "
        "$keys += $key } }; "
        "$out = @(); $reboot = $false; "
        "if ($c.Count -gt 0) { $d = $s.CreateUpdateDownloader(); $d.Updates = $c; [void]$d.Download(); "
        "$i = $s.CreateUpdateInstaller(); $i.Updates = $c; $res = $i.Install(); $reboot = $res.RebootRequired; "
        "for ($k = 0; $k -lt $c.Count; $k++) { $ur = $res.GetUpdateResult($k); "
        "$out += [pscustomobject]@{ Identifier = $keys[$k]; ResultCode = $ur.ResultCode; HResult = $ur.HResult; "
        "RebootRequired = $ur.RebootRequired } } }; "
        "[pscustomobject]@{ Results = @($out); RebootRequired = [bool]$reboot } | ConvertTo-Json -Depth 3 -Compress"
    )


def parse_windows_install(output: str, identifiers: Sequence[str]) -> tuple[list[dict[str, str]], bool]:
    """The results of `windows_update_script` for each requested identifier, and whether a restart is needed."""
    try:
        data = json.loads(output or "{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        message = "Windows Update printed no result"
        return [{"identifier": i, "status": "failed", "message": message} for i in identifiers], False
    entries = data.get("Results")
    entries = entries if isinstance(entries, list) else [entries] if isinstance(entries, dict) else []
    by_id = {str(e.get("Identifier")): e for e in entries if isinstance(e, dict)}
    results = []
    for identifier in identifiers:
        entry = by_id.get(identifier)
        if entry is None:
            results.append({"identifier": identifier, "status": "failed",
                            "message": "not offered by Windows Update on this device (installed, hidden or "
                                       "superseded)"})
            continue
        code = entry.get("ResultCode")
        if code in WUA_INSTALLED:
            results.append({"identifier": identifier, "status": "installed",
                            "message": "installed with errors" if code == 3 else ""})
        else:
            hresult = entry.get("HResult")
            detail = f" (HRESULT 0x{hresult & 0xFFFFFFFF:08X})" if isinstance(hresult, int) and hresult else ""
            results.append({"identifier": identifier, "status": "failed",
                            "message": f"Windows Update result code {code}{detail}"})
    return results, bool(data.get("RebootRequired"))


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""


def _needs_restart_after(update: UpdateRequest, result: CommandResult, host: Host) -> bool:
    if update.source in ("apt", "dnf", "zypper"):
        name = update.identifier.split(":", 1)[0]
        if update.source != "apt":
            name = name.rsplit(".", 1)[0]
        return bool(REBOOT_PACKAGES.match(name)) or (update.source == "apt" and host.exists(DEBIAN_REBOOT_FLAG))
    if update.source == "softwareupdate":
        return "restart" in (result.stdout + result.stderr).lower()
    return False


def _source_problem(source: str, host: Host) -> str:
    if host.family not in SOURCE_FAMILIES[source]:
        return f"{source} updates do not apply to a {host.family or 'unknown'} device"
    if host.which(SOURCE_TOOLS[source]) is None:
        return f"{SOURCE_TOOLS[source]} is not installed on this device"
    return ""


def _run_install_script(payload: Mapping[str, Any], host: Host) -> ScriptResult:
    # The same verification and run as a `run_script` job: same trust store, refusals, redaction and cancel token.
    if host.trust is None:
        return ScriptResult("failed", None, "", "refused, nothing was run: this agent has no trust store", 0)
    return run_script(payload, host.trust, host.family, host.token)


def _script_entry(result: ScriptResult) -> dict[str, Any]:
    return {"status": result.status, "exit_code": result.exit_code, "stdout": result.stdout[-SCRIPT_TAIL:],
            "stderr": result.stderr[-SCRIPT_TAIL:]}


def _script_failure(result: ScriptResult) -> str:
    if result.status == "timed_out":
        return "timed out"
    if result.status == "cancelled":
        return "cancelled"
    if result.exit_code is not None:
        return f"exit code {result.exit_code}"
    reason = _last_line(result.stderr) or result.status
    return "refused: " + reason.removeprefix("refused, nothing was run: ") if reason.startswith("refused") else reason


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _offer_restart(request: InstallRequest, host: Host, job_id: Any) -> tuple[str, str]:
    """Plan a restart the user may postpone; `(reboot note, error)`. A drop directory that cannot be used falls
    back to the plain restart in 5 minutes: the updates still need it."""
    assert host.restarts is not None
    try:
        pending, problem = host.restarts.schedule(deferrals=request.reboot_deferrals,
                                                  defer_minutes=request.reboot_defer_minutes, job_id=job_id)
    except OSError as exc:
        message = f"Tenfold: this computer restarts in {INSTALL_REBOOT_DELAY_MIN} minutes to finish installing updates."
        scheduled = schedule_restart(host, INSTALL_REBOOT_DELAY_MIN, message)
        if scheduled.status != "succeeded":
            return "not scheduled", f"the restart could not be scheduled: {scheduled.stderr}"
        return (scheduled.stdout.split(";", 1)[0],
                f"the restart could not be offered for deferral ({exc}): scheduled without deferral")
    when = datetime.fromtimestamp(pending.due_at, UTC).strftime("%Y-%m-%dT%H:%MZ")
    if pending.deferrals_left > 0:
        note = (f"restart at {when}; the user may defer it {_times(pending.deferrals_left)} by "
                f"{pending.defer_minutes} minutes")
    else:
        note = f"restart at {when}; the user may not defer it any more"
    return note, f"the restart notice could not be shown: {problem}" if problem else ""


def install_updates(payload: Any, host: Host, job_id: Any = None) -> Outcome:
    """Run the pre-install script, install the approved updates one source at a time, run the post-install
    script; stdout is `{"results": [...], "reboot": ..., "pre_script": ..., "post_script": ...}`, the status
    `succeeded` when every update installed and the scripts succeeded. A restart follows when the rule says so:
    with `reboot_deferrals` > 0 one the user may postpone (`host.restarts`), otherwise in 5 minutes."""
    request = validate_install(payload)
    now = datetime.fromtimestamp(host.clock(), UTC)
    if request.window_ends_at is not None and now >= request.window_ends_at:
        return Outcome("failed", None, "", f"the install window ended at {iso(request.window_ends_at)}, before "
                                           "the job started: nothing was installed")
    scripts: dict[str, dict[str, Any]] = {}
    if request.pre_script is not None:
        pre = _run_install_script(request.pre_script, host)
        scripts["pre_script"] = _script_entry(pre)
        if pre.status != "succeeded":
            reason = _script_failure(pre)
            message = f"not installed: the pre-install script failed ({reason})"
            not_installed = [{"identifier": u.identifier, "status": "failed", "message": message}
                             for u in request.updates]
            return Outcome("failed", 1, json.dumps({"results": not_installed, "reboot": "none", **scripts}),
                           f"the pre-install script failed ({reason}): nothing was installed")
    results: dict[str, dict[str, str]] = {}
    needs_restart = False
    windows: list[UpdateRequest] = []
    for update in request.updates:
        problem = _source_problem(update.source, host)
        if problem:
            results[update.identifier] = {"identifier": update.identifier, "status": "failed", "message": problem}
        elif update.source == "windows_update":
            windows.append(update)  # installed together: one search, one download, one install
        else:
            skipped = _skip(request, host)
            if skipped:
                results[update.identifier] = {"identifier": update.identifier, **skipped}
                continue
            result = host.run(install_command(update), SOFTWAREUPDATE_TIMEOUT_S if update.source == "softwareupdate"
                              else PACKAGE_TIMEOUT_S)
            if result.ok:
                results[update.identifier] = {"identifier": update.identifier, "status": "installed", "message": ""}
                needs_restart = needs_restart or _needs_restart_after(update, result, host)
            else:
                message = _last_line(result.stderr) or _last_line(result.stdout) or f"exit code {result.returncode}"
                results[update.identifier] = {"identifier": update.identifier, "status": "failed", "message": message}
    if windows:
        skipped = _skip(request, host)
        identifiers = [u.identifier for u in windows]
        if skipped:
            for identifier in identifiers:
                results[identifier] = {"identifier": identifier, **skipped}
        else:
            result = host.run(powershell(windows_update_script(identifiers)), WINDOWS_UPDATE_TIMEOUT_S)
            if result.returncode is None or (not result.ok and not result.stdout.strip()):
                message = _last_line(result.stderr) or "the Windows Update install did not run"
                for identifier in identifiers:
                    results[identifier] = {"identifier": identifier, "status": "failed", "message": message}
            else:
                found, restart = parse_windows_install(result.stdout, identifiers)
                results.update({r["identifier"]: r for r in found})
                needs_restart = needs_restart or restart
    ordered = [results[u.identifier] for u in request.updates]
    installed = sum(1 for r in ordered if r["status"] == "installed")
    all_installed = installed == len(ordered)
    script_error = ""
    # After the installs, even failed ones (it may start again what the pre-install script stopped); not after
    # a cancel.
    if request.post_script is not None and not host.token.cancelled:
        post = _run_install_script(request.post_script, host)
        scripts["post_script"] = _script_entry(post)
        if post.status != "succeeded":
            script_error = f"the post-install script failed ({_script_failure(post)})"
    reboot_note, reboot_error = "", ""
    if host.token.cancelled or not installed or request.reboot == "never":
        reboot_note = "not allowed by the policy" if request.reboot == "never" and installed else "none"
    elif (request.reboot == "always" or needs_restart) and request.reboot_deferrals > 0 and host.restarts is not None:
        reboot_note, reboot_error = _offer_restart(request, host, job_id)
    elif request.reboot == "always" or needs_restart:
        message = f"Tenfold: this computer restarts in {INSTALL_REBOOT_DELAY_MIN} minutes to finish installing updates."
        scheduled = schedule_restart(host, INSTALL_REBOOT_DELAY_MIN, message)
        if scheduled.status == "succeeded":
            reboot_note = scheduled.stdout.split(";", 1)[0]
        else:
            reboot_note, reboot_error = "not scheduled", f"the restart could not be scheduled: {scheduled.stderr}"
    else:
        reboot_note = "not needed"
    stdout = json.dumps({"results": ordered, "reboot": reboot_note, **scripts})
    failed = len(ordered) - installed
    stderr = "\n".join(filter(None, [f"{failed} of {len(ordered)} update(s) not installed" if failed else "",
                                     script_error, reboot_error]))
    succeeded = all_installed and not script_error
    return Outcome("succeeded" if succeeded else "failed", 0 if succeeded else 1, stdout, stderr)


def _skip(request: InstallRequest, host: Host) -> dict[str, str] | None:
    # Between two installs: a cancel, or the end of the install window, stops the rest.
    if host.token.cancelled:
        return {"status": "failed", "message": "cancelled before it was installed"}
    if request.window_ends_at is not None and datetime.fromtimestamp(host.clock(), UTC) >= request.window_ends_at:
        return {"status": "failed", "message": "the install window ended before it was installed"}
    return None


# --- uninstall_software -------------------------------------------------------------------------------------


def validate_uninstall(payload: Any) -> tuple[str, str | None]:
    """`(name, source)` of an `uninstall_software` payload `{"name": "…", "source": "apt" | … | null}`."""
    data = _only_keys(payload, ("name", "source"))
    name = data.get("name")
    if not isinstance(name, str) or not PACKAGE_NAME.match(name):
        raise PayloadError("name must be a package name of 1 to 200 letters, digits and . _ + : @ ~ - "
                           "(starting with a letter or digit)")
    source = data.get("source")
    if source is not None and source not in UNINSTALL_SOURCES:
        raise PayloadError(f"source must be one of {', '.join(UNINSTALL_SOURCES)}")
    return name, source


def uninstall_command(source: str, name: str) -> list[str]:
    """The command that removes a package with one package manager."""
    if source == "apt":
        return [*APT_ENV, "apt-get", "remove", "-y", name]
    if source == "dnf":
        return ["dnf", "remove", "-y", name]
    if source == "zypper":
        return ["zypper", "--non-interactive", "remove", name]
    if source == "brew":
        return ["brew", "uninstall", name]
    if source == "winget":
        return ["winget", "uninstall", "--id", name, "--exact", "--silent", "--accept-source-agreements",
                "--disable-interactivity"]
    raise PayloadError(f"no uninstall command for {source}")


def default_package_manager(host: Host) -> str | None:
    """This device's package manager: the first present of apt, dnf, zypper, brew (Linux), brew (macOS),
    winget (Windows)."""
    candidates = {"linux": ("apt", "dnf", "zypper", "brew"), "macos": ("brew",), "windows": ("winget",)}
    for source in candidates.get(host.family, ()):
        if host.which(SOURCE_TOOLS[source]) is not None:
            return source
    return None


def uninstall_software(payload: Any, host: Host) -> Outcome:
    """Remove one package with the named package manager, or this device's own."""
    name, source = validate_uninstall(payload)
    source = source or default_package_manager(host)
    if source is None:
        return Outcome("failed", None, "", f"no package manager found on this {host.family or 'unknown'} device")
    problem = _source_problem(source, host)
    if problem:
        return Outcome("failed", None, "", problem)
    return _from_result(host.run(uninstall_command(source, name), PACKAGE_TIMEOUT_S))
