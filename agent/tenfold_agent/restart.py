"""A restart after installing updates that the user on the device may postpone (`reboot_deferrals` > 0).

The agent keeps the pending restart in its state directory (`pending-restart.json`: it survives an agent
restart), tells logged-in users when it will happen and how to postpone it, and restarts at the due time through
the host's command runner (the same `shutdown` command as a `reboot` job, without delay). Any local user may ask
for a deferral with `tenfold-agent defer-restart`: that command drops a request file into a drop directory the
agent created (`<run dir>/defer-requests`, mode 1733 on POSIX: anyone may create a file there, nobody but the
agent may list or remove other users' files), and reads the agent's answer from a file named after its request.
The agent publishes the public part of the pending restart in `<run dir>/restart.json` (readable by everyone)
so that the command can say at once that no restart is pending.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import stat
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from .actions import INSTALL_REBOOT_DELAY_MIN, reboot_command
from .util import Runner, iso, log, parse_iso, read_json, write_json_atomic

PENDING_NAME = "pending-restart.json"
STATUS_NAME = "restart.json"
DROP_NAME = "defer-requests"
DROP_MODE = 0o1733
NOTICE_MINUTES = INSTALL_REBOOT_DELAY_MIN
REQUEST = re.compile(r"^([0-9a-f]{32})\.request$")
MAX_REQUESTS_PER_TICK = 50
MAX_REQUEST_BYTES = 1024
ANSWER_KEEP_S = 600
RETRY_RESTART_S = 300
MAX_RESTART_ATTEMPTS = 3
# A boot time that moved by more than this means the computer restarted since the restart was planned.
BOOT_TOLERANCE_S = 60.0
COMMAND_TIMEOUT_S = 60
DEFER_COMMAND = "tenfold-agent defer-restart"
RESTART_NOW_MESSAGE = "Tenfold: this computer restarts now to finish installing updates."


class RestartError(OSError):
    """The pending restart's files cannot be used safely (a drop directory not owned by the agent…)."""


@dataclass
class PendingRestart:
    """A restart the user may still postpone: when, how many deferrals are left, by how long each."""

    due_at: float
    deferrals_left: int
    defer_minutes: int
    job_id: Any
    boot_time: float
    attempts: int = 0

    def public(self) -> dict[str, Any]:
        """What any local user may read (`restart.json`)."""
        return {"due_at": iso(_utc(self.due_at)), "deferrals_left": self.deferrals_left,
                "defer_minutes": self.defer_minutes}


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def due_time(now: float, minutes: int = NOTICE_MINUTES) -> float:
    """`minutes` from now, rounded up to the whole minute (users are told HH:MM)."""
    return float(math.ceil((now + minutes * 60) / 60) * 60)


def local_time(timestamp: float) -> str:
    """A time as the device's users read it: `10:05 CET` (the device's own time zone)."""
    return time.strftime("%H:%M %Z", time.localtime(timestamp)).strip()


def _left(count: int) -> str:
    return f"{count} deferral{'' if count == 1 else 's'} left"


def notice_message(pending: PendingRestart, *, deferred: bool = False) -> str:
    """What logged-in users are told when the restart is planned, and after each deferral."""
    head = ("Tenfold: the restart was postponed; this computer now restarts at" if deferred
            else "Tenfold: this computer restarts at")
    text = f"{head} {local_time(pending.due_at)} to finish installing updates."
    if pending.deferrals_left > 0:
        return (f"{text} To postpone it by {pending.defer_minutes} minutes, run: {DEFER_COMMAND} "
                f"({_left(pending.deferrals_left)}).")
    return f"{text} It cannot be postponed any more."


def notice_commands(family: str, message: str, console: tuple[str, str] | None = None) -> list[list[str]]:
    """The commands that show `message` to logged-in users: Linux `wall` (every terminal), Windows `msg *`
    (every session), macOS a notification in the console user's session (`console` is that user's name and uid,
    None when nobody is logged in at the console)."""
    if family == "linux":
        return [["wall", message]]
    if family == "windows":
        return [["msg", "*", message]]
    if family == "macos":
        if console is None:
            return []
        user, uid = console
        quoted = message.replace("\\", "\\\\").replace('"', '\\"')
        script = f'display notification "{quoted}" with title "Tenfold"'
        return [["launchctl", "asuser", uid, "sudo", "-u", user, "osascript", "-e", script]]
    return []


def macos_console_user(run: Runner) -> tuple[str, str] | None:
    """The user logged in at the Mac's console (name, uid), from `stat -f "%Su %u" /dev/console`."""
    result = run(["stat", "-f", "%Su %u", "/dev/console"], COMMAND_TIMEOUT_S)
    parts = result.stdout.split() if result.ok else []
    if len(parts) != 2 or not parts[1].isdigit() or parts[1] == "0" or parts[0] in ("root", "loginwindow"):
        return None
    return parts[0], parts[1]


def announce(family: str, run: Runner, message: str) -> str:
    """Tell logged-in users; returns what went wrong ("" when every command succeeded)."""
    console = macos_console_user(run) if family == "macos" else None
    problems = []
    for argv in notice_commands(family, message, console):
        result = run(argv, COMMAND_TIMEOUT_S)
        if not result.ok:
            problems.append(result.stderr.strip().splitlines()[-1] if result.stderr.strip()
                            else f"{argv[0]} exited with {result.returncode}")
    return "; ".join(problems)


def restart_command(family: str) -> list[str]:
    """The restart at the due time: the `reboot` job's command, without delay."""
    return reboot_command(family, 0, RESTART_NOW_MESSAGE)


def _boot_time() -> float:
    return float(psutil.boot_time())


def _open_flags(base: int) -> int:
    return base | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class PendingRestarts:
    """The pending restart of this device: planned by `install_updates`, moved by users' requests, carried out
    by `tick` on the agent's loop. `run` and `clock` are the host's: tests give a runner that records commands
    and a clock they move, so nothing restarts this machine."""

    def __init__(self, state_dir: Path, run_dir: Path, *, family: str, run: Runner, clock: Callable[[], float],
                 boot_time: Callable[[], float] = _boot_time) -> None:
        self.path = state_dir / PENDING_NAME
        self.run_dir = run_dir
        self.drop_dir = run_dir / DROP_NAME
        self.family = family
        self.run = run
        self.clock = clock
        self.boot_time = boot_time
        self.lock = threading.Lock()
        self.pending = self._load()

    # --- the pending restart ---------------------------------------------------------------------------
    def _load(self) -> PendingRestart | None:
        data = read_json(self.path, None)
        if not isinstance(data, dict):
            return None
        try:
            pending = PendingRestart(float(data["due_at"]), int(data["deferrals_left"]), int(data["defer_minutes"]),
                                     data.get("job_id"), float(data["boot_time"]), int(data.get("attempts", 0)))
        except (KeyError, TypeError, ValueError):
            log.error("%s is not a pending restart: ignored", self.path)
            return None
        if abs(self.boot_time() - pending.boot_time) > BOOT_TOLERANCE_S:
            # The computer restarted since: the updates' restart has happened.
            log.info("the computer restarted since the restart of job %s was planned: nothing pending", pending.job_id)
            self.path.unlink(missing_ok=True)
            return None
        return pending

    def _save(self) -> None:
        if self.pending is None:
            self.path.unlink(missing_ok=True)
            (self.run_dir / STATUS_NAME).unlink(missing_ok=True)
            return
        write_json_atomic(self.path, asdict(self.pending))
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.run_dir / STATUS_NAME, self.pending.public(), mode=0o644)
        except OSError as exc:
            log.error("the pending restart could not be published in %s: %s", self.run_dir, exc)

    def publish(self) -> None:
        """At the agent's start: publish the pending restart (or remove a stale `restart.json`) and make sure
        the drop directory exists while a restart is pending."""
        with self.lock:
            try:
                if self.pending is not None:
                    self.ensure_drop_dir()
                self._save()
            except OSError as exc:
                log.error("the pending restart could not be published: %s", exc)

    def current(self) -> PendingRestart | None:
        """The pending restart, if any."""
        with self.lock:
            return None if self.pending is None else PendingRestart(**asdict(self.pending))

    def schedule(self, *, deferrals: int, defer_minutes: int, job_id: Any) -> tuple[PendingRestart, str]:
        """Plan the restart `NOTICE_MINUTES` ahead and tell logged-in users; a restart already pending is kept
        as it is. Returns it, and what went wrong with the notice ("" when it was shown)."""
        with self.lock:
            if self.pending is not None:
                return PendingRestart(**asdict(self.pending)), ""
            self.ensure_drop_dir()
            self.pending = PendingRestart(due_time(self.clock()), deferrals, defer_minutes, job_id, self.boot_time())
            self._save()
            pending = PendingRestart(**asdict(self.pending))
        log.info("restart for job %s planned at %s, %d deferral(s) allowed", job_id, iso(_utc(pending.due_at)),
                 deferrals)
        return pending, announce(self.family, self.run, notice_message(pending))

    # --- the drop directory ------------------------------------------------------------------------------
    def ensure_drop_dir(self) -> None:
        """Create the drop directory (mode 1733) owned by the agent; RestartError when what is there is not."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            # Users read restart.json and enter the drop directory.
            os.chmod(self.run_dir, 0o755)  # noqa: S103  # nosec B103 - a directory users must enter, not writable
            self.drop_dir.mkdir(exist_ok=True)
            info = os.lstat(self.drop_dir)
        except OSError as exc:
            raise RestartError(f"the drop directory {self.drop_dir} cannot be created: {exc}") from exc
        if not stat.S_ISDIR(info.st_mode):
            raise RestartError(f"{self.drop_dir} is not a directory")
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            raise RestartError(f"{self.drop_dir} is not owned by the agent's user")
        if sys.platform != "win32":
            os.chmod(self.drop_dir, DROP_MODE)

    def _requests(self) -> list[tuple[float, str, Path]]:
        found = []
        try:
            entries = list(os.scandir(self.drop_dir))
        except FileNotFoundError:
            return []
        for entry in entries:
            match = REQUEST.match(entry.name)
            if match is None:
                continue
            try:
                found.append((entry.stat(follow_symlinks=False).st_mtime, match.group(1), Path(entry.path)))
            except FileNotFoundError:
                continue
        return sorted(found)[:MAX_REQUESTS_PER_TICK]

    def _read_request(self, path: Path) -> int | None:
        # Only a regular file that its writer created is a request: never follow a link a user planted.
        try:
            fd = os.open(path, _open_flags(os.O_RDONLY))
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_REQUEST_BYTES:
                return None
            return int(getattr(info, "st_uid", -1))
        finally:
            os.close(fd)

    def _answer(self, request_id: str, answer: dict[str, Any]) -> None:
        path = self.drop_dir / f"{request_id}.answer"
        try:
            fd = os.open(path, _open_flags(os.O_WRONLY | os.O_CREAT | os.O_EXCL), 0o644)
        except OSError as exc:
            log.warning("defer request %s: the answer could not be written: %s", request_id, exc)
            return
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), 0o644)
            json.dump(answer, handle)

    def _clean_answers(self) -> None:
        now = time.time()  # files carry the real time, whatever clock the agent runs on
        try:
            entries = list(os.scandir(self.drop_dir))
        except FileNotFoundError:
            return
        for entry in entries:
            if entry.name.endswith(".answer"):
                try:
                    if now - entry.stat(follow_symlinks=False).st_mtime > ANSWER_KEEP_S:
                        os.unlink(entry.path)
                except FileNotFoundError:
                    continue

    def handle_requests(self) -> list[dict[str, Any]]:
        """Answer the deferral requests in the drop directory, oldest first; returns the answers."""
        answers = []
        for _mtime, request_id, path in self._requests():
            uid = self._read_request(path)
            path.unlink(missing_ok=True)
            if uid is None:
                log.warning("defer request %s is not a regular file: ignored", request_id)
                continue
            answer, message = self._decide(uid)
            self._answer(request_id, answer)
            answers.append(answer)
            if message:
                problem = announce(self.family, self.run, message)
                if problem:
                    log.warning("the restart notice could not be shown: %s", problem)
        self._clean_answers()
        return answers

    def _decide(self, uid: int) -> tuple[dict[str, Any], str]:
        with self.lock:
            pending = self.pending
            if pending is None:
                return {"result": "none"}, ""
            if pending.deferrals_left <= 0:
                log.info("restart deferral asked by uid %s refused: no deferral left", uid)
                return {"result": "exhausted", **pending.public()}, ""
            pending.due_at += pending.defer_minutes * 60
            pending.deferrals_left -= 1
            self._save()
            log.info("restart deferred by uid %s to %s (%d deferral(s) left)", uid, iso(_utc(pending.due_at)),
                     pending.deferrals_left)
            return {"result": "deferred", **pending.public()}, notice_message(pending, deferred=True)

    # --- the agent's loop ----------------------------------------------------------------------------
    def tick(self) -> str:
        """Answer deferral requests, then restart when due. Returns what happened: "" (nothing), "restarted",
        "failed"."""
        if self.pending is None and not self.drop_dir.exists():
            return ""
        self.handle_requests()
        with self.lock:
            pending = self.pending
            if pending is None or self.clock() < pending.due_at:
                return ""
            result = self.run(restart_command(self.family), COMMAND_TIMEOUT_S)
            if result.ok:
                log.info("restarting now for job %s", pending.job_id)
                self.pending = None
                self._save()
                return "restarted"
            pending.attempts += 1
            log.error("the restart for job %s failed (attempt %d): %s", pending.job_id, pending.attempts,
                      result.stderr.strip()[:300] or f"exit code {result.returncode}")
            if pending.attempts >= MAX_RESTART_ATTEMPTS:
                self.pending = None
            else:
                pending.due_at = self.clock() + RETRY_RESTART_S
            self._save()
            return "failed"


# --- the `tenfold-agent defer-restart` command ---------------------------------------------------------------


def drop_request(run_dir: Path) -> str:
    """Drop a deferral request into the agent's drop directory; returns its id."""
    request_id = secrets.token_hex(16)
    path = run_dir / DROP_NAME / f"{request_id}.request"
    fd = os.open(path, _open_flags(os.O_WRONLY | os.O_CREAT | os.O_EXCL), 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"request": "defer-restart"}, handle)
    return request_id


def read_answer(run_dir: Path, request_id: str) -> dict[str, Any] | None:
    """The agent's answer to a request, or None while it has not answered."""
    try:
        data = json.loads((run_dir / DROP_NAME / f"{request_id}.answer").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def describe(answer: dict[str, Any]) -> tuple[int, str]:
    """The exit code and the sentence `defer-restart` prints for an answer of the agent."""
    result = answer.get("result")
    if result == "none":
        return 1, "no restart pending"
    try:
        when = local_time(parse_iso(str(answer.get("due_at"))).timestamp())
    except ValueError:
        when = "an unknown time"
    if result == "deferred":
        return 0, f"restart deferred until {when} ({_left(int(answer.get('deferrals_left') or 0))})"
    if result == "exhausted":
        return 1, f"no deferral left: this computer restarts at {when}"
    return 2, f"the agent gave an answer this command does not know: {result!r}"


def defer_restart(run_dir: Path, *, timeout: float = 30.0, poll: float = 0.2,
                  sleep: Callable[[float], None] = time.sleep) -> tuple[int, str]:
    """Ask the running agent to postpone the pending restart; returns the exit code and what to print
    (0 deferred, 1 refused or nothing pending, 2 the agent could not be reached)."""
    status = read_json(run_dir / STATUS_NAME, None)
    if not isinstance(status, dict):
        return 1, "no restart pending"
    try:
        request_id = drop_request(run_dir)
    except OSError as exc:
        return 2, f"the request could not be left for the agent in {run_dir / DROP_NAME}: {exc.strerror or exc}"
    waited = 0.0
    while waited < timeout:
        answer = read_answer(run_dir, request_id)
        if answer is not None:
            return describe(answer)
        sleep(poll)
        waited += poll
    (run_dir / DROP_NAME / f"{request_id}.request").unlink(missing_ok=True)
    return 2, f"the agent did not answer within {timeout:g} s (is it running?): nothing was deferred"
