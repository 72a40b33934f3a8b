"""Create `.venv` and install Tenfold and its agent into it, again only when a pyproject.toml changed.

Standard library only: it runs before the virtual environment exists. Used by `make`,
`scripts/test.py` and `.ci/run`.
"""

# ruff: noqa: S603 - this script exists to run fixed commands (venv, pip)

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / ".tenfold-installed"
EXTRAS = "dev"


def venv_python() -> Path:
    """The virtual environment's interpreter."""
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def wanted_stamp() -> str:
    """What the stamp says once the current pyproject.toml is installed."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()
                            + (ROOT / "agent" / "pyproject.toml").read_bytes()).hexdigest()
    return f"{digest} [{EXTRAS}] python {sys.version_info.major}.{sys.version_info.minor}\n"


def ensure_venv(*, quiet: bool = False) -> Path:
    """Create the environment if missing and (re)install when pyproject.toml changed; its python."""
    if sys.version_info < (3, 11):  # noqa: UP036 - runs under the machine's python3, whatever its version
        raise SystemExit(f"Tenfold needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    python = venv_python()
    if not python.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        created = subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=False)
        if created.returncode != 0 or not python.exists():
            raise SystemExit("Could not create .venv. On Debian or Ubuntu: sudo apt-get install python3-venv")
    wanted = wanted_stamp()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return python
    print(f"Installing Tenfold and its dependencies into .venv (pip install -e '.[{EXTRAS}]')", flush=True)
    # The server and the agent (its own package, installed beside it so `make run` can start one).
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-e", f".[{EXTRAS}]",
               "-e", f"./agent[{EXTRAS}]"]
    if quiet:
        command.insert(4, "--quiet")
    installed = subprocess.run(command, cwd=ROOT, check=False)
    if installed.returncode != 0:
        raise SystemExit("pip install failed (see above); the next run tries again.")
    STAMP.write_text(wanted)
    return python


def in_venv() -> bool:
    """Whether this interpreter is the project's virtual environment."""
    return Path(sys.prefix).resolve() == VENV.resolve()


def reexec_in_venv() -> None:
    """Make sure the environment is ready, then continue this script under its interpreter."""
    python = ensure_venv(quiet=True)
    if not in_venv():
        os.execv(str(python), [str(python), *sys.argv])  # noqa: S606 - replaces this process with the same script


if __name__ == "__main__":
    ensure_venv()
