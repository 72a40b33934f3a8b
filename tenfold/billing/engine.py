"""The monthly billing run: one draft invoice per client with what is billed in advance for the coming month
and what is billed in arrears for the month past.

For the period P (the first day of the month billed in advance) and the run date R:
- Recurring (in advance): every managed-services contract in force on R, its plan's items and add-ons priced by
  the catalog (`contracts.selectors.contract_lines`, which uses `catalog.pricing`) at the unit counts covered at
  the start of R, the devices, users and sites counted listed in the line's detail; unit prices times the
  contract's indexation factor, rounded to the cent; a block-of-hours contract with a price (`fixed_price_amount`)
  bills that price for the month.
- Prorated adjustments (the past month M, when a run billed M in advance): a unit covered after that run's cut-off
  is charged from the day it was added, a unit counted then and removed during M is credited from the day it
  was removed; amount = units × unit price × days / days in M, rounded once to the cent, half up.
- Arrears: approved (or not needing approval) billable out-of-scope time logged before P and not yet billed,
  one line per ticket or project and rate (the amount is the sum of the entries' amounts); block-hour overage of
  M at the overage rate (`usage.block_usage`); project milestones reached before P.
- One-off charges dated up to R not yet billed.
- Minimum commitment: a managed contract whose recurring lines add up to less than its minimum monthly
  commitment gets a line for the difference.
- Tax: the default tax rate, stored on every line; the invoice's totals come from `recompute_totals`.

Idempotency: one BillingRun per period (unique), one invoice per client and run (unique), every line billed by
the run has a unique `key` (recurring, proration, block, overage, minimum, milestone, one-off), time entries are
billed through `BilledTimeEntry` (one-to-one), one-off charges through `OneOffCharge.line`, milestones move from
reached to invoiced by a conditional update. A run stopped half-way is completed by running it again; a client
that already has an invoice in the run is left alone.
"""

from __future__ import annotations

import calendar
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from tenfold.billing.models import (
    BilledTimeEntry,
    BillingRun,
    BillingRunStatus,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    OneOffCharge,
)
from tenfold.billing.usage import block_usage, month_start, next_month
from tenfold.catalog.pricing import Line, UnitCounts
from tenfold.clients.models import Client
from tenfold.contracts.models import (
    Contract,
    ContractCoverage,
    ContractStatus,
    ContractType,
    CoverageKind,
    Milestone,
    MilestoneStatus,
)
from tenfold.contracts.selectors import UNIT_OF_DEVICE_KIND, contract_lines
from tenfold.core import audit, events
from tenfold.core.errors import ValidationError
from tenfold.core.models import TaxRate
from tenfold.core.roles import require
from tenfold.core.selectors import organization
from tenfold.servicedesk.models import ApprovalStatus, Coverage, TimeEntry

logger = logging.getLogger("tenfold.billing")

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
SIXTY = Decimal(60)
UNIT_FIELDS = {"workstation": "workstations", "server": "servers", "network_device": "network_devices",
               "mobile": "mobiles", "user": "users", "site": "sites"}

__all__ = ["billing_run", "money", "month_label", "recompute_totals", "tax_breakdown"]


def money(value: Decimal) -> Decimal:
    """A sum of money to the cent, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def month_label(day: date) -> str:
    """"March 2026" in the active language."""
    return formats.date_format(day, "YEAR_MONTH_FORMAT")


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


# --- Totals ------------------------------------------------------------------------------------------------


def tax_breakdown(lines: Iterable[InvoiceLine]) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(rate, base, tax) per tax rate, highest rate first: tax = base × rate / 100 rounded once per rate."""
    bases: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        bases[Decimal(line.tax_rate)] += line.amount
    return [(rate, bases[rate], money(bases[rate] * rate / HUNDRED)) for rate in sorted(bases, reverse=True)]


def recompute_totals(invoice: Invoice) -> Invoice:
    """Set the invoice's subtotal, tax and total from its lines (the only place they are computed)."""
    lines = list(InvoiceLine.objects.filter(invoice=invoice))
    subtotal = sum((line.amount for line in lines), ZERO)
    tax = sum((row[2] for row in tax_breakdown(lines)), ZERO)
    invoice.subtotal, invoice.tax_total, invoice.total = subtotal, tax, subtotal + tax
    Invoice.objects.filter(pk=invoice.pk).update(subtotal=subtotal, tax_total=tax, total=subtotal + tax,
                                                 updated_at=timezone.now())
    return invoice


def default_tax_rate() -> Decimal:
    """The default tax rate in percent (0 when none is set)."""
    rate = TaxRate.objects.filter(is_default=True).values_list("rate", flat=True).first()
    return Decimal(rate) if rate is not None else Decimal("0.000")


# --- Lines being built ---------------------------------------------------------------------------------------


@dataclass
class Draft:
    """One line to write, with what it claims once written."""

    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    key: str = ""
    contract: Contract | None = None
    service_id: int | None = None
    milestone: Milestone | None = None
    period_start: date | None = None
    period_end: date | None = None
    days: int | None = None
    period_days: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    time_entries: list[int] = field(default_factory=list)
    one_off: OneOffCharge | None = None


@dataclass(frozen=True)
class Period:
    """The month billed in advance and the month past billed in arrears."""

    start: date
    end: date
    past_start: date
    past_end: date
    run_date: date

    @classmethod
    def of(cls, period_start: date, run_date: date) -> Period:
        end = next_month(period_start) - timedelta(days=1)
        past_start = month_start(period_start - timedelta(days=1))
        return cls(period_start, end, past_start, period_start - timedelta(days=1), run_date)


def _unit_of(row: ContractCoverage) -> str:
    if row.kind == CoverageKind.SITE:
        return "site"
    if row.kind == CoverageKind.USER:
        return "user"
    return str(UNIT_OF_DEVICE_KIND.get(row.device.kind, "")) if row.device is not None else ""


def _label(row: ContractCoverage) -> dict[str, Any]:
    if row.kind == CoverageKind.DEVICE and row.device is not None:
        return {"id": row.device_id, "name": row.device.name, "kind": "device"}
    if row.kind == CoverageKind.SITE and row.site is not None:
        return {"id": row.site_id, "name": row.site.name, "kind": "site"}
    contact = row.contact
    name = f"{contact.first_name} {contact.last_name}".strip() if contact is not None else ""
    return {"id": row.contact_id, "name": name, "kind": "user"}


def _coverage(contract: Contract) -> list[ContractCoverage]:
    return list(contract.coverage.select_related("device", "site", "contact").order_by("pk"))


def _open_at(rows: list[ContractCoverage], moment: datetime) -> list[ContractCoverage]:
    return [r for r in rows if r.started_at < moment and (r.ended_at is None or r.ended_at >= moment)]


def _counts(rows: list[ContractCoverage]) -> UnitCounts:
    counts = dict.fromkeys(UNIT_FIELDS.values(), 0)
    for row in rows:
        unit = _unit_of(row)
        if unit:
            counts[UNIT_FIELDS[unit]] += 1
    return UnitCounts(**counts)


def _per_unit_lines(contract: Contract) -> list[Line]:
    """The contract's lines that follow the unit counts, each at one unit (for unit prices)."""
    fixed = set(contract.addons.filter(per_unit=False).values_list("service_id", flat=True))
    ones = UnitCounts(**dict.fromkeys(UNIT_FIELDS.values(), 1))
    return [line for line in contract_lines(contract, ones)
            if line.unit in UNIT_FIELDS and line.service_id not in fixed]


def _indexed(price: Decimal, contract: Contract) -> Decimal:
    return money(Decimal(price) * contract.indexation_factor())


def _recurring(contract: Contract, period: Period, cutoff: datetime) -> list[Draft]:
    rows = _open_at(_coverage(contract), cutoff)
    by_unit: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        unit = _unit_of(row)
        if unit:
            by_unit[unit].append(_label(row))
    month = month_label(period.start)
    drafts = []
    for line in contract_lines(contract, _counts(rows)):
        if line.quantity <= 0:
            continue
        price = _indexed(line.unit_price, contract)
        detail: dict[str, Any] = {"unit": line.unit, "counted_on": period.run_date.isoformat(),
                                  "contract": contract.number}
        if line.unit in by_unit:
            detail["units"] = sorted(by_unit[line.unit], key=lambda u: (u["name"].lower(), u["id"]))
        if contract.indexation_factor() != 1:
            detail["list_unit_price"] = str(line.unit_price)
            detail["indexation_factor"] = str(contract.indexation_factor())
        drafts.append(Draft(
            kind=LineKind.RECURRING, description=_("%(service)s — %(month)s") % {"service": line.name, "month": month},
            quantity=line.quantity, unit_price=price, amount=money(line.quantity * price), contract=contract,
            service_id=line.service_id, period_start=period.start, period_end=period.end, detail=detail,
            key=f"recurring:{contract.pk}:{period.start:%Y-%m}:{line.service_id}"))
    return drafts


def _prorations(contract: Contract, period: Period, past_cutoff: datetime) -> list[Draft]:
    """Units that changed during the past month, after the run that billed it in advance."""
    month_end = _aware(period.start)
    days_in_month = calendar.monthrange(period.past_start.year, period.past_start.month)[1]
    # (unit, direction, start day, end day) → units
    groups: dict[tuple[str, str, int, int], list[dict[str, Any]]] = defaultdict(list)
    for row in _coverage(contract):
        unit = _unit_of(row)
        if not unit:
            continue
        added = past_cutoff <= row.started_at < month_end
        removed = row.ended_at is not None and past_cutoff <= row.ended_at < month_end
        counted_before = row.started_at < past_cutoff
        if added:
            first = _local_day(row.started_at).day
            last = _local_day(row.ended_at).day if removed and row.ended_at is not None else days_in_month + 1
            if last > first:
                groups[(unit, "added", first, last)].append(_label(row))
        elif removed and counted_before and row.ended_at is not None:
            groups[(unit, "removed", _local_day(row.ended_at).day, days_in_month + 1)].append(_label(row))
    if not groups:
        return []
    lines = _per_unit_lines(contract)
    drafts = []
    for (unit, direction, first, last), units in sorted(groups.items()):
        days = last - first
        start = period.past_start.replace(day=first)
        end = period.past_start.replace(day=last - 1)
        for line in lines:
            if line.unit != unit:
                continue
            price = _indexed(line.unit_price, contract)
            sign = 1 if direction == "added" else -1
            amount = money(len(units) * price * days / days_in_month) * sign
            if direction == "added":
                text = _("%(service)s — %(count)s added, %(start)s to %(end)s (%(days)s/%(month_days)s days)")
            else:
                text = _("%(service)s — %(count)s removed, credit %(start)s to %(end)s (%(days)s/%(month_days)s days)")
            description = text % {"service": line.name, "count": len(units), "start": formats.date_format(start,
                                  "SHORT_DATE_FORMAT"), "end": formats.date_format(end, "SHORT_DATE_FORMAT"),
                                  "days": days, "month_days": days_in_month}
            drafts.append(Draft(
                kind=LineKind.PRORATION, description=description, quantity=Decimal(len(units)),
                unit_price=price * sign, amount=amount, contract=contract, service_id=line.service_id,
                period_start=start, period_end=end, days=days, period_days=days_in_month,
                detail={"unit": unit, "change": direction, "units": sorted(units, key=lambda u: (u["name"].lower(),
                                                                                                u["id"]))},
                key=f"proration:{contract.pk}:{period.past_start:%Y-%m}:{line.service_id}:{direction}:{first}:{last}"))
    return drafts


def _minimum(contract: Contract, period: Period, recurring: list[Draft]) -> list[Draft]:
    total = sum((d.amount for d in recurring), ZERO)
    minimum = contract.minimum_monthly_commitment or ZERO
    if minimum <= 0 or total >= minimum:
        return []
    top_up = money(minimum - total)
    return [Draft(kind=LineKind.MINIMUM, description=_("Minimum monthly commitment %(minimum)s — %(month)s") % {
        "minimum": minimum, "month": month_label(period.start)}, quantity=Decimal(1), unit_price=top_up,
        amount=top_up, contract=contract, period_start=period.start, period_end=period.end,
        detail={"minimum": str(minimum), "recurring_total": str(total), "contract": contract.number},
        key=f"minimum:{contract.pk}:{period.start:%Y-%m}")]


def _block(contract: Contract, period: Period) -> list[Draft]:
    if contract.fixed_price_amount is None or contract.fixed_price_amount <= 0:
        return []
    price = _indexed(contract.fixed_price_amount, contract)
    return [Draft(kind=LineKind.BLOCK, description=_("Block of %(hours)s hours — %(month)s") % {
        "hours": contract.hours_purchased, "month": month_label(period.start)}, quantity=Decimal(1),
        unit_price=price, amount=price, contract=contract, period_start=period.start, period_end=period.end,
        detail={"hours": str(contract.hours_purchased), "contract": contract.number},
        key=f"block:{contract.pk}:{period.start:%Y-%m}")]


def _overage(contract: Contract, period: Period) -> list[Draft]:
    if not contract.overage_rate:
        return []
    usage = block_usage(contract, period.past_start, period.past_end)
    if usage.overrun <= 0:
        return []
    rate = Decimal(contract.overage_rate)
    return [Draft(kind=LineKind.OVERAGE, description=_("Hours beyond the block — %(month)s") % {
        "month": month_label(period.past_start)}, quantity=usage.overrun, unit_price=rate,
        amount=money(usage.overrun * rate), contract=contract, period_start=period.past_start,
        period_end=period.past_end,
        detail={"purchased": str(usage.purchased), "carried_in": str(usage.carried_in), "used": str(usage.used),
                "overrun": str(usage.overrun), "contract": contract.number},
        key=f"overage:{contract.pk}:{period.past_start:%Y-%m}")]


def billable_time(client_id: int | None = None, before: date | None = None) -> Any:
    """Out-of-scope time waiting to be invoiced: approved or not needing approval, billable, not yet billed."""
    queryset = TimeEntry.objects.filter(
        billable=True, coverage=Coverage.OUT_OF_SCOPE, is_running=False, billable_minutes__gt=0,
        approval_status__in=[ApprovalStatus.APPROVED, ApprovalStatus.NOT_REQUIRED], billed__isnull=True)
    if client_id is not None:
        queryset = queryset.filter(client_id=client_id)
    if before is not None:
        queryset = queryset.filter(started_at__lt=_aware(before))
    return queryset


def _time(client: Client, period: Period) -> list[Draft]:
    entries = (billable_time(client.pk, period.start).select_related("ticket", "project", "contract", "user")
               .order_by("started_at", "pk"))
    groups: dict[tuple[str, int, Decimal], list[TimeEntry]] = defaultdict(list)
    for entry in entries:
        target = ("ticket", entry.ticket_id) if entry.ticket_id else ("project", entry.project_id or 0)
        groups[(target[0], target[1], entry.rate)].append(entry)
    drafts = []
    for (kind, _pk, rate), items in groups.items():
        first = items[0]
        if kind == "ticket" and first.ticket is not None:
            subject = f"{first.ticket.number} {first.ticket.title}".strip()
        else:
            subject = str(first.project or "")
        minutes = sum(e.billable_minutes for e in items)
        hours = (Decimal(minutes) / SIXTY).quantize(CENT, rounding=ROUND_HALF_UP)
        drafts.append(Draft(
            kind=LineKind.TIME, description=_("Out-of-scope work: %(subject)s") % {"subject": subject},
            quantity=hours, unit_price=rate, amount=sum((e.amount for e in items), ZERO), contract=first.contract,
            period_start=_local_day(items[0].started_at), period_end=_local_day(items[-1].started_at),
            detail={"minutes": minutes, "entries": [{
                "id": e.pk, "date": _local_day(e.started_at).isoformat(), "technician": e.user.get_full_name(),
                "minutes": e.actual_minutes, "billable_minutes": e.billable_minutes, "rate": str(e.rate),
                "amount": str(e.amount), "notes": e.notes[:200]} for e in items]},
            time_entries=[e.pk for e in items]))
    return drafts


def reached_milestones(period_start: date) -> Any:
    """Milestones reached before the month billed in advance (in arrears) and not yet invoiced."""
    return Milestone.objects.filter(status=MilestoneStatus.REACHED).filter(
        Q(reached_at__lt=_aware(period_start)) | Q(reached_at__isnull=True))


def _milestones(client: Client, period: Period) -> list[Draft]:
    drafts = []
    for milestone in (reached_milestones(period.start).filter(client=client)
                      .select_related("project").order_by("reached_at", "pk")):
        drafts.append(Draft(
            kind=LineKind.MILESTONE, description=_("Project %(project)s: %(milestone)s") % {
                "project": milestone.project.name, "milestone": milestone.name},
            quantity=Decimal(1), unit_price=milestone.amount, amount=milestone.amount, milestone=milestone,
            contract=milestone.project.contract,
            detail={"project_id": milestone.project_id, "project": milestone.project.name,
                    "reached_on": _local_day(milestone.reached_at).isoformat() if milestone.reached_at else None},
            key=f"milestone:{milestone.pk}"))
    return drafts


def _one_offs(client: Client, period: Period) -> list[Draft]:
    return [Draft(kind=LineKind.ONE_OFF, description=charge.description, quantity=charge.quantity,
                  unit_price=charge.unit_price, amount=money(charge.quantity * charge.unit_price),
                  contract=charge.contract, period_start=charge.service_date, period_end=charge.service_date,
                  detail={"source": charge.source, "service_date": charge.service_date.isoformat()},
                  key=f"oneoff:{charge.pk}", one_off=charge)
            for charge in OneOffCharge.objects.filter(client=client, line__isnull=True,
                                                      service_date__lte=period.run_date).order_by("service_date", "pk")]


# --- Which contracts and clients --------------------------------------------------------------------------


def _in_force(queryset: Any, day: date) -> Any:
    return queryset.filter(status=ContractStatus.ACTIVE, start_date__lte=day).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=day))


def _overlapping(queryset: Any, start: date, end: date) -> Any:
    return queryset.filter(status__in=[ContractStatus.ACTIVE, ContractStatus.ENDED], start_date__lte=end).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=start))


def _client_ids(period: Period) -> list[int]:
    contracts = Contract.objects.all()
    ids: set[int] = set()
    ids.update(_in_force(contracts.filter(type__in=[ContractType.MANAGED, ContractType.BLOCK_HOURS]),
                         period.run_date).values_list("client_id", flat=True))
    ids.update(_overlapping(contracts.filter(type__in=[ContractType.MANAGED, ContractType.BLOCK_HOURS]),
                            period.past_start, period.past_end).values_list("client_id", flat=True))
    ids.update(billable_time(before=period.start).values_list("client_id", flat=True))
    ids.update(reached_milestones(period.start).values_list("client_id", flat=True))
    ids.update(OneOffCharge.objects.filter(line__isnull=True, service_date__lte=period.run_date)
               .values_list("client_id", flat=True))
    return sorted(ids)


def _drafts_for(client: Client, period: Period, past_cutoff: datetime | None) -> list[Draft]:
    cutoff = _aware(period.run_date)
    contracts = Contract.objects.filter(client=client).select_related("plan").order_by("start_date", "pk")
    drafts: list[Draft] = []
    for contract in _in_force(contracts.filter(type=ContractType.MANAGED), period.run_date):
        recurring = _recurring(contract, period, cutoff)
        drafts += recurring + _minimum(contract, period, recurring)
    if past_cutoff is not None:
        for contract in _overlapping(contracts.filter(type=ContractType.MANAGED), period.past_start,
                                     period.past_end):
            drafts += _prorations(contract, period, past_cutoff)
    for contract in _in_force(contracts.filter(type=ContractType.BLOCK_HOURS), period.run_date):
        drafts += _block(contract, period)
    for contract in _overlapping(contracts.filter(type=ContractType.BLOCK_HOURS), period.past_start,
                                 period.past_end):
        drafts += _overage(contract, period)
    return drafts + _time(client, period) + _milestones(client, period) + _one_offs(client, period)


# --- Writing --------------------------------------------------------------------------------------------------


def _bill_to(client: Client) -> dict[str, str]:
    contact = client.contacts.filter(is_billing_contact=True).exclude(email="").order_by("pk").first()
    site = client.sites.order_by("pk").first()
    address = ""
    if site is not None:
        address = "\n".join(p for p in (site.address, f"{site.postal_code} {site.city}".strip(), site.country) if p)
    name = client.name
    if contact is not None:
        name = f"{client.name}\n{_('Attn.')} {contact.first_name} {contact.last_name}".strip()
    return {"bill_to_name": name[:200], "bill_to_email": contact.email if contact else "", "bill_to_address": address}


def write_lines(invoice: Invoice, drafts: list[Draft], tax_rate: Decimal, start_position: int = 1) -> int:
    """Write drafts as lines of the invoice and claim what they bill; returns how many were written.
    A draft whose claim fails (billed meanwhile by another run) is dropped."""
    written = 0
    for position, draft in enumerate(drafts, start=start_position):
        line = InvoiceLine(
            client_id=invoice.client_id, invoice=invoice, position=position, kind=draft.kind,
            description=draft.description[:300], contract=draft.contract, service_id=draft.service_id,
            milestone=draft.milestone, period_start=draft.period_start, period_end=draft.period_end,
            quantity=draft.quantity, unit_price=draft.unit_price, days=draft.days, period_days=draft.period_days,
            amount=draft.amount, tax_rate=tax_rate, detail=draft.detail, key=draft.key)
        line.save()
        if draft.milestone is not None:
            claimed = Milestone.objects.filter(pk=draft.milestone.pk, status=MilestoneStatus.REACHED).update(
                status=MilestoneStatus.INVOICED, updated_at=timezone.now())
            if claimed != 1:
                line.delete()
                continue
            audit.record(None, "milestone.invoiced", draft.milestone, changes={
                "status": ["reached", "invoiced"], "invoice_line": line.pk})
        if (draft.one_off is not None
                and OneOffCharge.objects.filter(pk=draft.one_off.pk, line__isnull=True).update(line=line) != 1):
            line.delete()
            continue
        if draft.time_entries:
            BilledTimeEntry.objects.bulk_create([BilledTimeEntry(client_id=invoice.client_id, time_entry_id=pk,
                                                                 line=line) for pk in draft.time_entries])
        written += 1
    return written


def _bill_client(run: BillingRun, client: Client, period: Period, past_cutoff: datetime | None,
                 tax_rate: Decimal, currency: str) -> Invoice | None:
    """One client's invoice in the run (None when there is nothing to bill or it already exists)."""
    if Invoice.objects.filter(client=client, billing_run=run, kind=InvoiceKind.INVOICE).exists():
        return None
    try:
        with transaction.atomic():
            drafts = _drafts_for(client, period, past_cutoff)
            if not drafts:
                return None
            invoice = Invoice.objects.create(client=client, kind=InvoiceKind.INVOICE, status=InvoiceStatus.DRAFT,
                                             billing_run=run, period_start=period.start, period_end=period.end,
                                             currency=currency, **_bill_to(client))
            if not write_lines(invoice, drafts, tax_rate):
                raise _NothingBilled
            recompute_totals(invoice)
            audit.record(None, "invoice.created", invoice, changes={"billing_run": run.pk,
                                                                   "lines": len(drafts), "total": invoice.total})
            events.emit("invoice.created", client_id=client.pk, payload={
                "invoice_id": invoice.pk, "billing_run_id": run.pk, "total": invoice.total})
            return invoice
    except _NothingBilled:
        return None
    except IntegrityError:
        # A concurrent run of the same period wrote this client's invoice or billed one of these items first.
        logger.info("billing run %s: client %s billed concurrently", run, client.pk)
        return None


class _NothingBilled(Exception):
    """Every item was claimed meanwhile: roll the empty invoice back."""


def _past_cutoff(period: Period) -> datetime | None:
    """When the past month was billed in advance (its run's date), or None when no run billed it."""
    previous = BillingRun.objects.filter(period_start=period.past_start).values_list("run_date", flat=True).first()
    if previous is None:
        return None
    return max(_aware(previous), _aware(period.past_start))


def billing_run(*, actor: Any, period_start: date, run_date: date | None = None) -> BillingRun:
    """Run billing for the month starting `period_start` (scheduled with no actor, or by finance/owner/admin).

    Running it again for the same month completes what is missing and creates nothing twice; the run date of the
    first run is kept (unit counts are taken on it)."""
    if actor is not None:
        require(actor, "invoices", "add")
    if not isinstance(period_start, date) or isinstance(period_start, datetime) or period_start.day != 1:
        raise ValidationError(_("A billing run starts on the first day of a month."), field="period_start")
    run_date = run_date or timezone.localdate()
    if run_date < month_start(period_start - timedelta(days=1)):
        raise ValidationError(_("The run date cannot be before the month past."), field="run_date")
    with transaction.atomic():
        run, created = BillingRun.objects.get_or_create(period_start=period_start, defaults={
            "run_date": run_date, "started_by": actor if actor is not None and actor.pk else None})
        if not created:
            BillingRun.objects.filter(pk=run.pk).update(status=BillingRunStatus.RUNNING, error="")
        audit.record(actor, "billing_run.started" if created else "billing_run.resumed", run,
                     changes={"period_start": period_start, "run_date": run.run_date})
    period = Period.of(period_start, run.run_date)
    past_cutoff = _past_cutoff(period)
    tax_rate, currency = default_tax_rate(), organization().currency
    language = organization().default_language or "en"
    created_ids: list[int] = []
    try:
        with translation.override(language):
            for client in Client.objects.filter(pk__in=_client_ids(period)).order_by("pk"):
                invoice = _bill_client(run, client, period, past_cutoff, tax_rate, currency)
                if invoice is not None:
                    created_ids.append(invoice.pk)
    except Exception as exc:
        BillingRun.objects.filter(pk=run.pk).update(status=BillingRunStatus.FAILED, error=repr(exc)[:2000],
                                                    finished_at=timezone.now())
        raise
    with transaction.atomic():
        invoices = Invoice.objects.filter(billing_run=run, kind=InvoiceKind.INVOICE)
        count = invoices.count()
        total = sum(invoices.values_list("total", flat=True), ZERO)
        BillingRun.objects.filter(pk=run.pk).update(status=BillingRunStatus.DONE, finished_at=timezone.now(),
                                                    invoice_count=count, total=total, error="")
        run.refresh_from_db()
        audit.record(actor, "billing_run.completed", run, changes={"invoices_created": len(created_ids),
                                                                   "invoices": count, "total": total})
        events.emit("billing_run.completed", payload={"billing_run_id": run.pk, "period_start": period_start,
                                                      "invoices_created": created_ids, "total": total})
    return run
