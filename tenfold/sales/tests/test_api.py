"""The sales API: a quote built, sent and accepted end to end; bad input (negative amounts, another client's
contact or deal, unknown ids, unknown fields) refused with field errors and nothing changed; lists paginate,
filter and sort."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.clients.models import Contact
from tenfold.contracts.models import Contract
from tenfold.sales.models import Deal, Lead, Quote, QuoteAddOn, QuoteItem
from tenfold.sales.tests.factories import make_catalog, make_client, make_deal

pytestmark = pytest.mark.django_db


def auth(role: str = "account_manager") -> dict[str, str]:
    return bearer(make_api_token(make_staff(role)))


def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return HttpClient().post(path, data=json.dumps(body), content_type="application/json", **headers)


def counts() -> tuple[int, ...]:
    return (Deal.objects.count(), Lead.objects.count(), Quote.objects.count(), QuoteAddOn.objects.count(),
            QuoteItem.objects.count(), Contract.objects.count())


def test_build_send_and_accept_a_quote() -> None:
    # given a client and a deal
    parts = make_catalog()
    client = make_client()
    headers = auth()
    deal = post("/api/v1/deals", {"client_id": client.pk, "title": "Managed services", "close_date": "2026-09-30",
                                  "monthly_value": "650.00", "one_off_value": "1800.00", "source": "referral"},
                headers)
    assert deal.status_code == 201, deal.content
    # when a quote is created with counts, an add-on and an onboarding project
    created = post("/api/v1/quotes", {
        "deal_id": deal.json()["id"], "offering_id": parts["offering"].pk, "workstations": 12, "servers": 2,
        "users": 15, "sites": 1, "addons": [{"service_id": parts["m365"].pk, "unit_price": "3.20"}],
        "items": [{"description": "Onboarding project", "quantity": "1", "unit_price": "1800.00"}]}, headers)
    assert created.status_code == 201, created.content
    body = created.json()
    # then each tier is priced: 420 + 48, 540 + 48, 650 + 48; one-off 1800
    assert [(t["tier"], t["monthly_total"]) for t in body["tiers"]] == [
        ("good", "468.00"), ("better", "588.00"), ("best", "698.00")]
    assert body["one_off_total"] == "1800.00" and body["currency"] == "EUR"
    # when sent and accepted in the Best tier
    sent = post(f"/api/v1/quotes/{body['id']}/send", {}, headers)
    accepted = post(f"/api/v1/quotes/{body['id']}/accept", {"tier": "best"}, headers)
    again = post(f"/api/v1/quotes/{body['id']}/accept", {"tier": "best"}, headers)
    # then the contract exists once, the deal is won
    assert sent.json()["status"] == "sent"
    assert accepted.status_code == 200 and accepted.json()["accepted_tier"] == "best"
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert Contract.objects.get().plan_id == parts["best"].pk
    got = HttpClient().get(f"/api/v1/deals/{deal.json()['id']}", **headers).json()
    assert got["stage"] == "won" and got["contract_id"] == Contract.objects.get().pk


@pytest.mark.parametrize(("body", "field"), [
    ({"addons": [{"service_id": "ADDON", "quantity": "-1"}]}, "quantity"),
    ({"addons": [{"service_id": "ADDON", "unit_price": "-3.50"}]}, "unit_price"),
    ({"items": [{"description": "Project", "quantity": "-1", "unit_price": "100"}]}, "quantity"),
    ({"items": [{"description": "Project", "quantity": "1", "unit_price": "-100"}]}, "unit_price"),
    ({"workstations": -3}, "workstations"),
    ({"addons": [{"service_id": 999999}]}, "service"),
    ({"offering_id": 999999}, "offering"),
    ({"surprise": True}, "surprise"),
])
def test_bad_quote_input_is_refused_and_nothing_is_created(body: dict[str, Any], field: str) -> None:
    parts = make_catalog()
    deal = make_deal(make_client())
    if "addons" in body and body["addons"][0]["service_id"] == "ADDON":
        body["addons"][0]["service_id"] = parts["m365"].pk
    before = counts()
    response = post("/api/v1/quotes", {"deal_id": deal.pk, "offering_id": parts["offering"].pk, **body}, auth())
    assert response.status_code == 422, response.content
    assert any(field in key for key in response.json()["errors"]), response.json()
    assert counts() == before


def test_another_clients_contact_or_deal_is_refused() -> None:
    parts = make_catalog()
    deal = make_deal(make_client())
    other = make_client("Cabinet Dupuis")
    restricted = make_staff("account_manager", clients=[deal.client], restricted=True)
    before = counts()
    foreign = Contact.objects.filter(client=other).first()
    contact = post("/api/v1/quotes", {"deal_id": deal.pk, "offering_id": parts["offering"].pk,
                                      "contact_id": foreign.pk}, auth())  # type: ignore[union-attr]
    mismatch = post("/api/v1/quotes", {"deal_id": deal.pk, "offering_id": parts["offering"].pk,
                                       "client_id": other.pk}, auth())
    other_deal = make_deal(other)
    before = counts()
    hidden = post("/api/v1/quotes", {"deal_id": other_deal.pk, "offering_id": parts["offering"].pk},
                  bearer(make_api_token(restricted)))
    assert contact.status_code == 422
    assert contact.json()["errors"] == {"contact": ["Choose one of this client's contacts."]}
    assert mismatch.status_code == 422
    assert mismatch.json()["message"] == "A quote is for its deal's client: this deal belongs to another client."
    assert hidden.status_code == 404
    assert counts() == before


def test_unknown_tier_and_deal_answer_without_change() -> None:
    parts = make_catalog()
    deal = make_deal(make_client())
    headers = auth()
    quote = post("/api/v1/quotes", {"deal_id": deal.pk, "offering_id": parts["offering"].pk}, headers).json()
    post(f"/api/v1/quotes/{quote['id']}/send", {}, headers)
    before = counts()
    assert post(f"/api/v1/quotes/{quote['id']}/accept", {"tier": "gold"}, headers).status_code == 422
    assert post("/api/v1/quotes/999999/accept", {"tier": "good"}, headers).status_code == 404
    assert post("/api/v1/deals/999999/close", {"outcome": "lost", "reason": "x"}, headers).status_code == 404
    assert post(f"/api/v1/deals/{deal.pk}/close", {"outcome": "lost"}, headers).status_code == 422
    assert post("/api/v1/deals", {"client_id": deal.client_id, "title": "Neg", "close_date": "2026-01-01",
                                  "monthly_value": "-1"}, headers).status_code == 422
    assert counts() == before and Quote.objects.get().status == "sent"


def test_a_technician_creates_leads_but_not_deals() -> None:
    client = make_client()
    tech = make_staff("technician")
    headers = bearer(make_api_token(tech))
    lead = post("/api/v1/leads", {"client_id": client.pk, "title": "Second site firewall"}, headers)
    deal = post("/api/v1/deals", {"client_id": client.pk, "title": "Mine", "close_date": "2026-09-30"}, headers)
    assert lead.status_code == 201 and lead.json()["technician_id"] == tech.pk
    assert deal.status_code == 403
    assert Deal.objects.count() == 0
    converted = post(f"/api/v1/leads/{lead.json()['id']}/convert", {"close_date": "2026-10-01",
                                                                    "monthly_value": "80.00"}, auth())
    assert converted.status_code == 201
    assert converted.json()["source"] == "technician_lead" and converted.json()["credited_technician_id"] == tech.pk


def test_deal_list_filters_sorts_and_paginates() -> None:
    owner = make_staff("account_manager")
    first, second = make_client("Alpha SARL"), make_client("Beta SAS")
    make_deal(first, owner, title="Small", monthly_value=Decimal("100.00"))
    make_deal(second, owner, title="Big", monthly_value=Decimal("900.00"), stage="negotiation")
    make_deal(second, owner, title="Middle", monthly_value=Decimal("400.00"))
    headers = auth("admin")
    by_value = HttpClient().get("/api/v1/deals?ordering=-monthly_value&page_size=2", **headers).json()
    assert [d["title"] for d in by_value["items"]] == ["Big", "Middle"]
    assert (by_value["count"], by_value["pages"]) == (3, 2)
    stage = HttpClient().get("/api/v1/deals?stage=negotiation", **headers).json()
    assert [d["title"] for d in stage["items"]] == ["Big"]
    client = HttpClient().get(f"/api/v1/deals?client_id={first.pk}&q=small", **headers).json()
    assert [d["title"] for d in client["items"]] == ["Small"]
    bad = HttpClient().get("/api/v1/deals?ordering=password", **headers)
    assert bad.status_code == 422
