"""Catalog screens: lists, forms with errors, the plan builder's live cost model (HTMX), roles, query budgets."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.catalog.models import Offering, PlanItem, Service
from tenfold.catalog.tests.factories import include, make_offering, make_plan, make_service
from tenfold.clients.models import Client
from tenfold.core.models import AuditEntry, Organization

pytestmark = pytest.mark.django_db


def logged_in(role: str = "admin") -> HttpClient:
    http = HttpClient()
    http.force_login(make_staff(role))
    return http


@pytest.fixture
def workplace(db: object) -> dict:
    Organization.objects.update_or_create(pk=1, defaults={"loaded_labour_cost": Decimal("45.00"), "currency": "EUR"})
    mon = make_service("ws-rmm", name="Workstation monitoring", price="25.00", cost="3.00", minutes="18")
    av = make_service("ws-edr", name="Managed EDR", price="6.00", cost="2.80", minutes="2", category="security")
    offering = make_offering("Managed workplace")
    good, better = make_plan(offering, "good"), make_plan(offering, "better")
    item = include(good, mon)
    include(better, av)
    return {"good": good, "better": better, "item": item, "mon": mon, "av": av, "offering": offering}


def test_service_list_searches_filters_and_sorts() -> None:
    make_service("ws-rmm", name="Workstation monitoring", price="25.00")
    make_service("m365", name="Microsoft 365 backup", price="3.50", unit="user", is_addon=True, category="cloud")
    make_service("fax", name="Old fax", price="15.00", active=False, is_addon=True, category="other")
    http = logged_in("finance")
    by_price = http.get("/catalog/services/?sort=-list_price").content.decode()
    addons = http.get("/catalog/services/?addon=True&active=True").content.decode()
    search = http.get("/catalog/services/?q=backup&unit=user").content.decode()
    assert by_price.index("Workstation monitoring") < by_price.index("Old fax") < by_price.index(
        "Microsoft 365 backup")
    assert "Microsoft 365 backup" in addons and "Old fax" not in addons and "Workstation monitoring" not in addons
    assert "Microsoft 365 backup" in search and "Workstation monitoring" not in search


def test_service_form_shows_errors_beside_fields() -> None:
    make_service("ws-rmm")
    http = logged_in()
    response = http.post("/catalog/services/new/", {"name": "Copy", "code": "WS-RMM", "category": "management",
                                                    "unit": "workstation", "list_price": "-5", "unit_cost": "0",
                                                    "labour_minutes": "0"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "The list price cannot be negative." in page
    duplicate = http.post("/catalog/services/new/", {"name": "Copy", "code": "WS-RMM", "category": "management",
                                                     "unit": "workstation", "list_price": "5", "unit_cost": "0",
                                                     "labour_minutes": "0"})
    assert "A service with this code already exists." in duplicate.content.decode()
    assert Service.objects.count() == 1


def test_offering_page_shows_tiers_side_by_side_and_the_ladder(workplace: dict) -> None:
    # at 10 workstations: Good 250 €, Better 250 + 60 = 310 €
    page = logged_in("service_manager").get(
        f"/catalog/offerings/{workplace['offering'].pk}/?workstations=10&servers=0&network_devices=0&mobiles=0"
        "&users=0&sites=0").content.decode()
    assert 'data-testid="price-good">250.00\xa0€' in page
    assert 'data-testid="price-better">310.00\xa0€' in page
    assert "Better is +60.00\xa0€ per month over Good." in page
    assert "Add Best plan" not in page  # a service manager reads the catalog but does not change it


def test_plan_page_shows_inherited_lines_cost_model_and_sensitivity(workplace: dict) -> None:
    page = logged_in().get(f"/catalog/plans/{workplace['better'].pk}/?workstations=10&servers=0&network_devices=0"
                           "&mobiles=0&users=0&sites=0").content.decode()
    # revenue 310; tools 30 + 28 = 58; labour 200 min at 45 = 150; margin 102 (32.9 %)
    assert 'data-testid="revenue">310.00\xa0€' in page
    assert 'data-testid="labour-cost">150.00\xa0€' in page
    assert 'data-testid="margin">102.00\xa0€' in page and "32.9\xa0%" in page
    assert "+3.10\xa0€" in page and "+3.0\xa0%" in page  # +1 % price: +3.10, 3.0 % of 102
    assert "+20.00\xa0€" in page and "+19.6\xa0%" in page  # +1 € on 20 units
    assert "Workstation monitoring" in page  # inherited from Good


def test_price_change_with_htmx_returns_the_new_margin(workplace: dict) -> None:
    http = logged_in()
    item = workplace["item"]
    counts = {"workstations": "10", "servers": "0", "network_devices": "0", "mobiles": "0", "users": "0",
              "sites": "0"}
    response = http.post(f"/catalog/items/{item.pk}/price/", {"unit_price": "30.00", **counts}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    # 10 × 30 = 300 revenue; tools 30; labour 135 (180 min); margin 135 (45.0 %)
    assert response.status_code == 200
    assert 'id="plan-economics"' in page and 'data-testid="margin">135.00\xa0€' in page and "45.0\xa0%" in page
    assert PlanItem.objects.get(pk=item.pk).unit_price == Decimal("30.00")


def test_negative_price_with_htmx_is_refused_beside_the_input(workplace: dict) -> None:
    http = logged_in()
    item = workplace["item"]
    response = http.post(f"/catalog/items/{item.pk}/price/", {"unit_price": "-1"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert f'id="item-error-{item.pk}" hx-swap-oob="true"' in page
    assert "The unit price cannot be negative." in page
    assert PlanItem.objects.get(pk=item.pk).unit_price == Decimal("25.00")
    assert not AuditEntry.objects.filter(action="plan_item.updated").exists()


def test_add_inactive_service_to_plan_says_why(workplace: dict) -> None:
    retired = make_service("fax", name="Old fax", active=False)
    response = logged_in().post(f"/catalog/plans/{workplace['good'].pk}/items/add/",
                                {"service": retired.pk, "unit_price": ""})
    assert response.status_code == 422
    assert "“Old fax” is inactive: activate it before adding it to a plan." in response.content.decode()
    assert PlanItem.objects.filter(service=retired).count() == 0


def test_add_service_with_negative_price_is_refused(workplace: dict) -> None:
    response = logged_in().post(f"/catalog/plans/{workplace['good'].pk}/items/add/",
                                {"service": workplace["av"].pk, "unit_price": "-2"})
    assert response.status_code == 422
    assert "The unit price cannot be negative." in response.content.decode()
    assert PlanItem.objects.filter(plan=workplace["good"]).count() == 1


def test_add_service_then_remove_it(workplace: dict) -> None:
    http = logged_in()
    added = http.post(f"/catalog/plans/{workplace['good'].pk}/items/add/",
                      {"service": workplace["av"].pk, "unit_price": "", "workstations": "5"})
    item = PlanItem.objects.get(plan=workplace["good"], service=workplace["av"])
    assert added.status_code == 302 and "workstations=5" in added["Location"]
    assert item.unit_price == Decimal("6.00")
    http.post(f"/catalog/items/{item.pk}/remove/")
    assert not PlanItem.objects.filter(pk=item.pk).exists()


def test_read_only_role_sees_prices_without_inputs(workplace: dict) -> None:
    page = logged_in("account_manager").get(f"/catalog/plans/{workplace['good'].pk}/").content.decode()
    assert 'name="unit_price"' not in page and "Add to plan" not in page
    assert 'data-testid="margin"' in page


def test_technician_and_portal_users_get_403_and_no_menu(workplace: dict) -> None:
    technician = logged_in("technician")
    portal = HttpClient()
    portal.force_login(make_portal_user(Client.objects.create(name="Client"), "portal_admin"))
    for http in (technician, portal):
        assert http.get("/catalog/").status_code == 403
        assert http.get(f"/catalog/plans/{workplace['good'].pk}/").status_code == 403
    assert 'data-nav="catalog"' not in technician.get("/").content.decode()
    assert 'data-nav="catalog"' in logged_in("finance").get("/").content.decode()


def test_missing_records_are_404() -> None:
    http = logged_in()
    assert http.get("/catalog/plans/999999/").status_code == 404
    assert http.get("/catalog/services/999999/").status_code == 404


def test_invalid_counts_fall_back_to_reference(workplace: dict) -> None:
    page = logged_in().get(f"/catalog/plans/{workplace['good'].pk}/?workstations=-4").content.decode()
    assert "Some counts are not valid: the default reference client is used." in page
    assert 'data-testid="revenue">500.00\xa0€' in page  # 20 workstations × 25 €


def test_query_budgets(workplace: dict) -> None:
    for code in range(30):
        make_service(f"extra-{code}")
    for index in range(5):
        offering = make_offering(f"Offering {index}")
        for tier in ("good", "better", "best"):
            include(make_plan(offering, tier), workplace["mon"])
    http = logged_in()
    http.get("/catalog/")  # warm the session and the organization row
    budgets = {"/catalog/services/": 8, "/catalog/": 10, f"/catalog/plans/{workplace['better'].pk}/": 11}
    for url, budget in budgets.items():
        with CaptureQueriesContext(connection) as queries:
            assert http.get(url).status_code == 200
        assert len(queries) <= budget, f"{url}: {len(queries)} queries"
    assert Offering.objects.count() == 6
