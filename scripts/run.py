"""Start Tenfold's processes together for `make run`: the web server and the worker.

Prints the URL and the demo logins once the server answers, stops everything on Ctrl-C (or SIGTERM),
and stops everything when one process ends on its own. Runs under the project's virtual environment.
"""

# ruff: noqa: S603 - this script exists to run the `tenfold` commands

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
HOST = os.environ.get("TENFOLD_HOST", "127.0.0.1")
PORT = int(os.environ.get("TENFOLD_PORT", "8000"))
STOP_GRACE_SECONDS = 15


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

    def stop(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, child in self.children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop within {STOP_GRACE_SECONDS}s; killing it", flush=True)
                child.kill()
                child.wait()


def print_banner() -> None:
    print(f"\n  Tenfold is running: http://{HOST}:{PORT}\n", flush=True)
    logins = subprocess.run(tenfold("manage", "demo_logins"), cwd=ROOT, capture_output=True, text=True,
                            check=False)
    if logins.returncode == 0 and logins.stdout.strip():
        print(logins.stdout.rstrip() + "\n", flush=True)
    else:
        print("  (no demo logins to show: " + (logins.stderr.strip().splitlines() or ["none"])[-1] + ")\n",
              flush=True)
    print("  Press Ctrl-C to stop.\n", flush=True)


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
        while not launcher.stopping:
            ended = launcher.exited()
            if ended:
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
