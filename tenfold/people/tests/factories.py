"""Records the people tests build: employees with a manager line, plans with rules, surveys and won deals."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.clients.models import Client
from tenfold.people.models import CompensationPlan, Employee, PlanRule
from tenfold.sales.models import Deal
from tenfold.servicedesk.models import Ticket
from tenfold.servicedesk.models_surveys import SurveyResponse

Q1 = (date(2026, 1, 1), date(2026, 3, 31))  # 90 days


def make_employee(role: str = "technician", *, manager: Employee | None = None, plan_role: str = "technician",
                  **fields: Any) -> Employee:
    user = make_staff(role, mfa=fields.pop("mfa", True), first_name=fields.pop("first_name", role.title()),
                      last_name=fields.pop("last_name", "Person"))
    return Employee.objects.create(user=user, manager=manager, plan_role=plan_role,
                                   start_date=fields.pop("start_date", date(2024, 1, 1)),
                                   base_pay=Decimal(fields.pop("base_pay", "36000.00")), **fields)


def make_plan(plan_role: str = "technician", start: date = date(2025, 1, 1), end: date | None = None,
              name: str = "Plan") -> CompensationPlan:
    return CompensationPlan.objects.create(name=name, plan_role=plan_role, effective_from=start, effective_to=end)


def add_rule(plan: CompensationPlan, kind: str, measure: str, **fields: Any) -> PlanRule:
    fields.setdefault("label", f"{kind} {measure}")
    for name in ("rate_pct", "linear_start", "linear_end", "linear_amount", "cap", "floor"):
        if name in fields and fields[name] is not None:
            fields[name] = Decimal(str(fields[name]))
    return PlanRule.objects.create(plan=plan, kind=kind, measure=measure, **fields)


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.get_current_timezone()) + timedelta(hours=hour)


def make_client(name: str = "Client One") -> Client:
    return Client.objects.create(name=name, status="active")


def answered_survey(client: Client, technician: Any, on: date, scores: tuple[int, int, int]) -> SurveyResponse:
    ticket = Ticket.objects.create(client=client, title="Printer", assignee=technician, status="closed")
    p, a, s = scores
    return SurveyResponse.objects.create(client=client, ticket=ticket, technician=technician, expires_at=at(on),
                                         answered_at=at(on), professionalism=p, accuracy=a, speed=s)


def won_deal(client: Client, owner: Any, on: date, monthly: str, **fields: Any) -> Deal:
    return Deal.objects.create(client=client, owner=owner, title=fields.pop("title", "Deal"), stage="won",
                               monthly_value=Decimal(monthly), close_date=on, closed_at=at(on), **fields)
