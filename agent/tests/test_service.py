"""The agent end to end against a loopback server that speaks the protocol."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from conftest import FakeClock, FakeCollector, ProtocolServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from tenfold_agent.__main__ import main
from tenfold_agent.client import AgentClient
from tenfold_agent.config import AgentConfig, ConfigError
from tenfold_agent.service import NOT_SUPPORTED, Agent, enroll, inventory_hash
from tenfold_agent.signing import key_id_of

POLICY = {"version": "c0ffee", "checks": [
    {"id": 7, "type": "memory", "interval": 120, "params": {"warn_pct": 100, "fail_pct": 100}},
    {"id": 8, "type": "script", "interval": 300, "params": {"script_id": 1}},
], "collectors": {"inventory_hours": 24, "backup_tools": [], "network_discovery": False}}


def _agent(state: Path, server: ProtocolServer, clock: FakeClock | None = None,
           collector: FakeCollector | None = None) -> Agent:
    clock = clock or FakeClock(stop_after=1)
    return Agent(state, collector=collector or FakeCollector(), clock=clock, wait=clock.wait, rand=lambda: 0.5)


def _enrolled(tmp_path: Path, server: ProtocolServer) -> Path:
    state = tmp_path / "state"
    enroll(state, server.url, "tfe_1a2b3c4d_good", insecure=True, collector=FakeCollector())
    return state


def test_enroll_then_run_once_with_the_real_collectors(tmp_path: Path, server: ProtocolServer,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    public = base64.b64encode(raw).decode()
    server.signing_keys = [{"key_id": key_id_of(public), "public_key": public}]
    state = tmp_path / "state"
    assert main(["enroll", "--server", server.url, "--token", "tfe_1a2b3c4d_good", "--state-dir", str(state),
                 "--insecure"]) == 0
    sent = server.requests[0]["body"]
    assert set(sent) == {"token", "hostname", "machine_id", "os", "agent_version"}
    assert sent["os"]["family"] == "linux" and sent["machine_id"]
    config = json.loads((state / "config.json").read_text())
    assert config["device_id"] == 42 and config["signing_keys"] == server.signing_keys
    assert json.loads((state / "trust.json").read_text()) == {"keys": {key_id_of(public): public}, "revoked": []}
    assert main(["enroll", "--server", server.url, "--token", "tfe_1a2b3c4d_good", "--state-dir", str(state),
                 "--insecure"]) == 1  # already enrolled

    server.next_answer = {"policy": POLICY}
    assert main(["run", "--once", "--state-dir", str(state)]) == 0
    checkin = server.requests[1]
    assert checkin["headers"]["Authorization"] == "Bearer tfa_0a1b2c3d_secret"
    assert checkin["body"]["policy_version"] == ""
    kinds = [i["kind"] for i in checkin["body"]["items"]]
    assert kinds == ["heartbeat", "metrics", "inventory", "posture", "updates"]
    seqs = [i["seq"] for i in checkin["body"]["items"]]
    assert seqs == [1, 2, 3, 4, 5]
    items = {i["kind"]: i["data"] for i in checkin["body"]["items"]}
    assert items["heartbeat"] == {"uptime_s": items["heartbeat"]["uptime_s"], "dropped": 0}
    assert any(d["mount"] == "/" for d in items["metrics"]["disks"])
    assert {"hardware", "software"} == set(items["inventory"]) and items["inventory"]["software"]
    assert set(items["posture"]) == {"antivirus", "firewall", "pending_updates", "backup"}
    assert json.loads((state / "policy.json").read_text())["version"] == "c0ffee"

    # Second run: the policy's checks run (the script refused), the inventory is unchanged so not resent.
    assert main(["run", "--once", "--state-dir", str(state)]) == 0
    second = server.requests[2]["body"]
    assert second["policy_version"] == "c0ffee"
    assert [i["kind"] for i in second["items"]] == ["heartbeat", "metrics", "check_result", "check_result"]
    results = {i["data"]["check_id"]: i["data"] for i in second["items"] if i["kind"] == "check_result"}
    assert results[7]["status"] == "pass"
    assert results[8] == {"check_id": 8, "status": "error", "value": None, "message": "unsigned scripts are refused"}
    # (the updates snapshot of the first run is unchanged: listed again at start, not spooled again)
    assert [i["seq"] for i in second["items"]] == [6, 7, 8, 9]

    capsys.readouterr()
    assert main(["status", "--json", "--state-dir", str(state)]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["device_id"] == 42 and facts["spool_items"] == 0 and facts["last_seq"] == 9
    assert facts["policy_version"] == "c0ffee" and facts["credential"] == "tfa_0a1b2c3d_…"
    assert "secret" not in json.dumps(facts)
    assert server.refusals == []  # every body passed the server's own validation (when installed)


def test_enrollment_refusals(tmp_path: Path, server: ProtocolServer) -> None:
    assert main(["enroll", "--server", server.url, "--token", "tfe_1a2b3c4d_bad", "--state-dir", str(tmp_path),
                 "--insecure"]) == 3
    assert not (tmp_path / "config.json").exists()
    with pytest.raises(ConfigError, match="plain http"):
        enroll(tmp_path, server.url, "tfe_1a2b3c4d_good")
    server.signing_keys = [{"key_id": "k1", "public_key": "bm90IGEga2V5"}]
    with pytest.raises(ConfigError, match="not usable"):
        enroll(tmp_path, server.url, "tfe_1a2b3c4d_good", insecure=True, collector=FakeCollector())
    assert not (tmp_path / "config.json").exists()


def test_server_down_then_up_delivers_every_item_exactly_once_in_order(tmp_path: Path, server: ProtocolServer) -> None:
    state = _enrolled(tmp_path, server)
    port = server.httpd.server_address[1]
    server.stop()
    clock = FakeClock(stop_after=10)
    agent = _agent(state, server, clock)
    agent.run()  # collects every interval while every check-in fails
    collected = agent.spool.last_seq()
    assert agent.spool.count() == collected > 4
    assert len(clock.waits) == 10
    agent.close()

    restarted = ProtocolServer(port=port).start()
    try:
        again = _agent(state, restarted)
        assert again.sync().ok
        # Sequence audit: every spooled seq arrived once, in order, none lost.
        assert [i["seq"] for i in restarted.applied] == list(range(1, collected + 1))
        assert again.spool.count() == 0
        again.close()
    finally:
        restarted.stop()


def test_a_lost_answer_is_retried_without_duplicates(tmp_path: Path, server: ProtocolServer) -> None:
    state = _enrolled(tmp_path, server)
    agent = _agent(state, server)
    agent.collect()
    # The server commits but the agent never sees the answer (a cut connection looks like a 503 here).
    original = server.handle

    def commit_then_fail(path: str, headers: dict, raw: bytes):  # type: ignore[no-untyped-def]
        original(path, headers, raw)
        server.handle = original  # type: ignore[method-assign]
        return 503, {}, {"code": "unavailable", "message": "lost"}

    server.handle = commit_then_fail  # type: ignore[method-assign]
    assert not agent.sync().ok
    assert agent.spool.count() == len(server.applied)  # applied on the server, still spooled here
    assert agent.sync().ok
    assert len(server.requests) == 3  # enroll, the lost one, the retry
    lost, retry = (r["body"]["items"] for r in server.requests[1:3])
    assert [i["seq"] for i in lost] == [i["seq"] for i in retry]
    assert [i["seq"] for i in server.applied] == [i["seq"] for i in server.requests[1]["body"]["items"]]
    assert agent.spool.count() == 0


def test_jobs_builtins_and_refusals(tmp_path: Path, server: ProtocolServer) -> None:
    state = _enrolled(tmp_path, server)
    agent = _agent(state, server)
    agent.collect()
    server.next_answer = {"policy": POLICY, "jobs": [
        {"id": 12, "type": "collect_inventory_now"},
        {"id": 13, "kind": "run_checks_now", "payload": {}},  # the server's job shape
        {"id": 14, "type": "run_script", "script_id": 5, "signature": "…"},  # no signed document: refused
        {"id": 15, "kind": "format_disk", "payload": {}},  # a type this agent does not know
    ]}
    assert agent.sync().ok
    assert agent.jobs.wait_idle(30)  # the jobs run on the job runner's thread
    agent.spool.put_heartbeat({"uptime_s": 1})
    assert agent.sync().ok
    results = {i["data"]["job_id"]: i["data"] for i in server.applied if i["kind"] == "job_result"}
    statuses = [(i["data"]["job_id"], i["data"]["status"]) for i in server.applied if i["kind"] == "job_result"]
    # the unknown kind is answered at once (beside the runner); the others in the order received, one at a
    # time, a script first reporting "running"
    assert [s for s in statuses if s[0] != 15] == [(12, "succeeded"), (13, "succeeded"), (14, "running"),
                                                   (14, "failed")]
    assert [s for s in statuses if s[0] == 15] == [(15, "failed")]
    assert results[12]["status"] == "succeeded" and results[12]["stdout"].startswith("inventory collected")
    assert results[13] == {"job_id": 13, "status": "succeeded", "exit_code": 0, "stdout": "2 check(s) evaluated",
                           "stderr": "", "duration_ms": results[13]["duration_ms"]}
    assert results[14] == {"job_id": 14, "status": "failed", "exit_code": None, "stdout": "",
                           "stderr": "refused, nothing was run: the job carries no signed document or no body",
                           "duration_ms": results[14]["duration_ms"]}
    assert results[15] == {"job_id": 15, "status": "failed", "exit_code": None, "stdout": "",
                           "stderr": NOT_SUPPORTED, "duration_ms": results[15]["duration_ms"]}
    kinds = [i["kind"] for i in server.applied]
    assert kinds.count("inventory") == 2 and kinds.count("check_result") == 2
    # The same jobs delivered again (the server had not seen the results yet) run once only.
    server.next_answer = {"jobs": [{"id": 12, "type": "collect_inventory_now"}, {"id": 14, "type": "run_script"}]}
    agent.spool.put_heartbeat({"uptime_s": 1})
    assert agent.sync().ok
    assert not agent.jobs.busy()
    assert sum(1 for i in server.applied if i["kind"] == "job_result") == 5
    agent.close()


def test_credential_rotation_and_interval_from_the_answer(tmp_path: Path, server: ProtocolServer) -> None:
    state = _enrolled(tmp_path, server)
    agent = _agent(state, server)
    agent.collect()
    server.credentials.add("tfa_99999999_new")
    server.next_answer = {"rotate_credential": "tfa_99999999_new", "checkin_interval": 300, "checkin_jitter": 30}
    assert agent.sync().ok
    saved = AgentConfig.load(state)
    assert (saved.credential, saved.checkin_interval, saved.checkin_jitter) == ("tfa_99999999_new", 300, 30)
    assert agent.interval_with_jitter() == 300.0  # rand 0.5: the middle of ±30
    agent.spool.put_heartbeat({"uptime_s": 2})
    assert agent.sync().ok
    assert server.requests[-1]["headers"]["Authorization"] == "Bearer tfa_99999999_new"


def test_inventory_sent_on_change_and_daily(tmp_path: Path, server: ProtocolServer) -> None:
    state = _enrolled(tmp_path, server)
    collector = FakeCollector()
    clock = FakeClock()
    agent = _agent(state, server, clock, collector)
    assert agent.maybe_inventory(clock.now) is not None
    clock.now += 3600
    assert agent.maybe_inventory(clock.now) is None  # uptime changed, nothing else
    collector.software_list.append({"name": "new", "version": "2", "publisher": None, "install_date": None})
    clock.now += 3600
    assert agent.maybe_inventory(clock.now) is not None
    clock.now += 1800
    assert agent.maybe_inventory(clock.now) is None  # looked at less than an hour ago
    clock.now += 24 * 3600
    assert agent.maybe_inventory(clock.now) is not None  # unchanged, but a day old
    a = {"hardware": {"serial": "1", "uptime_s": 5, "logged_in_users": ["a"]}, "software": []}
    b = {"hardware": {"serial": "1", "uptime_s": 9, "logged_in_users": []}, "software": []}
    assert inventory_hash(a) == inventory_hash(b)


def test_client_enroll_sends_no_authorization(server: ProtocolServer) -> None:
    AgentClient(server.url, verify_tls=False).enroll({
        "token": "tfe_1a2b3c4d_good", "hostname": "h", "machine_id": "m", "agent_version": "0.1.0",
        "os": {"family": "linux", "name": "Debian GNU/Linux", "version": "12"}})
    assert "Authorization" not in server.requests[0]["headers"]


def test_loop_runs_a_new_policy_at_once_and_takes_the_new_interval(tmp_path: Path, server: ProtocolServer) -> None:
    state = _enrolled(tmp_path, server)
    server.next_answer = {"policy": POLICY}
    server.interval, server.jitter = 30, 0
    clock = FakeClock(stop_after=3)
    agent = _agent(state, server, clock)
    start = clock.now
    agent.run()
    # No wait before the new checks run; then the new 30 s interval, counted from the first collection.
    assert clock.waits == [0.0, 30.0, 30.0]
    assert clock.now == start + 60
    kinds = [i["kind"] for i in server.applied]
    assert kinds[:4] == ["heartbeat", "metrics", "inventory", "posture"]
    assert kinds[4:] == ["check_result", "check_result", "heartbeat", "metrics"]
    assert agent.spool.count() == 0
