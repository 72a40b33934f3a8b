"""Reads for the money side of billing: the ageing of open balances, the CSV exports for accounting, the
reconciliation of devices seen by the RMM against units billed, and a contract's figures to date.

Every function starts from what the actor may see (`visible_to`) and checks the role first.

Money is Decimal: sums are exact and rounded once to the cent (half up) where a division happens.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from tenfold.assets.models import Device, DeviceState
from tenfold.billing.models import (
    ZERO,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    Payment,
)
from tenfold.catalog.models import UnitKind
from tenfold.contracts.models import Contract, ContractStatus, ContractType
from tenfold.contracts.selectors import COVERED_DEVICE_KINDS, UNIT_OF_DEVICE_KIND
from tenfold.core.errors import PermissionDenied
from tenfold.core.roles import has_capability, require
from tenfold.servicedesk.models import TimeEntry

CENT = Decimal("0.01")
SIXTY = Decimal(60)
DEVICE_UNITS = (UnitKind.WORKSTATION, UnitKind.SERVER, UnitKind.NETWORK_DEVICE, UnitKind.MOBILE)
# Issued documents (drafts are not the MSP's books yet).
NUMBERED = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID, InvoiceStatus.VOID)

__all__ = [
    "BUCKETS",
    "INVOICE_COLUMNS",
    "LINE_COLUMNS",
    "AgeingReport",
    "ContractToDate",
    "Reconciliation",
    "ageing",
    "can_see_money",
    "contract_to_date",
    "invoice_lines_csv",
    "invoices_csv",
    "reconciliation",
]


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _staff_finance(actor: Any) -> None:
    """Reports of receivables are the MSP's own: staff with the invoices capability (a portal admin reads
    their own invoices in the portal, not the MSP's ledger)."""
    require(actor, "invoices", "view")
    if getattr(actor, "is_portal", False):
        raise PermissionDenied()


# --- Ageing -----------------------------------------------------------------------------------------------------

# (key, lowest days past due, highest days past due or None)
BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("not_due", None, 0), ("days_1_30", 1, 30), ("days_31_60", 31, 60), ("days_61_90", 61, 90),
    ("over_90", 91, None))


def bucket_for(days_past_due: int) -> str:
    """The ageing bucket of a balance so many days past its due date (0 or less: not due)."""
    for key, low, high in BUCKETS:
        if (low is None or days_past_due >= low) and (high is None or days_past_due <= high):
            return key
    raise AssertionError("buckets cover every integer")


@dataclass
class AgeingInvoice:
    """One invoice's balance as of the report date."""

    invoice: Invoice
    balance: Decimal
    days_past_due: int
    bucket: str


@dataclass
class AgeingClient:
    """One client's open balances by bucket."""

    client_id: int
    client_name: str
    buckets: dict[str, Decimal]
    total: Decimal
    invoices: list[AgeingInvoice] = field(default_factory=list)


@dataclass
class AgeingReport:
    """Open balances by client and bucket as of a date, with the totals per bucket."""

    as_of: date
    clients: list[AgeingClient]
    totals: dict[str, Decimal]
    total: Decimal


def _empty_buckets() -> dict[str, Decimal]:
    return {key: ZERO for key, _low, _high in BUCKETS}


def ageing(actor: Any, as_of: date | None = None) -> AgeingReport:
    """What each client owed on `as_of` (today by default), by days past due: invoices issued on or before
    that day, less the payments received on or before it. Void invoices and credit notes owe nothing; an
    invoice without a due date is due on its issue date."""
    _staff_finance(actor)
    as_of = as_of or timezone.localdate()
    invoices = list(Invoice.objects.visible_to(actor).filter(
        kind=InvoiceKind.INVOICE, status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID],
        issue_date__lte=as_of).select_related("client").order_by("client__name", "client_id", "due_date", "pk"))
    paid = {row["invoice_id"]: row["total"] for row in Payment.objects.filter(
        invoice_id__in=[i.pk for i in invoices], received_on__lte=as_of).values("invoice_id")
        .annotate(total=Sum("amount")).order_by()}
    clients: dict[int, AgeingClient] = {}
    totals = _empty_buckets()
    for invoice in invoices:
        balance = invoice.total - (paid.get(invoice.pk) or ZERO)
        if balance <= 0:
            continue
        due = invoice.due_date or invoice.issue_date or as_of
        days = (as_of - due).days
        key = bucket_for(days)
        row = clients.get(invoice.client_id)
        if row is None:
            row = clients[invoice.client_id] = AgeingClient(invoice.client_id, invoice.client.name,
                                                            _empty_buckets(), ZERO)
        row.buckets[key] += balance
        row.total += balance
        row.invoices.append(AgeingInvoice(invoice, balance, max(days, 0), key))
        totals[key] += balance
    return AgeingReport(as_of=as_of, clients=list(clients.values()), totals=totals, total=sum(totals.values(), ZERO))


def ageing_csv(report: AgeingReport) -> bytes:
    """The ageing report as CSV: one row per client, then the totals (UTF-8, comma, decimal point)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    keys = [key for key, _low, _high in BUCKETS]
    writer.writerow(["client", *keys, "total"])
    for row in report.clients:
        writer.writerow([row.client_name, *(str(row.buckets[k]) for k in keys), str(row.total)])
    writer.writerow(["TOTAL", *(str(report.totals[k]) for k in keys), str(report.total)])
    return out.getvalue().encode("utf-8")


# --- Exports ----------------------------------------------------------------------------------------------------

INVOICE_COLUMNS = ("number", "kind", "status", "client", "client_id", "issue_date", "due_date", "period_start",
                   "period_end", "currency", "subtotal", "tax_total", "total", "amount_paid", "balance",
                   "credited_invoice")
LINE_COLUMNS = ("invoice_number", "invoice_kind", "issue_date", "client", "client_id", "position", "kind",
                "description", "contract", "service_code", "period_start", "period_end", "quantity", "unit_price",
                "days", "period_days", "amount", "tax_rate")


def exported_invoices(actor: Any, start: date | None = None, end: date | None = None) -> QuerySet[Invoice]:
    """Issued invoices and credit notes (drafts are not exported) issued within [start, end]."""
    _staff_finance(actor)
    queryset = Invoice.objects.visible_to(actor).filter(status__in=NUMBERED).exclude(number="")
    if start is not None:
        queryset = queryset.filter(issue_date__gte=start)
    if end is not None:
        queryset = queryset.filter(issue_date__lte=end)
    return queryset.select_related("client", "credited_invoice").order_by("issue_date", "number", "pk")


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _csv(header: tuple[str, ...], rows: Any) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def invoices_csv(actor: Any, start: date | None = None, end: date | None = None) -> bytes:
    """One row per invoice or credit note (see INVOICE_COLUMNS); UTF-8, comma-separated, decimal point."""
    def rows() -> Any:
        for invoice in exported_invoices(actor, start, end).iterator(chunk_size=500):
            yield [invoice.number, invoice.kind, invoice.status, invoice.client.name, invoice.client_id,
                   _day(invoice.issue_date), _day(invoice.due_date), _day(invoice.period_start),
                   _day(invoice.period_end), invoice.currency, invoice.subtotal, invoice.tax_total, invoice.total,
                   invoice.amount_paid, invoice.balance,
                   invoice.credited_invoice.number if invoice.credited_invoice else ""]
    return _csv(INVOICE_COLUMNS, rows())


def invoice_lines_csv(actor: Any, start: date | None = None, end: date | None = None) -> bytes:
    """One row per line of the exported invoices and credit notes (see LINE_COLUMNS)."""
    invoices = exported_invoices(actor, start, end)
    lines = InvoiceLine.objects.filter(invoice__in=invoices.values("pk")).select_related(
        "invoice", "invoice__client", "contract", "service").order_by("invoice__issue_date", "invoice__number",
                                                                       "position", "pk")

    def rows() -> Any:
        for line in lines.iterator(chunk_size=1000):
            invoice = line.invoice
            yield [invoice.number, invoice.kind, _day(invoice.issue_date), invoice.client.name, invoice.client_id,
                   line.position, line.kind, line.description, line.contract.number if line.contract else "",
                   line.service.code if line.service else "", _day(line.period_start), _day(line.period_end),
                   line.quantity, line.unit_price, line.days if line.days is not None else "",
                   line.period_days if line.period_days is not None else "", line.amount, line.tax_rate]
    return _csv(LINE_COLUMNS, rows())


# --- Reconciliation ---------------------------------------------------------------------------------------------


@dataclass
class ReconciledLine:
    """One recurring line of the latest invoice against the devices of its unit seen now."""

    line: InvoiceLine
    unit: str
    billed: Decimal
    seen: int
    difference: Decimal
    amount: Decimal


@dataclass
class Reconciliation:
    """A managed contract in force: what the RMM sees vs what was billed, in units and money."""

    contract: Contract
    invoice: Invoice | None
    lines: list[ReconciledLine]
    seen: list[Device]
    not_billed: list[Device]
    billed_not_seen: list[dict[str, Any]]
    difference: Decimal

    @property
    def matches(self) -> bool:
        return not self.not_billed and not self.billed_not_seen and all(not line.difference for line in self.lines)


def seen_devices(contract: Contract) -> list[Device]:
    """The devices the RMM reports for a contract: the same rule as coverage (contracts' `_wanted_devices`):
    the client's devices of a counted kind, not retired, of the contract's site when it has one."""
    devices = Device.objects.filter(client_id=contract.client_id, kind__in=COVERED_DEVICE_KINDS).exclude(
        state=DeviceState.RETIRED)
    if contract.site_id is not None:
        devices = devices.filter(site_id=contract.site_id)
    return list(devices.order_by("name", "pk"))


def _detail_devices(line: InvoiceLine) -> dict[int, str] | None:
    """The devices a line's detail lists ({id: name}), or None when it lists none. The billing run writes
    `units` ({"id", "name", "kind": "device"}); a `devices` list of ids or {"id", "name"} is read too."""
    detail = line.detail if isinstance(line.detail, dict) else {}
    if "units" not in detail and "devices" not in detail:
        return None
    found: dict[int, str] = {}
    for item in [*(detail.get("units") or []), *(detail.get("devices") or [])]:
        if isinstance(item, dict) and isinstance(item.get("id"), int) and item.get("kind", "device") == "device":
            found[item["id"]] = str(item.get("name") or "")
        elif isinstance(item, int) and not isinstance(item, bool):
            found[item] = ""
    return found


def _latest_invoice(contract: Contract) -> Invoice | None:
    line = (InvoiceLine.objects.filter(contract=contract, kind=LineKind.RECURRING, invoice__kind=InvoiceKind.INVOICE)
            .exclude(invoice__status=InvoiceStatus.VOID).select_related("invoice")
            .order_by("-invoice__period_start", "-invoice_id").first())
    return line.invoice if line is not None else None


def reconcile_contract(contract: Contract) -> Reconciliation:
    """Compare one contract's devices seen now with the latest (issued or draft) invoice's recurring lines."""
    seen = seen_devices(contract)
    by_unit: dict[str, list[Device]] = {}
    for device in seen:
        by_unit.setdefault(str(UNIT_OF_DEVICE_KIND[device.kind]), []).append(device)
    invoice = _latest_invoice(contract)
    lines: list[ReconciledLine] = []
    billed_ids: dict[int, str] = {}
    billed_units: set[str] = set()
    has_detail = False
    if invoice is not None:
        for line in (InvoiceLine.objects.filter(invoice=invoice, contract=contract, kind=LineKind.RECURRING)
                     .select_related("service").order_by("position", "pk")):
            unit = str(line.service.unit) if line.service is not None else ""
            if unit not in DEVICE_UNITS:
                continue
            billed_units.add(unit)
            listed = _detail_devices(line)
            if listed is not None:
                has_detail = True
                billed_ids.update(listed)
            count = len(by_unit.get(unit, []))
            difference = Decimal(count) - line.quantity
            lines.append(ReconciledLine(line=line, unit=unit, billed=line.quantity, seen=count,
                                        difference=difference, amount=_cents(difference * line.unit_price)))
    seen_ids = {device.pk for device in seen}
    if invoice is None or has_detail:
        not_billed = [d for d in seen if d.pk not in billed_ids]
    else:
        # Lines without a device list: only the devices of a unit no line bills are surely not billed.
        not_billed = [d for d in seen if str(UNIT_OF_DEVICE_KIND[d.kind]) not in billed_units]
    gone = sorted(set(billed_ids) - seen_ids)
    names = dict(Device.objects.filter(pk__in=gone).values_list("pk", "name"))
    billed_not_seen = [{"id": pk, "name": names.get(pk) or billed_ids[pk] or f"#{pk}"} for pk in gone]
    return Reconciliation(contract=contract, invoice=invoice, lines=lines, seen=seen, not_billed=not_billed,
                          billed_not_seen=billed_not_seen, difference=sum((x.amount for x in lines), ZERO))


def reconciliation(actor: Any, on: date | None = None) -> list[Reconciliation]:
    """Every managed contract in force on `on` (today by default) the actor may see, reconciled."""
    _staff_finance(actor)
    day = on or timezone.localdate()
    contracts = (Contract.objects.visible_to(actor).filter(type=ContractType.MANAGED, status=ContractStatus.ACTIVE,
                                                           start_date__lte=day)
                 .filter(Q(end_date__isnull=True) | Q(end_date__gte=day)).select_related("client", "site")
                 .order_by("client__name", "number", "pk"))
    return [reconcile_contract(contract) for contract in contracts]


# --- A contract's figures to date -------------------------------------------------------------------------------


def can_see_money(actor: Any) -> bool:
    """Revenue, cost and rates of a contract: staff with the invoices or the catalog capability."""
    return not getattr(actor, "is_portal", False) and (
        has_capability(actor, "invoices", "view") or has_capability(actor, "catalog", "view"))


@dataclass(frozen=True)
class ContractToDate:
    """A contract's hours and money from its start to today."""

    hours_worked: Decimal
    invoiced: Decimal
    credited: Decimal
    revenue: Decimal
    labour_cost: Decimal
    tool_cost: Decimal
    cost: Decimal
    margin: Decimal
    effective_rate: Decimal | None


def contract_to_date(contract: Contract) -> ContractToDate:
    """Revenue = Σ lines of the contract on issued invoices − Σ lines on credit notes (before tax); labour cost =
    Σ time entries' hourly cost × worked minutes / 60; tool cost = Σ billed recurring quantities × the
    service's tool cost per unit; effective hourly rate = revenue / hours worked (None without hours)."""
    lines = InvoiceLine.objects.filter(contract=contract, invoice__status__in=NUMBERED)
    invoiced = lines.filter(invoice__kind=InvoiceKind.INVOICE).aggregate(s=Sum("amount"))["s"] or ZERO
    credited = abs(lines.filter(invoice__kind=InvoiceKind.CREDIT_NOTE).aggregate(s=Sum("amount"))["s"] or ZERO)
    revenue = invoiced - credited
    minutes = 0
    labour = Decimal(0)
    for worked, cost_rate in TimeEntry.objects.filter(contract=contract, is_running=False).values_list(
            "actual_minutes", "cost_rate"):
        minutes += worked
        labour += cost_rate * worked / SIXTY
    tool = Decimal(0)
    for quantity, unit_cost in (lines.filter(invoice__kind=InvoiceKind.INVOICE, kind=LineKind.RECURRING,
                                             service__isnull=False)
                                .exclude(invoice__status=InvoiceStatus.VOID)
                                .values_list("quantity", "service__unit_cost")):
        tool += quantity * unit_cost
    hours = _cents(Decimal(minutes) / SIXTY)
    labour_cost, tool_cost = _cents(labour), _cents(tool)
    cost = labour_cost + tool_cost
    rate = _cents(revenue * SIXTY / minutes) if minutes else None
    return ContractToDate(hours_worked=hours, invoiced=invoiced, credited=credited, revenue=revenue,
                          labour_cost=labour_cost, tool_cost=tool_cost, cost=cost, margin=revenue - cost,
                          effective_rate=rate)
