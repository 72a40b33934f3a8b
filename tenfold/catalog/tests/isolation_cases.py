"""Isolation cases of the catalog's pages and API (see tenfold/core/isolation.py).

The catalog is MSP-level (client_owned=False): no client axis, only roles. Portal users and
technicians have no `catalog` capability (403); service managers, account managers and finance read
it; owners and administrators change it."""

from __future__ import annotations

from typing import Any

from tenfold.catalog.models import Offering, Plan, PlanItem, Service
from tenfold.catalog.tests.factories import include, make_offering, make_plan, make_service
from tenfold.core.isolation import Case, World, register

MODELS = (Service, Offering, Plan, PlanItem)


def catalog(world: World) -> dict[str, Any]:
    if "catalog" not in world.extra:
        monitoring = make_service("iso-monitoring", price="25.00", cost="3.00", minutes="10")
        antivirus = make_service("iso-antivirus", price="7.00", cost="2.50", minutes="3")
        unused = make_service("iso-unused", price="5.00")
        offering = make_offering("Isolation workplace")
        good = make_plan(offering, "good")
        item = include(good, monitoring)
        world.extra["catalog"] = {"monitoring": monitoring, "antivirus": antivirus, "unused": unused,
                                  "offering": offering, "good": good, "item": item}
    return world.extra["catalog"]


def service_params(world: World) -> dict[str, Any]:
    return {"service_id": catalog(world)["monitoring"].pk}


def unused_service_params(world: World) -> dict[str, Any]:
    return {"service_id": catalog(world)["unused"].pk}


def offering_params(world: World) -> dict[str, Any]:
    return {"offering_id": catalog(world)["offering"].pk}


def plan_params(world: World) -> dict[str, Any]:
    return {"plan_id": catalog(world)["good"].pk}


def item_params(world: World) -> dict[str, Any]:
    return {"item_id": catalog(world)["item"].pk}


def service_body(world: World) -> dict[str, Any]:
    return {"name": "Isolation backup", "code": "iso-backup", "category": "backup", "unit": "server",
            "list_price": "60.00", "unit_cost": "18.00", "labour_minutes": "20", "includes_backup": True,
            "active": True}


def service_form(world: World) -> dict[str, Any]:
    data = service_body(world)
    data["includes_backup"] = "on"
    data["active"] = "on"
    return data


def add_antivirus(world: World) -> dict[str, Any]:
    return {"service": catalog(world)["antivirus"].pk, "unit_price": "8.00"}


def add_antivirus_api(world: World) -> dict[str, Any]:
    return {"service_id": catalog(world)["antivirus"].pk, "unit_price": "8.00"}


UI = "ui:catalog:"
API = "api:{} /api/v1/catalog"

register(
    Case(f"{UI}offering_list", "list", "catalog", staff_only=True, params=lambda w: catalog(w) and {}),
    Case(f"{UI}offering_create", "create", "catalog", "add", method="POST", client_owned=False, staff_only=True,
         body=lambda w: {"name": "Isolation servers", "description": "", "active": "on"}, models=MODELS),
    Case(f"{UI}offering_detail", "object", "catalog", params=offering_params, client_owned=False, staff_only=True),
    Case(f"{UI}offering_edit", "object", "catalog", "change", method="POST", params=offering_params,
         client_owned=False, staff_only=True, body=lambda w: {"name": "Renamed offering", "active": "on"},
         models=MODELS),
    Case(f"{UI}offering_delete", "object", "catalog", "delete", method="POST", params=offering_params,
         client_owned=False, staff_only=True, models=MODELS),
    Case(f"{UI}plan_create", "create", "catalog", "add", method="POST", params=offering_params,
         client_owned=False, staff_only=True, body=lambda w: {"tier": "better", "name": "", "active": "on"},
         models=MODELS),
    Case(f"{UI}plan_detail", "object", "catalog", params=plan_params, client_owned=False, staff_only=True),
    Case(f"{UI}plan_economics", "object", "catalog", params=plan_params, client_owned=False, staff_only=True),
    Case(f"{UI}plan_edit", "object", "catalog", "change", method="POST", params=plan_params, client_owned=False,
         staff_only=True, body=lambda w: {"tier": "good", "name": "Renamed plan", "active": "on"}, models=MODELS),
    Case(f"{UI}plan_delete", "object", "catalog", "delete", method="POST", params=plan_params, client_owned=False,
         staff_only=True, models=MODELS),
    Case(f"{UI}plan_item_add", "object", "catalog", "change", method="POST", params=plan_params,
         client_owned=False, staff_only=True, body=add_antivirus, models=MODELS),
    Case(f"{UI}plan_item_price", "object", "catalog", "change", method="POST", params=item_params,
         client_owned=False, staff_only=True, body=lambda w: {"unit_price": "27.50"}, models=MODELS),
    Case(f"{UI}plan_item_remove", "object", "catalog", "change", method="POST", params=item_params,
         client_owned=False, staff_only=True, models=MODELS),
    Case(f"{UI}service_list", "list", "catalog", staff_only=True, params=lambda w: catalog(w) and {}),
    Case(f"{UI}service_create", "create", "catalog", "add", method="POST", client_owned=False, staff_only=True,
         body=service_form, models=MODELS),
    Case(f"{UI}service_detail", "object", "catalog", params=service_params, client_owned=False, staff_only=True),
    Case(f"{UI}service_edit", "object", "catalog", "change", method="POST", params=service_params,
         client_owned=False, staff_only=True, body=service_form, models=MODELS),
    Case(f"{UI}service_delete", "object", "catalog", "delete", method="POST", params=unused_service_params,
         client_owned=False, staff_only=True, models=MODELS),
    # API
    Case(API.format("GET") + "/services", "list", "catalog", params=lambda w: catalog(w) and {}),
    Case(API.format("POST") + "/services", "create", "catalog", "add", client_owned=False, body=service_body,
         models=MODELS),
    Case(API.format("GET") + "/services/{service_id}", "object", "catalog", params=service_params,
         client_owned=False),
    Case(API.format("PATCH") + "/services/{service_id}", "object", "catalog", "change", params=service_params,
         client_owned=False, body=lambda w: {"list_price": "26.00"}, models=MODELS),
    Case(API.format("DELETE") + "/services/{service_id}", "object", "catalog", "delete",
         params=unused_service_params, client_owned=False, models=MODELS),
    Case(API.format("GET") + "/offerings", "list", "catalog", params=lambda w: catalog(w) and {}),
    Case(API.format("POST") + "/offerings", "create", "catalog", "add", client_owned=False,
         body=lambda w: {"name": "Isolation servers"}, models=MODELS),
    Case(API.format("GET") + "/offerings/{offering_id}", "object", "catalog", params=offering_params,
         client_owned=False),
    Case(API.format("PATCH") + "/offerings/{offering_id}", "object", "catalog", "change", params=offering_params,
         client_owned=False, body=lambda w: {"description": "Changed"}, models=MODELS),
    Case(API.format("DELETE") + "/offerings/{offering_id}", "object", "catalog", "delete", params=offering_params,
         client_owned=False, models=MODELS),
    Case(API.format("POST") + "/offerings/{offering_id}/plans", "create", "catalog", "add",
         params=offering_params, client_owned=False, body=lambda w: {"tier": "best"}, models=MODELS),
    Case(API.format("GET") + "/plans", "list", "catalog", params=lambda w: catalog(w) and {}),
    Case(API.format("GET") + "/plans/{plan_id}", "object", "catalog", params=plan_params, client_owned=False),
    Case(API.format("PATCH") + "/plans/{plan_id}", "object", "catalog", "change", params=plan_params,
         client_owned=False, body=lambda w: {"name": "Renamed plan"}, models=MODELS),
    Case(API.format("DELETE") + "/plans/{plan_id}", "object", "catalog", "delete", params=plan_params,
         client_owned=False, models=MODELS),
    Case(API.format("GET") + "/plans/{plan_id}/items", "object", "catalog", params=plan_params,
         client_owned=False),
    Case(API.format("POST") + "/plans/{plan_id}/items", "create", "catalog", "change", params=plan_params,
         client_owned=False, body=add_antivirus_api, models=MODELS),
    Case(API.format("GET") + "/plans/{plan_id}/cost-model", "object", "catalog", params=plan_params,
         client_owned=False),
    Case(API.format("GET") + "/plan-items/{item_id}", "object", "catalog", params=item_params,
         client_owned=False),
    Case(API.format("PATCH") + "/plan-items/{item_id}", "object", "catalog", "change", params=item_params,
         client_owned=False, body=lambda w: {"unit_price": "27.50"}, models=MODELS),
    Case(API.format("DELETE") + "/plan-items/{item_id}", "object", "catalog", "change", params=item_params,
         client_owned=False, models=MODELS),
)
