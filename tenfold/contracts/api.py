"""REST endpoints for contracts, add-ons, coverage, addenda, SLA policies, calendars, rounding rules and
projects."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from tenfold.clients.selectors import access_client
from tenfold.contracts import selectors, services
from tenfold.contracts.models import ContractStatus, ContractType, ProjectKind, ProjectStatus
from tenfold.contracts.schemas import (
    AddendumIn,
    AddendumOut,
    AddendumPatch,
    AddOnIn,
    AddOnOut,
    AddOnPatch,
    CalendarIn,
    CalendarOut,
    CalendarPatch,
    ContractIn,
    ContractOut,
    ContractPatch,
    CostOut,
    CoverageOut,
    CoverageUserIn,
    EndIn,
    MilestoneIn,
    MilestoneOut,
    MilestonePatch,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
    RoundingRuleIn,
    RoundingRuleOut,
    RoundingRulePatch,
    SlaPolicyIn,
    SlaPolicyOut,
    SlaPolicyPatch,
    TaskIn,
    TaskOut,
    TaskPatch,
    hours_in,
)
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate
from tenfold.core.errors import PermissionDenied
from tenfold.core.roles import require

router = Router(tags=["contracts"])
addons_router = Router(tags=["contracts"])
coverage_router = Router(tags=["contracts"])
addenda_router = Router(tags=["contracts"])
sla_router = Router(tags=["SLA"])
calendars_router = Router(tags=["SLA"])
rounding_router = Router(tags=["SLA"])
projects_router = Router(tags=["projects"])
tasks_router = Router(tags=["projects"])
milestones_router = Router(tags=["projects"])

PRICE_FIELDS = ("minimum_monthly_commitment", "out_of_scope_rate", "overage_rate", "fixed_price_amount",
                "indexation_percent", "index_base_value", "index_current_value")


class ListParams(Schema):
    q: str | None = None
    page: int = 1
    page_size: int | None = None


class ContractFilters(Schema):
    q: str | None = None
    client_id: int | None = None
    status: ContractStatus | None = None
    type: ContractType | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class ProjectFilters(Schema):
    q: str | None = None
    client_id: int | None = None
    status: ProjectStatus | None = None
    kind: ProjectKind | None = None
    page: int = 1
    page_size: int | None = None


def _patch(payload: Any) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True)


def _contract_out(actor: Any, contract: Any) -> dict[str, Any]:
    body = ContractOut.model_validate(contract, from_attributes=True).model_dump()
    if not selectors.can_see_prices(actor):
        body.update(dict.fromkeys(PRICE_FIELDS))
    return body


# --- Contracts -------------------------------------------------------------------------------------------


@router.get("", response={200: Page[ContractOut], **ERRORS}, summary="List contracts")
def list_contracts(request: HttpRequest, filters: Query[ContractFilters]) -> Any:
    """Contracts you may see, filtered by `q` (number, title, client name), client, status and type."""
    actor = actor_of(request)
    queryset = selectors.contracts_visible(actor)
    if filters.q:
        term = filters.q.strip()[:200]
        queryset = queryset.filter(Q(number__icontains=term) | Q(title__icontains=term)
                                   | Q(client__name__icontains=term))
    if filters.client_id:
        queryset = queryset.filter(client_id=filters.client_id)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.type:
        queryset = queryset.filter(type=filters.type)
    queryset = queryset.order_by(*ordering_param(filters.ordering, {"number": "number", "start_date": "start_date",
                                                                    "status": "status"}, "-start_date"))
    page = paginate(queryset, filters.page, filters.page_size)
    page["items"] = [_contract_out(actor, c) for c in page["items"]]
    return page


@router.post("", response={201: ContractOut, **ERRORS}, summary="Draft a contract")
def create_contract(request: HttpRequest, payload: ContractIn) -> Any:
    """Draft a contract for a client; a managed-services contract needs a plan. Overlapping contracts of the
    same type and scope for the client are refused (422)."""
    actor = actor_of(request)
    require(actor, "contracts", "add")
    data = payload.model_dump()
    client = access_client(actor, data.pop("client_id"))
    return Status(201, _contract_out(actor, services.contract_create(actor=actor, client=client, data=data)))


@router.get("/{contract_id}", response={200: ContractOut, **ERRORS}, summary="Get a contract")
def get_contract(request: HttpRequest, contract_id: int) -> Any:
    actor = actor_of(request)
    return _contract_out(actor, selectors.access_contract(actor, contract_id))


@router.patch("/{contract_id}", response={200: ContractOut, **ERRORS}, summary="Change a contract")
def update_contract(request: HttpRequest, contract_id: int, payload: ContractPatch) -> Any:
    """Change a draft contract; a signed one only outside its commercial terms (those go through addenda)."""
    actor = actor_of(request)
    contract = selectors.access_contract(actor, contract_id)
    return _contract_out(actor, services.contract_update(actor=actor, contract=contract, data=_patch(payload)))


@router.delete("/{contract_id}", response={204: None, **ERRORS}, summary="Delete a draft contract")
def delete_contract(request: HttpRequest, contract_id: int) -> Any:
    actor = actor_of(request)
    services.contract_delete(actor=actor, contract=selectors.access_contract(actor, contract_id))
    return Status(204, None)


@router.post("/{contract_id}/sign", response={200: ContractOut, **ERRORS}, summary="Sign a contract")
def sign_contract(request: HttpRequest, contract_id: int) -> Any:
    """Sign a draft: it becomes active, its plan tier's baseline is applied to the client's devices and its
    coverage follows the RMM; `contract.signed` is emitted."""
    actor = actor_of(request)
    contract = selectors.access_contract(actor, contract_id)
    return _contract_out(actor, services.contract_sign(actor=actor, contract=contract))


@router.post("/{contract_id}/end", response={200: ContractOut, **ERRORS}, summary="End a contract")
def end_contract(request: HttpRequest, contract_id: int, payload: EndIn) -> Any:
    actor = actor_of(request)
    contract = selectors.access_contract(actor, contract_id)
    return _contract_out(actor, services.contract_end(actor=actor, contract=contract, end_date=payload.end_date))


@router.post("/{contract_id}/cancel", response={200: ContractOut, **ERRORS}, summary="Cancel a draft contract")
def cancel_contract(request: HttpRequest, contract_id: int) -> Any:
    actor = actor_of(request)
    contract = selectors.access_contract(actor, contract_id)
    return _contract_out(actor, services.contract_cancel(actor=actor, contract=contract))


@router.get("/{contract_id}/cost", response={200: CostOut, **ERRORS}, summary="A contract's monthly cost model")
def contract_cost(request: HttpRequest, contract_id: int) -> Any:
    """Revenue, tool cost, labour cost and margin per month at the live unit counts (catalog cost model).
    Needs the catalog capability: the costs are the MSP's own figures."""
    actor = actor_of(request)
    contract = selectors.access_contract(actor, contract_id)
    if not selectors.can_see_costs(actor):
        raise PermissionDenied()
    figures = selectors.contract_figures(contract)
    model = figures.model
    return {"counts": figures.counts.__dict__, "lines": [line.__dict__ for line in figures.lines],
            "revenue": model.revenue, "tool_cost": model.tool_cost, "labour_cost": model.labour_cost,
            "margin": model.margin, "margin_pct": model.margin_pct, "loaded_hourly_cost": figures.loaded_hourly_cost,
            "minimum_monthly_commitment": contract.minimum_monthly_commitment,
            "minimum_applies": figures.minimum_applies}


@router.get("/{contract_id}/coverage", response={200: Page[CoverageOut], **ERRORS}, summary="A contract's coverage")
def list_coverage(request: HttpRequest, contract_id: int, params: Query[ListParams],
                  include_ended: bool = False) -> Any:
    """The devices, sites and users covered now (with `include_ended`, also those covered before)."""
    contract = selectors.access_contract(actor_of(request), contract_id)
    queryset = contract.coverage.order_by("kind", "pk")
    if not include_ended:
        queryset = queryset.filter(ended_at__isnull=True)
    return paginate(queryset, params.page, params.page_size)


@router.post("/{contract_id}/coverage/users", response={201: CoverageOut, **ERRORS}, summary="Cover a user")
def add_covered_user(request: HttpRequest, contract_id: int, payload: CoverageUserIn) -> Any:
    """Cover one of the client's contacts as a user (counted per user); another client's contact is refused."""
    actor = actor_of(request)
    contract = selectors.access_contract(actor, contract_id)
    return Status(201, services.coverage_add_user(actor=actor, contract=contract, contact_id=payload.contact_id))


@router.get("/{contract_id}/addons", response={200: Page[AddOnOut], **ERRORS}, summary="A contract's add-ons")
def list_addons(request: HttpRequest, contract_id: int, params: Query[ListParams]) -> Any:
    contract = selectors.access_contract(actor_of(request), contract_id)
    return paginate(contract.addons.order_by("pk"), params.page, params.page_size)


@router.post("/{contract_id}/addons", response={201: AddOnOut, **ERRORS}, summary="Add an add-on")
def create_addon(request: HttpRequest, contract_id: int, payload: AddOnIn) -> Any:
    actor = actor_of(request)
    contract = selectors.access_contract(actor, contract_id)
    return Status(201, services.addon_create(actor=actor, contract=contract, data=payload.model_dump()))


@router.get("/{contract_id}/addenda", response={200: Page[AddendumOut], **ERRORS}, summary="A contract's addenda")
def list_addenda(request: HttpRequest, contract_id: int, params: Query[ListParams]) -> Any:
    contract = selectors.access_contract(actor_of(request), contract_id)
    return paginate(contract.addenda.prefetch_related("addon_changes").order_by("effective_date", "pk"),
                    params.page, params.page_size)


@router.post("/{contract_id}/addenda", response={201: AddendumOut, **ERRORS}, summary="Add an addendum")
def create_addendum(request: HttpRequest, contract_id: int, payload: AddendumIn) -> Any:
    """A change from an effective date; one already due on a signed contract applies at once."""
    actor = actor_of(request)
    contract = selectors.access_contract(actor, contract_id)
    return Status(201, services.addendum_create(actor=actor, contract=contract, data=payload.model_dump()))


@addons_router.patch("/{addon_id}", response={200: AddOnOut, **ERRORS}, summary="Change an add-on")
def update_addon(request: HttpRequest, addon_id: int, payload: AddOnPatch) -> Any:
    actor = actor_of(request)
    return services.addon_update(actor=actor, addon=selectors.access_addon(actor, addon_id), data=_patch(payload))


@addons_router.delete("/{addon_id}", response={204: None, **ERRORS}, summary="Remove an add-on")
def delete_addon(request: HttpRequest, addon_id: int) -> Any:
    actor = actor_of(request)
    services.addon_delete(actor=actor, addon=selectors.access_addon(actor, addon_id))
    return Status(204, None)


@coverage_router.delete("/{coverage_id}", response={200: CoverageOut, **ERRORS}, summary="Stop covering a user")
def end_coverage(request: HttpRequest, coverage_id: int) -> Any:
    """Ends a user's coverage (kept for billing's history); devices and sites follow the RMM by themselves."""
    actor = actor_of(request)
    return services.coverage_end(actor=actor, coverage=selectors.access_coverage(actor, coverage_id))


@addenda_router.get("/{addendum_id}", response={200: AddendumOut, **ERRORS}, summary="Get an addendum")
def get_addendum(request: HttpRequest, addendum_id: int) -> Any:
    return selectors.access_addendum(actor_of(request), addendum_id)


@addenda_router.patch("/{addendum_id}", response={200: AddendumOut, **ERRORS}, summary="Change a pending addendum")
def update_addendum(request: HttpRequest, addendum_id: int, payload: AddendumPatch) -> Any:
    actor = actor_of(request)
    addendum = selectors.access_addendum(actor, addendum_id)
    return services.addendum_update(actor=actor, addendum=addendum, data=_patch(payload))


@addenda_router.post("/{addendum_id}/cancel", response={200: AddendumOut, **ERRORS}, summary="Cancel an addendum")
def cancel_addendum(request: HttpRequest, addendum_id: int) -> Any:
    actor = actor_of(request)
    return services.addendum_cancel(actor=actor, addendum=selectors.access_addendum(actor, addendum_id))


# --- SLA policies, calendars, rounding rules ----------------------------------------------------------------


@sla_router.get("", response={200: Page[SlaPolicyOut], **ERRORS}, summary="List SLA policies")
def list_sla_policies(request: HttpRequest, params: Query[ListParams]) -> Any:
    queryset = selectors.sla_policies_visible(actor_of(request)).order_by("-is_default", "name", "pk")
    if params.q:
        queryset = queryset.filter(name__icontains=params.q.strip()[:200])
    return paginate(queryset, params.page, params.page_size)


@sla_router.post("", response={201: SlaPolicyOut, **ERRORS}, summary="Create an SLA policy")
def create_sla_policy(request: HttpRequest, payload: SlaPolicyIn) -> Any:
    """Targets in business minutes per priority; `is_default` moves the default to this policy."""
    return Status(201, services.sla_policy_create(actor=actor_of(request), data=payload.model_dump()))


@sla_router.get("/{policy_id}", response={200: SlaPolicyOut, **ERRORS}, summary="Get an SLA policy")
def get_sla_policy(request: HttpRequest, policy_id: int) -> Any:
    return selectors.access_sla_policy(actor_of(request), policy_id)


@sla_router.patch("/{policy_id}", response={200: SlaPolicyOut, **ERRORS}, summary="Change an SLA policy")
def update_sla_policy(request: HttpRequest, policy_id: int, payload: SlaPolicyPatch) -> Any:
    actor = actor_of(request)
    policy = selectors.access_sla_policy(actor, policy_id)
    return services.sla_policy_update(actor=actor, policy=policy, data=_patch(payload))


@sla_router.delete("/{policy_id}", response={204: None, **ERRORS}, summary="Delete an SLA policy")
def delete_sla_policy(request: HttpRequest, policy_id: int) -> Any:
    actor = actor_of(request)
    services.sla_policy_delete(actor=actor, policy=selectors.access_sla_policy(actor, policy_id))
    return Status(204, None)


def _calendar_data(payload: Any, partial: bool) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=partial)
    if data.get("hours") is not None:
        data["hours"] = hours_in(data["hours"])
    elif "hours" in data:
        data.pop("hours")
    if data.get("holidays") is None:
        data.pop("holidays", None)
    return data


@calendars_router.get("", response={200: Page[CalendarOut], **ERRORS}, summary="List business-hours calendars")
def list_calendars(request: HttpRequest, params: Query[ListParams]) -> Any:
    queryset = selectors.calendars_visible(actor_of(request)).prefetch_related("holidays").order_by("name", "pk")
    if params.q:
        queryset = queryset.filter(name__icontains=params.q.strip()[:200])
    return paginate(queryset, params.page, params.page_size)


@calendars_router.post("", response={201: CalendarOut, **ERRORS}, summary="Create a business-hours calendar")
def create_calendar(request: HttpRequest, payload: CalendarIn) -> Any:
    """Working hours per weekday (several intervals a day) in a time zone, and holidays."""
    return Status(201, services.calendar_create(actor=actor_of(request), data=_calendar_data(payload, False)))


@calendars_router.get("/{calendar_id}", response={200: CalendarOut, **ERRORS}, summary="Get a calendar")
def get_calendar(request: HttpRequest, calendar_id: int) -> Any:
    return selectors.access_calendar(actor_of(request), calendar_id)


@calendars_router.patch("/{calendar_id}", response={200: CalendarOut, **ERRORS}, summary="Change a calendar")
def update_calendar(request: HttpRequest, calendar_id: int, payload: CalendarPatch) -> Any:
    """Given `holidays` replace the calendar's list; given `hours` replace its week."""
    actor = actor_of(request)
    calendar = selectors.access_calendar(actor, calendar_id)
    return services.calendar_update(actor=actor, calendar=calendar, data=_calendar_data(payload, True))


@calendars_router.delete("/{calendar_id}", response={204: None, **ERRORS}, summary="Delete a calendar")
def delete_calendar(request: HttpRequest, calendar_id: int) -> Any:
    actor = actor_of(request)
    services.calendar_delete(actor=actor, calendar=selectors.access_calendar(actor, calendar_id))
    return Status(204, None)


@rounding_router.get("", response={200: Page[RoundingRuleOut], **ERRORS}, summary="List time rounding rules")
def list_rounding_rules(request: HttpRequest, params: Query[ListParams]) -> Any:
    queryset = selectors.rounding_rules_visible(actor_of(request)).order_by("name", "pk")
    if params.q:
        queryset = queryset.filter(name__icontains=params.q.strip()[:200])
    return paginate(queryset, params.page, params.page_size)


@rounding_router.post("", response={201: RoundingRuleOut, **ERRORS}, summary="Create a time rounding rule")
def create_rounding_rule(request: HttpRequest, payload: RoundingRuleIn) -> Any:
    return Status(201, services.rounding_rule_create(actor=actor_of(request), data=payload.model_dump()))


@rounding_router.get("/{rule_id}", response={200: RoundingRuleOut, **ERRORS}, summary="Get a rounding rule")
def get_rounding_rule(request: HttpRequest, rule_id: int) -> Any:
    return selectors.access_rounding_rule(actor_of(request), rule_id)


@rounding_router.patch("/{rule_id}", response={200: RoundingRuleOut, **ERRORS}, summary="Change a rounding rule")
def update_rounding_rule(request: HttpRequest, rule_id: int, payload: RoundingRulePatch) -> Any:
    actor = actor_of(request)
    rule = selectors.access_rounding_rule(actor, rule_id)
    return services.rounding_rule_update(actor=actor, rule=rule, data=_patch(payload))


@rounding_router.delete("/{rule_id}", response={204: None, **ERRORS}, summary="Delete a rounding rule")
def delete_rounding_rule(request: HttpRequest, rule_id: int) -> Any:
    actor = actor_of(request)
    services.rounding_rule_delete(actor=actor, rule=selectors.access_rounding_rule(actor, rule_id))
    return Status(204, None)


# --- Projects ---------------------------------------------------------------------------------------------------


@projects_router.get("", response={200: Page[ProjectOut], **ERRORS}, summary="List projects")
def list_projects(request: HttpRequest, filters: Query[ProjectFilters]) -> Any:
    queryset = selectors.projects_visible(actor_of(request)).order_by("-created_at", "-pk")
    if filters.q:
        queryset = queryset.filter(name__icontains=filters.q.strip()[:200])
    if filters.client_id:
        queryset = queryset.filter(client_id=filters.client_id)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    return paginate(queryset, filters.page, filters.page_size)


@projects_router.post("", response={201: ProjectOut, **ERRORS}, summary="Create a project")
def create_project(request: HttpRequest, payload: ProjectIn) -> Any:
    actor = actor_of(request)
    require(actor, "contracts", "add")
    data = payload.model_dump()
    client = access_client(actor, data.pop("client_id"))
    return Status(201, services.project_create(actor=actor, client=client, data=data))


@projects_router.get("/{project_id}", response={200: ProjectOut, **ERRORS}, summary="Get a project")
def get_project(request: HttpRequest, project_id: int) -> Any:
    return selectors.access_project(actor_of(request), project_id)


@projects_router.patch("/{project_id}", response={200: ProjectOut, **ERRORS}, summary="Change a project")
def update_project(request: HttpRequest, project_id: int, payload: ProjectPatch) -> Any:
    actor = actor_of(request)
    project = selectors.access_project(actor, project_id)
    return services.project_update(actor=actor, project=project, data=_patch(payload))


@projects_router.delete("/{project_id}", response={204: None, **ERRORS}, summary="Delete a project")
def delete_project(request: HttpRequest, project_id: int) -> Any:
    actor = actor_of(request)
    services.project_delete(actor=actor, project=selectors.access_project(actor, project_id))
    return Status(204, None)


@projects_router.get("/{project_id}/tasks", response={200: Page[TaskOut], **ERRORS}, summary="A project's tasks")
def list_tasks(request: HttpRequest, project_id: int, params: Query[ListParams]) -> Any:
    project = selectors.access_project(actor_of(request), project_id)
    return paginate(project.tasks.order_by("done", "pk"), params.page, params.page_size)


@projects_router.post("/{project_id}/tasks", response={201: TaskOut, **ERRORS}, summary="Add a task")
def create_task(request: HttpRequest, project_id: int, payload: TaskIn) -> Any:
    actor = actor_of(request)
    project = selectors.access_project(actor, project_id)
    return Status(201, services.task_create(actor=actor, project=project, data=payload.model_dump()))


@projects_router.get("/{project_id}/milestones", response={200: Page[MilestoneOut], **ERRORS},
                     summary="A project's milestones")
def list_milestones(request: HttpRequest, project_id: int, params: Query[ListParams]) -> Any:
    project = selectors.access_project(actor_of(request), project_id)
    return paginate(project.milestones.order_by("due_date", "pk"), params.page, params.page_size)


@projects_router.post("/{project_id}/milestones", response={201: MilestoneOut, **ERRORS}, summary="Add a milestone")
def create_milestone(request: HttpRequest, project_id: int, payload: MilestoneIn) -> Any:
    actor = actor_of(request)
    project = selectors.access_project(actor, project_id)
    return Status(201, services.milestone_create(actor=actor, project=project, data=payload.model_dump()))


@tasks_router.patch("/{task_id}", response={200: TaskOut, **ERRORS}, summary="Change a task")
def update_task(request: HttpRequest, task_id: int, payload: TaskPatch) -> Any:
    actor = actor_of(request)
    return services.task_update(actor=actor, task=selectors.access_task(actor, task_id), data=_patch(payload))


@tasks_router.delete("/{task_id}", response={204: None, **ERRORS}, summary="Remove a task")
def delete_task(request: HttpRequest, task_id: int) -> Any:
    actor = actor_of(request)
    services.task_delete(actor=actor, task=selectors.access_task(actor, task_id))
    return Status(204, None)


@milestones_router.patch("/{milestone_id}", response={200: MilestoneOut, **ERRORS}, summary="Change a milestone")
def update_milestone(request: HttpRequest, milestone_id: int, payload: MilestonePatch) -> Any:
    actor = actor_of(request)
    milestone = selectors.access_milestone(actor, milestone_id)
    return services.milestone_update(actor=actor, milestone=milestone, data=_patch(payload))


@milestones_router.delete("/{milestone_id}", response={204: None, **ERRORS}, summary="Remove a milestone")
def delete_milestone(request: HttpRequest, milestone_id: int) -> Any:
    actor = actor_of(request)
    services.milestone_delete(actor=actor, milestone=selectors.access_milestone(actor, milestone_id))
    return Status(204, None)
