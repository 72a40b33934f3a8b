"""The accounts API: /me, own tokens, user management."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from tenfold.accounts.models import ApiToken, StaffProfile, User
from tenfold.accounts.tests.factories import (
    ApiTokenFactory,
    ClientFactory,
    ContactFactory,
    bearer,
    make_api_token,
    make_staff,
)
from tenfold.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def api(user: User) -> tuple[HttpClient, dict[str, str]]:
    return HttpClient(), bearer(make_api_token(user))


def test_me_describes_the_caller() -> None:
    # given a restricted technician
    client = ClientFactory()
    user = make_staff(
        "technician", clients=[client], restricted=True, first_name="Léa", last_name="Petit", language="fr"
    )
    http, auth = api(user)
    # when they ask who they are
    body = http.get("/api/v1/me", **auth).json()
    # then the answer describes them exactly
    assert {
        k: body[k]
        for k in (
            "email",
            "first_name",
            "last_name",
            "role",
            "is_active",
            "is_portal",
            "language",
            "restrict_to_clients",
            "assigned_client_ids",
            "client_id",
            "contact_id",
            "mfa_enabled",
        )
    } == {
        "email": user.email,
        "first_name": "Léa",
        "last_name": "Petit",
        "role": "technician",
        "is_active": True,
        "is_portal": False,
        "language": "fr",
        "restrict_to_clients": True,
        "assigned_client_ids": [client.pk],
        "client_id": None,
        "contact_id": None,
        "mfa_enabled": True,
    }
    assert body["staff_profile"] == {
        "job_title": "",
        "phone": "",
        "hourly_cost_rate": "40.00",
        "default_bill_rate": "90.00",
    }


def test_create_list_and_revoke_own_tokens() -> None:
    # given a technician with a read-write token
    user = make_staff("technician")
    http, auth = api(user)
    # when they create a read-only token through the API
    created = http.post(
        "/api/v1/tokens", {"name": "monitoring", "read_only": True}, content_type="application/json", **auth
    )
    body = created.json()
    # then the secret comes back once, and works for reading only
    assert created.status_code == 201
    assert body["token"].startswith(f"tf_{body['prefix']}_")
    assert (body["name"], body["read_only"], body["state"]) == ("monitoring", True, "active")
    assert http.get("/api/v1/me", **bearer(body["token"])).status_code == 200
    listed = http.get("/api/v1/tokens", **auth).json()
    assert [t["name"] for t in listed["items"]] == ["monitoring", "test token"]
    assert all("token" not in t for t in listed["items"])
    # when they revoke it
    revoked = http.delete(f"/api/v1/tokens/{body['id']}", **auth)
    # then it stops working
    assert revoked.status_code == 204
    assert http.get("/api/v1/me", **bearer(body["token"])).status_code == 401


def test_token_of_someone_else_is_not_found() -> None:
    # given two technicians
    me, other = make_staff("technician"), make_staff("technician")
    theirs = ApiTokenFactory(user=other)
    http, auth = api(me)
    # when I try to revoke their token
    response = http.delete(f"/api/v1/tokens/{theirs.pk}", **auth)
    # then it does not exist for me, and stays usable
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None


def test_token_body_with_unknown_fields_is_refused() -> None:
    # given a technician
    http, auth = api(make_staff("technician"))
    count = ApiToken.objects.count()
    # when the body carries an unknown field
    response = http.post(
        "/api/v1/tokens", {"name": "x", "user_id": 1}, content_type="application/json", **auth
    )
    # then it is 422 and nothing was created
    assert response.status_code == 422
    assert ApiToken.objects.count() == count


@pytest.mark.parametrize("role", ["service_manager", "technician", "account_manager", "finance"])
def test_user_endpoints_are_forbidden_to_other_roles(role: str) -> None:
    # given a staff user who may not manage users
    actor = make_staff(role)
    other = make_staff("technician")
    http, auth = api(actor)
    before = list(User.objects.order_by("pk").values_list("email", "role", "is_active"))
    # when they call every user endpoint
    answers = [
        http.get("/api/v1/users", **auth),
        http.get(f"/api/v1/users/{other.pk}", **auth),
        http.post(
            "/api/v1/users",
            {"email": "n@msp.test", "role": "technician"},
            content_type="application/json",
            **auth,
        ),
        http.patch(f"/api/v1/users/{other.pk}", {"role": "admin"}, content_type="application/json", **auth),
    ]
    # then each is 403 and nothing changed
    assert [(r.status_code, r.json()["code"]) for r in answers] == [(403, "permission_denied")] * 4
    assert list(User.objects.order_by("pk").values_list("email", "role", "is_active")) == before


def test_admin_creates_and_changes_a_user() -> None:
    # given an admin and a client with a contact
    admin = make_staff("admin")
    contact = ContactFactory()
    http, auth = api(admin)
    # when they create a portal admin for that contact, then rename them
    created = http.post(
        "/api/v1/users",
        {
            "email": "Portal@Client.test",
            "role": "portal_admin",
            "client_id": contact.client_id,
            "contact_id": contact.pk,
        },
        content_type="application/json",
        **auth,
    )
    user_id = created.json()["id"]
    changed = http.patch(
        f"/api/v1/users/{user_id}",
        {"first_name": "Paul", "role": "portal_user"},
        content_type="application/json",
        **auth,
    )
    # then both answers describe the user as stored
    assert created.status_code == 201
    assert (created.json()["email"], created.json()["client_id"], created.json()["staff_profile"]) == (
        "portal@client.test",
        contact.client_id,
        None,
    )
    assert changed.status_code == 200
    assert (changed.json()["first_name"], changed.json()["role"]) == ("Paul", "portal_user")
    assert User.objects.get(pk=user_id).first_name == "Paul"


def test_patch_with_null_leaves_fields_alone() -> None:
    # given an owner and a technician
    owner = make_staff("owner")
    tech = make_staff("technician")
    http, auth = api(owner)
    # when a PATCH sends nulls
    response = http.patch(
        f"/api/v1/users/{tech.pk}", {"is_active": None, "role": None}, content_type="application/json", **auth
    )
    # then nothing changed
    assert response.status_code == 200
    tech.refresh_from_db()
    assert (tech.is_active, tech.role) == (True, "technician")


def test_admin_cannot_create_an_owner_through_the_api() -> None:
    # given an admin
    http, auth = api(make_staff("admin"))
    # when they create an owner
    response = http.post(
        "/api/v1/users", {"email": "boss@msp.test", "role": "owner"}, content_type="application/json", **auth
    )
    # then it is 403 and no such user exists
    assert response.status_code == 403
    assert User.objects.filter(email="boss@msp.test").exists() is False


def test_last_owner_demotion_is_a_conflict() -> None:
    # given the only owner
    owner = make_staff("owner")
    http, auth = api(owner)
    # when they demote themselves through the API
    response = http.patch(
        f"/api/v1/users/{owner.pk}", {"role": "admin"}, content_type="application/json", **auth
    )
    # then it is 409 with a clear message and nothing changed
    assert response.status_code == 409
    assert response.json() == {
        "code": "conflict",
        "message": "This is the last active owner: make another user an owner first.",
        "errors": {"role": ["This is the last active owner: make another user an owner first."]},
    }
    assert User.objects.get(pk=owner.pk).role == "owner"


def test_validation_errors_name_the_fields() -> None:
    # given an admin
    http, auth = api(make_staff("admin"))
    audit_before = AuditEntry.objects.count()
    # when the body is malformed, mistyped or breaks a rule
    malformed = http.post("/api/v1/users", "{not json", content_type="application/json", **auth)
    wrong_type = http.post(
        "/api/v1/users",
        {"email": "a@msp.test", "role": "technician", "restrict_to_clients": "maybe"},
        content_type="application/json",
        **auth,
    )
    bad_role = http.post(
        "/api/v1/users", {"email": "a@msp.test", "role": "king"}, content_type="application/json", **auth
    )
    negative = http.post(
        "/api/v1/users",
        {"email": "a@msp.test", "role": "technician", "hourly_cost_rate": "-1"},
        content_type="application/json",
        **auth,
    )
    # then each is a 4xx naming the problem, and nothing was written
    assert malformed.status_code in (400, 422)
    assert (wrong_type.status_code, list(wrong_type.json()["errors"])) == (422, ["restrict_to_clients"])
    assert (bad_role.status_code, list(bad_role.json()["errors"])) == (422, ["role"])
    assert (negative.status_code, list(negative.json()["errors"])) == (422, ["hourly_cost_rate"])
    assert User.objects.filter(email="a@msp.test").exists() is False
    assert AuditEntry.objects.count() == audit_before


def test_user_list_filters_and_orders() -> None:
    # given an owner and three more users
    owner = make_staff("owner", last_name="Owner")
    make_staff("technician", last_name="Alpha")
    make_staff("technician", last_name="Beta", is_active=False)
    make_staff("finance", last_name="Gamma")
    http, auth = api(owner)
    # when listing active technicians, then everyone by descending last name
    technicians = http.get("/api/v1/users?role=technician&is_active=true", **auth).json()
    ordered = http.get("/api/v1/users?ordering=-last_name&page_size=2", **auth).json()
    bad = http.get("/api/v1/users?ordering=password", **auth)
    # then the answers are exact
    assert [u["last_name"] for u in technicians["items"]] == ["Alpha"]
    assert [u["last_name"] for u in ordered["items"]] == ["Owner", "Gamma"]
    assert (ordered["count"], ordered["pages"]) == (4, 2)
    assert bad.status_code == 422


def test_unknown_user_is_404() -> None:
    # given an owner
    http, auth = api(make_staff("owner"))
    # when they ask for a user that does not exist
    response = http.get("/api/v1/users/987654", **auth)
    # then it is 404
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_staff_profile_rates_through_the_api() -> None:
    # given an admin and a technician
    tech = make_staff("technician")
    http, auth = api(make_staff("admin"))
    # when the admin changes the rates
    response = http.patch(
        f"/api/v1/users/{tech.pk}",
        {"hourly_cost_rate": "42.10", "default_bill_rate": "99"},
        content_type="application/json",
        **auth,
    )
    # then they are stored with two decimals
    assert response.status_code == 200
    assert response.json()["staff_profile"]["default_bill_rate"] == "99.00"
    profile = StaffProfile.objects.get(user=tech)
    assert (str(profile.hourly_cost_rate), str(profile.default_bill_rate)) == ("42.10", "99.00")


def test_openapi_documents_the_accounts_routes_with_examples() -> None:
    # given the schema
    schema = HttpClient().get("/api/v1/openapi.json").json()
    # then every accounts route is there with its error answers, and bodies have examples
    paths = schema["paths"]
    assert {
        "/api/v1/me",
        "/api/v1/tokens",
        "/api/v1/tokens/{token_id}",
        "/api/v1/users",
        "/api/v1/users/{user_id}",
    } <= set(paths)
    assert set(paths["/api/v1/users/{user_id}"]["patch"]["responses"]) >= {"200", "403", "404", "409", "422"}
    user_out = schema["components"]["schemas"]["UserOut"]["properties"]
    assert user_out["email"]["examples"] == ["alice@msp.example"]


def test_user_list_query_count_does_not_grow_with_rows() -> None:
    # given an owner and 3, then 30 users with restrictions and second factors
    owner = make_staff("owner")
    http, auth = api(owner)
    client = ClientFactory()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert http.get("/api/v1/users?page_size=100", **auth).status_code == 200
        return len(captured)

    for _ in range(3):
        make_staff("technician", clients=[client], restricted=True)
    queries()
    small = queries()
    for _ in range(27):
        make_staff("technician", clients=[client], restricted=True)
    large = queries()
    # then the number of queries is the same
    assert large == small


def test_session_writes_need_the_csrf_token() -> None:
    # given a technician logged in by session, in a client that enforces CSRF like a browser
    user = make_staff("technician")
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(user)
    http.get("/accounts/profile/")  # sets the CSRF cookie
    # when they create a token without then with the CSRF header
    refused = http.post("/api/v1/tokens", {"name": "no csrf"}, content_type="application/json")
    accepted = http.post(
        "/api/v1/tokens",
        {"name": "with csrf"},
        content_type="application/json",
        headers={"X-CSRFToken": http.cookies["csrftoken"].value},
    )
    # then only the second is accepted
    assert refused.status_code == 403
    assert accepted.status_code == 201
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["with csrf"]


def test_anonymous_write_is_401_not_a_csrf_error() -> None:
    # given nobody logged in
    http = HttpClient(enforce_csrf_checks=True)
    # when they post to the API
    response = http.post("/api/v1/tokens", {"name": "x"}, content_type="application/json")
    # then they are told to authenticate
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
