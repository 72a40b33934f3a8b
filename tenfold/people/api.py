"""REST endpoints of people data: employees, scorecards, trainings, plans and rules, peer reviews (aggregates
only), statements, the most satisfied clients and deal splits."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tenfold.clients.models import Client
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate
from tenfold.core.errors import ValidationError
from tenfold.core.roles import require
from tenfold.people import compensation, reports, selectors, services
from tenfold.people.measures import Period, peer_review_aggregate, previous_quarter, quarter_of
from tenfold.people.models import PlanRole, StatementStatus
from tenfold.people.schemas import (
    CompensationPlanEndIn,
    CompensationPlanIn,
    CompensationPlanOut,
    CompensationPlanPatch,
    CycleIn,
    CycleOut,
    EmployeeIn,
    EmployeeOut,
    EmployeePatch,
    PeerReviewSummaryOut,
    PreviewOut,
    ReviewAck,
    ReviewIn,
    RuleIn,
    RuleOut,
    SatisfiedClientOut,
    SplitOut,
    SplitsIn,
    StatementDetailOut,
    StatementIn,
    StatementOut,
    TeamDetailOut,
    TeamIn,
    TeamOut,
    TechnicianScorecardOut,
    TrainingIn,
    TrainingOut,
    TrainingTargetIn,
    TrainingTargetOut,
)

router = Router(tags=["people"])


class ListParams(Schema):
    page: int = 1
    page_size: int | None = None


class EmployeeListParams(ListParams):
    q: str | None = Field(default=None, max_length=200, description="Words found in the name or e-mail.")
    team_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    plan_role: PlanRole | None = None
    active: bool | None = None
    ordering: str | None = Field(default=None, description="name, start_date or team; prefix - for descending.")


class StatementListParams(ListParams):
    status: StatementStatus | None = None
    employee_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    ordering: str | None = Field(default=None, description="period_start, total or employee; - for descending.")


class TeamListParams(ListParams):
    q: str | None = Field(default=None, max_length=200)
    ordering: str | None = Field(default=None, description="name or member_count; prefix - for descending.")


class TeamDeleteParams(Schema):
    unassign_members: bool = Field(default=False, description="Take the team's members out of it (they stay "
                                   "employees, without a team) instead of refusing while it has members.")


class QuarterParams(Schema):
    quarter: date | None = None


def _quarter(value: date | None) -> Period:
    if value is None:
        return previous_quarter()
    if not 2000 <= value.year <= 2100:
        raise ValidationError(_("Choose a quarter between 2000 and 2100."), field="quarter")
    return quarter_of(value)


def _summary(agg: dict[str, Any]) -> dict[str, Any]:
    return {"shown": agg["shown"], "reviewers": agg["reviewers"], "minimum": agg["minimum"], "score": agg["score"],
            "criteria": [{"criterion": k, "average": v} for k, v in agg["criteria"].items()]}


def _measured(m: Any) -> dict[str, Any]:
    return {"value": m.value, "text": m.text}


EMPLOYEE_ORDERING = {"name": "user__first_name", "start_date": "start_date", "team": "team__name"}


@router.get("/employees", response={200: Page[EmployeeOut], **ERRORS}, summary="List employees")
def list_employees(request: HttpRequest, params: Query[EmployeeListParams]) -> Any:
    """Yourself, your team (direct and indirect reports), or everyone for the owner, administrators and finance;
    searched (`q`), filtered by team, plan role and status, sorted (`ordering`)."""
    queryset = selectors.employees_visible(actor_of(request))
    for word in (params.q or "").replace("\x00", "").split()[:8]:
        queryset = queryset.filter(Q(user__first_name__icontains=word) | Q(user__last_name__icontains=word)
                                   | Q(user__email__icontains=word))
    if params.team_id is not None:
        queryset = queryset.filter(team_id=params.team_id)
    if params.plan_role is not None:
        queryset = queryset.filter(plan_role=params.plan_role)
    if params.active is not None:
        queryset = queryset.filter(active=params.active)
    ordering = ordering_param(params.ordering, EMPLOYEE_ORDERING, "name")
    if ordering[0].lstrip("-") == "user__first_name":
        ordering.insert(1, ordering[0].replace("first_name", "last_name"))
    return paginate(queryset.order_by(*ordering), params.page, params.page_size)


@router.post("/employees", response={201: EmployeeOut, **ERRORS}, summary="Make a staff user an employee")
def create_employee(request: HttpRequest, payload: EmployeeIn) -> Any:
    actor = actor_of(request)
    employee = services.employee_create(actor=actor, data=payload.model_dump())
    return Status(201, selectors.access_employee(actor, employee.pk))


@router.patch("/employees/{employee_id}", response={200: EmployeeOut, **ERRORS}, summary="Change an employee")
def update_employee(request: HttpRequest, employee_id: int, payload: EmployeePatch) -> Any:
    """The fields given change; `team_id: null` or `manager_id: null` clear them."""
    actor = actor_of(request)
    employee = selectors.access_employee(actor, employee_id)
    data = payload.model_dump(exclude_unset=True)
    for name in ("plan_role", "base_pay", "start_date", "active"):
        if name in data and data[name] is None:
            raise ValidationError(_("This field cannot be empty."), field=name)
    services.employee_update(actor=actor, employee=employee, data=data)
    return selectors.access_employee(actor, employee.pk)


@router.get("/employees/{employee_id}", response={200: EmployeeOut, **ERRORS}, summary="Get an employee")
def get_employee(request: HttpRequest, employee_id: int) -> Any:
    return selectors.access_employee(actor_of(request), employee_id)


@router.get("/employees/{employee_id}/scorecard", response={200: TechnicianScorecardOut, **ERRORS},
            summary="An employee's technician scorecard")
def get_scorecard(request: HttpRequest, employee_id: int, params: Query[QuarterParams]) -> Any:
    """The quarter holding `quarter` (default: last quarter)."""
    actor = actor_of(request)
    employee = selectors.access_employee(actor, employee_id)
    card = reports.scorecard(employee, _quarter(params.quarter),
                             Client.objects.visible_to(actor).values_list("pk", flat=True))
    return {**card, "period_start": card["period"].start, "period_end": card["period"].end,
            "sla": _measured(card["sla"]), "csat": _measured(card["csat"]), "leads_won": _measured(card["leads_won"]),
            "training_hours": _measured(card["training_hours"]), "peer_review": _summary(card["peer_review"])}


@router.get("/employees/{employee_id}/peer-reviews", response={200: PeerReviewSummaryOut, **ERRORS},
            summary="Peer-review aggregates of an employee")
def get_peer_reviews(request: HttpRequest, employee_id: int, params: Query[QuarterParams]) -> Any:
    """Per-criterion averages of the cycles ending in the quarter; nothing below the minimum number of reviewers.
    Never a reviewer, a single review or a comment."""
    employee = selectors.access_employee(actor_of(request), employee_id)
    return _summary(peer_review_aggregate(employee, _quarter(params.quarter)))


@router.get("/employees/{employee_id}/trainings", response={200: list[TrainingOut], **ERRORS},
            summary="An employee's trainings and certifications")
def list_trainings(request: HttpRequest, employee_id: int) -> Any:
    employee = selectors.access_employee(actor_of(request), employee_id)
    return list(employee.trainings.order_by("-date", "pk"))


@router.post("/employees/{employee_id}/trainings", response={201: TrainingOut, **ERRORS},
             summary="Record a training or certification")
def create_training(request: HttpRequest, employee_id: int, payload: TrainingIn) -> Any:
    actor = actor_of(request)
    employee = selectors.access_employee(actor, employee_id)
    return Status(201, services.training_create(actor=actor, employee=employee, data=payload.model_dump()))


@router.delete("/trainings/{training_id}", response={204: None, **ERRORS}, summary="Remove a training record")
def delete_training(request: HttpRequest, training_id: int) -> Any:
    actor = actor_of(request)
    services.training_delete(actor=actor, training=selectors.access_training(actor, training_id))
    return Status(204, None)


@router.get("/plans", response={200: Page[CompensationPlanOut], **ERRORS}, summary="List compensation plans")
def list_plans(request: HttpRequest, params: Query[ListParams]) -> Any:
    return paginate(selectors.plans_visible(actor_of(request)).order_by("plan_role", "-effective_from", "pk"),
                    params.page, params.page_size)


@router.post("/plans", response={201: CompensationPlanOut, **ERRORS}, summary="Create a compensation plan")
def create_plan(request: HttpRequest, payload: CompensationPlanIn) -> Any:
    return Status(201, services.plan_create(actor=actor_of(request), data=payload.model_dump()))


@router.get("/plans/{plan_id}", response={200: CompensationPlanOut, **ERRORS}, summary="Get a compensation plan")
def get_plan(request: HttpRequest, plan_id: int) -> Any:
    return selectors.access_plan(actor_of(request), plan_id)


@router.patch("/plans/{plan_id}", response={200: CompensationPlanOut, **ERRORS},
              summary="Change a compensation plan")
def update_plan(request: HttpRequest, plan_id: int, payload: CompensationPlanPatch) -> Any:
    """The fields given change; `effective_to: null` makes the plan run until further notice. Dates must keep
    covering the quarters of reviewed and locked statements computed with the plan."""
    actor = actor_of(request)
    plan = selectors.access_plan(actor, plan_id)
    data = payload.model_dump(exclude_unset=True)
    for name in ("name", "plan_role", "effective_from", "notes"):
        if name in data and data[name] is None:
            raise ValidationError(_("This field cannot be empty."), field=name)
    return services.plan_update(actor=actor, plan=plan, data=data)


@router.post("/plans/{plan_id}/end", response={200: CompensationPlanOut, **ERRORS},
             summary="End a compensation plan")
def end_plan(request: HttpRequest, plan_id: int, payload: CompensationPlanEndIn) -> Any:
    """Set the plan's last day in force: the way out for a plan that statements were computed with."""
    actor = actor_of(request)
    plan = selectors.access_plan(actor, plan_id)
    return services.plan_end(actor=actor, plan=plan, last_day=payload.effective_to)


@router.delete("/plans/{plan_id}", response={204: None, **ERRORS}, summary="Delete a compensation plan")
def delete_plan(request: HttpRequest, plan_id: int) -> Any:
    """Delete a plan and its rules. A plan that a statement was computed with is refused (409,
    `plan_in_statements`): end it instead (`POST /plans/{plan_id}/end`)."""
    actor = actor_of(request)
    services.plan_delete(actor=actor, plan=selectors.access_plan(actor, plan_id))
    return Status(204, None)


@router.post("/plans/{plan_id}/rules", response={201: RuleOut, **ERRORS}, summary="Add a rule to a plan")
def create_rule(request: HttpRequest, plan_id: int, payload: RuleIn) -> Any:
    """A commission (% of won recurring value), or a bonus by steps or on a linear scale of a measure. Refused
    with a message per field: negative rates, overlapping thresholds, a cap below the floor."""
    actor = actor_of(request)
    plan = selectors.access_plan(actor, plan_id)
    data = payload.model_dump(exclude={"steps"})
    data["steps"] = [{"from": str(step.from_), "amount": str(step.amount)} for step in payload.steps]
    return Status(201, services.rule_create(actor=actor, plan=plan, data=data))


@router.put("/rules/{rule_id}", response={200: RuleOut, **ERRORS}, summary="Change a plan rule")
def update_rule(request: HttpRequest, rule_id: int, payload: RuleIn) -> Any:
    """The whole rule, as when adding it; refused with a message per field like a new rule."""
    actor = actor_of(request)
    rule = selectors.access_rule(actor, rule_id)
    data = payload.model_dump(exclude={"steps"})
    data["steps"] = [{"from": str(step.from_), "amount": str(step.amount)} for step in payload.steps]
    return services.rule_update(actor=actor, rule=rule, data=data)


@router.delete("/rules/{rule_id}", response={204: None, **ERRORS}, summary="Remove a plan rule")
def delete_rule(request: HttpRequest, rule_id: int) -> Any:
    actor = actor_of(request)
    services.rule_delete(actor=actor, rule=selectors.access_rule(actor, rule_id))
    return Status(204, None)


@router.get("/plans/{plan_id}/preview", response={200: PreviewOut, **ERRORS},
            summary="Preview a plan over a quarter")
def preview_plan(request: HttpRequest, plan_id: int, params: Query[QuarterParams]) -> Any:
    """Every active employee of the plan's role with their variable pay under this plan over the quarter (default:
    last quarter), and the alignment warnings."""
    plan = selectors.access_plan(actor_of(request), plan_id)
    quarter = _quarter(params.quarter)
    rows = [{"employee_id": row["employee"].pk, "employee": str(row["employee"]), "total": row["total"],
             "lines": row["lines"]} for row in compensation.preview(plan, quarter)]
    warnings = [{"plan_id": w["plan"].pk, "plan": w["plan"].name, "this_plan_rewards": w["mine"],
                 "other_plan_rewards": w["theirs"]} for w in compensation.alignment_warnings(plan)]
    return {"period_start": quarter.start, "period_end": quarter.end, "rows": rows, "warnings": warnings}


@router.get("/review-cycles", response={200: Page[CycleOut], **ERRORS}, summary="List review cycles")
def list_cycles(request: HttpRequest, params: Query[ListParams]) -> Any:
    return paginate(selectors.cycles_visible(actor_of(request)).order_by("-start_date", "pk"), params.page,
                    params.page_size)


@router.post("/review-cycles", response={201: CycleOut, **ERRORS}, summary="Open a review cycle")
def create_cycle(request: HttpRequest, payload: CycleIn) -> Any:
    return Status(201, services.cycle_create(actor=actor_of(request), data=payload.model_dump()))


@router.post("/review-cycles/{cycle_id}/close", response={200: CycleOut, **ERRORS}, summary="Close a review cycle")
def close_cycle(request: HttpRequest, cycle_id: int) -> Any:
    """No more reviews; closing a closed cycle is a 409."""
    actor = actor_of(request)
    return services.cycle_close(actor=actor, cycle=selectors.access_cycle(actor, cycle_id))


@router.post("/review-cycles/{cycle_id}/reviews", response={201: ReviewAck, **ERRORS},
             summary="Review a colleague")
def submit_review(request: HttpRequest, cycle_id: int, payload: ReviewIn) -> Any:
    """Rate a chosen colleague 1–5 on each teamwork criterion, with a comment. The answer does not echo the
    review; the person reviewed only ever sees averages."""
    actor = actor_of(request)
    cycle = selectors.access_cycle(actor, cycle_id)
    services.review_submit(actor=actor, cycle=cycle, data=payload.model_dump())
    return Status(201, {"cycle_id": cycle.pk, "status": "submitted"})


STATEMENT_ORDERING = {"period_start": "period_start", "total": "total", "employee": "employee__user__first_name"}


@router.get("/statements", response={200: Page[StatementOut], **ERRORS}, summary="List statements")
def list_statements(request: HttpRequest, params: Query[StatementListParams]) -> Any:
    """Your own, your team's, or everyone's for the owner, administrators and finance; filtered by status and
    employee, sorted (`ordering`, latest quarter first by default)."""
    queryset = selectors.statements_visible(actor_of(request))
    if params.status is not None:
        queryset = queryset.filter(status=params.status)
    if params.employee_id is not None:
        queryset = queryset.filter(employee_id=params.employee_id)
    ordering = ordering_param(params.ordering, STATEMENT_ORDERING, "-period_start")
    return paginate(queryset.order_by(*ordering), params.page, params.page_size)


@router.post("/statements", response={201: StatementDetailOut, **ERRORS}, summary="Draft a statement")
def create_statement(request: HttpRequest, payload: StatementIn) -> Any:
    actor = actor_of(request)
    employee = selectors.access_employee(actor, payload.employee_id)
    require(actor, "statements", "add")
    if payload.period_start.year < 2000 or payload.period_start.year > 2100:
        raise ValidationError(_("Choose a quarter between 2000 and 2100."), field="period_start")
    return Status(201, services.statement_draft(actor=actor, employee=employee, quarter_start=payload.period_start))


@router.get("/statements/{statement_id}", response={200: StatementDetailOut, **ERRORS},
            summary="Get a statement with its lines")
def get_statement(request: HttpRequest, statement_id: int) -> Any:
    return selectors.access_statement(actor_of(request), statement_id)


@router.post("/statements/{statement_id}/recompute", response={200: StatementDetailOut, **ERRORS},
             summary="Compute a draft statement again")
def recompute_statement(request: HttpRequest, statement_id: int) -> Any:
    """From today's data; a reviewed or locked statement is a 409 and never changes."""
    actor = actor_of(request)
    return services.statement_recompute(actor=actor, statement=selectors.access_statement(actor, statement_id))


@router.post("/statements/{statement_id}/review", response={200: StatementOut, **ERRORS},
             summary="Mark a statement reviewed")
def review_statement(request: HttpRequest, statement_id: int) -> Any:
    actor = actor_of(request)
    return services.statement_review(actor=actor, statement=selectors.access_statement(actor, statement_id))


@router.post("/statements/{statement_id}/lock", response={200: StatementOut, **ERRORS},
             summary="Lock a reviewed statement")
def lock_statement(request: HttpRequest, statement_id: int) -> Any:
    actor = actor_of(request)
    return services.statement_lock(actor=actor, statement=selectors.access_statement(actor, statement_id))


TEAM_ORDERING = {"name": "name", "member_count": "member_count"}


@router.get("/teams", response={200: Page[TeamOut], **ERRORS}, summary="List teams")
def list_teams(request: HttpRequest, params: Query[TeamListParams]) -> Any:
    """Every team, with the number of members whose people data you see."""
    queryset = selectors.teams_visible(actor_of(request))
    for word in (params.q or "").replace("\x00", "").split()[:8]:
        queryset = queryset.filter(name__icontains=word)
    return paginate(queryset.order_by(*ordering_param(params.ordering, TEAM_ORDERING, "name")), params.page,
                    params.page_size)


@router.post("/teams", response={201: TeamOut, **ERRORS}, summary="Create a team")
def create_team(request: HttpRequest, payload: TeamIn) -> Any:
    actor = actor_of(request)
    team = services.team_create(actor=actor, name=payload.name)
    return Status(201, selectors.access_team(actor, team.pk))


@router.get("/teams/{team_id}", response={200: TeamDetailOut, **ERRORS}, summary="Get a team and its members")
def get_team(request: HttpRequest, team_id: int) -> Any:
    """The members listed are those whose people data you see."""
    actor = actor_of(request)
    team = selectors.access_team(actor, team_id)
    return {"id": team.pk, "name": team.name, "member_count": team.member_count,  # type: ignore[attr-defined]
            "members": list(selectors.team_members(actor, team))}


@router.patch("/teams/{team_id}", response={200: TeamOut, **ERRORS}, summary="Rename a team")
def rename_team(request: HttpRequest, team_id: int, payload: TeamIn) -> Any:
    actor = actor_of(request)
    team = services.team_rename(actor=actor, team=selectors.access_team(actor, team_id), name=payload.name)
    return selectors.access_team(actor, team.pk)


@router.delete("/teams/{team_id}", response={204: None, **ERRORS}, summary="Delete a team")
def delete_team(request: HttpRequest, team_id: int, params: Query[TeamDeleteParams]) -> Any:
    """Refused while employees belong to the team (409, `team_has_members`) unless `unassign_members=true`:
    then they are taken out of the team first and stay employees."""
    actor = actor_of(request)
    services.team_delete(actor=actor, team=selectors.access_team(actor, team_id),
                         unassign_members=params.unassign_members)
    return Status(204, None)


def _target_out(row: dict[str, Any]) -> dict[str, Any]:
    target = row["target"]
    return {"plan_role": row["plan_role"],
            "training_hours_per_year": target.training_hours_per_year if target else None,
            "certifications_required": target.certifications_required if target else None}


@router.get("/training-targets", response={200: list[TrainingTargetOut], **ERRORS},
            summary="Training targets per plan role")
def list_training_targets(request: HttpRequest) -> Any:
    """Every plan role, with its yearly training hours and valid certifications to hold (null where none is set)."""
    return [_target_out(row) for row in selectors.role_targets(actor_of(request))]


@router.put("/training-targets/{plan_role}", response={200: TrainingTargetOut, **ERRORS},
            summary="Set a plan role's training target")
def set_training_target(request: HttpRequest, plan_role: str, payload: TrainingTargetIn) -> Any:
    actor = actor_of(request)
    role = selectors.access_plan_role(actor, plan_role)
    services.role_target_set(actor=actor, plan_role=role, hours=payload.training_hours_per_year,
                             certifications=payload.certifications_required)
    return next(_target_out(row) for row in selectors.role_targets(actor) if row["plan_role"] == role)


@router.get("/satisfied-clients", response={200: list[SatisfiedClientOut], **ERRORS},
            summary="Most satisfied clients")
def satisfied_clients(request: HttpRequest) -> Any:
    """Clients you may see by average satisfaction over twelve months, with the services they buy."""
    actor = actor_of(request)
    require(actor, "kpis", "view")
    return reports.most_satisfied_clients(actor)


@router.put("/deals/{deal_id}/splits", response={200: list[SplitOut], **ERRORS},
            summary="Set a deal's commission split")
def set_splits(request: HttpRequest, deal_id: int, payload: SplitsIn) -> Any:
    """Shares of distinct employees adding up to 100 %; an empty list gives the deal back to its owner."""
    actor = actor_of(request)
    deal = selectors.access_deal_for_splits(actor, deal_id)
    shares = [{"employee_id": s.employee_id, "share_pct": s.share_pct} for s in payload.shares]
    return services.splits_set(actor=actor, deal=deal, shares=shares)
