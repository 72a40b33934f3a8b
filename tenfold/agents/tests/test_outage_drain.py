"""A one-hour server outage, time-compressed: the fleet spools, the server comes back with a low in-flight
limit, and the agents drain without overloading it, honouring every 429 + Retry-After.

The agents are the agent package's own `Agent` run loop (in threads, one state directory each), with its
spool, its HTTP client and its collector. The hour of backlog is what the default interval mix gives
(one check-in a minute carrying a heartbeat, metrics and five check results; an inventory hourly),
written with the agent's spool code at the times it would have been collected, but produced at once.
Each agent's client records every attempt (start, end, status, Retry-After): the audit is by the
agents' sequence numbers on the server, and by those records for the Retry-After.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tenfold_agent.client import AgentClient, ProtocolError, RetryLater
from tenfold_agent.config import AgentConfig
from tenfold_agent.service import SPOOL_NAME, STATE_NAME, Agent
from tenfold_agent.spool import Spool
from tenfold_agent.util import iso, write_json_atomic
from tenfold_agent.wire import inventory_wire

from tenfold.agents.tests.live import STAFF_AND_CLIENT, Server, free_port, tail, wait_until

pytestmark = pytest.mark.slow

AGENTS = 20
CHECKIN_INTERVAL = 60  # the default interval mix: one check-in a minute, five results each, inventory hourly
CHECKS = 5
OUTAGE_MINUTES = 60
MAX_INFLIGHT = 1  # low, so that the returning fleet is refused and must come back later
DRAIN_DEADLINE = 45.0  # seconds from the server answering again to every spool empty


@dataclass
class Attempt:
    started: float
    ended: float
    status: int | None  # None: no answer (connection refused while the server is down)
    retry_after: float | None = None


class RecordingClient(AgentClient):
    """The agent's HTTP client, noting the time and outcome of each check-in attempt."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attempts: list[Attempt] = []

    def checkin(self, body: bytes) -> dict[str, Any]:
        started = time.monotonic()
        try:
            answer = super().checkin(body)
        except RetryLater as exc:
            self.attempts.append(Attempt(started, time.monotonic(), exc.status, exc.retry_after))
            raise
        except ProtocolError as exc:
            self.attempts.append(Attempt(started, time.monotonic(), exc.status))
            raise
        self.attempts.append(Attempt(started, time.monotonic(), 200))
        return answer


@dataclass
class FleetAgent:
    """One enrolled agent: its state directory, the hour it spooled, and its run loop's thread."""

    number: int
    device_id: int
    state_dir: Path
    client: RecordingClient
    backlog: list[dict[str, Any]] = field(default_factory=list)
    thread: threading.Thread | None = None
    exit_code: int | None = None
    error: BaseException | None = None

    def run(self, stop: threading.Event) -> None:
        try:
            agent = Agent(self.state_dir, client=self.client, wait=stop.wait)
            try:
                self.exit_code = agent.run()
            finally:
                agent.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def spool_count(self) -> int:
        db = sqlite3.connect(str(self.state_dir / SPOOL_NAME), timeout=10)
        try:
            return int(db.execute("SELECT COUNT(*) FROM items").fetchone()[0])
        finally:
            db.close()


def inventory(number: int) -> dict[str, Any]:
    """An hourly inventory as the agent's collector reports it, shaped by the agent's wire code."""
    return inventory_wire({
        "hardware": {"hostname": f"pc-{number:02d}", "vendor": "Dell Inc.", "model": "OptiPlex 7010",
                     "serial": f"SN{number:06d}", "cpu": {"model": "Intel(R) Core(TM) i5-13500", "cores": 14},
                     "memory_bytes": 16 * 1024**3, "os": {"family": "linux", "name": "Debian GNU/Linux",
                                                         "version": "12"},
                     "disks": [{"mount": "/", "fstype": "ext4", "total_bytes": 512 * 1024**3}],
                     "network": [{"name": "eth0", "mac": f"00:1a:2b:3c:4d:{number:02x}",
                                  "ipv4": [f"192.0.2.{10 + number}"]}],
                     "logged_in_users": ["compta"], "uptime_s": 86400},
        "software": [{"name": name, "version": version, "publisher": "Debian", "install_date": "2026-10-01"}
                     for name, version in [("openssl", "3.0.15"), ("firefox-esr", "128.5.0"),
                                           ("libreoffice", "7.4.7"), ("openssh-server", "9.2p1"),
                                           ("restic", "0.14.0"), ("cups", "2.4.2")]],
    })


def spool_one_hour(state_dir: Path, number: int, start: datetime) -> list[dict[str, Any]]:
    """Write the hour the agent collected while the server was away, with the agent's spool, at the times
    it was collected; return the items as spooled (seq, kind, at, data)."""
    spool = Spool(state_dir / SPOOL_NAME)
    try:
        # Speed only: the durability under test is the server's, not this machine's disk.
        spool._db.execute("PRAGMA synchronous=OFF")
        spool.put("inventory", inventory(number), at=iso(start))
        for minute in range(OUTAGE_MINUTES):
            at = start + timedelta(minutes=minute, seconds=number)
            spool.put_heartbeat({"uptime_s": 86400 + minute * 60}, at=iso(at))
            spool.put("metrics", {"cpu_pct": float((minute * 7 + number) % 100), "mem_pct": 41.0,
                                  "disks": [{"mount": "/", "free_pct": 63.2, "free_bytes": 300 * 1024**3}]},
                      at=iso(at))
            for check in range(1, CHECKS + 1):
                status = "fail" if (minute + check + number) % 17 == 0 else "pass"
                spool.put("check_result", {"check_id": check, "status": status, "value": float(minute),
                                           "message": f"check {check} at minute {minute}"},
                          at=iso(at + timedelta(seconds=check)))
        return [{"seq": item.seq, "kind": item.kind, "at": item.at, "data": item.data}
                for item in spool.pending(limit=10_000, max_bytes=1 << 30)]
    finally:
        spool.close()


AUDIT = """
from collections import Counter
from tenfold.agents.models import Agent
from tenfold.assets.models import CheckResult, Device, MetricSample
result = {{}}
for device_id in {devices!r}:
    results = list(CheckResult.objects.filter(device_id=device_id).order_by("seq").values_list("seq", "check_id",
                                                                                               "status"))
    metrics = Counter(at.isoformat().replace("+00:00", "Z") for at in MetricSample.objects.filter(
        device_id=device_id).values_list("at", flat=True))
    device = Device.objects.get(pk=device_id)
    result[str(device_id)] = {{"last_seq": Agent.objects.get(device_id=device_id).last_seq, "results": results,
                              "metrics": dict(metrics), "inventory_at": device.inventory_at,
                              "serial": device.serial_number}}
"""

STATUS_CODES = {"pass": 0, "warn": 1, "fail": 2, "error": 3}


def test_a_fleet_back_from_a_one_hour_outage_drains_within_the_bound_honouring_retry_after(
        make_instance: Callable[..., Any], tmp_path: Path) -> None:
    # given a server that lets one check-in at a time in, and AGENTS agents enrolled in one client
    # (shedding from the first check-in: the server here is fast, its check-ins would not look slow)
    instance = make_instance(TENFOLD_CHECKIN_MAX_INFLIGHT=str(MAX_INFLIGHT), TENFOLD_CHECKIN_SHED_AFTER_MS="0")
    client_id = instance.query(STAFF_AND_CLIENT)["client_id"]
    token = instance.run("agent-token", "--client", str(client_id), "--checkin-interval", str(CHECKIN_INTERVAL),
                         "--max-uses", str(AGENTS)).stdout.strip()
    server = Server(instance, free_port(), tmp_path / "server.log")
    stop = threading.Event()
    fleet: list[FleetAgent] = []

    def details() -> str:
        return tail(server.log_path) + "\n" + "\n".join(
            f"agent {a.number}: {a.spool_count()} spooled, {a.client.attempts[-3:]}" for a in fleet)

    try:
        server.start()
        for number in range(AGENTS):
            answer = AgentClient(server.url, verify_tls=False).enroll({
                "token": token, "hostname": f"pc-{number:02d}", "machine_id": f"outage-machine-{number:02d}",
                "os": {"family": "linux", "name": "Debian GNU/Linux", "version": "12"}, "agent_version": "0.1.0"})
            state_dir = tmp_path / f"agent-{number:02d}"
            AgentConfig(server_url=server.url, credential=answer["credential"], device_id=int(answer["device_id"]),
                        verify_tls=False, checkin_interval=int(answer["checkin_interval"]),
                        checkin_jitter=int(answer["checkin_jitter"])).save(state_dir)
            fleet.append(FleetAgent(number, int(answer["device_id"]), state_dir,
                                    RecordingClient(server.url, answer["credential"], verify_tls=False, timeout=30)))

        # when the server goes away for an hour: each agent spools that hour (time-compressed)
        server.stop()
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=OUTAGE_MINUTES)
        for agent in fleet:
            agent.backlog = spool_one_hour(agent.state_dir, agent.number, start)
            # the hour's inventory and posture are spooled already: the loop must not collect them again
            now = time.time()
            write_json_atomic(agent.state_dir / STATE_NAME, {"inventory_looked_at": now, "inventory_sent_at": now,
                                                             "posture_at": now})
        backlog_items = sum(len(a.backlog) for a in fleet)
        # and their run loops start while it is still down: each tries, fails, and backs off
        for agent in fleet:
            agent.thread = threading.Thread(target=agent.run, args=(stop,), name=f"agent-{agent.number}",
                                            daemon=True)
            agent.thread.start()
        wait_until(lambda: all(a.client.attempts for a in fleet) or any(a.error for a in fleet), 30,
                   "every agent to try and fail while the server is down", details, interval=0.1)
        assert all(a.client.attempts[0].status is None for a in fleet), [a.client.attempts[:1] for a in fleet]

        # when the server is back
        server.start()
        back = time.monotonic()
        wait_until(lambda: all(a.spool_count() == 0 and a.client.attempts[-1].status == 200 for a in fleet)
                   or any(a.error for a in fleet), DRAIN_DEADLINE + 5, "every spool drained", details,
                   interval=0.2)
        drained = time.monotonic()
    finally:
        stop.set()
        for agent in fleet:
            if agent.thread is not None:
                agent.thread.join(timeout=30)
        server.stop()

    assert not any(a.error for a in fleet), [a.error for a in fleet]
    assert [a.exit_code for a in fleet] == [0] * AGENTS
    seconds = drained - back
    attempts = [attempt for agent in fleet for attempt in agent.client.attempts]
    after = [attempt for attempt in attempts if attempt.started >= back]
    refusals = [attempt for attempt in after if attempt.status == 429]
    print(f"\none-hour outage of {AGENTS} agents: {backlog_items} items spooled, drained in {seconds:.1f} s "
          f"after the server was back; {len(after)} check-in attempts, {len(refusals)} answered 429 "
          f"(Retry-After {sorted({int(r.retry_after or 0) for r in refusals})} s), "
          f"in-flight limit {MAX_INFLIGHT}")

    # then the drain ended within the bound, and the server refused some, and answered every attempt:
    # 200 or 429, never an error or a timeout
    assert seconds < DRAIN_DEADLINE
    assert refusals, "the low in-flight limit never refused a check-in: the test did not exercise shedding"
    assert {attempt.status for attempt in after} <= {200, 429}, sorted({a.status for a in after}, key=str)
    assert "check-ins refused (429)" in server.log_path.read_text()  # the server reports its shedding
    # and no agent came back before the Retry-After it was given (the header was always there)
    for agent in fleet:
        for refused, following in zip(agent.client.attempts, agent.client.attempts[1:], strict=False):
            if refused.status != 429:
                continue
            assert refused.retry_after is not None and refused.retry_after >= 2, refused
            waited = following.started - refused.ended
            assert waited >= refused.retry_after, (agent.number, refused, following)

    # and every spooled item is on the server exactly once, by the agents' sequence numbers
    stored = instance.query(AUDIT.format(devices=[a.device_id for a in fleet]))
    for agent in fleet:
        facts = stored[str(agent.device_id)]
        backlog_last = agent.backlog[-1]["seq"]
        assert facts["last_seq"] >= backlog_last, (agent.number, facts["last_seq"], backlog_last)
        assert facts["results"] == [[i["seq"], i["data"]["check_id"], STATUS_CODES[i["data"]["status"]]]
                                    for i in agent.backlog if i["kind"] == "check_result"], agent.number
        backlog_metrics = {i["at"] for i in agent.backlog if i["kind"] == "metrics"}
        assert len(backlog_metrics) == OUTAGE_MINUTES
        assert {at: facts["metrics"].get(at) for at in backlog_metrics} == dict.fromkeys(backlog_metrics, 1)
        assert max(facts["metrics"].values()) == 1, agent.number  # the live samples too: once each
        assert facts["inventory_at"] is not None and facts["serial"] == f"SN{agent.number:06d}"
