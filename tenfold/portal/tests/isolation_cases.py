"""Isolation cases of the client portal pages."""

from __future__ import annotations

from tenfold.clients.models import Client, Contact, Site
from tenfold.clients.tests.isolation_cases import contact_a, contact_params
from tenfold.core.isolation import Case, World, register

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
