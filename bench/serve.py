"""`python -m bench.serve`: granian with exactly the options of `tenfold serve` (tenfold/cli.py), pointed
at bench/trivial_wsgi.py, which wraps the real application and adds the baseline endpoints."""

from __future__ import annotations

import argparse

from tenfold.cli import DEFAULT_THREADS


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    args = parser.parse_args()
    from granian import Granian
    from granian.constants import Interfaces

    print(f"bench server on http://{args.host}:{args.port} ({args.workers} x {args.threads})", flush=True)
    Granian("bench.trivial_wsgi:application", address=args.host, port=args.port, interface=Interfaces.WSGI,
            workers=args.workers, blocking_threads=args.threads, backpressure=args.threads,
            respawn_failed_workers=True).serve()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
