"""Helpers of the workflow tests: a signed clean-up script, an enrolled device with a failing disk check, the
real path from check results to an alert, and job results reported by the agent's check-in."""

from __future__ import annotations

from typing import Any

from django.test import Client as HttpClient

from tenfold.agents.models import Job
from tenfold.agents.tests.helpers import checkin_body, enroll, post
from tenfold.assets.models import Device
from tenfold.automation.models import Script
from tenfold.automation.tests.factories import Key, make_script, register, sign
from tenfold.clients.models import Client
from tenfold.core import events
from tenfold.monitoring.evaluation import evaluate_new_results
from tenfold.monitoring.models import Alert, CheckDefinition
from tenfold.monitoring.tests.factories import add_results, make_check, make_policy

CLEANUP_BODY = '#!/bin/sh\nrm -rf /tmp/tenfold-cache-*\necho "freed $TF_MIN_FREE"\n'
CLEANUP_PARAMS = [{"name": "min_free", "label": "Minimum free %", "type": "number", "required": False,
                   "default": 15},
                  {"name": "token", "label": "Token", "type": "secret", "required": False}]


def signed_cleanup(owner: Any, approver: Any, name: str = "Clean up disk") -> Script:
    key = Key()
    register(owner, key, approver)
    script = make_script(owner, name=name, body=CLEANUP_BODY, parameters=CLEANUP_PARAMS, category="maintenance")
    sign(script.versions.get(), key, approver)
    return script


class Agent:
    """A device enrolled through the agent API; reports check and job results through its check-in."""

    def __init__(self, client: Client, machine_id: str = "mid-wf-1", hostname: str = "srv-files") -> None:
        answer = enroll(client, machine_id=machine_id, hostname=hostname)
        self.credential = answer["credential"]
        self.device = Device.objects.get(pk=answer["device_id"])
        Device.objects.filter(pk=self.device.pk).update(managed=True, state="active")
        self.device.refresh_from_db()
        self.seq = 1

    def report_job(self, job: Job, status: str, exit_code: int | None, stdout: str = "", stderr: str = "") -> None:
        self.seq += 1
        item = {"seq": self.seq, "kind": "job_result", "at": "2026-11-26T16:02:00Z", "data": {
            "job_id": job.pk, "status": status, "exit_code": exit_code, "stdout": stdout, "stderr": stderr,
            "duration_ms": 850}}
        response = post(HttpClient(), "/agent/v1/checkin", checkin_body(item), self.credential)
        assert response.status_code == 200, response.content


def disk_check(client: Client) -> CheckDefinition:
    return make_check(make_policy("client", client=client), "disk_free", severity="critical",
                      failures_before_alert=2, name="Disk C: free space")


def raise_alert(device: Device, check: CheckDefinition) -> Alert:
    """Failing results evaluated by monitoring: the alert it raises (alert.raised in the outbox)."""
    add_results(device, check, ["fail", "fail"])
    report = evaluate_new_results()
    assert report.raised, "the failing check raised no alert"
    return Alert.objects.get(pk=report.raised[-1])


def resolve_alert(device: Device, check: CheckDefinition) -> Alert:
    add_results(device, check, ["pass"])
    report = evaluate_new_results()
    assert report.resolved
    return Alert.objects.get(pk=report.resolved[-1])


def deliver() -> int:
    """Deliver the outbox until it is empty (handlers emit further events)."""
    total = 0
    for _ in range(10):
        delivered = events.deliver_pending()
        total += delivered
        if not delivered:
            break
    return total


def disk_workflow_definition(script: Script, *, on_failure: str = "ticket") -> dict[str, Any]:
    return {"trigger": {"event": "alert.raised"},
            "conditions": [{"field": "check_type", "op": "in", "value": ["disk_free"]}],
            "steps": [{"id": "cleanup", "action": "run_script",
                       "params": {"script_id": script.pk, "parameters": {"min_free": 20, "token": "s3cr3t-t0ken"}},
                       "on_success": "end", "on_failure": on_failure},
                      {"id": "ticket", "action": "open_ticket",
                       "params": {"title": "", "priority": "auto", "reuse_open": True}}]}
