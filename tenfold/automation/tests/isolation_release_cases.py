"""Isolation cases of agent releases (see tenfold/core/isolation.py).

Releases and their signatures are MSP-level (client_owned=False): only roles. Rolling one out names client A's
device (404 for whoever cannot see client A, nothing queued); the update jobs belong to the device's client."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tenfold.agents.models import Job
from tenfold.automation import releases
from tenfold.automation.models import AgentRelease, AgentReleaseSignature
from tenfold.automation.tests.factories import Key, managed_device, register
from tenfold.automation.tests.release_factories import published, sign_release, upload, wheel, with_agent
from tenfold.core.isolation import Case, Exempt, World
from tenfold.core.isolation import register as register_cases

MODELS = (AgentRelease, AgentReleaseSignature, Job)
LEAK = "PC-ISOLATION-RELEASE"


def release_world(world: World) -> dict[str, Any]:
    if "releases" not in world.extra:
        admin = world.users["admin"]
        key = Key()
        register(admin, key, admin, name="Isolation release key")
        draft = upload(admin, "0.2.0")
        signed = upload(admin, "0.2.1")
        sign_release(signed, key, admin)
        live = published(admin, key, "0.3.0")
        device = with_agent(managed_device(world.client_a, LEAK), "0.1.0")
        target = with_agent(managed_device(world.client_a, "PC-ROLLOUT-TARGET"), "0.1.0")
        releases.release_rollout(actor=admin, release=live, device_ids=[device.pk])
        world.extra["releases"] = {"key": key, "draft": draft, "signed": signed, "published": live,
                                   "device": device, "target": target}
    return world.extra["releases"]


def draft_params(world: World) -> dict[str, Any]:
    return {"release_id": release_world(world)["draft"].pk}


def signed_params(world: World) -> dict[str, Any]:
    return {"release_id": release_world(world)["signed"].pk}


def published_params(world: World) -> dict[str, Any]:
    return {"release_id": release_world(world)["published"].pk}


def upload_form(world: World) -> dict[str, Any]:
    release_world(world)
    name, data = wheel("0.4.0")
    return {"version": "0.4.0", "notes": "Isolation upload",
            "file": SimpleUploadedFile(name, data, content_type="application/octet-stream")}


def signature_body(world: World) -> dict[str, Any]:
    data = release_world(world)
    return {"key_id": data["key"].key_id, "signature": data["key"].sign(data["draft"].document.encode())}


def leak(world: World) -> str:
    return LEAK


UI = "ui:automation:"
API = "api:{} /api/v1/agent-releases"
MSP = {"client_owned": False}

register_cases(
    Case(f"{UI}release_list", "list", "scripts", staff_only=True, params=lambda w: release_world(w) and {}),
    Case(f"{UI}release_upload", "create", "scripts", "add", method="POST", body=upload_form, models=MODELS,
         staff_only=True, params=lambda w: release_world(w) and {}, **MSP),
    Case(f"{UI}release_detail", "object", "scripts", params=published_params, staff_only=True, **MSP),
    Case(f"{UI}release_publish", "object", "scripts", "change", method="POST", params=signed_params,
         models=MODELS, staff_only=True, **MSP,
         note="technicians may upload but not publish (privilege scripts.sign): covered in test_releases"),
    Case(f"{UI}release_withdraw", "object", "scripts", "change", method="POST", params=published_params,
         models=MODELS, staff_only=True, **MSP),
    Case(f"{UI}release_rollout", "create", "jobs", "add", method="POST", params=published_params,
         body=lambda w: {"devices": [str(release_world(w)["target"].pk)]}, models=MODELS, staff_only=True),
    Case(API.format("GET"), "list", "scripts", params=lambda w: release_world(w) and {}),
    Exempt(API.format("POST"), "a multipart upload (the suite sends JSON bodies): its 401/403/422 matrix, "
                               "nothing stored, is in test_releases_api (test_upload_is_refused_to_roles_…)"),
    Case(API.format("GET") + "/pending", "list", "scripts", params=lambda w: release_world(w) and {}),
    Case(API.format("GET") + "/{release_id}", "object", "scripts", params=published_params, **MSP),
    Case(API.format("GET") + "/{release_id}/file", "object", "scripts", params=published_params, **MSP),
    Case(API.format("POST") + "/{release_id}/signatures", "object", "scripts", "change", params=draft_params,
         body=signature_body, models=MODELS, **MSP,
         note="technicians may upload but not sign (privilege scripts.sign): covered in test_releases_api"),
    Case(API.format("POST") + "/{release_id}/publish", "object", "scripts", "change", params=signed_params,
         models=MODELS, **MSP),
    Case(API.format("POST") + "/{release_id}/withdraw", "object", "scripts", "change", params=published_params,
         models=MODELS, **MSP),
    Case(API.format("POST") + "/{release_id}/rollout", "create", "jobs", "add", params=published_params,
         body=lambda w: {"device_ids": [release_world(w)["target"].pk]}, models=MODELS),
    Case(API.format("GET") + "/{release_id}/jobs", "list", "jobs", params=published_params, leak=leak),
    Exempt("ui:agent_release:file", "the agents' download authenticates by device credential, not by user; its "
                                    "401/404 cases are test_releases.test_agent_download_*"),
)
