"""Read the TENFOLD_* environment once, with safe defaults."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

TRUE_WORDS = {"1", "true", "yes", "on"}


def env_bool(name: str, default: bool = False) -> bool:
    """A boolean environment variable: 1/true/yes/on are true."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in TRUE_WORDS


def env_int(name: str, default: int) -> int:
    """An integer environment variable; a malformed value stops start-up with its name."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise SystemExit(f"{name} must be an integer, got {value!r}") from exc


@dataclass(frozen=True)
class Environment:
    """The deployment's configuration as read from the environment."""

    data_dir: Path
    database_url: str
    secret_key: str
    redis_url: str
    debug: bool
    allowed_hosts: list[str]
    max_request_bytes: int
    behind_tls: bool


def secret_key_for(data_dir: Path) -> str:
    """The secret key from TENFOLD_SECRET_KEY, else generated once into the data dir."""
    configured = os.environ.get("TENFOLD_SECRET_KEY", "")
    if configured:
        return configured
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # Written with owner-only permissions; exclusive create so two processes never disagree.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def read_environment() -> Environment:
    """Build the Environment from TENFOLD_* variables."""
    data_dir = Path(os.environ.get("TENFOLD_DATA_DIR", "./var")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("TENFOLD_DATABASE_URL", "") or f"sqlite:///{data_dir / 'tenfold.sqlite3'}"
    hosts = os.environ.get("TENFOLD_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
    return Environment(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secret_key_for(data_dir),
        redis_url=os.environ.get("TENFOLD_REDIS_URL", ""),
        debug=env_bool("TENFOLD_DEBUG"),
        allowed_hosts=[h.strip() for h in hosts.split(",") if h.strip()],
        max_request_bytes=env_int("TENFOLD_MAX_REQUEST_BYTES", 1_048_576),
        behind_tls=env_bool("TENFOLD_BEHIND_TLS"),
    )


def insecure_settings(env: Environment) -> list[str]:
    """Names of settings that make a non-debug deployment unsafe, with the reason."""
    problems = []
    if len(env.secret_key) < 40 or len(set(env.secret_key)) < 10:
        problems.append("TENFOLD_SECRET_KEY is too short or too simple (at least 40 varied characters)")
    if env.secret_key.startswith("django-insecure") or env.secret_key == "change-me":
        problems.append("TENFOLD_SECRET_KEY is a well-known placeholder")
    if "*" in env.allowed_hosts:
        problems.append("TENFOLD_ALLOWED_HOSTS must name the hosts, not '*'")
    return problems
