"""Contracts services: exact rounding, SLA due times, coverage that follows the RMM, cost figures at the live
counts, signing (baseline applied), addenda, validation and roles (denied actions change nothing)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.assets import services as asset_services
from tenfold.assets.models import Device
from tenfold.clients.models import Contact, Site
from tenfold.contracts import selectors, services
from tenfold.contracts.models import (
    BusinessCalendar,
    Contract,
    ContractAddendum,
    ContractAddOn,
    ContractCoverage,
    Milestone,
    RoundingRule,
    SlaPolicy,
)
from tenfold.contracts.selectors import billable_minutes, sla_deadlines, sla_terms_for_client, unit_counts
from tenfold.contracts.tests.factories import make_catalog, make_client, make_contract, make_devices
from tenfold.core import events
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry, OutboxEvent
from tenfold.monitoring.models import ClientBaseline
from tenfold.monitoring.policies import effective_policy
from tenfold.monitoring.services import baseline_apply

pytestmark = pytest.mark.django_db

PARIS_WEEK = [[[510, 750], [810, 1080]]] * 5 + [[], []]


def admin():
    return make_staff("admin", mfa=False)


# --- Rounding ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("increment", "mode", "minimum", "actual", "billed"), [
    (15, "up", 15, 1, 15), (15, "up", 15, 15, 15), (15, "up", 15, 16, 30), (15, "up", 0, 44, 45),
    (15, "up", 30, 16, 30), (15, "nearest", 0, 7, 0), (15, "nearest", 0, 8, 15), (15, "nearest", 0, 22, 15),
    (15, "nearest", 0, 23, 30), (15, "nearest", 15, 5, 15), (6, "up", 0, 61, 66), (10, "nearest", 0, 5, 10),
    (15, "up", 15, 0, 0),
])
def test_billable_minutes_exact(increment: int, mode: str, minimum: int, actual: int, billed: int) -> None:
    rule = RoundingRule(name="r", increment_minutes=increment, mode=mode, minimum_minutes=minimum)
    assert billable_minutes(rule, actual) == billed


def test_billable_minutes_without_rule_and_bad_input() -> None:
    assert billable_minutes(None, 17) == 17
    with pytest.raises(ValueError):
        billable_minutes(RoundingRule(name="r"), -1)


def test_rounding_rule_refuses_a_zero_increment() -> None:
    with pytest.raises(ValidationError) as error:
        services.rounding_rule_create(actor=admin(), data={"name": "Zero", "increment_minutes": 0})
    assert "increment_minutes" in error.value.errors
    assert not RoundingRule.objects.filter(name="Zero").exists()


# --- Calendars and SLA --------------------------------------------------------------------------------------


def test_sla_deadlines_of_a_p1_on_business_hours() -> None:
    # given a Paris office calendar with Easter Monday 2026 off, and a P1 of 4 h to resolve
    actor = admin()
    calendar = services.calendar_create(actor=actor, data={
        "name": "Bureau", "time_zone": "Europe/Paris", "hours": PARIS_WEEK,
        "holidays": [{"date": date(2026, 4, 6), "name": "Lundi de Pâques"}]})
    policy = services.sla_policy_create(actor=actor, data={
        "name": "Heures ouvrées", "calendar_id": calendar.pk, "p1_first_response_minutes": 60,
        "p1_resolution_minutes": 240, "warning_threshold_pct": 75})
    # when a P1 opens on Friday 3 April 2026 at 16:30 Paris time (14:30 UTC)
    due = sla_deadlines(policy, "p1", datetime(2026, 4, 3, 14, 30, tzinfo=UTC))
    # then the clock stops at 18:00, skips the weekend and Easter Monday
    assert due.first_response_due == datetime(2026, 4, 3, 15, 30, tzinfo=UTC)
    assert due.first_response_warning_at == datetime(2026, 4, 3, 15, 15, tzinfo=UTC)
    # 1.5 h on Friday, 2.5 h on Tuesday: 11:00 Paris (summer time); the warning at 75 % = 3 h: 10:00 Paris
    assert due.resolution_due == datetime(2026, 4, 7, 9, 0, tzinfo=UTC)
    assert due.resolution_warning_at == datetime(2026, 4, 7, 8, 0, tzinfo=UTC)


def test_calendar_refuses_bad_hours_and_duplicate_holidays() -> None:
    actor = admin()
    with pytest.raises(ValidationError) as error:
        services.calendar_create(actor=actor, data={"name": "Bad", "time_zone": "Europe/Paris",
                                                    "hours": [[[600, 500]]] + [[]] * 6})
    assert "hours" in error.value.errors
    with pytest.raises(ValidationError):
        services.calendar_create(actor=actor, data={"name": "Bad", "time_zone": "Mars/Olympus", "hours": PARIS_WEEK})
    with pytest.raises(ValidationError) as error:
        services.calendar_create(actor=actor, data={"name": "Bad", "time_zone": "UTC", "hours": PARIS_WEEK,
                                                    "holidays": [{"date": "2026-05-01"}, {"date": "2026-05-01"}]})
    assert "holidays" in error.value.errors
    assert not BusinessCalendar.objects.filter(name="Bad").exists()


def test_exactly_one_default_sla_policy() -> None:
    # given the shipped default policy
    actor = admin()
    shipped = SlaPolicy.objects.get(is_default=True)
    # when another one is made the default
    other = services.sla_policy_create(actor=actor, data={"name": "Premium", "calendar_id": shipped.calendar_id,
                                                          "is_default": True})
    # then it is the only default, and the default can be neither unset nor deleted
    assert list(SlaPolicy.objects.filter(is_default=True)) == [other]
    with pytest.raises(ValidationError):
        services.sla_policy_update(actor=actor, policy=other, data={"is_default": False})
    with pytest.raises(Conflict):
        services.sla_policy_delete(actor=actor, policy=other)
    assert SlaPolicy.objects.get(pk=other.pk).is_default


def test_a_missing_default_sla_policy_is_made_again() -> None:
    # given a database whose shipped defaults are gone (emptied without its migrations' data)
    SlaPolicy.objects.all().delete()
    BusinessCalendar.objects.all().delete()
    # when the default policy is asked for, then the shipped 24/7 default is made again, once
    policy = selectors.default_sla_policy()
    assert (policy.name, policy.is_default, policy.calendar.name, policy.calendar.time_zone) == (
        "Standard", True, "24/7", "UTC")
    assert selectors.default_sla_policy() == policy
    assert SlaPolicy.objects.count() == 1 and BusinessCalendar.objects.count() == 1


def test_sla_resolution_before_first_response_is_refused() -> None:
    shipped = SlaPolicy.objects.get(is_default=True)
    with pytest.raises(ValidationError) as error:
        services.sla_policy_update(actor=admin(), policy=shipped, data={"p2_first_response_minutes": 600,
                                                                        "p2_resolution_minutes": 300})
    assert list(error.value.errors) == ["p2_resolution_minutes"]
    assert SlaPolicy.objects.get(pk=shipped.pk).p2_first_response_minutes == 60


def test_sla_terms_come_from_the_contract_in_force_else_the_default() -> None:
    # given a client without a contract, then with an active one carrying its own policy and rounding
    parts = make_catalog()
    client = make_client()
    default = SlaPolicy.objects.get(is_default=True)
    assert sla_terms_for_client(client.pk).policy == default
    calendar = BusinessCalendar.objects.create(name="Office", hours=PARIS_WEEK)
    premium = SlaPolicy.objects.create(name="Premium", calendar=default.calendar)
    rule = RoundingRule.objects.create(name="Quarter", increment_minutes=15, minimum_minutes=15)
    make_contract(client, parts["good"], status="active", sla_policy=premium, calendar=calendar, rounding_rule=rule)
    # then the contract's terms apply, its calendar before the policy's
    terms = sla_terms_for_client(client.pk, date(2026, 6, 1))
    assert (terms.policy, terms.calendar, terms.rounding_rule) == (premium, calendar, rule)


# --- Contracts ----------------------------------------------------------------------------------------------


def test_contract_create_numbers_and_audits() -> None:
    parts = make_catalog()
    client = make_client()
    contract = services.contract_create(actor=admin(), client=client, data={
        "type": "managed", "plan_id": parts["good"].pk, "start_date": date(2026, 3, 1)})
    second = services.contract_create(actor=admin(), client=client, data={
        "type": "time_materials", "start_date": date(2026, 3, 1), "out_of_scope_rate": Decimal("85")})
    assert (contract.number, second.number) == ("C-2026-0001", "C-2026-0002")
    assert contract.status == "draft"
    assert AuditEntry.objects.filter(action="contract.created").count() == 2


@pytest.mark.parametrize(("data", "field"), [
    ({"type": "managed"}, "plan"),
    ({"type": "managed", "plan": True, "minimum_monthly_commitment": Decimal("-1")}, "minimum_monthly_commitment"),
    ({"type": "time_materials", "out_of_scope_rate": Decimal("-80")}, "out_of_scope_rate"),
    ({"type": "block_hours"}, "hours_purchased"),
    ({"type": "block_hours", "hours_purchased": Decimal("10"), "alert_thresholds": [150]}, "alert_thresholds"),
    ({"type": "fixed_price"}, "fixed_price_amount"),
    ({"type": "time_materials", "end_date": date(2025, 1, 1)}, "end_date"),
    ({"type": "time_materials", "indexation": "index"}, "index_base_value"),
])
def test_contract_bad_input_is_refused_beside_the_field(data: dict, field: str) -> None:
    parts = make_catalog()
    client = make_client()
    if data.pop("plan", False):
        data["plan_id"] = parts["good"].pk
    with pytest.raises(ValidationError) as error:
        services.contract_create(actor=admin(), client=client, data={"start_date": date(2026, 1, 1), **data})
    assert field in error.value.errors
    assert not Contract.objects.exists()


def test_overlapping_contract_of_the_same_type_is_refused_with_a_clear_message() -> None:
    # given a signed managed contract for the whole client from 2026-01-01
    parts = make_catalog()
    client = make_client()
    make_contract(client, parts["good"], number="C-2026-0007", status="active", end_date=date(2026, 12, 31))
    # when another managed contract for a site of the client starts mid-year
    site = Site.objects.create(client=client, name="Atelier")
    with pytest.raises(ValidationError) as error:
        services.contract_create(actor=admin(), client=client, data={
            "type": "managed", "plan_id": parts["better"].pk, "site_id": site.pk, "start_date": date(2026, 6, 1)})
    # then it is refused, naming the contract in the way
    assert error.value.errors["start_date"] == [
        "This client already has a managed services (per unit, monthly) contract for this scope over these dates: "
        "C-2026-0007 (from 2026-01-01 to 2026-12-31). End it or choose other dates."]
    # and a different type, or dates after the end, are fine
    services.contract_create(actor=admin(), client=client, data={"type": "time_materials",
                                                                 "start_date": date(2026, 6, 1)})
    services.contract_create(actor=admin(), client=client, data={"type": "managed", "plan_id": parts["better"].pk,
                                                                 "start_date": date(2027, 1, 1)})
    assert Contract.objects.count() == 3


def test_a_site_of_another_client_is_refused() -> None:
    parts = make_catalog()
    client, other = make_client(), make_client("Garage Perrin")
    foreign = Site.objects.create(client=other, name="Garage")
    with pytest.raises(ValidationError) as error:
        services.contract_create(actor=admin(), client=client, data={
            "type": "managed", "plan_id": parts["good"].pk, "start_date": date(2026, 1, 1), "site_id": foreign.pk})
    assert error.value.errors == {"site": ["Choose one of this client's sites."]}


def test_a_signed_contracts_commercial_terms_change_only_by_addendum() -> None:
    parts = make_catalog()
    contract = make_contract(make_client(), parts["good"], status="active")
    with pytest.raises(ValidationError) as error:
        services.contract_update(actor=admin(), contract=contract, data={"plan_id": parts["better"].pk})
    assert "plan" in error.value.errors
    services.contract_update(actor=admin(), contract=contract, data={"notes": "Client asked for a QBR in May"})
    assert Contract.objects.get(pk=contract.pk).plan == parts["good"]


def test_roles_technician_reads_account_manager_writes_portal_user_nothing() -> None:
    parts = make_catalog()
    client = make_client()
    data = {"type": "managed", "plan_id": parts["good"].pk, "start_date": date(2026, 1, 1)}
    with pytest.raises(PermissionDenied):
        services.contract_create(actor=make_staff("technician", mfa=False), client=client, data=data)
    with pytest.raises(PermissionDenied):
        services.contract_delete(actor=make_staff("account_manager", mfa=False),
                                 contract=make_contract(client, None, type="time_materials"))
    assert Contract.objects.count() == 1 and AuditEntry.objects.count() == 0
    created = services.contract_create(actor=make_staff("account_manager", mfa=False), client=client,
                                       data={**data, "start_date": date(2030, 1, 1)})
    assert created.pk is not None


# --- Coverage and figures --------------------------------------------------------------------------------------


def _figures_setup() -> tuple[Contract, dict]:
    parts = make_catalog()
    client = make_client()
    site = Site.objects.create(client=client, name="Siège")
    make_devices(client, site, workstation=3, laptop=1, server=1, mobile=1, other=1)
    retired = make_devices(client, site, workstation=1)[0]
    retired.state = "retired"
    retired.save()
    contract = make_contract(client, parts["good"], status="active")
    ContractAddOn.objects.create(client=client, contract=contract, service=parts["backup"], per_unit=True)
    ContractAddOn.objects.create(client=client, contract=contract, service=parts["mail"], per_unit=False,
                                 quantity=Decimal("5"), unit_price=Decimal("1.50"))
    services.coverage_sync(contract)
    return contract, parts


def test_coverage_counts_follow_device_kinds() -> None:
    # given 3 workstations, 1 laptop, 1 server, 1 mobile, 1 "other" and 1 retired workstation at one site
    contract, _parts = _figures_setup()
    # then laptops count as workstations, the retired and the "other" device are not covered
    counts = unit_counts(contract)
    assert (counts.workstations, counts.servers, counts.network_devices, counts.mobiles, counts.users,
            counts.sites) == (4, 1, 0, 1, 0, 1)
    groups = {g["unit"]: [str(r) for r in g["rows"]] for g in selectors.coverage_groups(contract)}
    assert sorted(groups["workstation"]) == ["Boulangeri-laptop-0", "Boulangeri-workstation-0",
                                             "Boulangeri-workstation-1", "Boulangeri-workstation-2"]
    # and syncing again changes nothing
    assert not services.coverage_sync(contract).changed


def test_contract_figures_from_the_cost_model_at_live_counts() -> None:
    # given the contract above on Good with a per-server backup add-on and 5 mail filters at 1.50
    contract, _parts = _figures_setup()
    # when its monthly figures are computed at 45 € an hour of labour
    figures = selectors.contract_figures(contract)
    # then: 4×10 + 1×40 + 1×8 + 5×1.50 = 95.50 revenue; tools 4×2 + 5 + 3 + 5×0.50 = 18.50;
    # labour (4×6 + 30) min = 0.9 h × 45 = 40.50; margin 36.50 = 38.2 %
    model = figures.model
    assert (model.revenue, model.tool_cost, model.labour_cost, model.margin, model.margin_pct) == (
        Decimal("95.50"), Decimal("18.50"), Decimal("40.50"), Decimal("36.50"), Decimal("38.2"))
    assert [(line.name, line.quantity) for line in figures.lines] == [
        ("Server monitoring", 1), ("Workstation monitoring", 4), ("Server backup", 1), ("Mail filtering", 5)]


def test_coverage_follows_enrollment_creation_and_retirement_through_events() -> None:
    # given a client with a signed Good contract and one workstation
    parts = make_catalog()
    actor = admin()
    client = make_client()
    make_devices(client, workstation=1)
    contract = services.contract_create(actor=actor, client=client, data={
        "type": "managed", "plan_id": parts["good"].pk, "start_date": timezone.localdate()})
    services.contract_sign(actor=actor, contract=contract)
    assert unit_counts(contract).workstations == 1
    # when a server is added by hand and the events are delivered
    server = asset_services.device_create(actor=actor, client=client, data={"name": "SRV-01", "kind": "server"})
    events.deliver_pending()
    # then it is covered
    assert (unit_counts(contract).workstations, unit_counts(contract).servers) == (1, 1)
    # when an agent enrolls a new machine (device.enrolled)
    device, _created = asset_services.device_register_agent(client=client, site=None, machine_id="m-42",
                                                            hostname="PC-42", os_family="windows",
                                                            os_name="Windows 11", os_version="23H2")
    events.emit("device.enrolled", client_id=client.pk, payload={"device_id": device.pk, "client_id": client.pk})
    events.deliver_pending()
    assert unit_counts(contract).workstations == 2
    # when the server is retired
    asset_services.device_retire(actor=actor, device=server, reason="replaced")
    events.deliver_pending()
    # then it drops off, and its coverage row is kept with an end for billing
    assert unit_counts(contract).servers == 0
    row = ContractCoverage.objects.get(contract=contract, device=server)
    assert row.ended_at is not None
    # one change each: signing, the server, the enrolled machine, the retirement
    assert OutboxEvent.objects.filter(name="contract.coverage_changed").count() == 4


def test_reconcile_catches_a_device_changed_without_an_event() -> None:
    contract, _parts = _figures_setup()
    Device.objects.filter(client=contract.client, kind="mobile").update(state="retired")
    report = services.reconcile_all_coverage()
    assert report == {"synced": 1, "changed": 1}
    assert unit_counts(contract).mobiles == 0


def test_a_contact_of_another_client_cannot_be_covered() -> None:
    contract, _parts = _figures_setup()
    foreign = Contact.objects.create(client=make_client("Autre"), first_name="Eve", last_name="Other")
    with pytest.raises(ValidationError) as error:
        services.coverage_add_user(actor=admin(), contract=contract, contact_id=foreign.pk)
    assert error.value.errors == {"contact": ["Choose one of this client's contacts."]}
    own = Contact.objects.create(client=contract.client, first_name="Claire", last_name="Martin")
    services.coverage_add_user(actor=admin(), contract=contract, contact_id=own.pk)
    assert unit_counts(contract).users == 1


# --- Signing and addenda ---------------------------------------------------------------------------------------


def test_signing_applies_the_tier_baseline_to_the_clients_devices() -> None:
    # given a client with a Linux workstation and a draft Better contract, signed by an account manager
    parts = make_catalog()
    client = make_client()
    device = Device.objects.create(client=client, name="PC-1", kind="workstation", state="active",
                                   os_family="linux")
    manager = make_staff("account_manager", mfa=False)
    contract = services.contract_create(actor=manager, client=client, data={
        "type": "managed", "plan_id": parts["better"].pk, "start_date": date(2026, 1, 1)})
    before = effective_policy(device)
    # when it is signed
    services.contract_sign(actor=manager, contract=contract)
    # then the Better baseline reaches the device (antivirus and OS updates collected), coverage starts
    contract.refresh_from_db()
    assert contract.status == "active" and contract.signed_by == manager
    assert ClientBaseline.objects.get(client=client).tier == "better"
    after = effective_policy(device)
    assert not before.collectors.get("antivirus")
    assert after.collectors["antivirus"] is True
    assert after.collectors["os_updates"] is True
    assert unit_counts(contract).workstations == 1
    signed = OutboxEvent.objects.get(name="contract.signed")
    assert signed.payload == {"contract_id": contract.pk, "client_id": client.pk, "type": "managed",
                              "plan_id": parts["better"].pk, "tier": "better"}
    baseline_audit = AuditEntry.objects.get(action="baseline.applied")
    # the audit row names the signer and the contract that authorised a change they may not make alone
    assert baseline_audit.actor_id == manager.pk
    assert baseline_audit.changes == {"tier": [None, "better"], "authority": f"contract {contract.number}"}
    manager.refresh_from_db()
    assert manager.role == "account_manager"
    # and without a contract, the same account manager may not apply a baseline
    with pytest.raises(PermissionDenied):
        baseline_apply(actor=manager, client=client, tier="best")


def test_signing_twice_or_by_a_technician_is_refused() -> None:
    parts = make_catalog()
    contract = make_contract(make_client(), parts["good"])
    with pytest.raises(PermissionDenied):
        services.contract_sign(actor=make_staff("technician", mfa=False), contract=contract)
    assert Contract.objects.get(pk=contract.pk).status == "draft"
    assert not ClientBaseline.objects.exists()
    services.contract_sign(actor=admin(), contract=contract)
    with pytest.raises(Conflict):
        services.contract_sign(actor=admin(), contract=contract)


def test_an_addendum_applies_on_its_date_and_reapplies_the_baseline() -> None:
    # given a signed Good contract with a future addendum moving it to Better with the backup add-on
    parts = make_catalog()
    actor = admin()
    client = make_client()
    make_devices(client, server=2)
    contract = services.contract_create(actor=actor, client=client, data={
        "type": "managed", "plan_id": parts["good"].pk, "start_date": date(2026, 1, 1)})
    services.contract_sign(actor=actor, contract=contract)
    effective = timezone.localdate() + timedelta(days=10)
    addendum = services.addendum_create(actor=actor, contract=contract, data={
        "effective_date": effective, "new_plan_id": parts["better"].pk,
        "new_minimum_monthly_commitment": Decimal("150.00"),
        "addon_changes": [{"service_id": parts["backup"].pk, "per_unit": True, "unit_price": Decimal("7.00")}]})
    # when the scheduled run happens before the date, nothing applies
    assert services.apply_due_addenda(timezone.localdate()) == []
    assert ClientBaseline.objects.get(client=client).tier == "good"
    # when it runs on the date (twice: the second run applies nothing)
    assert services.apply_due_addenda(effective) == [addendum.pk]
    assert services.apply_due_addenda(effective) == []
    # then the contract carries the new terms, the Better baseline applies, and it is audited
    contract.refresh_from_db()
    assert (contract.plan, contract.minimum_monthly_commitment) == (parts["better"], Decimal("150.00"))
    assert ClientBaseline.objects.get(client=client).tier == "better"
    assert [(a.service, a.unit_price) for a in contract.addons.all()] == [(parts["backup"], Decimal("7.00"))]
    assert ContractAddendum.objects.get(pk=addendum.pk).status == "applied"
    amended = AuditEntry.objects.get(action="contract.amended")
    assert amended.changes["plan_id"] == [parts["good"].pk, parts["better"].pk]
    assert selectors.contract_figures(contract).model.revenue == Decimal("94.00")  # 2×40 + 2×7


def test_an_addendum_cannot_take_effect_before_the_start_nor_carry_negative_prices() -> None:
    parts = make_catalog()
    contract = make_contract(make_client(), parts["good"], status="active", start_date=date(2026, 3, 1))
    with pytest.raises(ValidationError) as error:
        services.addendum_create(actor=admin(), contract=contract, data={"effective_date": date(2026, 2, 1)})
    assert "effective_date" in error.value.errors
    with pytest.raises(ValidationError):
        services.addendum_create(actor=admin(), contract=contract, data={
            "effective_date": date(2030, 2, 1), "new_out_of_scope_rate": Decimal("-5")})
    assert not ContractAddendum.objects.exists()


def test_ending_a_contract_ends_its_coverage() -> None:
    contract, _parts = _figures_setup()
    services.contract_end(actor=admin(), contract=contract, end_date=date(2026, 6, 30))
    contract.refresh_from_db()
    assert (contract.status, contract.end_date) == ("ended", date(2026, 6, 30))
    assert not contract.coverage.filter(ended_at__isnull=True).exists()


# --- Projects ---------------------------------------------------------------------------------------------------


def test_fixed_price_project_milestones_cannot_exceed_the_price_and_invoiced_is_billings() -> None:
    actor = admin()
    client = make_client()
    project = services.project_create(actor=actor, client=client, data={
        "name": "Onboarding", "kind": "onboarding", "billing": "fixed", "fixed_price": Decimal("2400.00"),
        "budgeted_hours": Decimal("24")})
    first = services.milestone_create(actor=actor, project=project, data={"name": "Audit",
                                                                           "amount": Decimal("1400.00")})
    with pytest.raises(ValidationError) as error:
        services.milestone_create(actor=actor, project=project, data={"name": "Go-live",
                                                                       "amount": Decimal("1000.01")})
    assert error.value.errors["amount"] == [
        "The milestones add up to 2400.01, more than the fixed price 2400.00."]
    with pytest.raises(ValidationError):
        services.milestone_update(actor=actor, milestone=first, data={"status": "invoiced"})
    services.milestone_update(actor=actor, milestone=first, data={"status": "reached"})
    assert Milestone.objects.get(pk=first.pk).reached_at is not None
    finance = make_staff("finance", mfa=False)
    services.milestone_mark_invoiced(actor=finance, milestone=first)
    with pytest.raises(Conflict):
        services.milestone_update(actor=actor, milestone=first, data={"amount": Decimal("1")})


def test_hourly_project_needs_a_rate_and_a_contract_of_its_client() -> None:
    actor = admin()
    client, other = make_client(), make_client("Autre")
    foreign = make_contract(other, None, type="time_materials")
    with pytest.raises(ValidationError) as error:
        services.project_create(actor=actor, client=client, data={"name": "Move", "billing": "hourly"})
    assert "hourly_rate" in error.value.errors
    with pytest.raises(ValidationError) as error:
        services.project_create(actor=actor, client=client, data={
            "name": "Move", "billing": "hourly", "hourly_rate": Decimal("90"), "contract_id": foreign.pk})
    assert error.value.errors == {"contract": ["Choose one of this client's contracts."]}
