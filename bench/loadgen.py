"""Load generators: an open-loop fleet simulator (asyncio, raw HTTP/1.1 keep-alive over asyncio streams)
and a wrapper around wrk (low CPU, closed loop) for capacity runs.

The simulator schedules every agent's check-ins in advance (a random phase in the interval, then every
interval ± jitter) and measures each latency from the moment the check-in was *due*, not from when a
connection became free: if the server falls behind, the waiting shows up in the latency
(no coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import resource
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.payloads import checkin_body, now_iso

LUA = Path(__file__).resolve().parent / "lua"


# --- a minimal HTTP/1.1 keep-alive client -------------------------------------------------------------


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked, close = 0, False, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                data = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(data[:-2])
            body = b"".join(parts)
        else:
            body = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, body


def post(path: str, port: int, token: str, body: bytes, *, close: bool = False) -> bytes:
    connection = "Connection: close\r\n" if close else ""
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\n{connection}Content-Length: {len(body)}\r\n\r\n").encode() + body


# --- the open-loop fleet simulator ---------------------------------------------------------------------


@dataclass
class SimResult:
    offered: int = 0
    ok: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    inventories: int = 0
    per_second: list[int] = field(default_factory=list)
    last_answer: float = 0.0   # seconds from the start to the last answer

    @property
    def errors(self) -> int:
        return self.offered - self.ok

    def percentile(self, p: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def schedule(agents: int, duration: float, interval: float, jitter: float, seed: int) -> list[tuple[float, int, int]]:
    """(due time in s from start, agent index, check-in number k) for every check-in due in the run."""
    rng = random.Random(seed)  # noqa: S311 - load pattern, not secrets
    events = []
    for i in range(agents):
        phase = rng.uniform(0, interval)
        t, k = phase, 0
        while t < duration:
            events.append((t, i, k))
            k += 1
            t = phase + k * interval + rng.uniform(-jitter, jitter)
    events.sort()
    return events


def inventory_due(index: int, k: int, every: int) -> bool:
    """Hourly inventory at a 60 s interval: agent i sends it on the check-ins where (i + k) % 60 == 0."""
    return every > 0 and (index + k) % every == 0


def inventory_agents(agents: int, duration: float, interval: float, every: int) -> set[int]:
    """The agents that send an inventory during the run (so the seed gives them earlier software)."""
    rounds = math.ceil(duration / interval) + 1
    return {i for i in range(agents) if any(inventory_due(i, k, every) for k in range(rounds))}


async def simulate(*, port: int, tokens: list[str], check_ids: list[int], policy_version: str, duration: float,
                   interval: float = 60.0, jitter: float = 10.0, connections: int = 64, timeout: float = 30.0,
                   inventory_every: int = 60, seed: int = 3, path: str = "/agent/v1/checkin",
                   keepalive: bool = False, on_tick: Any = None) -> SimResult:
    """Every agent's check-ins, each on a new connection closed after the answer (as tenfold-agent's
    urllib client does), or over a pool of `connections` keep-alive connections (`keepalive`).
    At most `connections` check-ins are in flight; the others wait (and the wait counts)."""
    events = schedule(len(tokens), duration, interval, jitter, seed)
    result = SimResult(offered=len(events))
    rng = random.Random(seed + 1)  # noqa: S311 - payload values, not secrets
    base_seq = time.time_ns() // 1000
    next_seq = [base_seq] * len(tokens)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, int, int] | None] = asyncio.Queue()
    seconds: Counter[int] = Counter()
    t0 = loop.time() + 0.5

    async def dispatcher() -> None:
        position = 0
        while position < len(events):
            now = loop.time() - t0
            while position < len(events) and events[position][0] <= now:
                due, i, k = events[position]
                queue.put_nowait((t0 + due, i, k))
                position += 1
            if on_tick is not None:
                on_tick()
            if position < len(events):
                await asyncio.sleep(min(0.05, max(0.0, events[position][0] - (loop.time() - t0))))
        for _ in range(connections):
            queue.put_nowait(None)

    # Hard stop: whatever is not answered `timeout` seconds after the last due time counts as an error.
    deadline = t0 + duration + timeout

    async def worker() -> None:
        conn = Connection("127.0.0.1", port)
        while True:
            try:
                job = await asyncio.wait_for(queue.get(), max(0.01, deadline - loop.time()))
            except TimeoutError:
                break
            if job is None:
                break
            due, i, k = job
            inventory = inventory_due(i, k, inventory_every)
            body, last = checkin_body(index=i, seq=next_seq[i], check_ids=check_ids, policy_version=policy_version,
                                      inventory=inventory, rng=rng, at=now_iso())
            next_seq[i] = last + 1
            remaining = min(timeout, deadline - loop.time())
            if remaining <= 0:
                break
            try:
                raw = post(path, port, tokens[i], body, close=not keepalive)
                status, _body = await asyncio.wait_for(conn.request(raw), remaining)
            except TimeoutError:
                result.statuses["timeout"] += 1
                conn.close()
                continue
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                result.statuses[type(exc).__name__] += 1
                conn.close()
                continue
            done = loop.time()
            if not keepalive:
                conn.close()
            result.statuses[str(status)] += 1
            if status == 200:
                result.ok += 1
                result.latencies.append(done - due)
                result.inventories += inventory
                seconds[int(done - t0)] += 1
                result.last_answer = max(result.last_answer, done - t0)
        conn.close()

    tasks = [asyncio.create_task(worker()) for _ in range(connections)]
    disp = asyncio.create_task(dispatcher())
    await asyncio.wait([disp, *tasks], timeout=duration + timeout + 5.0)
    for task in (disp, *tasks):
        task.cancel()
    await asyncio.wait([disp, *tasks], timeout=5.0)
    result.elapsed = loop.time() - t0
    result.per_second = [seconds.get(s, 0) for s in range(int(duration))]
    unanswered = result.offered - sum(result.statuses.values())
    if unanswered:
        result.statuses["not answered in time"] += unanswered
    return result


# --- wrk ------------------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests: int
    seconds: float
    errors: dict[str, int]
    p50: float
    p90: float
    p99: float
    max: float
    cpu_seconds: float
    raw: str = ""
    shed: int = 0  # answered 429 with Retry-After (overload shedding): refused on purpose, not an error

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def ok_rate(self) -> float:
        ok = self.requests - self.errors.get("status", 0) - self.shed
        return ok / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def run_wrk(url: str, *, script: str, duration: float, connections: int, threads: int = 1,
            args: list[str] | None = None, timeout: float = 10.0) -> WrkResult:
    """Run wrk to completion; returns its figures and the CPU it used (it must stay cheap)."""
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration:.0f}s", "--timeout",
            f"{timeout:.0f}s", "-s", str(LUA / script), url]
    if args:
        argv += ["--", *args]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # noqa: S603
    assert proc.stdout is not None
    output = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or "BENCH_JSON" not in output:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{output}")
    figures = json.loads(output.split("BENCH_JSON", 1)[1].strip().splitlines()[0])
    shed = int(figures.get("shed", 0))
    figures["status"] -= shed  # wrk counts every non-2xx; a 429 is reported apart
    return WrkResult(
        requests=figures["requests"], seconds=figures["duration_us"] / 1e6, shed=shed,
        errors={k: figures[k] for k in ("connect", "read", "write", "status", "timeout") if figures[k]},
        p50=figures["p50_us"] / 1e6, p90=figures["p90_us"] / 1e6, p99=figures["p99_us"] / 1e6,
        max=figures["max_us"] / 1e6, cpu_seconds=usage.ru_utime + usage.ru_stime, raw=output)


def have_wrk() -> bool:
    from shutil import which

    return which("wrk") is not None


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def closed_loop(*, port: int, tokens: list[str], check_ids: list[int], policy_version: str, duration: float,
                      connections: int, path: str = "/agent/v1/checkin") -> SimResult:
    """`connections` keep-alive connections, each sending its next check-in as soon as the last is
    answered (5 results each, rotating over the devices): the capacity without wrk."""
    from bench.payloads import results_only_body

    result = SimResult()
    loop = asyncio.get_running_loop()
    base = time.time_ns() // 1000
    at = now_iso()
    position = [0]
    rounds = [0]
    end = loop.time() + duration

    async def worker() -> None:
        conn = Connection("127.0.0.1", port)
        while loop.time() < end:
            i = position[0]
            position[0] += 1
            if position[0] >= len(tokens):
                position[0], rounds[0] = 0, rounds[0] + 1
            body = results_only_body(seq=base + rounds[0] * 8, check_ids=check_ids, policy_version=policy_version,
                                     at=at)
            start = loop.time()
            result.offered += 1
            try:
                status, _ = await asyncio.wait_for(conn.request(post(path, port, tokens[i], body)), 30)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                result.statuses[type(exc).__name__] += 1
                conn.close()
                continue
            result.statuses[str(status)] += 1
            if status == 200:
                result.ok += 1
                result.latencies.append(loop.time() - start)
        conn.close()

    started = loop.time()
    await asyncio.gather(*(worker() for _ in range(connections)))
    result.elapsed = loop.time() - started
    return result
