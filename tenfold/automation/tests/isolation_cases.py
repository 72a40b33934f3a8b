"""Isolation cases of the script library, signing keys and script runs (see tenfold/core/isolation.py).

Scripts, versions and keys are MSP-level (client_owned=False): only roles. Running a script names client
A's device (404 for whoever cannot see client A, nothing queued); runs belong to the device's client."""

from __future__ import annotations

from typing import Any

from tenfold.agents.models import Job
from tenfold.automation import services
from tenfold.automation.models import Script, ScriptRun, ScriptVersion, Signature, SigningKey
from tenfold.automation.tests.factories import Key, make_script, managed_device, register, sign
from tenfold.core.isolation import Case, World
from tenfold.core.isolation import register as register_cases

MODELS = (SigningKey, Script, ScriptVersion, Signature, ScriptRun, Job)
SERVICE = [{"name": "service", "label": "Service", "type": "string", "required": True}]


def automation(world: World) -> dict[str, Any]:
    if "automation" not in world.extra:
        admin = world.users["admin"]
        first, second = Key(), Key()
        register(admin, first, admin, name="Isolation first")
        second_row = register(admin, second, admin, by=first, name="Isolation second")
        script = make_script(admin, name="Isolation restart", parameters=SERVICE)
        sign(script.versions.get(), first, admin)
        unsigned = make_script(admin, name="Isolation unsigned", parameters=SERVICE)
        device = managed_device(world.client_a, "PC-ISOLATION-AUTOMATION")
        [run] = services.script_run(actor=admin, script=script, device_ids=[device.pk],
                                    parameters={"service": "cron"})
        world.extra["automation"] = {"first": first, "second": second, "second_row": second_row, "script": script,
                                     "unsigned": unsigned, "device": device, "run": run}
    return world.extra["automation"]


def script_params(world: World) -> dict[str, Any]:
    return {"script_id": automation(world)["script"].pk}


def version_params(world: World) -> dict[str, Any]:
    return {"version_id": automation(world)["unsigned"].versions.get().pk}


def run_params(world: World) -> dict[str, Any]:
    return {"run_id": automation(world)["run"].pk}


def batch_params(world: World) -> dict[str, Any]:
    return {"run_id": automation(world)["run"].run_id}


def leak(world: World) -> str:
    return "PC-ISOLATION-AUTOMATION"


def new_script(world: World) -> dict[str, Any]:
    return {"name": "Isolation new", "language": "shell", "os_families": ["linux"], "timeout_seconds": 60,
            "parameters": [], "body": "#!/bin/sh\necho hi\n", "category": "maintenance", "description": ""}


def new_script_form(world: World) -> dict[str, Any]:
    return {**new_script(world), "parameters": "[]", "os_families": ["linux"]}


def run_body(world: World) -> dict[str, Any]:
    return {"device_ids": [automation(world)["device"].pk], "parameters": {"service": "cups"}}


def run_form(world: World) -> dict[str, Any]:
    return {"devices": [str(automation(world)["device"].pk)], "param_service": "cups"}


def signature_body(world: World) -> dict[str, Any]:
    data = automation(world)
    version = data["unsigned"].versions.get()
    return {"key_id": data["first"].key_id, "signature": data["first"].sign(version.document.encode())}


def revoke_body(world: World) -> dict[str, Any]:
    data = automation(world)
    return {"revoked_by": data["first"].key_id, "signature": data["first"].revoke(data["second"])}


def new_key_body(world: World) -> dict[str, Any]:
    first, third = automation(world)["first"], Key()
    return {"name": "Isolation third", "public_key": third.public, "countersigned_by": first.key_id,
            "countersignature": first.countersign(third)}


def new_key_form(world: World) -> dict[str, Any]:
    return {**new_key_body(world), "owner": str(world.users["admin"].pk)}


UI = "ui:automation:"
API = "api:{} /api/v1"
MSP = {"client_owned": False}

register_cases(
    Case(f"{UI}script_list", "list", "scripts", staff_only=True, params=lambda w: automation(w) and {}),
    Case(f"{UI}script_create", "create", "scripts", "add", method="POST", body=new_script_form, models=MODELS,
         staff_only=True, **MSP),
    Case(f"{UI}script_detail", "object", "scripts", params=script_params, staff_only=True, **MSP),
    Case(f"{UI}script_edit", "object", "scripts", "change", method="POST", params=script_params,
         body=lambda w: {**new_script_form(w), "name": "Isolation restart"}, models=MODELS, staff_only=True, **MSP),
    Case(f"{UI}script_run", "create", "jobs", "add", method="POST", params=script_params, body=run_form,
         models=MODELS, staff_only=True),
    Case(f"{UI}run_list", "list", "jobs", staff_only=True, params=lambda w: automation(w) and {}, leak=leak),
    Case(f"{UI}run_detail", "object", "jobs", params=batch_params, staff_only=True),
    Case(f"{UI}key_list", "list", "settings", "change", staff_only=True, params=lambda w: automation(w) and {}),
    Case(f"{UI}key_register", "create", "settings", "change", method="POST", body=new_key_form, models=MODELS,
         staff_only=True, params=lambda w: automation(w) and {}, **MSP),
    Case(f"{UI}key_revoke", "object", "settings", "change", method="POST",
         params=lambda w: {"key_id": automation(w)["second_row"].pk}, body=revoke_body, models=MODELS,
         staff_only=True, **MSP),
    Case(API.format("GET") + "/signing-keys", "list", "scripts", params=lambda w: automation(w) and {}),
    Case(API.format("POST") + "/signing-keys", "create", "settings", "change", body=new_key_body, models=MODELS,
         params=lambda w: automation(w) and {}, **MSP),
    Case(API.format("POST") + "/signing-keys/{key_pk}/revoke", "object", "settings", "change",
         params=lambda w: {"key_pk": automation(w)["second_row"].pk}, body=revoke_body, models=MODELS, **MSP),
    Case(API.format("GET") + "/scripts", "list", "scripts", params=lambda w: automation(w) and {}),
    Case(API.format("POST") + "/scripts", "create", "scripts", "add", body=new_script, models=MODELS, **MSP),
    Case(API.format("GET") + "/scripts/{script_id}", "object", "scripts", params=script_params, **MSP),
    Case(API.format("PATCH") + "/scripts/{script_id}", "object", "scripts", "change", params=script_params,
         body=lambda w: {"description": "Changed"}, models=MODELS, **MSP),
    Case(API.format("DELETE") + "/scripts/{script_id}", "object", "scripts", "delete",
         params=lambda w: automation(w) and {"script_id": automation(w)["unsigned"].pk}, models=MODELS, **MSP),
    Case(API.format("GET") + "/scripts/{script_id}/versions", "object", "scripts", params=script_params, **MSP),
    Case(API.format("POST") + "/scripts/{script_id}/run", "create", "jobs", "add", params=script_params,
         body=run_body, models=MODELS),
    Case(API.format("GET") + "/scripts/{script_id}/runs", "list", "scripts", params=script_params, leak=leak),
    Case(API.format("GET") + "/script-versions/pending", "list", "scripts", params=lambda w: automation(w) and {}),
    Case(API.format("GET") + "/script-versions/{version_id}", "object", "scripts", params=version_params, **MSP),
    Case(API.format("POST") + "/script-versions/{version_id}/signatures", "object", "scripts", "change",
         params=version_params, body=signature_body, models=MODELS, **MSP,
         note="technicians may change scripts but not sign (privilege scripts.sign): covered in test_api"),
    Case(API.format("POST") + "/script-versions/{version_id}/revoke", "object", "scripts", "change",
         params=version_params, models=MODELS, **MSP),
    Case(API.format("GET") + "/script-runs", "list", "jobs", params=lambda w: automation(w) and {}, leak=leak),
    Case(API.format("GET") + "/script-runs/{run_id}", "object", "jobs", params=run_params),
)
