"""Reads of people data. Whose data an actor sees is the third isolation axis: their own, their team's (direct
and indirect reports, by the "reports to" line), or everyone's for the roles of `PEOPLE_SEE_ALL`. Anything else
is NotFound (404), exactly like a record that does not exist."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from tenfold.core.errors import NotFound, PermissionDenied
from tenfold.core.roles import PEOPLE_SEE_ALL, STAFF_ROLES, require
from tenfold.core.tenancy import get_visible
from tenfold.people.models import (
    CompensationPlan,
    DealSplit,
    Employee,
    PlanRole,
    PlanRule,
    ReviewCycle,
    RoleTarget,
    Statement,
    Team,
    Training,
)


def _pk(value: Any) -> int:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise NotFound() from None
    if pk <= 0 or pk > 2**63 - 1:
        raise NotFound()
    return pk


def employee_of(actor: Any) -> Employee | None:
    """The actor's own employee record, if they have one."""
    if actor is None or not getattr(actor, "is_authenticated", False) or getattr(actor, "is_portal", True):
        return None
    return Employee.objects.filter(user_id=actor.pk).select_related("user").first()


def team_of(employee_id: int) -> set[int]:
    """The ids of everyone reporting to the employee, directly or not."""
    found: set[int] = set()
    frontier = {employee_id}
    while frontier:
        frontier = set(Employee.objects.filter(manager_id__in=frontier).values_list("pk", flat=True)) - found
        frontier.discard(employee_id)
        found |= frontier
    return found


def people_ids(actor: Any) -> set[int] | None:
    """The employee ids whose people data the actor sees; None for all. Empty for portal users."""
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role not in STAFF_ROLES:
        return set()
    if actor.role in PEOPLE_SEE_ALL:
        return None
    me = employee_of(actor)
    if me is None:
        return set()
    return {me.pk} | team_of(me.pk)


def _scoped(queryset: QuerySet[Any], actor: Any, lookup: str) -> QuerySet[Any]:
    ids = people_ids(actor)
    return queryset if ids is None else queryset.filter(**{f"{lookup}__in": ids})


def employees_visible(actor: Any) -> QuerySet[Employee]:
    """Employees whose people data the actor sees (403 for portal users)."""
    require(actor, "statements", "view")
    return _scoped(Employee.objects.select_related("user", "team", "manager__user"), actor, "pk")


def access_employee(actor: Any, employee_id: Any) -> Employee:
    """One employee the actor may see, or NotFound (another employee's data is a 404 unless manager/all)."""
    pk = _pk(employee_id)
    employee = _scoped(Employee.objects.select_related("user", "team", "manager__user"), actor, "pk").filter(
        pk=pk).first()
    if employee is None or people_ids(actor) == set():
        raise NotFound()
    return employee


def statements_visible(actor: Any) -> QuerySet[Statement]:
    """Statements of the employees the actor sees."""
    require(actor, "statements", "view")
    return _scoped(Statement.objects.select_related("employee__user"), actor, "employee_id")


def access_statement(actor: Any, statement_id: Any) -> Statement:
    """One statement, or NotFound."""
    pk = _pk(statement_id)
    if people_ids(actor) == set():
        raise NotFound()
    statement = _scoped(Statement.objects.select_related("employee__user", "reviewed_by", "locked_by"), actor,
                        "employee_id").filter(pk=pk).first()
    if statement is None:
        raise NotFound()
    return statement


def access_training(actor: Any, training_id: Any) -> Training:
    """One training record, or NotFound."""
    pk = _pk(training_id)
    if people_ids(actor) == set():
        raise NotFound()
    training = _scoped(Training.objects.select_related("employee__user"), actor, "employee_id").filter(pk=pk).first()
    if training is None:
        raise NotFound()
    return training


def teams_visible(actor: Any) -> QuerySet[Team]:
    """Teams (MSP-level; every staff member), each with `member_count`: the members whose people data the actor
    sees, so that a count never tells more than the member list."""
    require(actor, "statements", "view")
    ids = people_ids(actor)
    members = Q() if ids is None else Q(members__pk__in=ids)
    return Team.objects.annotate(member_count=Count("members", filter=members, distinct=True))


def access_team(actor: Any, team_id: Any) -> Team:
    """One team, or NotFound."""
    team = teams_visible(actor).filter(pk=_pk(team_id)).first()
    if team is None:
        raise NotFound()
    return team


def team_members(actor: Any, team: Team) -> QuerySet[Employee]:
    """The members of a team whose people data the actor sees."""
    return employees_visible(actor).filter(team=team).order_by("user__first_name", "user__last_name", "pk")


def role_targets(actor: Any) -> list[dict[str, Any]]:
    """Every plan role with its training target (None where none is set): MSP-level, every staff member."""
    require(actor, "statements", "view")
    targets = {t.plan_role: t for t in RoleTarget.objects.all()}
    return [{"plan_role": value, "label": label, "target": targets.get(value)} for value, label in PlanRole.choices]


def access_plan_role(actor: Any, plan_role: Any) -> str:
    """A plan role by its value, or NotFound."""
    require(actor, "statements", "view")
    if plan_role not in PlanRole.values:
        raise NotFound()
    return str(plan_role)


def _staff(actor: Any) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or getattr(actor, "is_portal", True):
        raise PermissionDenied()


def plans_visible(actor: Any) -> QuerySet[CompensationPlan]:
    """Compensation plans (MSP-level; owner, admin and finance)."""
    require(actor, "compensation", "view")
    return CompensationPlan.objects.all()


def access_plan(actor: Any, plan_id: Any) -> CompensationPlan:
    """One plan, or NotFound / PermissionDenied."""
    require(actor, "compensation", "view")
    plan = CompensationPlan.objects.filter(pk=_pk(plan_id)).first()
    if plan is None:
        raise NotFound()
    return plan


def access_rule(actor: Any, rule_id: Any) -> PlanRule:
    """One plan rule."""
    require(actor, "compensation", "view")
    rule = PlanRule.objects.select_related("plan", "service").filter(pk=_pk(rule_id)).first()
    if rule is None:
        raise NotFound()
    return rule


def cycles_visible(actor: Any) -> QuerySet[ReviewCycle]:
    """Review cycles (every staff member takes part)."""
    _staff(actor)
    return ReviewCycle.objects.all()


def access_cycle(actor: Any, cycle_id: Any) -> ReviewCycle:
    """One review cycle."""
    _staff(actor)
    cycle = ReviewCycle.objects.filter(pk=_pk(cycle_id)).first()
    if cycle is None:
        raise NotFound()
    return cycle


def splits_of_deal(deal: Any) -> QuerySet[DealSplit]:
    """A deal's split rows."""
    return DealSplit.objects.filter(deal=deal).select_related("employee__user")


def access_deal_for_splits(actor: Any, deal_id: Any) -> Any:
    """A deal of a client the actor sees (NotFound otherwise), for its commission splits."""
    from tenfold.sales.models import Deal

    deal = get_visible(Deal.objects.select_related("client", "owner"), actor, deal_id)
    _staff(actor)
    require(actor, "compensation", "view")
    return deal
