"""REST endpoints for leads, deals and quotes."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from tenfold.clients.selectors import access_client
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate
from tenfold.sales import selectors, services
from tenfold.sales.models import DealStage, LeadStatus, Quote, QuoteStatus
from tenfold.sales.schemas import (
    DealCloseIn,
    DealIn,
    DealOut,
    DealPatch,
    LeadConvertIn,
    LeadDismissIn,
    LeadIn,
    LeadOut,
    LeadPatch,
    QuoteAcceptIn,
    QuoteDeclineIn,
    QuoteDetailOut,
    QuoteIn,
    QuoteOut,
    QuotePatch,
)

deals_router = Router(tags=["sales"])
leads_router = Router(tags=["sales"])
quotes_router = Router(tags=["sales"])


class DealFilters(Schema):
    q: str | None = None
    stage: DealStage | None = None
    owner_id: int | None = None
    client_id: int | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class LeadFilters(Schema):
    q: str | None = None
    status: LeadStatus | None = None
    client_id: int | None = None
    technician_id: int | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class QuoteFilters(Schema):
    q: str | None = None
    status: QuoteStatus | None = None
    client_id: int | None = None
    deal_id: int | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


def _patch(payload: Any) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True)


# --- Deals ---------------------------------------------------------------------------------------------------


@deals_router.get("", response={200: Page[DealOut], **ERRORS}, summary="List deals")
def list_deals(request: HttpRequest, filters: Query[DealFilters]) -> Any:
    """Deals of the clients you may see, filtered by `q` (title, client, notes), stage, owner and client, sorted
    by `ordering` (close_date, monthly_value, one_off_value, created_at, title; prefix - for descending)."""
    queryset = selectors.deals_visible(actor_of(request))
    if filters.q:
        queryset = queryset.filter(selectors.deal_search_q(filters.q.strip()[:200]))
    for field in ("stage", "owner_id", "client_id"):
        if getattr(filters, field):
            queryset = queryset.filter(**{field: getattr(filters, field)})
    queryset = queryset.order_by(*ordering_param(filters.ordering, {
        "close_date": "close_date", "monthly_value": "monthly_value", "one_off_value": "one_off_value",
        "created_at": "created_at", "title": "title"}, "close_date"))
    return paginate(queryset, filters.page, filters.page_size)


@deals_router.post("", response={201: DealOut, **ERRORS}, summary="Create a deal")
def create_deal(request: HttpRequest, payload: DealIn) -> Any:
    """Open a deal at a client; the owner defaults to you. Technicians enter leads, not deals (403)."""
    actor = actor_of(request)
    selectors.require_selling(actor, "add")
    data = payload.model_dump()
    client = access_client(actor, data.pop("client_id"))
    return Status(201, services.deal_create(actor=actor, client=client, data=data))


@deals_router.get("/{deal_id}", response={200: DealOut, **ERRORS}, summary="Get a deal")
def get_deal(request: HttpRequest, deal_id: int) -> Any:
    return selectors.access_deal(actor_of(request), deal_id)


@deals_router.patch("/{deal_id}", response={200: DealOut, **ERRORS}, summary="Change a deal")
def update_deal(request: HttpRequest, deal_id: int, payload: DealPatch) -> Any:
    """Change an open deal; won and lost are set with the close action (or by accepting a quote)."""
    actor = actor_of(request)
    deal = selectors.access_deal(actor, deal_id)
    return services.deal_update(actor=actor, deal=deal, data=_patch(payload))


@deals_router.post("/{deal_id}/close", response={200: DealOut, **ERRORS}, summary="Close a deal as won or lost")
def close_deal(request: HttpRequest, deal_id: int, payload: DealCloseIn) -> Any:
    """`{"outcome": "lost", "reason": "..."}`: a lost deal needs its reason."""
    actor = actor_of(request)
    deal = selectors.access_deal(actor, deal_id)
    return services.deal_close(actor=actor, deal=deal, outcome=payload.outcome, reason=payload.reason,
                               contract_id=payload.contract_id)


# --- Leads ---------------------------------------------------------------------------------------------------


@leads_router.get("", response={200: Page[LeadOut], **ERRORS}, summary="List leads")
def list_leads(request: HttpRequest, filters: Query[LeadFilters]) -> Any:
    """Leads of the clients you may see, filtered by `q` (title, note, client), status, client and technician."""
    queryset = selectors.leads_visible(actor_of(request)).select_related("deal")
    if filters.q:
        term = filters.q.strip()[:200]
        queryset = queryset.filter(Q(title__icontains=term) | Q(note__icontains=term)
                                   | Q(client__name__icontains=term))
    for field in ("status", "client_id", "technician_id"):
        if getattr(filters, field):
            queryset = queryset.filter(**{field: getattr(filters, field)})
    queryset = queryset.order_by(*ordering_param(filters.ordering, {"created_at": "created_at", "title": "title"},
                                                 "-created_at"))
    return paginate(queryset, filters.page, filters.page_size)


@leads_router.post("", response={201: LeadOut, **ERRORS}, summary="Create a lead")
def create_lead(request: HttpRequest, payload: LeadIn) -> Any:
    """Record a lead by hand (technicians may; they are credited with their own leads)."""
    actor = actor_of(request)
    services.require_leads(actor, "add")
    data = payload.model_dump()
    client = access_client(actor, data.pop("client_id"))
    return Status(201, services.lead_create(actor=actor, client=client, data=data))


@leads_router.get("/{lead_id}", response={200: LeadOut, **ERRORS}, summary="Get a lead")
def get_lead(request: HttpRequest, lead_id: int) -> Any:
    return selectors.access_lead(actor_of(request), lead_id)


@leads_router.patch("/{lead_id}", response={200: LeadOut, **ERRORS}, summary="Change a lead")
def update_lead(request: HttpRequest, lead_id: int, payload: LeadPatch) -> Any:
    actor = actor_of(request)
    lead = selectors.access_lead(actor, lead_id)
    return services.lead_update(actor=actor, lead=lead, data=_patch(payload))


@leads_router.post("/{lead_id}/convert", response={201: DealOut, **ERRORS}, summary="Convert a lead into a deal")
def convert_lead(request: HttpRequest, lead_id: int, payload: LeadConvertIn) -> Any:
    """The deal is for the lead's client; a technician's lead makes a "technician lead" deal crediting them."""
    actor = actor_of(request)
    lead = selectors.access_lead(actor, lead_id)
    data = {k: v for k, v in payload.model_dump().items() if v is not None or k == "owner_id"}
    return Status(201, services.lead_convert(actor=actor, lead=lead, data=data))


@leads_router.post("/{lead_id}/dismiss", response={200: LeadOut, **ERRORS}, summary="Dismiss a lead")
def dismiss_lead(request: HttpRequest, lead_id: int, payload: LeadDismissIn) -> Any:
    actor = actor_of(request)
    lead = selectors.access_lead(actor, lead_id)
    return services.lead_dismiss(actor=actor, lead=lead, reason=payload.reason)


# --- Quotes --------------------------------------------------------------------------------------------------


def _quote_detail(quote: Quote) -> dict[str, Any]:
    body = QuoteOut.model_validate(quote, from_attributes=True).model_dump()
    pricing = selectors.quote_pricing(quote)
    body["addons"] = [{"id": a.pk, "service_id": a.service_id, "per_unit": a.per_unit, "quantity": a.quantity,
                       "unit_price": a.unit_price} for a in quote.addons.order_by("pk")]
    body["items"] = [{"id": i.pk, "description": i.description, "quantity": i.quantity, "unit_price": i.unit_price}
                     for i in quote.items.order_by("pk")]
    body["tiers"] = [{"tier": t.plan.tier, "plan_id": t.plan.pk, "plan_name": t.plan.name,
                      "monthly_total": t.monthly_total,
                      "lines": [{"service_id": line.service_id, "name": line.name, "unit": line.unit,
                                 "quantity": line.quantity, "unit_price": line.unit_price, "is_addon": line.is_addon}
                                for line in t.lines]} for t in pricing.tiers]
    body["one_off_total"] = pricing.one_off_total
    body["currency"] = pricing.currency
    return body


@quotes_router.get("", response={200: Page[QuoteOut], **ERRORS}, summary="List quotes")
def list_quotes(request: HttpRequest, filters: Query[QuoteFilters]) -> Any:
    """Quotes of the clients you may see, filtered by `q` (number, client, deal), status, client and deal."""
    queryset = selectors.quotes_visible(actor_of(request))
    if filters.q:
        term = filters.q.strip()[:200]
        queryset = queryset.filter(Q(number__icontains=term) | Q(client__name__icontains=term)
                                   | Q(deal__title__icontains=term))
    for field in ("status", "client_id", "deal_id"):
        if getattr(filters, field):
            queryset = queryset.filter(**{field: getattr(filters, field)})
    queryset = queryset.order_by(*ordering_param(filters.ordering, {
        "created_at": "created_at", "number": "number", "valid_until": "valid_until"}, "-created_at"))
    return paginate(queryset, filters.page, filters.page_size)


@quotes_router.post("", response={201: QuoteDetailOut, **ERRORS}, summary="Create a quote")
def create_quote(request: HttpRequest, payload: QuoteIn) -> Any:
    """Draft a quote for a deal: the offering's three tiers at the unit counts (the client's live counts unless
    given), with add-ons and one-off items. Everything is refused together when one part is wrong."""
    actor = actor_of(request)
    selectors.require_selling(actor, "add")
    data = payload.model_dump()
    addons, items = data.pop("addons"), data.pop("items")
    deal = selectors.access_deal(actor, data.pop("deal_id"))
    with transaction.atomic():
        quote = services.quote_create(actor=actor, deal=deal, data=data)
        for addon in addons:
            services.quote_addon_add(actor=actor, quote=quote, data=addon)
        for item in items:
            services.quote_item_add(actor=actor, quote=quote, data=item)
    return Status(201, _quote_detail(quote))


@quotes_router.get("/{quote_id}", response={200: QuoteDetailOut, **ERRORS}, summary="Get a quote with its prices")
def get_quote(request: HttpRequest, quote_id: int) -> Any:
    """The quote with each tier's lines and monthly total at the quote's counts, and the one-off total."""
    return _quote_detail(selectors.access_quote(actor_of(request), quote_id))


@quotes_router.patch("/{quote_id}", response={200: QuoteDetailOut, **ERRORS}, summary="Change a draft quote")
def update_quote(request: HttpRequest, quote_id: int, payload: QuotePatch) -> Any:
    actor = actor_of(request)
    quote = selectors.access_quote(actor, quote_id)
    return _quote_detail(services.quote_update(actor=actor, quote=quote, data=_patch(payload)))


@quotes_router.post("/{quote_id}/send", response={200: QuoteOut, **ERRORS}, summary="Send a quote to the client")
def send_quote(request: HttpRequest, quote_id: int) -> Any:
    """The quote appears in the client's portal for their portal administrators to accept."""
    actor = actor_of(request)
    return services.quote_send(actor=actor, quote=selectors.access_quote(actor, quote_id))


@quotes_router.post("/{quote_id}/accept", response={200: QuoteOut, **ERRORS},
                    summary="Accept a quote on the client's behalf")
def accept_quote(request: HttpRequest, quote_id: int, payload: QuoteAcceptIn) -> Any:
    """Accept a sent quote in one tier (`{"tier": "better"}`): the deal is won and the contract made with the
    tier's plan and the add-ons, then signed (its baseline applied). Accepting again answers 409."""
    actor = actor_of(request)
    quote = selectors.access_quote(actor, quote_id)
    return services.quote_accept(actor=actor, quote=quote, tier=payload.tier)


@quotes_router.post("/{quote_id}/decline", response={200: QuoteOut, **ERRORS}, summary="Record a declined quote")
def decline_quote(request: HttpRequest, quote_id: int, payload: QuoteDeclineIn) -> Any:
    actor = actor_of(request)
    quote = selectors.access_quote(actor, quote_id)
    return services.quote_decline(actor=actor, quote=quote, reason=payload.reason)
