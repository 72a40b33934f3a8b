"""Command line: `tenfold-agent enroll | run | status | defer-restart`."""

from __future__ import annotations

import argparse
import json
import logging
import logging.handlers
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .client import ProtocolError
from .config import ConfigError, default_run_dir, default_state_dir
from .restart import defer_restart
from .service import EXIT_CREDENTIAL, EXIT_ERROR, Agent, enroll, status

log = logging.getLogger("tenfold_agent")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `tenfold-agent` command."""
    parser = argparse.ArgumentParser(prog="tenfold-agent", description="The Tenfold agent.")
    parser.add_argument("--version", action="version", version=f"tenfold-agent {__version__}")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="where the agent keeps its state (default: $TENFOLD_AGENT_STATE_DIR or the OS's place)")
    parser.add_argument("--log-file", type=Path, default=None, help="also log to this file (rotated)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    p_enroll = sub.add_parser("enroll", help="enroll this device with a per-client token")
    p_enroll.add_argument("--server", required=True, help="the Tenfold server, https://tenfold.example.net")
    p_enroll.add_argument("--token", required=True, help="an enrollment token (tfe_…)")
    p_enroll.add_argument("--state-dir", type=Path, default=None, dest="state_dir_sub")
    p_enroll.add_argument("--insecure", action="store_true",
                          help="allow plain http:// to a loopback development server (never for production)")
    p_enroll.add_argument("--ca-file", default=None, help="trust this CA bundle for the server's certificate")
    p_enroll.add_argument("--force", action="store_true", help="enroll again even if already enrolled")

    p_run = sub.add_parser("run", help="collect and check in until stopped")
    p_run.add_argument("--once", action="store_true", help="collect once, check in until drained, then exit")
    p_run.add_argument("--state-dir", type=Path, default=None, dest="state_dir_sub")

    p_status = sub.add_parser("status", help="show enrollment, spool and last check-in")
    p_status.add_argument("--json", action="store_true", help="print JSON")
    p_status.add_argument("--state-dir", type=Path, default=None, dest="state_dir_sub")

    p_defer = sub.add_parser("defer-restart", help="postpone the restart the agent announced (any local user)")
    p_defer.add_argument("--run-dir", type=Path, default=None,
                         help="the agent's run directory (default: $TENFOLD_AGENT_RUN_DIR or the OS's place)")
    p_defer.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the agent's answer")
    return parser


def setup_logging(verbose: bool, log_file: Path | None) -> None:
    """Log to stderr (the journal, launchd's log) and optionally to a rotated file (the Windows service)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(log_file, maxBytes=5 * 1024 * 1024, backupCount=3))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tenfold-agent` console script."""
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose, args.log_file)
    if args.command == "defer-restart":
        # Any local user: no state directory, no enrollment needed.
        code, text = defer_restart(args.run_dir or default_run_dir(), timeout=args.timeout)
        print(text)
        return code
    state_dir: Path = args.state_dir_sub or args.state_dir or default_state_dir()
    try:
        if args.command == "enroll":
            config = enroll(state_dir, args.server, args.token, insecure=args.insecure, ca_file=args.ca_file,
                            force=args.force)
            print(f"enrolled: device {config.device_id}, state in {state_dir}")
            return 0
        if args.command == "status":
            facts = status(state_dir)
            if args.json:
                print(json.dumps(facts, indent=2, sort_keys=True))
            else:
                for key, value in facts.items():
                    print(f"{key:20} {value}")
            return 0
        stop = threading.Event()
        # systemd and launchd stop a service with SIGTERM: finish the current step, then leave the loop.
        signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
        agent = Agent(state_dir, wait=stop.wait)
        try:
            return agent.run(once=args.once)
        finally:
            agent.close()
    except ConfigError as exc:
        log.error("%s", exc)
        return EXIT_ERROR
    except ProtocolError as exc:
        log.error("%s", exc)
        return EXIT_CREDENTIAL if exc.status == 401 else EXIT_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
