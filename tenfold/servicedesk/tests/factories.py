"""Builders for service desk tests: a calendar and policy with known targets, a client with a contract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tenfold.clients.models import Client
from tenfold.contracts.models import BusinessCalendar, Contract, Holiday, RoundingRule, SlaPolicy

WEEKDAYS_9_TO_17 = [[[540, 1020]]] * 5 + [[], []]


def make_calendar(name: str = "Paris office", time_zone: str = "Europe/Paris", hours: Any = None,
                  holidays: tuple[date, ...] = ()) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.create(name=name, time_zone=time_zone, hours=hours or WEEKDAYS_9_TO_17)
    for day in holidays:
        Holiday.objects.create(calendar=calendar, date=day)
    return calendar


def make_policy(calendar: BusinessCalendar, name: str = "Business", **targets: int) -> SlaPolicy:
    """P3: 240 min first response, 1440 min resolution; 80 % warning (the model's defaults)."""
    return SlaPolicy.objects.create(name=name, calendar=calendar, **targets)


def make_client(name: str = "Boulangerie Martin") -> Client:
    return Client.objects.create(name=name, status="active")


def make_contract(client: Client, *, type: str = "managed", policy: SlaPolicy | None = None,
                  rule: RoundingRule | None = None, out_of_scope_rate: Decimal | None = None,
                  **fields: Any) -> Contract:
    values = {"number": fields.pop("number", f"SD-{Contract.objects.count() + 1:04d}"), "type": type,
              "status": "active", "start_date": date(2026, 1, 1), **fields}
    return Contract.objects.create(client=client, sla_policy=policy, rounding_rule=rule,
                                   out_of_scope_rate=out_of_scope_rate, **values)
