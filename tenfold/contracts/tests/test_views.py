"""Contract screens: list filters, forms with errors beside the field, the detail page's figures and
coverage, the portal's read-only view, the client page's panel, a query budget."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.contracts import services
from tenfold.contracts.models import Contract
from tenfold.contracts.tests.factories import make_catalog, make_client, make_contract, make_devices

pytestmark = pytest.mark.django_db


def logged_in(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def test_list_searches_and_filters() -> None:
    parts = make_catalog()
    make_contract(make_client("Boulangerie Martin"), parts["good"], number="C-1", title="Infogérance Bien",
                  status="active")
    make_contract(make_client("Garage Perrin"), None, number="C-2", title="Banque d'heures", type="block_hours",
                  hours_purchased=10)
    http = logged_in(make_staff("admin"))
    found = http.get("/contracts/?q=garage").content.decode()
    active = http.get("/contracts/?status=active").content.decode()
    assert "Banque d&#x27;heures" in found and "Infogérance Bien" not in found
    assert "Infogérance Bien" in active and "Banque d&#x27;heures" not in active


def test_form_shows_a_negative_amount_beside_the_field_and_saves_nothing() -> None:
    parts = make_catalog()
    client = make_client()
    response = logged_in(make_staff("account_manager")).post("/contracts/new/", {
        "client": client.pk, "type": "managed", "plan": parts["good"].pk, "start_date": "2026-01-01",
        "renewal_term_months": "12", "notice_period_days": "90", "minimum_monthly_commitment": "-5",
        "unused_hours": "expire", "indexation": "none"})
    body = response.content.decode()
    assert response.status_code == 422
    assert body.index('id="id_minimum_monthly_commitment"') < body.index("Amounts cannot be negative.")
    assert not Contract.objects.exists()


def test_detail_shows_counts_devices_and_figures_within_a_query_budget() -> None:
    # given a signed Good contract covering 2 workstations and a server
    parts = make_catalog()
    client = make_client()
    make_devices(client, workstation=2, server=1)
    contract = make_contract(client, parts["good"], status="active")
    services.coverage_sync(contract)
    http = logged_in(make_staff("admin"))
    # when its page is shown
    with CaptureQueriesContext(connection) as queries:
        body = http.get(f"/contracts/{contract.pk}/").content.decode()
    # then the counts, the devices behind them and the monthly figures are there
    assert 'data-testid="count-workstation">2<' in body
    assert "Boulangeri-workstation-1" in body
    assert 'data-testid="figure-revenue">60.00<' in body
    assert 'data-testid="figure-margin">19.50 (32.5 %)<' in body
    assert len(queries) <= 40


def test_portal_admin_reads_own_contract_without_costs_portal_user_may_not() -> None:
    parts = make_catalog()
    client = make_client()
    contract = make_contract(client, parts["good"], status="active")
    admin_page = logged_in(make_portal_user(client, "portal_admin")).get(f"/contracts/{contract.pk}/")
    assert admin_page.status_code == 200
    body = admin_page.content.decode()
    assert 'data-testid="figure-revenue"' in body and 'data-testid="figure-margin"' not in body
    assert 'data-testid="edit-contract"' not in body
    assert logged_in(make_portal_user(client, "portal_user")).get(f"/contracts/{contract.pk}/").status_code == 403


def test_client_page_panel_lists_the_clients_contracts() -> None:
    parts = make_catalog()
    client = make_client()
    make_contract(client, parts["good"], number="C-2026-0042", status="active")
    body = logged_in(make_staff("finance")).get(f"/contracts/clients/{client.pk}/panel/").content.decode()
    assert "C-2026-0042" in body and 'data-testid="new-client-contract"' in body
    assert 'data-testid="new-client-contract"' not in logged_in(make_staff("technician")).get(
        f"/contracts/clients/{client.pk}/panel/").content.decode()


def test_calendar_form_reports_bad_hours() -> None:
    response = logged_in(make_staff("admin")).post("/contracts/sla/calendars/new/", {
        "name": "Bureau", "time_zone": "Europe/Paris", "monday": "8h-12h", "holidays": "mai 1 Fête"})
    body = response.content.decode()
    assert response.status_code == 422
    assert "Enter hours such as 08:30-12:30, 13:30-18:00." in body
    assert "Line 1: start with a date such as 2026-05-01." in body
