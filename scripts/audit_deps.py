"""The dependency audit gate: pip-audit over the installed packages (the project's own editable packages left
out), ignoring the advisories of security/audit-allowlist.toml.

Exit status: 0 passed (every dependency audited, none with an advisory that is not allowed); 1 failed (a
known-vulnerable dependency, or a wrong allowlist: an entry without an id, a reason or an expiry date, or one
that has expired); 3 skipped: no vulnerability data could be reached (the vulnerability service did not answer,
or answered for no dependency: pip-audit itself then says nothing is vulnerable, which proves nothing). The last
line says which, with the reason.

    python scripts/audit_deps.py [--allowlist FILE] [--summary-file FILE]
"""

# ruff: noqa: S603 - this script exists to run pip-audit

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = ROOT / "security" / "audit-allowlist.toml"
PASSED, FAILED, SKIPPED = 0, 1, 3
ENTRY_KEYS = {"id", "package", "reason", "expires"}


@dataclass(frozen=True)
class Allowed:
    """One advisory the audit ignores until `expires`, and why."""

    id: str
    package: str
    reason: str
    expires: date


class AllowlistError(Exception):
    """The allowlist is not acceptable; `problems` says every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def read_allowlist(text: str, today: date) -> list[Allowed]:
    """The entries of an allowlist (TOML text), or AllowlistError naming every wrong entry: no id, no reason, no
    expiry date (a TOML date), an unknown key, an id listed twice, or an expiry date before `today`."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AllowlistError([f"not valid TOML: {exc}"]) from None
    problems = [f"unknown top-level key {key!r} (entries are [[ignore]] tables)" for key in document if key != "ignore"]
    entries = document.get("ignore", [])
    if not isinstance(entries, list):
        raise AllowlistError([*problems, "ignore must be a list of [[ignore]] tables"])
    allowed: list[Allowed] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            problems.append(f"entry {number}: not a table")
            continue
        ident, reason, expires = entry.get("id"), entry.get("reason"), entry.get("expires")
        named = isinstance(ident, str) and bool(ident.strip())
        where = f"entry {number} ({ident})" if named else f"entry {number}"
        wrong = [] if named else [f"{where}: no advisory id"]
        wrong += [f"{where}: unknown key {key!r}" for key in sorted(set(entry) - ENTRY_KEYS)]
        if not isinstance(reason, str) or not reason.strip():
            wrong.append(f"{where}: no reason given")
        if not isinstance(expires, date) or hasattr(expires, "hour"):  # a TOML date, not a date-time
            wrong.append(f"{where}: no expiry date (expires = YYYY-MM-DD)")
        elif expires < today:
            wrong.append(f"{where}: expired on {expires.isoformat()}: look at it again, then upgrade or renew it")
        if named and ident in seen:
            wrong.append(f"{where}: listed twice")
        seen.add(str(ident))
        problems += wrong
        if not wrong and isinstance(expires, date):
            allowed.append(Allowed(str(ident), str(entry.get("package", "")), str(reason), expires))
    if problems:
        raise AllowlistError(problems)
    return allowed


def no_data_reason(report: dict[str, Any]) -> str:
    """Why a pip-audit JSON report carries no vulnerability data, or "" when it audited at least one dependency."""
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    if not dependencies:
        return "pip-audit found no dependency to audit"
    if not audited:
        return (f"the vulnerability service answered for none of the {len(dependencies)} dependencies "
                f"(e.g. {dependencies[0]['skip_reason']})")
    return ""


def findings(report: dict[str, Any]) -> list[str]:
    """Every advisory the report names, one line each."""
    return [f"{d['name']} {d.get('version', '?')}: {v['id']} "
            f"(fixed in {', '.join(v.get('fix_versions', [])) or 'no release'})"
            for d in report.get("dependencies", []) for v in d.get("vulns", [])]


SERVICES = ("pypi", "osv")  # pip-audit's vulnerability services, tried in this order


def audit(allowlist: Path, today: date) -> tuple[int, str]:
    """Run the gate: (exit status, one-line summary). A service that gives no data hands over to the next."""
    try:
        allowed = read_allowlist(allowlist.read_text(encoding="utf-8"), today)
    except (OSError, AllowlistError) as exc:
        return FAILED, f"failed: the allowlist {allowlist.name} is not acceptable: {exc}"
    reasons = []
    for service in SERVICES:
        status, summary = _audit_with(service, allowed)
        if status != SKIPPED:
            return status, summary
        reasons.append(f"{service}: {summary}")
    return SKIPPED, f"skipped: no vulnerability data reachable ({'; '.join(reasons)})"


def _audit_with(service: str, allowed: list[Allowed]) -> tuple[int, str]:
    command = [sys.executable, "-m", "pip_audit", "--vulnerability-service", service, "--skip-editable",
               "--format", "json", "--progress-spinner", "off", "--timeout", "20",
               *(arg for entry in allowed for arg in ("--ignore-vuln", entry.id))]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return SKIPPED, "pip-audit did not finish in 5 minutes"
    try:
        report = json.loads(done.stdout)
    except ValueError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        if "No module named pip_audit" in done.stderr:
            return FAILED, "failed: pip-audit is not installed (pip install -e '.[dev]')"
        if any(word in done.stderr for word in ("ConnectionError", "ServiceError", "Max retries", "timed out")):
            return SKIPPED, last[:300]
        return FAILED, f"failed: pip-audit exited {done.returncode} without a report ({last[:300]})"
    reason = no_data_reason(report)
    if reason:
        return SKIPPED, reason
    found = findings(report)
    if found:
        return FAILED, f"failed: {len(found)} known vulnerabilities ({service}): " + "; ".join(found)
    audited = sum(1 for d in report["dependencies"] if "skip_reason" not in d)
    return PASSED, (f"passed: {audited} dependencies audited against {service}, {len(allowed)} advisories allowed "
                    "until their expiry")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--allowlist", type=Path, default=ALLOWLIST)
    parser.add_argument("--summary-file", type=Path, help="also write the one-line summary there")
    args = parser.parse_args()
    status, summary = audit(args.allowlist, date.today())
    print(summary, flush=True)
    if args.summary_file:
        args.summary_file.write_text(summary, encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
