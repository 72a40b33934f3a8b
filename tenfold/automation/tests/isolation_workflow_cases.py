"""Isolation cases of workflows, workflow runs and webhooks (see tenfold/core/isolation.py).

Workflows and webhook subscriptions are MSP-level (client_owned=False): only roles decide, and building them is
the full level of the jobs right (technicians read workflows and runs, 403 on every write; webhooks, whose log
carries every client's events, are for builders only). A run belongs to the client of its event: a technician
restricted to client B gets 404 on client A's run and never sees it listed."""

from __future__ import annotations

import json
from typing import Any

from tenfold.automation import webhooks, workflow_services
from tenfold.automation.models import (
    WebhookDelivery,
    WebhookSubscription,
    Workflow,
    WorkflowRun,
    WorkflowRunStep,
    WorkflowVersion,
)
from tenfold.automation.workflows import build_context, start_run
from tenfold.core.isolation import Case, World
from tenfold.core.isolation import register as register_cases
from tenfold.monitoring.tests.factories import make_device

MODELS = (Workflow, WorkflowVersion, WorkflowRun, WorkflowRunStep, WebhookSubscription, WebhookDelivery)
LEAK = "PC-ISOLATION-WORKFLOW"
DEFINITION = {"trigger": {"event": "alert.raised"}, "conditions": [], "steps": [
    {"id": "note", "action": "note_ticket", "params": {"body": "Seen by the workflow"}}]}


def wf(world: World) -> dict[str, Any]:
    if "workflows" not in world.extra:
        admin = world.users["admin"]
        workflow = workflow_services.workflow_create(actor=admin, data={
            "name": "Isolation workflow", "definition": DEFINITION, "enabled": False})
        device = make_device(world.client_a, name=LEAK)
        run = start_run(workflow, workflow.current_version,
                        {**build_context("alert.raised", {"client_id": world.client_a.pk, "device_id": device.pk,
                                                          "alert_id": None}, device.created_at)},
                        trigger_key="isolation:1")
        subscription, _secret = webhooks.subscription_create(actor=admin, data={
            "name": "Isolation hook", "url": "https://hooks.example.com/isolation", "events": ["alert.raised"]})
        webhooks.enqueue(subscription, event="alert.raised", key="isolation:1", data={"device": LEAK},
                         client_id=world.client_a.pk)
        world.extra["workflows"] = {"workflow": workflow, "run": run, "subscription": subscription}
    return world.extra["workflows"]


def workflow_params(world: World) -> dict[str, Any]:
    return {"workflow_id": wf(world)["workflow"].pk}


def run_params(world: World) -> dict[str, Any]:
    return {"run_id": wf(world)["run"].pk}


def webhook_params(world: World) -> dict[str, Any]:
    return {"webhook_id": wf(world)["subscription"].pk}


def new_workflow(world: World) -> dict[str, Any]:
    wf(world)
    return {"name": "Isolation new workflow", "description": "", "enabled": True, "definition": DEFINITION}


def new_workflow_form(world: World) -> dict[str, Any]:
    return {**new_workflow(world), "definition": json.dumps(DEFINITION), "enabled": "on"}


def new_webhook(world: World) -> dict[str, Any]:
    wf(world)
    return {"name": "Isolation new hook", "url": "https://hooks.example.com/new", "events": ["alert.raised"]}




def _world(world: World) -> dict[str, Any]:
    wf(world)
    return {}


UI = "ui:automation:"
API = "api:{} /api/v1"
MSP = {"client_owned": False}
BUILD = {"capability": "jobs", "action": "delete"}

register_cases(
    Case(f"{UI}workflow_list", "list", "jobs", staff_only=True, params=_world),
    Case(f"{UI}workflow_create", "create", method="POST", params=_world, body=new_workflow_form, models=MODELS,
         staff_only=True,
         **BUILD, **MSP),
    Case(f"{UI}workflow_detail", "object", "jobs", params=workflow_params, staff_only=True, **MSP,
         note="the runs listed on it are filtered by client scope (test_workflow_views)"),
    Case(f"{UI}workflow_edit", "object", method="POST", params=workflow_params,
         body=lambda w: {**new_workflow_form(w), "name": "Isolation workflow"}, models=MODELS, staff_only=True,
         **BUILD, **MSP),
    Case(f"{UI}workflow_toggle", "object", method="POST", params=workflow_params, body=lambda w: {"enabled": "true"},
         models=MODELS, staff_only=True, **BUILD, **MSP),
    Case(f"{UI}workflow_run_list", "list", "jobs", staff_only=True, params=_world,
         leak=lambda w: LEAK),
    Case(f"{UI}workflow_run_detail", "object", "jobs", params=run_params, staff_only=True),
    Case(f"{UI}webhook_list", "list", staff_only=True, params=_world, **BUILD),
    Case(f"{UI}webhook_create", "create", method="POST", params=_world,
         body=lambda w: {**new_webhook(w), "enabled": "on"},
         models=MODELS, staff_only=True, success=(200,), **BUILD, **MSP),
    Case(f"{UI}webhook_detail", "object", params=webhook_params, staff_only=True, **BUILD, **MSP),
    Case(f"{UI}webhook_ping", "object", method="POST", params=webhook_params, models=MODELS, staff_only=True,
         **BUILD, **MSP),
    Case(API.format("GET") + "/workflows", "list", "jobs", params=_world),
    Case(API.format("POST") + "/workflows", "create", params=_world, body=new_workflow, models=MODELS, **BUILD, **MSP),
    Case(API.format("POST") + "/workflows/validate", "create", params=_world, body=lambda w: {"definition": DEFINITION},
         models=MODELS, **BUILD, **MSP),
    Case(API.format("GET") + "/workflows/{workflow_id}", "object", "jobs", params=workflow_params, **MSP),
    Case(API.format("PATCH") + "/workflows/{workflow_id}", "object", params=workflow_params,
         body=lambda w: {"description": "Changed"}, models=MODELS, **BUILD, **MSP),
    Case(API.format("DELETE") + "/workflows/{workflow_id}", "object",
         params=lambda w: wf(w) and {"workflow_id": workflow_services.workflow_create(
             actor=w.users["admin"], data={"name": f"Isolation deletable {Workflow.objects.count()}",
                                           "definition": DEFINITION}).pk},
         models=MODELS, **BUILD, **MSP),
    Case(API.format("POST") + "/workflows/{workflow_id}/enabled", "object", params=workflow_params,
         body=lambda w: {"enabled": True}, models=MODELS, **BUILD, **MSP),
    Case(API.format("GET") + "/workflows/{workflow_id}/versions", "object", "jobs", params=workflow_params, **MSP),
    Case(API.format("GET") + "/workflow-runs", "list", "jobs", params=_world, leak=lambda w: LEAK),
    Case(API.format("GET") + "/workflow-runs/{run_id}", "object", "jobs", params=run_params),
    Case(API.format("GET") + "/webhooks", "list", params=_world, **BUILD),
    Case(API.format("POST") + "/webhooks", "create", params=_world, body=new_webhook, models=MODELS, **BUILD, **MSP),
    Case(API.format("GET") + "/webhooks/{webhook_id}", "object", params=webhook_params, **BUILD, **MSP),
    Case(API.format("PATCH") + "/webhooks/{webhook_id}", "object", params=webhook_params,
         body=lambda w: {"name": "Renamed hook"}, models=MODELS, **BUILD, **MSP),
    Case(API.format("DELETE") + "/webhooks/{webhook_id}", "object", params=webhook_params, models=MODELS, **BUILD,
         **MSP),
    Case(API.format("GET") + "/webhooks/{webhook_id}/deliveries", "object", params=webhook_params, **BUILD, **MSP),
    Case(API.format("POST") + "/webhooks/{webhook_id}/ping", "object", params=webhook_params, models=MODELS,
         success=(202,), **BUILD, **MSP),
)
