"""A restart after updates that the user may postpone. The pending-restart logic, its files, the drop directory
and the `tenfold-agent defer-restart` command are real (a second process drops requests in a temporary run
directory); the clock is one the test moves, and the notice and restart commands go to a runner that records
them: nothing restarts this machine."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeClock, FakeCollector, ProtocolServer, Replay
from tenfold_agent import actions, restart
from tenfold_agent.__main__ import main
from tenfold_agent.actions import Host
from tenfold_agent.process import CancelToken
from tenfold_agent.restart import PendingRestarts, announce, defer_restart, describe, drop_request, read_answer
from tenfold_agent.service import RESTART_POLL_S, Agent, enroll
from tenfold_agent.util import CommandResult

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and time zones")

T0 = datetime(2026, 11, 27, 2, 0, 30, tzinfo=UTC).timestamp()
DUE = datetime(2026, 11, 27, 2, 6, tzinfo=UTC).timestamp()  # 5 minutes on, up to the whole minute
BOOT = 1_790_000_000.0
RESTART_NOW = ["shutdown", "-r", "+0", "Tenfold: this computer restarts now to finish installing updates."]
APT_KERNEL = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--only-upgrade", "-o",
              "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold", "linux-image-amd64=6.1.1"]


class Clock:
    """The time as the test sets it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _paris_time() -> Iterator[None]:
    # Users are told the device's local time: a zone that is not UTC shows it (a POSIX rule, no tz database).
    before = os.environ.get("TZ")
    os.environ["TZ"] = "CET-1"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def _replay() -> Replay:
    return Replay({("wall",): CommandResult(0, "", ""), ("shutdown",): CommandResult(0, "", ""),
                   ("env",): CommandResult(0, "", "")})


def _restarts(tmp_path: Path, replay: Replay, clock: Clock, boot: float = BOOT) -> PendingRestarts:
    return PendingRestarts(tmp_path / "state", tmp_path / "run", family="linux", run=replay, clock=clock,
                           boot_time=lambda: boot)


def _install(deferrals: int, **extra: Any) -> dict[str, Any]:
    return {"updates": [{"source": "apt", "identifier": "linux-image-amd64", "version": "6.1.1"}],
            "reboot": "if_required", "reboot_deferrals": deferrals, "window_ends_at": "2026-11-27T04:00:00Z", **extra}


def _host(replay: Replay, clock: Clock, restarts: PendingRestarts | None) -> Host:
    return Host(family="linux", run=replay, which=lambda name: f"/usr/bin/{name}", clock=clock,
                exists=lambda path: False, token=CancelToken(), restarts=restarts)


def _ask(tmp_path: Path, restarts: PendingRestarts) -> tuple[int, str]:
    request = drop_request(tmp_path / "run")
    restarts.tick()
    answer = read_answer(tmp_path / "run", request)
    assert answer is not None
    return describe(answer)


def test_an_install_with_deferrals_plans_the_restart_and_tells_the_users(tmp_path: Path) -> None:
    # given a kernel update whose policy allows 2 deferrals of 60 minutes
    replay, clock = _replay(), Clock(T0)
    restarts = _restarts(tmp_path, replay, clock)
    # when it installs
    outcome = actions.install_updates(_install(2), _host(replay, clock, restarts), 80)
    # then no shutdown is scheduled: the users are told when, and how to postpone it
    assert replay.calls == [APT_KERNEL, ["wall", "Tenfold: this computer restarts at 03:06 CET to finish installing "
                                                 "updates. To postpone it by 60 minutes, run: tenfold-agent "
                                                 "defer-restart (2 deferrals left)."]]
    assert json.loads(outcome.stdout)["reboot"] == ("restart at 2026-11-27T02:06Z; the user may defer it 2 times by "
                                                    "60 minutes")
    assert (outcome.status, outcome.stderr) == ("succeeded", "")
    assert json.loads((tmp_path / "state" / "pending-restart.json").read_text()) == {
        "due_at": DUE, "deferrals_left": 2, "defer_minutes": 60, "job_id": 80, "boot_time": BOOT, "attempts": 0}
    status = tmp_path / "run" / "restart.json"
    assert json.loads(status.read_text()) == {"due_at": "2026-11-27T02:06:00Z", "deferrals_left": 2,
                                              "defer_minutes": 60}
    assert stat.S_IMODE(status.stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "run" / "defer-requests").stat().st_mode) == 0o1733


def test_two_deferrals_are_honoured_the_third_refused_and_the_restart_comes_at_the_right_time(tmp_path: Path) -> None:
    # given a restart planned at 02:06 UTC with 2 deferrals of 60 minutes
    replay, clock = _replay(), Clock(T0)
    restarts = _restarts(tmp_path, replay, clock)
    restarts.schedule(deferrals=2, defer_minutes=60, job_id=81)
    # when a user asks three times
    clock.now = T0 + 60
    first = _ask(tmp_path, restarts)
    second = _ask(tmp_path, restarts)
    third = _ask(tmp_path, restarts)
    # then two deferrals moved it by 60 minutes each, the third was refused, and each move was announced
    assert [first, second, third] == [(0, "restart deferred until 04:06 CET (1 deferral left)"),
                                      (0, "restart deferred until 05:06 CET (0 deferrals left)"),
                                      (1, "no deferral left: this computer restarts at 05:06 CET")]
    assert replay.calls[1:] == [
        ["wall", "Tenfold: the restart was postponed; this computer now restarts at 04:06 CET to finish installing "
                 "updates. To postpone it by 60 minutes, run: tenfold-agent defer-restart (1 deferral left)."],
        ["wall", "Tenfold: the restart was postponed; this computer now restarts at 05:06 CET to finish installing "
                 "updates. It cannot be postponed any more."]]
    left = os.listdir(tmp_path / "run" / "defer-requests")
    assert len(left) == 3 and all(name.endswith(".answer") for name in left)  # the requests were taken
    # and it restarts at 04:06 UTC, not a second before, once
    calls = len(replay.calls)
    clock.now = DUE + 2 * 3600 - 1
    assert restarts.tick() == ""
    assert len(replay.calls) == calls
    clock.now = DUE + 2 * 3600
    assert restarts.tick() == "restarted"
    assert replay.calls[calls:] == [RESTART_NOW]
    assert restarts.tick() == ""
    assert len(replay.calls) == calls + 1
    assert not (tmp_path / "state" / "pending-restart.json").exists()
    assert not (tmp_path / "run" / "restart.json").exists()


def test_the_pending_restart_survives_an_agent_restart(tmp_path: Path) -> None:
    # given a restart deferred once, then the agent stops
    replay, clock = _replay(), Clock(T0)
    before = _restarts(tmp_path, replay, clock)
    before.schedule(deferrals=2, defer_minutes=30, job_id=82)
    assert _ask(tmp_path, before) == (0, "restart deferred until 03:36 CET (1 deferral left)")
    # when a new agent process reads its state directory
    after = _restarts(tmp_path, replay, clock)
    # then the restart is still pending, with one deferral left, and happens at its time
    pending = after.current()
    assert pending is not None
    assert (pending.due_at, pending.deferrals_left, pending.defer_minutes, pending.job_id) == (DUE + 1800, 1, 30, 82)
    assert _ask(tmp_path, after) == (0, "restart deferred until 04:06 CET (0 deferrals left)")
    clock.now = DUE + 3600
    assert after.tick() == "restarted"
    assert replay.calls[-1] == RESTART_NOW


def test_a_computer_restarted_meanwhile_has_no_restart_pending(tmp_path: Path) -> None:
    replay, clock = _replay(), Clock(T0)
    _restarts(tmp_path, replay, clock).schedule(deferrals=1, defer_minutes=60, job_id=83)
    # the user restarted the computer before the due time: it booted again an hour later
    again = _restarts(tmp_path, replay, clock, boot=BOOT + 3600)
    again.publish()
    clock.now = DUE + 10
    assert again.current() is None
    assert again.tick() == ""
    assert RESTART_NOW not in replay.calls
    assert not (tmp_path / "state" / "pending-restart.json").exists()
    assert not (tmp_path / "run" / "restart.json").exists()


def test_without_deferrals_the_restart_is_scheduled_as_before(tmp_path: Path) -> None:
    replay, clock = _replay(), Clock(T0)
    restarts = _restarts(tmp_path, replay, clock)
    outcome = actions.install_updates(_install(0, reboot_defer_minutes=30), _host(replay, clock, restarts), 84)
    assert replay.calls == [APT_KERNEL, ["shutdown", "-r", "+5", "Tenfold: this computer restarts in 5 minutes to "
                                                                "finish installing updates."]]
    assert json.loads(outcome.stdout)["reboot"] == "restart scheduled for 2026-11-27T02:05:30Z (in 5 minutes)"
    assert restarts.current() is None
    assert not (tmp_path / "state" / "pending-restart.json").exists()
    assert not (tmp_path / "run").exists()


def test_a_restart_already_pending_is_kept_by_the_next_install(tmp_path: Path) -> None:
    replay, clock = _replay(), Clock(T0)
    restarts = _restarts(tmp_path, replay, clock)
    restarts.schedule(deferrals=1, defer_minutes=60, job_id=85)
    assert _ask(tmp_path, restarts)[0] == 0
    clock.now = T0 + 600
    outcome = actions.install_updates(_install(3), _host(replay, clock, restarts), 86)
    assert json.loads(outcome.stdout)["reboot"] == "restart at 2026-11-27T03:06Z; the user may not defer it any more"
    pending = restarts.current()
    assert pending is not None and (pending.job_id, pending.deferrals_left) == (85, 0)


def test_a_failing_restart_is_tried_three_times_five_minutes_apart(tmp_path: Path) -> None:
    replay = Replay({("wall",): CommandResult(0, "", ""), ("shutdown",): CommandResult(1, "", "shutdown: denied\n")})
    clock = Clock(T0)
    restarts = _restarts(tmp_path, replay, clock)
    restarts.schedule(deferrals=1, defer_minutes=60, job_id=87)
    clock.now = DUE
    assert [restarts.tick(), restarts.tick()] == ["failed", ""]
    clock.now = DUE + 300
    assert restarts.tick() == "failed"
    clock.now = DUE + 600
    assert restarts.tick() == "failed"
    assert restarts.current() is None
    assert [c[0] for c in replay.calls] == ["wall", "shutdown", "shutdown", "shutdown"]


def test_a_request_that_is_a_planted_link_is_ignored(tmp_path: Path) -> None:
    # given a link named like a request, pointing at a file the agent must not touch
    replay, clock = _replay(), Clock(T0)
    restarts = _restarts(tmp_path, replay, clock)
    restarts.schedule(deferrals=2, defer_minutes=60, job_id=88)
    target = tmp_path / "precious"
    target.write_text("keep me")
    drop = tmp_path / "run" / "defer-requests"
    (drop / ("a" * 32 + ".request")).symlink_to(target)
    (drop / "notes.txt").write_text("not a request")
    # when the agent looks
    restarts.tick()
    # then nothing was deferred, nothing answered, the link is gone and its target untouched
    pending = restarts.current()
    assert pending is not None and (pending.due_at, pending.deferrals_left) == (DUE, 2)
    assert sorted(os.listdir(drop)) == ["notes.txt"]
    assert target.read_text() == "keep me"


def test_the_drop_directory_must_belong_to_the_agent(tmp_path: Path) -> None:
    replay, clock = _replay(), Clock(T0)
    (tmp_path / "run").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "run" / "defer-requests").symlink_to(tmp_path / "elsewhere")
    restarts = _restarts(tmp_path, replay, clock)
    with pytest.raises(restart.RestartError, match="is not a directory"):
        restarts.schedule(deferrals=1, defer_minutes=60, job_id=89)
    # the install falls back to the plain restart in 5 minutes, and says why
    outcome = actions.install_updates(_install(2), _host(replay, clock, restarts), 90)
    assert replay.calls[-1][:3] == ["shutdown", "-r", "+5"]
    assert json.loads(outcome.stdout)["reboot"] == "restart scheduled for 2026-11-27T02:05:30Z (in 5 minutes)"
    assert outcome.stderr == (f"the restart could not be offered for deferral ({tmp_path}/run/defer-requests is not "
                              "a directory): scheduled without deferral")


# --- the `tenfold-agent defer-restart` command ---------------------------------------------------------------


def test_defer_restart_from_a_second_process(tmp_path: Path) -> None:
    # given a pending restart and the agent looking at its drop directory
    replay, clock = _replay(), Clock(T0)
    restarts = _restarts(tmp_path, replay, clock)
    restarts.schedule(deferrals=1, defer_minutes=45, job_id=91)
    # when a user runs the command in another process
    env = {**os.environ, "TZ": "CET-1"}
    user = subprocess.Popen([sys.executable, "-m", "tenfold_agent", "defer-restart", "--run-dir",
                             str(tmp_path / "run"), "--timeout", "20"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while user.poll() is None and time.monotonic() < deadline:
        restarts.tick()
        time.sleep(0.05)
    out, err = user.communicate(timeout=5)
    # then the agent moved the restart and the user read the new time
    assert (user.returncode, out, err) == (0, "restart deferred until 03:51 CET (0 deferrals left)\n", "")
    pending = restarts.current()
    assert pending is not None and (pending.due_at, pending.deferrals_left) == (DUE + 45 * 60, 0)
    # and a second run is refused by the agent
    again = subprocess.Popen([sys.executable, "-m", "tenfold_agent", "defer-restart", "--run-dir",
                              str(tmp_path / "run"), "--timeout", "20"], env=env, stdout=subprocess.PIPE, text=True)
    while again.poll() is None and time.monotonic() < deadline:
        restarts.tick()
        time.sleep(0.05)
    assert (again.returncode, again.communicate(timeout=5)[0]) == (
        1, "no deferral left: this computer restarts at 03:51 CET\n")


def test_defer_restart_without_a_pending_restart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["defer-restart", "--run-dir", str(tmp_path / "run")]) == 1
    assert capsys.readouterr().out == "no restart pending\n"
    assert not (tmp_path / "run").exists()


def test_defer_restart_when_the_agent_does_not_answer(tmp_path: Path) -> None:
    replay, clock = _replay(), Clock(T0)
    _restarts(tmp_path, replay, clock).schedule(deferrals=1, defer_minutes=60, job_id=92)
    assert defer_restart(tmp_path / "run", timeout=0.3, poll=0.1) == (
        2, "the agent did not answer within 0.3 s (is it running?): nothing was deferred")
    assert os.listdir(tmp_path / "run" / "defer-requests") == []


def test_an_answer_the_command_does_not_know() -> None:
    assert describe({"result": "maybe"}) == (2, "the agent gave an answer this command does not know: 'maybe'")
    assert describe({"result": "none"}) == (1, "no restart pending")


# --- notices on the other systems (built and checked here, not run: this machine is Linux) -----------------------


def test_the_notice_commands_of_windows_and_macos() -> None:
    pending = restart.PendingRestart(DUE, 1, 60, 93, BOOT)
    message = restart.notice_message(pending)
    assert message == ("Tenfold: this computer restarts at 03:06 CET to finish installing updates. To postpone it by "
                       "60 minutes, run: tenfold-agent defer-restart (1 deferral left).")
    windows = Replay({("msg",): CommandResult(0, "", "")})
    assert announce("windows", windows, message) == ""
    assert windows.calls == [["msg", "*", message]]
    mac = Replay({("stat",): CommandResult(0, "alice 501\n", ""), ("launchctl",): CommandResult(0, "", "")})
    assert announce("macos", mac, 'say "hi" \\ bye') == ""
    assert mac.calls == [["stat", "-f", "%Su %u", "/dev/console"],
                         ["launchctl", "asuser", "501", "sudo", "-u", "alice", "osascript", "-e",
                          'display notification "say \\"hi\\" \\\\ bye" with title "Tenfold"']]
    nobody = Replay({("stat",): CommandResult(0, "root 0\n", "")})
    assert announce("macos", nobody, message) == ""
    assert nobody.calls == [["stat", "-f", "%Su %u", "/dev/console"]]
    assert restart.restart_command("windows") == ["shutdown", "/r", "/t", "0", "/c", restart.RESTART_NOW_MESSAGE]
    assert restart.restart_command("macos") == ["shutdown", "-r", "+0", restart.RESTART_NOW_MESSAGE]


def test_a_notice_that_cannot_be_shown_is_said_in_the_job_s_stderr(tmp_path: Path) -> None:
    replay = Replay({("env",): CommandResult(0, "", ""), ("wall",): CommandResult(1, "", "wall: cannot get tty\n")})
    clock = Clock(T0)
    outcome = actions.install_updates(_install(1), _host(replay, clock, _restarts(tmp_path, replay, clock)), 94)
    assert outcome.status == "succeeded"
    assert outcome.stderr == "the restart notice could not be shown: wall: cannot get tty"
    assert json.loads(outcome.stdout)["reboot"] == ("restart at 2026-11-27T02:06Z; the user may defer it once by "
                                                    "60 minutes")


# --- in the agent's loop -------------------------------------------------------------------------------------


def test_the_agent_s_loop_answers_requests_and_restarts_when_due(tmp_path: Path, server: ProtocolServer) -> None:
    # given an enrolled agent with a restart pending at 02:06 UTC, one deferral of 15 minutes, and a request
    state = tmp_path / "state"
    enroll(state, server.url, "tfe_1a2b3c4d_good", insecure=True, collector=FakeCollector())
    replay = Replay({("wall",): CommandResult(0, "", ""), ("shutdown",): CommandResult(0, "", "")})
    clock = FakeClock(start=T0, stop_after=5000)
    agent = Agent(state, collector=FakeCollector(), clock=clock,
                  wait=lambda seconds: clock.wait(seconds) or RESTART_NOW in replay.calls, rand=lambda: 0.5,
                  commands=replay, run_dir=tmp_path / "run")
    agent.restarts.schedule(deferrals=1, defer_minutes=15, job_id=95)
    request = drop_request(tmp_path / "run")
    # when the loop runs (checking in all along) until the restart command is given
    agent.run()
    agent.close()
    # then the request moved the restart by 15 minutes, and the restart came at 02:21 UTC through the runner
    assert read_answer(tmp_path / "run", request) == {"result": "deferred", "due_at": "2026-11-27T02:21:00Z",
                                                      "deferrals_left": 0, "defer_minutes": 15}
    assert [c[0] for c in replay.calls] == ["wall", "wall", "shutdown"]
    # (the loop looked every 2 s while the restart was pending; its last wait is the one it stopped in)
    assert clock.now - clock.waits[-1] == DUE + 15 * 60
    assert max(clock.waits[:-1]) == RESTART_POLL_S
    assert agent.restarts.current() is None
    assert len([i for i in server.applied if i["kind"] == "heartbeat"]) >= 10
