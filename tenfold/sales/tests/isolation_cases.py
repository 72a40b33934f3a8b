"""Isolation cases of the sales pages, the portal's quote pages and the sales API (see tenfold/core/isolation.py).

The portal's quote pages rest on the privilege `quotes.accept` (portal administrators only). The suite derives
its expectations from capabilities, so these cases name `contracts` (view): among portal roles it separates the
same users (portal administrator: yes, portal user: no); `test_views.py` checks that the two stay aligned."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.catalog.models import Offering, Plan, PlanItem, Service
from tenfold.contracts.models import Contract, ContractAddOn
from tenfold.core.isolation import Case, World, register
from tenfold.sales.models import Deal, Lead, Quote, QuoteAddOn, QuoteItem

MODELS = (Deal, Lead, Quote, QuoteAddOn, QuoteItem, Contract, ContractAddOn)
DEAL_A = "Client A Isolation deal"
LEAD_A = "Client A Isolation lead"


def catalog(world: World) -> dict[str, Any]:
    if "sales_catalog" not in world.extra:
        offering = Offering.objects.create(name="Isolation workplace")
        monitoring = Service.objects.create(name="Isolation monitoring", code="iso-mon", unit="workstation",
                                            list_price=Decimal("10.00"))
        addon = Service.objects.create(name="Isolation backup", code="iso-backup", unit="server",
                                       list_price=Decimal("8.00"), is_addon=True)
        plans = {tier: Plan.objects.create(offering=offering, tier=tier, name=f"Isolation {tier}")
                 for tier in ("good", "better", "best")}
        PlanItem.objects.create(plan=plans["good"], service=monitoring, unit_price=Decimal("10.00"))
        world.extra["sales_catalog"] = {"offering": offering, "addon": addon, "plans": plans}
    catalog_: dict[str, Any] = world.extra["sales_catalog"]
    return catalog_


def seller(world: World) -> Any:
    if "sales_seller" not in world.extra:
        world.extra["sales_seller"] = make_staff("account_manager", mfa=False)
    return world.extra["sales_seller"]


def deal_a(world: World) -> Deal:
    if "deal_a" not in world.extra:
        world.extra["deal_a"] = Deal.objects.create(client=world.client_a, title=DEAL_A, owner=seller(world),
                                                    close_date=date(2026, 9, 30), monthly_value=Decimal("300.00"))
    deal: Deal = world.extra["deal_a"]
    return deal


def lead_a(world: World) -> Lead:
    if "lead_a" not in world.extra:
        world.extra["lead_a"] = Lead.objects.create(client=world.client_a, title=LEAD_A, note="Backup needed.")
    lead: Lead = world.extra["lead_a"]
    return lead


def _quote(world: World, key: str, status: str) -> Quote:
    if key not in world.extra:
        today = timezone.localdate()
        quote = Quote.objects.create(
            client=world.client_a, deal=deal_a(world), number=f"Q-ISO-{key}", offering=catalog(world)["offering"],
            status=status, valid_until=today + timedelta(days=30), start_date=today, workstations=5, servers=1,
            sent_by=seller(world) if status == "sent" else None, sent_at=timezone.now() if status == "sent" else None)
        QuoteAddOn.objects.create(client=world.client_a, quote=quote, service=catalog(world)["addon"])
        QuoteItem.objects.create(client=world.client_a, quote=quote, description="Onboarding project",
                                 quantity=Decimal("1"), unit_price=Decimal("900.00"))
        world.extra[key] = quote
    quote_: Quote = world.extra[key]
    return quote_


def draft_quote(world: World) -> Quote:
    return _quote(world, "draft", "draft")


def sent_quote(world: World) -> Quote:
    return _quote(world, "sent", "sent")


def deal_params(world: World) -> dict[str, Any]:
    return {"deal_id": deal_a(world).pk}


def lead_params(world: World) -> dict[str, Any]:
    return {"lead_id": lead_a(world).pk}


def draft_params(world: World) -> dict[str, Any]:
    return {"quote_id": draft_quote(world).pk}


def sent_params(world: World) -> dict[str, Any]:
    return {"quote_id": sent_quote(world).pk}


def deal_leak(world: World) -> str:
    deal_a(world)
    return DEAL_A


def lead_leak(world: World) -> str:
    lead_a(world)
    return LEAD_A


def quote_leak(world: World) -> str:
    return sent_quote(world).number


def deal_form(world: World) -> dict[str, Any]:
    return {"client": world.client_a.pk, "title": "Isolation new deal", "stage": "qualification",
            "monthly_value": "100.00", "one_off_value": "0", "close_date": "2026-10-01", "source": "referral"}


def deal_body(world: World) -> dict[str, Any]:
    return {"client_id": world.client_a.pk, "title": "Isolation API deal", "close_date": "2026-10-01",
            "monthly_value": "100.00"}


def quote_form(world: World) -> dict[str, Any]:
    today = timezone.localdate()
    return {"offering": catalog(world)["offering"].pk, "valid_until": (today + timedelta(days=20)).isoformat(),
            "start_date": today.isoformat(), "introduction": "", "workstations": 4, "servers": 0,
            "network_devices": 0, "mobiles": 0, "users": 3, "sites": 1}


def addon_params(world: World) -> dict[str, Any]:
    return {"addon_id": draft_quote(world).addons.get().pk}


def item_params(world: World) -> dict[str, Any]:
    return {"item_id": draft_quote(world).items.get().pk}


def _prepare_quote_body(world: World) -> dict[str, Any]:
    deal_a(world)
    catalog(world)
    return {}


def portal_sent(world: World) -> dict[str, Any]:
    return sent_params(world)


def portal_leak(world: World) -> str:
    return sent_quote(world).number


register(
    # Deals
    Case("ui:sales:deal_list", "list", "deals", staff_only=True, leak=deal_leak),
    Case("ui:sales:deal_pipeline", "list", "deals", staff_only=True, leak=deal_leak),
    Case("ui:sales:deal_create", "create", "deals", "add", method="POST", body=deal_form, models=MODELS,
         staff_only=True),
    Case("ui:sales:deal_detail", "object", "deals", params=deal_params, staff_only=True),
    Case("ui:sales:deal_edit", "object", "deals", "change", method="POST", params=deal_params, staff_only=True,
         body=lambda w: {k: v for k, v in deal_form(w).items() if k != "client"}, models=MODELS),
    Case("ui:sales:deal_close", "object", "deals", "change", method="POST", params=deal_params, staff_only=True,
         body=lambda w: {"outcome": "lost", "reason": "Isolation"}, models=MODELS),
    Case("ui:sales:quote_create", "create", "deals", "add", method="POST", params=deal_params, staff_only=True,
         body=quote_form, models=MODELS),
    # Leads
    Case("ui:sales:lead_list", "list", "deals", staff_only=True, leak=lead_leak),
    # Not staff_only: a technician restricted to client A may enter a lead for it (portal roles lack `deals`).
    Case("ui:sales:lead_create", "create", "deals", "add", method="POST", models=MODELS,
         body=lambda w: {"client": w.client_a.pk, "title": "Isolation lead by hand", "note": ""}),
    Case("ui:sales:lead_detail", "object", "deals", params=lead_params, staff_only=True),
    Case("ui:sales:lead_convert", "object", "deals", "add", method="POST", params=lead_params, staff_only=True,
         body=lambda w: {"title": "From lead", "monthly_value": "50", "one_off_value": "0",
                         "close_date": "2026-10-01"}, models=MODELS),
    Case("ui:sales:lead_dismiss", "object", "deals", "change", method="POST", params=lead_params, staff_only=True,
         body=lambda w: {"reason": "Isolation"}, models=MODELS),
    # Quotes
    Case("ui:sales:quote_list", "list", "deals", staff_only=True, leak=quote_leak),
    Case("ui:sales:quote_detail", "object", "deals", params=draft_params, staff_only=True),
    Case("ui:sales:quote_edit", "object", "deals", "change", method="POST", params=draft_params, staff_only=True,
         body=quote_form, models=MODELS),
    Case("ui:sales:quote_addon_add", "object", "deals", "change", method="POST", params=draft_params,
         staff_only=True, body=lambda w: {"addon-service": catalog(w)["addon"].pk, "addon-quantity": "2"},
         models=MODELS),
    Case("ui:sales:quote_addon_remove", "object", "deals", "change", method="POST", params=addon_params,
         staff_only=True, models=MODELS),
    Case("ui:sales:quote_item_add", "object", "deals", "change", method="POST", params=draft_params,
         staff_only=True, body=lambda w: {"item-description": "Set-up", "item-quantity": "1", "item-unit_price": "150"},
         models=MODELS),
    Case("ui:sales:quote_item_remove", "object", "deals", "change", method="POST", params=item_params,
         staff_only=True, models=MODELS),
    Case("ui:sales:quote_send", "object", "deals", "change", method="POST", params=draft_params, staff_only=True,
         models=MODELS),
    Case("ui:sales:quote_accept", "object", "deals", "change", method="POST", params=sent_params, staff_only=True,
         body=lambda w: {"tier": "better"}, models=MODELS),
    Case("ui:sales:quote_decline", "object", "deals", "change", method="POST", params=sent_params,
         staff_only=True, body=lambda w: {"decline-reason": "Isolation"}, models=MODELS),
    Case("ui:sales:quote_pdf", "object", "deals", params=draft_params, staff_only=True),
    # Portal (privilege quotes.accept; see the module docstring)
    Case("ui:portal:quote_list", "list", "contracts", portal_only=True, leak=portal_leak),
    Case("ui:portal:quote_detail", "object", "contracts", params=portal_sent, portal_only=True),
    Case("ui:portal:quote_pdf", "object", "contracts", params=portal_sent, portal_only=True),
    Case("ui:portal:quote_accept", "object", "contracts", method="POST", params=portal_sent, portal_only=True,
         body=lambda w: {"tier": "better"}, models=MODELS),
    # API
    Case("api:GET /api/v1/deals", "list", "deals", leak=deal_leak),
    Case("api:POST /api/v1/deals", "create", "deals", "add", body=deal_body, models=MODELS),
    Case("api:GET /api/v1/deals/{deal_id}", "object", "deals", params=deal_params),
    Case("api:PATCH /api/v1/deals/{deal_id}", "object", "deals", "change", params=deal_params,
         body=lambda w: {"stage": "negotiation"}, models=MODELS),
    Case("api:POST /api/v1/deals/{deal_id}/close", "object", "deals", "change", params=deal_params,
         body=lambda w: {"outcome": "lost", "reason": "Isolation"}, models=MODELS),
    Case("api:GET /api/v1/leads", "list", "deals", leak=lead_leak),
    Case("api:POST /api/v1/leads", "create", "deals", "add", models=MODELS,
         body=lambda w: {"client_id": w.client_a.pk, "title": "API lead"}),
    Case("api:GET /api/v1/leads/{lead_id}", "object", "deals", params=lead_params),
    Case("api:PATCH /api/v1/leads/{lead_id}", "object", "deals", "change", params=lead_params,
         body=lambda w: {"note": "Changed"}, models=MODELS),
    Case("api:POST /api/v1/leads/{lead_id}/convert", "object", "deals", "add", params=lead_params,
         body=lambda w: {"close_date": "2026-10-01", "monthly_value": "50.00"}, models=MODELS),
    Case("api:POST /api/v1/leads/{lead_id}/dismiss", "object", "deals", "change", params=lead_params,
         body=lambda w: {"reason": "Isolation"}, models=MODELS),
    Case("api:GET /api/v1/quotes", "list", "deals", leak=quote_leak),
    # The deal is named in the body: params build the records first and name none (no 404 axis by URL).
    Case("api:POST /api/v1/quotes", "create", "deals", "add", models=MODELS, params=_prepare_quote_body,
         body=lambda w: {"deal_id": deal_a(w).pk, "offering_id": catalog(w)["offering"].pk}),
    Case("api:GET /api/v1/quotes/{quote_id}", "object", "deals", params=draft_params),
    Case("api:PATCH /api/v1/quotes/{quote_id}", "object", "deals", "change", params=draft_params,
         body=lambda w: {"workstations": 9}, models=MODELS),
    Case("api:POST /api/v1/quotes/{quote_id}/send", "object", "deals", "change", params=draft_params,
         models=MODELS),
    Case("api:POST /api/v1/quotes/{quote_id}/accept", "object", "deals", "change", params=sent_params,
         body=lambda w: {"tier": "best"}, models=MODELS),
    Case("api:POST /api/v1/quotes/{quote_id}/decline", "object", "deals", "change", params=sent_params,
         body=lambda w: {"reason": "Isolation"}, models=MODELS),
)
