"""Isolation cases of the enrollment and agent-credential pages (see tenfold/core/isolation.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from tenfold.agents import secrets
from tenfold.agents.models import Agent, AgentCredential, EnrollmentToken
from tenfold.assets.models import Device
from tenfold.core.isolation import Case, Exempt, World, register

MODELS = (EnrollmentToken, Agent, AgentCredential)


def managed_device_a(world: World) -> Device:
    if "managed_device_a" not in world.extra:
        device = Device.objects.create(client=world.client_a, name="PC-ISOLATION-A", managed=True,
                                       machine_id="iso-a", state="active")
        Agent.objects.create(device=device, client=world.client_a, agent_version="0.1.0", last_seq=10)
        plain, prefix = secrets.new_secret(secrets.CREDENTIAL)
        AgentCredential.objects.create(client=world.client_a, device=device, prefix=prefix,
                                       secret_hash=secrets.hash_secret(plain))
        world.extra["managed_device_a"] = device
    return world.extra["managed_device_a"]


def token_a(world: World) -> EnrollmentToken:
    if "token_a" not in world.extra:
        plain, prefix = secrets.new_secret(secrets.ENROLLMENT)
        world.extra["token_a"] = EnrollmentToken.objects.create(
            client=world.client_a, name="Isolation token", prefix=prefix, token_hash=secrets.hash_secret(plain),
            expires_at=timezone.now() + timedelta(days=7))
    return world.extra["token_a"]


def client_params(world: World) -> dict[str, Any]:
    token_a(world)
    return {"client_id": world.client_a.pk}


def device_params(world: World) -> dict[str, Any]:
    return {"device_id": managed_device_a(world).pk}


def leak(world: World) -> str:
    return str(world.client_a.name)


register(
    Case("ui:agents:enrollment_index", "list", "devices", staff_only=True, leak=leak),
    Case("ui:agents:enrollment", "object", "devices", params=client_params, staff_only=True),
    Case("ui:agents:token_create", "create", "devices", "change", method="POST", params=client_params,
         body=lambda w: {"name": "Roll-out", "expires_in_days": "7"}, models=MODELS, staff_only=True),
    Case("ui:agents:token_revoke", "object", "devices", "change", method="POST",
         params=lambda w: {"token_id": token_a(w).pk}, models=MODELS, staff_only=True),
    Case("ui:agents:device_agent_panel", "object", "devices", params=device_params, staff_only=True),
    Case("ui:agents:credential_rotate", "object", "devices", "change", method="POST", params=device_params,
         models=MODELS, staff_only=True),
    Case("ui:agents:credential_revoke", "object", "devices", "change", method="POST", params=device_params,
         models=MODELS, staff_only=True),
    Exempt("ui:agent:enroll", "agent endpoints authenticate by enrollment token or device credential, not by "
           "user; covered by tenfold/agents/tests/test_agent_api.py"),
    Exempt("ui:agent:checkin", "agent endpoints authenticate by device credential, not by user; covered by "
           "tenfold/agents/tests/test_agent_api.py"),
)
