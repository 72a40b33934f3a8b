"""The configuration file and the server URL rules."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from tenfold_agent.config import (
    RUN_DIR_ENV,
    STATE_DIR_ENV,
    AgentConfig,
    ConfigError,
    check_server_url,
    default_run_dir,
    default_state_dir,
)


def test_https_is_required_and_insecure_only_for_loopback_http() -> None:
    assert check_server_url("https://rmm.example.net/", insecure=False) == "https://rmm.example.net"
    assert check_server_url("http://127.0.0.1:8000", insecure=True) == "http://127.0.0.1:8000"
    assert check_server_url("http://localhost:8000", insecure=True) == "http://localhost:8000"
    assert check_server_url("http://[::1]:8000", insecure=True) == "http://[::1]:8000"
    with pytest.raises(ConfigError, match="plain http"):
        check_server_url("http://127.0.0.1:8000", insecure=False)
    with pytest.raises(ConfigError, match="plain http"):
        check_server_url("http://rmm.example.net", insecure=True)
    with pytest.raises(ConfigError, match="TLS is always verified"):
        check_server_url("https://rmm.example.net", insecure=True)
    with pytest.raises(ConfigError):
        check_server_url("ftp://rmm.example.net", insecure=False)


def test_config_round_trip_is_private(tmp_path: Path) -> None:
    config = AgentConfig(server_url="https://rmm.example.net", credential="tfa_0a1b2c3d_s3cret", device_id=42,
                         signing_keys=[{"key_id": "k1", "public_key": "AAAA"}], collectors={"restic": {"x": 1}})
    config.save(tmp_path / "state")
    assert stat.S_IMODE((tmp_path / "state" / "config.json").stat().st_mode) == 0o600
    loaded = AgentConfig.load(tmp_path / "state")
    assert loaded == config
    assert loaded.verify_tls is True
    assert loaded.credential_prefix == "tfa_0a1b2c3d_…"


def test_missing_config_says_to_enroll(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="enroll"):
        AgentConfig.load(tmp_path)


def test_state_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path))
    assert default_state_dir() == tmp_path
    monkeypatch.delenv(STATE_DIR_ENV)
    assert default_state_dir() == Path("/var/lib/tenfold-agent")


@pytest.mark.parametrize(("platform", "state", "run"), [
    ("linux", "/var/lib/tenfold-agent", "/run/tenfold-agent"),
    ("darwin", "/Library/Application Support/Tenfold Agent", "/var/run/tenfold-agent"),
    ("win32", "D:/Data/Tenfold/Agent", "D:/Data/Tenfold/AgentRun"),
])
def test_each_platform_has_its_state_and_run_directories(monkeypatch: pytest.MonkeyPatch, platform: str, state: str,
                                                         run: str) -> None:
    monkeypatch.delenv(STATE_DIR_ENV, raising=False)
    monkeypatch.delenv(RUN_DIR_ENV, raising=False)
    monkeypatch.setenv("PROGRAMDATA", "D:/Data")
    monkeypatch.setattr("sys.platform", platform)
    assert (default_state_dir(), default_run_dir()) == (Path(state), Path(run))
    monkeypatch.setenv(RUN_DIR_ENV, "/tmp/elsewhere")
    assert default_run_dir() == Path("/tmp/elsewhere")
