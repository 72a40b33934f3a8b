"""Reads of contracts, coverage, projects (scoped to what the actor may see) and of the MSP-level SLA
policies, calendars and rounding rules; plus what the service desk asks: the SLA and rounding in force for
a client, and the due times of a ticket."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from tenfold.assets.models import DeviceKind
from tenfold.catalog.models import UnitKind
from tenfold.catalog.pricing import CostModel, Line, UnitCounts, cost_model, line_for, plan_lines
from tenfold.contracts.businesstime import add_business_time
from tenfold.contracts.models import (
    BusinessCalendar,
    Contract,
    ContractAddendum,
    ContractAddOn,
    ContractCoverage,
    ContractStatus,
    ContractType,
    CoverageKind,
    Milestone,
    Project,
    ProjectTask,
    RoundingMode,
    RoundingRule,
    SlaPolicy,
)
from tenfold.core.errors import PermissionDenied
from tenfold.core.roles import has_capability, require
from tenfold.core.selectors import organization
from tenfold.core.tenancy import get_visible

# Device kinds counted under each pricing unit (a laptop is a workstation for pricing).
UNIT_OF_DEVICE_KIND: dict[str, str] = {
    DeviceKind.WORKSTATION: UnitKind.WORKSTATION, DeviceKind.LAPTOP: UnitKind.WORKSTATION,
    DeviceKind.SERVER: UnitKind.SERVER, DeviceKind.NETWORK_DEVICE: UnitKind.NETWORK_DEVICE,
    DeviceKind.MOBILE: UnitKind.MOBILE,
}
COVERED_DEVICE_KINDS = tuple(str(kind) for kind in UNIT_OF_DEVICE_KIND)


# --- Access --------------------------------------------------------------------------------------------


def _require_staff(actor: Any) -> None:
    """SLA policies, calendars and rounding rules are the MSP's settings: staff only (a portal user reads
    their contract's SLA on the contract page)."""
    require(actor, "contracts", "view")
    if getattr(actor, "is_portal", False):
        raise PermissionDenied()


def _msp_get(model: Any, actor: Any, pk: Any) -> Any:
    _require_staff(actor)
    return get_visible(model.objects.all(), actor, pk)


def contracts_visible(actor: Any) -> QuerySet[Contract]:
    """Contracts the actor may see (403 for a role without the contracts capability)."""
    require(actor, "contracts", "view")
    return Contract.objects.visible_to(actor).select_related("client", "plan", "sla_policy", "site")


def access_contract(actor: Any, contract_id: Any) -> Contract:
    """One contract, or NotFound (missing and not-yours answer alike)."""
    contract = get_visible(Contract.objects.select_related("client", "plan", "plan__offering", "sla_policy",
                                                           "sla_policy__calendar", "calendar", "rounding_rule",
                                                           "site"), actor, contract_id)
    require(actor, "contracts", "view")
    return contract


def access_addon(actor: Any, addon_id: Any) -> ContractAddOn:
    """One add-on of a visible contract, or NotFound."""
    addon = get_visible(ContractAddOn.objects.select_related("contract", "service"), actor, addon_id)
    require(actor, "contracts", "view")
    return addon


def access_addendum(actor: Any, addendum_id: Any) -> ContractAddendum:
    """One addendum of a visible contract, or NotFound."""
    addendum = get_visible(ContractAddendum.objects.select_related("contract", "new_plan"), actor, addendum_id)
    require(actor, "contracts", "view")
    return addendum


def access_coverage(actor: Any, coverage_id: Any) -> ContractCoverage:
    """One coverage row of a visible contract, or NotFound."""
    row = get_visible(ContractCoverage.objects.select_related("contract", "device", "site", "contact"), actor,
                      coverage_id)
    require(actor, "contracts", "view")
    return row


def projects_visible(actor: Any) -> QuerySet[Project]:
    """Projects the actor may see."""
    require(actor, "contracts", "view")
    return Project.objects.visible_to(actor).select_related("client", "contract")


def access_project(actor: Any, project_id: Any) -> Project:
    """One project, or NotFound."""
    project = get_visible(Project.objects.select_related("client", "contract"), actor, project_id)
    require(actor, "contracts", "view")
    return project


def access_task(actor: Any, task_id: Any) -> ProjectTask:
    """One project task, or NotFound."""
    task = get_visible(ProjectTask.objects.select_related("project"), actor, task_id)
    require(actor, "contracts", "view")
    return task


def access_milestone(actor: Any, milestone_id: Any) -> Milestone:
    """One milestone, or NotFound."""
    milestone = get_visible(Milestone.objects.select_related("project"), actor, milestone_id)
    require(actor, "contracts", "view")
    return milestone


def sla_policies_visible(actor: Any) -> QuerySet[SlaPolicy]:
    """Every SLA policy (MSP-level)."""
    _require_staff(actor)
    return SlaPolicy.objects.visible_to(actor).select_related("calendar")


def access_sla_policy(actor: Any, policy_id: Any) -> SlaPolicy:
    """One SLA policy, or NotFound."""
    policy: SlaPolicy = _msp_get(SlaPolicy, actor, policy_id)
    return policy


def calendars_visible(actor: Any) -> QuerySet[BusinessCalendar]:
    """Every business-hours calendar, with its holiday count."""
    _require_staff(actor)
    return BusinessCalendar.objects.visible_to(actor).annotate(holiday_count=Count("holidays"))


def access_calendar(actor: Any, calendar_id: Any) -> BusinessCalendar:
    """One calendar, or NotFound."""
    calendar: BusinessCalendar = _msp_get(BusinessCalendar, actor, calendar_id)
    return calendar


def rounding_rules_visible(actor: Any) -> QuerySet[RoundingRule]:
    """Every time rounding rule."""
    _require_staff(actor)
    return RoundingRule.objects.visible_to(actor)


def access_rounding_rule(actor: Any, rule_id: Any) -> RoundingRule:
    """One rounding rule, or NotFound."""
    rule: RoundingRule = _msp_get(RoundingRule, actor, rule_id)
    return rule


def can_see_prices(actor: Any) -> bool:
    """Technicians read a contract's scope and SLA, not its prices (roles.md: "R (scope, SLA)")."""
    return has_capability(actor, "contracts", "change") or has_capability(actor, "catalog", "view") or bool(
        getattr(actor, "is_portal", False))


def can_see_costs(actor: Any) -> bool:
    """Tool cost, labour cost and margin are the MSP's own figures: staff with the catalog capability."""
    return has_capability(actor, "catalog", "view") and not getattr(actor, "is_portal", False)


# --- For the service desk ------------------------------------------------------------------------------


ALWAYS_OPEN_HOURS = [[[0, 1440]] for _ in range(7)]


def default_sla_policy() -> SlaPolicy:
    """The SLA policy of tickets without a contract (one is always marked default).

    Migration 0002 creates it with a 24/7 calendar; if it is ever missing (a database emptied without
    its migrations' data, e.g. between transactional tests), the same defaults are made again, so a
    ticket never lacks targets. A concurrent maker loses on the unique default and reads the winner's."""
    policy = SlaPolicy.objects.select_related("calendar").filter(is_default=True).first()
    if policy is not None:
        return policy
    try:
        with transaction.atomic():
            calendar = (BusinessCalendar.objects.filter(name="24/7").first()
                        or BusinessCalendar.objects.create(name="24/7", time_zone="UTC", hours=ALWAYS_OPEN_HOURS))
            SlaPolicy.objects.create(name="Standard", calendar=calendar, is_default=True)
    except IntegrityError:
        pass
    return SlaPolicy.objects.select_related("calendar").get(is_default=True)


def contract_in_force(client_id: int, on: date | None = None, *, with_sla: bool = False) -> Contract | None:
    """The client's contract in force on a day that carries the SLA: the active managed-services contract
    first, then a block-hours, time-and-materials or fixed-price one (the most recently started)."""
    day = on or timezone.localdate()
    queryset = Contract.objects.filter(client_id=client_id, status=ContractStatus.ACTIVE, start_date__lte=day).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=day)).select_related(
        "sla_policy", "sla_policy__calendar", "calendar", "rounding_rule")
    if with_sla:
        queryset = queryset.filter(sla_policy__isnull=False)
    contracts = list(queryset.order_by("-start_date", "-pk"))
    contracts.sort(key=lambda c: c.type != ContractType.MANAGED)
    return contracts[0] if contracts else None


@dataclass(frozen=True)
class SlaTerms:
    """What governs a client's tickets: the SLA policy, the calendar its clock runs on, the rounding rule."""

    policy: SlaPolicy
    calendar: BusinessCalendar
    rounding_rule: RoundingRule | None
    contract: Contract | None


def sla_terms_for_client(client_id: int, on: date | None = None) -> SlaTerms:
    """The SLA policy, calendar and rounding rule for a client's tickets on a day: those of its contract in
    force, each falling back (contract calendar → policy calendar; no contract or no policy → default)."""
    contract = contract_in_force(client_id, on)
    policy = contract.sla_policy if contract is not None and contract.sla_policy is not None else None
    if policy is None:
        policy = default_sla_policy()
    calendar = contract.calendar if contract is not None and contract.calendar is not None else policy.calendar
    return SlaTerms(policy=policy, calendar=calendar, rounding_rule=contract.rounding_rule if contract else None,
                    contract=contract)


@dataclass(frozen=True)
class SlaDeadlines:
    """When a ticket opened at `opened_at` must be answered and resolved, and when to warn first."""

    first_response_due: datetime
    resolution_due: datetime
    first_response_warning_at: datetime
    resolution_warning_at: datetime


def sla_deadlines(policy: SlaPolicy, priority: str, opened_at: datetime,
                  calendar: BusinessCalendar | None = None) -> SlaDeadlines:
    """The due times of a ticket of a priority opened at `opened_at`, in business time on `calendar` (the
    policy's own when None); the warnings come at the policy's threshold share of each target."""
    calendar = calendar or policy.calendar
    first, resolution = policy.targets(priority)
    share = policy.warning_threshold_pct

    def due(minutes: int) -> datetime:
        return add_business_time(calendar, opened_at, minutes * 60)

    def warn(minutes: int) -> datetime:
        return add_business_time(calendar, opened_at, minutes * 60 * share // 100)

    return SlaDeadlines(first_response_due=due(first), resolution_due=due(resolution),
                        first_response_warning_at=warn(first), resolution_warning_at=warn(resolution))


def billable_minutes(rule: RoundingRule | None, actual_minutes: int) -> int:
    """Worked minutes as billed under a rounding rule: rounded up, or to the nearest increment (a half
    increment rounds up), then raised to the minimum per entry. No rule: the minutes as worked; 0 stays 0."""
    if isinstance(actual_minutes, bool) or not isinstance(actual_minutes, int):
        raise TypeError("actual_minutes must be an int")
    if actual_minutes < 0:
        raise ValueError("worked minutes cannot be negative")
    if rule is None or actual_minutes == 0:
        return actual_minutes
    step = rule.increment_minutes
    if rule.mode == RoundingMode.NEAREST:
        rounded = (2 * actual_minutes + step) // (2 * step) * step
    else:
        rounded = -(-actual_minutes // step) * step
    return max(rounded, rule.minimum_minutes)


# --- Coverage and cost ----------------------------------------------------------------------------------


def current_coverage(contract: Contract) -> QuerySet[ContractCoverage]:
    """The rows covered now."""
    return contract.coverage.filter(ended_at__isnull=True).select_related("device", "site", "contact")


def unit_counts(contract: Contract) -> UnitCounts:
    """The contract's units now, from its covered rows: workstations (laptops included), servers, network
    devices, mobiles, users, sites."""
    counts = {"workstations": 0, "servers": 0, "network_devices": 0, "mobiles": 0, "users": 0, "sites": 0}
    field_of: dict[str, str] = {UnitKind.WORKSTATION: "workstations", UnitKind.SERVER: "servers",
                UnitKind.NETWORK_DEVICE: "network_devices", UnitKind.MOBILE: "mobiles"}
    rows = (contract.coverage.filter(ended_at__isnull=True).values("kind", "device__kind")
            .annotate(n=Count("pk")).order_by())
    for row in rows:
        if row["kind"] == CoverageKind.SITE:
            counts["sites"] += row["n"]
        elif row["kind"] == CoverageKind.USER:
            counts["users"] += row["n"]
        else:
            unit = UNIT_OF_DEVICE_KIND.get(row["device__kind"])
            if unit is not None:
                counts[field_of[unit]] += row["n"]
    return UnitCounts(**counts)


def coverage_groups(contract: Contract) -> list[dict[str, Any]]:
    """The covered rows grouped by pricing unit, each group with its count and the records behind it."""
    labels = dict(UnitKind.choices)
    groups: dict[str, list[ContractCoverage]] = {}
    for row in current_coverage(contract).order_by("kind", "device__name", "site__name", "contact__last_name"):
        if row.kind == CoverageKind.DEVICE and row.device is not None:
            unit = str(UNIT_OF_DEVICE_KIND.get(row.device.kind, ""))
        else:
            unit = UnitKind.SITE if row.kind == CoverageKind.SITE else UnitKind.USER
        if unit:
            groups.setdefault(unit, []).append(row)
    order = [UnitKind.WORKSTATION, UnitKind.SERVER, UnitKind.NETWORK_DEVICE, UnitKind.MOBILE, UnitKind.USER,
             UnitKind.SITE]
    return [{"unit": unit, "label": labels[unit], "count": len(groups[unit]), "rows": groups[unit]}
            for unit in order if unit in groups]


def contract_lines(contract: Contract, counts: UnitCounts | None = None) -> list[Line]:
    """The monthly lines of a managed-services contract at the live counts: the plan's items, then the
    add-ons (per unit at the counts, or at their fixed quantity; one the plan includes is not charged
    twice)."""
    counts = counts if counts is not None else unit_counts(contract)
    addons = list(contract.addons.select_related("service").order_by("service__name", "pk"))
    per_unit = [(a.service, a.unit_price) for a in addons if a.per_unit]
    lines = plan_lines(contract.plan, counts, per_unit) if contract.plan is not None else [
        line_for(service, counts, service.list_price if price is None else price, is_addon=True)
        for service, price in per_unit]
    charged = {line.service_id for line in lines}
    for addon in addons:
        if addon.per_unit or addon.service_id in charged:
            continue
        charged.add(addon.service_id)
        line = line_for(addon.service, counts, addon.service.list_price if addon.unit_price is None
                        else addon.unit_price, is_addon=True)
        lines.append(replace(line, quantity=addon.quantity))
    return lines


@dataclass(frozen=True)
class ContractFigures:
    """A contract's monthly figures at the live counts."""

    counts: UnitCounts
    lines: list[Line]
    model: CostModel
    loaded_hourly_cost: Decimal
    minimum_applies: bool


def contract_figures(contract: Contract) -> ContractFigures:
    """Monthly revenue, tool cost, labour cost and margin from the catalog's cost model at the live unit
    counts (managed services); the minimum monthly commitment is flagged when revenue falls below it."""
    counts = unit_counts(contract)
    lines = contract_lines(contract, counts) if contract.is_managed else []
    hourly = organization().loaded_labour_cost
    model = cost_model(lines, hourly)
    return ContractFigures(counts=counts, lines=lines, model=model, loaded_hourly_cost=hourly,
                           minimum_applies=model.revenue < contract.minimum_monthly_commitment)


def overlapping_contracts(client_id: int, contract_type: str, start: date, end: date | None, site_id: int | None,
                          exclude_pk: int | None = None) -> QuerySet[Contract]:
    """Draft or active contracts of the same client and type whose dates and scope meet these (a
    client-wide contract meets every site's)."""
    queryset = Contract.objects.filter(client_id=client_id, type=contract_type,
                                       status__in=[ContractStatus.DRAFT, ContractStatus.ACTIVE])
    queryset = queryset.filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
    if end is not None:
        queryset = queryset.filter(start_date__lte=end)
    if site_id is not None:
        queryset = queryset.filter(Q(site__isnull=True) | Q(site_id=site_id))
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    return queryset


def client_contract_summary(client_id: int) -> list[Contract]:
    """A client's contracts for its page, in force first."""
    order = {ContractStatus.ACTIVE: 0, ContractStatus.DRAFT: 1, ContractStatus.ENDED: 2, ContractStatus.CANCELLED: 3}
    contracts = list(Contract.objects.filter(client_id=client_id).select_related("plan"))
    return sorted(contracts, key=lambda c: (order.get(ContractStatus(c.status), 9), -c.start_date.toordinal()))


def project_totals(project: Project) -> dict[str, Any]:
    """A project's task progress, estimated hours and milestone amounts by status."""
    tasks = project.tasks.aggregate(total=Count("pk"), done=Count("pk", filter=Q(done=True)))
    estimate = sum((t.estimate_hours for t in project.tasks.all()), Decimal(0))
    amounts: dict[str, Decimal] = {}
    for milestone in project.milestones.all():
        amounts[milestone.status] = amounts.get(milestone.status, Decimal(0)) + milestone.amount
    return {"tasks": tasks["total"], "done": tasks["done"], "estimate_hours": estimate, "milestones": amounts,
            "milestone_total": sum(amounts.values(), Decimal(0))}


def notice_deadline(contract: Contract) -> date | None:
    """The last day to give notice before the contract's end (None for a contract without an end date)."""
    if contract.end_date is None:
        return None
    return contract.end_date - timedelta(days=contract.notice_period_days)
