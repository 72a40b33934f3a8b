"""Shared test helpers: recorded outputs, a replaying command runner, a loopback protocol server."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from tenfold_agent.collectors.base import PsutilCollector, ServiceState
from tenfold_agent.util import CommandResult

settings.register_profile("dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

RECORDED = Path(__file__).parent / "recorded"


def recorded(name: str) -> str:
    """The text of a recorded command output (`windows/sc_query_running.txt`)."""
    return (RECORDED / name).read_text(encoding="utf-8")


class Replay:
    """A command runner that answers from recorded outputs by the command's leading words."""

    def __init__(self, answers: dict[tuple[str, ...], CommandResult | str]) -> None:
        self.answers = answers
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], timeout: float) -> CommandResult:
        self.calls.append(list(argv))
        best: tuple[str, ...] | None = None
        for prefix in self.answers:
            if tuple(argv[: len(prefix)]) == prefix and (best is None or len(prefix) > len(best)):
                best = prefix
        if best is None:
            return CommandResult(None, "", f"{argv[0]}: not found")
        answer = self.answers[best]
        return CommandResult(0, answer, "") if isinstance(answer, str) else answer


class FakeCollector(PsutilCollector):
    """Fixed, fast answers, for tests of the loop rather than of collection."""

    family = "linux"

    def __init__(self) -> None:
        super().__init__()
        self.inventory_calls = 0
        self.software_list = [{"name": "pkg", "version": "1", "publisher": None, "install_date": None}]

    def os_info(self) -> dict[str, str]:
        return {"family": "linux", "name": "Test Linux", "version": "1"}

    def machine_id(self) -> str:
        return "machine-0001"

    def hardware(self) -> dict[str, Any]:
        return {"hostname": "test", "vendor": "V", "model": "M", "serial": "S", "uptime_s": 1000 + self.inventory_calls}

    def software(self) -> list[dict[str, Any]]:
        self.inventory_calls += 1
        return list(self.software_list)

    def metrics(self) -> dict[str, Any]:
        return {"cpu_pct": 1.0, "mem_pct": 2.0, "disks": [{"mount": "/", "free_pct": 50.0, "free_bytes": 10}]}

    def antivirus(self) -> dict[str, Any]:
        return {"product": "none", "state": "none", "definitions_updated": None, "definitions_age_days": None}

    def firewall(self) -> dict[str, Any]:
        return {"product": None, "state": "unknown"}

    def pending_updates(self) -> int | None:
        return 0

    def backup_reader(self, tool: str, settings: Any) -> dict[str, Any] | None:
        return None

    def service_state(self, name: str) -> ServiceState:
        return ServiceState("running", "active")

    def log_lines(self, source: str, window_s: int) -> list[str]:
        return []


try:
    # The server's own validation of agent bodies, when the server package is installed beside.
    from tenfold.agents import protocol as server_protocol
except ImportError:
    server_protocol = None


def strict_errors(path: str, raw: bytes) -> dict[str, list[str]] | None:
    """The server's validation errors for a body, or None when valid (or the server is not installed)."""
    if server_protocol is None:
        return None
    try:
        if path.endswith("/enroll"):
            server_protocol.parse_enroll(raw)
        else:
            server_protocol.parse_checkin(raw)
    except server_protocol.ProtocolError as exc:
        return exc.errors or {"__all__": [exc.message]}
    return None


class ProtocolServer:
    """A loopback server that speaks the agent protocol (enroll, check-in with a high-water mark).

    `script` holds answers to give before the protocol behaviour: (status, headers, body) tuples.
    """

    def __init__(self, port: int = 0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[tuple[int, dict[str, str], dict[str, Any]]] = []
        self.applied: list[dict[str, Any]] = []
        self.hwm = 0
        self.refusals: list[dict[str, list[str]]] = []
        self.interval, self.jitter = 60, 10
        self.credentials = {"tfa_0a1b2c3d_secret"}
        self.next_answer: dict[str, Any] = {}
        self.signing_keys: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                status, headers, body = outer.handle(self.path, dict(self.headers), raw)
                data = json.dumps(body).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
        body = json.loads(raw) if raw else {}
        self.requests.append({"path": path, "headers": headers, "body": body, "size": len(raw)})
        if self.script:
            return self.script.pop(0)
        refused = strict_errors(path, raw)
        if refused is not None:
            self.refusals.append(refused)
            return 422, {}, {"code": "validation_error", "message": "invalid", "errors": refused}
        if path == "/agent/v1/enroll":
            if body.get("token") != "tfe_1a2b3c4d_good":
                return 401, {}, {"code": "enrollment_token_invalid", "message": "invalid token"}
            return 201, {}, {"device_id": 42, "credential": "tfa_0a1b2c3d_secret", "checkin_interval": 60,
                             "checkin_jitter": 10, "server_time": "2026-11-26T16:00:00Z",
                             "signing_keys": self.signing_keys}
        auth = headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.credentials:
            return 401, {}, {"code": "credential_invalid", "message": "unknown credential"}
        for item in body["items"]:
            if item["seq"] > self.hwm:
                self.applied.append(item)
                self.hwm = item["seq"]
        answer = {"ack_seq": self.hwm, "server_time": "2026-11-26T16:01:00Z", "checkin_interval": self.interval,
                  "checkin_jitter": self.jitter, "policy": None, "jobs": []}
        answer.update(self.next_answer)
        self.next_answer = {}
        return 200, {}, answer

    def start(self) -> ProtocolServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def _agent_run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An agent built by a test meets users in a run directory of its own, never the machine's /run.
    monkeypatch.setenv("TENFOLD_AGENT_RUN_DIR", str(tmp_path / "agent-run"))


@pytest.fixture
def server() -> Iterator[ProtocolServer]:
    srv = ProtocolServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def fake_collector() -> FakeCollector:
    return FakeCollector()


class FakeClock:
    """A clock that only moves when the agent waits; `stop_after` waits end the loop."""

    def __init__(self, start: float = 1_000_000.0, stop_after: int = 1) -> None:
        self.now = start
        self.waits: list[float] = []
        self.stop_after = stop_after

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += seconds
        return len(self.waits) >= self.stop_after


WaitFn = Callable[[float], bool]
