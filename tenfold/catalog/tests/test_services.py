"""Catalog services: validation, permissions (nothing changes on refusal), audit and events."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tenfold.accounts.testing import make_staff
from tenfold.catalog import services
from tenfold.catalog.models import Offering, Plan, PlanItem, Service
from tenfold.catalog.tests.factories import include, make_offering, make_plan, make_service
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry, OutboxEvent

pytestmark = pytest.mark.django_db

SERVICE = {"name": "Workstation monitoring", "code": "WS-Monitoring", "category": "management",
           "unit": "workstation", "list_price": Decimal("25.00"), "unit_cost": Decimal("3.00"),
           "labour_minutes": Decimal("18"), "includes_monitoring": True}


def test_service_create_normalises_code_and_audits() -> None:
    # given an administrator
    admin = make_staff("admin")
    # when they add a service
    service = services.service_create(actor=admin, data=dict(SERVICE))
    # then it is stored with a lower-case code, and audited
    stored = Service.objects.get(pk=service.pk)
    assert (stored.code, stored.list_price, stored.labour_minutes, stored.policies) == (
        "ws-monitoring", Decimal("25.00"), Decimal("18.00"), ["monitoring"])
    entry = AuditEntry.objects.get(action="service.created")
    assert (entry.actor_id, entry.object_id, entry.changes["list_price"]) == (admin.pk, str(service.pk), "25.00")


def test_service_code_is_unique_ignoring_case() -> None:
    admin = make_staff("admin")
    services.service_create(actor=admin, data=dict(SERVICE))
    with pytest.raises(ValidationError) as info:
        services.service_create(actor=admin, data={**SERVICE, "code": "ws-MONITORING", "name": "Other"})
    assert info.value.errors == {"code": ["A service with this code already exists."]}
    assert Service.objects.count() == 1


@pytest.mark.parametrize(("field", "message"), [
    ("list_price", "Ensure this value is greater than or equal to 0."),
    ("unit_cost", "Ensure this value is greater than or equal to 0."),
    ("labour_minutes", "Ensure this value is greater than or equal to 0."),
])
def test_service_refuses_negative_amounts(field: str, message: str) -> None:
    admin = make_staff("admin")
    with pytest.raises(ValidationError) as info:
        services.service_create(actor=admin, data={**SERVICE, field: Decimal("-1")})
    assert info.value.errors == {field: [message]}
    assert Service.objects.count() == 0
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize("role", ["service_manager", "account_manager", "finance", "technician"])
def test_roles_without_write_cannot_change_the_catalog(role: str) -> None:
    # given a service and a plan
    service = make_service("mon", price="25.00")
    plan = make_plan(make_offering(), "good")
    actor = make_staff(role)
    # when a role that may only read (or not even that) tries every write
    attempts = [
        lambda: services.service_create(actor=actor, data=dict(SERVICE)),
        lambda: services.service_update(actor=actor, service=service, data={"list_price": Decimal("1")}),
        lambda: services.offering_create(actor=actor, data={"name": "X"}),
        lambda: services.plan_item_add(actor=actor, plan=plan, service=service),
        lambda: services.plan_delete(actor=actor, plan=plan),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    # then nothing changed
    assert Service.objects.get().list_price == Decimal("25.00")
    assert (Offering.objects.count(), PlanItem.objects.count(), Plan.objects.count()) == (1, 0, 1)
    assert AuditEntry.objects.count() == 0 and OutboxEvent.objects.count() == 0


def test_plan_item_add_defaults_to_list_price_and_emits_plan_changed() -> None:
    admin = make_staff("admin")
    service = make_service("av", price="7.00")
    plan = make_plan(make_offering(), "better")
    item = services.plan_item_add(actor=admin, plan=plan, service=service)
    assert PlanItem.objects.get(pk=item.pk).unit_price == Decimal("7.00")
    event = OutboxEvent.objects.get(name="plan.changed")
    assert event.payload == {"plan_id": plan.pk, "offering_id": plan.offering_id, "tier": "better",
                             "reason": "item_added"}
    assert AuditEntry.objects.get(action="plan_item.created").changes == {
        "plan_id": plan.pk, "service_id": service.pk, "unit_price": "7.00"}


def test_plan_item_refuses_inactive_service_duplicate_and_negative_price() -> None:
    admin = make_staff("admin")
    plan = make_plan(make_offering(), "good")
    retired = make_service("fax", price="15.00", active=False)
    service = make_service("mon", price="25.00")
    include(plan, service)
    with pytest.raises(ValidationError) as inactive:
        services.plan_item_add(actor=admin, plan=plan, service=retired)
    with pytest.raises(ValidationError) as duplicate:
        services.plan_item_add(actor=admin, plan=plan, service=service, unit_price=Decimal("20.00"))
    with pytest.raises(ValidationError) as negative:
        services.plan_item_add(actor=admin, plan=plan, service=make_service("av"), unit_price=Decimal("-0.01"))
    assert inactive.value.errors == {"service": ["“Fax” is inactive: activate it before adding it to a plan."]}
    assert duplicate.value.errors == {"service": ["This plan already includes this service."]}
    assert negative.value.errors == {"unit_price": ["The unit price cannot be negative."]}
    assert list(PlanItem.objects.values_list("service__code", "unit_price")) == [("mon", Decimal("25.00"))]
    assert OutboxEvent.objects.count() == 0


def test_plan_item_update_audits_the_price_change_once() -> None:
    admin = make_staff("admin")
    item = include(make_plan(make_offering(), "good"), make_service("mon", price="25.00"))
    services.plan_item_update(actor=admin, item=item, unit_price="27.5")
    services.plan_item_update(actor=admin, item=item, unit_price="27.50")  # no change: no audit, no event
    assert PlanItem.objects.get().unit_price == Decimal("27.50")
    assert [e.changes for e in AuditEntry.objects.filter(action="plan_item.updated")] == [
        {"unit_price": ["25.00", "27.50"]}]
    assert OutboxEvent.objects.filter(name="plan.changed").count() == 1


def test_plan_item_update_refuses_bad_prices() -> None:
    admin = make_staff("admin")
    item = include(make_plan(make_offering(), "good"), make_service("mon", price="25.00"))
    for bad in ("-1", "abc", "NaN", "1.234"):
        with pytest.raises(ValidationError):
            services.plan_item_update(actor=admin, item=item, unit_price=bad)
    assert PlanItem.objects.get().unit_price == Decimal("25.00")


def test_one_plan_per_tier_and_default_name() -> None:
    admin = make_staff("admin")
    offering = make_offering("Managed workplace")
    plan = services.plan_create(actor=admin, offering=offering, data={"tier": "better", "name": ""})
    with pytest.raises(ValidationError) as info:
        services.plan_create(actor=admin, offering=offering, data={"tier": "better", "name": "Again"})
    assert plan.name == "Managed workplace Better"
    assert info.value.errors == {"tier": ["This offering already has a plan for this tier."]}
    assert Plan.objects.count() == 1


def test_service_in_a_plan_cannot_be_deleted() -> None:
    admin = make_staff("admin")
    service = make_service("mon")
    include(make_plan(make_offering(), "good"), service)
    with pytest.raises(Conflict):
        services.service_delete(actor=admin, service=service)
    assert Service.objects.filter(pk=service.pk).exists()
    assert AuditEntry.objects.count() == 0


def test_offering_delete_removes_plans_and_items() -> None:
    admin = make_staff("owner")
    offering = make_offering()
    offering_id = offering.pk
    include(make_plan(offering, "good"), make_service("mon"))
    services.offering_delete(actor=admin, offering=offering)
    assert (Offering.objects.count(), Plan.objects.count(), PlanItem.objects.count(), Service.objects.count()) == (
        0, 0, 0, 1)
    assert AuditEntry.objects.get(action="offering.deleted").object_id == str(offering_id)


def test_plan_item_created_without_price_takes_the_list_price() -> None:
    service = make_service("mon", price="25.00")
    item = PlanItem.objects.create(plan=make_plan(make_offering(), "good"), service=service)
    service.list_price = Decimal("30.00")
    service.save()
    assert PlanItem.objects.get(pk=item.pk).unit_price == Decimal("25.00")
