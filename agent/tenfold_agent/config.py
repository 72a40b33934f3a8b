"""Where the agent keeps its state, and its configuration file (`config.json` in the state directory)."""

from __future__ import annotations

import ipaddress
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .util import read_json, write_json_atomic

STATE_DIR_ENV = "TENFOLD_AGENT_STATE_DIR"
RUN_DIR_ENV = "TENFOLD_AGENT_RUN_DIR"
CONFIG_NAME = "config.json"
DEFAULT_INTERVAL = 60
DEFAULT_JITTER = 10


class ConfigError(Exception):
    """The configuration is missing or cannot be used."""


def default_state_dir() -> Path:
    """The state directory: $TENFOLD_AGENT_STATE_DIR, else the platform's place for a service's data."""
    return _platform_dir(STATE_DIR_ENV, windows="Agent", darwin="/Library/Application Support/Tenfold Agent",
                         linux="/var/lib/tenfold-agent")


def default_run_dir() -> Path:
    """Where the agent meets local users (the pending restart, the deferral drop directory):
    $TENFOLD_AGENT_RUN_DIR, else a directory that a restart empties (POSIX) or beside the state (Windows)."""
    return _platform_dir(RUN_DIR_ENV, windows="AgentRun", darwin="/var/run/tenfold-agent", linux="/run/tenfold-agent")


def _platform_dir(env_name: str, *, windows: str, darwin: str, linux: str) -> Path:
    """$`env_name` when set, else this platform's directory (on Windows, `windows` under ProgramData\\Tenfold)."""
    env = os.environ.get(env_name)
    if env:
        return Path(env)
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "Tenfold" / windows
    return Path(darwin if sys.platform == "darwin" else linux)


def is_loopback_http(url: str) -> bool:
    """True for an http:// URL whose host is a loopback address or `localhost`."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def check_server_url(url: str, insecure: bool) -> str:
    """Validate the server URL: https always; http only for a loopback development server with --insecure."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"server URL must be https://host[:port]: {url!r}")
    if parts.scheme == "http" and not (insecure and is_loopback_http(url)):
        raise ConfigError(
            "plain http:// is refused: use https://, or --insecure with a loopback development server"
        )
    if insecure and parts.scheme == "https":
        raise ConfigError("--insecure is only for an http:// loopback development server; TLS is always verified")
    return url.rstrip("/")


@dataclass
class AgentConfig:
    """The agent's configuration file: what enrollment gave it, and how to reach the server."""

    server_url: str
    credential: str
    device_id: int
    signing_keys: list[dict[str, str]] = field(default_factory=list)
    verify_tls: bool = True
    ca_file: str | None = None
    checkin_interval: int = DEFAULT_INTERVAL
    checkin_jitter: int = DEFAULT_JITTER
    # Local settings of collectors that the policy cannot hold, e.g. a restic password file path.
    collectors: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, state_dir: Path) -> AgentConfig:
        """Read the configuration file of `state_dir`; ConfigError when the agent is not enrolled."""
        data = read_json(state_dir / CONFIG_NAME, None)
        if data is None:
            raise ConfigError(f"not enrolled: {state_dir / CONFIG_NAME} does not exist (run `tenfold-agent enroll`)")
        try:
            return cls(
                server_url=str(data["server_url"]),
                credential=str(data["credential"]),
                device_id=int(data["device_id"]),
                signing_keys=list(data.get("signing_keys", [])),
                verify_tls=bool(data.get("verify_tls", True)),
                ca_file=data.get("ca_file"),
                checkin_interval=int(data.get("checkin_interval", DEFAULT_INTERVAL)),
                checkin_jitter=int(data.get("checkin_jitter", DEFAULT_JITTER)),
                collectors=dict(data.get("collectors", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{state_dir / CONFIG_NAME} is not a valid configuration: {exc}") from exc

    def save(self, state_dir: Path) -> None:
        """Write the configuration atomically, readable by the service's user only (it holds the credential)."""
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_json_atomic(state_dir / CONFIG_NAME, asdict(self), mode=0o600)

    @property
    def credential_prefix(self) -> str:
        """The public part of the credential (`tfa_<prefix>`), safe to print."""
        parts = self.credential.split("_")
        return "_".join(parts[:2]) + "_…" if len(parts) >= 3 else "tfa_…"
