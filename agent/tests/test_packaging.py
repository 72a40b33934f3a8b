"""Service definitions agree with the agent's exit codes; the Windows wrapper imports anywhere."""

from __future__ import annotations

import configparser
import plistlib
from pathlib import Path

from tenfold_agent import windows_service
from tenfold_agent.__main__ import build_parser
from tenfold_agent.service import EXIT_CREDENTIAL

PACKAGING = Path(__file__).parent.parent / "packaging"


def test_systemd_unit() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(PACKAGING / "tenfold-agent.service")
    service = unit["Service"]
    assert service["ExecStart"] == "/usr/local/bin/tenfold-agent run"
    assert service["RestartPreventExitStatus"] == str(EXIT_CREDENTIAL)
    assert service["Environment"] == "TENFOLD_AGENT_STATE_DIR=/var/lib/tenfold-agent"
    assert "/var/lib/tenfold-agent" in service["ReadWritePaths"]
    # Installing updates and agent releases writes the system: a read-only /usr would make every install fail.
    assert "ProtectSystem" not in service
    assert service["Restart"] == "on-failure"  # exit 75 after an agent update restarts into the new version


def test_launchd_plist() -> None:
    with (PACKAGING / "com.tenfold.agent.plist").open("rb") as fh:
        plist = plistlib.load(fh)
    assert plist["Label"] == "com.tenfold.agent"
    assert plist["ProgramArguments"] == ["/usr/local/bin/tenfold-agent", "run"]
    assert plist["KeepAlive"] == {"SuccessfulExit": False}


def test_windows_service_wrapper_is_import_guarded() -> None:
    assert windows_service.win32serviceutil is None
    assert windows_service.main() == 2


def test_cli_commands() -> None:
    parser = build_parser()
    args = parser.parse_args(["enroll", "--server", "https://x", "--token", "tfe_1_2", "--insecure"])
    assert (args.command, args.insecure, args.force) == ("enroll", True, False)
    assert parser.parse_args(["run", "--once"]).once is True
    assert parser.parse_args(["status", "--json"]).json is True
