"""The catalog API: shapes, the cost model with counts, filters, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient

from tenfold.accounts import testing
from tenfold.accounts.testing import make_staff
from tenfold.catalog.models import PlanItem, Service
from tenfold.catalog.tests.factories import include, make_offering, make_plan, make_service
from tenfold.core.models import AuditEntry, Organization

pytestmark = pytest.mark.django_db


def bearer(role: str = "admin", read_only: bool = False) -> dict[str, str]:
    return testing.bearer(testing.make_api_token(make_staff(role), read_only=read_only))


def call(method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    data = json.dumps(body) if body is not None else None
    return getattr(HttpClient(), method)(f"/api/v1/catalog{path}", data=data, content_type="application/json",
                                         **headers)


SERVICE = {"name": "Workstation monitoring", "code": "ws-rmm", "unit": "workstation", "list_price": "25.00",
           "unit_cost": "3.00", "labour_minutes": "18", "includes_monitoring": True}


def test_create_service_plan_and_items_then_cost_model() -> None:
    # given an administrator's token and a labour cost of 45 €/h
    Organization.objects.update_or_create(pk=1, defaults={"loaded_labour_cost": "45.00", "currency": "EUR"})
    headers = bearer()
    # when they build a Good and a Better plan through the API
    mon = call("post", "/services", headers, SERVICE).json()
    av = call("post", "/services", headers, {**SERVICE, "name": "EDR", "code": "ws-edr", "list_price": "6.00",
                                            "unit_cost": "2.80", "labour_minutes": "2"}).json()
    offering = call("post", "/offerings", headers, {"name": "Managed workplace"}).json()
    good = call("post", f"/offerings/{offering['id']}/plans", headers, {"tier": "good"})
    better = call("post", f"/offerings/{offering['id']}/plans", headers, {"tier": "better"}).json()
    item = call("post", f"/plans/{good.json()['id']}/items", headers, {"service_id": mon["id"]})
    call("post", f"/plans/{better['id']}/items", headers, {"service_id": av["id"], "unit_price": "7.00"})
    model = call("get", f"/plans/{better['id']}/cost-model?workstations=10&servers=0&users=0&sites=0", headers)
    # then the answers carry exact values: 10×25 + 10×7 = 320; tools 30 + 28 = 58; 200 min at 45 €/h = 150
    assert good.status_code == 201 and good.json()["name"] == "Managed workplace Good"
    assert item.status_code == 201
    assert item.json() | {"id": 0, "created_at": ""} == {
        "id": 0, "plan_id": good.json()["id"], "service_id": mon["id"], "service_code": "ws-rmm",
        "service_name": "Workstation monitoring", "unit": "workstation", "unit_price": "25.00", "created_at": ""}
    body = model.json()
    assert model.status_code == 200
    assert (body["revenue"], body["tool_cost"], body["labour_cost"], body["margin"], body["margin_pct"]) == (
        "320.00", "58.00", "150.00", "112.00", "35.0")
    assert [(line["name"], line["tier"], line["revenue"]) for line in body["lines"]] == [
        ("Workstation monitoring", "good", "250.00"), ("EDR", "better", "70.00")]
    assert {row["change"]: row["profit_change"] for row in body["sensitivity"]} == {
        "-1%": "-3.20", "+1%": "3.20", "-1": "-20.00", "+1": "20.00"}
    assert body["counts"]["workstations"] == 10 and body["currency"] == "EUR"


def test_cost_model_defaults_to_reference_counts_and_refuses_negative_counts() -> None:
    headers = bearer("finance")
    plan = make_plan(make_offering(), "good")
    include(plan, make_service("site", price="100.00", unit="site"))
    default = call("get", f"/plans/{plan.pk}/cost-model", headers)
    negative = call("get", f"/plans/{plan.pk}/cost-model?workstations=-3", headers)
    assert default.json()["counts"] == {"workstations": 20, "servers": 2, "network_devices": 0, "mobiles": 0,
                                        "users": 20, "sites": 1}
    assert default.json()["revenue"] == "100.00"
    assert negative.status_code == 422
    assert list(negative.json()["errors"]) == ["workstations"]


@pytest.mark.parametrize(("body", "field"), [
    ({**SERVICE, "list_price": "-1"}, "list_price"),
    ({**SERVICE, "unit_cost": "-0.01"}, "unit_cost"),
    ({**SERVICE, "labour_minutes": "-5"}, "labour_minutes"),
    ({**SERVICE, "list_price": "1.234"}, "list_price"),
    ({**SERVICE, "code": "has spaces"}, "code"),
    ({**SERVICE, "unit": "printer"}, "unit"),
    ({**SERVICE, "colour": "blue"}, "colour"),
])
def test_bad_service_input_is_refused(body: dict[str, Any], field: str) -> None:
    response = call("post", "/services", bearer(), body)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert Service.objects.count() == 0


def test_duplicate_code_inactive_service_and_negative_item_price() -> None:
    headers = bearer()
    make_service("ws-rmm")
    retired = make_service("fax", active=False)
    plan = make_plan(make_offering(), "good")
    duplicate = call("post", "/services", headers, {**SERVICE, "code": "WS-RMM"})
    inactive = call("post", f"/plans/{plan.pk}/items", headers, {"service_id": retired.pk})
    negative = call("post", f"/plans/{plan.pk}/items", headers, {"service_id": retired.pk, "unit_price": "-1"})
    missing = call("post", f"/plans/{plan.pk}/items", headers, {"service_id": 999999})
    assert (duplicate.status_code, duplicate.json()["errors"]) == (
        422, {"code": ["A service with this code already exists."]})
    assert (inactive.status_code, inactive.json()["errors"]) == (
        422, {"service": ["“Fax” is inactive: activate it before adding it to a plan."]})
    assert negative.status_code == 422 and "unit_price" in negative.json()["errors"]
    assert (missing.status_code, missing.json()["errors"]) == (422, {"service_id": ["Choose an existing service."]})
    assert PlanItem.objects.count() == 0


def test_patch_item_price_and_refuse_null_fields() -> None:
    headers = bearer()
    item = include(make_plan(make_offering(), "good"), make_service("mon", price="25.00"))
    changed = call("patch", f"/plan-items/{item.pk}", headers, {"unit_price": "26.90"})
    negative = call("patch", f"/plan-items/{item.pk}", headers, {"unit_price": "-26.90"})
    null_name = call("patch", f"/services/{item.service_id}", headers, {"name": None})
    assert (changed.status_code, changed.json()["unit_price"]) == (200, "26.90")
    assert negative.status_code == 422
    assert (null_name.status_code, null_name.json()["errors"]) == (422, {"name": ["This field cannot be null."]})
    assert PlanItem.objects.get().unit_price.to_eng_string() == "26.90"


def test_delete_service_in_use_is_a_conflict() -> None:
    headers = bearer("owner")
    item = include(make_plan(make_offering(), "good"), make_service("mon"))
    response = call("delete", f"/services/{item.service_id}", headers)
    assert response.status_code == 409
    assert Service.objects.count() == 1
    assert not AuditEntry.objects.filter(action="service.deleted").exists()


def test_list_services_filters_and_sorts() -> None:
    headers = bearer("account_manager")
    make_service("b-mon", price="25.00", name="Monitoring")
    make_service("a-backup", price="3.50", name="M365 backup", unit="user", is_addon=True)
    make_service("c-old", price="15.00", name="Old fax", active=False, is_addon=True)
    addons = call("get", "/services?is_addon=true&active=true", headers).json()
    by_price = call("get", "/services?ordering=-list_price", headers).json()
    bad_sort = call("get", "/services?ordering=unit_cost", headers)
    assert [s["code"] for s in addons["items"]] == ["a-backup"]
    assert [s["code"] for s in by_price["items"]] == ["b-mon", "c-old", "a-backup"]
    assert bad_sort.status_code == 422


def test_read_only_roles_may_read_but_not_write() -> None:
    make_service("mon")
    for role in ("service_manager", "account_manager", "finance"):
        headers = bearer(role)
        assert call("get", "/services", headers).status_code == 200
        assert call("post", "/services", headers, {**SERVICE, "code": f"x-{role}"}).status_code == 403
    assert call("get", "/services", bearer("technician")).status_code == 403
    assert Service.objects.count() == 1


def test_openapi_has_examples() -> None:
    schema = HttpClient().get("/api/v1/openapi.json").json()
    service_in = schema["components"]["schemas"]["ServiceIn"]["properties"]
    assert service_in["code"]["examples"] == ["ws-monitoring"]
    assert "/api/v1/catalog/plans/{plan_id}/cost-model" in schema["paths"]
