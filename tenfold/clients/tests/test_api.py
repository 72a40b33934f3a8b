"""The clients API: shapes, pagination, filters, bad input."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from tenfold.accounts import testing
from tenfold.accounts.testing import make_staff
from tenfold.clients.models import Client, Contact, Site
from tenfold.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def bearer(user, read_only: bool = False) -> dict[str, str]:
    return testing.bearer(testing.make_api_token(user, read_only=read_only))


def post(path: str, body, headers, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body)
    return HttpClient().post(path, data=data, content_type="application/json", **headers)


def test_create_then_get_client() -> None:
    # given an admin token
    headers = bearer(make_staff("admin"))
    # when a client is created and read back
    created = post("/api/v1/clients", {"name": "Cabinet Dupuis", "status": "active"}, headers)
    fetched = HttpClient().get(f"/api/v1/clients/{created.json()['id']}", **headers)
    # then both answers carry the same record
    assert created.status_code == 201
    assert fetched.status_code == 200
    assert fetched.json()["name"] == "Cabinet Dupuis"
    assert fetched.json()["status"] == "active"


def test_list_is_paginated_filtered_and_sorted() -> None:
    # given 7 clients, 3 of them active
    headers = bearer(make_staff("admin"))
    for index in range(7):
        Client.objects.create(name=f"Client {index:02d}", status="active" if index % 3 == 0 else "prospect")
    # when listing active clients, 2 per page, newest name first
    response = HttpClient().get("/api/v1/clients?status=active&page_size=2&page=1&ordering=-name", **headers)
    # then the first page holds the last two active names and the counts are exact
    body = response.json()
    assert [c["name"] for c in body["items"]] == ["Client 06", "Client 03"]
    assert (body["count"], body["pages"], body["page"], body["page_size"]) == (3, 2, 1, 2)


def test_unknown_ordering_is_a_clear_error() -> None:
    headers = bearer(make_staff("admin"))
    response = HttpClient().get("/api/v1/clients?ordering=password", **headers)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert "ordering" in response.json()["errors"]


@pytest.mark.parametrize(("raw", "expected_status"), [
    (b"{not json", 400),
    (b'{"name": 12345}', 422),
    (b'{"name": ""}', 422),
    (b'{"name": "Ok", "is_superuser": true}', 422),
    (b'{"name": "Ok", "status": "bankrupt"}', 422),
    (b'{"name": "Ok", "account_manager_id": 99999999999999999999999}', 422),
    (b"[]", 422),
])
def test_bad_client_bodies_are_refused_and_write_nothing(raw: bytes, expected_status: int) -> None:
    # given an admin token
    headers = bearer(make_staff("admin"))
    # when a malformed body is posted
    response = post("/api/v1/clients", None, headers, raw=raw)
    # then a 4xx with a stable code, and nothing written
    assert response.status_code == expected_status
    assert set(response.json()) >= {"code", "message"}
    assert Client.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_oversized_body_is_refused(settings) -> None:
    # given a 1 KiB limit
    settings.TENFOLD_MAX_REQUEST_BYTES = 1024
    headers = bearer(make_staff("admin"))
    # when a 2 KiB note is posted
    response = post("/api/v1/clients", {"name": "Big", "notes": "x" * 2048}, headers)
    # then 413 and nothing written
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert Client.objects.count() == 0


@pytest.mark.parametrize("query", ["q=%00", "q=Ac%00me&status=active", "ordering=name%00"])
def test_a_nul_in_the_query_string_is_a_clear_400_on_api_and_pages(query: str) -> None:
    # given a client and a logged-in administrator
    admin = make_staff("admin")
    Client.objects.create(name="Acme", status="active")
    # when a list is asked for with a NUL in a parameter (PostgreSQL cannot compare text holding one)
    api = HttpClient().get(f"/api/v1/clients?{query}", **bearer(admin))
    browser = HttpClient()
    browser.force_login(admin)
    page = browser.get(f"/clients/?{query}")
    # then both answer 400 with the reason, not a server error
    for response in (api, page):
        assert (response.status_code, response.json()) == (400, {
            "code": "bad_request", "message": "Query parameters cannot contain NUL characters."})
    # and a literal "%00" (sent as %2500) is still an ordinary search
    found = HttpClient().get("/api/v1/clients?q=%2500", **bearer(admin))
    assert (found.status_code, found.json()["count"]) == (200, 0)


def test_a_form_posted_to_json_endpoints_gets_their_own_4xx_and_a_nul_in_a_multipart_field_a_400() -> None:
    # given an API token, and the form checks reading posted fields before any view
    headers = bearer(make_staff("admin"))
    # when multipart forms are posted where JSON is expected, then each endpoint answers as it always did
    answers = [(path, HttpClient().post(path, {"name": "Acme"}, **headers).status_code)
               for path in ("/api/v1/clients", "/agent/v1/enroll", "/agent/v1/checkin")]
    assert answers == [("/api/v1/clients", 400), ("/agent/v1/enroll", 422), ("/agent/v1/checkin", 401)]
    # and a multipart field holding a NUL is refused before the view, nothing written
    response = HttpClient().post("/api/v1/clients", {"name": "Ac\x00me"}, **headers)
    assert (response.status_code, response.json()["message"]) == (400, "Form fields cannot contain NUL characters.")
    assert Client.objects.count() == 0


def test_forged_site_id_of_another_client_on_contact() -> None:
    # given two clients and a site of the second
    headers = bearer(make_staff("admin"))
    first = Client.objects.create(name="First")
    second = Client.objects.create(name="Second")
    foreign = Site.objects.create(client=second, name="Foreign")
    # when a contact of the first names the second's site
    response = post(f"/api/v1/clients/{first.pk}/contacts",
                    {"first_name": "Eve", "last_name": "Forger", "site_id": foreign.pk}, headers)
    # then it is refused and nothing written
    assert response.status_code == 422
    assert response.json()["errors"] == {"site": ["Choose one of this client's sites."]}
    assert Contact.objects.count() == 0


def test_read_only_token_cannot_write() -> None:
    headers = bearer(make_staff("admin"), read_only=True)
    response = post("/api/v1/clients", {"name": "Nope"}, headers)
    assert response.status_code == 403
    assert Client.objects.count() == 0


def test_missing_token_is_401() -> None:
    response = HttpClient().get("/api/v1/clients")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_patch_only_changes_sent_fields() -> None:
    # given a client with notes
    headers = bearer(make_staff("admin"))
    client = Client.objects.create(name="Horizon", notes="Three agencies")
    # when only the phone is patched
    response = HttpClient().patch(f"/api/v1/clients/{client.pk}", data=json.dumps({"phone": "+33 4 00 00 00 00"}),
                                  content_type="application/json", **headers)
    # then the notes are untouched
    client.refresh_from_db()
    assert response.status_code == 200
    assert (client.phone, client.notes) == ("+33 4 00 00 00 00", "Three agencies")


def test_openapi_schema_is_served_with_examples() -> None:
    response = HttpClient().get("/api/v1/openapi.json")
    schema = response.json()
    assert response.status_code == 200
    assert "/api/v1/clients" in schema["paths"]
    client_in = schema["components"]["schemas"]["ClientIn"]
    assert client_in["properties"]["name"]["examples"] == ["Boulangerie Martin SARL"]
    assert schema["components"]["securitySchemes"]
