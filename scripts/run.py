"""Start Tenfold's processes together for `make run`: the web server, the worker and a local agent.

Prints the URL and the demo logins once the server answers, then enrolls this machine's own
`tenfold-agent` in a demo client (once: its state lives in `$TENFOLD_DATA_DIR/agent`) and keeps it
running, so the device list shows this machine's real inventory and checks. Stops everything on Ctrl-C
(or SIGTERM), and stops everything when the web server or the worker ends on its own; the agent is
optional: when it cannot enroll or stops, the server keeps running. Runs under the project's
virtual environment.
"""

# ruff: noqa: S603 - this script exists to run the `tenfold` commands

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
HOST = os.environ.get("TENFOLD_HOST", "127.0.0.1")
PORT = int(os.environ.get("TENFOLD_PORT", "8000"))
STOP_GRACE_SECONDS = 15
SERVER_URL = f"http://{HOST}:{PORT}"
# This machine's agent reports to the demo MSP as a device of this client (else the first active one).
DEMO_CLIENT = "Boulangerie Martin SARL"
# Its check-in interval: short, so that a newcomer sees data within a minute (the server's default is 60 s).
LOCAL_AGENT_INTERVAL = int(os.environ.get("TENFOLD_LOCAL_AGENT_INTERVAL", "15"))
ENROLL_TIMEOUT_SECONDS = 90
AGENT_EXIT_CREDENTIAL = 3  # `tenfold-agent run`: the server refused its credential


def data_dir() -> Path:
    """$TENFOLD_DATA_DIR as the children see it (they run in the repository's root)."""
    path = Path(os.environ.get("TENFOLD_DATA_DIR", "var"))
    return path if path.is_absolute() else ROOT / path


def agent_dir() -> Path:
    """The local agent's state directory."""
    return data_dir() / "agent"


def agent(*args: str) -> list[str]:
    """The command line of a `tenfold-agent` subcommand in this environment."""
    return [sys.executable, "-m", "tenfold_agent", *args]


def tenfold(*args: str) -> list[str]:
    """The command line of a `tenfold` subcommand in this environment."""
    return [sys.executable, "-m", "tenfold", *args]


def children_commands() -> dict[str, list[str]]:
    """What `make run` keeps running, by name."""
    return {
        "web": tenfold("serve", "--host", HOST, "--port", str(PORT)),
        "worker": tenfold("worker"),
    }


class Launcher:
    """Starts the children, each in its own process group, and stops them together."""

    def __init__(self) -> None:
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False
        self.agent_log: IO[bytes] | None = None

    def start(self) -> None:
        for name, command in children_commands().items():
            # Own session: a Ctrl-C reaches this launcher only, which then stops each child in order.
            self.children[name] = subprocess.Popen(command, cwd=ROOT, start_new_session=True)

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def wait_for_server(self, timeout: float = 120) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping:
            if self.exited():
                return False
            try:
                with socket.create_connection((HOST, PORT), timeout=1):
                    return True
            except OSError:
                time.sleep(0.3)
        return False

    def exited(self) -> str:
        """The name of a child that has ended, or ''."""
        return next((name for name, child in self.children.items() if child.poll() is not None), "")

    def start_agent(self) -> None:
        """Keep this machine's enrolled agent running as a third child; its output goes to agent.log."""
        log_path = agent_dir() / "agent.log"
        self.agent_log = log_path.open("ab")
        self.children["agent"] = subprocess.Popen(
            agent("run", "--state-dir", str(agent_dir())), cwd=ROOT, start_new_session=True,
            stdin=subprocess.DEVNULL, stdout=self.agent_log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        for name, child in self.children.items():
            if child.poll() is None:
                # The agent finishes its current step on SIGTERM (as under systemd); the others take SIGINT.
                child.send_signal(signal.SIGTERM if name == "agent" else signal.SIGINT)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, child in self.children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop within {STOP_GRACE_SECONDS}s; killing it", flush=True)
                child.kill()
                child.wait()
        if self.agent_log is not None:
            self.agent_log.close()


def print_banner() -> None:
    print(f"\n  Tenfold is running: http://{HOST}:{PORT}\n", flush=True)
    logins = subprocess.run(tenfold("manage", "demo_logins"), cwd=ROOT, capture_output=True, text=True,
                            check=False)
    if logins.returncode == 0 and logins.stdout.strip():
        print(logins.stdout.rstrip() + "\n", flush=True)
    else:
        print("  (no demo logins to show: " + (logins.stderr.strip().splitlines() or ["none"])[-1] + ")\n",
              flush=True)


def enroll_local_agent() -> str:
    """Enroll this machine's agent in the demo client unless it already is; returns what to print."""
    state = agent_dir()
    config_path = state / "config.json"
    force: list[str] = []
    if config_path.exists():
        try:
            config = json.loads(config_path.read_text())
        except (OSError, ValueError):
            config = {}
        if config.get("server_url") == SERVER_URL and config.get("device_id"):
            return f"device {config['device_id']}"
        force = ["--force"]  # enrolled with a server on another address: enroll again with this one
    token = subprocess.run(tenfold("agent-token", "--client", DEMO_CLIENT, "--or-first-active", "--days", "1",
                                   "--max-uses", "1", "--name", "make run: this machine",
                                   "--checkin-interval", str(LOCAL_AGENT_INTERVAL)),
                           cwd=ROOT, capture_output=True, text=True, check=False, timeout=ENROLL_TIMEOUT_SECONDS)
    if token.returncode != 0 or not token.stdout.strip():
        raise RuntimeError("no enrollment token: " + (token.stderr.strip() or f"status {token.returncode}"))
    client = re.search(r" for (.+) \(client \d+\)", token.stderr)
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    enrolled = subprocess.run(agent("enroll", "--server", SERVER_URL, "--token", token.stdout.strip(), "--insecure",
                                    "--state-dir", str(state), *force),
                              cwd=ROOT, capture_output=True, text=True, check=False, timeout=ENROLL_TIMEOUT_SECONDS)
    device = re.search(r"enrolled: device (\d+)", enrolled.stdout)
    if enrolled.returncode != 0 or device is None:
        lines = (enrolled.stderr.strip() or enrolled.stdout.strip() or f"status {enrolled.returncode}").splitlines()
        raise RuntimeError("tenfold-agent enroll failed: " + lines[-1])
    return f"device {device.group(1)}" + (f" of {client.group(1)}" if client else "")


def start_local_agent(launcher: Launcher) -> None:
    """Enroll (once) and start this machine's agent; on failure, say so and leave the server running."""
    try:
        device = enroll_local_agent()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        if launcher.stopping:
            return
        print(f"  The local agent could not be enrolled, so this machine is not shown as a device: {exc}\n"
              "  Tenfold keeps running without it.\n", flush=True)
        return
    launcher.start_agent()
    number = device.split()[1]
    print(f"  This machine ({socket.gethostname()}) is {device}: {SERVER_URL}/devices/{number}/\n"
          f"  Its agent checks in every ~{LOCAL_AGENT_INTERVAL} s (state and agent.log in {agent_dir()}).\n",
          flush=True)


def main() -> int:
    """Run until Ctrl-C or until a child ends; the exit status says which."""
    launcher = Launcher()
    signal.signal(signal.SIGINT, launcher.on_signal)
    signal.signal(signal.SIGTERM, launcher.on_signal)
    launcher.start()
    status = 0
    try:
        if launcher.wait_for_server():
            print_banner()
            if not launcher.stopping:
                start_local_agent(launcher)
            print("  Press Ctrl-C to stop.\n", flush=True)
        while not launcher.stopping:
            ended = launcher.exited()
            if ended == "agent":
                code = launcher.children.pop("agent").returncode
                hint = (f" its credential was refused (a reset database?): remove {agent_dir()} and restart to "
                        "enroll it again;" if code == AGENT_EXIT_CREDENTIAL else "")
                print(f"The local agent stopped (status {code};{hint} see {agent_dir() / 'agent.log'}); "
                      "Tenfold keeps running without it.", flush=True)
            elif ended:
                code = launcher.children[ended].returncode
                print(f"{ended} exited with status {code}; stopping the others", flush=True)
                status = code or 1
                break
            time.sleep(0.5)
    finally:
        print("Stopping Tenfold ...", flush=True)
        launcher.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())
