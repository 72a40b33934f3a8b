"""`python -m bench fleet|devices|all`: Tenfold's benchmarks, printed as one table
(figure | value | target | baseline measured in the same run). See docs/benchmarks.md.

    python -m bench fleet                 # 20,000 simulated agents for 60 s on PostgreSQL, + baselines
    python -m bench fleet --capacity      # the check-in endpoint alone, as fast as it answers (wrk)
    python -m bench fleet --sqlite        # the embedded default (2,000 agents)
    python -m bench devices               # device list: 2,000-device client among 50,000 devices
    python -m bench all                   # everything with modest defaults (`make bench`)
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, Section, machine, print_table, sections_from_json, sections_to_json


def _output(sections: list[Section], args: argparse.Namespace) -> None:
    if getattr(args, "json", None):
        Path(args.json).write_text(sections_to_json(sections))
    print_table(sections, markdown=args.markdown)


def _py_spy(value: str) -> str:
    if not value:
        return ""
    from shutil import which

    found = which(value)
    if not found:
        raise SystemExit(f"py-spy not found at {value!r}: pip install py-spy, or give its path to --profile")
    return found


def cmd_fleet(args: argparse.Namespace) -> int:
    from bench.fleet import FleetOptions, run

    agents = args.agents or (2_000 if args.sqlite else 20_000)
    opts = FleetOptions(agents=agents, duration=args.duration, workers=args.workers, threads=args.threads,
                        connections=args.connections, sqlite=args.sqlite,
                        simulate=not args.capacity or args.simulate, capacity=args.capacity,
                        capacity_duration=args.capacity_duration, capacity_connections=args.capacity_connections,
                        keepalive=args.keepalive,
                        profile=_py_spy(args.profile), search=args.search,
                        search_duration=args.search_duration,
                        baselines=not args.no_baselines, baseline_duration=args.baseline_duration, keep=args.keep)
    _output(run(opts), args)
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from bench.devices import DevicesOptions, run

    _output(run(DevicesOptions(total=args.total, clients=args.clients, runs=args.runs, sqlite=args.sqlite,
                               keep=args.keep)), args)
    return 0


def cmd_all(args: argparse.Namespace) -> int:
    """Each part in its own process (each has its own throw-away database and Django set-up)."""
    started = time.monotonic()
    sections: list[Section] = [Section("Machine", notes=[machine()])]
    db = ["--sqlite"] if args.sqlite else []
    with tempfile.TemporaryDirectory(prefix="tenfold-bench-all-") as tmp:
        parts = [
            ("fleet", ["fleet", "--capacity", "--simulate", "--duration", str(args.duration),
                       "--capacity-duration", str(args.capacity_duration),
                       "--baseline-duration", str(args.baseline_duration),
                       *(["--agents", str(args.agents)] if args.agents else []),
                       *(["--profile", args.profile] if args.profile else []), *db]),
            ("devices", ["devices", "--runs", str(args.runs), *db]),
        ]
        for name, argv in parts:
            out = Path(tmp) / f"{name}.json"
            print(f"\n=== python -m bench {' '.join(argv)}", flush=True)
            status = subprocess.call([sys.executable, "-m", "bench", *argv, "--json", str(out)],  # noqa: S603 - ours
                                     cwd=ROOT)
            if status != 0 or not out.exists():
                print(f"python -m bench {name} failed ({status})", file=sys.stderr)
                return status or 1
            sections += sections_from_json(out.read_text())
    sections[0].notes.append(f"python -m bench all took {time.monotonic() - started:.0f} s")
    print("\n=== Combined")
    _output(sections, args)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--sqlite", action="store_true", help="the embedded SQLite default in a temporary folder "
                       "instead of a bench_<random> database on postgres://postgres@127.0.0.1:5432")
        p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
        p.add_argument("--json", help="also write the figures to this file")
        p.add_argument("--keep", action="store_true", help="keep the database and data folder (debugging)")

    fleet = sub.add_parser("fleet", help="simulated agents, check-in capacity, baselines")
    common(fleet)
    fleet.add_argument("--agents", type=int, default=0, help="agents (default 20,000; 2,000 with --sqlite)")
    fleet.add_argument("--duration", type=float, default=60.0, help="simulation seconds (default 60)")
    fleet.add_argument("--workers", type=int, default=2, help="tenfold serve --workers (default 2)")
    fleet.add_argument("--threads", type=int, default=None, help="tenfold serve --threads (default: its own)")
    fleet.add_argument("--connections", type=int, default=64, help="simulator keep-alive connections")
    fleet.add_argument("--capacity", action="store_true", help="the check-in endpoint alone, as fast as possible "
                       "(wrk + Lua), instead of the simulation")
    fleet.add_argument("--simulate", action="store_true", help="with --capacity: run the simulation too")
    fleet.add_argument("--capacity-duration", type=float, default=20.0)
    fleet.add_argument("--capacity-connections", type=int, default=0,
                       help="wrk keep-alive connections (default: workers x threads, what granian serves at once)")
    fleet.add_argument("--keepalive", action="store_true",
                       help="simulator: a pool of keep-alive connections instead of one connection per check-in")
    fleet.add_argument("--baseline-duration", type=float, default=10.0)
    fleet.add_argument("--search", type=int, default=0, metavar="STEPS",
                       help="also search the largest fleet held (halve, then bisect; STEPS runs)")
    fleet.add_argument("--search-duration", type=float, default=20.0)
    fleet.add_argument("--profile", nargs="?", const="py-spy", default="",
                       help="also profile one server worker with py-spy (path to py-spy; pip install py-spy)")
    fleet.add_argument("--no-baselines", action="store_true")
    fleet.set_defaults(func=cmd_fleet)

    devices = sub.add_parser("devices", help="device list latency and query count at 50,000 devices")
    common(devices)
    devices.add_argument("--total", type=int, default=50_000)
    devices.add_argument("--clients", type=int, default=25)
    devices.add_argument("--runs", type=int, default=20)
    devices.set_defaults(func=cmd_devices)

    everything = sub.add_parser("all", help="fleet (simulation + capacity + baselines) and devices")
    everything.add_argument("--sqlite", action="store_true")
    everything.add_argument("--markdown", action="store_true")
    everything.add_argument("--json")
    everything.add_argument("--agents", type=int, default=0)
    everything.add_argument("--duration", type=float, default=40.0)
    everything.add_argument("--capacity-duration", type=float, default=15.0)
    everything.add_argument("--baseline-duration", type=float, default=8.0)
    everything.add_argument("--runs", type=int, default=20)
    everything.add_argument("--profile", nargs="?", const="py-spy", default="",
                            help="also profile a server worker with py-spy during the fleet part")
    everything.set_defaults(func=cmd_all)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # SIGTERM (e.g. `timeout`) unwinds like Ctrl-C: servers stopped, throw-away database dropped.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
