"""Small helpers shared by the agent's modules: running commands, time stamps, atomic files."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("tenfold_agent")


@dataclass(frozen=True)
class CommandResult:
    """What a command printed and how it ended; `returncode` is None when it could not run."""

    returncode: int | None
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """True when the command ran and exited 0."""
        return self.returncode == 0


# A runner takes an argument vector and a timeout; tests inject one that replays recorded outputs.
Runner = Callable[[Sequence[str], float], CommandResult]


def run_command(argv: Sequence[str], timeout: float = 30.0) -> CommandResult:
    """Run a command without a shell and capture its output; never raises for a missing binary."""
    if shutil.which(argv[0]) is None and not os.path.isabs(argv[0]):
        return CommandResult(None, "", f"{argv[0]}: not found")
    # C locale so that parsers see the tools' untranslated output.
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    try:
        proc = subprocess.run(  # noqa: S603 - argv is built by the agent, never by a shell
            list(argv), capture_output=True, timeout=timeout, env=env, check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        return CommandResult(None, "", f"{argv[0]}: not found")
    except PermissionError as exc:
        return CommandResult(None, "", f"{argv[0]}: {exc}")
    except subprocess.TimeoutExpired:
        return CommandResult(None, "", f"{argv[0]}: timed out after {timeout:g} s")
    return CommandResult(
        proc.returncode,
        proc.stdout.decode("utf-8", errors="replace"),
        proc.stderr.decode("utf-8", errors="replace"),
    )


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """A UTC time stamp as the protocol writes it: `2026-11-26T16:01:00Z`."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 time stamp (a trailing Z, nanoseconds) into an aware datetime."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Python keeps microseconds only: cut longer fractions (restic prints nanoseconds).
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def write_json_atomic(path: Path, data: Any, mode: int = 0o600) -> None:
    """Write JSON to `path` so that a crash leaves either the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path, default: Any) -> Any:
    """Read a JSON file, or return `default` when it does not exist."""
    try:
        with path.open(encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return default
