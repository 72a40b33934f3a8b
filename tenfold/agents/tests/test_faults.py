"""Fault tests of the check-in path, audited by sequence numbers.

(a) The server is stopped while a real agent keeps collecting: every item it spooled meanwhile arrives
    exactly once after the restart.
(b) The server is killed (`kill -9`, with its workers) in the middle of check-ins from many agents (the
    agent's own client and spool classes, in threads): nothing acknowledged is lost, nothing is stored
    twice, and everything arrives once the server is back.

The server stores a check result with the seq of the item that carried it (`CheckResult.seq`) and the
acknowledged high-water mark per agent (`Agent.last_seq`); metrics samples keep the item's time.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tenfold_agent.client import AgentClient, ServerUnavailable
from tenfold_agent.payload import build_checkin
from tenfold_agent.spool import Spool
from tenfold_agent.util import iso, utcnow

from tenfold.agents.tests.live import HOST, free_port, wait_until

pytestmark = pytest.mark.slow


def spooled(state_dir: Path) -> list[dict[str, Any]]:
    """The items waiting in a real agent's spool (read beside the running agent; SQLite in WAL mode)."""
    db = sqlite3.connect(str(state_dir / "spool.sqlite3"), timeout=10)
    try:
        rows = db.execute("SELECT seq, kind, at, data FROM items ORDER BY seq").fetchall()
    finally:
        db.close()
    return [{"seq": seq, "kind": kind, "at": at, "data": json.loads(data)} for seq, kind, at, data in rows]


AUDIT = """
from django.db.models import Count
from django.utils.dateparse import parse_datetime
from tenfold.agents.models import Agent
from tenfold.assets.models import CheckResult, MetricSample
device_id = {device_id}
items = {items!r}
seqs = list(CheckResult.objects.filter(device_id=device_id).values_list("seq", flat=True))
result = {{
    "last_seq": Agent.objects.get(device_id=device_id).last_seq,
    "duplicate_seqs": sorted(s for s in set(seqs) if seqs.count(s) > 1),
    "results": {{str(i["seq"]): list(CheckResult.objects.filter(device_id=device_id, seq=i["seq"]).values_list(
        "check_id", "status")) for i in items if i["kind"] == "check_result"}},
    "metrics": {{i["at"]: MetricSample.objects.filter(device_id=device_id, at=parse_datetime(i["at"])).count()
                for i in items if i["kind"] == "metrics"}},
}}
"""

STATUS_CODES = {"pass": 0, "warn": 1, "fail": 2, "error": 3}


def test_server_stopped_while_the_agent_keeps_collecting_then_every_spooled_item_arrives_exactly_once(live):
    # given: a real agent whose policy has two checks (their results are stored with their seq)
    api = live.api
    policy = api.post("/policies", {"name": "Outage", "scope": "client", "client_id": live.client_id})
    for name, check_type, params in [("Closed port", "tcp_port", {"host": HOST, "port": free_port(), "timeout_s": 1}),
                                     ("Memory", "memory", {"warn_pct": 99, "fail_pct": 100})]:
        api.post(f"/policies/{policy['id']}/checks", {"check_type": check_type, "name": name, "interval_s": 30,
                                                      "failures_before_alert": 20, "params": params})
    agent, device_id = live.enrolled_agent()
    agent.start()
    # The policy comes with the answer to the first check-in; its checks run at once and their results
    # wait in the spool for the next check-in (one interval later): stop the server before that.
    wait_until(lambda: (agent.state_dir / "policy.json").exists(), 30, "the policy on the agent", live.details,
               interval=0.05)
    live.server.stop()
    acknowledged = live.instance.query(
        f"from tenfold.agents.models import Agent\nresult = Agent.objects.get(device_id={device_id}).last_seq")

    # when: the agent keeps collecting while the server is down
    def outage_spool() -> list[dict[str, Any]] | None:
        items = spooled(agent.state_dir)
        kinds = [i["kind"] for i in items]
        return items if kinds.count("check_result") >= 2 and kinds.count("metrics") >= 2 else None

    items = wait_until(outage_spool, 45, "check results and metrics spooled during the outage", live.details)
    facts = agent.status()

    # then: the spool holds every item after the acknowledged one, numbered without a gap, none dropped
    seqs = [i["seq"] for i in items]
    assert seqs == list(range(acknowledged + 1, acknowledged + 1 + len(seqs))), (acknowledged, seqs)
    assert facts["spool_items"] >= len(items) and facts["dropped"] == {}, facts
    assert facts["last_error"] is not None, facts  # it did try, and failed, to check in
    assert agent.running(), agent.log()

    # when: the server is back
    live.server.start()
    wait_until(lambda: all(i["seq"] > seqs[-1] for i in spooled(agent.state_dir)), 60,
               "the spooled items to be acknowledged", live.details)

    # then: each spooled item was applied exactly once: results by seq, metrics samples by their time
    audit = live.instance.query(AUDIT.format(device_id=device_id, items=items))
    assert audit["last_seq"] >= seqs[-1], audit
    assert audit["duplicate_seqs"] == [], audit
    expected = {str(i["seq"]): [[i["data"]["check_id"], STATUS_CODES[i["data"]["status"]]]]
                for i in items if i["kind"] == "check_result"}
    assert audit["results"] == expected
    assert audit["metrics"] == {i["at"]: 1 for i in items if i["kind"] == "metrics"}
    assert agent.running(), agent.log()
    facts = agent.status()
    assert facts["dropped"] == {} and facts["credential_rejected"] is None, facts


# --- (b) kill -9 in the middle of check-ins ------------------------------------------------------------

AGENTS = 8
ITEMS_PER_AGENT = 600
BATCH = 20  # items per check-in: many check-ins, so that the kill falls in the middle of some


class SimulatedAgent(threading.Thread):
    """An agent made of the real agent's spool and client: it sends its spool oldest first, BATCH items per
    check-in, and deletes only what the server acknowledged. `gate` pauses it; `lock` is held per check-in."""

    def __init__(self, number: int, server_url: str, credential: str, spool_path: Path, gate: threading.Event):
        super().__init__(name=f"simulated-agent-{number}", daemon=True)
        self.number = number
        self.client = AgentClient(server_url, credential, verify_tls=False, timeout=20)
        self.spool_path = spool_path
        self.gate = gate
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.acked = 0
        self.checkins = 0
        self.failures = 0
        self.in_request = False
        self.drained = False
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            spool = Spool(self.spool_path)  # SQLite connections stay in the thread that made them
            try:
                self._fill(spool)
                self.ready.set()
                while not self.stop.is_set() and not self.drained:
                    self.gate.wait(timeout=0.5)
                    if self.gate.is_set():
                        with self.lock:
                            self._step(spool)
            finally:
                spool.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
            self.ready.set()

    def _fill(self, spool: Spool) -> None:
        # Speed only: the durability under test is the server's, not the simulated agent's disk.
        spool._db.execute("PRAGMA synchronous=OFF")
        for n in range(ITEMS_PER_AGENT):
            spool.put("check_result", {"check_id": 1 + n % 5, "status": "pass", "value": float(n),
                                       "message": f"simulated result {n}"})

    def _step(self, spool: Spool) -> None:
        items = spool.pending(BATCH)
        if not items:
            self.drained = True
            return
        body = build_checkin(items, agent_version="0.1.0", policy_version="", sent_at=iso(utcnow())).body
        self.in_request = True
        try:
            answer = self.client.checkin(body)
        except ServerUnavailable:
            self.failures += 1
            time.sleep(0.05)
            return
        finally:
            self.in_request = False
        ack = int(answer["ack_seq"])
        assert ack >= items[-1].seq, (ack, items[-1].seq)
        spool.ack(ack)
        self.acked = max(self.acked, ack)
        self.checkins += 1


SEQS = """
from tenfold.agents.models import Agent
from tenfold.assets.models import CheckResult
result = {{str(d): {{"last_seq": Agent.objects.get(device_id=d).last_seq,
                    "seqs": sorted(CheckResult.objects.filter(device_id=d).values_list("seq", flat=True))}}
          for d in {devices!r}}}
"""


def test_server_killed_in_the_middle_of_checkins_loses_nothing_acknowledged(live):
    # given: AGENTS enrolled agents, each with ITEMS_PER_AGENT check results in its spool
    token = live.agent_token("--max-uses", str(AGENTS))
    gate = threading.Event()
    agents: dict[int, SimulatedAgent] = {}
    for n in range(AGENTS):
        answer = AgentClient(live.server.url, verify_tls=False).enroll({
            "token": token, "hostname": f"sim-{n:02d}", "machine_id": f"simulated-machine-{n:02d}",
            "os": {"family": "linux", "name": "Debian GNU/Linux", "version": "12"}, "agent_version": "0.1.0"})
        agents[int(answer["device_id"])] = SimulatedAgent(n, live.server.url, answer["credential"],
                                                          live.root / f"sim-{n:02d}" / "spool.sqlite3", gate)
    try:
        for agent in agents.values():
            agent.start()
        for agent in agents.values():
            assert agent.ready.wait(timeout=60) and agent.error is None, agent.error

        # when: they check in together, and the server is killed once about a third is acknowledged
        gate.set()
        total = AGENTS * ITEMS_PER_AGENT
        wait_until(lambda: sum(a.acked for a in agents.values()) >= total // 3 or any(a.error for a in agents.values()),
                   60, "a third of the items acknowledged", live.details, interval=0.01)
        in_flight = sum(a.in_request for a in agents.values())
        live.server.kill9()
        gate.clear()
        for agent in agents.values():  # wait for each check-in in flight to end (it fails: the server is gone)
            with agent.lock:
                pass
        acked_at_kill = {device: agent.acked for device, agent in agents.items()}
        assert not any(a.error for a in agents.values()), [a.error for a in agents.values()]
        assert 0 < sum(acked_at_kill.values()) < total, acked_at_kill

        # then: after a restart, every acknowledged item is stored exactly once, with no gap before it
        live.server.start()
        stored = live.instance.query(SEQS.format(devices=sorted(agents)))
        for device, acked in acked_at_kill.items():
            facts = stored[str(device)]
            assert facts["last_seq"] >= acked, (device, acked, facts["last_seq"])
            assert facts["seqs"] == list(range(1, facts["last_seq"] + 1)), (device, acked, facts["last_seq"])
        unanswered = {d: stored[str(d)]["last_seq"] - a for d, a in acked_at_kill.items()
                      if stored[str(d)]["last_seq"] > a}
        print(f"check-ins in flight at the kill: {in_flight}; committed but never answered (items): {unanswered}")

        # when: the agents go on (re-sending what was never acknowledged)
        gate.set()
        wait_until(lambda: all(a.drained or a.error for a in agents.values()), 90, "every spool drained",
                   live.details)
    finally:
        for agent in agents.values():
            agent.stop.set()
            gate.set()
        for agent in agents.values():
            agent.join(timeout=30)

    # then: everything arrived, each item once
    assert not any(a.error for a in agents.values()), [a.error for a in agents.values()]
    stored = live.instance.query(SEQS.format(devices=sorted(agents)))
    for device in agents:
        assert stored[str(device)]["last_seq"] == ITEMS_PER_AGENT
        assert stored[str(device)]["seqs"] == list(range(1, ITEMS_PER_AGENT + 1)), device
