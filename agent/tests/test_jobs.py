"""The job runner: jobs run beside the check-in loop, one at a time; a cancel reaches a running script's
process; stopping the agent kills it; a job interrupted by a crash is reported, never run again. Real
processes (`sleep`) under real signed scripts; built-in actions through a replaying runner."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeClock, FakeCollector, ProtocolServer, Replay
from tenfold_agent.jobs import STOPPED_BY_SHUTDOWN
from tenfold_agent.service import INTERRUPTED, JOB_KINDS, Agent, enroll
from tenfold_agent.spool import Spool
from tenfold_agent.util import CommandResult
from test_scripts import Key, payload

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="shell scripts and process groups")


def _agent(tmp_path: Path, server: ProtocolServer, key: Key, **kwargs: Any) -> Agent:
    server.signing_keys = [key.entry()]
    state = tmp_path / "state"
    enroll(state, server.url, "tfe_1a2b3c4d_good", insecure=True, collector=FakeCollector())
    clock = FakeClock(stop_after=1)
    return Agent(state, collector=FakeCollector(), clock=clock, wait=clock.wait, rand=lambda: 0.5, **kwargs)


def _results(server: ProtocolServer) -> list[tuple[int, str]]:
    return [(i["data"]["job_id"], i["data"]["status"]) for i in server.applied if i["kind"] == "job_result"]


def _final(server: ProtocolServer, job_id: int) -> dict[str, Any]:
    return [i["data"] for i in server.applied if i["kind"] == "job_result" and i["data"]["job_id"] == job_id][-1]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def _wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_check_ins_go_on_while_a_long_script_runs(tmp_path: Path, server: ProtocolServer) -> None:
    # given an agent and a signed script that runs for 3 seconds
    key = Key()
    agent = _agent(tmp_path, server, key)
    agent.collect()
    server.next_answer = {"jobs": [{"id": 20, "kind": "run_script",
                                    "payload": payload(key, "#!/bin/sh\nsleep 3\necho done\n")}]}
    # when it checks in, then collects and checks in again twice while the script runs
    started = time.monotonic()
    assert agent.sync().ok
    _wait_for(lambda: agent.spool.job_seen("20"))  # the script has started
    for _ in range(2):
        agent.collect()
        assert agent.sync().ok
    during = time.monotonic() - started
    running_meanwhile = agent.jobs.busy()
    assert agent.jobs.wait_idle(30)
    agent.spool.put_heartbeat({"uptime_s": 1})
    assert agent.sync().ok
    # then the loop was not held by the script, and the server saw "running" before the result
    assert during < 2.5 and running_meanwhile
    assert _results(server) == [(20, "running"), (20, "succeeded")]
    assert _final(server, 20)["stdout"] == "done\n" and _final(server, 20)["duration_ms"] >= 3000
    kinds = [i["kind"] for i in server.applied]
    first, last = kinds.index("job_result"), len(kinds) - 1 - kinds[::-1].index("job_result")
    assert kinds[first + 1:last].count("heartbeat") == 2  # both rounds delivered while the script ran
    assert server.refusals == []
    agent.close()


def test_a_cancel_kills_the_running_script_s_processes(tmp_path: Path, server: ProtocolServer) -> None:
    # given a running script whose child process writes its pid
    key = Key()
    agent = _agent(tmp_path, server, key)
    pid_file = tmp_path / "child.pid"
    body = f'#!/bin/sh\nsleep 60 &\necho $! > "{pid_file}"\nwait\necho never\n'
    server.next_answer = {"jobs": [{"id": 30, "kind": "run_script", "payload": payload(key, body, timeout=120)}]}
    agent.collect()
    assert agent.sync().ok
    _wait_for(lambda: pid_file.exists() and pid_file.read_text().strip() != "")
    child = int(pid_file.read_text())
    assert _alive(child)
    # when the server sends a cancel for it
    server.next_answer = {"jobs": [{"id": 31, "kind": "cancel_job", "payload": {"job_id": 30}}]}
    agent.spool.put_heartbeat({"uptime_s": 1})
    started = time.monotonic()
    assert agent.sync().ok
    assert agent.jobs.wait_idle(10)
    agent.spool.put_heartbeat({"uptime_s": 2})
    assert agent.sync().ok
    # then the script's processes are gone at once, the script reports cancelled, the cancel succeeded
    assert time.monotonic() - started < 10
    _wait_for(lambda: not _alive(child), 5)
    assert _results(server) == [(30, "running"), (31, "succeeded"), (30, "cancelled")] or _results(server) == [
        (30, "running"), (30, "cancelled"), (31, "succeeded")]
    assert _final(server, 31)["stdout"] == "job 30 was running: its process was stopped"
    assert "never" not in _final(server, 30)["stdout"]
    assert _final(server, 30)["stderr"].endswith("[stopped: cancelled]")
    assert server.refusals == []  # the server's protocol takes "cancelled"
    agent.close()


def test_a_cancel_drops_a_waiting_job_and_refuses_an_unknown_one(tmp_path: Path, server: ProtocolServer) -> None:
    # given a script running and an inventory job waiting behind it
    key = Key()
    agent = _agent(tmp_path, server, key)
    server.next_answer = {"jobs": [
        {"id": 40, "kind": "run_script", "payload": payload(key, "#!/bin/sh\nsleep 1\n")},
        {"id": 41, "kind": "collect_inventory_now", "payload": {}},
        {"id": 42, "kind": "cancel_job", "payload": {"job_id": 41}},
        {"id": 43, "kind": "cancel_job", "payload": {"job_id": 99}},
        {"id": 44, "kind": "cancel_job", "payload": {"job_id": "41"}},
    ]}
    agent.collect()
    inventories = agent.collector.inventory_calls  # type: ignore[attr-defined]
    # when
    assert agent.sync().ok
    assert agent.jobs.wait_idle(30)
    # the same jobs delivered again are not run again
    server.next_answer = {"jobs": [{"id": 41, "kind": "collect_inventory_now", "payload": {}}]}
    agent.spool.put_heartbeat({"uptime_s": 1})
    assert agent.sync().ok
    assert agent.jobs.wait_idle(30)
    agent.spool.put_heartbeat({"uptime_s": 2})
    assert agent.sync().ok
    # then
    assert _final(server, 41) == {"job_id": 41, "status": "cancelled", "exit_code": None, "stdout": "",
                                  "stderr": "cancelled by job 42 before it started", "duration_ms": 0}
    assert (_final(server, 42)["status"], _final(server, 42)["stdout"]) == (
        "succeeded", "job 41 was waiting: removed, it will not run")
    assert (_final(server, 43)["status"], _final(server, 43)["stderr"]) == (
        "failed", "job 99 is not running on this device")
    assert (_final(server, 44)["status"], _final(server, 44)["stderr"]) == (
        "failed", "refused, nothing was run: job_id must be the id of a job (a whole number from 1)")
    assert _final(server, 40)["status"] == "succeeded"
    assert agent.collector.inventory_calls == inventories  # type: ignore[attr-defined]
    assert sum(1 for job_id, _status in _results(server) if job_id == 41) == 1
    agent.close()


def test_stopping_the_agent_kills_a_running_script_and_reports_it(tmp_path: Path, server: ProtocolServer) -> None:
    # given a script that would run a minute
    key = Key()
    agent = _agent(tmp_path, server, key)
    pid_file = tmp_path / "child.pid"
    body = f'#!/bin/sh\nsleep 60 &\necho $! > "{pid_file}"\nwait\n'
    server.next_answer = {"jobs": [{"id": 50, "kind": "run_script", "payload": payload(key, body, timeout=120)}]}
    agent.collect()
    assert agent.sync().ok
    _wait_for(lambda: pid_file.exists() and pid_file.read_text().strip() != "")
    child = int(pid_file.read_text())
    # when the agent stops, giving the job half a second
    started = time.monotonic()
    agent.close(job_wait_s=0.5)
    # then the wait was bounded, the process is gone, and the result waits in the spool
    assert time.monotonic() - started < 5
    _wait_for(lambda: not _alive(child), 5)
    assert _results(server) == [(50, "running")]
    spool = Spool(agent.state_dir / "spool.sqlite3")
    results = [i.data for i in spool.pending(100, 1 << 20) if i.kind == "job_result"]
    assert [(r["job_id"], r["status"]) for r in results] == [(50, "failed")]
    assert results[-1]["stderr"].endswith(STOPPED_BY_SHUTDOWN)
    assert spool.jobs_with_status("running") == []
    spool.close()


def test_a_job_interrupted_by_a_crash_is_reported_failed_and_never_run_again(tmp_path: Path,
                                                                             server: ProtocolServer) -> None:
    # given an agent that crashed while job 60 ran (recorded as running, no result)
    key = Key()
    first = _agent(tmp_path, server, key)
    first.spool.job_record("60", "run_script", "running")
    first.spool.close()
    # when the agent starts again and the server sends job 60 again
    clock = FakeClock(stop_after=1)
    again = Agent(first.state_dir, collector=FakeCollector(), clock=clock, wait=clock.wait, rand=lambda: 0.5)
    server.next_answer = {"jobs": [{"id": 60, "kind": "run_script", "payload": payload(key, "#!/bin/sh\necho x\n")}]}
    assert again.sync().ok
    # then it was reported failed once, and not run
    assert not again.jobs.busy()
    assert [i["data"] for i in server.applied if i["kind"] == "job_result"] == [
        {"job_id": 60, "status": "failed", "exit_code": None, "stdout": "", "stderr": INTERRUPTED, "duration_ms": 0}]
    assert again.spool.jobs_with_status("running") == []
    again.close()


def test_built_in_actions_run_through_the_agent_s_command_runner(tmp_path: Path, server: ProtocolServer) -> None:
    # given an agent whose commands are recorded, not run
    replay = Replay({("systemctl",): CommandResult(0, "", ""), ("env",): CommandResult(0, "Removing vlc\n", "")})
    agent = _agent(tmp_path, server, Key(), commands=replay, which=lambda name: f"/usr/bin/{name}")
    agent.collect()
    inventories = agent.collector.inventory_calls  # type: ignore[attr-defined]
    server.next_answer = {"jobs": [
        {"id": 70, "kind": "restart_service", "payload": {"service": "cups"}},
        {"id": 71, "kind": "restart_service", "payload": {"service": "cups; reboot"}},
        {"id": 72, "kind": "uninstall_software", "payload": {"name": "vlc"}},
        {"id": 73, "kind": "reboot", "payload": {"delay_minutes": 100000}},
    ]}
    # when
    assert agent.sync().ok
    assert agent.jobs.wait_idle(30)
    agent.spool.put_heartbeat({"uptime_s": 1})
    assert agent.sync().ok
    # then the exact commands ran, in order, and the refused payloads ran nothing
    assert replay.calls == [["systemctl", "restart", "cups"],
                            ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "remove", "-y", "vlc"]]
    assert _final(server, 70)["status"] == "succeeded"
    assert _final(server, 71)["stderr"] == ("refused, nothing was run: service must be a service name of 1 to 128 "
                                            "letters, digits and @ . _ : - (not starting with -)")
    assert _final(server, 72)["stdout"].startswith("Removing vlc\ninventory collected (seq ")
    assert agent.collector.inventory_calls == inventories + 1  # type: ignore[attr-defined]
    assert _final(server, 73)["stderr"] == ("refused, nothing was run: delay_minutes must be a whole number between 0 "
                                            "and 1440")
    assert server.refusals == []
    agent.close()


def test_install_updates_lists_the_updates_again_afterwards(tmp_path: Path, server: ProtocolServer) -> None:
    # given a real Linux collector and a runner replaying apt
    from tenfold_agent.collectors.linux import LinuxCollector
    from tenfold_agent.collectors.updates import UpdatesSchedule

    replay = Replay({("env",): CommandResult(0, "", ""), ("apt", "list"): CommandResult(0, "Listing...\n", "")})
    agent = _agent(tmp_path, server, Key(), commands=replay, which=lambda name: f"/usr/bin/{name}")
    agent.collector = LinuxCollector(replay)
    agent.updates = UpdatesSchedule(which=lambda name: name if name == "apt" else None)
    server.next_answer = {"jobs": [{"id": 80, "kind": "install_updates", "payload": {
        "updates": [{"source": "apt", "identifier": "openssl", "version": "3.0.11-1~deb12u2"}],
        "reboot": "if_required", "reboot_deferrals": 0, "window_ends_at": "2999-01-01T00:00:00Z"}}]}
    agent.spool.put_heartbeat({"uptime_s": 1})
    # when
    assert agent.sync().ok
    assert agent.jobs.wait_idle(30)
    agent.spool.put_heartbeat({"uptime_s": 2})
    assert agent.sync().ok
    # then: installed, listed again, and the snapshot went out with the result
    assert replay.calls[0] == ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--only-upgrade",
                               "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
                               "openssl=3.0.11-1~deb12u2"]
    assert ["apt", "list", "--upgradable"] in replay.calls
    assert _results(server) == [(80, "running"), (80, "succeeded")]
    assert json.loads(_final(server, 80)["stdout"]) == {
        "results": [{"identifier": "openssl", "status": "installed", "message": ""}], "reboot": "not needed"}
    snapshots = [i["data"] for i in server.applied if i["kind"] == "updates"]
    assert [(s["sources"], s["updates"]) for s in snapshots] == [(["apt"], [])]
    assert server.refusals == []
    agent.close()


def test_agent_update_is_dispatched_to_selfupdate(tmp_path: Path, server: ProtocolServer) -> None:
    # an unsigned release is refused by selfupdate's checks: nothing fetched, no restart
    fetched: list[str] = []
    agent = _agent(tmp_path, server, Key())
    agent.release_fetch = lambda path: fetched.append(path) or b""  # type: ignore[func-returns-value]
    server.next_answer = {"jobs": [{"id": 90, "kind": "agent_update", "payload": {"url": "/agent/v1/releases/1"}}]}
    agent.collect()
    assert agent.sync().ok
    assert agent.jobs.wait_idle(30)
    agent.spool.put_heartbeat({"uptime_s": 1})
    assert agent.sync().ok
    assert "agent_update" in JOB_KINDS
    assert _final(server, 90)["status"] == "failed"
    assert _final(server, 90)["stderr"].startswith("refused, nothing was installed: ")
    assert fetched == [] and agent.restart_requested is False
    agent.close()


def test_the_built_in_actions_real_runner_is_killable() -> None:
    from tenfold_agent.process import CancelToken, cancellable_runner

    token = CancelToken()
    run = cancellable_runner(token)
    # a command that ends by itself, one that times out, one cancelled from another thread
    finished = run(["sh", "-c", "echo out; echo err >&2; exit 3"], 10)
    timed_out = run(["sleep", "30"], 0.3)
    timer = threading.Timer(0.3, token.cancel)
    timer.start()
    started = time.monotonic()
    cancelled = run(["sleep", "30"], 60)
    took = time.monotonic() - started
    timer.join()
    after = run(["echo", "late"], 10)
    assert (finished.returncode, finished.stdout, finished.stderr) == (3, "out\n", "err\n")
    assert (timed_out.returncode, timed_out.stderr) == (None, "\nsleep: timed out after 0.3 s")
    assert (cancelled.returncode, cancelled.stderr) == (None, "\nsleep: stopped (cancelled)")
    assert took < 5
    assert (after.returncode, after.stderr) == (None, "cancelled before it started")
