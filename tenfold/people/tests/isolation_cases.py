"""Isolation cases of the people pages and API (see tenfold/core/isolation.py). People data of the world's
subject employee is the third axis (`people_owned=True`): 404 for everyone but the owner, administrators, finance
and the subject's manager."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.core.isolation import Case, World, register
from tenfold.people.models import (
    CompensationPlan,
    DealSplit,
    Employee,
    PeerReview,
    PeopleSettings,
    PlanRule,
    ReviewCycle,
    RoleTarget,
    Statement,
    StatementLine,
    Team,
    Training,
)

SUBJECT = "Subjectperson"
PEOPLE = (Employee, Training, Statement, StatementLine)
PLANS = (CompensationPlan, PlanRule, StatementLine)
TEAMS = (Team, Employee)


def subject(world: World) -> Employee:
    return world.extra["people_subject"]


def training(world: World) -> Training:
    if "people_training" not in world.extra:
        world.extra["people_training"] = Training.objects.create(employee=subject(world), title="Isolation course",
                                                                 hours=Decimal("3"), date=date(2026, 1, 5))
    return world.extra["people_training"]


def statement(world: World, status: str = "draft") -> Statement:
    key = f"people_statement_{status}"
    if key not in world.extra:
        start = date(2020 + len([k for k in world.extra if k.startswith("people_statement_")]), 1, 1)
        world.extra[key] = Statement.objects.create(employee=subject(world), period_start=start,
                                                    period_end=start.replace(month=3, day=31), status=status,
                                                    computed_at=timezone.now(), total=Decimal("12.34"))
    return world.extra[key]


def plan(world: World) -> CompensationPlan:
    if "people_plan" not in world.extra:
        world.extra["people_plan"] = CompensationPlan.objects.create(
            name="Isolation plan", plan_role="technician", effective_from=date(2025, 1, 1))
    return world.extra["people_plan"]


def rule(world: World) -> PlanRule:
    if "people_rule" not in world.extra:
        world.extra["people_rule"] = PlanRule.objects.create(
            plan=plan(world), label="Training", kind="linear", measure="training_hours", linear_start=Decimal(0),
            linear_end=Decimal(10), linear_amount=Decimal(100))
    return world.extra["people_rule"]


def cycle(world: World) -> ReviewCycle:
    if "people_cycle" not in world.extra:
        world.extra["people_cycle"] = ReviewCycle.objects.create(name="Isolation cycle", start_date=date(2026, 1, 1),
                                                                 end_date=date(2026, 3, 31))
    return world.extra["people_cycle"]


def deal_a(world: World) -> Any:
    from tenfold.sales.models import Deal

    if "people_deal" not in world.extra:
        world.extra["people_deal"] = Deal.objects.create(
            client=world.client_a, owner=world.users["account_manager"], title="Isolation deal", stage="won",
            monthly_value=Decimal("100"), close_date=date(2026, 1, 10), closed_at=timezone.now())
    return world.extra["people_deal"]


def team(world: World) -> Team:
    """A team the subject belongs to: its member list is people data (scoped), the team itself is not."""
    if "people_team" not in world.extra:
        world.extra["people_team"] = Team.objects.create(name="Isolation team")
        Employee.objects.filter(pk=subject(world).pk).update(team=world.extra["people_team"])
    return world.extra["people_team"]


def empty_team(world: World) -> Team:
    if "people_empty_team" not in world.extra:
        world.extra["people_empty_team"] = Team.objects.create(name="Empty team")
    return world.extra["people_empty_team"]


def leak_team_member(world: World) -> str:
    team(world)
    return SUBJECT


def employee_params(world: World) -> dict[str, Any]:
    return {"employee_id": subject(world).pk}


def leak_subject(world: World) -> str:
    statement(world)
    return SUBJECT


def leak_client_a(world: World) -> str:
    from tenfold.servicedesk.models import Ticket
    from tenfold.servicedesk.models_surveys import SurveyResponse

    if "people_survey" not in world.extra:
        ticket = Ticket.objects.create(client=world.client_a, title="Survey isolation", status="closed")
        now = timezone.now()
        world.extra["people_survey"] = SurveyResponse.objects.create(
            client=world.client_a, ticket=ticket, expires_at=now + timedelta(days=7), answered_at=now,
            professionalism=5, accuracy=5, speed=5)
    return world.client_a.name


def new_employee_body(world: World) -> dict[str, Any]:
    user = make_staff("technician", mfa=False, first_name="Newly", last_name="Hired")
    return {"user": user.pk, "plan_role": "technician", "base_pay": "30000", "start_date": "2026-01-01",
            "active": "on"}


def edit_employee_body(world: World) -> dict[str, Any]:
    return {"plan_role": "technician", "base_pay": "41000", "start_date": "2024-01-01", "active": "on"}


def plan_body(world: World) -> dict[str, Any]:
    return {"name": "Isolation plan 2", "plan_role": "salesperson", "effective_from": "2026-01-01"}


def rule_body(world: World) -> dict[str, Any]:
    return {"label": "Commission", "kind": "commission", "measure": "recurring_value", "rate_pct": "5",
            "basis": "monthly", "applies_to": "all"}


def training_body(world: World) -> dict[str, Any]:
    return {"kind": "training", "title": "New course", "provider": "", "hours": "2", "date": "2026-02-01"}


def draft_statement(world: World) -> dict[str, Any]:
    return {"statement_id": statement(world).pk}


def reviewed_statement(world: World) -> dict[str, Any]:
    return {"statement_id": statement(world, "reviewed").pk}


S = {"staff_only": True, "client_owned": False}
P = {**S, "people_owned": True}

register(
    # UI: employees, scorecards, trainings (people data)
    Case("ui:people:employee_list", "list", "statements", leak=leak_subject, **P),
    Case("ui:people:employee_create", "create", "compensation", "add", method="POST", body=new_employee_body,
         models=PEOPLE, **S),
    Case("ui:people:employee_detail", "object", "statements", params=employee_params, **P),
    Case("ui:people:employee_edit", "object", "compensation", "change", method="POST", params=employee_params,
         body=edit_employee_body, models=PEOPLE, **P),
    Case("ui:people:employee_scorecard", "object", "statements", params=employee_params, **P),
    Case("ui:people:training_create", "create", None, method="POST", params=employee_params, body=training_body,
         models=PEOPLE, **P),
    Case("ui:people:training_delete", "object", None, method="POST",
         params=lambda w: {"training_id": training(w).pk}, models=PEOPLE, **P),
    # UI: plans (MSP-level, compensation capability)
    Case("ui:people:plan_list", "list", "compensation", **S),
    Case("ui:people:plan_create", "create", "compensation", "add", method="POST", body=plan_body, models=PLANS, **S),
    Case("ui:people:plan_detail", "object", "compensation", params=lambda w: {"plan_id": plan(w).pk}, **S),
    Case("ui:people:plan_edit", "object", "compensation", "change", method="POST",
         params=lambda w: {"plan_id": plan(w).pk}, body=plan_body, models=PLANS, **S),
    Case("ui:people:plan_delete", "object", "compensation", "delete", method="POST",
         params=lambda w: {"plan_id": plan(w).pk}, models=PLANS, **S),
    Case("ui:people:plan_end", "object", "compensation", "change", method="POST",
         params=lambda w: {"plan_id": plan(w).pk}, body=lambda w: {"effective_to": "2026-12-31"}, models=PLANS, **S),
    Case("ui:people:plan_preview", "object", "compensation", params=lambda w: {"plan_id": plan(w).pk}, **S),
    Case("ui:people:rule_create", "create", "compensation", "change", method="POST",
         params=lambda w: {"plan_id": plan(w).pk}, body=rule_body, models=PLANS, **S),
    Case("ui:people:rule_edit", "object", "compensation", "change", method="POST",
         params=lambda w: {"rule_id": rule(w).pk}, body=rule_body, models=PLANS, **S),
    Case("ui:people:rule_delete", "object", "compensation", "change", method="POST",
         params=lambda w: {"rule_id": rule(w).pk}, models=PLANS, **S),
    # UI: peer reviews
    Case("ui:people:cycle_list", "list", None, **S),
    Case("ui:people:cycle_detail", "object", None, params=lambda w: {"cycle_id": cycle(w).pk}, **S),
    Case("ui:people:cycle_close", "object", "compensation", "change", method="POST",
         params=lambda w: {"cycle_id": cycle(w).pk}, models=(ReviewCycle, PeerReview), **S),
    # UI: statements
    Case("ui:people:statement_list", "list", "statements", leak=leak_subject, **P),
    Case("ui:people:statement_detail", "object", "statements", params=draft_statement, **P),
    Case("ui:people:statement_recompute", "object", "statements", "change", method="POST", params=draft_statement,
         models=PEOPLE, **P),
    Case("ui:people:statement_review", "object", "statements", "change", method="POST", params=draft_statement,
         models=PEOPLE, **P),
    Case("ui:people:statement_lock", "object", "statements", "change", method="POST", params=reviewed_statement,
         models=PEOPLE, **P),
    # UI: teams (MSP-level; members are people data) and training targets
    Case("ui:people:team_list", "list", "statements", leak=leak_team_member, **P),
    Case("ui:people:team_detail", "object", "statements", params=lambda w: {"team_id": team(w).pk}, **S),
    Case("ui:people:team_edit", "object", "compensation", "change", method="POST",
         params=lambda w: {"team_id": team(w).pk}, body=lambda w: {"name": "Renamed team"}, models=TEAMS, **S),
    Case("ui:people:team_delete", "object", "compensation", "delete", method="POST",
         params=lambda w: {"team_id": empty_team(w).pk}, models=TEAMS, **S),
    Case("ui:people:target_list", "list", "statements", **S),
    Case("ui:people:target_edit", "object", "compensation", "change", method="POST",
         params=lambda w: {"plan_role": "technician"},
         body=lambda w: {"training_hours_per_year": "30", "certifications_required": "2"}, models=(RoleTarget,), **S),
    # UI: clients and deals (client-owned), settings
    Case("ui:people:satisfied_clients", "list", "kpis", staff_only=True, leak=leak_client_a),
    Case("ui:people:deal_splits", "object", "compensation", params=lambda w: {"deal_id": deal_a(w).pk},
         staff_only=True),
    Case("ui:people:settings", "create", "compensation", "change", method="POST",
         body=lambda w: {"min_reviewers": "4", "hours_per_day": "7.5"}, models=(PeopleSettings,), **S),
    # API
    Case("api:GET /api/v1/people/employees", "list", "statements", leak=leak_subject, **P),
    Case("api:POST /api/v1/people/employees", "create", "compensation", "add", body=lambda w: {
        "user_id": make_staff("technician", mfa=False, first_name="Api", last_name="Hire").pk,
        "start_date": "2026-01-01"}, models=PEOPLE, **S),
    Case("api:PATCH /api/v1/people/employees/{employee_id}", "object", "compensation", "change",
         params=employee_params, body=lambda w: {"base_pay": "41000"}, models=PEOPLE, **P),
    Case("api:DELETE /api/v1/people/trainings/{training_id}", "object", None,
         params=lambda w: {"training_id": training(w).pk}, models=PEOPLE, **P),
    Case("api:GET /api/v1/people/employees/{employee_id}", "object", "statements", params=employee_params, **P),
    Case("api:GET /api/v1/people/employees/{employee_id}/scorecard", "object", "statements", params=employee_params,
         **P),
    Case("api:GET /api/v1/people/employees/{employee_id}/peer-reviews", "object", "statements",
         params=employee_params, **P),
    Case("api:GET /api/v1/people/employees/{employee_id}/trainings", "object", "statements", params=employee_params,
         **P),
    Case("api:POST /api/v1/people/employees/{employee_id}/trainings", "create", None, params=employee_params,
         body=lambda w: {"title": "API course", "hours": "2", "date": "2026-02-01"}, models=PEOPLE, **P),
    Case("api:GET /api/v1/people/plans", "list", "compensation", **S),
    Case("api:POST /api/v1/people/plans", "create", "compensation", "add", body=plan_body, models=PLANS, **S),
    Case("api:GET /api/v1/people/plans/{plan_id}", "object", "compensation",
         params=lambda w: {"plan_id": plan(w).pk}, **S),
    Case("api:PATCH /api/v1/people/plans/{plan_id}", "object", "compensation", "change",
         params=lambda w: {"plan_id": plan(w).pk}, body=lambda w: {"name": "Renamed plan"}, models=PLANS, **S),
    Case("api:POST /api/v1/people/plans/{plan_id}/end", "object", "compensation", "change",
         params=lambda w: {"plan_id": plan(w).pk}, body=lambda w: {"effective_to": "2026-12-31"}, models=PLANS, **S),
    Case("api:DELETE /api/v1/people/plans/{plan_id}", "object", "compensation", "delete",
         params=lambda w: {"plan_id": plan(w).pk}, models=PLANS, **S),
    Case("api:POST /api/v1/people/plans/{plan_id}/rules", "create", "compensation", "change",
         params=lambda w: {"plan_id": plan(w).pk}, body=rule_body, models=PLANS, **S),
    Case("api:PUT /api/v1/people/rules/{rule_id}", "object", "compensation", "change",
         params=lambda w: {"rule_id": rule(w).pk}, body=rule_body, models=PLANS, **S),
    Case("api:DELETE /api/v1/people/rules/{rule_id}", "object", "compensation", "change",
         params=lambda w: {"rule_id": rule(w).pk}, models=PLANS, **S),
    Case("api:GET /api/v1/people/plans/{plan_id}/preview", "object", "compensation",
         params=lambda w: {"plan_id": plan(w).pk}, **S),
    Case("api:GET /api/v1/people/review-cycles", "list", None, **S),
    Case("api:POST /api/v1/people/review-cycles", "create", "compensation", "add",
         body=lambda w: {"name": "API cycle", "start_date": "2026-04-01", "end_date": "2026-06-30"},
         models=(ReviewCycle,), **S),
    Case("api:POST /api/v1/people/review-cycles/{cycle_id}/close", "object", "compensation", "change",
         params=lambda w: {"cycle_id": cycle(w).pk}, models=(ReviewCycle, PeerReview), **S),
    Case("api:POST /api/v1/people/review-cycles/{cycle_id}/reviews", "create", None,
         params=lambda w: {"cycle_id": cycle(w).pk},
         body=lambda w: {"reviewee_id": subject(w).pk, "sharing": 4, "stepping_in": 4, "communication": 4,
                         "reliability": 4}, models=(PeerReview,), **S),
    Case("api:GET /api/v1/people/statements", "list", "statements", leak=leak_subject, **P),
    Case("api:POST /api/v1/people/statements", "create", "statements", "add",
         body=lambda w: {"employee_id": subject(w).pk, "period_start": "2026-07-01"}, models=PEOPLE,
         params=lambda w: {}, **{**P, "people_owned": True}),
    Case("api:GET /api/v1/people/statements/{statement_id}", "object", "statements", params=draft_statement, **P),
    Case("api:POST /api/v1/people/statements/{statement_id}/recompute", "object", "statements", "change",
         params=draft_statement, models=PEOPLE, **P),
    Case("api:POST /api/v1/people/statements/{statement_id}/review", "object", "statements", "change",
         params=draft_statement, models=PEOPLE, **P),
    Case("api:POST /api/v1/people/statements/{statement_id}/lock", "object", "statements", "change",
         params=reviewed_statement, models=PEOPLE, **P),
    Case("api:GET /api/v1/people/teams", "list", "statements", leak=leak_team_member, **P),
    Case("api:POST /api/v1/people/teams", "create", "compensation", "add", body=lambda w: {"name": "API team"},
         models=TEAMS, **S),
    Case("api:GET /api/v1/people/teams/{team_id}", "object", "statements", params=lambda w: {"team_id": team(w).pk},
         **S),
    Case("api:PATCH /api/v1/people/teams/{team_id}", "object", "compensation", "change",
         params=lambda w: {"team_id": team(w).pk}, body=lambda w: {"name": "Renamed team"}, models=TEAMS, **S),
    Case("api:DELETE /api/v1/people/teams/{team_id}", "object", "compensation", "delete",
         params=lambda w: {"team_id": empty_team(w).pk}, models=TEAMS, **S),
    Case("api:GET /api/v1/people/training-targets", "list", "statements", **S),
    Case("api:PUT /api/v1/people/training-targets/{plan_role}", "object", "compensation", "change",
         params=lambda w: {"plan_role": "technician"},
         body=lambda w: {"training_hours_per_year": "30", "certifications_required": 2}, models=(RoleTarget,), **S),
    Case("api:GET /api/v1/people/satisfied-clients", "list", "kpis", leak=leak_client_a),
    Case("api:PUT /api/v1/people/deals/{deal_id}/splits", "object", "compensation", "change",
         params=lambda w: {"deal_id": deal_a(w).pk},
         body=lambda w: {"shares": [{"employee_id": subject(w).pk, "share_pct": "100"}]}, models=(DealSplit,),
         staff_only=True),
)
