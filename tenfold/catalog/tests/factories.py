"""Catalog records for tests: a service, an offering with Good / Better / Best plans."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tenfold.catalog.models import Offering, Plan, PlanItem, Service


def make_service(code: str, *, price: str = "10.00", cost: str = "0", minutes: str = "0", unit: str = "workstation",
                 **fields: Any) -> Service:
    fields.setdefault("name", code.replace("-", " ").capitalize())
    return Service.objects.create(code=code, unit=unit, list_price=Decimal(price), unit_cost=Decimal(cost),
                                  labour_minutes=Decimal(minutes), **fields)


def make_offering(name: str = "Managed workplace", **fields: Any) -> Offering:
    return Offering.objects.create(name=name, **fields)


def make_plan(offering: Offering, tier: str, **fields: Any) -> Plan:
    fields.setdefault("name", f"{offering.name} {tier}")
    return Plan.objects.create(offering=offering, tier=tier, **fields)


def include(plan: Plan, service: Service, price: str | None = None) -> PlanItem:
    return PlanItem.objects.create(plan=plan, service=service,
                                   unit_price=service.list_price if price is None else Decimal(price))
