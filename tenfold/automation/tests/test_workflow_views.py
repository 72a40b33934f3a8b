"""Workflow and webhook screens and API: lists, the builder's errors, the secret shown once, the validate
endpoint, and what technicians may do (read, not build; their clients' runs only)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.automation import workflow_services
from tenfold.automation.models import WebhookSubscription, Workflow, WorkflowVersion
from tenfold.automation.workflows import build_context, start_run
from tenfold.clients.models import Client
from tenfold.core.roles import Role
from tenfold.monitoring.tests.factories import make_device

pytestmark = pytest.mark.django_db
NOTE = {"trigger": {"event": "alert.raised"}, "steps": [{"id": "note", "action": "note_ticket",
                                                         "params": {"body": "Seen"}}]}


def _http(user: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def test_the_list_searches_and_filters_by_enabled() -> None:
    admin = make_staff(Role.ADMIN)
    workflow_services.workflow_create(actor=admin, data={"name": "Printer follow-up", "definition": NOTE,
                                                         "enabled": False})
    http = _http(admin)
    page = http.get("/automation/workflows/?q=printer").content.decode()
    assert "Printer follow-up" in page and "Alert raised → ticket" not in page
    enabled = http.get("/automation/workflows/?enabled=True").content.decode()
    assert "Alert raised → ticket" in enabled and "Printer follow-up" not in enabled


def test_the_builder_shows_refusals_and_saves_nothing() -> None:
    admin = make_staff(Role.ADMIN)
    bad = {"trigger": {"event": "alert.raised"}, "steps": [
        {"id": "loop", "action": "note_ticket", "params": {"body": "x"}, "on_success": "loop"}]}
    response = _http(admin).post("/automation/workflows/new/", {
        "name": "Looping", "definition": json.dumps(bad), "enabled": "on"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Step “loop” leads back to “loop”: a workflow cannot loop." in page
    assert not Workflow.objects.filter(name="Looping").exists()


def test_technicians_read_workflows_but_cannot_build_and_see_only_their_clients_runs() -> None:
    admin = make_staff(Role.ADMIN)
    client_a = Client.objects.create(name="Client A", status="active")
    client_b = Client.objects.create(name="Client B", status="active")
    workflow = workflow_services.workflow_create(actor=admin, data={"name": "Noting", "definition": NOTE})
    device = make_device(client_a, name="PC-OF-A")
    run = start_run(workflow, workflow.current_version, build_context(
        "alert.raised", {"client_id": client_a.pk, "device_id": device.pk}, device.created_at), trigger_key="t:1")
    technician = make_staff(Role.TECHNICIAN, clients=[client_b], restricted=True)
    http = _http(technician)
    assert http.get(f"/automation/workflows/{workflow.pk}/").status_code == 200
    assert http.get("/automation/workflows/new/").status_code == 403
    assert http.post(f"/automation/workflows/{workflow.pk}/enabled/", {"enabled": "false"}).status_code == 403
    assert Workflow.objects.get(pk=workflow.pk).enabled
    assert http.get(f"/automation/workflow-runs/{run.pk}/").status_code == 404
    assert "PC-OF-A" not in http.get("/automation/workflow-runs/").content.decode()
    assert http.get("/automation/webhooks/").status_code == 403


def test_the_webhook_secret_is_shown_once() -> None:
    admin = make_staff(Role.ADMIN)
    http = _http(admin)
    response = http.post("/automation/webhooks/new/", {"name": "NOC", "url": "https://hooks.example.com/x",
                                                       "events": ["alert.raised"], "enabled": "on"})
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret in response.content.decode()
    assert subscription.secret not in http.get(f"/automation/webhooks/{subscription.pk}/").content.decode()
    refused = http.post("/automation/webhooks/new/", {"name": "Inside", "url": "https://192.168.1.10/x",
                                                      "events": ["alert.raised"]})
    assert "webhooks only reach public addresses" in refused.content.decode()
    assert WebhookSubscription.objects.count() == 1


def test_the_api_validates_creates_and_versions() -> None:
    admin = make_staff(Role.ADMIN)
    headers = bearer(make_api_token(admin, name="wf"))
    http = HttpClient()
    bad = {"trigger": {"event": "alert.raised"}, "steps": [{"id": "s", "action": "run_script",
                                                            "params": {"script_id": 424242}}]}
    answer = http.post("/api/v1/workflows/validate", json.dumps({"definition": bad}),
                       content_type="application/json", **headers).json()
    assert answer == {"valid": False, "errors": {
        "steps.s.params.script_id": ["Step “s”: the script #424242 does not exist."]}, "definition": None}
    refused = http.post("/api/v1/workflows", json.dumps({"name": "Bad", "definition": bad}),
                        content_type="application/json", **headers)
    assert refused.status_code == 422 and not Workflow.objects.filter(name="Bad").exists()
    created = http.post("/api/v1/workflows", json.dumps({"name": "Noting", "definition": NOTE}),
                        content_type="application/json", **headers)
    assert created.status_code == 201 and created.json()["version"] == 1
    pk = created.json()["id"]
    changed = {**NOTE, "steps": [{"id": "note", "action": "note_ticket", "params": {"body": "Seen twice"}}]}
    patched = http.patch(f"/api/v1/workflows/{pk}", json.dumps({"definition": changed}),
                         content_type="application/json", **headers)
    assert patched.json()["version"] == 2
    versions = http.get(f"/api/v1/workflows/{pk}/versions", **headers).json()
    assert [v["number"] for v in versions] == [2, 1] and WorkflowVersion.objects.filter(workflow_id=pk).count() == 2
    hook = http.post("/api/v1/webhooks", json.dumps({"name": "NOC", "url": "https://hooks.example.com/x",
                                                     "events": ["ticket.created"]}),
                     content_type="application/json", **headers)
    assert hook.status_code == 201 and len(hook.json()["secret"]) > 30
    assert "secret" not in http.get(f"/api/v1/webhooks/{hook.json()['id']}", **headers).json()
