"""The run, group and scheduled-run pages and API: forms with errors, per-device status, cancel and retry, forged
ids of another client (404, nothing queued), and a real agent reporting a cancelled job."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.agents.models import Job, JobStatus
from tenfold.automation import services
from tenfold.automation.models import DeviceGroup, Run, ScheduledRun
from tenfold.automation.tests.factories import Key, make_script, managed_device, register, sign
from tenfold.automation.tests.workflow_helpers import Agent
from tenfold.clients.models import Client
from tenfold.core.roles import Role

pytestmark = pytest.mark.django_db


def _http(user: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def test_action_run_form_per_device_status_cancel_and_retry() -> None:
    admin = make_staff(Role.ADMIN)
    client = Client.objects.create(name="Fournil", status="active")
    first, second = managed_device(client, "SRV-1"), managed_device(client, "SRV-2")
    http = _http(admin)
    # the catalogue page lists the actions; an action's form shows its own fields
    choose = http.get(reverse("automation:action_run")).content.decode()
    assert "Restart a service" in choose and "Collect the inventory now" in choose
    form = http.get(reverse("automation:action_run"), {"action": "restart_service"}).content.decode()
    assert 'name="param_service"' in form and 'name="param_delay_minutes"' not in form
    # a bad service name is shown beside its field, nothing queued
    bad = http.post(reverse("automation:action_run"), {
        "action": "restart_service", "param_service": "two words", "target": "devices",
        "devices": [str(first.pk)], "when": "now"})
    assert bad.status_code == 200 and "Name the service" in bad.content.decode() and not Job.objects.exists()
    done = http.post(reverse("automation:action_run"), {
        "action": "restart_service", "param_service": "cron", "target": "devices",
        "devices": [str(first.pk), str(second.pk)], "when": "now"})
    run = Run.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("automation:run_detail", args=[run.pk])
    one, two = run.items.order_by("device_id")
    Job.objects.filter(pk=one.job_id).update(status=JobStatus.FAILED, exit_code=3, stdout="unit cron not found",
                                             duration_ms=1200)
    page = http.get(reverse("automation:run_detail", args=[run.pk])).content.decode()
    assert "unit cron not found" in page and "1200 ms" in page and "Failed" in page and "Queued" in page
    # cancel the queued one; retry the failed one
    http.post(reverse("automation:run_item_cancel", args=[two.pk]))
    assert Job.objects.get(pk=two.job_id).status == "cancelled"
    retry = http.post(reverse("automation:run_retry", args=[run.pk]), {})
    new = Run.objects.exclude(pk=run.pk).get()
    assert retry["Location"] == reverse("automation:run_detail", args=[new.pk])
    assert list(new.items.values_list("device_id", flat=True)) == [first.pk]


def test_retry_form_asks_for_the_secret_again() -> None:
    admin = make_staff(Role.ADMIN)
    key = Key()
    register(admin, key, admin)
    script = make_script(admin)
    sign(script.versions.get(), key, admin)
    device = managed_device(Client.objects.create(name="Fournil", status="active"), "SRV-1")
    [item] = services.script_run(actor=admin, script=script, device_ids=[device.pk],
                                 parameters={"service": "cups", "password": "pw-one"})
    Job.objects.filter(pk=item.job_id).update(status=JobStatus.FAILED)
    http = _http(admin)
    page = http.get(reverse("automation:run_retry", args=[item.run_id])).content.decode()
    assert 'name="param_password"' in page and 'type="password"' in page
    missing = http.post(reverse("automation:run_retry", args=[item.run_id]), {})
    assert missing.status_code == 200 and Run.objects.count() == 1
    http.post(reverse("automation:run_retry", args=[item.run_id]), {"param_password": "pw-two"})
    assert Run.objects.count() == 2
    assert Job.objects.order_by("-pk").first().payload["secret_parameters"] == {"password": "pw-two"}


def test_forged_ids_of_another_client_are_404_and_queue_nothing() -> None:
    mine = Client.objects.create(name="Mine", status="active")
    theirs = Client.objects.create(name="Theirs", status="active")
    ours = managed_device(mine, "SRV-MINE")
    other = managed_device(theirs, "SRV-THEIRS")
    admin = make_staff(Role.ADMIN)
    other_group = services.group_create(actor=admin, data={"name": "Theirs", "client_id": theirs.pk,
                                                           "kind": "dynamic"})
    technician = make_staff(Role.TECHNICIAN, clients=[mine], restricted=True)
    http = _http(technician)
    url = reverse("automation:action_run")
    base = {"action": "run_checks_now", "when": "now"}
    for posted in ({"target": "devices", "devices": [str(ours.pk), str(other.pk)]},
                   {"target": "group", "group": str(other_group.pk)},
                   {"target": "client", "client": str(theirs.pk)},
                   {"target": "devices", "devices": [str(ours.pk)], "when": "daily", "time": "02:00",
                    "schedule_name": "x", "group": str(other_group.pk)}):
        assert http.post(url, {**base, **posted}).status_code == 404
    assert http.post(reverse("automation:group_create"), {
        "name": "Forged", "owner": str(theirs.pk), "kind": "dynamic"}).status_code == 404
    assert http.post(reverse("automation:group_create"), {"name": "MSP", "kind": "dynamic"}).status_code == 403
    for name in ("group_detail", "group_edit", "group_delete"):
        method = http.get if name == "group_detail" else http.post
        assert method(reverse(f"automation:{name}", args=[other_group.pk])).status_code == 404
    api = HttpClient()
    headers = bearer(make_api_token(technician))
    for body in ({"action": "run_checks_now", "group_id": other_group.pk},
                 {"action": "run_checks_now", "device_ids": [other.pk]},
                 {"action": "run_checks_now", "client_id": theirs.pk}):
        answer = api.post("/api/v1/runs", data=json.dumps(body), content_type="application/json", **headers)
        assert answer.status_code == 404
    assert not Job.objects.exists() and not Run.objects.exists() and not ScheduledRun.objects.exists()
    assert DeviceGroup.objects.count() == 1


def test_group_pages_and_members() -> None:
    admin = make_staff(Role.ADMIN)
    client = Client.objects.create(name="Fournil", status="active")
    managed_device(client, "SRV-1")
    managed_device(client, "PC-1", os_family="windows")
    http = _http(admin)
    bad = http.post(reverse("automation:group_create"), {"name": "", "kind": "dynamic"})
    assert bad.status_code == 200 and not DeviceGroup.objects.exists()
    done = http.post(reverse("automation:group_create"), {"name": "All Linux", "kind": "dynamic",
                                                          "os_family": "linux"})
    group = DeviceGroup.objects.get()
    assert done["Location"] == reverse("automation:group_detail", args=[group.pk])
    assert (group.client_id, group.filters) == (None, {"os_family": "linux"})
    detail = http.get(reverse("automation:group_detail", args=[group.pk])).content.decode()
    assert "SRV-1" in detail and "PC-1" not in detail and "1 member now" in detail
    http.post(reverse("automation:group_edit", args=[group.pk]), {"name": "All Windows", "kind": "dynamic",
                                                                 "os_family": "windows"})
    detail = http.get(reverse("automation:group_detail", args=[group.pk])).content.decode()
    assert "All Windows" in detail and "PC-1" in detail and "SRV-1" not in detail
    listing = http.get(reverse("automation:group_list"), {"q": "windows"}).content.decode()
    assert "All Windows" in listing
    api = HttpClient()
    headers = bearer(make_api_token(admin))
    members = api.get(f"/api/v1/device-groups/{group.pk}/members", **headers).json()
    assert [m["name"] for m in members["items"]] == ["PC-1"]
    http.post(reverse("automation:group_delete", args=[group.pk]))
    assert not DeviceGroup.objects.exists()


def test_scheduling_from_the_action_form_and_the_scheduled_pages() -> None:
    admin = make_staff(Role.ADMIN)
    device = managed_device(Client.objects.create(name="Fournil", status="active"), "SRV-1")
    http = _http(admin)
    missing_name = http.post(reverse("automation:action_run"), {
        "action": "collect_inventory_now", "target": "devices", "devices": [str(device.pk)], "when": "weekly",
        "time": "03:00", "weekday": "0"})
    assert missing_name.status_code == 200 and not ScheduledRun.objects.exists()
    done = http.post(reverse("automation:action_run"), {
        "action": "collect_inventory_now", "target": "devices", "devices": [str(device.pk)], "when": "weekly",
        "time": "03:00", "weekday": "0", "schedule_name": "Monday inventory"})
    scheduled = ScheduledRun.objects.get()
    assert done["Location"] == reverse("automation:scheduled_detail", args=[scheduled.pk])
    assert (scheduled.cron, scheduled.action, scheduled.enabled, Job.objects.count()) == (
        "0 3 * * 1", "collect_inventory_now", True, 0)
    assert "Monday inventory" in http.get(reverse("automation:scheduled_list")).content.decode()
    http.post(reverse("automation:scheduled_toggle", args=[scheduled.pk]), {"enabled": "0"})
    scheduled.refresh_from_db()
    assert scheduled.enabled is False
    http.post(reverse("automation:scheduled_delete", args=[scheduled.pk]))
    assert not ScheduledRun.objects.exists()


def test_api_runs_an_action_and_reports_each_device() -> None:
    admin = make_staff(Role.ADMIN)
    client = Client.objects.create(name="Fournil", status="active")
    device = managed_device(client, "SRV-1")
    api = HttpClient()
    headers = bearer(make_api_token(admin))
    refused = api.post("/api/v1/runs", data=json.dumps({"action": "reboot", "parameters": {"delay_minutes": 9999},
                                                        "device_ids": [device.pk]}),
                       content_type="application/json", **headers)
    assert refused.status_code == 422 and refused.json()["errors"] == {
        "delay_minutes": ["The delay is a whole number of minutes between 0 and 1440."]}
    created = api.post("/api/v1/runs", data=json.dumps({"action": "reboot", "device_ids": [device.pk]}),
                       content_type="application/json", **headers)
    assert created.status_code == 201
    [run] = created.json()
    assert (run["action"], run["parameters"], [d["status"] for d in run["devices"]]) == (
        "reboot", {"delay_minutes": 5, "message": ""}, ["queued"])
    cancelled = api.post(f"/api/v1/runs/{run['id']}/cancel", **headers)
    assert cancelled.json() == {"cancelled": 1, "cancelling": 0}
    catalogue = api.get("/api/v1/runs/actions", **headers).json()
    assert [a["kind"] for a in catalogue][:2] == ["restart_service", "reboot"]


def test_a_real_agent_reports_a_cancelled_job() -> None:
    # given an enrolled agent whose job was sent
    admin = make_staff(Role.ADMIN)
    agent = Agent(Client.objects.create(name="Fournil", status="active"))
    [run] = services.action_run(actor=admin, action="run_checks_now",
                                target=services.Target(device_ids=[agent.device.pk]))
    item = run.items.get()
    Job.objects.filter(pk=item.job_id).update(status=JobStatus.SENT)
    services.run_item_cancel(actor=admin, item=item)
    # when the agent stops it and reports it cancelled through its check-in
    agent.report_job(item.job, "cancelled", None)
    # then the device shows cancelled
    item.refresh_from_db()
    item.job.refresh_from_db()
    assert (item.job.status, item.display_status) == ("cancelled", "cancelled")
