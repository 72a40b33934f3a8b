"""User management pages and "Your account": list, detail, forms, tokens, language."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenfold.accounts.models import ApiToken, StaffProfile, User
from tenfold.accounts.tests.factories import (
    ApiTokenFactory,
    ClientFactory,
    ContactFactory,
    bearer,
    logged_in,
    make_portal_user,
    make_staff,
)
from tenfold.accounts.tokens import hash_token

pytestmark = pytest.mark.django_db


def test_user_list_searches_filters_and_sorts() -> None:
    # given an admin and users of several roles
    admin = make_staff("admin", first_name="Ada", last_name="Zimmer")
    make_staff("technician", first_name="Bruno", last_name="Martin")
    make_staff("technician", first_name="Chloé", last_name="Bernard", is_active=False)
    make_staff("finance", first_name="Denis", last_name="Martin")
    http = logged_in(admin)
    # when searching, filtering and sorting
    search = http.get("/accounts/users/?q=martin").content.decode()
    technicians = http.get("/accounts/users/?role=technician&active=1").content.decode()
    inactive = http.get("/accounts/users/?active=0").content.decode()
    by_email_desc = http.get("/accounts/users/?sort=-email").content.decode()
    # then each answer holds exactly the expected rows
    assert "Bruno Martin" in search and "Denis Martin" in search and "Ada Zimmer" not in search
    assert "Bruno Martin" in technicians and "Chloé Bernard" not in technicians
    assert "Chloé Bernard" in inactive and "Bruno Martin" not in inactive
    emails = re.findall(r'data-col="email"><a href="[^"]+">([^<]+)</a>', by_email_desc)
    assert emails == sorted(emails, reverse=True)
    assert len(emails) == 4


def test_user_list_htmx_answers_the_table_only() -> None:
    # given an admin
    http = logged_in(make_staff("admin"))
    # when the table is refreshed by HTMX
    response = http.get(
        "/accounts/users/?q=admin", headers={"HX-Request": "true", "HX-Target": "list-results"}
    )
    # then only the fragment comes back
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="list-results">')
    assert "<html" not in html


def test_user_list_paginates_with_a_fixed_number_of_queries() -> None:
    # given 5 then 60 users
    admin = make_staff("admin")
    http = logged_in(admin)
    for _ in range(4):
        make_staff("technician", mfa=False)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert http.get("/accounts/users/").status_code == 200
        return len(captured)

    queries()  # warm-up: the first request creates the organization row
    small = queries()
    for _ in range(55):
        make_staff("technician", mfa=False)
    large = queries()
    # then the query count does not grow with rows, and the second page exists
    assert large == small
    assert "Page 1 of 2" in http.get("/accounts/users/").content.decode()


@pytest.mark.parametrize("role", ["service_manager", "technician", "account_manager", "finance"])
def test_roles_without_user_management_get_403_on_every_user_page(role: str) -> None:
    # given a staff user who may not manage users, and another user
    actor = make_staff(role)
    other = make_staff("technician")
    http = logged_in(actor)
    before = list(User.objects.order_by("pk").values_list("email", "role", "is_active"))
    # when they open or post the user pages
    answers = [
        http.get("/accounts/users/"),
        http.get("/accounts/users/new/"),
        http.get(f"/accounts/users/{other.pk}/"),
        http.post("/accounts/users/new/", {"email": "x@msp.test", "role": "technician"}),
        http.post(f"/accounts/users/{other.pk}/edit/", {"email": other.email, "role": "admin"}),
        http.post(f"/accounts/users/{other.pk}/deactivate/"),
    ]
    # then each is 403 and nothing changed
    assert [r.status_code for r in answers] == [403] * 6
    assert list(User.objects.order_by("pk").values_list("email", "role", "is_active")) == before


def test_user_menu_entry_only_for_owner_and_admin() -> None:
    # given an admin and a technician
    admin_page = logged_in(make_staff("admin")).get("/accounts/profile/").content.decode()
    tech_page = logged_in(make_staff("technician")).get("/accounts/profile/").content.decode()
    # then only the admin sees the Users entry
    assert 'data-nav="users"' in admin_page
    assert 'data-nav="users"' not in tech_page


def test_create_staff_user_through_the_form() -> None:
    # given an admin and a client
    admin = make_staff("admin")
    client = ClientFactory(name="Dupont SA")
    http = logged_in(admin)
    # when they fill in the form
    response = http.post(
        "/accounts/users/new/",
        {
            "email": "nina@msp.test",
            "first_name": "Nina",
            "last_name": "Roux",
            "role": "technician",
            "language": "fr",
            "password": "a long passphrase 2024",
            "job_title": "Technician",
            "phone": "",
            "hourly_cost_rate": "35.00",
            "default_bill_rate": "85.50",
            "restrict_to_clients": "on",
            "assigned_clients": [str(client.pk)],
        },
    )
    # then the user exists as entered and the detail page opens
    user = User.objects.get(email="nina@msp.test")
    assert (response.status_code, response["Location"]) == (302, f"/accounts/users/{user.pk}/")
    assert (user.role, user.language, user.restrict_to_clients) == ("technician", "fr", True)
    assert list(user.assigned_clients.values_list("name", flat=True)) == ["Dupont SA"]
    profile = StaffProfile.objects.get(user=user)
    assert (str(profile.hourly_cost_rate), str(profile.default_bill_rate)) == ("35.00", "85.50")
    detail = http.get(response["Location"]).content.decode()
    assert "Dupont SA" in detail and "85.50" in detail


def test_create_form_shows_service_errors_beside_fields() -> None:
    # given an admin, client A and a contact of client B
    admin = make_staff("admin")
    client_a = ClientFactory()
    contact_b = ContactFactory()
    http = logged_in(admin)
    # when they create a portal user of A with B's contact
    response = http.post(
        "/accounts/users/new/",
        {
            "email": "forged@client.test",
            "role": "portal_user",
            "client": str(client_a.pk),
            "contact": str(contact_b.pk),
        },
    )
    # then the form comes back with the error beside the contact, and nothing was created
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(
        r'id="id_contact".*?<small class="error" role="alert">This contact does not belong to the '
        r"user&#x27;s client.</small>",
        html,
        re.S,
    )
    assert User.objects.filter(email="forged@client.test").exists() is False


def test_admin_form_does_not_offer_the_owner_role() -> None:
    # given an admin and an owner
    admin_form = logged_in(make_staff("admin")).get("/accounts/users/new/").content.decode()
    owner_form = logged_in(make_staff("owner")).get("/accounts/users/new/").content.decode()
    # then only the owner may pick "Owner"
    assert '<option value="owner"' not in admin_form
    assert '<option value="owner"' in owner_form


def test_admin_cannot_open_an_owner_edit_page() -> None:
    # given an admin and an owner
    owner = make_staff("owner")
    http = logged_in(make_staff("admin"))
    # when the admin opens or posts the owner's edit page
    page = http.get(f"/accounts/users/{owner.pk}/edit/")
    post = http.post(
        f"/accounts/users/{owner.pk}/edit/", {"email": owner.email, "role": "owner", "first_name": "Changed"}
    )
    # then both are refused and nothing changed
    assert (page.status_code, post.status_code) == (403, 403)
    assert User.objects.get(pk=owner.pk).first_name == owner.first_name


def test_edit_page_reports_the_last_owner_conflict() -> None:
    # given the only owner
    owner = make_staff("owner")
    http = logged_in(owner)
    # when they demote themselves
    response = http.post(
        f"/accounts/users/{owner.pk}/edit/",
        {
            "email": owner.email,
            "first_name": owner.first_name,
            "last_name": owner.last_name,
            "role": "admin",
            "language": "",
            "is_active": "on",
            "hourly_cost_rate": "40.00",
            "default_bill_rate": "90.00",
        },
    )
    # then the form explains why, and the owner stays an owner
    assert response.status_code == 200
    assert "This is the last active owner: make another user an owner first." in response.content.decode()
    assert User.objects.get(pk=owner.pk).role == "owner"


def test_deactivate_asks_then_deactivates() -> None:
    # given an admin and a technician
    admin = make_staff("admin")
    tech = make_staff("technician")
    http = logged_in(admin)
    # when the admin opens the confirmation, then confirms
    confirm = http.get(f"/accounts/users/{tech.pk}/deactivate/")
    done = http.post(f"/accounts/users/{tech.pk}/deactivate/")
    # then the technician is inactive
    assert confirm.status_code == 200
    assert User.objects.get(pk=tech.pk).is_active is False
    assert (done.status_code, done["Location"]) == (302, f"/accounts/users/{tech.pk}/")
    assert "Inactive" in http.get(done["Location"]).content.decode()


def test_unknown_user_is_404() -> None:
    # given an admin
    http = logged_in(make_staff("admin"))
    # when they open a user that does not exist
    response = http.get("/accounts/users/999999/")
    # then it is 404
    assert response.status_code == 404


def test_admin_sets_a_password() -> None:
    # given an admin and a technician
    tech = make_staff("technician")
    http = logged_in(make_staff("admin"))
    # when the admin sets mismatching then matching passwords
    mismatch = http.post(
        f"/accounts/users/{tech.pk}/password/",
        {"password1": "one long passphrase", "password2": "another passphrase"},
    )
    done = http.post(
        f"/accounts/users/{tech.pk}/password/",
        {"password1": "one long passphrase", "password2": "one long passphrase"},
    )
    # then only the matching one is kept
    assert "The two passwords differ." in mismatch.content.decode()
    assert done.status_code == 302
    tech.refresh_from_db()
    assert tech.check_password("one long passphrase")


def test_token_is_shown_once_and_works() -> None:
    # given a technician on their account page
    user = make_staff("technician")
    http = logged_in(user)
    # when they create a read-write token
    response = http.post(
        "/accounts/tokens/new/", {"name": "backup script", "access": "read_write", "expires_in": "30"}
    )
    # then the answer shows it once, not cached, and it authenticates
    html = response.content.decode()
    plain = re.search(r'value="(tf_[0-9a-f]{8}_[A-Za-z0-9_-]{43})"', html).group(1)  # type: ignore[union-attr]
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"].split(", ")
    token = ApiToken.objects.get(user=user)
    assert (token.name, token.read_only, token.token_hash) == ("backup script", False, hash_token(plain))
    assert token.expires_at is not None
    assert http.get("/api/v1/me", **bearer(plain)).status_code == 200
    profile = http.get("/accounts/profile/").content.decode()
    assert plain not in profile
    assert f"tf_{token.prefix}_…" in profile


def test_token_form_errors_come_back_on_the_account_page() -> None:
    # given a technician
    http = logged_in(make_staff("technician"))
    # when they create a token without a name
    response = http.post("/accounts/tokens/new/", {"name": "", "access": "read_only"})
    # then the account page shows the error and no token exists
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert ApiToken.objects.count() == 0


def test_revoke_own_token_but_not_someone_elses() -> None:
    # given two technicians with a token each
    me, other = make_staff("technician"), make_staff("technician")
    mine, theirs = ApiTokenFactory(user=me), ApiTokenFactory(user=other)
    http = logged_in(me)
    # when I revoke mine, then try theirs
    own = http.post(f"/accounts/tokens/{mine.pk}/revoke/")
    foreign = http.post(f"/accounts/tokens/{theirs.pk}/revoke/")
    # then mine is revoked; theirs is "not found" and untouched
    assert own.status_code == 302
    assert ApiToken.objects.get(pk=mine.pk).revoked_at is not None
    assert foreign.status_code == 404
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None


def test_admin_revokes_a_token_of_someone_else() -> None:
    # given an admin and a technician's token
    tech = make_staff("technician")
    token = ApiTokenFactory(user=tech)
    http = logged_in(make_staff("admin"))
    # when the admin revokes it from the user's page
    response = http.post(f"/accounts/users/{tech.pk}/tokens/{token.pk}/revoke/")
    # then it is revoked
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_language_preference_switches_the_interface_to_french() -> None:
    # given a technician using the English interface
    user = make_staff("technician")
    http = logged_in(user)
    assert '<html lang="en">' in http.get("/accounts/profile/").content.decode()
    # when they choose French on their account page
    saved = http.post("/accounts/profile/", {"first_name": "Théo", "last_name": "Durand", "language": "fr"})
    # then it is saved and every page speaks French from now on, whatever the browser says
    assert saved.status_code == 302
    assert User.objects.get(pk=user.pk).language == "fr"
    page = http.get("/accounts/2fa/", headers={"Accept-Language": "en"})
    html = page.content.decode()
    assert '<html lang="fr">' in html
    assert page["Content-Language"] == "fr"
    assert "Authentification à deux facteurs" in html


def test_portal_user_language_preference_is_used_too() -> None:
    # given a portal user who prefers French
    user = make_portal_user(ClientFactory(), language="fr")
    # when they open their account page
    html = logged_in(user).get("/accounts/profile/").content.decode()
    # then it is in French
    assert '<html lang="fr">' in html
