"""Writes of contracts and what they rest on: validate, write, audit, emit — in one transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.assets.models import Device, DeviceState
from tenfold.catalog.models import Plan, Service
from tenfold.clients.models import Client, Contact, Site
from tenfold.clients.services import check_site_of_client
from tenfold.contracts import selectors
from tenfold.contracts.businesstime import CalendarError, CalendarSpec, week_from_json, week_to_json
from tenfold.contracts.models import (
    AddendumAddOn,
    AddendumStatus,
    BusinessCalendar,
    Contract,
    ContractAddendum,
    ContractAddOn,
    ContractCoverage,
    ContractStatus,
    ContractType,
    CoverageKind,
    Holiday,
    Indexation,
    Milestone,
    MilestoneStatus,
    Project,
    ProjectBilling,
    ProjectTask,
    RoundingRule,
    SlaPolicy,
)
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, ValidationError
from tenfold.core.models import OutboxEvent
from tenfold.core.roles import require
from tenfold.core.writes import apply_fields, clean_or_raise, save_or_unique_error

logger = logging.getLogger("tenfold.contracts")

NEGATIVE = _("Amounts cannot be negative.")
SIGNED_IS_FIXED = _("A signed contract changes through an addendum: add one with an effective date.")

CALENDAR_FIELDS = ("name", "time_zone", "hours")
SLA_FIELDS = ("name", "calendar_id", "is_default", "warning_threshold_pct",
              *(f"{p}_{t}_minutes" for p in ("p1", "p2", "p3", "p4") for t in ("first_response", "resolution")))
ROUNDING_FIELDS = ("name", "increment_minutes", "mode", "minimum_minutes")
# Terms that make the price: fixed once signed, changed by addenda.
COMMERCIAL_FIELDS = ("type", "site_id", "start_date", "plan_id", "minimum_monthly_commitment", "out_of_scope_rate",
                     "hours_purchased", "overage_rate", "fixed_price_amount")
CONTRACT_FIELDS = (*COMMERCIAL_FIELDS, "number", "title", "end_date", "renewal_term_months", "notice_period_days",
                   "indexation", "indexation_percent", "index_base_value", "index_current_value", "sla_policy_id",
                   "calendar_id", "rounding_rule_id", "alert_thresholds", "unused_hours", "notes")
MONEY_FIELDS = ("minimum_monthly_commitment", "out_of_scope_rate", "hours_purchased", "overage_rate",
                "fixed_price_amount", "indexation_percent", "index_base_value", "index_current_value")
ADDON_FIELDS = ("service_id", "per_unit", "quantity", "unit_price")
ADDENDUM_FIELDS = ("effective_date", "description", "new_plan_id", "new_minimum_monthly_commitment",
                   "new_out_of_scope_rate", "new_overage_rate", "new_hours_purchased", "new_end_date")
PROJECT_FIELDS = ("name", "kind", "contract_id", "description", "billing", "budgeted_hours", "fixed_price",
                  "hourly_rate", "status", "start_date", "due_date")
TASK_FIELDS = ("title", "done", "estimate_hours")
MILESTONE_FIELDS = ("name", "amount", "due_date", "status")


def _refuse_negative(obj: Any, fields: tuple[str, ...], message: Any = NEGATIVE) -> None:
    errors = {f: [str(message)] for f in fields if getattr(obj, f, None) is not None and getattr(obj, f) < 0}
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors=errors)


def _validate(obj: Any) -> None:
    clean_or_raise(obj)


def _delete_or_conflict(obj: Any, message: Any) -> None:
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as exc:
        raise Conflict(message) from exc


# --- Calendars ------------------------------------------------------------------------------------


def _holiday_rows(value: Any) -> list[tuple[date, str]]:
    rows: dict[date, str] = {}
    for item in value or []:
        day, name = (item["date"], item.get("name", "")) if isinstance(item, dict) else item
        if isinstance(day, str):
            try:
                day = date.fromisoformat(day)
            except ValueError:
                raise ValidationError(_("Enter holidays as dates, e.g. 2026-05-01."), field="holidays") from None
        if day in rows:
            raise ValidationError(_("%(date)s is listed twice.") % {"date": day.isoformat()}, field="holidays")
        rows[day] = (name or "").strip()[:200]
    return sorted(rows.items())


def _calendar_save(actor: Any, calendar: BusinessCalendar, data: dict[str, Any], verb: str) -> BusinessCalendar:
    holidays = data.pop("holidays", None)
    before = audit.snapshot(calendar) if calendar.pk else {}
    apply_fields(calendar, CALENDAR_FIELDS, data)
    try:
        calendar.hours = week_to_json(week_from_json(calendar.hours))
        rows = _holiday_rows(holidays) if holidays is not None else None
        CalendarSpec(calendar.time_zone if calendar.time_zone else "UTC", week_from_json(calendar.hours))
    except CalendarError as exc:
        raise ValidationError(_("Working hours: %(problem)s.") % {"problem": str(exc)}, field="hours") from exc
    if not any(calendar.hours):
        raise ValidationError(_("A calendar needs working hours on at least one day."), field="hours")
    _validate(calendar)
    save_or_unique_error(calendar, unique_message=_("A calendar with this name already exists."), unique_field="name")
    changes = audit.diff(before, audit.snapshot(calendar))
    if rows is not None:
        old = [(h.date.isoformat(), h.name) for h in calendar.holidays.order_by("date")]
        new = [(d.isoformat(), n) for d, n in rows]
        if old != new:
            calendar.holidays.all().delete()
            Holiday.objects.bulk_create([Holiday(calendar=calendar, date=d, name=n) for d, n in rows])
            changes["holidays"] = [len(old), len(new)]
    calendar.forget_spec()
    if changes or verb == "created":
        audit.record(actor, f"business_calendar.{verb}", calendar, changes=changes)
    return calendar


@transaction.atomic
def calendar_create(*, actor: Any, data: dict[str, Any]) -> BusinessCalendar:
    """Create a business-hours calendar (hours as 7 lists of [start, end] minutes, holidays as dates)."""
    require(actor, "contracts", "add")
    return _calendar_save(actor, BusinessCalendar(), dict(data), "created")


@transaction.atomic
def calendar_update(*, actor: Any, calendar: BusinessCalendar, data: dict[str, Any]) -> BusinessCalendar:
    """Change a calendar; given holidays replace the old list."""
    require(actor, "contracts", "change")
    return _calendar_save(actor, calendar, dict(data), "updated")


@transaction.atomic
def calendar_delete(*, actor: Any, calendar: BusinessCalendar) -> None:
    """Delete a calendar no SLA policy or contract uses."""
    require(actor, "contracts", "delete")
    snapshot, pk = audit.snapshot(calendar), calendar.pk
    _delete_or_conflict(calendar, _("This calendar is used by an SLA policy or a contract."))
    audit.record(actor, "business_calendar.deleted", object_type="contracts.businesscalendar", object_id=str(pk),
                 changes=snapshot)


# --- SLA policies ------------------------------------------------------------------------------------


def _sla_save(actor: Any, policy: SlaPolicy, data: dict[str, Any], verb: str) -> SlaPolicy:
    before = audit.snapshot(policy) if policy.pk else {}
    was_default = bool(before.get("is_default"))
    apply_fields(policy, SLA_FIELDS, data)
    if policy.calendar_id is not None and not BusinessCalendar.objects.filter(pk=policy.calendar_id).exists():
        raise ValidationError(_("Choose a calendar."), field="calendar")
    _validate(policy)
    errors = {f"{p}_resolution_minutes": [str(_("Resolution cannot come before the first response."))]
              for p in ("p1", "p2", "p3", "p4") if policy.targets(p)[1] < policy.targets(p)[0]}
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors=errors)
    if was_default and not policy.is_default:
        raise ValidationError(_("One SLA policy is always the default: make another one the default instead."),
                              field="is_default")
    if not policy.is_default and not SlaPolicy.objects.filter(is_default=True).exclude(pk=policy.pk).exists():
        policy.is_default = True  # the first policy is the default
    if policy.is_default:
        # Locked, so two policies made default at once cannot both clear the other.
        list(SlaPolicy.objects.select_for_update().filter(is_default=True).exclude(pk=policy.pk))
        SlaPolicy.objects.filter(is_default=True).exclude(pk=policy.pk).update(is_default=False)
    save_or_unique_error(policy, unique_message=_("An SLA policy with this name already exists."),
                         unique_field="name")
    changes = audit.diff(before, audit.snapshot(policy))
    if changes or verb == "created":
        audit.record(actor, f"sla_policy.{verb}", policy, changes=changes)
    return policy


@transaction.atomic
def sla_policy_create(*, actor: Any, data: dict[str, Any]) -> SlaPolicy:
    """Create an SLA policy; marking it default moves the default to it (the first one is the default)."""
    require(actor, "contracts", "add")
    return _sla_save(actor, SlaPolicy(), dict(data), "created")


@transaction.atomic
def sla_policy_update(*, actor: Any, policy: SlaPolicy, data: dict[str, Any]) -> SlaPolicy:
    """Change an SLA policy's targets, calendar or default flag."""
    require(actor, "contracts", "change")
    return _sla_save(actor, policy, dict(data), "updated")


@transaction.atomic
def sla_policy_delete(*, actor: Any, policy: SlaPolicy) -> None:
    """Delete an SLA policy that is neither the default nor used by a contract."""
    require(actor, "contracts", "delete")
    if SlaPolicy.objects.filter(pk=policy.pk, is_default=True).exists():
        raise Conflict(_("The default SLA policy cannot be deleted: make another one the default first."))
    snapshot, pk = audit.snapshot(policy), policy.pk
    _delete_or_conflict(policy, _("This SLA policy is used by a contract."))
    audit.record(actor, "sla_policy.deleted", object_type="contracts.slapolicy", object_id=str(pk), changes=snapshot)


# --- Rounding rules ---------------------------------------------------------------------------------------


def _rounding_save(actor: Any, rule: RoundingRule, data: dict[str, Any], verb: str) -> RoundingRule:
    before = audit.snapshot(rule) if rule.pk else {}
    apply_fields(rule, ROUNDING_FIELDS, data)
    _validate(rule)
    save_or_unique_error(rule, unique_message=_("A rounding rule with this name already exists."),
                         unique_field="name")
    changes = audit.diff(before, audit.snapshot(rule))
    if changes or verb == "created":
        audit.record(actor, f"rounding_rule.{verb}", rule, changes=changes)
    return rule


@transaction.atomic
def rounding_rule_create(*, actor: Any, data: dict[str, Any]) -> RoundingRule:
    """Create a time rounding rule."""
    require(actor, "contracts", "add")
    return _rounding_save(actor, RoundingRule(), dict(data), "created")


@transaction.atomic
def rounding_rule_update(*, actor: Any, rule: RoundingRule, data: dict[str, Any]) -> RoundingRule:
    """Change a time rounding rule."""
    require(actor, "contracts", "change")
    return _rounding_save(actor, rule, dict(data), "updated")


@transaction.atomic
def rounding_rule_delete(*, actor: Any, rule: RoundingRule) -> None:
    """Delete a rounding rule no contract uses."""
    require(actor, "contracts", "delete")
    snapshot, pk = audit.snapshot(rule), rule.pk
    _delete_or_conflict(rule, _("This rounding rule is used by a contract."))
    audit.record(actor, "rounding_rule.deleted", object_type="contracts.roundingrule", object_id=str(pk),
                 changes=snapshot)


# --- Contracts -------------------------------------------------------------------------------------------


def _lock_client(client_id: int) -> None:
    # One writer at a time per client, so two overlapping contracts cannot both pass the overlap check.
    list(Client.objects.select_for_update().filter(pk=client_id).values_list("pk", flat=True))


def _next_number(day: date, attempt: int) -> str:
    prefix = f"C-{day.year}-"
    taken = Contract.objects.filter(number__istartswith=prefix).values_list("number", flat=True)
    highest = max((int(n[len(prefix):]) for n in taken if n[len(prefix):].isdigit()), default=0)
    return f"{prefix}{highest + 1 + attempt:04d}"


def _check_thresholds(value: Any) -> list[int]:
    if value in (None, ""):
        return []
    try:
        numbers = sorted({int(v) for v in value})
    except (TypeError, ValueError):
        raise ValidationError(_("Enter percentages such as 75, 90."), field="alert_thresholds") from None
    if any(n < 1 or n > 100 for n in numbers):
        raise ValidationError(_("Each threshold is a percentage from 1 to 100."), field="alert_thresholds")
    return numbers


def _check_contract(contract: Contract) -> None:
    """The rules of a contract's terms, each reported beside its field."""
    _refuse_negative(contract, MONEY_FIELDS)
    contract.alert_thresholds = _check_thresholds(contract.alert_thresholds)
    errors: dict[str, list[str]] = {}

    def need(field: str, message: Any) -> None:
        errors.setdefault(field, []).append(str(message))

    if contract.end_date is not None and contract.start_date and contract.end_date < contract.start_date:
        need("end_date", _("The end date cannot be before the start date."))
    if contract.type == ContractType.MANAGED and contract.plan_id is None:
        need("plan", _("A managed-services contract needs a plan."))
    if contract.type != ContractType.MANAGED and contract.plan_id is not None:
        need("plan", _("Only a managed-services contract has a plan."))
    if contract.type == ContractType.BLOCK_HOURS and not contract.hours_purchased:
        need("hours_purchased", _("A block-hours contract needs the number of hours purchased."))
    if contract.type == ContractType.FIXED_PRICE and contract.fixed_price_amount is None:
        need("fixed_price_amount", _("A fixed-price contract needs its price."))
    if contract.indexation == Indexation.PERCENT and contract.indexation_percent is None:
        need("indexation_percent", _("Enter the yearly indexation percentage."))
    if contract.indexation == Indexation.INDEX:
        if not contract.index_base_value:
            need("index_base_value", _("Enter the index base value (more than 0)."))
        if contract.index_current_value is None:
            need("index_current_value", _("Enter the index current value."))
    if contract.plan_id is not None and not Plan.objects.filter(pk=contract.plan_id, active=True).exists():
        need("plan", _("Choose an active plan."))
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors=errors)
    _validate(contract)


def _check_overlap(contract: Contract) -> None:
    clash = selectors.overlapping_contracts(contract.client_id, contract.type, contract.start_date, contract.end_date,
                                            contract.site_id, exclude_pk=contract.pk).order_by("start_date").first()
    if clash is not None:
        raise ValidationError(
            _("This client already has a %(type)s contract for this scope over these dates: %(number)s "
              "(from %(start)s%(until)s). End it or choose other dates.") % {
                "type": clash.get_type_display().lower(), "number": clash.number,
                "start": clash.start_date.isoformat(),
                "until": _(" to %(end)s") % {"end": clash.end_date.isoformat()} if clash.end_date else ""},
            field="start_date")


def _save_contract(contract: Contract) -> None:
    if contract.number:
        save_or_unique_error(contract, unique_message=_("A contract with this number already exists."),
                             unique_field="number")
        return
    for attempt in range(5):
        contract.number = _next_number(contract.start_date, attempt)
        try:
            with transaction.atomic():
                contract.save()
            return
        except IntegrityError:
            contract.number = ""
    raise Conflict(_("Could not give the contract a number; try again."))


def _check_refs(client_id: int, data: dict[str, Any]) -> None:
    check_site_of_client(client_id, data.get("site_id"))
    for key, model, field in (("sla_policy_id", SlaPolicy, "sla_policy"), ("calendar_id", BusinessCalendar,
                                                                            "calendar"),
                              ("rounding_rule_id", RoundingRule, "rounding_rule"), ("plan_id", Plan, "plan")):
        if data.get(key) is not None and not model.objects.filter(pk=data[key]).exists():
            raise ValidationError(_("Choose one from the list."), field=field)


@transaction.atomic
def contract_create(*, actor: Any, client: Client, data: dict[str, Any]) -> Contract:
    """Draft a contract for a client (numbered C-YYYY-NNNN when no number is given)."""
    require(actor, "contracts", "add")
    _lock_client(client.pk)
    _check_refs(client.pk, data)
    contract = Contract(client=client)
    apply_fields(contract, CONTRACT_FIELDS, {k: v for k, v in data.items() if v is not None or k.endswith("_id")})
    contract.number = (contract.number or "").strip()
    _check_contract(contract)
    _check_overlap(contract)
    _save_contract(contract)
    audit.record(actor, "contract.created", contract, changes=audit.snapshot(contract))
    events.emit("contract.created", client_id=client.pk, payload={"contract_id": contract.pk, "type": contract.type})
    return contract


@transaction.atomic
def contract_update(*, actor: Any, contract: Contract, data: dict[str, Any]) -> Contract:
    """Change a draft contract, or the non-commercial terms of a signed one (SLA, dates, notice, notes)."""
    require(actor, "contracts", "change")
    _lock_client(contract.client_id)
    if contract.status in (ContractStatus.ENDED, ContractStatus.CANCELLED):
        raise Conflict(_("An ended or cancelled contract cannot be changed."))
    if contract.status == ContractStatus.ACTIVE:
        changed = [k for k in COMMERCIAL_FIELDS if k in data and data[k] != getattr(contract, k)]
        if changed:
            raise ValidationError(SIGNED_IS_FIXED, errors={k.removesuffix("_id"): [str(SIGNED_IS_FIXED)]
                                                           for k in changed})
    _check_refs(contract.client_id, data)
    before = audit.snapshot(contract)
    apply_fields(contract, CONTRACT_FIELDS, data)
    contract.number = (contract.number or "").strip()
    _check_contract(contract)
    _check_overlap(contract)
    _save_contract(contract)
    changes = audit.diff(before, audit.snapshot(contract))
    if changes:
        audit.record(actor, "contract.updated", contract, changes=changes)
        events.emit("contract.updated", client_id=contract.client_id,
                    payload={"contract_id": contract.pk, "fields": sorted(changes)})
    return contract


@transaction.atomic
def contract_delete(*, actor: Any, contract: Contract) -> None:
    """Delete a draft contract (a signed one is ended or kept, never deleted)."""
    require(actor, "contracts", "delete")
    if contract.status != ContractStatus.DRAFT:
        raise Conflict(_("Only a draft contract can be deleted; end or cancel a signed one."))
    snapshot, pk, client_id = audit.snapshot(contract), contract.pk, contract.client_id
    contract.delete()
    audit.record(actor, "contract.deleted", object_type="contracts.contract", object_id=str(pk), client_id=client_id,
                 changes=snapshot)


def _apply_baseline(actor: Any, contract: Contract) -> None:
    from tenfold.monitoring.services import baseline_apply

    if contract.plan is None:
        return
    # The signature is the authority (P4.5): account managers and finance sign contracts but may not change
    # policies themselves. A scheduled addendum has no person behind it (actor None: the system).
    baseline_apply(actor=actor if getattr(actor, "pk", None) else None, client=contract.client,
                   tier=contract.plan.tier, authority=f"contract {contract.number}")


@transaction.atomic
def contract_sign(*, actor: Any, contract: Contract) -> Contract:
    """Sign a draft contract: it becomes active, its plan tier's baseline is applied to the client's devices,
    its coverage follows the RMM from now on; `contract.signed` is emitted."""
    require(actor, "contracts", "change")
    _lock_client(contract.client_id)
    contract = Contract.objects.select_for_update(of=("self",)).select_related("plan", "client").get(
        pk=contract.pk)
    if contract.status != ContractStatus.DRAFT:
        raise Conflict(_("Only a draft contract can be signed."))
    _check_contract(contract)
    _check_overlap(contract)
    contract.status = ContractStatus.ACTIVE
    contract.signed_at = timezone.now()
    contract.signed_by = actor if getattr(actor, "pk", None) and not getattr(actor, "is_portal", False) else None
    contract.save(update_fields=["status", "signed_at", "signed_by", "updated_at"])
    audit.record(actor, "contract.signed", contract, changes={"status": [ContractStatus.DRAFT, ContractStatus.ACTIVE],
                                                              "plan": contract.plan_id})
    if contract.is_managed:
        _apply_baseline(actor, contract)
    coverage_sync(contract)
    events.emit("contract.signed", client_id=contract.client_id, payload={
        "contract_id": contract.pk, "client_id": contract.client_id, "type": contract.type,
        "plan_id": contract.plan_id, "tier": contract.plan.tier if contract.plan else None})
    return contract


@transaction.atomic
def contract_end(*, actor: Any, contract: Contract, end_date: date | None = None) -> Contract:
    """End an active contract (today unless a date is given); its coverage ends with it."""
    require(actor, "contracts", "change")
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status != ContractStatus.ACTIVE:
        raise Conflict(_("Only an active contract can be ended."))
    end = end_date or timezone.localdate()
    if end < contract.start_date:
        raise ValidationError(_("The end date cannot be before the start date."), field="end_date")
    before = audit.snapshot(contract, ["status", "end_date"])
    contract.status, contract.end_date = ContractStatus.ENDED, end
    contract.save(update_fields=["status", "end_date", "updated_at"])
    ended = contract.coverage.filter(ended_at__isnull=True).update(ended_at=timezone.now())
    audit.record(actor, "contract.ended", contract, changes={**audit.diff(before, audit.snapshot(
        contract, ["status", "end_date"])), "coverage_ended": ended})
    events.emit("contract.ended", client_id=contract.client_id,
                payload={"contract_id": contract.pk, "end_date": end})
    return contract


@transaction.atomic
def contract_cancel(*, actor: Any, contract: Contract) -> Contract:
    """Cancel a draft contract that will not be signed (it stays, for the record)."""
    require(actor, "contracts", "change")
    if contract.status != ContractStatus.DRAFT:
        raise Conflict(_("Only a draft contract can be cancelled; end a signed one."))
    contract.status = ContractStatus.CANCELLED
    contract.save(update_fields=["status", "updated_at"])
    audit.record(actor, "contract.cancelled", contract, changes={"status": [ContractStatus.DRAFT,
                                                                           ContractStatus.CANCELLED]})
    return contract


# --- Add-ons ------------------------------------------------------------------------------------------------


def _check_addon_service(service_id: Any) -> None:
    if service_id is None or not Service.objects.filter(pk=service_id, is_addon=True, active=True).exists():
        raise ValidationError(_("Choose an active add-on service of the catalog."), field="service")


def _addon_draft_only(contract: Contract) -> None:
    if contract.status != ContractStatus.DRAFT:
        raise Conflict(SIGNED_IS_FIXED)


@transaction.atomic
def addon_create(*, actor: Any, contract: Contract, data: dict[str, Any]) -> ContractAddOn:
    """Add an à la carte service to a draft contract."""
    require(actor, "contracts", "change")
    _addon_draft_only(contract)
    _check_addon_service(data.get("service_id"))
    addon = ContractAddOn(client_id=contract.client_id, contract=contract)
    apply_fields(addon, ADDON_FIELDS, data)
    _refuse_negative(addon, ("quantity", "unit_price"))
    _validate(addon)
    save_or_unique_error(addon, unique_message=_("This contract already has this add-on."), unique_field="service")
    audit.record(actor, "contract_addon.created", addon, changes=audit.snapshot(addon, list(ADDON_FIELDS)))
    return addon


@transaction.atomic
def addon_update(*, actor: Any, addon: ContractAddOn, data: dict[str, Any]) -> ContractAddOn:
    """Change an add-on of a draft contract."""
    require(actor, "contracts", "change")
    _addon_draft_only(addon.contract)
    if "service_id" in data:
        _check_addon_service(data["service_id"])
    before = audit.snapshot(addon)
    apply_fields(addon, ADDON_FIELDS, data)
    _refuse_negative(addon, ("quantity", "unit_price"))
    _validate(addon)
    save_or_unique_error(addon, unique_message=_("This contract already has this add-on."), unique_field="service")
    changes = audit.diff(before, audit.snapshot(addon))
    if changes:
        audit.record(actor, "contract_addon.updated", addon, changes=changes)
    return addon


@transaction.atomic
def addon_delete(*, actor: Any, addon: ContractAddOn) -> None:
    """Remove an add-on from a draft contract."""
    require(actor, "contracts", "change")
    _addon_draft_only(addon.contract)
    snapshot, pk, client_id = audit.snapshot(addon), addon.pk, addon.client_id
    addon.delete()
    audit.record(actor, "contract_addon.deleted", object_type="contracts.contractaddon", object_id=str(pk),
                 client_id=client_id, changes=snapshot)


# --- Coverage --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    """What a coverage sync changed."""

    added_devices: list[int]
    ended_devices: list[int]
    added_sites: list[int]
    ended_sites: list[int]

    @property
    def changed(self) -> bool:
        return bool(self.added_devices or self.ended_devices or self.added_sites or self.ended_sites)


def _wanted_devices(contract: Contract) -> set[int]:
    devices = Device.objects.filter(client_id=contract.client_id, kind__in=selectors.COVERED_DEVICE_KINDS).exclude(
        state=DeviceState.RETIRED)
    if contract.site_id is not None:
        devices = devices.filter(site_id=contract.site_id)
    return set(devices.values_list("pk", flat=True))


def _wanted_sites(contract: Contract) -> set[int]:
    if contract.site_id is not None:
        return {contract.site_id}
    return set(Site.objects.filter(client_id=contract.client_id).values_list("pk", flat=True))


def coverage_sync(contract: Contract, *, now: datetime | None = None) -> SyncResult:
    """Bring a managed-services contract's device and site coverage in line with the RMM and the client's
    sites: non-retired devices of a counted kind (and of the contract's site, if it has one) are covered,
    others are not. Idempotent; a contract not in force has no automatic coverage. Users stay as set."""
    now = now or timezone.now()
    in_force = contract.is_managed and contract.in_force_on(timezone.localdate(now))
    wanted_devices = _wanted_devices(contract) if in_force else set()
    wanted_sites = _wanted_sites(contract) if in_force else set()
    current = contract.coverage.filter(ended_at__isnull=True, automatic=True)
    have_devices = set(current.filter(kind=CoverageKind.DEVICE).values_list("device_id", flat=True))
    have_sites = set(current.filter(kind=CoverageKind.SITE).values_list("site_id", flat=True))
    add_d, end_d = sorted(wanted_devices - have_devices), sorted(have_devices - wanted_devices)
    add_s, end_s = sorted(wanted_sites - have_sites), sorted(have_sites - wanted_sites)
    if end_d:
        current.filter(kind=CoverageKind.DEVICE, device_id__in=end_d).update(ended_at=now)
    if end_s:
        current.filter(kind=CoverageKind.SITE, site_id__in=end_s).update(ended_at=now)
    rows = [ContractCoverage(client_id=contract.client_id, contract=contract, kind=CoverageKind.DEVICE, device_id=pk,
                             started_at=now) for pk in add_d]
    rows += [ContractCoverage(client_id=contract.client_id, contract=contract, kind=CoverageKind.SITE, site_id=pk,
                              started_at=now) for pk in add_s]
    if rows:
        try:
            with transaction.atomic():
                ContractCoverage.objects.bulk_create(rows)
        except IntegrityError:
            # Another sync of the same contract added them first; its rows are the same rows.
            logger.info("coverage of contract %s synced concurrently", contract.pk)
            return SyncResult([], [], [], [])
    result = SyncResult(add_d, end_d, add_s, end_s)
    if result.changed:
        audit.record(None, "contract.coverage_synced", contract, changes={
            "devices_added": add_d, "devices_ended": end_d, "sites_added": add_s, "sites_ended": end_s})
        events.emit("contract.coverage_changed", client_id=contract.client_id, payload={
            "contract_id": contract.pk, "devices_added": add_d, "devices_ended": end_d, "sites_added": add_s,
            "sites_ended": end_s})
    return result


def managed_contracts_in_force(client_id: int | None = None) -> list[Contract]:
    """Active managed-services contracts (of one client, or all) whose dates include today."""
    today = timezone.localdate()
    queryset = Contract.objects.filter(type=ContractType.MANAGED, status=ContractStatus.ACTIVE,
                                       start_date__lte=today).filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
    if client_id is not None:
        queryset = queryset.filter(client_id=client_id)
    return list(queryset.order_by("pk"))


def on_client_inventory_changed(event: OutboxEvent) -> None:
    """Event handler: a client's devices or sites changed; its managed contracts' coverage follows."""
    client_id = event.client_id or (event.payload or {}).get("client_id")
    if not client_id:
        return
    for contract in managed_contracts_in_force(int(client_id)):
        coverage_sync(contract)


def reconcile_all_coverage() -> dict[str, int]:
    """The safety net: sync every managed contract in force, and end the coverage of contracts no longer in
    force (ended by date)."""
    synced = changed = 0
    for contract in managed_contracts_in_force():
        with transaction.atomic():
            changed += coverage_sync(contract).changed
        synced += 1
    today = timezone.localdate()
    stale = Contract.objects.filter(coverage__ended_at__isnull=True, coverage__automatic=True).exclude(
        Q(status=ContractStatus.ACTIVE, start_date__lte=today) & (Q(end_date__isnull=True) | Q(end_date__gte=today))
    ).distinct()
    for contract in stale:
        with transaction.atomic():
            changed += coverage_sync(contract).changed
    return {"synced": synced, "changed": changed}


@transaction.atomic
def coverage_add_user(*, actor: Any, contract: Contract, contact_id: Any) -> ContractCoverage:
    """Cover one of the client's contacts as a user of a managed-services contract (counted per user)."""
    require(actor, "contracts", "change")
    if not contract.is_managed:
        raise ValidationError(_("Only a managed-services contract covers users."), field="contact")
    if contract.status in (ContractStatus.ENDED, ContractStatus.CANCELLED):
        raise Conflict(_("An ended or cancelled contract cannot be changed."))
    try:
        contact_pk = int(contact_id)
    except (TypeError, ValueError):
        contact_pk = 0
    contact = Contact.objects.filter(pk=contact_pk, client_id=contract.client_id).first()
    if contact is None:
        # Never confirm that another client's contact exists.
        raise ValidationError(_("Choose one of this client's contacts."), field="contact")
    row = ContractCoverage(client_id=contract.client_id, contract=contract, kind=CoverageKind.USER, contact=contact,
                           automatic=False, started_at=timezone.now())
    save_or_unique_error(row, unique_message=_("This user is already covered."), unique_field="contact")
    audit.record(actor, "contract.user_covered", contract, changes={"contact": contact.pk})
    events.emit("contract.coverage_changed", client_id=contract.client_id,
                payload={"contract_id": contract.pk, "users_added": [contact.pk]})
    return row


@transaction.atomic
def coverage_end(*, actor: Any, coverage: ContractCoverage) -> ContractCoverage:
    """Stop covering a user (devices and sites follow the RMM and the client's sites by themselves)."""
    require(actor, "contracts", "change")
    if coverage.automatic:
        raise Conflict(_("Devices and sites follow the RMM automatically: retire the device or change the "
                         "contract's site instead."))
    if coverage.ended_at is not None:
        raise Conflict(_("This coverage has already ended."))
    coverage.ended_at = timezone.now()
    coverage.save(update_fields=["ended_at", "updated_at"])
    audit.record(actor, "contract.user_uncovered", coverage.contract, changes={"contact": coverage.contact_id})
    events.emit("contract.coverage_changed", client_id=coverage.client_id,
                payload={"contract_id": coverage.contract_id, "users_ended": [coverage.contact_id]})
    return coverage


# --- Addenda ---------------------------------------------------------------------------------------------


def _addon_changes(value: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    for item in value or []:
        service_id = item.get("service_id")
        _check_addon_service(service_id)
        if service_id in seen:
            raise ValidationError(_("This addendum already changes this add-on."), field="addon_changes")
        seen.add(service_id)
        row = {"service_id": service_id, "remove": bool(item.get("remove", False)),
               "per_unit": bool(item.get("per_unit", True)),
               "quantity": Decimal(item.get("quantity") if item.get("quantity") is not None else 1),
               "unit_price": item.get("unit_price")}
        if row["quantity"] < 0 or (row["unit_price"] is not None and Decimal(row["unit_price"]) < 0):
            raise ValidationError(NEGATIVE, field="addon_changes")
        rows.append(row)
    return rows


def _addendum_save(actor: Any, addendum: ContractAddendum, data: dict[str, Any], verb: str) -> ContractAddendum:
    contract = addendum.contract
    changes_given = "addon_changes" in data
    addon_rows = _addon_changes(data.pop("addon_changes", None))
    if data.get("new_plan_id") is not None:
        if not contract.is_managed:
            raise ValidationError(_("Only a managed-services contract has a plan."), field="new_plan")
        if not Plan.objects.filter(pk=data["new_plan_id"], active=True).exists():
            raise ValidationError(_("Choose an active plan."), field="new_plan")
    before = audit.snapshot(addendum) if addendum.pk else {}
    apply_fields(addendum, ADDENDUM_FIELDS, data)
    _refuse_negative(addendum, ("new_minimum_monthly_commitment", "new_out_of_scope_rate", "new_overage_rate",
                                "new_hours_purchased"))
    if addendum.effective_date and addendum.effective_date < contract.start_date:
        raise ValidationError(_("An addendum cannot take effect before the contract starts."), field="effective_date")
    if addendum.new_end_date and addendum.new_end_date < contract.start_date:
        raise ValidationError(_("The end date cannot be before the start date."), field="new_end_date")
    _validate(addendum)
    addendum.save()
    if changes_given:
        addendum.addon_changes.all().delete()
        AddendumAddOn.objects.bulk_create([AddendumAddOn(addendum=addendum, **row) for row in addon_rows])
    changes = audit.diff(before, audit.snapshot(addendum))
    if changes_given:
        changes["addon_changes"] = [{k: str(v) for k, v in row.items()} for row in addon_rows]
    audit.record(actor, f"contract_addendum.{verb}", addendum, changes=changes)
    if (contract.status == ContractStatus.ACTIVE and addendum.effective_date <= timezone.localdate()):
        addendum_apply(addendum=addendum, actor=actor)
    return addendum


def _check_addendum_contract(contract: Contract) -> None:
    if contract.status in (ContractStatus.ENDED, ContractStatus.CANCELLED):
        raise Conflict(_("An ended or cancelled contract cannot be changed."))


@transaction.atomic
def addendum_create(*, actor: Any, contract: Contract, data: dict[str, Any]) -> ContractAddendum:
    """Record a change to a contract from an effective date; one already due on a signed contract applies
    at once, a later one when its date arrives."""
    require(actor, "contracts", "change")
    _check_addendum_contract(contract)
    addendum = ContractAddendum(client_id=contract.client_id, contract=contract)
    return _addendum_save(actor, addendum, dict(data), "created")


@transaction.atomic
def addendum_update(*, actor: Any, addendum: ContractAddendum, data: dict[str, Any]) -> ContractAddendum:
    """Change a pending addendum (given add-on changes replace the old ones)."""
    require(actor, "contracts", "change")
    if addendum.status != AddendumStatus.PENDING:
        raise Conflict(_("Only a pending addendum can be changed."))
    _check_addendum_contract(addendum.contract)
    return _addendum_save(actor, addendum, dict(data), "updated")


@transaction.atomic
def addendum_cancel(*, actor: Any, addendum: ContractAddendum) -> ContractAddendum:
    """Cancel a pending addendum."""
    require(actor, "contracts", "change")
    if addendum.status != AddendumStatus.PENDING:
        raise Conflict(_("Only a pending addendum can be cancelled."))
    addendum.status = AddendumStatus.CANCELLED
    addendum.save(update_fields=["status", "updated_at"])
    audit.record(actor, "contract_addendum.cancelled", addendum, changes={"status": ["pending", "cancelled"]})
    return addendum


@transaction.atomic
def addendum_apply(*, addendum: ContractAddendum, actor: Any = None) -> Contract:
    """Apply a pending addendum to its contract (by its date's scheduled run, or at once when already due):
    new plan (re-applying the tier's baseline), add-ons, prices, end date; audited on both records."""
    addendum = ContractAddendum.objects.select_for_update(of=("self",)).select_related("new_plan").get(
        pk=addendum.pk)
    contract = Contract.objects.select_for_update(of=("self",)).select_related("plan", "client").get(
        pk=addendum.contract_id)
    if addendum.status != AddendumStatus.PENDING:
        return contract
    before = audit.snapshot(contract)
    old_tier = contract.plan.tier if contract.plan else None
    for source, target in (("new_plan_id", "plan_id"), ("new_minimum_monthly_commitment",
                                                          "minimum_monthly_commitment"),
                           ("new_out_of_scope_rate", "out_of_scope_rate"), ("new_overage_rate", "overage_rate"),
                           ("new_hours_purchased", "hours_purchased"), ("new_end_date", "end_date")):
        value = getattr(addendum, source)
        if value is not None:
            setattr(contract, target, value)
    contract.save()
    contract.refresh_from_db()
    addon_log: list[dict[str, Any]] = []
    for change in addendum.addon_changes.all():
        if change.remove:
            removed, _n = ContractAddOn.objects.filter(contract=contract, service_id=change.service_id).delete()
            addon_log.append({"service": change.service_id, "removed": bool(removed)})
        else:
            ContractAddOn.objects.update_or_create(contract=contract, service_id=change.service_id, defaults={
                "client_id": contract.client_id, "per_unit": change.per_unit, "quantity": change.quantity,
                "unit_price": change.unit_price})
            addon_log.append({"service": change.service_id, "quantity": str(change.quantity),
                              "per_unit": change.per_unit, "unit_price": str(change.unit_price)})
    addendum.status, addendum.applied_at = AddendumStatus.APPLIED, timezone.now()
    addendum.save(update_fields=["status", "applied_at", "updated_at"])
    changes = {**audit.diff(before, audit.snapshot(contract)), "addons": addon_log, "addendum": addendum.pk}
    audit.record(actor, "contract_addendum.applied", addendum, changes={"contract": contract.pk})
    audit.record(actor, "contract.amended", contract, changes=changes)
    new_tier = contract.plan.tier if contract.plan else None
    if contract.status == ContractStatus.ACTIVE and contract.is_managed and new_tier and new_tier != old_tier:
        _apply_baseline(actor, contract)
    if contract.status == ContractStatus.ACTIVE:
        coverage_sync(contract)
    events.emit("contract.amended", client_id=contract.client_id, payload={
        "contract_id": contract.pk, "addendum_id": addendum.pk, "plan_id": contract.plan_id,
        "tier": new_tier, "previous_tier": old_tier})
    return contract


def apply_due_addenda(today: date | None = None) -> list[int]:
    """Apply every pending addendum of a signed contract whose date has come; returns their ids."""
    today = today or timezone.localdate()
    due = list(ContractAddendum.objects.filter(status=AddendumStatus.PENDING, effective_date__lte=today,
                                               contract__status=ContractStatus.ACTIVE)
               .order_by("effective_date", "pk").values_list("pk", flat=True))
    applied = []
    for pk in due:
        addendum = ContractAddendum.objects.get(pk=pk)
        addendum_apply(addendum=addendum)
        applied.append(pk)
    return applied


# --- Projects -------------------------------------------------------------------------------------------


def _check_project(project: Project) -> None:
    _refuse_negative(project, ("budgeted_hours", "fixed_price", "hourly_rate"))
    if project.billing == ProjectBilling.FIXED and project.fixed_price is None:
        raise ValidationError(_("A fixed-price project needs its price."), field="fixed_price")
    if project.billing == ProjectBilling.HOURLY and project.hourly_rate is None:
        raise ValidationError(_("An hourly project needs its hourly rate."), field="hourly_rate")
    if project.start_date and project.due_date and project.due_date < project.start_date:
        raise ValidationError(_("The due date cannot be before the start date."), field="due_date")
    if project.contract_id is not None and not Contract.objects.filter(pk=project.contract_id,
                                                                       client_id=project.client_id).exists():
        raise ValidationError(_("Choose one of this client's contracts."), field="contract")
    if project.pk and project.billing == ProjectBilling.FIXED:
        _check_milestone_total(project, extra=Decimal(0))
    _validate(project)


def _check_milestone_total(project: Project, extra: Decimal, exclude_pk: int | None = None) -> None:
    if project.billing != ProjectBilling.FIXED or project.fixed_price is None:
        return
    others = project.milestones.exclude(pk=exclude_pk) if exclude_pk is not None else project.milestones.all()
    total = sum((m.amount for m in others), Decimal(0)) + extra
    if total > project.fixed_price:
        raise ValidationError(_("The milestones add up to %(total)s, more than the fixed price %(price)s.") % {
            "total": total, "price": project.fixed_price}, field="amount")


@transaction.atomic
def project_create(*, actor: Any, client: Client, data: dict[str, Any]) -> Project:
    """Create an onboarding or out-of-scope project for a client."""
    require(actor, "contracts", "add")
    project = Project(client=client)
    apply_fields(project, PROJECT_FIELDS, data)
    _check_project(project)
    project.save()
    audit.record(actor, "project.created", project, changes=audit.snapshot(project, list(PROJECT_FIELDS)))
    events.emit("project.created", client_id=client.pk, payload={"project_id": project.pk, "kind": project.kind})
    return project


@transaction.atomic
def project_update(*, actor: Any, project: Project, data: dict[str, Any]) -> Project:
    """Change a project."""
    require(actor, "contracts", "change")
    before = audit.snapshot(project)
    apply_fields(project, PROJECT_FIELDS, data)
    _check_project(project)
    project.save()
    changes = audit.diff(before, audit.snapshot(project))
    if changes:
        audit.record(actor, "project.updated", project, changes=changes)
    return project


@transaction.atomic
def project_delete(*, actor: Any, project: Project) -> None:
    """Delete a project without invoiced milestones."""
    require(actor, "contracts", "delete")
    if project.milestones.filter(status=MilestoneStatus.INVOICED).exists():
        raise Conflict(_("A project with invoiced milestones cannot be deleted."))
    snapshot, pk, client_id = audit.snapshot(project), project.pk, project.client_id
    project.delete()
    audit.record(actor, "project.deleted", object_type="contracts.project", object_id=str(pk), client_id=client_id,
                 changes=snapshot)


def _task_save(actor: Any, task: ProjectTask, data: dict[str, Any], verb: str) -> ProjectTask:
    before = audit.snapshot(task) if task.pk else {}
    apply_fields(task, TASK_FIELDS, data)
    _refuse_negative(task, ("estimate_hours",), _("Hours cannot be negative."))
    _validate(task)
    task.save()
    changes = audit.diff(before, audit.snapshot(task))
    if changes:
        audit.record(actor, f"project_task.{verb}", task, changes=changes)
    return task


@transaction.atomic
def task_create(*, actor: Any, project: Project, data: dict[str, Any]) -> ProjectTask:
    """Add a task to a project."""
    require(actor, "contracts", "change")
    return _task_save(actor, ProjectTask(client_id=project.client_id, project=project), data, "created")


@transaction.atomic
def task_update(*, actor: Any, task: ProjectTask, data: dict[str, Any]) -> ProjectTask:
    """Change a task (or tick it done)."""
    require(actor, "contracts", "change")
    return _task_save(actor, task, data, "updated")


@transaction.atomic
def task_delete(*, actor: Any, task: ProjectTask) -> None:
    """Remove a task."""
    require(actor, "contracts", "change")
    snapshot, pk, client_id = audit.snapshot(task), task.pk, task.client_id
    task.delete()
    audit.record(actor, "project_task.deleted", object_type="contracts.projecttask", object_id=str(pk),
                 client_id=client_id, changes=snapshot)


def _milestone_save(actor: Any, milestone: Milestone, data: dict[str, Any], verb: str) -> Milestone:
    if milestone.status == MilestoneStatus.INVOICED:
        raise Conflict(_("An invoiced milestone cannot be changed."))
    if data.get("status") == MilestoneStatus.INVOICED:
        raise ValidationError(_("Billing marks a milestone invoiced when it invoices it."), field="status")
    before = audit.snapshot(milestone) if milestone.pk else {}
    apply_fields(milestone, MILESTONE_FIELDS, data)
    _refuse_negative(milestone, ("amount",))
    _validate(milestone)
    _check_milestone_total(milestone.project, milestone.amount, exclude_pk=milestone.pk)
    if milestone.status == MilestoneStatus.REACHED and milestone.reached_at is None:
        milestone.reached_at = timezone.now()
    if milestone.status == MilestoneStatus.PLANNED:
        milestone.reached_at = None
    milestone.save()
    changes = audit.diff(before, audit.snapshot(milestone))
    if changes:
        audit.record(actor, f"milestone.{verb}", milestone, changes=changes)
    if "status" in changes and milestone.status == MilestoneStatus.REACHED:
        events.emit("milestone.reached", client_id=milestone.client_id, payload={
            "milestone_id": milestone.pk, "project_id": milestone.project_id, "amount": milestone.amount})
    return milestone


@transaction.atomic
def milestone_create(*, actor: Any, project: Project, data: dict[str, Any]) -> Milestone:
    """Add a milestone to a project (a fixed-price project's milestones add up to at most its price)."""
    require(actor, "contracts", "change")
    return _milestone_save(actor, Milestone(client_id=project.client_id, project=project), data, "created")


@transaction.atomic
def milestone_update(*, actor: Any, milestone: Milestone, data: dict[str, Any]) -> Milestone:
    """Change a milestone, or mark it reached (billing then invoices it)."""
    require(actor, "contracts", "change")
    return _milestone_save(actor, milestone, data, "updated")


@transaction.atomic
def milestone_delete(*, actor: Any, milestone: Milestone) -> None:
    """Remove a milestone not yet invoiced."""
    require(actor, "contracts", "change")
    if milestone.status == MilestoneStatus.INVOICED:
        raise Conflict(_("An invoiced milestone cannot be changed."))
    snapshot, pk, client_id = audit.snapshot(milestone), milestone.pk, milestone.client_id
    milestone.delete()
    audit.record(actor, "milestone.deleted", object_type="contracts.milestone", object_id=str(pk),
                 client_id=client_id, changes=snapshot)


@transaction.atomic
def milestone_mark_invoiced(*, actor: Any, milestone: Milestone) -> Milestone:
    """For billing: a reached milestone has been invoiced (only once)."""
    require(actor, "invoices", "add")
    updated = Milestone.objects.filter(pk=milestone.pk, status=MilestoneStatus.REACHED).update(
        status=MilestoneStatus.INVOICED, updated_at=timezone.now())
    if updated != 1:
        raise Conflict(_("Only a reached milestone can be invoiced."))
    milestone.refresh_from_db()
    audit.record(actor, "milestone.invoiced", milestone, changes={"status": ["reached", "invoiced"]})
    return milestone
