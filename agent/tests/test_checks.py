"""Checks on this machine; network checks only against 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
from conftest import FakeCollector, Replay, recorded
from tenfold_agent.checks import UNSIGNED_SCRIPT_MESSAGE, CheckRunner, above, below, parse_ping, ping_argv
from tenfold_agent.collectors.base import ServiceState
from tenfold_agent.collectors.linux import LinuxCollector
from tenfold_agent.collectors.windows import WindowsCollector
from tenfold_agent.util import CommandResult


@pytest.fixture
def runner(tmp_path: Path) -> CheckRunner:
    return CheckRunner(LinuxCollector(), tmp_path, cpu_sample_s=0.05)


def _check(kind: str, **params: object) -> dict:
    return {"id": 7, "type": kind, "interval": 60, "params": params}


def test_threshold_helpers() -> None:
    assert [above(v, 80, 95) for v in (10, 80, 94.9, 95, 100)] == ["pass", "warn", "warn", "fail", "fail"]
    assert [below(v, 20, 10) for v in (50, 20, 10.1, 10, 0)] == ["pass", "warn", "warn", "fail", "fail"]


def test_cpu_and_memory(runner: CheckRunner) -> None:
    cpu = runner.run(_check("cpu", warn_pct=0, fail_pct=0, samples=2))
    assert cpu["status"] == "fail" and cpu["check_id"] == 7 and 0 <= cpu["value"] <= 100
    assert "2 sample(s)" in cpu["message"]
    memory = psutil.virtual_memory().percent
    ok = runner.run(_check("memory", warn_pct=100, fail_pct=100))
    assert ok["status"] == "pass" and abs(ok["value"] - memory) < 10
    assert runner.run(_check("memory", warn_pct=0, fail_pct=100))["status"] == "warn"
    assert runner.run(_check("memory", warn_pct=0, fail_pct=0))["status"] == "fail"


def test_disk_free_per_mount(runner: CheckRunner) -> None:
    usage = psutil.disk_usage("/")
    ok = runner.run(_check("disk_free", mount="/", warn_pct=0, fail_pct=0))
    assert ok["status"] == "pass" and abs(ok["value"] - 100 * usage.free / usage.total) < 1
    assert "% free on /" in ok["message"]
    assert runner.run(_check("disk_free", mount="/", warn_pct=100, fail_pct=0))["status"] == "warn"
    assert runner.run(_check("disk_free", mount="/", warn_pct=100, fail_pct=100))["status"] == "fail"
    missing = runner.run(_check("disk_free", mount="/no/such/mount", warn_pct=10, fail_pct=5))
    assert missing["status"] == "error" and "no such mount point" in missing["message"]


def test_bad_parameters_and_unknown_types_are_errors(runner: CheckRunner) -> None:
    assert runner.run(_check("disk_free"))["message"] == "parameter `mount` is required"
    assert runner.run(_check("memory", warn_pct="high"))["message"] == "parameter `warn_pct` must be a number"
    assert runner.run(_check("cpu", fail_pct=101))["status"] == "error"
    assert runner.run(_check("teleport"))["message"] == "unknown check type 'teleport'"
    assert runner.run({"id": 1, "type": "__init__"})["status"] == "error"
    assert runner.run(_check("ping", host="-f"))["message"] == "not a host name or address: '-f'"


def test_script_is_refused(runner: CheckRunner) -> None:
    assert runner.run(_check("script", script_id=3)) == {"check_id": 7, "status": "error", "value": None,
                                                        "message": UNSIGNED_SCRIPT_MESSAGE}


def test_service_states_through_the_collector(tmp_path: Path) -> None:
    class Services(FakeCollector):
        def service_state(self, name: str) -> ServiceState:
            return {"ssh": ServiceState("running", "active"), "cups": ServiceState("stopped", "inactive"),
                    "nope": ServiceState("not_found", "no such unit")}.get(name, ServiceState("unknown", "no bus"))

    checks = CheckRunner(Services(), tmp_path)
    assert [checks.run(_check("service", name=n))["status"] for n in ("ssh", "cups", "nope", "x")] == [
        "pass", "fail", "fail", "error"]


def test_real_systemctl_never_passes_for_a_unit_that_does_not_exist(runner: CheckRunner) -> None:
    if not shutil.which("systemctl"):
        pytest.skip("no systemctl")
    out = runner.run(_check("service", name="tenfold-no-such-unit-7f3a"))
    assert out["status"] in ("fail", "error") and "tenfold-no-such-unit-7f3a" in out["message"]


def test_windows_service_check_uses_sc(tmp_path: Path) -> None:
    replay = Replay({("sc", "query", "Spooler"): recorded("windows/sc_query_running.txt"),
                     ("sc", "query", "Nope"): CommandResult(1060, recorded("windows/sc_query_missing.txt"), "")})
    checks = CheckRunner(WindowsCollector(replay), tmp_path, platform="win32")
    assert checks.run(_check("service", name="Spooler"))["status"] == "pass"
    assert checks.run(_check("service", name="Nope"))["message"] == "service Nope does not exist"


def test_process(runner: CheckRunner) -> None:
    me = psutil.Process().name()
    found = runner.run(_check("process", name=me))
    assert found["status"] == "pass" and found["value"] >= 1
    assert runner.run(_check("process", name="tenfold-no-such-process"))["status"] == "fail"


# --- network checks, loopback only --------------------------------------------------------------------
def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_tcp_port_open_and_closed(runner: CheckRunner) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        ok = runner.run(_check("tcp_port", host="127.0.0.1", port=port, timeout_s=2))
        assert ok["status"] == "pass" and ok["value"] is not None and ok["value"] >= 0
    finally:
        listener.close()
    closed = runner.run(_check("tcp_port", host="127.0.0.1", port=_closed_port(), timeout_s=2))
    assert closed["status"] == "fail" and "refused" in closed["message"]


@pytest.fixture
def http_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            if self.path == "/slow":
                time.sleep(0.3)
            status = {"/broken": 500, "/moved": 302}.get(self.path, 200)
            self.send_response(status)
            if status == 302:
                self.send_header("Location", "/")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_http_status_latency_and_failures(runner: CheckRunner, http_server: str) -> None:
    ok = runner.run(_check("http", url=http_server + "/", expect_status=200, timeout_s=5))
    assert ok["status"] == "pass" and ok["value"] is not None and "answered 200" in ok["message"]
    broken = runner.run(_check("http", url=http_server + "/broken", expect_status=200, timeout_s=5))
    assert broken["status"] == "fail" and "answered 500, expected 200" in broken["message"]
    slow = runner.run(_check("http", url=http_server + "/slow", expect_status=200, timeout_s=5, max_latency_ms=100))
    assert slow["status"] == "warn" and slow["value"] >= 300
    # A redirect is followed unless the check expects one.
    assert runner.run(_check("http", url=http_server + "/moved", expect_status=200))["status"] == "pass"
    assert runner.run(_check("http", url=http_server + "/moved", expect_status=302))["status"] == "pass"
    closed = runner.run(_check("http", url=f"http://127.0.0.1:{_closed_port()}/", timeout_s=2))
    assert closed["status"] == "fail"
    assert runner.run(_check("http", url="file:///etc/passwd"))["status"] == "error"


def test_ping_loopback(runner: CheckRunner) -> None:
    if not shutil.which("ping"):
        pytest.skip("no ping binary (Debian: iputils-ping)")
    out = runner.run(_check("ping", host="127.0.0.1", count=2, timeout_s=1))
    if out["status"] == "error" and "permitted" in out["message"].lower():
        pytest.skip(f"ping is not allowed in this sandbox: {out['message']}")
    assert out["status"] == "pass", out
    assert out["value"] is not None and out["value"] < 100
    assert "2/2 answered, 0 % loss" in out["message"]


def test_ping_parsers_and_loss(tmp_path: Path) -> None:
    assert parse_ping(recorded("windows/ping.txt")) == (4, 3, 1.0)
    assert parse_ping(recorded("macos/ping.txt")) == (3, 3, 3.474)
    assert parse_ping(recorded("linux/ping_loss.txt")) == (3, 0, None)
    replay = Replay({("ping",): CommandResult(1, recorded("linux/ping_loss.txt"), "")})
    lost = CheckRunner(FakeCollector(), tmp_path, runner=replay).run(_check("ping", host="127.0.0.1", count=3))
    assert lost == {"check_id": 7, "status": "fail", "value": None, "message": "127.0.0.1: 0/3 answered, 100 % loss"}
    partial = Replay({("ping",): CommandResult(0, recorded("windows/ping.txt"), "")})
    warn = CheckRunner(FakeCollector(), tmp_path, runner=partial, platform="win32").run(_check("ping", host="10.0.0.1"))
    assert warn["status"] == "warn" and partial.calls[0][:3] == ["ping", "-n", "3"]
    assert ping_argv("linux", "127.0.0.1", 2, 1) == ["ping", "-n", "-c", "2", "-W", "1", "127.0.0.1"]


def test_log_pattern_file_tail_with_persisted_offset(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("old ERROR before the agent watched\n")
    check = _check("log_pattern", source=str(log), pattern=r"ERROR|CRITICAL", window_s=300)
    first = CheckRunner(FakeCollector(), tmp_path).run(check)
    assert first["status"] == "pass" and first["value"] == 0  # history is not an alert
    with log.open("a") as fh:
        fh.write("ok line\nCRITICAL disk full\nhalf a li")
    # A new runner (an agent restart) continues from the persisted offset.
    second = CheckRunner(FakeCollector(), tmp_path).run(check)
    assert second["status"] == "fail" and second["value"] == 1 and "CRITICAL disk full" in second["message"]
    with log.open("a") as fh:
        fh.write("ne with ERROR\n")
    third = CheckRunner(FakeCollector(), tmp_path).run(check)
    assert third["value"] == 1 and "half a line with ERROR" in third["message"]
    assert CheckRunner(FakeCollector(), tmp_path).run(check)["status"] == "pass"
    log.unlink()
    log.write_text("ERROR after rotation\n")  # a new file: read from its start
    assert CheckRunner(FakeCollector(), tmp_path).run(check)["value"] == 1
    bad = CheckRunner(FakeCollector(), tmp_path).run(_check("log_pattern", source=str(log), pattern="("))
    assert bad["status"] == "error" and "regular expression" in bad["message"]


def test_log_pattern_journal_and_event_log(tmp_path: Path) -> None:
    journal = Replay({("journalctl",): recorded("linux/journalctl.txt")})
    out = CheckRunner(LinuxCollector(journal), tmp_path).run(
        _check("log_pattern", source="journal", pattern=r"EXT4-fs error", window_s=600))
    assert out["status"] == "fail" and out["value"] == 1
    assert journal.calls[0][1].startswith("--since=@")
    events = Replay({("wevtutil",): recorded("windows/wevtutil_system.txt")})
    win = CheckRunner(WindowsCollector(events), tmp_path, platform="win32").run(
        _check("log_pattern", source="System", pattern=r"Level: Error", window_s=300))
    assert win["status"] == "fail" and win["value"] == 1 and "bad block" in win["message"]


def test_real_journal_runs_or_errors_cleanly(runner: CheckRunner) -> None:
    if not shutil.which("journalctl"):
        pytest.skip("no journalctl")
    never = "tenfold-pattern-that-never-appears-9c1"
    out = runner.run(_check("log_pattern", source="journal", pattern=never, window_s=60))
    assert out["status"] in ("pass", "error")
    assert out["status"] != "fail"


def test_run_many_keeps_order(runner: CheckRunner) -> None:
    results = runner.run_many([{"id": i, "type": "memory", "params": {"warn_pct": 100, "fail_pct": 100}}
                               for i in range(6)])
    assert [r["check_id"] for r in results] == list(range(6))
