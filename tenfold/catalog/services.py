"""Writes of the catalog: validate, write, audit, emit — in one transaction.

Only roles with write access to the `catalog` capability change it (owner, admin). A change to what a
plan contains or charges emits `plan.changed`, so that contracts and quotes built on the plan can
react."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext_lazy as _

from tenfold.catalog.models import Offering, Plan, PlanItem, Service
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, ValidationError
from tenfold.core.roles import require
from tenfold.core.tiers import Tier
from tenfold.core.writes import apply_fields, clean_or_raise, save_or_unique_error

SERVICE_FIELDS = ("name", "code", "category", "description", "unit", "list_price", "unit_cost", "labour_minutes",
                  "includes_monitoring", "includes_antivirus", "includes_patching", "includes_backup", "is_addon",
                  "active")
OFFERING_FIELDS = ("name", "description", "active")
PLAN_FIELDS = ("tier", "name", "description", "active")


def _save(obj: Any, *, unique_message: Any, unique_field: str) -> None:
    clean_or_raise(obj)
    save_or_unique_error(obj, unique_message=unique_message, unique_field=unique_field)


def _plan_changed(plan: Plan, reason: str) -> None:
    events.emit("plan.changed", payload={"plan_id": plan.pk, "offering_id": plan.offering_id, "tier": plan.tier,
                                         "reason": reason})


def _delete_or_conflict(obj: Any, message: Any) -> None:
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as exc:
        raise Conflict(message) from exc


SERVICE_CODE_TAKEN = _("A service with this code already exists.")


@transaction.atomic
def service_create(*, actor: Any, data: dict[str, Any]) -> Service:
    """Add a service to the catalog."""
    require(actor, "catalog", "add")
    service = Service()
    apply_fields(service, SERVICE_FIELDS, data)
    service.code = (service.code or "").lower()
    _save(service, unique_message=SERVICE_CODE_TAKEN, unique_field="code")
    audit.record(actor, "service.created", service, changes=audit.snapshot(service, list(SERVICE_FIELDS)))
    return service


@transaction.atomic
def service_update(*, actor: Any, service: Service, data: dict[str, Any]) -> Service:
    """Change a service; plan items keep their own unit prices."""
    require(actor, "catalog", "change")
    before = audit.snapshot(service)
    apply_fields(service, SERVICE_FIELDS, data)
    service.code = (service.code or "").lower()
    _save(service, unique_message=SERVICE_CODE_TAKEN, unique_field="code")
    changes = audit.diff(before, audit.snapshot(service))
    if changes:
        audit.record(actor, "service.updated", service, changes=changes)
    return service


@transaction.atomic
def service_delete(*, actor: Any, service: Service) -> None:
    """Remove a service that no plan includes (otherwise deactivate it)."""
    require(actor, "catalog", "delete")
    snapshot, service_id = audit.snapshot(service), service.pk
    _delete_or_conflict(service, _("This service is part of a plan: remove it from its plans or deactivate it."))
    audit.record(actor, "service.deleted", object_type="catalog.service", object_id=str(service_id),
                 changes=snapshot)


@transaction.atomic
def offering_create(*, actor: Any, data: dict[str, Any]) -> Offering:
    """Add an offering (a family of Good / Better / Best plans)."""
    require(actor, "catalog", "add")
    offering = Offering()
    apply_fields(offering, OFFERING_FIELDS, data)
    _save(offering, unique_message=_("An offering with this name already exists."), unique_field="name")
    audit.record(actor, "offering.created", offering, changes=audit.snapshot(offering, list(OFFERING_FIELDS)))
    return offering


@transaction.atomic
def offering_update(*, actor: Any, offering: Offering, data: dict[str, Any]) -> Offering:
    """Change an offering's name, description or status."""
    require(actor, "catalog", "change")
    before = audit.snapshot(offering)
    apply_fields(offering, OFFERING_FIELDS, data)
    _save(offering, unique_message=_("An offering with this name already exists."), unique_field="name")
    changes = audit.diff(before, audit.snapshot(offering))
    if changes:
        audit.record(actor, "offering.updated", offering, changes=changes)
    return offering


@transaction.atomic
def offering_delete(*, actor: Any, offering: Offering) -> None:
    """Delete an offering with its plans (refused while something else still uses a plan)."""
    require(actor, "catalog", "delete")
    snapshot, offering_id = audit.snapshot(offering), offering.pk
    _delete_or_conflict(offering, _("A plan of this offering is in use: deactivate the offering instead."))
    audit.record(actor, "offering.deleted", object_type="catalog.offering", object_id=str(offering_id),
                 changes=snapshot)


@transaction.atomic
def plan_create(*, actor: Any, offering: Offering, data: dict[str, Any]) -> Plan:
    """Add the plan of one tier to an offering."""
    require(actor, "catalog", "add")
    plan = Plan(offering=offering)
    apply_fields(plan, PLAN_FIELDS, data)
    if not plan.name and plan.tier in Tier.values:
        plan.name = f"{offering.name} {Tier(plan.tier).label}"
    _save(plan, unique_message=_("This offering already has a plan for this tier."), unique_field="tier")
    audit.record(actor, "plan.created", plan, changes=audit.snapshot(plan, ["offering", *PLAN_FIELDS]))
    _plan_changed(plan, "created")
    return plan


@transaction.atomic
def plan_update(*, actor: Any, plan: Plan, data: dict[str, Any]) -> Plan:
    """Change a plan's name, description, tier or status."""
    require(actor, "catalog", "change")
    before = audit.snapshot(plan)
    apply_fields(plan, PLAN_FIELDS, data)
    _save(plan, unique_message=_("This offering already has a plan for this tier."), unique_field="tier")
    changes = audit.diff(before, audit.snapshot(plan))
    if changes:
        audit.record(actor, "plan.updated", plan, changes=changes)
        _plan_changed(plan, "updated")
    return plan


@transaction.atomic
def plan_delete(*, actor: Any, plan: Plan) -> None:
    """Delete a plan and its items (refused while something else still uses it)."""
    require(actor, "catalog", "delete")
    snapshot, plan_id = audit.snapshot(plan), plan.pk
    payload = {"plan_id": plan_id, "offering_id": plan.offering_id, "tier": plan.tier, "reason": "deleted"}
    _delete_or_conflict(plan, _("This plan is in use: deactivate it instead."))
    audit.record(actor, "plan.deleted", object_type="catalog.plan", object_id=str(plan_id), changes=snapshot)
    events.emit("plan.changed", payload=payload)


def _check_price(value: Any, field: str = "unit_price") -> Decimal:
    try:
        price = Decimal(str(value))
    except ArithmeticError:
        raise ValidationError(_("Enter a price such as 25.00."), field=field) from None
    if not price.is_finite():
        raise ValidationError(_("Enter a price such as 25.00."), field=field)
    if price < 0:
        raise ValidationError(_("The unit price cannot be negative."), field=field)
    return price


@transaction.atomic
def plan_item_add(*, actor: Any, plan: Plan, service: Service, unit_price: Decimal | None = None) -> PlanItem:
    """Include an active service in a plan, at its list price unless a unit price is given."""
    require(actor, "catalog", "change")
    if not service.active:
        raise ValidationError(_("“%(name)s” is inactive: activate it before adding it to a plan.")
                              % {"name": service.name}, field="service")
    price = service.list_price if unit_price is None else _check_price(unit_price)
    item = PlanItem(plan=plan, service=service, unit_price=price)
    _save(item, unique_message=_("This plan already includes this service."), unique_field="service")
    audit.record(actor, "plan_item.created", item, changes={"plan_id": plan.pk, "service_id": service.pk,
                                                            "unit_price": str(item.unit_price)})
    _plan_changed(plan, "item_added")
    return item


@transaction.atomic
def plan_item_update(*, actor: Any, item: PlanItem, unit_price: Any) -> PlanItem:
    """Change the unit price of a service in a plan."""
    require(actor, "catalog", "change")
    before = str(item.unit_price)
    item.unit_price = _check_price(unit_price)
    clean_or_raise(item)
    item.save(update_fields=["unit_price", "updated_at"])
    item.refresh_from_db(fields=["unit_price"])
    if str(item.unit_price) != before:
        audit.record(actor, "plan_item.updated", item, changes={"unit_price": [before, str(item.unit_price)]})
        _plan_changed(item.plan, "price_changed")
    return item


@transaction.atomic
def plan_item_remove(*, actor: Any, item: PlanItem) -> None:
    """Take a service out of a plan."""
    require(actor, "catalog", "change")
    plan, item_id = item.plan, item.pk
    changes = {"plan_id": plan.pk, "service_id": item.service_id, "unit_price": str(item.unit_price)}
    item.delete()
    audit.record(actor, "plan_item.deleted", object_type="catalog.planitem", object_id=str(item_id),
                 changes=changes)
    _plan_changed(plan, "item_removed")
