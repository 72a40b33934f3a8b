"""The restic backup reader: a recorded output, and a real repository in a temp dir when restic exists."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Replay, recorded
from tenfold_agent.collectors.linux import LinuxCollector
from tenfold_agent.collectors.restic import parse_snapshots, restic_last_backup
from tenfold_agent.util import CommandResult, parse_iso


def test_recorded_snapshots_newest_wins() -> None:
    assert parse_snapshots(recorded("restic/snapshots_latest.json")) == {
        "last_success": "2026-11-25T21:00:41Z", "snapshot_id": "b7e3a1c9", "count": 2}
    assert parse_snapshots(recorded("restic/snapshots_empty.json")) == {
        "last_success": None, "snapshot_id": None, "count": 0}


def test_reader_passes_repository_and_password_file() -> None:
    replay = Replay({("restic", "snapshots"): recorded("restic/snapshots_latest.json")})
    result = restic_last_backup({"repository": "sftp:nas:/srv/restic", "password_file": "/etc/restic/pw"}, replay)
    assert result == {"tool": "restic", "last_success": "2026-11-25T21:00:41Z", "snapshot_id": "b7e3a1c9",
                      "count": 2}
    assert replay.calls == [["restic", "snapshots", "--json", "--latest", "1", "--no-lock", "--no-cache", "--repo",
                             "sftp:nas:/srv/restic", "--password-file", "/etc/restic/pw"]]


def test_reader_reports_errors() -> None:
    assert restic_last_backup({}, Replay({}))["error"].startswith("restic needs")
    failing = Replay({("restic",): CommandResult(1, "", "Fatal: wrong password or no key found\n")})
    result = restic_last_backup({"repository": "/r", "password_file": "/p"}, failing)
    assert result == {"tool": "restic", "last_success": None, "error": "Fatal: wrong password or no key found"}


def test_posture_uses_the_policy_tools() -> None:
    replay = Replay({("restic", "snapshots"): recorded("restic/snapshots_latest.json")})
    collector = LinuxCollector(replay)
    backup = collector.last_backup(["restic", "time_machine"], {"restic": {"repository": "/r", "password_file": "/p"}})
    assert backup is not None and backup["last_success"] == "2026-11-25T21:00:41Z"
    assert collector.last_backup([], {}) is None


def _restic() -> str | None:
    """restic, installed with apt when it is missing and this test runs as root (skip otherwise)."""
    if shutil.which("restic") is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "restic"], capture_output=True, timeout=180, check=False)
    return shutil.which("restic")


def test_real_restic_repository(tmp_path: Path) -> None:
    restic = _restic()
    if restic is None:
        pytest.skip("restic is not installed and could not be installed with apt")
    password = tmp_path / "password"
    password.write_text("correct horse\n")
    repo = tmp_path / "repo"
    data = tmp_path / "data"
    data.mkdir()
    (data / "ledger.csv").write_text("2026-11-26;42.00\n")
    env = {**os.environ, "RESTIC_CACHE_DIR": str(tmp_path / "cache")}
    base = [restic, "--repo", str(repo), "--password-file", str(password), "-q"]
    settings = {"repository": str(repo), "password_file": str(password), "binary": restic}
    subprocess.run([*base, "init"], check=True, env=env, capture_output=True, timeout=60)
    assert restic_last_backup(settings) == {"tool": "restic", "last_success": None, "snapshot_id": None,
                                            "count": 0}
    before = datetime.now(UTC) - timedelta(seconds=2)
    subprocess.run([*base, "backup", str(data)], check=True, env=env, capture_output=True, timeout=60)
    result = restic_last_backup(settings)
    assert "error" not in result and result["count"] == 1
    assert before <= parse_iso(result["last_success"]) <= datetime.now(UTC) + timedelta(seconds=2)
    wrong = tmp_path / "wrong"
    wrong.write_text("nope\n")
    failed = restic_last_backup({**settings, "password_file": str(wrong)})
    assert failed["last_success"] is None and "password" in failed["error"]
