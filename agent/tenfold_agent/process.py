"""Child processes a job may have to stop: a cancel token, a process-tree kill, a cancellable command runner.

A job's process runs in a session (process group) of its own, so that killing it also kills whatever it
started (a script's `sleep`, apt's dpkg). A `CancelToken` is shared by the job runner and the job: the job
attaches its current process, and `cancel()` (from a `cancel_job` or from the agent stopping) kills it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence

from .util import CommandResult, Runner

OUTPUT_CAP = 64 * 1024  # what the server keeps of each stream
CANCELLED, SHUTDOWN = "cancelled", "shutdown"


def kill_tree(process: subprocess.Popen[bytes]) -> None:
    """Kill a process and its process group (its whole tree on Windows); does not wait for it."""
    if process.poll() is not None:
        return
    if sys.platform == "win32":
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)],  # noqa: S603,S607 - the system tool
                       capture_output=True, check=False)
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


class CancelToken:
    """Whether a job was asked to stop, and why; kills the process the job attached."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self.reason = ""

    @property
    def cancelled(self) -> bool:
        """True once `cancel` was called."""
        return self._event.is_set()

    def cancel(self, reason: str = CANCELLED) -> bool:
        """Ask the job to stop and kill its current process; True when a process was killed."""
        with self._lock:
            if not self._event.is_set():
                self.reason = reason
                self._event.set()
            process = self._process
        if process is None or process.poll() is not None:
            return False
        kill_tree(process)
        return True

    def attach(self, process: subprocess.Popen[bytes]) -> None:
        """The job's current process; killed at once when the job was already cancelled."""
        with self._lock:
            self._process = process
            cancelled = self._event.is_set()
        if cancelled:
            kill_tree(process)

    def detach(self) -> None:
        """The job's process has ended."""
        with self._lock:
            self._process = None


def _text(data: bytes) -> str:
    text = data[:OUTPUT_CAP].decode("utf-8", errors="replace")
    if len(data) > OUTPUT_CAP:
        text += f"\n[output truncated: {len(data)} bytes, the first {OUTPUT_CAP} kept]"
    return text


def run_cancellable(argv: Sequence[str], timeout: float, token: CancelToken) -> CommandResult:
    """Run a command without a shell in its own process group, killable through `token`; never raises for a
    missing binary. `returncode` is None when it could not run, timed out or was cancelled (stderr says which)."""
    if shutil.which(argv[0]) is None and not os.path.isabs(argv[0]):
        return CommandResult(None, "", f"{argv[0]}: not found")
    if token.cancelled:
        return CommandResult(None, "", "cancelled before it started")
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    try:
        process = subprocess.Popen(  # noqa: S603 - argv is built by the agent from validated values, never a shell
            list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            start_new_session=sys.platform != "win32",
            creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) if sys.platform == "win32" else 0)
    except (FileNotFoundError, PermissionError) as exc:
        return CommandResult(None, "", f"{argv[0]}: {exc}")
    token.attach(process)
    timed_out = False
    try:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_tree(process)
            out, err = process.communicate()
    finally:
        token.detach()
    stdout, stderr = _text(out), _text(err)
    if timed_out:
        return CommandResult(None, stdout, stderr + f"\n{argv[0]}: timed out after {timeout:g} s")
    if token.cancelled:
        return CommandResult(None, stdout, stderr + f"\n{argv[0]}: stopped ({token.reason})")
    return CommandResult(process.returncode, stdout, stderr)


def cancellable_runner(token: CancelToken) -> Runner:
    """A command runner whose processes `token` can kill."""
    def run(argv: Sequence[str], timeout: float) -> CommandResult:
        return run_cancellable(argv, timeout, token)
    return run
