"""Isolation cases of the contracts pages and API (see tenfold/core/isolation.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tenfold.catalog.models import Offering, Plan, PlanItem, Service
from tenfold.clients.models import Contact
from tenfold.clients.tests.isolation_cases import contact_a
from tenfold.contracts.models import (
    AddendumAddOn,
    BusinessCalendar,
    Contract,
    ContractAddendum,
    ContractAddOn,
    ContractCoverage,
    CoverageKind,
    Holiday,
    Milestone,
    Project,
    ProjectTask,
    RoundingRule,
    SlaPolicy,
)
from tenfold.core.isolation import Case, World, register

MODELS = (Contract, ContractAddOn, ContractAddendum, AddendumAddOn, ContractCoverage, Project, ProjectTask,
          Milestone)
MSP_MODELS = (SlaPolicy, BusinessCalendar, Holiday, RoundingRule)
CONTRACT_A_TITLE = "ISO-CONTRACT-A-7731"
PROJECT_A_NAME = "ISO-PROJECT-A-4410"


def catalog(world: World) -> dict[str, Any]:
    if "catalog" not in world.extra:
        offering = Offering.objects.create(name="Isolation managed workplace")
        plan = Plan.objects.create(offering=offering, tier="good", name="Isolation Good")
        service = Service.objects.create(name="Isolation monitoring", code="iso-mon", unit="workstation",
                                         list_price=Decimal("10.00"))
        PlanItem.objects.create(plan=plan, service=service, unit_price=Decimal("10.00"))
        addons = [Service.objects.create(name=f"Isolation add-on {n}", code=f"iso-addon-{n}", unit="workstation",
                                         list_price=Decimal("3.00"), is_addon=True) for n in (1, 2)]
        world.extra["catalog"] = {"plan": plan, "addons": addons}
    return world.extra["catalog"]


def contract_a(world: World) -> Contract:
    """A draft managed-services contract of client A with one add-on, a covered user and an addendum."""
    if "contract_a" not in world.extra:
        parts = catalog(world)
        contract = Contract.objects.create(client=world.client_a, number="C-ISO-0001", title=CONTRACT_A_TITLE,
                                           type="managed", start_date=date(2026, 1, 1), plan=parts["plan"])
        world.extra["addon_a"] = ContractAddOn.objects.create(client=world.client_a, contract=contract,
                                                              service=parts["addons"][0])
        world.extra["coverage_a"] = ContractCoverage.objects.create(
            client=world.client_a, contract=contract, kind=CoverageKind.USER, contact=contact_a(world),
            automatic=False, started_at=timezone.now())
        world.extra["addendum_a"] = ContractAddendum.objects.create(
            client=world.client_a, contract=contract, effective_date=date(2030, 1, 1), description="Later change")
        world.extra["contract_a"] = contract
    return world.extra["contract_a"]


def active_contract_a(world: World) -> Contract:
    """A signed time-and-materials contract of client A."""
    if "active_a" not in world.extra:
        world.extra["active_a"] = Contract.objects.create(
            client=world.client_a, number="C-ISO-0002", title="Active", type="time_materials", status="active",
            start_date=date(2026, 1, 1))
    return world.extra["active_a"]


def project_a(world: World) -> Project:
    if "project_a" not in world.extra:
        project = Project.objects.create(client=world.client_a, name=PROJECT_A_NAME, billing="fixed",
                                         fixed_price=Decimal("3000.00"), budgeted_hours=Decimal("20"))
        world.extra["task_a"] = ProjectTask.objects.create(client=world.client_a, project=project, title="Inventory")
        world.extra["milestone_a"] = Milestone.objects.create(client=world.client_a, project=project, name="Kick-off",
                                                              amount=Decimal("1000.00"))
        world.extra["project_a"] = project
    return world.extra["project_a"]


def msp(world: World) -> dict[str, Any]:
    if "msp" not in world.extra:
        calendar = BusinessCalendar.objects.create(name="Isolation hours", time_zone="Europe/Paris",
                                                   hours=[[[540, 1020]]] * 5 + [[], []])
        Holiday.objects.create(calendar=calendar, date=date(2026, 5, 1), name="Labour Day")
        spare = BusinessCalendar.objects.create(name="Isolation spare", hours=[[[0, 1440]]] * 7)
        policy = SlaPolicy.objects.create(name="Isolation SLA", calendar=calendar)
        rule = RoundingRule.objects.create(name="Isolation quarter", increment_minutes=15, minimum_minutes=15)
        world.extra["msp"] = {"calendar": calendar, "spare": spare, "policy": policy, "rule": rule}
    return world.extra["msp"]


def new_contact(world: World) -> Contact:
    return Contact.objects.create(client=world.client_a, first_name="Cover", last_name="Me")


def contract_params(world: World) -> dict[str, Any]:
    return {"contract_id": contract_a(world).pk}


def active_params(world: World) -> dict[str, Any]:
    return {"contract_id": active_contract_a(world).pk}


def addon_params(world: World) -> dict[str, Any]:
    contract_a(world)
    return {"addon_id": world.extra["addon_a"].pk}


def coverage_params(world: World) -> dict[str, Any]:
    contract_a(world)
    return {"coverage_id": world.extra["coverage_a"].pk}


def addendum_params(world: World) -> dict[str, Any]:
    contract_a(world)
    return {"addendum_id": world.extra["addendum_a"].pk}


def client_params(world: World) -> dict[str, Any]:
    contract_a(world)
    return {"client_id": world.client_a.pk}


def project_params(world: World) -> dict[str, Any]:
    return {"project_id": project_a(world).pk}


def task_params(world: World) -> dict[str, Any]:
    project_a(world)
    return {"task_id": world.extra["task_a"].pk}


def milestone_params(world: World) -> dict[str, Any]:
    project_a(world)
    return {"milestone_id": world.extra["milestone_a"].pk}


def policy_params(world: World) -> dict[str, Any]:
    return {"policy_id": msp(world)["policy"].pk}


def calendar_params(world: World) -> dict[str, Any]:
    return {"calendar_id": msp(world)["spare"].pk}


def rule_params(world: World) -> dict[str, Any]:
    return {"rule_id": msp(world)["rule"].pk}


def _built(builder: Any) -> Any:
    # The route has no id in its URL; the records are built here, before the "nothing changed" snapshot.
    def params(world: World) -> dict[str, Any]:
        builder(world)
        return {}
    return params


def leak_contract(world: World) -> str:
    contract_a(world)
    return CONTRACT_A_TITLE


def leak_project(world: World) -> str:
    project_a(world)
    return PROJECT_A_NAME


CONTRACT_FORM = {"number": "", "title": "Changed by isolation", "type": "managed", "site": "",
                 "start_date": "2026-01-01", "end_date": "", "renewal_term_months": "12", "notice_period_days": "90",
                 "minimum_monthly_commitment": "0", "sla_policy": "", "calendar": "", "rounding_rule": "",
                 "out_of_scope_rate": "", "hours_purchased": "", "alert_thresholds": "", "unused_hours": "expire",
                 "overage_rate": "", "fixed_price_amount": "", "indexation": "none", "indexation_percent": "",
                 "index_base_value": "", "index_current_value": "", "notes": ""}


def contract_edit_body(world: World) -> dict[str, Any]:
    return {**CONTRACT_FORM, "number": "C-ISO-0001", "plan": catalog(world)["plan"].pk}


def contract_create_body(world: World) -> dict[str, Any]:
    return {**CONTRACT_FORM, "client": world.client_a.pk, "type": "time_materials", "plan": "",
            "title": "Created by isolation", "start_date": "2031-01-01"}


def addon_body(world: World) -> dict[str, Any]:
    return {"service": catalog(world)["addons"][1].pk, "per_unit": "on", "quantity": "1", "unit_price": "2.50"}


def addendum_body(world: World) -> dict[str, Any]:
    return {"effective_date": "2031-06-01", "description": "Isolation addendum", "new_plan": "",
            "new_minimum_monthly_commitment": "", "new_out_of_scope_rate": "", "new_overage_rate": "",
            "new_hours_purchased": "", "new_end_date": "", "addons-TOTAL_FORMS": "0",
            "addons-INITIAL_FORMS": "0", "addons-MIN_NUM_FORMS": "0", "addons-MAX_NUM_FORMS": "20"}


def project_form(world: World) -> dict[str, Any]:
    return {"name": "Isolation project", "kind": "onboarding", "contract": "", "billing": "hourly",
            "budgeted_hours": "5", "fixed_price": "", "hourly_rate": "80", "status": "planned", "start_date": "",
            "due_date": "", "description": ""}


def sla_form(world: World) -> dict[str, Any]:
    return {"name": "Isolation SLA changed", "calendar": msp(world)["calendar"].pk, "warning_threshold_pct": "80",
            **{f"{p}_{t}_minutes": str(m) for p, (a, b) in {"p1": (30, 240), "p2": (60, 480), "p3": (240, 1440),
                                                             "p4": (480, 2400)}.items()
               for t, m in (("first_response", a), ("resolution", b))}}


def calendar_form(world: World) -> dict[str, Any]:
    msp(world)
    return {"name": "Isolation calendar form", "time_zone": "Europe/Paris", "monday": "08:30-12:30, 13:30-18:00",
            "tuesday": "09:00-17:00", "wednesday": "", "thursday": "", "friday": "", "saturday": "", "sunday": "",
            "holidays": "2026-12-25 Christmas"}


def rounding_form(world: World) -> dict[str, Any]:
    msp(world)
    return {"name": "Isolation rounding form", "increment_minutes": "6", "mode": "nearest", "minimum_minutes": "0"}


def api_contract_body(world: World) -> dict[str, Any]:
    return {"client_id": world.client_a.pk, "type": "time_materials", "start_date": "2031-01-01",
            "title": "API isolation"}


def api_project_body(world: World) -> dict[str, Any]:
    return {"client_id": world.client_a.pk, "name": "API project", "billing": "hourly", "hourly_rate": "90.00"}


def api_calendar_body(world: World) -> dict[str, Any]:
    msp(world)
    return {"name": "API calendar", "time_zone": "Europe/Paris", "hours": {"monday": ["09:00-17:00"]},
            "holidays": [{"date": "2026-07-14", "name": "Fête nationale"}]}


A = "api:{} /api/v1/{}"
UI_STAFF = {"staff_only": True}

register(
    # Contracts
    Case("ui:contracts:contract_list", "list", "contracts", leak=leak_contract),
    Case("ui:contracts:contract_create", "create", "contracts", "add", method="POST", body=contract_create_body,
         params=_built(contract_a), models=MODELS, **UI_STAFF),
    Case("ui:contracts:contract_detail", "object", "contracts", params=contract_params),
    Case("ui:contracts:contract_edit", "object", "contracts", "change", method="POST", params=contract_params,
         body=contract_edit_body, models=MODELS, **UI_STAFF),
    Case("ui:contracts:contract_delete", "object", "contracts", "delete", method="POST", params=contract_params,
         models=MODELS, **UI_STAFF),
    Case("ui:contracts:contract_sign", "object", "contracts", "change", method="POST", params=contract_params,
         models=MODELS, **UI_STAFF),
    Case("ui:contracts:contract_end", "object", "contracts", "change", method="POST", params=active_params,
         body=lambda w: {"end_date": "2026-06-30"}, models=MODELS, **UI_STAFF),
    Case("ui:contracts:contract_cancel", "object", "contracts", "change", method="POST", params=contract_params,
         models=MODELS, **UI_STAFF),
    Case("ui:contracts:addon_create", "object", "contracts", "change", method="POST", params=contract_params,
         body=addon_body, models=MODELS, **UI_STAFF),
    Case("ui:contracts:addon_edit", "object", "contracts", "change", method="POST", params=addon_params,
         body=lambda w: {**addon_body(w), "service": catalog(w)["addons"][0].pk}, models=MODELS, **UI_STAFF),
    Case("ui:contracts:addon_delete", "object", "contracts", "change", method="POST", params=addon_params,
         models=MODELS, **UI_STAFF),
    Case("ui:contracts:coverage_add", "object", "contracts", "change", method="POST", params=contract_params,
         body=lambda w: {"contact": new_contact(w).pk}, models=MODELS, **UI_STAFF),
    Case("ui:contracts:coverage_end", "object", "contracts", "change", method="POST", params=coverage_params,
         models=MODELS, **UI_STAFF),
    Case("ui:contracts:addendum_create", "object", "contracts", "change", method="POST", params=contract_params,
         body=addendum_body, models=MODELS, **UI_STAFF),
    Case("ui:contracts:addendum_edit", "object", "contracts", "change", method="POST", params=addendum_params,
         body=addendum_body, models=MODELS, **UI_STAFF),
    Case("ui:contracts:addendum_cancel", "object", "contracts", "change", method="POST", params=addendum_params,
         models=MODELS, **UI_STAFF),
    Case("ui:contracts:client_contracts_panel", "object", "contracts", params=client_params, **UI_STAFF),
    # SLA policies, calendars, rounding rules (MSP-level)
    Case("ui:contracts:sla_settings", "list", "contracts", params=_built(msp), client_owned=False, **UI_STAFF),
    Case("ui:contracts:sla_create", "create", "contracts", "add", method="POST", body=sla_form,
         params=_built(msp), models=MSP_MODELS, client_owned=False, **UI_STAFF),
    Case("ui:contracts:sla_edit", "object", "contracts", "change", method="POST", params=policy_params,
         body=sla_form, models=MSP_MODELS, client_owned=False, **UI_STAFF),
    Case("ui:contracts:sla_delete", "object", "contracts", "delete", method="POST", params=policy_params,
         models=MSP_MODELS, client_owned=False, **UI_STAFF),
    Case("ui:contracts:calendar_create", "create", "contracts", "add", method="POST", body=calendar_form,
         params=_built(msp), models=MSP_MODELS, client_owned=False, **UI_STAFF),
    Case("ui:contracts:calendar_edit", "object", "contracts", "change", method="POST", params=calendar_params,
         body=calendar_form, models=MSP_MODELS, client_owned=False, **UI_STAFF),
    Case("ui:contracts:calendar_delete", "object", "contracts", "delete", method="POST", params=calendar_params,
         models=MSP_MODELS, client_owned=False, **UI_STAFF),
    Case("ui:contracts:rounding_create", "create", "contracts", "add", method="POST", body=rounding_form,
         params=_built(msp), models=MSP_MODELS, client_owned=False, **UI_STAFF),
    Case("ui:contracts:rounding_edit", "object", "contracts", "change", method="POST", params=rule_params,
         body=rounding_form, models=MSP_MODELS, client_owned=False, **UI_STAFF),
    Case("ui:contracts:rounding_delete", "object", "contracts", "delete", method="POST", params=rule_params,
         models=MSP_MODELS, client_owned=False, **UI_STAFF),
    # Projects
    Case("ui:contracts:project_list", "list", "contracts", leak=leak_project, **UI_STAFF),
    Case("ui:contracts:project_create", "create", "contracts", "add", method="POST",
         body=lambda w: {**project_form(w), "client": w.client_a.pk}, params=_built(project_a), models=MODELS,
         **UI_STAFF),
    Case("ui:contracts:project_detail", "object", "contracts", params=project_params, **UI_STAFF),
    Case("ui:contracts:project_edit", "object", "contracts", "change", method="POST", params=project_params,
         body=project_form, models=MODELS, **UI_STAFF),
    Case("ui:contracts:project_delete", "object", "contracts", "delete", method="POST", params=project_params,
         models=MODELS, **UI_STAFF),
    Case("ui:contracts:task_create", "object", "contracts", "change", method="POST", params=project_params,
         body=lambda w: {"title": "New task", "estimate_hours": "2"}, models=MODELS, **UI_STAFF),
    Case("ui:contracts:task_edit", "object", "contracts", "change", method="POST", params=task_params,
         body=lambda w: {"title": "Changed task", "estimate_hours": "3", "done": "on"}, models=MODELS, **UI_STAFF),
    Case("ui:contracts:task_delete", "object", "contracts", "change", method="POST", params=task_params,
         models=MODELS, **UI_STAFF),
    Case("ui:contracts:milestone_create", "object", "contracts", "change", method="POST", params=project_params,
         body=lambda w: {"name": "Go-live", "amount": "500", "due_date": "", "status": "planned"}, models=MODELS,
         **UI_STAFF),
    Case("ui:contracts:milestone_edit", "object", "contracts", "change", method="POST", params=milestone_params,
         body=lambda w: {"name": "Kick-off", "amount": "900", "due_date": "", "status": "reached"}, models=MODELS,
         **UI_STAFF),
    Case("ui:contracts:milestone_delete", "object", "contracts", "change", method="POST", params=milestone_params,
         models=MODELS, **UI_STAFF),
    # API: contracts
    Case(A.format("GET", "contracts"), "list", "contracts", leak=leak_contract),
    Case(A.format("POST", "contracts"), "create", "contracts", "add", method="POST", body=api_contract_body,
         params=_built(contract_a), models=MODELS),
    Case(A.format("GET", "contracts/{contract_id}"), "object", "contracts", params=contract_params),
    Case(A.format("PATCH", "contracts/{contract_id}"), "object", "contracts", "change", method="PATCH",
         params=contract_params, body=lambda w: {"title": "Patched"}, models=MODELS),
    Case(A.format("DELETE", "contracts/{contract_id}"), "object", "contracts", "delete", method="DELETE",
         params=contract_params, models=MODELS),
    Case(A.format("POST", "contracts/{contract_id}/sign"), "object", "contracts", "change", method="POST",
         params=contract_params, models=MODELS),
    Case(A.format("POST", "contracts/{contract_id}/end"), "object", "contracts", "change", method="POST",
         params=active_params, body=lambda w: {"end_date": "2026-06-30"}, models=MODELS),
    Case(A.format("POST", "contracts/{contract_id}/cancel"), "object", "contracts", "change", method="POST",
         params=contract_params, models=MODELS),
    Case(A.format("GET", "contracts/{contract_id}/cost"), "object", "catalog", params=contract_params),
    Case(A.format("GET", "contracts/{contract_id}/coverage"), "object", "contracts", params=contract_params),
    Case(A.format("POST", "contracts/{contract_id}/coverage/users"), "object", "contracts", "change",
         method="POST", params=contract_params, body=lambda w: {"contact_id": new_contact(w).pk}, models=MODELS),
    Case(A.format("GET", "contracts/{contract_id}/addons"), "object", "contracts", params=contract_params),
    Case(A.format("POST", "contracts/{contract_id}/addons"), "object", "contracts", "change", method="POST",
         params=contract_params, body=lambda w: {"service_id": catalog(w)["addons"][1].pk}, models=MODELS),
    Case(A.format("GET", "contracts/{contract_id}/addenda"), "object", "contracts", params=contract_params),
    Case(A.format("POST", "contracts/{contract_id}/addenda"), "object", "contracts", "change", method="POST",
         params=contract_params, body=lambda w: {"effective_date": "2031-01-01"}, models=MODELS),
    Case(A.format("PATCH", "contract-addons/{addon_id}"), "object", "contracts", "change", method="PATCH",
         params=addon_params, body=lambda w: {"quantity": "2"}, models=MODELS),
    Case(A.format("DELETE", "contract-addons/{addon_id}"), "object", "contracts", "change", method="DELETE",
         params=addon_params, models=MODELS),
    Case(A.format("DELETE", "contract-coverage/{coverage_id}"), "object", "contracts", "change", method="DELETE",
         params=coverage_params, models=MODELS),
    Case(A.format("GET", "contract-addenda/{addendum_id}"), "object", "contracts", params=addendum_params),
    Case(A.format("PATCH", "contract-addenda/{addendum_id}"), "object", "contracts", "change", method="PATCH",
         params=addendum_params, body=lambda w: {"description": "Patched"}, models=MODELS),
    Case(A.format("POST", "contract-addenda/{addendum_id}/cancel"), "object", "contracts", "change",
         method="POST", params=addendum_params, models=MODELS),
    # API: MSP-level
    Case(A.format("GET", "sla-policies"), "list", "contracts", params=_built(msp), client_owned=False, **UI_STAFF),
    Case(A.format("POST", "sla-policies"), "create", "contracts", "add", method="POST",
         body=lambda w: {"name": "API SLA", "calendar_id": msp(w)["calendar"].pk}, params=_built(msp),
         models=MSP_MODELS, client_owned=False, **UI_STAFF),
    Case(A.format("GET", "sla-policies/{policy_id}"), "object", "contracts", params=policy_params,
         client_owned=False, **UI_STAFF),
    Case(A.format("PATCH", "sla-policies/{policy_id}"), "object", "contracts", "change", method="PATCH",
         params=policy_params, body=lambda w: {"p1_first_response_minutes": 20}, models=MSP_MODELS,
         client_owned=False, **UI_STAFF),
    Case(A.format("DELETE", "sla-policies/{policy_id}"), "object", "contracts", "delete", method="DELETE",
         params=policy_params, models=MSP_MODELS, client_owned=False, **UI_STAFF),
    Case(A.format("GET", "business-calendars"), "list", "contracts", params=_built(msp), client_owned=False,
         **UI_STAFF),
    Case(A.format("POST", "business-calendars"), "create", "contracts", "add", method="POST",
         body=api_calendar_body, params=_built(msp), models=MSP_MODELS, client_owned=False, **UI_STAFF),
    Case(A.format("GET", "business-calendars/{calendar_id}"), "object", "contracts", params=calendar_params,
         client_owned=False, **UI_STAFF),
    Case(A.format("PATCH", "business-calendars/{calendar_id}"), "object", "contracts", "change", method="PATCH",
         params=calendar_params, body=lambda w: {"holidays": [{"date": "2026-11-11"}]}, models=MSP_MODELS,
         client_owned=False, **UI_STAFF),
    Case(A.format("DELETE", "business-calendars/{calendar_id}"), "object", "contracts", "delete",
         method="DELETE", params=calendar_params, models=MSP_MODELS, client_owned=False, **UI_STAFF),
    Case(A.format("GET", "rounding-rules"), "list", "contracts", params=_built(msp), client_owned=False,
         **UI_STAFF),
    Case(A.format("POST", "rounding-rules"), "create", "contracts", "add", method="POST",
         body=lambda w: {"name": "API rounding", "increment_minutes": 10}, params=_built(msp), models=MSP_MODELS,
         client_owned=False, **UI_STAFF),
    Case(A.format("GET", "rounding-rules/{rule_id}"), "object", "contracts", params=rule_params,
         client_owned=False, **UI_STAFF),
    Case(A.format("PATCH", "rounding-rules/{rule_id}"), "object", "contracts", "change", method="PATCH",
         params=rule_params, body=lambda w: {"minimum_minutes": 30}, models=MSP_MODELS, client_owned=False,
         **UI_STAFF),
    Case(A.format("DELETE", "rounding-rules/{rule_id}"), "object", "contracts", "delete", method="DELETE",
         params=rule_params, models=MSP_MODELS, client_owned=False, **UI_STAFF),
    # API: projects
    Case(A.format("GET", "projects"), "list", "contracts", leak=leak_project),
    Case(A.format("POST", "projects"), "create", "contracts", "add", method="POST", body=api_project_body,
         params=_built(project_a), models=MODELS),
    Case(A.format("GET", "projects/{project_id}"), "object", "contracts", params=project_params),
    Case(A.format("PATCH", "projects/{project_id}"), "object", "contracts", "change", method="PATCH",
         params=project_params, body=lambda w: {"status": "in_progress"}, models=MODELS),
    Case(A.format("DELETE", "projects/{project_id}"), "object", "contracts", "delete", method="DELETE",
         params=project_params, models=MODELS),
    Case(A.format("GET", "projects/{project_id}/tasks"), "object", "contracts", params=project_params),
    Case(A.format("POST", "projects/{project_id}/tasks"), "object", "contracts", "change", method="POST",
         params=project_params, body=lambda w: {"title": "API task"}, models=MODELS),
    Case(A.format("GET", "projects/{project_id}/milestones"), "object", "contracts", params=project_params),
    Case(A.format("POST", "projects/{project_id}/milestones"), "object", "contracts", "change", method="POST",
         params=project_params, body=lambda w: {"name": "API milestone", "amount": "100.00"}, models=MODELS),
    Case(A.format("PATCH", "project-tasks/{task_id}"), "object", "contracts", "change", method="PATCH",
         params=task_params, body=lambda w: {"done": True}, models=MODELS),
    Case(A.format("DELETE", "project-tasks/{task_id}"), "object", "contracts", "change", method="DELETE",
         params=task_params, models=MODELS),
    Case(A.format("PATCH", "milestones/{milestone_id}"), "object", "contracts", "change", method="PATCH",
         params=milestone_params, body=lambda w: {"status": "reached"}, models=MODELS),
    Case(A.format("DELETE", "milestones/{milestone_id}"), "object", "contracts", "change", method="DELETE",
         params=milestone_params, models=MODELS),
)
