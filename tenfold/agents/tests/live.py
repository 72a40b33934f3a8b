"""A live Tenfold server and real `tenfold-agent` processes, for the end-to-end and fault tests.

Everything runs on this machine against a throw-away deployment (`make_instance`: a SQLite file, or a
PostgreSQL database in the PostgreSQL pass): `tenfold serve` on a free loopback port, agents enrolled
with `tenfold agent-token` and `tenfold-agent enroll`, driven through the REST API with a staff token.
Every wait has a deadline, and the `live` fixture (offered by this package's conftest.py) kills every
process it started, whatever happens.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

HOST = "127.0.0.1"
START_TIMEOUT = 60
# The check-in interval the test agents get from their enrollment token (the agent's floor is 5 s).
AGENT_INTERVAL = 5


def free_port() -> int:
    """A loopback TCP port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float, what: str,
               details: Callable[[], str] = lambda: "", interval: float = 0.5) -> Any:
    """Poll `predicate` until it returns something truthy (returned); fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{details()}")
        time.sleep(interval)


def tail(path: Path, lines: int = 40) -> str:
    """The end of a log file, for a failure message."""
    if not path.exists():
        return f"({path} does not exist)"
    return f"--- {path.name} ---\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _stop_group(process: subprocess.Popen[Any], first: signal.Signals, grace: float) -> None:
    """Signal the process (as a launcher or systemd would), then SIGKILL what remains of its group (it was
    started in its own session)."""
    if process.poll() is None:
        process.send_signal(first)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    # Granian's server workers are children of the server: make sure none outlives it.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait(timeout=10)


@dataclass
class Server:
    """`tenfold serve` of an instance on a fixed loopback port; it can be stopped, killed and restarted."""

    instance: Any
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tenfold", "serve", "--host", HOST, "--port", str(self.port), "--workers", "1"],
                env=self.instance.env, cwd=self.instance.root, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self.answers, START_TIMEOUT, f"tenfold serve on port {self.port}", lambda: tail(self.log_path))

    def answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"tenfold serve exited with {self.process.returncode}\n{tail(self.log_path)}")
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def stop(self) -> None:
        """A clean stop (SIGINT, as Ctrl-C)."""
        if self.process is not None:
            _stop_group(self.process, signal.SIGINT, grace=20)

    def kill9(self) -> None:
        """`kill -9` of the server and its workers: no chance to finish anything."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@dataclass
class AgentProcess:
    """The real agent (`python -m tenfold_agent`) with its own state directory."""

    state_dir: Path
    log_path: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "tenfold_agent", "--state-dir", str(self.state_dir), *args]

    def enroll(self, server_url: str, token: str) -> int:
        """`tenfold-agent enroll --insecure` (plain http to loopback); returns the device id."""
        result = subprocess.run(self.command("enroll", "--server", server_url, "--token", token, "--insecure"),
                                env=self.env, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, f"enroll failed:\n{result.stdout}\n{result.stderr}"
        match = re.search(r"enrolled: device (\d+)", result.stdout)
        assert match, result.stdout
        return int(match.group(1))

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.command("-v", "run"), env=self.env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM, as systemd stops it: the loop ends after the current step."""
        if self.process is not None:
            _stop_group(self.process, signal.SIGTERM, grace=20)

    def status(self) -> dict[str, Any]:
        """`tenfold-agent status --json`."""
        result = subprocess.run(self.command("status", "--json"), env=self.env, capture_output=True, text=True,
                                timeout=30, check=False)
        assert result.returncode == 0, f"status failed:\n{result.stdout}\n{result.stderr}"
        facts: dict[str, Any] = json.loads(result.stdout)
        return facts

    def log(self) -> str:
        return tail(self.log_path)


@dataclass
class Api:
    """The REST API (/api/v1/) with a staff member's personal token."""

    base: str
    token: str

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        query = ("?" + urlencode({k: v for k, v in params.items() if v is not None})) if params else ""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base}/api/v1{path}{query}", data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                     "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path} answered {exc.code}: {exc.read()[:2000]!r}") from exc
        return json.loads(raw) if raw else None

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, **params)

    def post(self, path: str, body: Any) -> Any:
        return self.call("POST", path, body)


@dataclass
class Live:
    """One deployment with a live server, a staff API token, a client and the agents started for it."""

    instance: Any
    root: Path
    server: Server
    api: Api
    client_id: int
    agents: list[AgentProcess] = field(default_factory=list)

    def agent_token(self, *extra: str) -> str:
        """`tenfold agent-token` for the test client, with the short test interval; stdout is the token."""
        result = self.instance.run("agent-token", "--client", str(self.client_id), "--checkin-interval",
                                   str(AGENT_INTERVAL), *extra)
        token = result.stdout.strip()
        assert re.fullmatch(r"tfe_[0-9a-f]{8}_\S+", token), result.stdout
        return token

    def new_agent(self, name: str = "agent") -> AgentProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TENFOLD_")}
        env["PYTHONUNBUFFERED"] = "1"
        agent = AgentProcess(state_dir=self.root / name, log_path=self.root / f"{name}.log", env=env)
        self.agents.append(agent)
        return agent

    def enrolled_agent(self, name: str = "agent") -> tuple[AgentProcess, int]:
        """A real agent enrolled in the test client (not started yet), and its device id."""
        agent = self.new_agent(name)
        return agent, agent.enroll(self.server.url, self.agent_token("--max-uses", "1"))

    def evaluate(self) -> dict[str, Any]:
        """`tenfold manage evaluate_monitoring`: what the worker does every minute, once."""
        output = self.instance.run("manage", "evaluate_monitoring").stdout
        report: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
        return report

    def details(self) -> str:
        return "\n".join([tail(self.server.log_path), *(a.log() for a in self.agents)])


STAFF_AND_CLIENT = """
from tenfold.accounts.testing import make_api_token, make_staff
from tenfold.clients.models import Client
from tenfold.core.roles import Role
staff = make_staff(Role.ADMIN, email="e2e-admin@msp.test")
client = Client.objects.create(name="Fournil Test SARL", status="active")
result = {"token": make_api_token(staff, name="end-to-end"), "client_id": client.pk}
"""


@pytest.fixture
def live(make_instance: Callable[..., Any], tmp_path: Path) -> Iterator[Live]:
    """A migrated instance with `tenfold serve` running, an administrator's API token and an active client."""
    instance = make_instance()
    facts = instance.query(STAFF_AND_CLIENT)
    server = Server(instance, free_port(), tmp_path / "server.log")
    world = Live(instance=instance, root=tmp_path, server=server, api=Api(server.url, facts["token"]),
                 client_id=facts["client_id"])
    try:
        server.start()
        yield world
    finally:
        for agent in world.agents:
            agent.stop()
        server.stop()
