"""Isolation cases of the client portal pages."""

from __future__ import annotations

from tenfold.clients.models import Client, Contact, Site
from tenfold.clients.tests.isolation_cases import contact_a, contact_params
from tenfold.core.isolation import Case, World, register
from tenfold.knowledge.models import ClientDoc, Runbook

MODELS = (Client, Site, Contact)


def leak(world: World) -> str:
    contact_a(world)
    return "Client A Isolation"


register(
    Case("ui:portal:home", "list", "clients", portal_only=True, leak=leak),
    Case("ui:portal:contact_create", "create", "contacts", "add", method="POST", portal_only=True,
         body=lambda w: {"first_name": "Zoé", "last_name": "Portal", "email": "zoe.portal@client.example"},
         models=MODELS),
    Case("ui:portal:contact_edit", "object", "contacts", "change", method="POST", params=contact_params,
         body=lambda w: {"first_name": "Alice", "last_name": "Edited", "email": "alice.isolated@client-a.example"},
         models=MODELS, portal_only=True),
)


# --- Shared documentation -------------------------------------------------------------------------------------

SHARED_RUNBOOK_A = "Client A shared runbook Isolation"
SHARED_OVERVIEW_A = "Client A shared overview Isolation"


def shared_runbook_a(world: World) -> Runbook:
    if "shared_runbook_a" not in world.extra:
        world.extra["shared_runbook_a"] = Runbook.objects.create(
            title=SHARED_RUNBOOK_A, slug="client-a-shared-runbook-isolation", client=world.client_a,
            body_markdown="Restart the router.", shared_with_client=True)
    runbook: Runbook = world.extra["shared_runbook_a"]
    return runbook


def shared_doc_a(world: World) -> ClientDoc:
    if "shared_doc_a" not in world.extra:
        world.extra["shared_doc_a"] = ClientDoc.objects.create(
            client=world.client_a, overview_markdown=SHARED_OVERVIEW_A, shared_with_client=True)
    doc: ClientDoc = world.extra["shared_doc_a"]
    return doc


def shared_leak(world: World) -> str:
    shared_runbook_a(world)
    shared_doc_a(world)
    return SHARED_RUNBOOK_A


register(
    Case("ui:portal:documentation", "list", "runbooks", portal_only=True, leak=shared_leak),
    Case("ui:portal:shared_overview", "object", "runbooks", portal_only=True,
         params=lambda w: {"doc_id": shared_doc_a(w).pk}),
    Case("ui:portal:shared_runbook", "object", "runbooks", portal_only=True,
         params=lambda w: {"runbook_id": shared_runbook_a(w).pk}),
)
