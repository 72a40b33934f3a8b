"""REST endpoints of people data: employees, scorecards, trainings, plans and rules, peer reviews (aggregates
only), statements, the most satisfied clients and deal splits."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from tenfold.clients.models import Client
from tenfold.core.api import ERRORS, Page, actor_of, paginate
from tenfold.core.errors import ValidationError
from tenfold.core.roles import require
from tenfold.people import compensation, reports, selectors, services
from tenfold.people.measures import Period, peer_review_aggregate, previous_quarter, quarter_of
from tenfold.people.schemas import (
    CompensationPlanIn,
    CompensationPlanOut,
    CycleOut,
    EmployeeOut,
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
    TechnicianScorecardOut,
    TrainingIn,
    TrainingOut,
)

router = Router(tags=["people"])


class ListParams(Schema):
    page: int = 1
    page_size: int | None = None


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


@router.get("/employees", response={200: Page[EmployeeOut], **ERRORS}, summary="List employees")
def list_employees(request: HttpRequest, params: Query[ListParams]) -> Any:
    """Yourself, your team (direct and indirect reports), or everyone for the owner, administrators and finance."""
    queryset = selectors.employees_visible(actor_of(request)).order_by("pk")
    return paginate(queryset, params.page, params.page_size)


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


@router.post("/plans/{plan_id}/rules", response={201: RuleOut, **ERRORS}, summary="Add a rule to a plan")
def create_rule(request: HttpRequest, plan_id: int, payload: RuleIn) -> Any:
    """A commission (% of won recurring value), or a bonus by steps or on a linear scale of a measure. Refused
    with a message per field: negative rates, overlapping thresholds, a cap below the floor."""
    actor = actor_of(request)
    plan = selectors.access_plan(actor, plan_id)
    data = payload.model_dump(exclude={"steps"})
    data["steps"] = [{"from": str(step.from_), "amount": str(step.amount)} for step in payload.steps]
    return Status(201, services.rule_create(actor=actor, plan=plan, data=data))


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


@router.post("/review-cycles/{cycle_id}/reviews", response={201: ReviewAck, **ERRORS},
             summary="Review a colleague")
def submit_review(request: HttpRequest, cycle_id: int, payload: ReviewIn) -> Any:
    """Rate a chosen colleague 1–5 on each teamwork criterion, with a comment. The answer does not echo the
    review; the person reviewed only ever sees averages."""
    actor = actor_of(request)
    cycle = selectors.access_cycle(actor, cycle_id)
    services.review_submit(actor=actor, cycle=cycle, data=payload.model_dump())
    return Status(201, {"cycle_id": cycle.pk, "status": "submitted"})


@router.get("/statements", response={200: Page[StatementOut], **ERRORS}, summary="List statements")
def list_statements(request: HttpRequest, params: Query[ListParams]) -> Any:
    """Your own, your team's, or everyone's for the owner, administrators and finance."""
    return paginate(selectors.statements_visible(actor_of(request)).order_by("-period_start", "pk"), params.page,
                    params.page_size)


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
