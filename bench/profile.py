"""`python -m bench.profile FOLDED...`: where the time of a check-in goes, from py-spy's raw (folded) output.

Record a server worker while a load runs, e.g.

    py-spy record -p <worker pid> -d 10 -r 250 -f raw -o /tmp/checkin.folded          # wall: CPU + waiting
    py-spy record -p <worker pid> -d 10 -r 250 -f raw -o /tmp/checkin-gil.folded --gil  # Python CPU only

then `python -m bench.profile /tmp/checkin.folded`. Each sample is charged to one phase of the request
(the first matching rule, from the innermost frame outwards), split into "database wait" (psycopg or
sqlite waiting for the server) and "CPU" (everything else).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

# (phase, substring of a frame); the innermost frame that matches any rule decides the phase.
PHASES: list[tuple[str, str]] = [
    ("connection health check (SELECT 1 per request, CONN_HEALTH_CHECKS)", "is_usable"),
    ("policy hook: cache reads/writes (DatabaseCache)", "django/core/cache/backends/db.py"),
    ("policy: the process's index (a lookup; a reload after a policy change)", "tenfold/monitoring/policies.py"),
    ("fast lane: the one check-in statement (PostgreSQL) and its commit", "_execute_prepared"),
    ("fast lane: the check-in statements and commit (SQLite)", "_apply_sqlite"),
    ("fast lane: items to columns", "_columns"),
    ("credential lookup (auth cache miss)", "tenfold/agents/auth.py"),
    ("payload parsing + validation (json, pydantic)", "tenfold/agents/protocol.py"),
    ("inventory: software replace", "_replace_software"),
    ("telemetry writes (device update, bulk inserts)", "telemetry_record"),
    ("pending jobs query + update", "_pending_jobs"),
    ("agent row lock / update, credential touch", "checkin_apply"),
    ("transaction commit", "Atomic.__exit__"),
    ("JSON answer", "JsonResponse"),
    ("JSON answer", "json/encoder.py"),
    ("fast lane: reading the request, dispatch", "tenfold/agents/wsgi.py"),
    ("middleware + routing (session, auth, locale, MFA, CSRF, security headers)", "django/core/handlers/base.py"),
    ("middleware + routing (session, auth, locale, MFA, CSRF, security headers)", "middleware"),
    ("granian / WSGI plumbing", "granian"),
    ("granian / WSGI plumbing", "django/core/handlers/wsgi.py"),
]
# The innermost frame is psycopg/libpq talking to the server (sending, waiting) or SQLite working.
DB_WAIT = ("Connection.wait", "psycopg/waiting.py", "_execute_send", "_exec_command", "_sqlite3", "sqlite3")


def summarize(path: Path) -> tuple[int, Counter[tuple[str, str]]]:
    totals: Counter[tuple[str, str]] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        # Only samples inside a request (idle threads and granian's own main thread are left out).
        if not any("django/core/handlers/" in f or "tenfold/agents/wsgi.py" in f for f in frames):
            continue
        n = int(count)
        total += n
        phase = "other"
        for frame in reversed(frames):
            match = next((name for name, needle in PHASES if needle in frame), None)
            if match:
                phase = match
                break
        kind = "database wait" if any(w in frames[-1] for w in DB_WAIT) else "CPU"
        totals[(phase, kind)] += n
    return total, totals


def main(argv: list[str]) -> int:
    for name in argv:
        total, totals = summarize(Path(name))
        print(f"\n{name}: {total} samples inside requests")
        by_phase: Counter[str] = Counter()
        for (phase, _kind), n in totals.items():
            by_phase[phase] += n
        for phase, n in by_phase.most_common():
            wait = totals.get((phase, "database wait"), 0)
            print(f"  {n / total * 100:5.1f} %  {phase}  (database wait {wait / total * 100:.1f} %, "
                  f"CPU {(n - wait) / total * 100:.1f} %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
