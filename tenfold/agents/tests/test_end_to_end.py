"""End to end: a real server, a real agent enrolled on this machine, a failing check, an alert, its resolution.

`tenfold serve` on a free loopback port against a throw-away database; `tenfold agent-token` then
`tenfold-agent enroll` and `tenfold-agent run` as processes; everything observed through the REST API
(with a staff token), and alerts evaluated by `tenfold manage evaluate_monitoring`, which is what the
worker runs every minute.
"""

from __future__ import annotations

import socket

import pytest

from tenfold.agents.tests.live import HOST, free_port, wait_until

pytestmark = pytest.mark.slow

RUN_CHECKS_NOW = """
from tenfold.accounts.models import User
from tenfold.agents.services import job_create
from tenfold.assets.models import Device
actor = User.objects.get(email="e2e-admin@msp.test")
result = job_create(actor=actor, device=Device.objects.get(pk={device_id}), kind="run_checks_now", payload={{}}).pk
"""
JOB = """
from tenfold.agents.models import Job
result = list(Job.objects.filter(pk={job_id}).values_list("status", "stdout").get())
"""


def test_a_real_agent_reports_its_inventory_and_a_failing_port_raises_then_resolves_an_alert(live):
    # given: this machine's agent, enrolled with a token made on the command line, running
    agent, device_id = live.enrolled_agent()
    agent.start()
    api = live.api

    # then: its inventory arrives, as the API shows it
    device = wait_until(lambda: (d := api.get(f"/devices/{device_id}"))["inventory_at"] and d, 30,
                        "the agent's first inventory", live.details)
    assert (device["client_id"], device["managed"], device["online"]) == (live.client_id, True, True)
    assert device["hostname"] == socket.gethostname()
    assert device["os_family"] == "linux" and device["os_name"]
    assert device["memory_bytes"] > 0 and device["cpu_cores"] > 0
    assert api.get(f"/devices/{device_id}/software", page_size=1)["count"] > 0
    assert api.get("/devices", client_id=live.client_id)["count"] == 1

    # given: a client policy with a TCP-port check on a loopback port nobody listens on
    port = free_port()
    policy = api.post("/policies", {"name": "Till service", "scope": "client", "client_id": live.client_id})
    check = api.post(f"/policies/{policy['id']}/checks", {
        "check_type": "tcp_port", "name": "Till service port", "interval_s": 30, "severity": "critical",
        "failures_before_alert": 1, "params": {"host": HOST, "port": port, "timeout_s": 1}})
    assert [c["id"] for c in api.get(f"/devices/{device_id}/policy")["checks"]] == [check["id"]]

    # when: the agent takes the policy at its next check-in and runs the check
    def results(status: str) -> list[dict]:
        page = api.get(f"/devices/{device_id}/check-results", check_id=check["id"], page_size=50)
        return [r for r in page["items"] if r["status"] == status]

    failed = wait_until(lambda: results("fail"), 30, "a failing tcp_port result", live.details)
    report = live.evaluate()

    # then: one open alert for that device and check
    assert failed[0]["check_id"] == check["id"] and failed[0]["seq"] > 0
    assert str(port) in failed[0]["message"]
    assert report["raised"] >= 1, report
    alerts = api.get("/alerts", device_id=device_id, status="open")["items"]
    assert [(a["check_definition_id"], a["kind"], a["severity"]) for a in alerts] == [
        (check["id"], "check", "critical")]
    alert_id = alerts[0]["id"]

    # when: the service listens again on that port, and a technician asks the agent to run its checks now
    # (a job riding on the next check-in answer; otherwise the check runs again 30 s after its first run)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, port))
        listener.listen(16)
        job_id = live.instance.query(RUN_CHECKS_NOW.format(device_id=device_id))
        wait_until(lambda: results("pass"), 45, "a passing tcp_port result", live.details)
    report = live.evaluate()

    # then: the alert is resolved, and none is open
    assert report["resolved"] >= 1, report
    assert api.get(f"/alerts/{alert_id}")["status"] == "resolved"
    assert api.get("/alerts", device_id=device_id, status="open")["count"] == 0
    assert agent.running(), agent.log()
    facts = agent.status()
    assert (facts["device_id"], facts["checks"], facts["credential_rejected"]) == (device_id, 1, None)
    job = wait_until(lambda: (j := live.instance.query(JOB.format(job_id=job_id)))[0] == "succeeded" and j, 20,
                     "the job's result", live.details)
    assert job == ["succeeded", "1 check(s) evaluated"]
