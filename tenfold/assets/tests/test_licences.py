"""Licences: installed counts computed in SQL from the software inventory, over-deployment, expiry,
CRUD with validation, the page and the API."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.assets import selectors, services
from tenfold.assets.models import Device, Licence, SoftwareItem
from tenfold.clients.models import Client
from tenfold.core.errors import PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_a() -> Client:
    return Client.objects.create(name="Boulangerie Martin", status="active")


def device_with(client: Client, name: str, *programs: str, state: str = "active") -> Device:
    device = Device.objects.create(client=client, name=name, managed=True, state=state)
    SoftwareItem.objects.bulk_create([SoftwareItem(client=client, device=device, name=p, version=str(i))
                                      for i, p in enumerate(programs)])
    return device


def test_installed_counts_distinct_devices_of_the_client_case_insensitively(client_a: Client) -> None:
    # given three devices with Microsoft 365 (one twice, one retired) and another client's device
    device_with(client_a, "PC-01", "Microsoft 365 Apps for business", "MICROSOFT 365 Apps - fr-fr")
    device_with(client_a, "PC-02", "microsoft 365 apps for business")
    device_with(client_a, "PC-03", "Microsoft 365 Apps for business", state="retired")
    device_with(client_a, "PC-04", "Sage 100")
    other = Client.objects.create(name="Garage Perrin")
    device_with(other, "PC-X", "Microsoft 365 Apps for business")
    services.licence_create(actor=make_staff("admin", mfa=False), client=client_a, data={
        "product": "Microsoft 365 Business Standard", "seats": 1, "match_pattern": "microsoft 365"})
    services.licence_create(actor=make_staff("admin", mfa=False), client=client_a, data={
        "product": "Adobe Acrobat", "seats": 5, "match_pattern": "Acrobat"})
    # when the client's licences are read
    with CaptureQueriesContext(connection) as queries:
        rows = selectors.client_licences(client_a.pk)
    # then counts are exact, in one query
    assert [(r.product, r.seats, r.installed) for r in rows] == [  # type: ignore[attr-defined]
        ("Adobe Acrobat", 5, 0), ("Microsoft 365 Business Standard", 1, 2)]
    assert len(queries.captured_queries) == 1


def test_licence_create_defaults_pattern_validates_and_audits(client_a: Client) -> None:
    admin = make_staff("admin", mfa=False)
    licence = services.licence_create(actor=admin, client=client_a, data={"product": " Sage 100 ", "seats": 3})
    assert (licence.product, licence.match_pattern, licence.seats) == ("Sage 100", "Sage 100", 3)
    assert AuditEntry.objects.get(action="licence.created").changes["seats"] == 3
    with pytest.raises(ValidationError) as info:
        services.licence_create(actor=admin, client=client_a, data={"product": "X", "seats": -1})
    assert info.value.errors == {"seats": ["The number of seats cannot be negative."]}
    with pytest.raises(ValidationError) as info:
        services.licence_create(actor=admin, client=client_a, data={"product": "", "seats": 1})
    assert info.value.errors == {"product": ["This field cannot be blank."],
                                 "match_pattern": ["This field cannot be blank."]}
    assert Licence.objects.count() == 1


def test_licence_update_and_delete_are_audited_and_need_the_right(client_a: Client) -> None:
    licence = Licence.objects.create(client=client_a, product="Sage 100", seats=3, match_pattern="Sage")
    with pytest.raises(PermissionDenied):
        services.licence_delete(actor=make_staff("technician", mfa=False), licence=licence)
    services.licence_update(actor=make_staff("technician", mfa=False), licence=licence, data={"seats": 5})
    assert AuditEntry.objects.get(action="licence.updated").changes == {"seats": [3, 5]}
    services.licence_delete(actor=make_staff("admin", mfa=False), licence=licence)
    assert Licence.objects.count() == 0 and AuditEntry.objects.filter(action="licence.deleted").count() == 1


def test_page_flags_over_deployed_and_expiring(client_a: Client) -> None:
    # given one over-deployed licence expiring in 30 days and one fine licence expiring in a year
    device_with(client_a, "PC-01", "Sage 100c Comptabilité")
    device_with(client_a, "PC-02", "Sage 100c Gestion commerciale")
    today = timezone.localdate()
    over = Licence.objects.create(client=client_a, product="Sage 100", seats=1, match_pattern="sage 100",
                                  expires_on=today + timedelta(days=30))
    fine = Licence.objects.create(client=client_a, product="Adobe Acrobat", seats=4, match_pattern="Acrobat",
                                  expires_on=today + timedelta(days=365))
    http = HttpClient()
    http.force_login(make_staff("technician"))
    # when the page is opened
    body = http.get(f"/devices/clients/{client_a.pk}/licences/").content.decode()
    # then the over-deployed and expiring one is flagged, the other is not
    over_row = body.split(f'data-testid="licence-{over.pk}"', 1)[1].split("</tr>", 1)[0]
    fine_row = body.split(f'data-testid="licence-{fine.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "2 (over-deployed)" in over_row and 'data-testid="expiring"' in over_row
    assert "over-deployed" not in fine_row and "expiring" not in fine_row


def test_page_form_shows_errors_and_saves(client_a: Client) -> None:
    http = HttpClient()
    http.force_login(make_staff("technician"))
    url = f"/devices/clients/{client_a.pk}/licences/new/"
    bad = http.post(url, {"product": "Sage 100", "seats": "-2"})
    assert bad.status_code == 200 and Licence.objects.count() == 0
    assert "Ensure this value is greater than or equal to 0." in bad.content.decode()
    good = http.post(url, {"product": "Sage 100", "seats": "2", "match_pattern": ""})
    assert good.status_code == 302 and list(Licence.objects.values_list("product", "seats", "match_pattern")) == [
        ("Sage 100", 2, "Sage 100")]


def test_api_crud_with_counts(client_a: Client) -> None:
    device_with(client_a, "PC-01", "Adobe Acrobat (64-bit)")
    device_with(client_a, "PC-02", "Adobe Acrobat Reader")
    http, headers = HttpClient(), bearer(make_api_token(make_staff("admin")))
    created = http.post("/api/v1/licences", data=json.dumps({
        "client_id": client_a.pk, "product": "Adobe Acrobat", "seats": 1, "match_pattern": "acrobat"}),
        content_type="application/json", **headers)
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["installed"], body["over_deployed"], body["seats"]) == (2, True, 1)
    patched = http.patch(f"/api/v1/licences/{body['id']}", data='{"seats": 2}', content_type="application/json",
                         **headers)
    assert (patched.json()["seats"], patched.json()["over_deployed"]) == (2, False)
    listed = http.get(f"/api/v1/licences?client_id={client_a.pk}&ordering=-installed", **headers).json()
    assert [(i["product"], i["installed"]) for i in listed["items"]] == [("Adobe Acrobat", 2)]
    negative = http.patch(f"/api/v1/licences/{body['id']}", data='{"seats": -1}', content_type="application/json",
                          **headers)
    assert negative.status_code == 422
    assert http.delete(f"/api/v1/licences/{body['id']}", **headers).status_code == 204
    assert http.get(f"/api/v1/licences/{body['id']}", **headers).status_code == 404
