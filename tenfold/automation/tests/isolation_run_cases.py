"""Isolation cases of runs (scripts and agent actions), device groups and scheduled runs.

Client A has two managed Linux devices, a client-owned dynamic group, a run of `run_checks_now` on both (one job
queued, one failed: something to cancel and to retry) and a scheduled run on one device. Every page and operation
is checked for another client's users (404, nothing queued) and roles without `jobs` (403)."""

from __future__ import annotations

from typing import Any

from tenfold.agents.models import Job, JobStatus
from tenfold.automation import services
from tenfold.automation.models import DeviceGroup, Run, ScheduledRun, ScriptRun
from tenfold.automation.tests.factories import managed_device
from tenfold.core.isolation import Case, World
from tenfold.core.isolation import register as register_cases

MODELS = (DeviceGroup, Run, ScriptRun, ScheduledRun, Job)
LEAK = "PC-ISOLATION-RUNS"


def runs_world(world: World) -> dict[str, Any]:
    if "runs" not in world.extra:
        admin = world.users["admin"]
        first = managed_device(world.client_a, LEAK)
        second = managed_device(world.client_a, "PC-ISOLATION-RUNS-2")
        group = services.group_create(actor=admin, data={
            "name": "Isolation Linux of A", "client_id": world.client_a.pk, "kind": "dynamic",
            "filters": {"os_family": "linux"}})
        [run] = services.action_run(actor=admin, action="run_checks_now",
                                    target=services.Target(device_ids=[first.pk, second.pk]))
        queued, failed = run.items.order_by("device_id")
        Job.objects.filter(pk=failed.job_id).update(status=JobStatus.FAILED, exit_code=1)
        scheduled = services.scheduled_run_create(actor=admin, data={
            "name": "Isolation nightly checks", "action": "run_checks_now", "device_ids": [first.pk],
            "schedule_kind": "daily", "time": "02:30"})
        world.extra["runs"] = {"first": first, "second": second, "group": group, "run": run, "queued": queued,
                               "failed": failed, "scheduled": scheduled}
    return world.extra["runs"]


def run_params(world: World) -> dict[str, Any]:
    return {"run_id": runs_world(world)["run"].pk}


def item_params(world: World) -> dict[str, Any]:
    return {"item_id": runs_world(world)["queued"].pk}


def group_params(world: World) -> dict[str, Any]:
    return {"group_id": runs_world(world)["group"].pk}


def scheduled_params(world: World) -> dict[str, Any]:
    return {"scheduled_id": runs_world(world)["scheduled"].pk}


def client_params(world: World) -> dict[str, Any]:
    # Not in the path: names client A so that users who cannot see it must get 404 (the body names its device).
    runs_world(world)
    return {"client_id": world.client_a.pk}


def action_body(world: World) -> dict[str, Any]:
    return {"action": "restart_service", "parameters": {"service": "cron"},
            "device_ids": [runs_world(world)["first"].pk]}


def action_form(world: World) -> dict[str, Any]:
    return {"action": "restart_service", "param_service": "cron", "target": "devices",
            "devices": [str(runs_world(world)["first"].pk)], "when": "now"}


def group_body(world: World) -> dict[str, Any]:
    return {"name": "Isolation static of A", "client_id": world.client_a.pk, "kind": "static",
            "device_ids": [runs_world(world)["first"].pk]}


def group_form(world: World) -> dict[str, Any]:
    runs_world(world)
    return {"name": "Isolation servers", "kind": "dynamic", "device_kind": "server"}


def scheduled_body(world: World) -> dict[str, Any]:
    return {"name": "Isolation weekly inventory", "action": "collect_inventory_now",
            "device_ids": [runs_world(world)["first"].pk], "schedule_kind": "weekly", "time": "03:00", "weekday": 0}


def scheduled_form(world: World) -> dict[str, Any]:
    return {"schedule_name": "Isolation weekly checks", "target": "devices",
            "devices": [str(runs_world(world)["first"].pk)], "when": "weekly", "time": "03:00", "weekday": "0"}


UI = "ui:automation:"
API = "api:{} /api/v1"

register_cases(
    Case(f"{UI}action_run", "object", "jobs", "add", method="POST", body=action_form, models=MODELS, staff_only=True,
         params=lambda w: runs_world(w) and {},
         note="the target is in the body: a forged device, group or client is a 404 (tests/test_runs_views.py)"),
    Case(f"{UI}run_cancel", "object", "jobs", "add", method="POST", params=run_params, models=MODELS,
         staff_only=True),
    Case(f"{UI}run_retry", "object", "jobs", "add", method="POST", params=run_params, body=lambda w: {},
         models=MODELS, staff_only=True),
    Case(f"{UI}run_item_detail", "object", "jobs", params=item_params, staff_only=True),
    Case(f"{UI}run_item_cancel", "object", "jobs", "add", method="POST", params=item_params, models=MODELS,
         staff_only=True),
    Case(f"{UI}group_list", "list", "jobs", staff_only=True, params=lambda w: runs_world(w) and {},
         leak=lambda w: "Isolation Linux of A"),
    Case(f"{UI}group_create", "object", "jobs", "add", method="POST", body=group_form, models=MODELS,
         staff_only=True, params=lambda w: runs_world(w) and {},
         note="an MSP group: staff restricted to some clients get 403 (tests/test_runs_views.py)"),
    Case(f"{UI}group_detail", "object", "jobs", params=group_params, staff_only=True),
    Case(f"{UI}group_edit", "object", "jobs", "change", method="POST", params=group_params,
         body=lambda w: {"name": "Isolation Linux of A", "kind": "dynamic", "os_family": "windows"}, models=MODELS,
         staff_only=True),
    Case(f"{UI}group_delete", "object", "jobs", "delete", method="POST", params=group_params, models=MODELS,
         staff_only=True),
    Case(f"{UI}scheduled_list", "list", "jobs", staff_only=True, params=lambda w: runs_world(w) and {},
         leak=lambda w: "Isolation nightly checks"),
    Case(f"{UI}scheduled_detail", "object", "jobs", params=scheduled_params, staff_only=True),
    Case(f"{UI}scheduled_edit", "object", "jobs", "change", method="POST", params=scheduled_params,
         body=scheduled_form, models=MODELS, staff_only=True,
         note="a forged device, group or client in the body is a 404 too (tests/test_scheduled_edit.py)"),
    Case(f"{UI}scheduled_toggle", "object", "jobs", "change", method="POST", params=scheduled_params,
         body=lambda w: {"enabled": "0"}, models=MODELS, staff_only=True),
    Case(f"{UI}scheduled_delete", "object", "jobs", "delete", method="POST", params=scheduled_params,
         models=MODELS, staff_only=True),
    # API
    Case(API.format("GET") + "/runs/actions", "list", "jobs", params=lambda w: runs_world(w) and {}),
    Case(API.format("GET") + "/runs", "list", "jobs", params=lambda w: runs_world(w) and {}, leak=lambda w: LEAK),
    Case(API.format("POST") + "/runs", "create", "jobs", "add", params=client_params, body=action_body,
         models=MODELS),
    Case(API.format("GET") + "/runs/{run_id}", "object", "jobs", params=run_params),
    Case(API.format("POST") + "/runs/{run_id}/cancel", "object", "jobs", "add", params=run_params, models=MODELS),
    Case(API.format("POST") + "/runs/{run_id}/retry", "object", "jobs", "add", params=run_params,
         body=lambda w: {"secrets": {}}, models=MODELS),
    Case(API.format("POST") + "/runs/devices/{item_id}/cancel", "object", "jobs", "add", params=item_params,
         models=MODELS),
    Case(API.format("GET") + "/device-groups", "list", "jobs", params=lambda w: runs_world(w) and {},
         leak=lambda w: "Isolation Linux of A"),
    Case(API.format("POST") + "/device-groups", "create", "jobs", "add", params=client_params, body=group_body,
         models=MODELS),
    Case(API.format("GET") + "/device-groups/{group_id}", "object", "jobs", params=group_params),
    Case(API.format("PATCH") + "/device-groups/{group_id}", "object", "jobs", "change", params=group_params,
         body=lambda w: {"description": "Changed by isolation"}, models=MODELS),
    Case(API.format("DELETE") + "/device-groups/{group_id}", "object", "jobs", "delete", params=group_params,
         models=MODELS),
    Case(API.format("GET") + "/device-groups/{group_id}/members", "object", "jobs", params=group_params),
    Case(API.format("GET") + "/scheduled-runs", "list", "jobs", params=lambda w: runs_world(w) and {},
         leak=lambda w: "Isolation nightly checks"),
    Case(API.format("POST") + "/scheduled-runs", "create", "jobs", "add", params=client_params, body=scheduled_body,
         models=MODELS),
    Case(API.format("GET") + "/scheduled-runs/{scheduled_id}", "object", "jobs", params=scheduled_params),
    Case(API.format("PATCH") + "/scheduled-runs/{scheduled_id}", "object", "jobs", "change",
         params=scheduled_params, body=lambda w: {"schedule_kind": "cron", "cron": "15 4 * * 1-5"}, models=MODELS,
         note="pausing ({\"enabled\": false}) takes the same access check (tests/test_scheduled_edit.py)"),
    Case(API.format("DELETE") + "/scheduled-runs/{scheduled_id}", "object", "jobs", "delete",
         params=scheduled_params, models=MODELS),
)
