"""Device API: filters, pagination, sorting, bad input, changes through the services."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.assets.models import CheckResult, CheckStatus, Device, DeviceStateChange, SoftwareItem
from tenfold.clients.models import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> tuple[HttpClient, dict[str, str]]:
    return HttpClient(), bearer(make_api_token(make_staff("admin")))


@pytest.fixture
def fleet() -> dict[str, Device]:
    a = Client.objects.create(name="Boulangerie Martin", status="active")
    b = Client.objects.create(name="Garage Perrin", status="active")
    now = timezone.now()
    return {
        "online": Device.objects.create(client=a, name="PC-COMPTA-01", kind="workstation", state="active",
                                        last_seen_at=now - timedelta(seconds=30), os_name="Windows 11 Pro"),
        "offline": Device.objects.create(client=a, name="SRV-FICHIERS", kind="server", state="active",
                                         last_seen_at=now - timedelta(hours=2), os_name="Windows Server 2022"),
        "never": Device.objects.create(client=a, name="IMP-ACCUEIL", kind="other", state="active"),
        "other": Device.objects.create(client=b, name="LAPTOP-CMARTIN", kind="laptop", state="maintenance",
                                       last_seen_at=now, logged_in_user="cmartin"),
    }


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["items"]]


def test_list_filters(api, fleet) -> None:
    http, auth = api
    a = fleet["online"].client_id
    assert names(http.get("/api/v1/devices?online=true", **auth)) == ["LAPTOP-CMARTIN", "PC-COMPTA-01"]
    assert names(http.get("/api/v1/devices?online=false", **auth)) == ["IMP-ACCUEIL", "SRV-FICHIERS"]
    assert names(http.get(f"/api/v1/devices?client_id={a}&kind=server", **auth)) == ["SRV-FICHIERS"]
    assert names(http.get("/api/v1/devices?state=maintenance", **auth)) == ["LAPTOP-CMARTIN"]
    assert names(http.get("/api/v1/devices?q=cmartin", **auth)) == ["LAPTOP-CMARTIN"]
    assert names(http.get(f"/api/v1/devices?ordering=-last_seen_at&client_id={a}", **auth)) == [
        "PC-COMPTA-01", "SRV-FICHIERS", "IMP-ACCUEIL"]
    assert names(http.get(f"/api/v1/devices?ordering=last_seen_at&client_id={a}", **auth)) == [
        "SRV-FICHIERS", "PC-COMPTA-01", "IMP-ACCUEIL"]


def test_list_paginates_and_reports_online(api, fleet) -> None:
    http, auth = api
    body = http.get("/api/v1/devices?page=2&page_size=3&ordering=name", **auth).json()
    assert (body["count"], body["pages"], body["page"], [i["name"] for i in body["items"]]) == (
        4, 2, 2, ["SRV-FICHIERS"])
    assert body["items"][0]["online"] is False


def test_unknown_ordering_and_bad_filters_are_422(api, fleet) -> None:
    http, auth = api
    assert http.get("/api/v1/devices?ordering=secret_hash", **auth).status_code == 422
    assert http.get("/api/v1/devices?kind=toaster", **auth).status_code == 422


def test_restricted_technician_sees_only_assigned_clients(fleet) -> None:
    tech = make_staff("technician", clients=[fleet["other"].client], restricted=True)
    response = HttpClient().get("/api/v1/devices", **bearer(make_api_token(tech)))
    assert names(response) == ["LAPTOP-CMARTIN"]
    assert HttpClient().get(f"/api/v1/devices/{fleet['online'].pk}", **bearer(make_api_token(tech))).status_code == 404


def test_patch_changes_only_what_is_sent(api, fleet) -> None:
    http, auth = api
    device = fleet["offline"]
    response = http.patch(f"/api/v1/devices/{device.pk}", data=json.dumps({"warranty_end": "2028-12-31"}),
                          content_type="application/json", **auth)
    assert response.status_code == 200
    assert (response.json()["warranty_end"], response.json()["name"]) == ("2028-12-31", "SRV-FICHIERS")


def test_patch_refuses_telemetry_fields(api, fleet) -> None:
    http, auth = api
    device = fleet["offline"]
    response = http.patch(f"/api/v1/devices/{device.pk}", data=json.dumps({"last_seen_at": None}),
                          content_type="application/json", **auth)
    assert response.status_code == 422
    assert Device.objects.get(pk=device.pk).last_seen_at == device.last_seen_at


def test_state_change_through_api(api, fleet) -> None:
    http, auth = api
    device = fleet["online"]
    response = http.post(f"/api/v1/devices/{device.pk}/state",
                         data=json.dumps({"state": "retired", "reason": "Sold"}), content_type="application/json",
                         **auth)
    assert (response.status_code, response.json()["state"]) == (200, "retired")
    assert list(DeviceStateChange.objects.values_list("from_state", "to_state", "reason")) == [
        ("active", "retired", "Sold")]
    again = http.post(f"/api/v1/devices/{device.pk}/state", data=json.dumps({"state": "retired"}),
                      content_type="application/json", **auth)
    assert (again.status_code, again.json()["code"]) == (409, "conflict")


def test_create_by_hand_through_api(api, fleet) -> None:
    http, auth = api
    client_id = fleet["online"].client_id
    response = http.post("/api/v1/devices", data=json.dumps({"client_id": client_id, "name": "SW-BAIE-01",
                                                             "kind": "network_device", "vendor": "Ubiquiti"}),
                         content_type="application/json", **auth)
    assert response.status_code == 201
    assert (response.json()["name"], response.json()["managed"], response.json()["state"]) == (
        "SW-BAIE-01", False, "active")


def test_software_list_searches(api, fleet) -> None:
    http, auth = api
    device = fleet["online"]
    SoftwareItem.objects.bulk_create([
        SoftwareItem(client_id=device.client_id, device=device, name=n, version=v, publisher=p)
        for n, v, p in [("Mozilla Firefox", "128.0", "Mozilla"), ("7-Zip", "23.01", "Igor Pavlov"),
                        ("Mozilla Thunderbird", "115.12", "Mozilla")]])
    body = http.get(f"/api/v1/devices/{device.pk}/software?q=mozilla", **auth).json()
    assert [(i["name"], i["version"]) for i in body["items"]] == [("Mozilla Firefox", "128.0"),
                                                                  ("Mozilla Thunderbird", "115.12")]


def test_check_results_list_newest_first_and_by_check(api, fleet) -> None:
    http, auth = api
    device, other = fleet["online"], fleet["other"]
    at = timezone.now().replace(microsecond=0)
    CheckResult.objects.bulk_create([
        CheckResult(client_id=device.client_id, device=device, check_id=7, at=at - timedelta(minutes=2),
                    status=CheckStatus.FAIL, value=None, message="connection refused", seq=11),
        CheckResult(client_id=device.client_id, device=device, check_id=7, at=at, status=CheckStatus.PASS,
                    value=1.5, message="open", seq=14),
        CheckResult(client_id=device.client_id, device=device, check_id=8, at=at - timedelta(minutes=1),
                    status=CheckStatus.ERROR, value=None, message="no such service", seq=12),
        CheckResult(client_id=other.client_id, device=other, check_id=7, at=at, status=CheckStatus.FAIL,
                    value=None, message="another device", seq=3)])
    body = http.get(f"/api/v1/devices/{device.pk}/check-results", **auth).json()
    assert body["count"] == 3
    assert [(i["check_id"], i["status"], i["seq"], i["message"]) for i in body["items"]] == [
        (7, "pass", 14, "open"), (8, "error", 12, "no such service"), (7, "fail", 11, "connection refused")]
    assert body["items"][0]["value"] == 1.5
    only = http.get(f"/api/v1/devices/{device.pk}/check-results?check_id=7&page_size=1", **auth).json()
    assert (only["count"], only["pages"], [i["seq"] for i in only["items"]]) == (2, 2, [14])
    assert http.get(f"/api/v1/devices/{device.pk}/check-results?check_id=0", **auth).status_code == 422
