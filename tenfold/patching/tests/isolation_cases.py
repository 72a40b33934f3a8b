"""Isolation cases of the patching pages and API (see tenfold/core/isolation.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from tenfold.assets.tests.isolation_cases import DEVICE_A_NAME, device_a
from tenfold.core.isolation import Case, World, register
from tenfold.patching.models import (
    ApprovalDecision,
    ApprovalPolicy,
    DeviceUpdate,
    DeviceUpdateScan,
    InstallRun,
    Update,
)

MODELS = (Update, DeviceUpdate, DeviceUpdateScan, ApprovalPolicy, ApprovalDecision, InstallRun)
UPDATE_A_TITLE = "ISO-UPDATE-A-4417"
POLICY_A_NAME = "ISO-PATCH-POLICY-A-2290"
DECISION_A_NOTE = "ISO-DECISION-A-6603"


def update_a(world: World) -> Update:
    """An update only client A's device reported (so a user who cannot see client A cannot see it)."""
    if "update_a" not in world.extra:
        device = device_a(world)
        now = timezone.now()
        update = Update.objects.create(source="windows_update", identifier="KB9990001", title=UPDATE_A_TITLE,
                                       category="security", severity="critical", released_on=date(2026, 11, 10))
        DeviceUpdate.objects.create(client=world.client_a, device=device, update=update, first_seen_at=now,
                                    last_seen_at=now)
        DeviceUpdateScan.objects.get_or_create(device=device, defaults={
            "client": world.client_a, "scanned_at": now, "sources": ["windows_update"]})
        world.extra["update_a"] = update
    return world.extra["update_a"]


def policy_a(world: World) -> ApprovalPolicy:
    if "patch_policy_a" not in world.extra:
        world.extra["patch_policy_a"] = ApprovalPolicy.objects.create(
            name=POLICY_A_NAME, scope="client", client=world.client_a, auto_approve_categories=["security"],
            auto_approve_after_days=3)
    return world.extra["patch_policy_a"]


def decision_a(world: World) -> ApprovalDecision:
    if "decision_a" not in world.extra:
        world.extra["decision_a"] = ApprovalDecision.objects.create(
            update=update_a(world), client=world.client_a, decision="approved", note=DECISION_A_NOTE)
    return world.extra["decision_a"]


def update_params(world: World) -> dict[str, Any]:
    return {"update_id": update_a(world).pk}


def policy_params(world: World) -> dict[str, Any]:
    return {"policy_id": policy_a(world).pk}


def decision_params(world: World) -> dict[str, Any]:
    return {"decision_id": decision_a(world).pk}


def device_params(world: World) -> dict[str, Any]:
    update_a(world)
    return {"device_id": device_a(world).pk}


def client_params(world: World) -> dict[str, Any]:
    update_a(world)
    return {"client_id": world.client_a.pk}


def _built(world: World) -> dict[str, Any]:
    # Routes without an id: client A's records are built before the "nothing changed" snapshot.
    update_a(world)
    return {}


def leak_update(world: World) -> str:
    update_a(world)
    return UPDATE_A_TITLE


def leak_policy(world: World) -> str:
    policy_a(world)
    return POLICY_A_NAME


def leak_decision(world: World) -> str:
    decision_a(world)
    return DECISION_A_NOTE


def leak_device(world: World) -> str:
    update_a(world)
    return DEVICE_A_NAME


def policy_form(world: World) -> dict[str, Any]:
    return {"name": "Nightly security", "scope": "global", "enabled": "on", "auto_approve_categories": ["security"],
            "auto_approve_after_days": "3", "window_days": ["1", "3"], "window_start": "22:00",
            "window_end": "04:00", "reboot": "if_required", "reboot_deferrals": "2"}


def policy_json(world: World) -> dict[str, Any]:
    return {"name": "API policy", "scope": "client", "client_id": world.client_a.pk,
            "auto_approve_categories": ["security"], "auto_approve_after_days": 3}


register(
    # UI: updates and decisions
    Case("ui:patching:update_list", "list", "policies", staff_only=True, leak=leak_update),
    Case("ui:patching:update_detail", "object", "policies", params=update_params, staff_only=True),
    Case("ui:patching:update_decide", "object", "policies", "change", method="POST", params=update_params,
         body=lambda w: {"decision": "approved", "client": str(w.client_a.pk)}, models=MODELS, staff_only=True),
    Case("ui:patching:decision_delete", "object", "policies", "change", method="POST", params=decision_params,
         models=MODELS, staff_only=True),
    Case("ui:patching:bulk_decide", "list", "policies", "change", method="POST", params=_built,
         body=lambda w: {"updates": [str(update_a(w).pk)], "clients": [str(w.client_a.pk)],
                         "decision": "approved"},
         models=MODELS, staff_only=True,
         note="Updates and clients the user cannot see are not among the form's choices: the form is refused."),
    # UI: approval policies
    Case("ui:patching:policy_list", "list", "policies", staff_only=True, leak=leak_policy),
    Case("ui:patching:policy_create", "create", "policies", "add", method="POST", body=policy_form, models=MODELS,
         staff_only=True, client_owned=False, note="An MSP-level (global) policy."),
    Case("ui:patching:policy_edit", "object", "policies", "change", method="POST", params=policy_params,
         body=lambda w: {**policy_form(w), "name": "Renamed by isolation", "scope": "client",
                         "client": str(w.client_a.pk)}, models=MODELS, staff_only=True),
    Case("ui:patching:policy_delete", "object", "policies", "delete", method="POST", params=policy_params,
         models=MODELS, staff_only=True),
    # UI: the device panel and the report
    Case("ui:patching:device_panel", "object", "devices", params=device_params, staff_only=True),
    Case("ui:patching:report", "list", "devices", staff_only=True, leak=leak_device),
    Case("ui:patching:report_csv", "list", "devices", staff_only=True, leak=leak_device),
    Case("ui:patching:report_pdf", "list", "devices", params=_built, staff_only=True,
         note="The PDF's text is compressed: its content is the page's, checked by the report page's case."),
    # API: updates and device updates
    Case("api:GET /api/v1/updates", "list", "policies", leak=leak_update),
    Case("api:GET /api/v1/updates/{update_id}", "object", "policies", params=update_params),
    Case("api:GET /api/v1/device-updates", "list", "devices", leak=leak_device),
    # API: decisions
    Case("api:GET /api/v1/update-decisions", "list", "policies", leak=leak_decision),
    Case("api:POST /api/v1/update-decisions", "create", "policies", "change", params=client_params,
         body=lambda w: {"update_id": update_a(w).pk, "client_id": w.client_a.pk, "decision": "approved"},
         models=MODELS),
    Case("api:POST /api/v1/update-decisions/bulk", "create", "policies", "change", params=client_params,
         body=lambda w: {"update_ids": [update_a(w).pk], "client_ids": [w.client_a.pk], "decision": "rejected"},
         models=MODELS),
    Case("api:GET /api/v1/update-decisions/{decision_id}", "object", "policies", params=decision_params),
    Case("api:DELETE /api/v1/update-decisions/{decision_id}", "object", "policies", "change",
         params=decision_params, models=MODELS),
    # API: approval policies
    Case("api:GET /api/v1/approval-policies", "list", "policies", leak=leak_policy),
    Case("api:POST /api/v1/approval-policies", "create", "policies", "add", params=client_params, body=policy_json,
         models=MODELS),
    Case("api:GET /api/v1/approval-policies/{policy_id}", "object", "policies", params=policy_params),
    Case("api:PATCH /api/v1/approval-policies/{policy_id}", "object", "policies", "change", params=policy_params,
         body=lambda w: {"auto_approve_after_days": 5}, models=MODELS),
    Case("api:DELETE /api/v1/approval-policies/{policy_id}", "object", "policies", "delete", params=policy_params,
         models=MODELS),
    # API: the report
    Case("api:GET /api/v1/patch-report", "list", "devices", leak=leak_device),
)
