"""Last successful backup from restic: `restic snapshots --json --latest 1` on the configured repository."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..util import CommandResult, Runner, iso, parse_iso, run_command


def parse_snapshots(output: str) -> dict[str, Any]:
    """The newest snapshot of `restic snapshots --json` output: `{"last_success", "snapshot_id", "count"}`."""
    snapshots = json.loads(output or "[]")
    if not isinstance(snapshots, list):
        raise ValueError("restic snapshots --json did not print a list")
    # --latest 1 keeps the newest per host and path set, so several may come back: take the newest.
    newest = None
    for snap in snapshots:
        when = parse_iso(str(snap["time"]))
        if newest is None or when > newest[0]:
            newest = (when, snap)
    if newest is None:
        return {"last_success": None, "snapshot_id": None, "count": 0}
    return {"last_success": iso(newest[0]), "snapshot_id": newest[1].get("short_id") or newest[1].get("id"),
            "count": len(snapshots)}


def restic_last_backup(settings: Mapping[str, Any], runner: Runner = run_command) -> dict[str, Any]:
    """Ask restic for the repository's newest snapshot; settings: repository, password_file, binary, host."""
    repository = settings.get("repository")
    password_file = settings.get("password_file")
    result: dict[str, Any] = {"tool": "restic", "last_success": None}
    if not repository or not password_file:
        result["error"] = "restic needs `repository` and `password_file` in the collector settings"
        return result
    argv = [str(settings.get("binary", "restic")), "snapshots", "--json", "--latest", "1", "--no-lock", "--no-cache",
            "--repo", str(repository), "--password-file", str(password_file)]
    if settings.get("host"):
        argv += ["--host", str(settings["host"])]
    # --no-lock: a read must never wait behind, or block, a running backup. --no-cache: the service's
    # home is read-only (systemd ProtectHome) and listing snapshots needs no cache.
    out: CommandResult = runner(argv, float(settings.get("timeout_s", 120)))
    if not out.ok:
        result["error"] = (out.stderr.strip() or f"restic exited with {out.returncode}").splitlines()[-1][:300]
        return result
    try:
        result.update(parse_snapshots(out.stdout))
    except (ValueError, KeyError, TypeError) as exc:
        result["error"] = f"unreadable restic output: {exc}"
    return result

