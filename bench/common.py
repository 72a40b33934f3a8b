"""Plumbing shared by the benchmarks: throw-away databases, the environment of Tenfold processes,
server processes (start, wait, memory and CPU), and the result table."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def log(message: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- throw-away database ---------------------------------------------------------------------------


@dataclass
class Workspace:
    """A data directory and a database that exist only for one benchmark run."""

    data_dir: Path
    database_url: str
    vendor: str
    pg_admin_url: str = ""
    pg_name: str = ""

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every Tenfold process of this run (production settings, no debug)."""
        env = dict(os.environ)
        env.update({
            "TENFOLD_DATA_DIR": str(self.data_dir),
            "TENFOLD_DATABASE_URL": self.database_url,
            "TENFOLD_SECRET_KEY": SECRET_KEY,
            "TENFOLD_DEBUG": "",
            "TENFOLD_REDIS_URL": "",
            "TENFOLD_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "tenfold.config.settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        })
        env.update(extra)
        return env


SECRET_KEY = secrets.token_urlsafe(50)


@contextlib.contextmanager
def workspace(*, sqlite: bool, pg_url: str = DEFAULT_PG, keep: bool = False) -> Iterator[Workspace]:
    """Create a temporary data dir and database; drop both on the way out (unless keep)."""
    data_dir = Path(tempfile.mkdtemp(prefix="tenfold-bench-"))
    ws: Workspace
    if sqlite:
        ws = Workspace(data_dir, f"sqlite:///{data_dir / 'bench.sqlite3'}", "sqlite")
    else:
        import psycopg

        name = f"bench_{secrets.token_hex(4)}"
        with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        ws = Workspace(data_dir, f"{pg_url}/{name}", "postgresql", pg_admin_url=f"{pg_url}/postgres", pg_name=name)
    try:
        yield ws
    finally:
        if keep:
            print(f"kept: {ws.database_url} and {data_dir}", file=sys.stderr)
        else:
            if ws.pg_name:
                import psycopg

                with psycopg.connect(ws.pg_admin_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{ws.pg_name}" WITH (FORCE)')
            shutil.rmtree(data_dir, ignore_errors=True)


def setup_django(ws: Workspace) -> None:
    """Configure Django in this process against the workspace (once per process)."""
    os.environ.update({k: v for k, v in ws.env().items() if k.startswith(("TENFOLD_", "DJANGO_"))})
    import django

    django.setup()


def migrate() -> None:
    """What `tenfold migrate` does, in this process."""
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    if any(c.get("BACKEND", "").endswith("DatabaseCache") for c in settings.CACHES.values()):
        call_command("createcachetable", verbosity=0)


# --- processes: memory and CPU -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces: split after its closing parenthesis.
    return raw[raw.rindex(")") + 2:].split()


def children(pid: int) -> list[int]:
    """Every descendant of pid (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields:
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK if fields else 0.0


def rss_mb(pid: int) -> float:
    fields = _stat(pid)
    return int(fields[21]) * PAGE_KB / 1024 if fields else 0.0


def machine_busy_seconds() -> float:
    """CPU seconds every process of the machine has used (from /proc/stat: all but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLK_TCK


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
    return pids


@dataclass
class CpuMeter:
    """CPU seconds used by groups of processes between start() and stop()."""

    groups: dict[str, Any]
    start_values: dict[str, float] = field(default_factory=dict)
    result: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0

    def _sample(self) -> dict[str, float]:
        values = {"_machine": machine_busy_seconds()}
        for name, pids in self.groups.items():
            pid_list = pids() if callable(pids) else pids
            values[name] = sum(cpu_seconds(p) for p in pid_list)
        values["_self"] = sum(os.times()[:2])
        return values

    def start(self) -> None:
        self.start_values, self.wall = self._sample(), time.monotonic()

    def stop(self) -> dict[str, float]:
        end, wall = self._sample(), time.monotonic() - self.wall
        self.result = {k: (end[k] - self.start_values.get(k, 0.0)) / wall for k in end}
        return self.result


class Server:
    """A granian server started as a child process (its own process group), with its worker pids."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self._log_file = log.open("ab")
        self.proc = subprocess.Popen(argv, env=env, cwd=ROOT,  # noqa: S603 - our own server
                                     stdout=self._log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.peak_rss: dict[int, float] = {}

    def wait_ready(self, path: str = "/healthz", timeout: float = 60.0, workers: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}); see {self.log}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as resp:
                    if resp.status < 500 and len(self.pids()) >= workers + 1:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s; see {self.log}")

    def pids(self) -> list[int]:
        return [self.proc.pid, *children(self.proc.pid)]

    def sample_rss(self) -> None:
        for pid in self.pids():
            self.peak_rss[pid] = max(self.peak_rss.get(pid, 0.0), rss_mb(pid))

    def rss_report(self) -> list[tuple[str, float, float]]:
        """(process, current RSS MB, peak RSS MB) for the main process and each worker."""
        self.sample_rss()
        rows = []
        for index, pid in enumerate(self.pids()):
            label = "server main" if index == 0 else f"server worker {index}"
            rows.append((f"{label} (pid {pid})", rss_mb(pid), self.peak_rss.get(pid, 0.0)))
        return rows

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log_file.close()


def start_tenfold_serve(ws: Workspace, *, workers: int, threads: int | None, log: Path) -> Server:
    """`tenfold serve --workers W` on a free loopback port: the product, exactly as operators run it."""
    port = free_port()
    argv = [sys.executable, "-m", "tenfold", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers)]
    if threads:
        argv += ["--threads", str(threads)]
    server = Server(argv, ws.env(), port, log)
    server.wait_ready(workers=workers)
    return server


def start_bench_serve(ws: Workspace, *, workers: int, threads: int | None, log: Path) -> Server:
    """The same granian options as `tenfold serve`, pointed at bench/trivial_wsgi.py (the baselines)."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.serve", "--port", str(port), "--workers", str(workers)]
    if threads:
        argv += ["--threads", str(threads)]
    server = Server(argv, ws.env(), port, log)
    server.wait_ready(path="/__bench/trivial", workers=workers)
    return server


# --- output ------------------------------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    value: str
    target: str = ""
    baseline: str = ""


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: str, value: str, target: str = "", baseline: str = "") -> None:
        self.rows.append(Row(figure, value, target, baseline))


def print_table(sections: list[Section], *, markdown: bool = False, out: Any = None) -> None:
    out = out or sys.stdout
    headers = ("figure", "value", "target", "baseline (same run)")
    for section in sections:
        rows = [(r.figure, r.value, r.target or "—", r.baseline or "—") for r in section.rows]
        if not rows:
            print(f"\n{'**' + section.title + '**' if markdown else section.title}", file=out)
        elif markdown:
            print(f"\n**{section.title}**\n", file=out)
            print("| " + " | ".join(headers) + " |", file=out)
            print("|" + "---|" * len(headers), file=out)
            for row in rows:
                print("| " + " | ".join(row) + " |", file=out)
        else:
            widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
            line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
            print(f"\n{section.title}", file=out)
            print(line, file=out)
            print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |", file=out)
            print(line, file=out)
            for row in rows:
                print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |", file=out)
            print(line, file=out)
        for note in section.notes:
            print(f"  note: {note}", file=out)
    out.flush()


def sections_to_json(sections: list[Section]) -> str:
    return json.dumps([{"title": s.title, "rows": [r.__dict__ for r in s.rows], "notes": s.notes}
                       for s in sections], indent=1)


def sections_from_json(text: str) -> list[Section]:
    return [Section(s["title"], [Row(**r) for r in s["rows"]], s["notes"]) for s in json.loads(text)]


def fmt_ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.1f} ms"


def fmt_rate(value: float | None, unit: str = "/s") -> str:
    return "—" if value is None else f"{value:,.0f}{unit}"


def machine() -> str:
    """One line describing this machine (CPU model, cores, memory, PostgreSQL version)."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with contextlib.suppress(OSError, ValueError):
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB RAM, Python {sys.version.split()[0]}"
