"""Reads of the catalog. The records are MSP-level: every signed-in actor passes `visible_to`, the
`catalog` capability decides (403 for a role without it, portal users included)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet

from tenfold.catalog import pricing
from tenfold.catalog.models import Offering, Plan, PlanItem, Service
from tenfold.core.roles import require
from tenfold.core.selectors import organization
from tenfold.core.tenancy import get_visible
from tenfold.core.tiers import Tier


def services_visible(actor: Any) -> QuerySet[Service]:
    """Every catalog service (403 without the catalog capability)."""
    require(actor, "catalog", "view")
    return Service.objects.visible_to(actor)


def service_list(actor: Any) -> QuerySet[Service]:
    """Services with how many plans include them, for list screens."""
    return services_visible(actor).annotate(plan_count=Count("plan_items", distinct=True))


def access_service(actor: Any, service_id: Any) -> Service:
    """One service, or NotFound."""
    service = get_visible(Service.objects.all(), actor, service_id)
    require(actor, "catalog", "view")
    return service


def offerings_visible(actor: Any) -> QuerySet[Offering]:
    """Every offering, with its plans."""
    require(actor, "catalog", "view")
    return Offering.objects.visible_to(actor).prefetch_related("plans")


def access_offering(actor: Any, offering_id: Any) -> Offering:
    """One offering, or NotFound."""
    offering = get_visible(Offering.objects.all(), actor, offering_id)
    require(actor, "catalog", "view")
    return offering


def plans_visible(actor: Any) -> QuerySet[Plan]:
    """Every plan, with its offering."""
    require(actor, "catalog", "view")
    return Plan.objects.visible_to(actor).select_related("offering")


def access_plan(actor: Any, plan_id: Any) -> Plan:
    """One plan, or NotFound."""
    plan = get_visible(Plan.objects.select_related("offering"), actor, plan_id)
    require(actor, "catalog", "view")
    return plan


def access_plan_item(actor: Any, item_id: Any) -> PlanItem:
    """One plan item, or NotFound."""
    item = get_visible(PlanItem.objects.select_related("plan", "plan__offering", "service"), actor, item_id)
    require(actor, "catalog", "view")
    return item


def plan_own_items(plan: Plan) -> list[PlanItem]:
    """The items the plan lists itself (not those it inherits), by service name."""
    return list(plan.items.select_related("service").order_by("service__name", "pk"))


def offering_plans(offering: Offering) -> list[Plan]:
    """The offering's plans from Good up."""
    return sorted(offering.plans.all(), key=lambda p: Tier.rank(p.tier))


def loaded_hourly_cost() -> Decimal:
    """The organization's loaded labour cost per hour."""
    return organization().loaded_labour_cost


def currency() -> str:
    """The organization's currency (ISO 4217)."""
    return organization().currency


@dataclass(frozen=True)
class PlanEconomics:
    """A plan at reference counts: its lines, cost model, sensitivity and the profit leverage."""

    plan: Plan
    counts: pricing.UnitCounts
    lines: list[pricing.Line]
    model: pricing.CostModel
    sensitivity: list[pricing.Sensitivity]
    leverage: Decimal | None
    hourly_cost: Decimal


def plan_economics(plan: Plan, counts: pricing.UnitCounts, hourly_cost: Decimal | None = None) -> PlanEconomics:
    """Everything the plan page shows about the plan's money at `counts`."""
    rate = loaded_hourly_cost() if hourly_cost is None else hourly_cost
    lines = pricing.plan_lines(plan, counts)
    model = pricing.cost_model(lines, rate)
    return PlanEconomics(plan=plan, counts=counts, lines=lines, model=model,
                         sensitivity=pricing.sensitivity(lines, rate), leverage=pricing.profit_leverage(model),
                         hourly_cost=rate)


def offering_ladder(offering: Offering, counts: pricing.UnitCounts,
                    hourly_cost: Decimal | None = None) -> list[pricing.Rung]:
    """The offering's tiers priced at `counts`, each with its step over the tier below."""
    rate = loaded_hourly_cost() if hourly_cost is None else hourly_cost
    return pricing.ladder(offering_plans(offering), counts, rate)


def offering_summaries(offerings: list[Offering], counts: pricing.UnitCounts) -> list[dict[str, Any]]:
    """For the offerings list: each offering's tiers with their price at `counts`."""
    rate = loaded_hourly_cost()
    items = pricing.offering_items([o.pk for o in offerings])
    result = []
    for offering in offerings:
        rungs = pricing.ladder(offering_plans(offering), counts, rate, items=items)
        by_tier = {rung.plan.tier: rung for rung in rungs}
        result.append({"offering": offering, "rungs": rungs, "cells": [by_tier.get(t) for t in Tier.values]})
    return result

