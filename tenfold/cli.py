"""The `tenfold` command: run the server, the worker, migrations, the demo, and Django's manage commands.

    tenfold serve [--host 127.0.0.1] [--port 8000] [--workers N]
    tenfold worker [--once]
    tenfold migrate
    tenfold demo [--if-empty] [--seed N]
    tenfold demo-code EMAIL
    tenfold createadmin [...]
    tenfold agent-token --client NAME_OR_ID [--site NAME] [--days 7] [--max-uses N]
    tenfold sign keygen|countersign|revoke|pending|review|approve [...]
    tenfold manage COMMAND [...]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

SETTINGS_MODULE = "tenfold.config.settings"
# Requests mostly wait on the database, so a few threads per core; past 2 x cores + 1 the server
# itself warns that Python gets crowded.
DEFAULT_THREADS = min(8, 2 * (os.cpu_count() or 1) + 1)


def _setup_django() -> None:
    """Load the settings (which refuse an insecure configuration) and the apps."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    import django

    django.setup()


def _call(command: str, *args: str, **options: object) -> int:
    """Run a management command; a CommandError is printed, not raised, and becomes the exit code."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command(command, *args, **options)
    except CommandError as exc:
        print(f"tenfold {command}: {exc}", file=sys.stderr)
        return exc.returncode
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the web application with granian (WSGI)."""
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from granian import Granian
    from granian.constants import Interfaces

    # Fail here, once, with Django's own message, rather than in every server worker.
    call_command("check", stdout=io.StringIO())
    # Static files are served by whitenoise straight from the finders, so there is no collectstatic
    # step; whitenoise still looks at STATIC_ROOT and warns when it is missing.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    print(f"Tenfold is serving on http://{args.host}:{args.port} "
          f"({args.workers} process(es) x {args.threads} threads)", flush=True)
    server = Granian(
        "tenfold.config.wsgi:application",
        address=args.host,
        port=args.port,
        interface=Interfaces.WSGI,
        workers=args.workers,
        # Each thread may hold a database connection: the threads bound database concurrency. The
        # backpressure counts connections, idle kept-alive ones included, so it must be well above the
        # threads or a proxy keeping a few connections open starves everyone else.
        blocking_threads=args.threads,
        backpressure=max(64, args.threads * 8),
        respawn_failed_workers=True,
    )
    server.serve()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run background tasks and the scheduler."""
    _setup_django()
    return _call("worker", *args.rest)


def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply database migrations, then create the cache table when the cache lives in the database."""
    _setup_django()
    from django.conf import settings

    status = _call("migrate", interactive=False, verbosity=args.verbosity)
    if status:
        return status
    if any(cache.get("BACKEND", "").endswith("DatabaseCache") for cache in settings.CACHES.values()):
        status = _call("createcachetable", verbosity=args.verbosity)
    return status


def cmd_demo(args: argparse.Namespace) -> int:
    """Create the demo MSP (delegates to the `demo` management command)."""
    _setup_django()
    return _call("demo", *args.rest)


def cmd_demo_code(args: argparse.Namespace) -> int:
    """Print the current MFA code of a demo account."""
    _setup_django()
    return _call("demo_code", args.email)


def cmd_createadmin(args: argparse.Namespace) -> int:
    """Create the first administrator (delegates to the `createadmin` management command)."""
    _setup_django()
    return _call("createadmin", *args.rest)


def cmd_agent_token(args: argparse.Namespace) -> int:
    """Create an enrollment token; only the token goes to stdout (delegates to `agent_token`)."""
    _setup_django()
    return _call("agent_token", *args.rest)


def cmd_sign(args: argparse.Namespace) -> int:
    """Sign scripts on the approver's machine: no Django, no database, the private key stays local."""
    from tenfold.automation.signing_cli import main as sign_main

    return sign_main(args.rest)


def cmd_manage(argv: Sequence[str]) -> int:
    """Any Django management command, exactly as `manage.py` would run it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tenfold manage", *argv])
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand but `manage` (whose arguments go to Django untouched)."""
    parser = argparse.ArgumentParser(prog="tenfold", description="Run a managed service provider.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the web application")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: %(default)s)")
    serve.add_argument("--workers", type=int, default=1, help="server processes (default: %(default)s)")
    serve.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                       help="request threads per process, each with its own database connection "
                            "(default: %(default)s)")
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run background tasks and schedules (--once: one pass, then exit)")
    worker.set_defaults(func=cmd_worker)

    migrate = sub.add_parser("migrate", help="create or update the database")
    migrate.add_argument("-v", "--verbosity", type=int, default=1, choices=[0, 1, 2, 3])
    migrate.set_defaults(func=cmd_migrate)

    demo = sub.add_parser("demo", help="create the demo MSP (--if-empty, --seed N)")
    demo.set_defaults(func=cmd_demo)

    demo_code = sub.add_parser("demo-code", help="print the current MFA code of a demo account")
    demo_code.add_argument("email")
    demo_code.set_defaults(func=cmd_demo_code)

    createadmin = sub.add_parser("createadmin", help="create an administrator account")
    createadmin.set_defaults(func=cmd_createadmin)

    agent_token = sub.add_parser(
        "agent-token", help="create an agent enrollment token for a client and print it "
                            "(--client NAME_OR_ID [--site NAME] [--days 7] [--max-uses N])")
    agent_token.set_defaults(func=cmd_agent_token)

    sign = sub.add_parser("sign", help="sign scripts with your own key on this machine "
                                        "(keygen, countersign, revoke, pending, review, approve)")
    sign.set_defaults(func=cmd_sign)

    sub.add_parser("manage", help="run a Django management command: tenfold manage COMMAND ...")
    return parser


# Subcommands whose own options are parsed by the management command they delegate to.
PASS_THROUGH = {"worker", "demo", "createadmin", "agent-token", "sign"}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tenfold` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "manage":
        return cmd_manage(argv[1:])
    parser = build_parser()
    if argv and argv[0] in PASS_THROUGH:
        args = parser.parse_args(argv[:1])
        args.rest = argv[1:]
    else:
        args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    sys.exit(main())
