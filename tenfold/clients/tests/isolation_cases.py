"""Isolation cases of the clients app's pages and API (see tenfold/core/isolation.py)."""

from __future__ import annotations

from typing import Any

from tenfold.clients.models import Client, Contact, Site
from tenfold.core.isolation import Case, World, register

MODELS = (Client, Site, Contact)


def site_a(world: World) -> Site:
    if "site_a" not in world.extra:
        world.client_a.status = "prospect"  # a prospect may be deleted; an active client may not
        world.client_a.save()
        world.extra["site_a"] = Site.objects.create(client=world.client_a, name="Isolation HQ", city="Lyon")
    return world.extra["site_a"]


def contact_a(world: World) -> Contact:
    if "contact_a" not in world.extra:
        world.extra["contact_a"] = Contact.objects.create(
            client=world.client_a, site=site_a(world), first_name="Alice", last_name="Isolated",
            email="alice.isolated@client-a.example")
    return world.extra["contact_a"]


def client_params(world: World) -> dict[str, Any]:
    site_a(world)
    return {"client_id": world.client_a.pk}


def site_params(world: World) -> dict[str, Any]:
    return {"site_id": site_a(world).pk}


def contact_params(world: World) -> dict[str, Any]:
    return {"contact_id": contact_a(world).pk}


def client_body(world: World) -> dict[str, Any]:
    return {"name": "Renamed by isolation", "status": "active", "website": "", "phone": "", "notes": ""}


def site_body(world: World) -> dict[str, Any]:
    return {"name": "Second site", "address": "1 rue A", "postal_code": "69001", "city": "Lyon", "country": "FR",
            "time_zone": "Europe/Paris"}


def contact_body(world: World) -> dict[str, Any]:
    return {"first_name": "Bob", "last_name": "Changed", "email": "bob.changed@client-a.example", "phone": "",
            "job_title": "", "is_decision_maker": True}


def leak_a(world: World) -> str:
    contact_a(world)
    return "Client A Isolation"


def leak_contact(world: World) -> str:
    return contact_a(world).email


register(
    Case("ui:clients:client_list", "list", "clients", staff_only=True, leak=leak_a),
    Case("ui:clients:contact_list", "list", "contacts", staff_only=True, leak=leak_contact),
    Case("ui:clients:client_create", "create", "clients", "add", method="POST", body=client_body,
         models=MODELS, staff_only=True),
    Case("ui:clients:client_detail", "object", "clients", params=client_params, staff_only=True),
    Case("ui:clients:client_edit", "object", "clients", "change", method="POST", params=client_params,
         body=client_body, models=MODELS, staff_only=True),
    Case("ui:clients:client_delete", "object", "clients", "delete", method="POST", params=client_params,
         models=MODELS, staff_only=True),
    Case("ui:clients:site_create", "create", "clients", "change", method="POST", params=client_params,
         body=site_body, models=MODELS, staff_only=True),
    Case("ui:clients:site_edit", "object", "clients", "change", method="POST", params=site_params,
         body=site_body, models=MODELS, staff_only=True),
    Case("ui:clients:site_delete", "object", "clients", "change", method="POST", params=site_params,
         models=MODELS, staff_only=True),
    Case("ui:clients:contact_create", "create", "contacts", "add", method="POST", params=client_params,
         body=contact_body, models=MODELS, staff_only=True),
    Case("ui:clients:contact_edit", "object", "contacts", "change", method="POST", params=contact_params,
         body=contact_body, models=MODELS, staff_only=True),
    Case("ui:clients:contact_delete", "object", "contacts", "delete", method="POST", params=contact_params,
         models=MODELS, staff_only=True),
    # API
    Case("api:GET /api/v1/clients", "list", "clients", leak=leak_a),
    Case("api:POST /api/v1/clients", "create", "clients", "add", method="POST", body=client_body,
         models=MODELS, staff_only=True),
    Case("api:GET /api/v1/clients/{client_id}", "object", "clients", params=client_params),
    Case("api:PATCH /api/v1/clients/{client_id}", "object", "clients", "change", params=client_params,
         body=lambda w: {"name": "Patched by isolation"}, models=MODELS),
    Case("api:DELETE /api/v1/clients/{client_id}", "object", "clients", "delete", params=client_params,
         models=MODELS),
    Case("api:GET /api/v1/clients/{client_id}/sites", "object", "clients", params=client_params),
    Case("api:POST /api/v1/clients/{client_id}/sites", "create", "clients", "change", params=client_params,
         body=site_body, models=MODELS),
    Case("api:GET /api/v1/clients/{client_id}/contacts", "object", "contacts", params=client_params),
    Case("api:POST /api/v1/clients/{client_id}/contacts", "create", "contacts", "add", params=client_params,
         body=lambda w: {"first_name": "Bob", "last_name": "New", "email": "bob.new@client-a.example"},
         models=MODELS),
    Case("api:GET /api/v1/sites/{site_id}", "object", "clients", params=site_params),
    Case("api:PATCH /api/v1/sites/{site_id}", "object", "clients", "change", params=site_params,
         body=lambda w: {"city": "Grenoble"}, models=MODELS),
    Case("api:DELETE /api/v1/sites/{site_id}", "object", "clients", "change", params=site_params, models=MODELS),
    Case("api:GET /api/v1/contacts", "list", "contacts", leak=leak_contact),
    Case("api:GET /api/v1/contacts/{contact_id}", "object", "contacts", params=contact_params),
    Case("api:PATCH /api/v1/contacts/{contact_id}", "object", "contacts", "change", params=contact_params,
         body=lambda w: {"job_title": "Changed"}, models=MODELS),
    Case("api:DELETE /api/v1/contacts/{contact_id}", "object", "contacts", "delete", params=contact_params,
         models=MODELS),
)
