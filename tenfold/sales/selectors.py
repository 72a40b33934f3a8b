"""Reads of leads, deals and quotes, always scoped to what the actor may see; and a quote's prices, computed by
the catalog's pricing module only."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from tenfold.assets.models import Device, DeviceState
from tenfold.catalog.models import Plan
from tenfold.catalog.pricing import CostModel, Line, UnitCounts, cost_model, line_for, offering_items, plan_lines
from tenfold.clients.models import Client
from tenfold.contracts.selectors import UNIT_OF_DEVICE_KIND
from tenfold.core.errors import PermissionDenied
from tenfold.core.roles import Role, has_capability, has_privilege, require
from tenfold.core.selectors import organization
from tenfold.core.tenancy import get_visible
from tenfold.core.tiers import Tier
from tenfold.sales.models import (
    CLIENT_VISIBLE_STATUSES,
    OPEN_STAGES,
    UNIT_FIELDS,
    Deal,
    DealStage,
    Lead,
    Quote,
    QuoteStatus,
)

UNIT_FIELD_OF = {"workstation": "workstations", "server": "servers", "network_device": "network_devices",
                 "mobile": "mobiles"}


# --- Access --------------------------------------------------------------------------------------------------


def _require_staff_view(actor: Any) -> None:
    require(actor, "deals", "view")
    if getattr(actor, "is_portal", False):
        raise PermissionDenied()


def can_sell(actor: Any, action: str = "change") -> bool:
    """Whether the actor may create or change deals and quotes (a technician holds the capability for leads
    only)."""
    return (has_capability(actor, "deals", action) and not getattr(actor, "is_portal", False)
            and getattr(actor, "role", "") != Role.TECHNICIAN)


def require_selling(actor: Any, action: str = "change") -> None:
    """PermissionDenied unless the actor may create or change deals and quotes."""
    require(actor, "deals", action)
    if not can_sell(actor, action):
        raise PermissionDenied()


def leads_visible(actor: Any) -> QuerySet[Lead]:
    """Leads of the clients the actor may see."""
    _require_staff_view(actor)
    return Lead.objects.visible_to(actor).select_related("client", "technician", "ticket")


def access_lead(actor: Any, lead_id: Any) -> Lead:
    """One lead, or NotFound."""
    lead = get_visible(Lead.objects.select_related("client", "technician", "ticket", "created_by"), actor, lead_id)
    _require_staff_view(actor)
    return lead


def deals_visible(actor: Any) -> QuerySet[Deal]:
    """Deals of the clients the actor may see."""
    _require_staff_view(actor)
    return Deal.objects.visible_to(actor).select_related("client", "owner")


def access_deal(actor: Any, deal_id: Any) -> Deal:
    """One deal, or NotFound."""
    deal = get_visible(Deal.objects.select_related("client", "owner", "lead", "credited_technician", "contract"),
                       actor, deal_id)
    _require_staff_view(actor)
    return deal


def quotes_visible(actor: Any) -> QuerySet[Quote]:
    """Quotes of the clients the actor may see (staff)."""
    _require_staff_view(actor)
    return Quote.objects.visible_to(actor).select_related("client", "deal", "offering")


def _quote_queryset() -> QuerySet[Quote]:
    return Quote.objects.select_related("client", "deal", "deal__owner", "offering", "contact", "sent_by",
                                        "accepted_by", "accepted_plan", "contract")


def access_quote(actor: Any, quote_id: Any) -> Quote:
    """One quote for staff, or NotFound."""
    quote = get_visible(_quote_queryset(), actor, quote_id)
    _require_staff_view(actor)
    return quote


def portal_quotes(actor: Any) -> QuerySet[Quote]:
    """The quotes the MSP sent to the portal user's company (portal administrators only)."""
    if not getattr(actor, "is_portal", False) or not has_privilege(actor, "quotes.accept"):
        raise PermissionDenied()
    return Quote.objects.visible_to(actor).filter(status__in=CLIENT_VISIBLE_STATUSES).select_related("offering")


def portal_quote(actor: Any, quote_id: Any) -> Quote:
    """One quote sent to the portal user's company: another company's, or one still in draft, is NotFound;
    staff and portal users without the right get PermissionDenied."""
    quote = get_visible(_quote_queryset().filter(status__in=CLIENT_VISIBLE_STATUSES), actor, quote_id)
    if not getattr(actor, "is_portal", False) or not has_privilege(actor, "quotes.accept"):
        raise PermissionDenied()
    return quote


def quote_for_document(actor: Any, quote_id: Any) -> Quote:
    """A quote for its page or PDF: staff through `access_quote`, a portal administrator through
    `portal_quote`."""
    if getattr(actor, "is_portal", False):
        return portal_quote(actor, quote_id)
    return access_quote(actor, quote_id)


# --- Unit counts and prices ----------------------------------------------------------------------------------


def live_counts(client: Client) -> UnitCounts:
    """The client's units now: non-retired devices by pricing unit, contacts as users, sites."""
    counts = dict.fromkeys(UNIT_FIELDS, 0)
    rows = (Device.objects.filter(client=client, kind__in=list(UNIT_OF_DEVICE_KIND)).exclude(state=DeviceState.RETIRED)
            .values("kind").annotate(n=Count("pk")).order_by())
    for row in rows:
        counts[UNIT_FIELD_OF[str(UNIT_OF_DEVICE_KIND[row["kind"]])]] += row["n"]
    counts["users"] = client.contacts.count()
    counts["sites"] = client.sites.count()
    return UnitCounts(**counts)


def quote_counts(quote: Quote) -> UnitCounts:
    """The unit counts the quote is priced at."""
    return UnitCounts(**{name: int(getattr(quote, name)) for name in UNIT_FIELDS})


@dataclass(frozen=True)
class TierPrice:
    """One tier of the quote's offering at the quote's counts, with the add-ons."""

    plan: Plan
    lines: list[Line]
    model: CostModel

    @property
    def monthly_total(self) -> Decimal:
        return self.model.revenue


@dataclass(frozen=True)
class QuotePricing:
    """Everything a quote shows about money: the tiers side by side, the one-off items and their total."""

    counts: UnitCounts
    tiers: list[TierPrice]
    one_off_lines: list[Line]
    one_off_total: Decimal
    currency: str

    def tier(self, tier: str) -> TierPrice | None:
        return next((t for t in self.tiers if t.plan.tier == tier), None)


def offering_plans(offering_id: int) -> list[Plan]:
    """The active plans of an offering, Good first."""
    plans = Plan.objects.filter(offering_id=offering_id, active=True).select_related("offering")
    return sorted(plans, key=lambda p: Tier.rank(p.tier))


def tier_lines(plan: Plan, counts: UnitCounts, addons: list[Any], items: list[Any] | None = None) -> list[Line]:
    """A tier's monthly lines with the quote's add-ons, the way the contract it becomes will bill them: per-unit
    add-ons at the counts, fixed ones at their quantity, one the plan includes never charged twice."""
    per_unit = [(a.service, a.unit_price) for a in addons if a.per_unit]
    lines = plan_lines(plan, counts, per_unit, items=items)
    charged = {line.service_id for line in lines}
    for addon in addons:
        if addon.per_unit or addon.service_id in charged:
            continue
        charged.add(addon.service_id)
        price = addon.service.list_price if addon.unit_price is None else addon.unit_price
        lines.append(replace(line_for(addon.service, counts, price, is_addon=True), quantity=addon.quantity))
    return lines


def one_off_lines(items: list[Any]) -> list[Line]:
    """The one-off items as pricing lines (no unit cost or labour: they are priced as quoted)."""
    return [Line(service_id=0, name=item.description, unit="flat", quantity=Decimal(item.quantity),
                 unit_price=Decimal(item.unit_price), unit_cost=Decimal(0), labour_minutes=Decimal(0))
            for item in items]


def quote_pricing(quote: Quote, counts: UnitCounts | None = None) -> QuotePricing:
    """The quote's tiers priced at its counts (or `counts`), each with the add-ons, and the one-off total."""
    counts = counts if counts is not None else quote_counts(quote)
    org = organization()
    hourly = org.loaded_labour_cost
    addons = list(quote.addons.select_related("service").order_by("service__name", "pk"))
    items = offering_items([quote.offering_id])
    tiers = []
    for plan in offering_plans(quote.offering_id):
        lines = tier_lines(plan, counts, addons, items)
        tiers.append(TierPrice(plan=plan, lines=lines, model=cost_model(lines, hourly)))
    one_off = one_off_lines(list(quote.items.order_by("pk")))
    return QuotePricing(counts=counts, tiers=tiers, one_off_lines=one_off,
                        one_off_total=cost_model(one_off, Decimal(0)).revenue, currency=org.currency)


# --- Pipeline ------------------------------------------------------------------------------------------------


def pipeline(actor: Any, deals: QuerySet[Deal] | None = None) -> list[dict[str, Any]]:
    """Open deals by stage, each stage with its count and expected monthly and one-off values."""
    queryset = deals if deals is not None else deals_visible(actor)
    queryset = queryset.filter(stage__in=OPEN_STAGES)
    columns = []
    labels = dict(DealStage.choices)
    for stage in OPEN_STAGES:
        stage_deals = list(queryset.filter(stage=stage).order_by("close_date", "pk")[:100])
        totals = queryset.filter(stage=stage).aggregate(n=Count("pk"), monthly=Sum("monthly_value"),
                                                        one_off=Sum("one_off_value"))
        columns.append({"stage": str(stage), "label": labels[stage], "deals": stage_deals, "count": totals["n"],
                        "monthly": totals["monthly"] or Decimal("0.00"),
                        "one_off": totals["one_off"] or Decimal("0.00")})
    return columns


def quotes_of_deal(deal: Deal) -> QuerySet[Quote]:
    """A deal's quotes, newest first."""
    return deal.quotes.select_related("offering").order_by("-created_at", "-pk")


def quote_is_open(quote: Quote) -> bool:
    """Whether a sent quote may still be answered."""
    return quote.status == QuoteStatus.SENT


def deal_search_q(term: str) -> Q:
    """The search of deal lists: title, client name, notes."""
    return Q(title__icontains=term) | Q(client__name__icontains=term) | Q(notes__icontains=term)
