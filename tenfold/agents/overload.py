"""Overload shedding of agent check-ins: refuse what the server cannot absorb, early and cheaply.

The signal is the number of check-ins this server process is working on at this moment (fast path and
full path alike), against `settings.TENFOLD_CHECKIN_MAX_INFLIGHT`, while check-ins have become slow: the
mean time one takes here (a moving average) is at least `settings.TENFOLD_CHECKIN_SHED_AFTER_MS`. A server
that answers quickly serves at full utilisation without refusing anyone (its queue drains in milliseconds);
one whose database is struggling, or that is draining a fleet's backlog of large check-ins, sheds.
`tenfold serve` runs a fixed pool of request threads per process, so the count can never exceed the pool:
the limit sits *below* it (by default the pool less two threads), which keeps threads free for the staff
UI and the API and lets a refused check-in be answered in microseconds instead of waiting in the server's
queue behind database work until the agent's request times out.

A check-in over the limit is answered `429 too_many_requests` with `Retry-After` before its body is
parsed, its credential looked up or anything written. The delay is drawn at random (so a fleet refused
together does not come back together) from a window that widens with the pressure: the check-ins refused
in the last ten seconds, divided by what this process absorbs per second (the limit over the mean time a
check-in takes here). The agent adds its own jitter on top (docs/agent-protocol.md).

One limiter per process (`checkin_limiter()`); the lane in front of Django (`tenfold.agents.wsgi`) takes
the slot and marks the request, and the Django view takes one only for a request that did not come
through the lane, so every check-in is counted once.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings

logger = logging.getLogger("tenfold.agents")

# The WSGI environ key the lane sets on a check-in it admitted and handed on to Django.
ADMITTED_KEY = "tenfold.checkin_admitted"
RETRY_AFTER_MIN = 2  # seconds: never ask an agent back sooner
RETRY_AFTER_MAX = 300  # seconds: never push an agent further than five minutes
MIN_WINDOW = 8  # seconds over which even a single refusal is spread
PRESSURE_WINDOW = 10  # seconds of refusals that count as the current pressure
THREADS_KEPT_FREE = 2  # request threads the default limit leaves to the UI, the API and the 429 answers
# The mean service time moves slowly (about the last fifty check-ins): one slow check-in is not overload.
SERVICE_EWMA_WEIGHT = 0.02
LOG_EVERY_S = 10.0
REFUSAL = {"code": "too_many_requests", "message": "The server is busy: check in again after Retry-After seconds."}
REFUSAL_BODY = json.dumps(REFUSAL, separators=(",", ":")).encode()


def default_limit(threads: int | None = None) -> int:
    """The in-flight limit when none is configured: the request threads of a server process less two, but
    at least two (and never more than the threads). `threads` defaults to what `tenfold serve` starts with."""
    if threads is None:
        threads = min(8, 2 * (os.cpu_count() or 1) + 1)  # tenfold.cli.DEFAULT_THREADS
    return max(1, min(threads, max(2, threads - THREADS_KEPT_FREE)))


@dataclass(frozen=True)
class LimiterFigures:
    """What a limiter has seen since the process started."""

    limit: int
    in_flight: int
    peak: int
    admitted: int
    refused: int
    mean_service_ms: float

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready values."""
        return {"limit": self.limit, "in_flight": self.in_flight, "peak": self.peak, "admitted": self.admitted,
                "refused": self.refused, "mean_service_ms": round(self.mean_service_ms, 1)}


class CheckinLimiter:
    """A count of check-ins in flight with a hard limit, and the Retry-After to give the ones refused.

    Thread-safe. `try_enter()` admits (returning the start time to hand back to `leave`) or refuses
    (returning None, counted); `slot()` does both around a block and always releases an admitted slot,
    whatever the block raises.
    """

    def __init__(self, limit: int, *, shed_after_s: float = 0.0, clock: Callable[[], float] = time.monotonic,
                 rand: Callable[[], float] = random.random) -> None:
        if limit < 1:
            raise ValueError("the in-flight limit must be at least 1")
        self.limit = limit
        self.shed_after_s = max(0.0, shed_after_s)
        self._clock = clock
        self._rand = rand
        self._lock = threading.Lock()
        self._in_flight = 0
        self._peak = 0
        self._admitted = 0
        self._refused = 0
        self._service_s = 0.05  # a prior, replaced by measurements as check-ins complete
        # Refusals per whole second over the pressure window: a ring of (second, count).
        self._buckets: list[list[int]] = [[-1, 0] for _ in range(PRESSURE_WINDOW)]
        self._logged_at = -math.inf
        self._refused_at_log = 0

    def try_enter(self) -> float | None:
        """Take a slot and return the start time, or count a refusal and return None (at the limit, and only
        while check-ins are slow: the mean service time at least `shed_after_s`)."""
        with self._lock:
            now = self._clock()
            if self._in_flight >= self.limit and self._service_s >= self.shed_after_s:
                self._refused += 1
                second = int(now)
                bucket = self._buckets[second % PRESSURE_WINDOW]
                if bucket[0] != second:
                    bucket[0], bucket[1] = second, 0
                bucket[1] += 1
                self._log_refusals(now)
                return None
            self._in_flight += 1
            self._admitted += 1
            self._peak = max(self._peak, self._in_flight)
            return now

    def leave(self, started: float) -> None:
        """Give back the slot taken at `started`; its duration feeds the mean service time."""
        with self._lock:
            if self._in_flight <= 0:
                raise RuntimeError("check-in limiter released more often than entered")
            self._in_flight -= 1
            elapsed = max(0.0, self._clock() - started)
            self._service_s += SERVICE_EWMA_WEIGHT * (elapsed - self._service_s)

    @contextmanager
    def slot(self) -> Iterator[bool]:
        """`with limiter.slot() as admitted:` — the slot (if admitted) is released when the block ends."""
        started = self.try_enter()
        try:
            yield started is not None
        finally:
            if started is not None:
                self.leave(started)

    def recent_refusals(self) -> int:
        """Check-ins refused over the last `PRESSURE_WINDOW` seconds."""
        with self._lock:
            return self._recent(int(self._clock()))

    def _recent(self, second: int) -> int:
        return sum(count for at, count in self._buckets if second - PRESSURE_WINDOW < at <= second)

    def window(self) -> int:
        """Seconds over which refused agents are spread: enough for this process to absorb, at its
        measured pace, what was refused lately; at least `MIN_WINDOW`."""
        with self._lock:
            refused = self._recent(int(self._clock()))
            per_second = self.limit / max(self._service_s, 0.001)
        wanted = math.ceil(refused / per_second)
        return max(MIN_WINDOW, min(RETRY_AFTER_MAX - RETRY_AFTER_MIN, wanted))

    def retry_after(self) -> int:
        """Whole seconds for a refused check-in's Retry-After: uniform over [MIN, MIN + window]."""
        return RETRY_AFTER_MIN + int(self._rand() * (self.window() + 1))

    def figures(self) -> LimiterFigures:
        """A consistent snapshot of the counters."""
        with self._lock:
            return LimiterFigures(self.limit, self._in_flight, self._peak, self._admitted, self._refused,
                                  self._service_s * 1000)

    def _log_refusals(self, now: float) -> None:
        # Called with the lock held; one line per LOG_EVERY_S at most, whatever the storm.
        if now - self._logged_at < LOG_EVERY_S:
            return
        logger.warning("check-ins refused (429): %d since the last report, %d in all; %d in flight of %d allowed "
                       "in this process", self._refused - self._refused_at_log, self._refused, self._in_flight,
                       self.limit)
        self._logged_at = now
        self._refused_at_log = self._refused


def refusal(limiter: CheckinLimiter) -> tuple[str, list[tuple[str, str]], bytes]:
    """The status line, headers and body of a 429 answer."""
    headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store, max-age=0"),
               ("X-Content-Type-Options", "nosniff"), ("Retry-After", str(limiter.retry_after())),
               ("Content-Length", str(len(REFUSAL_BODY)))]
    return "429 Too Many Requests", headers, REFUSAL_BODY


_limiter: CheckinLimiter | None = None
_limiter_lock = threading.Lock()


def configured_limit() -> int:
    """`TENFOLD_CHECKIN_MAX_INFLIGHT`, or the default derived from the request threads when it is 0."""
    value = int(getattr(settings, "TENFOLD_CHECKIN_MAX_INFLIGHT", 0) or 0)
    return value if value > 0 else default_limit()


def checkin_limiter() -> CheckinLimiter:
    """This process's limiter, built from the settings on first use."""
    global _limiter
    if _limiter is None:
        with _limiter_lock:
            if _limiter is None:
                shed_after_ms = int(getattr(settings, "TENFOLD_CHECKIN_SHED_AFTER_MS", 0) or 0)
                _limiter = CheckinLimiter(configured_limit(), shed_after_s=shed_after_ms / 1000)
    return _limiter


def health_figures() -> dict[str, Any]:
    """This process's shedding counters for /healthz: the limit, check-ins in flight and at the peak, admitted
    and refused since the process started, the mean service time (ms) and the threshold it sheds above."""
    limiter = checkin_limiter()
    return {**limiter.figures().as_dict(), "shed_after_ms": round(limiter.shed_after_s * 1000)}


def reset_checkin_limiter() -> None:
    """Forget this process's limiter (the next use reads the settings again); for tests."""
    global _limiter
    with _limiter_lock:
        _limiter = None
