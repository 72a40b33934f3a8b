"""The demo's automation: a signing key whose private half exists only while the demo is seeded, the
starter library signed with it, and a few script runs on demo devices.

The private key is generated in this process, used to sign the starter scripts, and dropped: it is never
written anywhere, so the demo server (like any Tenfold server) holds no private key. A consequence worth
knowing: nobody can sign anything more in the demo (a second key needs a countersignature by the first,
whose private half is gone); to try signing, use a fresh install and register your own first key.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from tenfold.agents.models import Job, JobStatus
from tenfold.assets.models import Device, DeviceState
from tenfold.automation import services, signing
from tenfold.automation.models import Script, VersionStatus

# What those scripts print (outputs of the demo's past runs; nothing here touches a file).
OUTPUTS = {
    "clear-temp-files-shell": ("/tmp: freed 183204 KiB\n/var/tmp: freed 2048 KiB\n"  # noqa: S108  # nosec B108
                               "total freed: 185252 KiB\n", ""),
    "check-disk-health-shell": ("== file systems ==\nFilesystem Size Used Avail Use% Mounted on\n"
                                "/dev/sda2 234G 98G 124G 45% /\n== SMART health ==\n"
                                "/dev/sda: SMART overall-health self-assessment test result: PASSED\n", ""),
    "restart-service-powershell": ("restarting Spooler (Print Spooler)\nSpooler is Running\n", ""),
    "check-disk-health-powershell": ("== volumes ==\nC Windows: 41.2 GiB free of 237.9 GiB (82.7 % used)\n"
                                     "== physical disks ==\nSAMSUNG MZVLB256: Healthy (OK)\n", ""),
}
PARAMETERS = {"restart-service-powershell": {"service": "Spooler"}}


def seed_automation(rng: random.Random, owner: Any, approver: Any, technicians: list[Any]) -> int:
    """Sign the starter library with a throw-away key and record a few runs; returns the runs made."""
    private = signing.generate_private_key()
    public = signing.public_key_of(private)
    services.signing_key_register(actor=owner, name="Demo approver key (private key discarded)",
                                  public_key=public, owner=approver)
    key_id = signing.key_id_of(public)
    for script in Script.objects.prefetch_related("versions").order_by("pk"):
        for version in script.versions.filter(status=VersionStatus.AWAITING_SIGNATURE):
            services.signature_upload(actor=approver, version=version, key_id=key_id,
                                      signature=signing.sign(private, version.document.encode("utf-8")))
    del private  # never stored: the demo holds only the public key, as every Tenfold server
    devices = list(Device.objects.filter(managed=True).exclude(state=DeviceState.RETIRED).order_by("pk"))
    now = timezone.now()
    count = 0
    for slug, (stdout, stderr) in OUTPUTS.items():
        script = Script.objects.get(slug=slug)
        family = "windows" if script.language == "powershell" else "linux"
        candidates = [d for d in devices if d.os_family == family]
        for device in rng.sample(candidates, min(3, len(candidates))):
            [run] = services.script_run(actor=rng.choice(technicians), script=script, device_ids=[device.pk],
                                        parameters=PARAMETERS.get(slug, {}))
            finished = now - timedelta(hours=rng.randint(2, 200))
            Job.objects.filter(pk=run.job_id).update(
                status=JobStatus.SUCCEEDED, exit_code=0, stdout=stdout, stderr=stderr,
                duration_ms=rng.randint(400, 9000), sent_at=finished - timedelta(seconds=30), finished_at=finished)
            count += 1
    seed_runs(rng, owner, technicians)
    return count


def seed_runs(rng: random.Random, owner: Any, technicians: list[Any]) -> dict[str, int]:
    """Device groups ("All Linux servers" across clients, one client's workstations), a weekly disk clean-up
    scheduled on the Linux servers (a dry run, see seed_workflows), and a past "restart the print spooler" run
    on the workstations with mixed results as their agents would have reported them."""
    from tenfold.automation.models import ScheduledRun

    servers = services.group_create(actor=owner, data={
        "name": "All Linux servers", "description": "Every Linux server of every client.", "kind": "dynamic",
        "filters": {"os_family": "linux", "device_kind": "server"}})
    windows = list(Device.objects.filter(managed=True, os_family="windows").exclude(state=DeviceState.RETIRED)
                   .order_by("client_id", "pk"))
    if not windows:
        return {"groups": 1, "scheduled": 0, "runs": 0}
    client_id = max({d.client_id for d in windows}, key=lambda c: sum(1 for d in windows if d.client_id == c))
    client_name = next(d.client.name for d in windows if d.client_id == client_id)
    workstations = services.group_create(actor=owner, data={
        "name": f"Workstations of {client_name}", "client_id": client_id, "kind": "dynamic",
        "filters": {"os_family": "windows"}})
    cleanup = Script.objects.get(slug="clear-temp-files-shell")
    scheduled = 0
    if Device.objects.filter(managed=True, os_family="linux", kind="server").exists():
        services.scheduled_run_create(actor=owner, data={
            "name": "Weekly disk clean-up (Linux servers)", "script_id": cleanup.pk,
            # A dry run: `make run` enrolls the real machine in the demo, and a demo never deletes its files.
            "parameters": {"older_than_days": 7, "dry_run": True}, "group_id": servers.pk,
            "schedule_kind": "weekly", "time": "03:00", "weekday": 6})
        scheduled = ScheduledRun.objects.count()
    runs = services.action_run(actor=rng.choice(technicians), action="restart_service",
                               payload={"service": "Spooler"}, target=services.Target(group_id=workstations.pk))
    finished = timezone.now() - timedelta(days=1, hours=rng.randint(1, 6))
    outcomes = [(JobStatus.SUCCEEDED, 0, "Spooler restarted: Running\n", ""),
                (JobStatus.FAILED, 2, "", "Cannot stop service Spooler: a dependent service is running (Fax).\n"),
                (JobStatus.TIMED_OUT, None, "", "")]
    for index, item in enumerate(item for run in runs for item in run.items.order_by("pk")):
        status, code, stdout, stderr = outcomes[index] if index < len(outcomes) else outcomes[0]
        Job.objects.filter(pk=item.job_id).update(
            status=status, exit_code=code, stdout=stdout, stderr=stderr, sent_at=finished - timedelta(minutes=6),
            duration_ms=rng.randint(900, 4000) if status != JobStatus.TIMED_OUT else None, finished_at=finished)
    return {"groups": 2, "scheduled": scheduled, "runs": len(runs)}


# --- Workflows and webhooks --------------------------------------------------------------------------


def seed_workflows(rng: random.Random, builder: Any) -> dict[str, int]:
    """The demo's workflows: the shipped ones stay enabled; one custom "disk alert → clean-up → ticket on
    failure" with a few recorded runs (job results as the agents would report them); one webhook subscription
    to an example URL, disabled after failed deliveries, with its delivery log. Nothing here reaches the network."""
    from tenfold.automation import webhooks, workflow_services, workflows
    from tenfold.automation.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
    from tenfold.monitoring.models import Alert

    script = Script.objects.get(slug="clear-temp-files-shell")
    workflow = workflow_services.workflow_create(actor=builder, data={
        "name": "Disk alert → clean-up → ticket on failure",
        "description": "Counts the temporary files a clean-up would free when a Linux disk check fails (a dry run "
                       "in the demo); opens a ticket only if that fails.",
        "definition": {"trigger": {"event": "alert.raised"},
                       "conditions": [{"field": "check_type", "op": "in", "value": ["disk_free"]},
                                      {"field": "os_family", "op": "in", "value": ["linux"]}],
                       "steps": [{"id": "cleanup", "action": "run_script",
                                  # A dry run: `make run` enrolls the real machine in the demo, and a demo
                                  # must never delete files on it; an MSP turns dry_run off in its own copy.
                                  "params": {"script_id": script.pk,
                                             "parameters": {"older_than_days": 7, "dry_run": True}},
                                  "on_success": "end", "on_failure": "ticket"},
                                 {"id": "ticket", "action": "open_ticket",
                                  "params": {"title": "Disk still full on {device}", "priority": "auto",
                                             "reuse_open": True}}]}})
    version = workflow.current_version
    assert version is not None
    devices = list(Device.objects.filter(managed=True, os_family="linux").exclude(state=DeviceState.RETIRED)
                   .order_by("pk"))
    runs = 0
    for index, device in enumerate(rng.sample(devices, min(4, len(devices)))):
        alert = Alert.objects.filter(device=device).order_by("-pk").first()
        ctx = workflows.build_context("alert.raised", {
            "client_id": device.client_id, "device_id": device.pk, "alert_id": alert.pk if alert else None,
            "check_type": "disk_free", "severity": "warning", "kind": "check",
            "title": f"{device.name}: disk / below 10 % free"}, timezone.now())
        run = workflows.start_run(workflow, version, ctx, trigger_key=f"demo:{index}")
        if run is None or run.waiting_job_id is None:
            continue
        failed = index == 0
        Job.objects.filter(pk=run.waiting_job_id).update(
            status=JobStatus.FAILED if failed else JobStatus.SUCCEEDED, exit_code=1 if failed else 0,
            stdout="" if failed else OUTPUTS["clear-temp-files-shell"][0],
            stderr="rm: cannot remove '/var/tmp/build.lock': Device or resource busy\n" if failed else "",
            duration_ms=rng.randint(800, 4000), finished_at=timezone.now())
        workflows.resume_after_job(Job.objects.get(pk=run.waiting_job_id))
        runs += 1
    subscription, _secret = webhooks.subscription_create(actor=builder, data={
        "name": "NOC chat (example)", "url": "https://hooks.example.com/tenfold", "events": ["alert.raised",
                                                                                             "ticket.created"]})
    now = timezone.now()
    for number in range(3):
        delivery = WebhookDelivery.objects.create(
            subscription=subscription, event="alert.raised", key=f"demo:{number}",
            body={"id": number, "event": "alert.raised", "data": {"title": "Disk / below 10 % free"}},
            status=DeliveryStatus.SUCCEEDED if number == 0 else DeliveryStatus.FAILED,
            attempts=1 if number == 0 else webhooks.MAX_ATTEMPTS, last_status_code=200 if number == 0 else 503,
            last_error="" if number == 0 else "The receiver answered 503.",
            delivered_at=now - timedelta(days=3) if number == 0 else None)
        for attempt in range(1, delivery.attempts + 1):
            WebhookAttempt.objects.create(delivery=delivery, number=attempt,
                                          at=now - timedelta(days=2 - number, minutes=2 ** attempt),
                                          status_code=delivery.last_status_code, duration_ms=rng.randint(80, 900),
                                          error=delivery.last_error)
    type(subscription).objects.filter(pk=subscription.pk).update(
        enabled=False, consecutive_failures=webhooks.DISABLE_AFTER_FAILURES,
        disabled_reason=f"Disabled after {webhooks.DISABLE_AFTER_FAILURES} failed deliveries in a row.")
    return {"runs": runs, "webhooks": 1}
