"""Isolation cases of the monitoring pages and API (see tenfold/core/isolation.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from tenfold.assets.tests.isolation_cases import device_a
from tenfold.core.isolation import Case, World, register
from tenfold.monitoring.models import Alert, CheckDefinition, ClientBaseline, MaintenanceWindow, Policy

MODELS = (Policy, CheckDefinition, Alert, MaintenanceWindow, ClientBaseline)
POLICY_A_NAME = "ISO-POLICY-A-5521"
ALERT_A_TITLE = "ISO-ALERT-A-8812"
WINDOW_A_REASON = "ISO-WINDOW-A-3390"


def policy_a(world: World) -> Policy:
    if "policy_a" not in world.extra:
        policy = Policy.objects.create(name=POLICY_A_NAME, scope="client", client=world.client_a)
        world.extra["check_a"] = CheckDefinition.objects.create(
            policy=policy, check_type="disk_free", name="Disk / of A",
            params={"mount": "/", "warn_pct": 20, "fail_pct": 10})
        world.extra["policy_a"] = policy
    return world.extra["policy_a"]


def check_a(world: World) -> CheckDefinition:
    policy_a(world)
    return world.extra["check_a"]


def alert_a(world: World) -> Alert:
    if "alert_a" not in world.extra:
        world.extra["alert_a"] = Alert.objects.create(client=world.client_a, device=device_a(world),
                                                      check_definition=check_a(world), title=ALERT_A_TITLE,
                                                      severity="critical")
    return world.extra["alert_a"]


def window_a(world: World) -> MaintenanceWindow:
    if "window_a" not in world.extra:
        now = timezone.now()
        world.extra["window_a"] = MaintenanceWindow.objects.create(
            client=world.client_a, starts_at=now, ends_at=now + timedelta(hours=2), reason=WINDOW_A_REASON)
    return world.extra["window_a"]


def _alert_built_no_params(world: World) -> dict[str, Any]:
    # The route has no id in its URL; the alert is built here, before the "nothing changed" snapshot.
    alert_a(world)
    return {}


def policy_params(world: World) -> dict[str, Any]:
    return {"policy_id": policy_a(world).pk}


def check_params(world: World) -> dict[str, Any]:
    return {"check_id": check_a(world).pk}


def alert_params(world: World) -> dict[str, Any]:
    return {"alert_id": alert_a(world).pk}


def window_params(world: World) -> dict[str, Any]:
    return {"window_id": window_a(world).pk}


def device_params(world: World) -> dict[str, Any]:
    return {"device_id": device_a(world).pk}


def client_params(world: World) -> dict[str, Any]:
    device_a(world)
    return {"client_id": world.client_a.pk}


def leak_policy(world: World) -> str:
    policy_a(world)
    return POLICY_A_NAME


def leak_alert(world: World) -> str:
    alert_a(world)
    return ALERT_A_TITLE


def leak_window(world: World) -> str:
    window_a(world)
    return WINDOW_A_REASON


def check_form(world: World) -> dict[str, Any]:
    return {"check_type": "tcp_port", "name": "RDP", "interval_s": "300", "severity": "critical",
            "failures_before_alert": "2", "enabled": "on", "p_host": "srv-ad-01", "p_port": "3389",
            "p_timeout_s": "5"}


def check_json(world: World) -> dict[str, Any]:
    return {"check_type": "tcp_port", "name": "RDP", "params": {"host": "srv-ad-01", "port": 3389}}


def window_times() -> dict[str, str]:
    now = timezone.now()
    return {"starts_at": now.isoformat(), "ends_at": (now + timedelta(hours=3)).isoformat()}


def window_form(world: World) -> dict[str, Any]:
    now = timezone.localtime()
    return {"client": world.client_a.pk, "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"), "reason": "Firewall swap"}


register(
    # UI: alerts
    Case("ui:monitoring:alert_list", "list", "devices", staff_only=True, leak=leak_alert),
    Case("ui:monitoring:alert_detail", "object", "devices", params=alert_params, staff_only=True),
    Case("ui:monitoring:alert_acknowledge", "object", "devices", "change", method="POST", params=alert_params,
         models=MODELS, staff_only=True),
    Case("ui:monitoring:alert_resolve", "object", "devices", "change", method="POST", params=alert_params,
         models=MODELS, staff_only=True),
    Case("ui:monitoring:alert_bulk_acknowledge", "list", "devices", "change", method="POST",
         params=_alert_built_no_params,
         body=lambda w: {"alert": [str(alert_a(w).pk)]}, models=MODELS, staff_only=True,
         note="Alerts the user cannot see are skipped (tested in test_services)."),
    # UI: policies and checks
    Case("ui:monitoring:policy_list", "list", "policies", staff_only=True, leak=leak_policy),
    Case("ui:monitoring:policy_create", "create", "policies", "add", method="POST",
         body=lambda w: {"name": "Every device", "scope": "global", "enabled": "on"}, models=MODELS,
         staff_only=True, client_owned=False, note="An MSP-level (global) policy."),
    Case("ui:monitoring:policy_detail", "object", "policies", params=policy_params, staff_only=True),
    Case("ui:monitoring:policy_edit", "object", "policies", "change", method="POST", params=policy_params,
         body=lambda w: {"name": "Renamed by isolation", "enabled": "on"}, models=MODELS, staff_only=True),
    Case("ui:monitoring:policy_delete", "object", "policies", "delete", method="POST", params=policy_params,
         models=MODELS, staff_only=True),
    Case("ui:monitoring:check_create", "create", "policies", "change", method="POST", params=policy_params,
         body=check_form, models=MODELS, staff_only=True),
    Case("ui:monitoring:check_edit", "object", "policies", "change", method="POST", params=check_params,
         body=check_form, models=MODELS, staff_only=True),
    Case("ui:monitoring:check_delete", "object", "policies", "change", method="POST", params=check_params,
         models=MODELS, staff_only=True),
    # UI: maintenance windows
    Case("ui:monitoring:window_list", "list", "devices", staff_only=True, leak=leak_window),
    Case("ui:monitoring:window_create", "list", "devices", "add", method="POST", body=window_form,
         models=MODELS, staff_only=True,
         note="The client is a form field (no id in the URL): a client the user cannot see is not among its "
              "choices and the form is refused (test_views)."),
    Case("ui:monitoring:window_delete", "object", "devices", "delete", method="POST", params=window_params,
         models=MODELS, staff_only=True),
    # UI: fragments of the device and client pages
    Case("ui:monitoring:device_policy", "object", "devices", params=device_params, staff_only=True),
    Case("ui:monitoring:device_metrics", "object", "devices", params=device_params, staff_only=True),
    Case("ui:monitoring:client_baseline", "object", "policies", params=client_params, staff_only=True),
    Case("ui:monitoring:baseline_apply", "object", "policies", "change", method="POST", params=client_params,
         body=lambda w: {"tier": "better"}, models=MODELS, staff_only=True),
    # API: policies and checks
    Case("api:GET /api/v1/policies", "list", "policies", leak=leak_policy),
    Case("api:POST /api/v1/policies", "create", "policies", "add",
         body=lambda w: {"name": "API policy", "scope": "client", "client_id": w.client_a.pk}, models=MODELS),
    Case("api:GET /api/v1/policies/{policy_id}", "object", "policies", params=policy_params),
    Case("api:PATCH /api/v1/policies/{policy_id}", "object", "policies", "change", params=policy_params,
         body=lambda w: {"description": "patched"}, models=MODELS),
    Case("api:DELETE /api/v1/policies/{policy_id}", "object", "policies", "delete", params=policy_params,
         models=MODELS),
    Case("api:GET /api/v1/policies/{policy_id}/checks", "object", "policies", params=policy_params),
    Case("api:POST /api/v1/policies/{policy_id}/checks", "create", "policies", "change", params=policy_params,
         body=check_json, models=MODELS),
    Case("api:GET /api/v1/checks/{check_id}", "object", "policies", params=check_params),
    Case("api:PATCH /api/v1/checks/{check_id}", "object", "policies", "change", params=check_params,
         body=lambda w: {"interval_s": 600}, models=MODELS),
    Case("api:DELETE /api/v1/checks/{check_id}", "object", "policies", "change", params=check_params,
         models=MODELS),
    # API: alerts
    Case("api:GET /api/v1/alerts", "list", "devices", leak=leak_alert),
    Case("api:GET /api/v1/alerts/{alert_id}", "object", "devices", params=alert_params),
    Case("api:POST /api/v1/alerts/{alert_id}/acknowledge", "object", "devices", "change", params=alert_params,
         models=MODELS),
    Case("api:POST /api/v1/alerts/{alert_id}/resolve", "object", "devices", "change", params=alert_params,
         models=MODELS),
    # API: maintenance windows
    Case("api:GET /api/v1/maintenance-windows", "list", "devices", leak=leak_window),
    Case("api:POST /api/v1/maintenance-windows", "create", "devices", "add", params=client_params,
         body=lambda w: {"client_id": w.client_a.pk, "reason": "API window", **window_times()}, models=MODELS),
    Case("api:GET /api/v1/maintenance-windows/{window_id}", "object", "devices", params=window_params),
    Case("api:PATCH /api/v1/maintenance-windows/{window_id}", "object", "devices", "change", params=window_params,
         body=lambda w: {"reason": "Patched window"}, models=MODELS),
    Case("api:DELETE /api/v1/maintenance-windows/{window_id}", "object", "devices", "delete",
         params=window_params, models=MODELS),
    # API: effective policy and baseline
    Case("api:GET /api/v1/devices/{device_id}/policy", "object", "devices", params=device_params),
    Case("api:GET /api/v1/clients/{client_id}/baseline", "object", "policies", params=client_params),
    Case("api:PUT /api/v1/clients/{client_id}/baseline", "object", "policies", "change", params=client_params,
         body=lambda w: {"tier": "best"}, models=MODELS),
)
