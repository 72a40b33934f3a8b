"""Reads of enrollment tokens, agents and credentials, scoped to what the actor may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from tenfold.agents.models import Agent, AgentCredential, EnrollmentToken
from tenfold.assets.models import Device
from tenfold.clients.models import Client
from tenfold.clients.selectors import clients_visible
from tenfold.core.roles import require
from tenfold.core.tenancy import get_visible


def enrollment_tokens_visible(actor: Any) -> QuerySet[EnrollmentToken]:
    """Enrollment tokens the actor may see."""
    require(actor, "devices", "view")
    return EnrollmentToken.objects.visible_to(actor).select_related("client", "site", "created_by")


def access_enrollment_token(actor: Any, token_id: Any) -> EnrollmentToken:
    """One enrollment token, or NotFound; 403 if the role may not see devices."""
    token = get_visible(EnrollmentToken.objects.select_related("client", "site", "created_by"), actor, token_id)
    require(actor, "devices", "view")
    return token


def client_tokens(actor: Any, client: Client) -> QuerySet[EnrollmentToken]:
    """A client's enrollment tokens, newest first."""
    return enrollment_tokens_visible(actor).filter(client=client).order_by("-created_at", "-pk")


def enrollment_overview(actor: Any) -> QuerySet[Client]:
    """Visible clients with their device and usable-token counts, for the enrollment page."""
    require(actor, "devices", "view")
    return clients_visible(actor).annotate(
        device_count=Count("devices", distinct=True),
        managed_count=Count("devices", filter=Q(devices__managed=True), distinct=True),
    ).order_by("name")


def device_agent(device: Device) -> Agent | None:
    """The agent of a device, if one enrolled."""
    return Agent.objects.filter(device=device).first()


def device_credentials(device: Device) -> list[AgentCredential]:
    """The device's agent credentials, newest first (prefixes only; secrets are never stored)."""
    return list(AgentCredential.objects.filter(device=device).order_by("-created_at", "-pk")[:10])
