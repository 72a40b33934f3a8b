"""Sales screens: lists (search, filters, query budget), forms with errors beside the field, the quote page and
its PDF for staff and the portal administrator, the portal's quote pages and their limits, the pipeline."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.contracts.models import Contract
from tenfold.core.navigation import navigation_for
from tenfold.core.roles import PORTAL_ROLES, PRIVILEGES, has_capability
from tenfold.sales.models import Deal, Quote, QuoteAddOn, QuoteItem
from tenfold.sales.tests.factories import make_catalog, make_client, make_deal, make_quote

pytestmark = pytest.mark.django_db


def logged_in(user: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def test_the_isolation_proxy_for_portal_quote_pages_matches_the_privilege() -> None:
    """The isolation cases of the portal quote pages name `contracts` (view) for the privilege `quotes.accept`:
    among portal roles both must pick the same users."""
    class Probe:
        is_authenticated = True

        def __init__(self, role: str) -> None:
            self.role = role

    by_privilege = {role for role in PORTAL_ROLES if role in PRIVILEGES["quotes.accept"]}
    by_capability = {role for role in PORTAL_ROLES if has_capability(Probe(role), "contracts", "view")}
    assert by_privilege == by_capability == {"portal_admin"}


def test_deal_list_searches_filters_and_stays_within_a_query_budget() -> None:
    owner = make_staff("account_manager", mfa=False)
    for n in range(12):
        make_deal(make_client(f"Client {n:02d} SARL", workstations=0, servers=0, contacts=0), owner,
                  title=f"Deal {n:02d}", stage="negotiation" if n % 2 else "qualification")
    make_deal(make_client("Garage Perrin", workstations=0, servers=0, contacts=0), owner, title="Firewall refresh")
    http = logged_in(make_staff("admin"))
    found = http.get("/sales/?q=garage").content.decode()
    assert "Firewall refresh" in found and "Deal 01" not in found
    negotiation = http.get("/sales/?stage=negotiation").content.decode()
    assert "Deal 01" in negotiation and "Deal 02" not in negotiation
    with CaptureQueriesContext(connection) as captured:
        response = http.get("/sales/?sort=-monthly_value")
    assert response.status_code == 200
    assert len(captured.captured_queries) <= 15, [q["sql"] for q in captured.captured_queries]


def test_deal_form_shows_a_negative_value_beside_the_field_and_saves_nothing() -> None:
    client = make_client()
    http = logged_in(make_staff("account_manager"))
    response = http.post("/sales/deals/new/", {"client": client.pk, "title": "Backup", "stage": "qualification",
                                               "monthly_value": "-10", "one_off_value": "0",
                                               "close_date": "2026-09-30", "source": "referral"})
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0" in response.content.decode()
    assert Deal.objects.count() == 0
    created = http.post("/sales/deals/new/", {"client": client.pk, "title": "Backup", "stage": "qualification",
                                              "monthly_value": "120.50", "one_off_value": "0",
                                              "close_date": "2026-09-30", "source": "referral"})
    deal = Deal.objects.get()
    assert created.status_code == 302 and deal.monthly_value == Decimal("120.50")


def test_technicians_see_the_lead_form_but_not_the_deal_form() -> None:
    tech = make_staff("technician")
    http = logged_in(tech)
    assert http.get("/sales/leads/new/").status_code == 200
    assert http.get("/sales/deals/new/").status_code == 403


def test_the_quote_page_shows_the_tiers_side_by_side_and_refuses_a_negative_item() -> None:
    parts = make_catalog()
    deal = make_deal(make_client())
    quote = make_quote(deal, parts["offering"])
    http = logged_in(deal.owner)
    page = http.get(f"/sales/quotes/{quote.pk}/").content.decode()
    assert 'data-testid="tier-total-good">420.00' in page
    assert 'data-testid="tier-total-better">540.00' in page
    assert 'data-testid="tier-total-best">650.00' in page
    response = http.post(f"/sales/quotes/{quote.pk}/items/", {"item-description": "Onboarding", "item-quantity": "1",
                                                              "item-unit_price": "-5"}, follow=True)
    assert "Amounts cannot be negative." in response.content.decode()
    assert QuoteItem.objects.count() == 0
    http.post(f"/sales/quotes/{quote.pk}/addons/", {"addon-service": parts["m365"].pk, "addon-per_unit": "on",
                                                    "addon-quantity": "1"})
    http.post(f"/sales/quotes/{quote.pk}/items/", {"item-description": "Onboarding", "item-quantity": "1",
                                                   "item-unit_price": "1800"})
    page = http.get(f"/sales/quotes/{quote.pk}/").content.decode()
    # 15 users × 3.50 = 52.50 on every tier
    assert 'data-testid="tier-total-good">472.50' in page and 'data-testid="one-off-total">1,800.00' in page
    assert QuoteAddOn.objects.count() == 1


def test_the_pdf_is_rendered_for_staff_and_the_portal_administrator_only() -> None:
    parts = make_catalog()
    deal = make_deal(make_client())
    quote = make_quote(deal, parts["offering"], status="sent")
    QuoteItem.objects.create(client=deal.client, quote=quote, description="Onboarding", unit_price=Decimal("900"))
    staff = logged_in(deal.owner).get(f"/sales/quotes/{quote.pk}/pdf/")
    portal = logged_in(make_portal_user(deal.client, "portal_admin")).get(f"/portal/quotes/{quote.pk}/pdf/")
    for response in (staff, portal):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert f'filename="{quote.number}.pdf"' in response["Content-Disposition"]
    assert logged_in(make_portal_user(deal.client, "portal_user")).get(
        f"/portal/quotes/{quote.pk}/pdf/").status_code == 403
    other_admin = make_portal_user(make_client("Cabinet Dupuis", workstations=0, servers=0), "portal_admin")
    assert logged_in(other_admin).get(f"/portal/quotes/{quote.pk}/pdf/").status_code == 404


def test_the_portal_lists_sent_quotes_only_and_accepts_one() -> None:
    parts = make_catalog()
    deal = make_deal(make_client())
    sent = make_quote(deal, parts["offering"], status="sent")
    draft = make_quote(deal, parts["offering"])
    admin = make_portal_user(deal.client, "portal_admin")
    http = logged_in(admin)
    listing = http.get("/portal/quotes/").content.decode()
    assert sent.number in listing and draft.number not in listing
    assert http.get(f"/portal/quotes/{draft.pk}/").status_code == 404
    assert http.post(f"/portal/quotes/{draft.pk}/accept/", {"tier": "good"}).status_code == 404
    assert Contract.objects.count() == 0 and Quote.objects.get(pk=draft.pk).status == "draft"
    response = http.post(f"/portal/quotes/{sent.pk}/accept/", {"tier": "better"}, follow=True)
    assert "is accepted" in response.content.decode()
    assert Contract.objects.get().plan_id == parts["better"].pk
    # the portal administrator sees the Quotes menu; a portal user does not
    assert "portal-quotes" in [i["key"] for i in navigation_for(admin, "/portal/")]
    assert "portal-quotes" not in [i["key"] for i in navigation_for(make_portal_user(deal.client), "/portal/")]


def test_the_pipeline_sums_each_open_stage() -> None:
    owner = make_staff("account_manager", mfa=False)
    client = make_client(workstations=0, servers=0)
    make_deal(client, owner, title="A", stage="proposal", monthly_value=Decimal("100.50"))
    make_deal(client, owner, title="B", stage="proposal", monthly_value=Decimal("200.25"),
              one_off_value=Decimal("1000"))
    make_deal(client, owner, title="C", stage="won", monthly_value=Decimal("999"))
    page = logged_in(make_staff("admin")).get("/sales/pipeline/").content.decode()
    assert "300.75\u00a0€ per month · 1,000.00\u00a0€ one-off" in page
    assert ">C<" not in page


def test_the_pdf_loads_tenfolds_own_stylesheet_and_nothing_else() -> None:
    from tenfold.sales.pdf import _static_fetcher

    fetcher = _static_fetcher()
    css = fetcher.fetch("http://testserver/static/sales/quote.css")
    assert b"@page" in css.read()
    for url in ("https://cdn.example.com/quote.css", "http://testserver/static/../config/settings.py",
                "file:///etc/passwd"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
