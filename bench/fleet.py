"""`python -m bench fleet`: N simulated agents against `tenfold serve`, the check-in capacity, and the
baselines of the same run (granian's ceiling, a trivial Django view, naive one-row-per-message ingestion).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    CpuMeter,
    Section,
    Server,
    Workspace,
    fmt_ms,
    fmt_rate,
    log,
    migrate,
    postgres_pids,
    setup_django,
    start_bench_serve,
    start_tenfold_serve,
    workspace,
)
from bench.loadgen import WrkResult, closed_loop, have_wrk, inventory_agents, run_wrk, simulate
from bench.payloads import now_iso

CHECKIN = "/agent/v1/checkin"
NAIVE = "/__bench/naive-checkin"
TARGET_AGENTS = 20_000
TARGET_AGENTS_SQLITE = 2_000  # issue 9: the embedded default holds at least 2,000 agents
TARGET_P99 = 0.250
TARGET_ERRORS = 0.001
TARGET_CAPACITY, AIM_CAPACITY = 1_000, 2_000


@dataclass
class FleetOptions:
    agents: int = TARGET_AGENTS
    duration: float = 60.0
    interval: float = 60.0
    workers: int = 2
    threads: int | None = None
    connections: int = 64
    sqlite: bool = False
    simulate: bool = True
    capacity: bool = False
    capacity_duration: float = 20.0
    capacity_connections: int = 0   # 0: workers x threads, the keep-alive connections granian serves at once
    keepalive: bool = False
    search: int = 0     # steps of the search for the largest fleet held (0: no search)
    search_duration: float = 20.0
    profile: str = ""   # path of py-spy: profile one server worker during an extra capacity run
    baselines: bool = True
    baseline_duration: float = 10.0
    keep: bool = False


def _counts() -> dict[str, int]:
    from django.db import connection

    from tenfold.assets.models import CheckResult, MetricSample, SoftwareItem

    counts = {"check results": CheckResult.objects.count(), "metric samples": MetricSample.objects.count(),
              "software items": SoftwareItem.objects.count()}
    connection.close()
    return counts


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in before}


def _meter(server: Server, ws: Workspace) -> CpuMeter:
    groups: dict[str, Any] = {"server": server.pids}
    if ws.vendor == "postgresql":
        groups["postgres"] = postgres_pids
    meter = CpuMeter(groups)
    meter.start()
    return meter


def _cpu_note(meter: CpuMeter, generator: str, generator_cpu: float | None = None) -> str:
    """Who used the 2 cores: the server, PostgreSQL, the load generator, and everything else on the
    machine (other work running at the same time skews the figures: it is shown, not hidden)."""
    parts = [f"{name} {value * 100:.0f} %" for name, value in meter.result.items() if not name.startswith("_")]
    gen = meter.result.get("_self", 0.0) if generator_cpu is None else generator_cpu
    parts.append(f"{generator} {gen * 100:.0f} %")
    known = sum(v for k, v in meter.result.items() if not k.startswith("_")) + gen
    if generator_cpu is not None:
        known += meter.result.get("_self", 0.0)
    other = max(0.0, meter.result.get("_machine", 0.0) - known)
    parts.append(f"other processes {other * 100:.0f} %")
    return "CPU (100 % = one core, 200 % = the machine): " + ", ".join(parts)


def _write_tokens(ws: Workspace, tokens: list[str]) -> Path:
    path = ws.data_dir / "tokens.txt"
    path.write_text("\n".join(tokens) + "\n")
    path.chmod(0o600)
    return path


def _wrk_checkins(server: Server, tokens_file: Path, fleet: Any, path: str, duration: float,
                  connections: int) -> WrkResult:
    args = [str(tokens_file), str(time.time_ns() // 1000), fleet.policy_version, now_iso(), path,
            ",".join(map(str, fleet.check_ids)), "1"]
    return run_wrk(f"http://127.0.0.1:{server.port}", script="checkin.lua", duration=duration,
                   connections=connections, args=args)


def _warm_up(server: Server, fleet: Any, path: str = CHECKIN) -> None:
    """A few check-ins per server thread so imports and connections are made before measuring."""
    asyncio.run(simulate(port=server.port, tokens=fleet.tokens[-200:], check_ids=fleet.check_ids,
                         policy_version=fleet.policy_version, duration=1.0, interval=1.0, jitter=0.0,
                         connections=8, inventory_every=0, path=path))


def _slots(opts: FleetOptions) -> int:
    from tenfold.cli import DEFAULT_THREADS

    return opts.workers * (opts.threads or DEFAULT_THREADS)


def run(opts: FleetOptions) -> list[Section]:
    sections: list[Section] = []
    if not opts.capacity_connections:
        # `tenfold serve` sets granian's backpressure to its thread count, and granian counts a kept-alive
        # connection against it even while idle: more keep-alive connections than workers x threads
        # would wait for a free slot for seconds (see docs/benchmarks.md). wrk keeps connections alive.
        opts.capacity_connections = _slots(opts)
    use_wrk = have_wrk()
    with workspace(sqlite=opts.sqlite, keep=opts.keep) as ws:
        setup_django(ws)
        log(f"migrating {ws.database_url}")
        t = time.monotonic()
        migrate()
        migrate_s = time.monotonic() - t
        from bench.seed import seed_fleet

        inv = inventory_agents(opts.agents, opts.duration, opts.interval, 60) if opts.simulate else set()
        log(f"seeding {opts.agents:,} enrolled devices")
        t = time.monotonic()
        fleet = seed_fleet(opts.agents, inventory_devices=inv)
        seed_s = time.monotonic() - t
        from django.db import connections

        connections.close_all()
        tokens_file = _write_tokens(ws, fleet.tokens)
        setup = Section(f"Set-up ({ws.vendor}, {opts.agents:,} devices)")
        setup.add("migrate (empty database)", f"{migrate_s:.1f} s")
        setup.add(f"seed {opts.agents:,} enrolled devices + credentials (bulk)", f"{seed_s:.1f} s")
        sections.append(setup)

        sim_section = cap_section = None
        log(f"starting tenfold serve --workers {opts.workers}")
        server = start_tenfold_serve(ws, workers=opts.workers, threads=opts.threads,
                                     log=ws.data_dir / "serve.log")
        try:
            _warm_up(server, fleet)
            if opts.simulate:
                sim_section = _simulation(opts, ws, server, fleet)
                sections.append(sim_section)
            if opts.search:
                sections.append(_search(opts, ws, server, fleet))
            if opts.capacity:
                cap_section = _capacity(opts, ws, server, fleet, tokens_file, use_wrk)
                sections.append(cap_section)
            if opts.profile:
                sections.append(_profile(opts, ws, server, fleet, tokens_file))
        finally:
            server.stop()
        if opts.baselines:
            baseline = _baselines(opts, ws, fleet, tokens_file, use_wrk)
            sections.append(baseline["section"])
            _fill_baselines(sim_section, cap_section, baseline)
    return sections


def _simulation(opts: FleetOptions, ws: Workspace, server: Server, fleet: Any) -> Section:
    title = (f"Fleet simulation: {opts.agents:,} agents, check-in every {opts.interval:.0f} s (5 results, "
             f"inventory hourly), {opts.duration:.0f} s, `tenfold serve --workers {opts.workers}` on {ws.vendor}")
    section = Section(title)
    log(f"simulating {opts.agents:,} agents for {opts.duration:.0f} s")
    before = _counts()
    meter = _meter(server, ws)
    last = [0.0]

    def tick() -> None:
        if time.monotonic() - last[0] >= 1.0:
            server.sample_rss()
            last[0] = time.monotonic()

    result = asyncio.run(simulate(port=server.port, tokens=fleet.tokens, check_ids=fleet.check_ids,
                                  policy_version=fleet.policy_version, duration=opts.duration,
                                  interval=opts.interval, connections=opts.connections,
                                  keepalive=opts.keepalive, on_tick=tick))
    meter.stop()
    written = _delta(before, _counts())
    offered_rate = result.offered / opts.duration
    # Answers that came after the end (a backlog worked off) stretch the time they took.
    rate = result.ok / max(opts.duration, result.last_answer)
    p50, p99 = result.percentile(50), result.percentile(99)
    error_rate = result.errors / result.offered if result.offered else 0.0
    held = p99 is not None and p99 < TARGET_P99 and error_rate < TARGET_ERRORS
    target_agents = TARGET_AGENTS if ws.vendor == "postgresql" else TARGET_AGENTS_SQLITE
    section.add("agents simulated", f"{opts.agents:,}", f"{target_agents:,} held")
    section.add("held (p99 < 250 ms and < 0.1 % errors)", "yes" if held else "NO", "yes")
    section.add("check-ins offered / answered 200", f"{result.offered:,} / {result.ok:,}")
    section.add("sustained check-ins/s", f"{rate:,.1f}/s", f"{target_agents / opts.interval:,.0f}/s "
                f"({target_agents:,} agents / {opts.interval:.0f} s)")
    if result.per_second:
        window = result.per_second[5:-5] or result.per_second
        section.add("check-ins/s per second (min / max, middle of the run)", f"{min(window)} / {max(window)}")
    section.add("latency p50 (from due time)", fmt_ms(p50))
    section.add("latency p99 (from due time)", fmt_ms(p99), "< 250 ms")
    section.add("latency max", fmt_ms(max(result.latencies) if result.latencies else None))
    section.add("error rate", f"{error_rate * 100:.3f} %", "< 0.1 %")
    if result.errors:
        section.notes.append("answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(result.statuses.items())))
    section.add("inventories applied (100 packages each)", f"{result.inventories:,}")
    rows = written["check results"] + written["metric samples"]
    section.add("rows written: check results / metric samples",
                f"{written['check results']:,} / {written['metric samples']:,}",
                f"{5 * result.ok:,} / {result.ok:,} (5 + 1 per check-in)")
    section.add("rows/s written (results + metrics)", f"{rows / max(opts.duration, result.last_answer):,.0f}/s")
    for label, current, peak in server.rss_report():
        section.add(f"RSS {label}", f"{current:.0f} MB (peak {peak:.0f} MB)")
    section.notes.append(_cpu_note(meter, "load generator (asyncio, this process)"))
    mode = ("over a pool of keep-alive connections" if opts.keepalive
            else "each on its own connection, closed after the answer, as tenfold-agent does")
    section.notes.append(f"offered {offered_rate:,.1f} check-ins/s, at most {opts.connections} in flight, {mode}")
    return section


def _settle(server: Server, limit: float = 20.0) -> None:
    """Wait until the server has worked off what an overloaded run left queued (CPU under 20 % for 1 s)."""
    from bench.common import cpu_seconds

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = sum(cpu_seconds(p) for p in server.pids())
        time.sleep(1.0)
        if sum(cpu_seconds(p) for p in server.pids()) - before < 0.2:
            return


def _search(opts: FleetOptions, ws: Workspace, server: Server, fleet: Any) -> Section:
    """The largest fleet held (p99 < 250 ms, < 0.1 % errors): halve until held, then bisect."""
    section = Section(f"Largest fleet held: {opts.search} runs of {opts.search_duration:.0f} s, check-in every "
                      f"{opts.interval:.0f} s (5 results, inventory hourly), `tenfold serve --workers {opts.workers}` "
                      f"on {ws.vendor}")
    low, high, n = 0, opts.agents + 1, opts.agents
    for step in range(opts.search):
        _settle(server)
        log(f"search step {step + 1}/{opts.search}: {n:,} agents for {opts.search_duration:.0f} s")
        result = asyncio.run(simulate(port=server.port, tokens=fleet.tokens[:n], check_ids=fleet.check_ids,
                                      policy_version=fleet.policy_version, duration=opts.search_duration,
                                      interval=opts.interval, connections=opts.connections, timeout=10.0,
                                      keepalive=opts.keepalive, seed=step + 10))
        p99 = result.percentile(99)
        errors = result.errors / result.offered if result.offered else 0.0
        held = p99 is not None and p99 < TARGET_P99 and errors < TARGET_ERRORS
        section.add(f"{n:,} agents ({result.offered / opts.search_duration:,.0f} check-ins/s offered)",
                    f"{'held' if held else 'not held'}: p99 {fmt_ms(p99)}, errors {errors * 100:.2f} %",
                    "p99 < 250 ms, < 0.1 %")
        if held:
            low = n
        else:
            high = n
        if high - low <= max(50, low // 20):
            break
        n = (low + high) // 2 if low else max(50, n // 2)
    section.add("largest fleet held", f"{low:,} agents" if low else f"< {high:,} agents",
                f"{TARGET_AGENTS if ws.vendor == 'postgresql' else TARGET_AGENTS_SQLITE:,}")
    return section


def _statements(fleet: Any) -> tuple[list[int], list[str]]:
    """SQL statements one check-in runs, counted in this process through the real view (Django's test
    client): a device seen for the first time by this process, then the same device again."""
    from django.db import connection
    from django.test import Client as HttpClient

    from bench.payloads import results_only_body

    http = HttpClient(HTTP_HOST="127.0.0.1")
    counts, sql = [], []
    seq = time.time_ns() // 1000 + 10**9
    token = fleet.tokens[len(fleet.tokens) // 2]
    for _ in range(2):
        statements: list[str] = []

        def wrapper(execute: Any, query: str, params: Any, many: bool, context: Any,
                    statements: list[str] = statements) -> Any:
            statements.append(query)
            return execute(query, params, many, context)

        body = results_only_body(seq=seq, check_ids=fleet.check_ids, policy_version=fleet.policy_version,
                                 at=now_iso())
        seq += 10
        with connection.execute_wrapper(wrapper):
            response = http.post(CHECKIN, body, content_type="application/json",
                                 HTTP_AUTHORIZATION=f"Bearer {token}")
        if response.status_code != 200:
            raise RuntimeError(f"in-process check-in: HTTP {response.status_code} {response.content[:200]!r}")
        counts.append(len(statements))
        sql = statements
    connection.close()
    return counts, sql


def _capacity(opts: FleetOptions, ws: Workspace, server: Server, fleet: Any, tokens_file: Path,
              use_wrk: bool) -> Section:
    section = Section(f"Check-in capacity: `POST {CHECKIN}` alone, 5 results each, rotating over "
                      f"{len(fleet.tokens):,} devices, `tenfold serve --workers {opts.workers}` on {ws.vendor}")
    log(f"capacity run, {opts.capacity_duration:.0f} s, {opts.capacity_connections} connections")
    before = _counts()
    meter = _meter(server, ws)
    if use_wrk:
        result = _wrk_checkins(server, tokens_file, fleet, CHECKIN, opts.capacity_duration,
                               opts.capacity_connections)
        meter.stop()
        server.sample_rss()
        written = _delta(before, _counts())
        ok = result.requests - result.errors.get("status", 0) - result.shed
        section.add("durable check-ins/s (5 results, answered after commit)", f"{result.ok_rate:,.0f}/s",
                    f"≥ {TARGET_CAPACITY:,}/s (aim {AIM_CAPACITY:,}/s)")
        section.add("latency p50 / p99 (closed loop)", f"{fmt_ms(result.p50)} / {fmt_ms(result.p99)}")
        section.add("errors", f"{result.error_count:,} of {result.requests:,}", "0")
        section.add("answered 429 with Retry-After (overload shedding; wrk does not come back later)",
                    f"{result.shed:,} of {result.requests:,}", "—")
        section.add("check-result rows written", f"{written['check results']:,}", f"{5 * ok:,} (5 per 200)")
        section.notes.append(_cpu_note(meter, "wrk", result.cpu_seconds / max(result.seconds, 1e-9)))
        section.notes.append(f"wrk -t1 -c{opts.capacity_connections} -d{opts.capacity_duration:.0f}s "
                             f"-s bench/lua/checkin.lua")
    else:
        loop_result = asyncio.run(closed_loop(port=server.port, tokens=fleet.tokens, check_ids=fleet.check_ids,
                                              policy_version=fleet.policy_version, duration=opts.capacity_duration,
                                              connections=opts.capacity_connections))
        meter.stop()
        section.add("durable check-ins/s (asyncio generator: wrk is not installed, and this one costs CPU)",
                    f"{loop_result.ok / loop_result.elapsed:,.0f}/s", f"≥ {TARGET_CAPACITY:,}/s")
        section.add("latency p50 / p99 (closed loop)",
                    f"{fmt_ms(loop_result.percentile(50))} / {fmt_ms(loop_result.percentile(99))}")
        section.add("errors", f"{loop_result.errors:,} of {loop_result.offered:,}", "0")
        section.notes.append(_cpu_note(meter, "load generator (asyncio, this process)"))
    for label, current, peak in server.rss_report():
        section.add(f"RSS {label}", f"{current:.0f} MB (peak {peak:.0f} MB)")
    counts, _sql = _statements(fleet)
    section.add("SQL statements per check-in (first in a process / again)",
                f"{counts[0]} / {counts[1]}", "",
                "the first loads the policy index; PostgreSQL: one statement in autocommit, no BEGIN/COMMIT")
    section.notes.append("offered as fast as answered; the load generator shares the 2 cores")
    return section


def _profile(opts: FleetOptions, ws: Workspace, server: Server, fleet: Any, tokens_file: Path) -> Section:
    """py-spy on one server worker during an extra, unmeasured capacity run: where a check-in's time goes."""
    import subprocess

    from bench.profile import summarize

    section = Section(f"Where a check-in's time goes: py-spy on one `tenfold serve` worker, {ws.vendor}, "
                      f"capacity load, {len(fleet.tokens):,} devices")
    log("profiling one server worker with py-spy")
    worker = server.pids()[1] if len(server.pids()) > 1 else server.pids()[0]
    duration = max(5, int(opts.baseline_duration))
    outputs = {}
    for label, extra in (("wall", []), ("gil", ["--gil"])):
        out = ws.data_dir / f"checkin-{label}.folded"
        spy = subprocess.Popen([opts.profile, "record",  # noqa: S603 - py-spy, as given
                                "-p", str(worker), "-d", str(duration), "-r", "200",
                                "-f", "raw", "-o", str(out), *extra],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if have_wrk():
            _wrk_checkins(server, tokens_file, fleet, CHECKIN, duration + 1, opts.capacity_connections)
        else:
            asyncio.run(closed_loop(port=server.port, tokens=fleet.tokens, check_ids=fleet.check_ids,
                                    policy_version=fleet.policy_version, duration=duration + 1,
                                    connections=opts.capacity_connections))
        spy.wait(timeout=60)
        outputs[label] = out
    wall_total, wall = summarize(outputs["wall"])
    gil_total, gil = summarize(outputs["gil"])
    phases: dict[str, list[int]] = {}
    for (phase, kind), n in wall.items():
        phases.setdefault(phase, [0, 0, 0])[0 if kind == "CPU" else 1] += n
    for (phase, _kind), n in gil.items():
        phases.setdefault(phase, [0, 0, 0])[2] += n
    for phase, (cpu, wait, held) in sorted(phases.items(), key=lambda kv: -(kv[1][0] + kv[1][1])):
        share = (cpu + wait) / max(wall_total, 1)
        if share < 0.005 and held / max(gil_total, 1) < 0.005:
            continue
        section.add(phase, f"{share * 100:.1f} % of wall time",
                    f"of which database I/O and waits {wait / max(wall_total, 1) * 100:.1f} %",
                    f"{held / max(gil_total, 1) * 100:.1f} % of Python CPU (GIL held)")
    section.notes.append("value: share of the worker's request time (all threads, py-spy wall samples); target "
                         "column: the part spent waiting for PostgreSQL; baseline column: share of the samples "
                         "holding the GIL (Python CPU). Profiling slows the worker: shares, not speeds.")
    section.notes.append(f"folded stacks: {outputs['wall']} and {outputs['gil']} (python -m bench.profile FILE); "
                         "kept only with --keep")
    return section


def _baselines(opts: FleetOptions, ws: Workspace, fleet: Any, tokens_file: Path, use_wrk: bool) -> dict[str, Any]:
    section = Section(f"Baselines, same stack (granian, same options, `--workers {opts.workers}`), "
                      f"bench/trivial_wsgi.py on {ws.vendor}")
    out: dict[str, Any] = {"section": section}
    if not use_wrk:
        section.notes.append("wrk is not installed (apt-get install wrk): baselines skipped")
        return out
    log("baselines: starting granian on bench/trivial_wsgi.py")
    server = start_bench_serve(ws, workers=opts.workers, threads=opts.threads, log=ws.data_dir / "bench-serve.log")
    try:
        url = f"http://127.0.0.1:{server.port}"
        for key, path, label in (("raw", "/__bench/trivial", "trivial WSGI answer before Django (granian ceiling)"),
                                 ("django", "/__bench/trivial-django",
                                  "trivial Django view, full middleware (calibration ~11,500/s)")):
            run_wrk(url + path, script="get.lua", duration=2, connections=opts.capacity_connections)
            meter = _meter(server, ws)
            result = run_wrk(url + path, script="get.lua", duration=opts.baseline_duration,
                             connections=opts.capacity_connections)
            meter.stop()
            out[key] = result
            section.add(f"{label}: req/s", f"{result.ok_rate:,.0f}/s")
            section.add("  latency p50 / p99, errors", f"{fmt_ms(result.p50)} / {fmt_ms(result.p99)}, "
                        f"{result.error_count}")
            section.notes.append(f"{path}: " + _cpu_note(meter, "wrk", result.cpu_seconds / result.seconds))
        _warm_up(server, fleet, NAIVE)
        before = _counts()
        meter = _meter(server, ws)
        naive = _wrk_checkins(server, tokens_file, fleet, NAIVE, max(opts.baseline_duration, 10.0),
                              opts.capacity_connections)
        meter.stop()
        written = _delta(before, _counts())
        out["naive"] = naive
        section.add("naive ingestion (same bodies, one row + one commit per message): check-ins/s",
                    f"{naive.ok_rate:,.0f}/s", "batching must beat it")
        section.add("  latency p50 / p99, errors", f"{fmt_ms(naive.p50)} / {fmt_ms(naive.p99)}, "
                    f"{naive.error_count}")
        section.add("  check-result rows written", f"{written['check results']:,}")
        section.notes.append(f"{NAIVE}: " + _cpu_note(meter, "wrk", naive.cpu_seconds / naive.seconds))
    finally:
        server.stop()
    return out


def _fill_baselines(sim: Section | None, cap: Section | None, baseline: dict[str, Any]) -> None:
    raw, django, naive = baseline.get("raw"), baseline.get("django"), baseline.get("naive")
    if not (raw and django and naive):
        return
    ceiling = f"ceiling {fmt_rate(raw.ok_rate)} raw, {fmt_rate(django.ok_rate)} Django; naive {fmt_rate(naive.ok_rate)}"
    for section in (sim, cap):
        if section is None:
            continue
        for row in section.rows:
            if row.figure.startswith(("sustained check-ins/s", "durable check-ins/s")):
                row.baseline = ceiling
            elif row.figure.startswith("latency p50 / p99"):
                row.baseline = f"Django trivial {fmt_ms(django.p50)} / {fmt_ms(django.p99)}; naive " \
                               f"{fmt_ms(naive.p50)} / {fmt_ms(naive.p99)}"
            elif row.figure.startswith("rows/s written"):
                row.baseline = f"naive {fmt_rate(naive.ok_rate * 5)} (results)"
            elif row.figure.startswith("check-result rows written") and cap is section:
                row.baseline = f"naive {fmt_rate(naive.ok_rate * 5)} rows/s"
