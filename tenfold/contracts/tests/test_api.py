"""The contracts API: create, sign, cost and coverage; bad input refused with field errors, nothing changed;
technicians read without prices."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.clients.models import Contact
from tenfold.contracts.models import BusinessCalendar, Contract, ContractCoverage
from tenfold.contracts.tests.factories import make_catalog, make_client, make_devices

pytestmark = pytest.mark.django_db


def headers(role: str = "admin") -> dict[str, str]:
    return bearer(make_api_token(make_staff(role)))


def post(path: str, body: dict, auth: dict):
    return HttpClient().post(path, data=json.dumps(body), content_type="application/json", **auth)


def test_create_sign_then_cost_and_coverage() -> None:
    # given a client with 2 workstations and a server, and the demo-like catalog
    parts = make_catalog()
    client = make_client()
    make_devices(client, workstation=2, server=1)
    auth = headers()
    # when a Good contract is drafted and signed through the API
    created = post("/api/v1/contracts", {"client_id": client.pk, "type": "managed", "plan_id": parts["good"].pk,
                                         "start_date": "2026-01-01", "title": "Infogérance Bien"}, auth)
    signed = post(f"/api/v1/contracts/{created.json()['id']}/sign", {}, auth)
    cost = HttpClient().get(f"/api/v1/contracts/{created.json()['id']}/cost", **auth).json()
    coverage = HttpClient().get(f"/api/v1/contracts/{created.json()['id']}/coverage", **auth).json()
    # then: 2×10 + 1×40 = 60 revenue; tools 2×2 + 5 = 9; labour (12 + 30) min at 45 € = 31.50; margin 19.50
    assert created.status_code == 201 and created.json()["number"] == "C-2026-0001"
    assert signed.json()["status"] == "active"
    assert (cost["revenue"], cost["tool_cost"], cost["labour_cost"], cost["margin"], cost["margin_pct"]) == (
        "60.00", "9.00", "31.50", "19.50", "32.5")
    assert (cost["counts"]["workstations"], cost["counts"]["servers"]) == (2, 1)
    assert coverage["count"] == 3
    assert sorted(row["kind"] for row in coverage["items"]) == ["device", "device", "device"]


@pytest.mark.parametrize(("body", "field"), [
    ({"type": "managed", "start_date": "2026-01-01", "minimum_monthly_commitment": "-10"},
     "minimum_monthly_commitment"),
    ({"type": "managed", "start_date": "2026-01-01"}, "plan"),
    ({"type": "time_materials", "start_date": "2026-01-01", "end_date": "2025-12-31"}, "end_date"),
    ({"type": "time_materials", "start_date": "2026-01-01", "surprise": True}, "surprise"),
    ({"type": "retainer", "start_date": "2026-01-01"}, "type"),
])
def test_bad_contract_input_is_refused(body: dict, field: str) -> None:
    parts = make_catalog()
    client = make_client()
    if field == "minimum_monthly_commitment":
        body = {**body, "plan_id": parts["good"].pk}
    response = post("/api/v1/contracts", {"client_id": client.pk, **body}, headers())
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert not Contract.objects.exists()


def test_forged_ids_of_another_client_are_refused() -> None:
    # given a contract of client A and a contact and site of client B
    parts = make_catalog()
    client, other = make_client(), make_client("Garage Perrin")
    foreign_contact = Contact.objects.create(client=other, first_name="Eve", last_name="Perrin")
    foreign_site = other.sites.create(name="Garage")
    auth = headers()
    contract = post("/api/v1/contracts", {"client_id": client.pk, "type": "managed", "plan_id": parts["good"].pk,
                                          "start_date": "2026-01-01"}, auth).json()
    # when B's contact is covered or B's site used as the scope
    covered = post(f"/api/v1/contracts/{contract['id']}/coverage/users", {"contact_id": foreign_contact.pk}, auth)
    moved = HttpClient().patch(f"/api/v1/contracts/{contract['id']}", data=json.dumps({"site_id": foreign_site.pk}),
                               content_type="application/json", **auth)
    # then both are refused without saying whether the record exists, and nothing changed
    assert (covered.status_code, covered.json()["errors"]) == (
        422, {"contact": ["Choose one of this client's contacts."]})
    assert (moved.status_code, moved.json()["errors"]) == (422, {"site": ["Choose one of this client's sites."]})
    assert not ContractCoverage.objects.exists()
    assert Contract.objects.get(pk=contract["id"]).site_id is None


def test_a_technician_reads_scope_without_prices_and_not_the_cost() -> None:
    parts = make_catalog()
    client = make_client()
    contract = post("/api/v1/contracts", {"client_id": client.pk, "type": "managed", "plan_id": parts["good"].pk,
                                          "start_date": "2026-01-01", "minimum_monthly_commitment": "300.00"},
                    headers()).json()
    tech = headers("technician")
    body = HttpClient().get(f"/api/v1/contracts/{contract['id']}", **tech).json()
    assert (body["plan_id"], body["minimum_monthly_commitment"]) == (parts["good"].pk, None)
    assert HttpClient().get(f"/api/v1/contracts/{contract['id']}/cost", **tech).status_code == 403
    assert post(f"/api/v1/contracts/{contract['id']}/sign", {}, tech).status_code == 403
    assert Contract.objects.get(pk=contract["id"]).minimum_monthly_commitment == Decimal("300.00")


def test_calendar_api_round_trips_hours_and_refuses_bad_ones() -> None:
    auth = headers()
    created = post("/api/v1/business-calendars", {
        "name": "Bureau", "time_zone": "Europe/Paris",
        "hours": {"monday": ["08:30-12:30", "13:30-18:00"], "friday": ["08:30-12:00"]},
        "holidays": [{"date": "2026-05-01", "name": "Fête du Travail"}]}, auth)
    assert created.status_code == 201
    assert created.json()["hours"]["monday"] == ["08:30-12:30", "13:30-18:00"]
    assert created.json()["hours"]["sunday"] == []
    assert created.json()["holidays"] == [{"date": "2026-05-01", "name": "Fête du Travail"}]
    bad = post("/api/v1/business-calendars", {"name": "Bad", "hours": {"monday": ["18:00-08:00"]}}, auth)
    odd = post("/api/v1/business-calendars", {"name": "Bad", "hours": {"funday": ["08:00-09:00"]}}, auth)
    assert (bad.status_code, odd.status_code) == (422, 422)
    assert "hours" in bad.json()["errors"]
    assert not BusinessCalendar.objects.filter(name="Bad").exists()
