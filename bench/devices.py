"""`python -m bench devices`: the device list's first page (50 rows) for a client with 2,000 devices in a
database of 50,000 (25 clients), timed server-side in-process (Django's test client against the real
view, logged in as an administrator with MFA), median of 20 runs per filter and sort, with its query
count."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from bench.common import Section, fmt_ms, log, migrate, setup_django, workspace

TARGET = 0.300


@dataclass
class DevicesOptions:
    total: int = 50_000
    clients: int = 25
    runs: int = 20
    sqlite: bool = False
    keep: bool = False


def scenarios(client_id: int, total: int) -> list[tuple[str, str]]:
    c = f"client={client_id}"
    return [
        ("client, default sort (name)", f"?{c}"),
        ("client, sort last seen (newest first)", f"?{c}&sort=-last_seen_at"),
        ("client, online only, sort status", f"?{c}&online=True&sort=status"),
        ("client, offline only, sort -pending updates", f"?{c}&online=False&sort=-pending_updates"),
        ("client, kind=server, sort OS", f"?{c}&kind=server&sort=os"),
        ("client, state=active, sort antivirus", f"?{c}&state=active&sort=antivirus_state"),
        ("client, search 'PC-0' (substring), sort name", f"?{c}&q=PC-0&sort=name"),
        ("client, search 'user12', sort -last seen", f"?{c}&q=user12&sort=-last_seen_at"),
        ("client, sort client name", f"?{c}&sort=client"),
        (f"all {total:,}, default sort (name)", ""),
        (f"all {total:,}, sort -last seen", "?sort=-last_seen_at"),
        (f"all {total:,}, search 'user12'", "?q=user12"),
        (f"all {total:,}, online + kind=laptop, sort OS", "?online=True&kind=laptop&sort=os"),
    ]


def run(opts: DevicesOptions) -> list[Section]:
    with workspace(sqlite=opts.sqlite, keep=opts.keep) as ws:
        setup_django(ws)
        migrate()
        from django.db import connection
        from django.test import Client as HttpClient

        from bench.seed import seed_device_list
        from tenfold.accounts.testing import make_staff

        log(f"seeding {opts.total:,} devices across {opts.clients} clients")
        t = time.monotonic()
        client_ids = seed_device_list(opts.total, opts.clients)
        if ws.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        seed_s = time.monotonic() - t
        from tenfold.clients.models import Client

        empty = Client.objects.create(name="Client without devices", status="active")
        admin = make_staff("admin", mfa=True)
        http = HttpClient(HTTP_HOST="127.0.0.1")
        http.force_login(admin)
        target_client = client_ids[len(client_ids) // 2]
        per_client = opts.total // opts.clients
        section = Section(f"Device list first page (50 rows): a client with {per_client:,} devices among "
                          f"{opts.total:,} ({opts.clients} clients), {ws.vendor}, median of {opts.runs} "
                          f"in-process renders (admin with MFA)")
        section.notes.append(f"seeded {opts.total:,} devices in {seed_s:.1f} s")
        worst = 0.0
        for _ in range(3):  # warm-up: templates compiled, connection open
            http.get(f"/devices/?client={target_client}")
        baseline = _median(http, f"/devices/?client={empty.pk}", opts.runs)
        section.notes.append("baseline column: the same page for a client without devices, i.e. the fixed cost "
                             "of session, permissions, MFA check, filters and layout")
        log(f"timing {len(scenarios(target_client, opts.total))} pages, {opts.runs} runs each")
        for label, query in scenarios(target_client, opts.total):
            url = "/devices/" + query
            response = http.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: HTTP {response.status_code}")
            queries = _count_queries(connection, http, url)
            rows = response.content.count(b"<tr") - 1
            median = _median(http, url, opts.runs)
            worst = max(worst, median)
            section.add(f"{label} [{queries} queries, {rows} rows]", fmt_ms(median), "< 300 ms",
                        fmt_ms(baseline))
        section.add("slowest median", fmt_ms(worst), "< 300 ms", "met" if worst < TARGET else "NOT met")
    return [section]


def _count_queries(connection: Any, http: Any, url: str) -> int:
    """Queries one render runs (an execute wrapper: it counts whatever the debug settings are)."""
    count = [0]

    def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        http.get(url)
    return count[0]


def _median(http: Any, url: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = http.get(url)
        times.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
    return statistics.median(times)
