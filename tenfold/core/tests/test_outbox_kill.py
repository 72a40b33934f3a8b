"""An outbox event whose worker is killed (SIGKILL) in the middle of a delivery is taken again by another worker once
its claim runs out (`TENFOLD_OUTBOX_CLAIM_SECONDS`, set short here), and each handler is applied once.

Two real processes of a throw-away deployment (a PostgreSQL database of its own, in the PostgreSQL pass) run the
worker's delivery loop (`events.deliver_pending`, what the worker's outbox task and its periodic sweep run) with
two handlers of this test: `test.first` applies at once, `test.blocking` writes its row and then waits for a file.
The first process applies `test.first`, blocks in `test.blocking` and is killed; its open transaction dies with it.
The second process finds the event claimed until the claim runs out, then takes it, skips `test.first` (already
applied) and applies `test.blocking`. The second process starts once the first is blocked (it only reads until the
claim runs out), and the claim is long enough for a slow start not to miss the claimed period; each of its attempts
reports what it found before trying.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

# The production configuration with several workers is PostgreSQL's (docs/operations.md): this test runs in the
# PostgreSQL pass only, which keeps a second throw-away deployment's migration out of the SQLite pass.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    settings.TENFOLD_DATABASE_VENDOR != "postgresql",
    reason="several workers sharing an outbox is the PostgreSQL configuration (runs in the PostgreSQL pass)")]

CLAIM_SECONDS = 20  # long enough for the second process to start while the first is blocked
DEADLINE = 45  # seconds for each wait of this test (the deployment's migration comes before)

DRIVER = """
import json, os, sys, time
from pathlib import Path

import django

django.setup()
from django.utils import timezone

from tenfold.core import audit, events
from tenfold.core.models import AuditEntry, EventDelivery, OutboxEvent

folder, mode = Path(sys.argv[1]), sys.argv[2]


def handler(name):
    def apply(event):
        # Pure database work in the handler's transaction, as every handler is.
        audit.record(None, f"test.applied.{name}", object_type="core.outboxevent", object_id=str(event.pk))
        if name == "blocking":
            (folder / f"blocked-{os.getpid()}").write_text("")
            deadline = time.monotonic() + 60
            while not (folder / "release").exists():
                if time.monotonic() > deadline:
                    raise RuntimeError("never released")
                time.sleep(0.05)
    return apply


if mode == "emit":
    print(json.dumps(OutboxEvent.objects.create(name="test.killed_mid_delivery").pk), flush=True)
    sys.exit(0)
events.register("test.killed_mid_delivery", "test.first", handler("first"))
events.register("test.killed_mid_delivery", "test.blocking", handler("blocking"))
print(json.dumps({"claim_seconds": events.claim_seconds()}), flush=True)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    event = OutboxEvent.objects.get(name="test.killed_mid_delivery")
    found = {"started": timezone.now().isoformat(), "killed": (folder / "killed").exists(),
             "claimed_until": event.claimed_until.isoformat() if event.claimed_until else None,
             "deliveries": sorted(EventDelivery.objects.filter(event=event).values_list("handler", flat=True)),
             "applied": sorted(AuditEntry.objects.filter(action__startswith="test.applied.", object_id=str(event.pk))
                               .values_list("action", flat=True))}
    found["delivered"] = events.deliver_pending()
    print(json.dumps(found), flush=True)
    if found["delivered"]:
        break
    time.sleep(0.2)
"""

FACTS = """
from tenfold.core.models import AuditEntry, EventDelivery, OutboxEvent
event = OutboxEvent.objects.get(name="test.killed_mid_delivery")
result = {"delivered_at": event.delivered_at, "claimed_until": event.claimed_until, "attempts": event.attempts,
          "deliveries": sorted(EventDelivery.objects.filter(event=event).values_list("handler", flat=True)),
          "applied": sorted(AuditEntry.objects.filter(action__startswith="test.applied.", object_id=str(event.pk))
                            .values_list("action", flat=True))}
"""


def _wait_for(predicate: Any, what: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        if process.poll() is not None:
            raise AssertionError(f"the process ended before {what}:\n{process.stdout.read() if process.stdout else ''}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {DEADLINE} s")
        time.sleep(0.05)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_an_event_of_a_worker_killed_mid_delivery_is_retaken_after_the_claim_and_applied_once(
        make_instance: Any, tmp_path: Path) -> None:
    # given a deployment whose outbox claims last CLAIM_SECONDS, an event, and a worker delivering it
    instance = make_instance(TENFOLD_OUTBOX_CLAIM_SECONDS=str(CLAIM_SECONDS))
    driver = tmp_path / "deliver.py"
    driver.write_text(DRIVER)
    folder = tmp_path / "signals"
    folder.mkdir()

    def start(mode: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, str(driver), str(folder), mode], env=instance.env, cwd=instance.root,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)

    emitted = start("emit")
    output, _ = emitted.communicate(timeout=DEADLINE)
    assert emitted.returncode == 0, output
    lines: list[dict[str, Any]] = []
    other: list[str] = []  # anything else the second worker says (a traceback)
    started: list[subprocess.Popen[str]] = []

    def read(process: subprocess.Popen[str]) -> None:
        for line in process.stdout or ():
            lines.append(json.loads(line)) if line.startswith("{") else other.append(line)

    try:
        first = start("deliver")
        started.append(first)
        _wait_for(lambda: (folder / f"blocked-{first.pid}").exists(), "blocking handler", first)
        # (started only now: on SQLite the blocked handler holds the write lock, and a worker claiming the same
        # event at the same moment would wait for it)
        second = start("deliver")
        started.append(second)
        reader = threading.Thread(target=read, args=(second,), daemon=True)
        reader.start()
        _wait_for(lambda: len(lines) >= 2 or second.poll() is not None, "attempt of the second worker", second)
        assert len(lines) >= 2, "".join(other)
        # when the first worker is killed in the middle of the blocking handler
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=DEADLINE)
        (folder / "killed").write_text("")
        (folder / "release").write_text("")
        second.wait(timeout=DEADLINE + CLAIM_SECONDS)
        reader.join(timeout=DEADLINE)
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    assert second.returncode == 0, "".join(other)
    facts = instance.query(FACTS)

    # then the second worker reads the setting
    assert first.returncode == -signal.SIGKILL
    assert lines[0] == {"claim_seconds": CLAIM_SECONDS}
    attempts = lines[1:]
    claimed_until = _parse(attempts[0]["claimed_until"])
    # ... finds the event claimed, and once the first is killed, its first handler applied and the blocked
    # transaction gone (the blocking handler's row rolled back with it)
    assert [a["delivered"] for a in attempts] == [0] * (len(attempts) - 1) + [1]
    after_kill = [a for a in attempts if a["killed"]]
    assert after_kill and all(a["claimed_until"] == attempts[0]["claimed_until"] for a in attempts)
    assert {(tuple(a["deliveries"]), tuple(a["applied"])) for a in after_kill} == {
        (("test.first",), ("test.applied.first",))}
    # ... takes it only when the claim has run out, and applies the blocking handler itself
    assert all(_parse(a["started"]) < claimed_until for a in attempts[:-1])
    assert _parse(attempts[-1]["started"]) >= claimed_until
    assert (folder / f"blocked-{second.pid}").exists()
    # and each handler is applied once
    assert facts["deliveries"] == ["test.blocking", "test.first"]
    assert facts["applied"] == ["test.applied.blocking", "test.applied.first"]
    assert (facts["attempts"], facts["claimed_until"]) == (1, None)
    assert _parse(facts["delivered_at"]) >= claimed_until
