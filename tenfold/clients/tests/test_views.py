"""Client screens: list search/filter/sort/pagination, HTMX fragments, forms with errors, query budgets."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from tenfold.accounts.testing import make_staff
from tenfold.clients.models import Client, Contact, Site

pytestmark = pytest.mark.django_db


def logged_in(role: str = "admin", **kwargs) -> HttpClient:
    http = HttpClient()
    http.force_login(make_staff(role, **kwargs))
    return http


def test_list_searches_filters_and_sorts() -> None:
    # given three clients
    Client.objects.create(name="Boulangerie Martin", status="active")
    Client.objects.create(name="Boucherie Durand", status="prospect")
    Client.objects.create(name="Garage Perrin", status="former")
    http = logged_in()
    # when searching "bou" among prospects and actives, sorted by name descending
    page = http.get("/clients/?q=bou&sort=-name").content.decode()
    active_only = http.get("/clients/?q=bou&status=active").content.decode()
    # then the order and the filter are exact
    assert page.index("Boulangerie Martin") < page.index("Boucherie Durand")
    assert "Garage Perrin" not in page
    assert "Boulangerie Martin" in active_only and "Boucherie Durand" not in active_only


def test_unknown_sort_and_filter_values_are_ignored() -> None:
    Client.objects.create(name="Alpha", status="active")
    response = logged_in().get("/clients/?sort=password&status=evil")
    assert response.status_code == 200
    assert "Alpha" in response.content.decode()


def test_htmx_request_returns_only_the_table() -> None:
    # given a client
    Client.objects.create(name="Pharmacie du Centre", status="active")
    # when the toolbar asks for results with HTMX
    response = logged_in().get("/clients/?q=pharma", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-results")
    body = response.content.decode()
    # then it is the fragment, not a page
    assert body.lstrip().startswith('<div id="list-results">')
    assert "<html" not in body
    assert "Pharmacie du Centre" in body


def test_list_paginates_at_50() -> None:
    Client.objects.bulk_create([Client(name=f"Client {i:03d}") for i in range(120)])
    http = logged_in()
    first = http.get("/clients/").content.decode()
    third = http.get("/clients/?page=3").content.decode()
    assert "Client 049" in first and "Client 050" not in first
    assert "Client 119" in third and "Client 099" not in third
    assert "Page 3 of 3" in third


def test_list_query_count_does_not_grow_with_rows() -> None:
    # given 5 then 60 clients with sites and contacts
    http = logged_in()

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert http.get("/clients/").status_code == 200
        return len(captured)

    queries_for_list()  # warm-up: the first page view creates the organization row
    for i in range(5):
        client = Client.objects.create(name=f"Small {i}")
        Site.objects.create(client=client, name="HQ")
        Contact.objects.create(client=client, first_name="A", last_name=f"B{i}")
    small = queries_for_list()
    for i in range(55):
        client = Client.objects.create(name=f"Big {i}")
        Site.objects.create(client=client, name="HQ")
    large = queries_for_list()
    # then the number of queries is the same (no N+1) and stays within budget
    assert large == small
    assert large <= 14


def test_create_form_shows_errors_beside_fields() -> None:
    # given an existing client
    Client.objects.create(name="Structura")
    http = logged_in("account_manager")
    # when a duplicate name and a bad website are posted
    response = http.post("/clients/new/", {"name": "structura", "status": "active", "website": "not a url"})
    body = response.content.decode()
    # then the form comes back with both errors and nothing was created
    assert response.status_code == 200
    assert "Enter a valid URL." in body
    assert Client.objects.count() == 1
    # when the website is fixed, the duplicate name is still refused
    response = http.post("/clients/new/", {"name": "structura", "status": "active"})
    assert "A client with this name already exists." in response.content.decode()
    assert Client.objects.count() == 1


def test_create_then_add_site_and_contact() -> None:
    http = logged_in("service_manager")
    response = http.post("/clients/new/", {"name": "Hôtel Les Terrasses", "status": "active"})
    client = Client.objects.get(name="Hôtel Les Terrasses")
    assert response.status_code == 302 and response["Location"] == f"/clients/{client.pk}/"
    http.post(f"/clients/{client.pk}/sites/new/", {"name": "Hôtel", "city": "Annecy", "country": "fr",
                                                    "time_zone": "Europe/Paris"})
    site = Site.objects.get(client=client)
    http.post(f"/clients/{client.pk}/contacts/new/", {"first_name": "Marc", "last_name": "Roy",
                                                       "email": "marc@terrasses.example", "site": site.pk,
                                                       "is_decision_maker": "on"})
    detail = http.get(f"/clients/{client.pk}/").content.decode()
    assert site.country == "FR"
    assert "Marc Roy" in detail and "Annecy" in detail
    assert Contact.objects.get(client=client).is_decision_maker is True
    # the panels of higher apps load once each, in the page body (never inside <title>)
    title = detail.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "hx-get" not in title and "<div" not in title
    assert detail.count('id="contracts-panel"') == 1


def test_technician_sees_no_create_button_and_gets_403() -> None:
    http = logged_in("technician")
    assert "new-client" not in http.get("/clients/").content.decode()
    assert http.post("/clients/new/", {"name": "X", "status": "active"}).status_code == 403
    assert Client.objects.count() == 0


def test_french_interface() -> None:
    # given a user who chose French
    user = make_staff("admin")
    user.language = "fr"
    user.save()
    http = HttpClient()
    http.force_login(user)
    # when opening the client list
    body = http.get("/clients/").content.decode()
    # then it speaks French
    assert "Nouveau client" in body
    assert 'lang="fr"' in body


def test_forged_site_of_another_client_in_contact_form_is_refused() -> None:
    # given two clients and a site of the second
    first = Client.objects.create(name="First")
    second = Client.objects.create(name="Second")
    foreign = Site.objects.create(client=second, name="Foreign site")
    http = logged_in("service_manager")
    # when the contact form of the first is posted with the second's site id
    response = http.post(f"/clients/{first.pk}/contacts/new/", {"first_name": "Eve", "last_name": "Forger",
                                                                 "site": foreign.pk})
    # then the form refuses the choice and nothing is created
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert Contact.objects.count() == 0


def test_restricted_technician_gets_404_on_other_clients() -> None:
    # given a technician assigned to one client only
    mine = Client.objects.create(name="Mine")
    other = Client.objects.create(name="Other")
    http = logged_in("technician", clients=[mine], restricted=True)
    # when they open both clients and the list
    listing = http.get("/clients/").content.decode()
    # then the other client does not exist for them
    assert http.get(f"/clients/{mine.pk}/").status_code == 200
    assert http.get(f"/clients/{other.pk}/").status_code == 404
    assert "Mine" in listing and "Other" not in listing
