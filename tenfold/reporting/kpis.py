"""Revenue and service KPIs (the seed's principle 2), computed from live records over a period, with the previous
period beside them. Every definition is written in docs/kpis.md; this module is the one place they are computed.

Scope: every query starts from `visible_to(actor)`; `kpi_scope(actor)` also says which families of figures the
role may read (roles.md "KPIs": a service manager reads the service KPIs only, an account manager the revenue
KPIs of their own pipeline: the deals they own and the clients they manage).

Money is Decimal, summed exactly and rounded once to the cent (half up); percentages are rounded to 0.1 and
averages of counts or hours to 0.01. A figure with nothing to measure is None (shown "N/A"), never 0 %.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDay, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.assets.models import Device as DeviceModel
from tenfold.assets.models import DeviceKind, DeviceState, DeviceStateChange, DiscoveredDevice
from tenfold.billing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, LineKind
from tenfold.catalog.models import Service, UnitKind
from tenfold.clients.models import Client, Contact, Site
from tenfold.contracts.models import Contract, ContractCoverage, ContractStatus, ContractType
from tenfold.core.errors import PermissionDenied, ValidationError
from tenfold.core.roles import Role, require
from tenfold.sales.models import Deal, DealStage
from tenfold.servicedesk.models import ApprovalStatus, Coverage, Ticket, TimeEntry
from tenfold.servicedesk.models_surveys import SurveyResponse

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
HUNDRED = Decimal(100)
ZERO = Decimal("0.00")
TWELVE = Decimal(12)
SIXTY = Decimal(60)
# Above this coefficient of variation (standard deviation / mean) of tickets per technician, the workload is
# flagged as unbalanced: one technician carries clearly more than the others.
IMBALANCE_CV = Decimal("0.5")
MAX_PERIOD_DAYS = 3 * 366
SERIES_MONTHS = 12

# Invoices that are the MSP's books: issued and not voided (a voided invoice's credit note cancels it).
BOOKED = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID)
# The lines that make monthly recurring revenue (prorations, time, one-off items and milestones do not).
RECURRING_KINDS = (LineKind.RECURRING, LineKind.MINIMUM, LineKind.BLOCK)
SIGNED = (ContractStatus.ACTIVE, ContractStatus.ENDED)
WORKSTATION_KINDS = (DeviceKind.WORKSTATION, DeviceKind.LAPTOP)
BILLED_APPROVALS = (ApprovalStatus.NOT_REQUIRED, ApprovalStatus.APPROVED)
DEVICE_KINDS_OF_UNIT: dict[str, tuple[str, ...]] = {
    UnitKind.WORKSTATION: WORKSTATION_KINDS, UnitKind.SERVER: (DeviceKind.SERVER,),
    UnitKind.NETWORK_DEVICE: (DeviceKind.NETWORK_DEVICE,), UnitKind.MOBILE: (DeviceKind.MOBILE,),
}

REVENUE = "revenue"
SERVICE = "service"


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(numerator: Decimal | int, denominator: Decimal | int, places: Decimal = CENT) -> Decimal | None:
    """numerator / denominator rounded half up, or None when there is nothing to divide by."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(places, rounding=ROUND_HALF_UP)


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part / whole × 100 rounded to 0.1, or None when the whole is 0."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


# --- Periods ------------------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


PERIOD_KINDS = ("month", "quarter", "year", "custom")


@dataclass(frozen=True)
class Period:
    """A range of days: `start` included, `end` excluded."""

    start: date
    end: date
    kind: str = "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def previous(self) -> Period:
        """The period just before, of the same kind (the month, quarter or year before; as many days before)."""
        if self.kind == "month":
            return Period(add_months(self.start, -1), self.start, self.kind)
        if self.kind == "quarter":
            return Period(add_months(self.start, -3), self.start, self.kind)
        if self.kind == "year":
            return Period(add_months(self.start, -12), self.start, self.kind)
        return Period(self.start - timedelta(days=self.days), self.start, self.kind)

    def months(self) -> list[date]:
        """The first day of every month the period touches."""
        result, month = [], month_start(self.start)
        while month < self.end:
            result.append(month)
            month = add_months(month, 1)
        return result

    @property
    def label(self) -> str:
        if self.kind == "month":
            return self.start.strftime("%Y-%m")
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()} – {self.last_day.isoformat()}"

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as aware instants: local midnight of the first day, local midnight after the last."""
        return aware(self.start), aware(self.end)


def aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def make_period(kind: str = "month", start: date | None = None, end: date | None = None) -> Period:
    """A period of a kind containing `start` (today by default); a custom period runs from `start` to `end`
    inclusive. Bad input is a ValidationError."""
    if kind not in PERIOD_KINDS:
        raise ValidationError(_("Unknown period kind."), field="period")
    day = start or timezone.localdate()
    if kind == "month":
        first = month_start(day)
        return Period(first, add_months(first, 1), kind)
    if kind == "quarter":
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return Period(first, add_months(first, 3), kind)
    if kind == "year":
        return Period(date(day.year, 1, 1), date(day.year + 1, 1, 1), kind)
    if start is None or end is None:
        raise ValidationError(_("A custom period needs a start and an end date."), field="end")
    if end < start:
        raise ValidationError(_("The end date cannot be before the start date."), field="end")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationError(_("A period can be at most three years long."), field="end")
    return Period(start, end + timedelta(days=1), kind)


# --- Scope --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiScope:
    """Who asks, which families of figures they may read and whether only their own pipeline counts."""

    actor: Any
    sections: frozenset[str]
    own_pipeline: bool

    def can(self, section: str) -> bool:
        return section in self.sections

    def require(self, section: str) -> None:
        if section not in self.sections:
            raise PermissionDenied(_("Your role cannot see these figures."))

    def restrict(self, queryset: QuerySet[Any], lookup: str = "client_id") -> QuerySet[Any]:
        """The rows of clients the actor sees, and of their own clients for an account manager."""
        queryset = queryset.visible_to(self.actor)  # type: ignore[attr-defined]
        if self.own_pipeline:
            queryset = queryset.filter(**{f"{lookup}__in": self.clients().values("pk")})
        return queryset

    def clients(self) -> QuerySet[Client]:
        clients = Client.objects.visible_to(self.actor)
        if self.own_pipeline:
            clients = clients.filter(account_manager_id=self.actor.pk)
        return clients

    def deals(self) -> QuerySet[Deal]:
        deals = Deal.objects.visible_to(self.actor)
        if self.own_pipeline:
            deals = deals.filter(owner_id=self.actor.pk)
        return deals


def kpi_scope(actor: Any) -> KpiScope:
    """The actor's KPI scope; 403 for a role without the KPI capability and for portal users."""
    require(actor, "kpis", "view")
    if getattr(actor, "is_portal", True):
        raise PermissionDenied()
    role = actor.role
    if role == Role.SERVICE_MANAGER:
        return KpiScope(actor, frozenset({SERVICE}), False)
    if role == Role.ACCOUNT_MANAGER:
        return KpiScope(actor, frozenset({REVENUE}), True)
    return KpiScope(actor, frozenset({REVENUE, SERVICE}), False)


# --- Deals --------------------------------------------------------------------------------------------------

DEAL_VALUE = F("monthly_value") * 12 + F("one_off_value")


def deal_value(deal: Deal) -> Decimal:
    """A deal's value: its first year, 12 × the monthly value + the one-off value."""
    return cents(deal.monthly_value * TWELVE + deal.one_off_value)


def won_deals(scope: KpiScope, period: Period) -> QuerySet[Deal]:
    start, end = period.bounds()
    return scope.deals().filter(stage=DealStage.WON, closed_at__gte=start, closed_at__lt=end)


@dataclass(frozen=True)
class DealStats:
    count: int
    total: Decimal
    average: Decimal | None


def average_deal_value(scope: KpiScope, period: Period) -> DealStats:
    """Deals won in the period: how many, their total value and the average value."""
    scope.require(REVENUE)
    row = won_deals(scope, period).aggregate(
        n=Count("pk"), total=Coalesce(Sum(DEAL_VALUE, output_field=DecimalField()), Value(ZERO),
                                      output_field=DecimalField()))
    total = cents(Decimal(row["total"]))
    return DealStats(row["n"], total, ratio(total, row["n"]))


@dataclass(frozen=True)
class SalespersonRow:
    rank: int
    user_id: int
    name: str
    won: int
    lost: int
    total: Decimal
    average: Decimal | None
    monthly: Decimal
    win_rate: Decimal | None


def per_salesperson(scope: KpiScope, period: Period) -> list[SalespersonRow]:
    """Deals closed in the period by owner, ranked by the value won (then deals won, then name)."""
    scope.require(REVENUE)
    start, end = period.bounds()
    rows = (scope.deals().filter(stage__in=(DealStage.WON, DealStage.LOST), closed_at__gte=start, closed_at__lt=end)
            .values("owner_id", "owner__first_name", "owner__last_name", "owner__email")
            .annotate(won=Count("pk", filter=Q(stage=DealStage.WON)), lost=Count("pk", filter=Q(stage=DealStage.LOST)),
                      total=Coalesce(Sum(DEAL_VALUE, filter=Q(stage=DealStage.WON), output_field=DecimalField()),
                                     Value(ZERO), output_field=DecimalField()),
                      monthly=Coalesce(Sum("monthly_value", filter=Q(stage=DealStage.WON)), Value(ZERO),
                                       output_field=DecimalField()))
            .order_by())
    unranked = []
    for row in rows:
        name = f"{row['owner__first_name']} {row['owner__last_name']}".strip() or row["owner__email"]
        total = cents(Decimal(row["total"]))
        unranked.append((row["owner_id"], name, row["won"], row["lost"], total, cents(Decimal(row["monthly"]))))
    unranked.sort(key=lambda r: (-r[4], -r[2], r[1], r[0]))
    return [SalespersonRow(rank=index + 1, user_id=uid, name=name, won=won, lost=lost, total=total,
                           average=ratio(total, won), monthly=monthly, win_rate=percent(won, won + lost))
            for index, (uid, name, won, lost, total, monthly) in enumerate(unranked)]


# --- Recurring revenue --------------------------------------------------------------------------------------


def recurring_lines(scope: KpiScope) -> QuerySet[InvoiceLine]:
    """The lines that make MRR: recurring, minimum-commitment and block-of-hours lines of booked invoices."""
    return scope.restrict(InvoiceLine.objects.all()).filter(
        kind__in=RECURRING_KINDS, invoice__kind=InvoiceKind.INVOICE, invoice__status__in=BOOKED,
        period_start__isnull=False)


def mrr_by_month(scope: KpiScope, first: date, last: date) -> dict[date, dict[int, Decimal]]:
    """{month: {client id: MRR}} for the months from `first` to `last` (month starts), in one query."""
    rows = (recurring_lines(scope).filter(period_start__gte=first, period_start__lt=add_months(last, 1))
            .annotate(month=TruncMonth("period_start")).values("month", "client_id")
            .annotate(total=Sum("amount")).order_by())
    result: dict[date, dict[int, Decimal]] = {}
    month = first
    while month <= last:
        result[month] = {}
        month = add_months(month, 1)
    for row in rows:
        month = _as_date(row["month"])
        result.setdefault(month, {})[row["client_id"]] = cents(Decimal(row["total"]))
    return result


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value  # type: ignore[no-any-return]


@dataclass(frozen=True)
class MrrMonth:
    """One month's MRR and how it moved from the month before."""

    month: date
    mrr: Decimal
    new: Decimal
    expansion: Decimal
    contraction: Decimal
    churn: Decimal
    clients: int


@dataclass(frozen=True)
class MrrClientRow:
    client_id: int
    before: Decimal
    after: Decimal
    movement: str  # new, expansion, contraction, churn, flat

    @property
    def change(self) -> Decimal:
        return self.after - self.before


def movements(before: dict[int, Decimal], after: dict[int, Decimal]) -> dict[str, Decimal]:
    """new (0 → x), expansion (x → more), contraction (x → less but > 0), churn (x → 0) between two months."""
    result = {"new": ZERO, "expansion": ZERO, "contraction": ZERO, "churn": ZERO}
    for client_id in set(before) | set(after):
        old, new = before.get(client_id, ZERO), after.get(client_id, ZERO)
        kind = movement_of(old, new)
        if kind == "new":
            result["new"] += new
        elif kind == "expansion":
            result["expansion"] += new - old
        elif kind == "contraction":
            result["contraction"] += old - new
        elif kind == "churn":
            result["churn"] += old
    return result


def movement_of(old: Decimal, new: Decimal) -> str:
    if old <= 0 < new:
        return "new"
    if new <= 0 < old:
        return "churn"
    if new > old:
        return "expansion"
    if new < old:
        return "contraction"
    return "flat"


@dataclass
class MrrReport:
    """The months of a period (each against the month before) and the clients' MRR before and at its end."""

    months: list[MrrMonth]
    clients: list[MrrClientRow]

    @property
    def mrr(self) -> Decimal:
        return self.months[-1].mrr if self.months else ZERO

    def total(self, key: str) -> Decimal:
        return sum((getattr(m, key) for m in self.months), ZERO)


def mrr_months(by_month: dict[date, dict[int, Decimal]], months: list[date]) -> list[MrrMonth]:
    result = []
    for month in months:
        before, after = by_month.get(add_months(month, -1), {}), by_month.get(month, {})
        moved = movements(before, after)
        result.append(MrrMonth(month=month, mrr=sum(after.values(), ZERO), clients=sum(1 for v in after.values()
                                                                                          if v > 0), **moved))
    return result


def mrr_report(scope: KpiScope, period: Period, by_month: dict[date, dict[int, Decimal]] | None = None) -> MrrReport:
    """MRR per month of the period with its new / expansion / contraction / churn movements."""
    scope.require(REVENUE)
    months = period.months()
    if by_month is None:
        by_month = mrr_by_month(scope, add_months(months[0], -1), months[-1])
    before, after = by_month.get(add_months(months[0], -1), {}), by_month.get(months[-1], {})
    rows = [MrrClientRow(cid, before.get(cid, ZERO), after.get(cid, ZERO),
                         movement_of(before.get(cid, ZERO), after.get(cid, ZERO)))
            for cid in sorted(set(before) | set(after))]
    return MrrReport(mrr_months(by_month, months), rows)


@dataclass(frozen=True)
class UpsellRow:
    client_id: int
    expansion: Decimal
    contraction: Decimal


@dataclass
class UpsellReport:
    """Recurring revenue growth of existing clients: Σ expansion over the months of the period."""

    expansion: Decimal
    contraction: Decimal
    clients: list[UpsellRow]

    @property
    def net(self) -> Decimal:
        return self.expansion - self.contraction


def upsell(scope: KpiScope, period: Period, by_month: dict[date, dict[int, Decimal]] | None = None) -> UpsellReport:
    """Upsell revenue: the MRR added by clients already paying the month before, month by month."""
    scope.require(REVENUE)
    months = period.months()
    if by_month is None:
        by_month = mrr_by_month(scope, add_months(months[0], -1), months[-1])
    per_client: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for month in months:
        before, after = by_month.get(add_months(month, -1), {}), by_month.get(month, {})
        for cid in set(before) | set(after):
            old, new = before.get(cid, ZERO), after.get(cid, ZERO)
            kind = movement_of(old, new)
            if kind == "expansion":
                per_client[cid][0] += new - old
            elif kind == "contraction":
                per_client[cid][1] += old - new
    rows = sorted((UpsellRow(cid, exp, con) for cid, (exp, con) in per_client.items()),
                  key=lambda r: (-r.expansion, r.client_id))
    return UpsellReport(sum((r.expansion for r in rows), ZERO), sum((r.contraction for r in rows), ZERO), rows)


# --- New contracts ------------------------------------------------------------------------------------------


def new_contracts_queryset(scope: KpiScope, period: Period) -> QuerySet[Contract]:
    return scope.restrict(Contract.objects.all()).filter(status__in=SIGNED, start_date__gte=period.start,
                                                         start_date__lt=period.end)


@dataclass(frozen=True)
class NewContractsMonth:
    month: date
    count: int
    total: Decimal
    average: Decimal | None


@dataclass
class NewContractsReport:
    months: list[NewContractsMonth]
    values: dict[int, Decimal]  # contract id → its value

    @property
    def count(self) -> int:
        return sum(m.count for m in self.months)

    @property
    def total(self) -> Decimal:
        return sum((m.total for m in self.months), ZERO)

    @property
    def average(self) -> Decimal | None:
        return ratio(self.total, self.count)


def contract_values(scope: KpiScope, contracts: list[Contract]) -> dict[int, Decimal]:
    """A new contract's value: its monthly recurring revenue in the first month it was billed (recurring,
    minimum and block lines of booked invoices); a fixed-price project's price. 0 until first billed."""
    ids = [c.pk for c in contracts if c.type != ContractType.FIXED_PRICE]
    first: dict[int, tuple[date, Decimal]] = {}
    rows = (recurring_lines(scope).filter(contract_id__in=ids).annotate(month=TruncMonth("period_start"))
            .values("contract_id", "month").annotate(total=Sum("amount")).order_by())
    for row in rows:
        month = _as_date(row["month"])
        known = first.get(row["contract_id"])
        if known is None or month < known[0]:
            first[row["contract_id"]] = (month, cents(Decimal(row["total"])))
    values = {}
    for contract in contracts:
        if contract.type == ContractType.FIXED_PRICE:
            values[contract.pk] = cents(contract.fixed_price_amount or ZERO)
        else:
            values[contract.pk] = first.get(contract.pk, (None, ZERO))[1]
    return values


def new_contracts(scope: KpiScope, period: Period) -> NewContractsReport:
    """Signed contracts starting in the period, per month of their start, with their average value."""
    scope.require(REVENUE)
    contracts = list(new_contracts_queryset(scope, period).order_by("start_date", "pk"))
    values = contract_values(scope, contracts)
    by_month: dict[date, list[Decimal]] = {m: [] for m in period.months()}
    for contract in contracts:
        by_month.setdefault(month_start(contract.start_date), []).append(values[contract.pk])
    months = [NewContractsMonth(m, len(v), sum(v, ZERO), ratio(sum(v, ZERO), len(v))) for m, v in
              sorted(by_month.items())]
    return NewContractsReport(months, values)


# --- Environment: managed devices, coverage by a service ---------------------------------------------------


def _covered_at(t: datetime, prefix: str = "") -> Q:
    # Covered just before `t`: a coverage starting at `t` counts from the next period on.
    return (Q(**{f"{prefix}started_at__lt": t})
            & (Q(**{f"{prefix}ended_at__isnull": True}) | Q(**{f"{prefix}ended_at__gte": t})))


def device_coverage(scope: KpiScope) -> QuerySet[ContractCoverage]:
    return scope.restrict(ContractCoverage.objects.all()).filter(kind="device", contract__type=ContractType.MANAGED)


@dataclass(frozen=True)
class ManagedCount:
    at: date  # the last day counted (the state at its end)
    servers: int
    workstations: int

    @property
    def total(self) -> int:
        return self.servers + self.workstations


def managed_counts(scope: KpiScope, ends: list[date]) -> list[ManagedCount]:
    """Servers and workstations (desktops and laptops) covered by a managed contract at the end of each day given,
    in one query."""
    aggregates: dict[str, Any] = {}
    for index, day in enumerate(ends):
        t = aware(day + timedelta(days=1))
        covered = _covered_at(t)
        aggregates[f"s{index}"] = Count("device_id", distinct=True, filter=covered & Q(device__kind=DeviceKind.SERVER))
        aggregates[f"w{index}"] = Count("device_id", distinct=True,
                                        filter=covered & Q(device__kind__in=WORKSTATION_KINDS))
    row = device_coverage(scope).aggregate(**aggregates) if aggregates else {}
    return [ManagedCount(day, row[f"s{i}"], row[f"w{i}"]) for i, day in enumerate(ends)]


def _environment_devices(scope: KpiScope, t: datetime) -> QuerySet[DeviceModel]:
    """Devices that existed at `t` and were not retired then (a retired device counts until its retirement)."""
    retired_later = DeviceStateChange.objects.filter(device_id=OuterRef("pk"), to_state=DeviceState.RETIRED, at__gte=t)
    return (scope.restrict(DeviceModel.objects.all()).filter(created_at__lt=t)
            .filter(~Q(state=DeviceState.RETIRED) | Exists(retired_later)))


@dataclass(frozen=True)
class EnvironmentRow:
    client_id: int
    managed: int
    devices: int
    unmanaged_discovered: int

    @property
    def environment(self) -> int:
        return self.devices + self.unmanaged_discovered

    @property
    def pct(self) -> Decimal | None:
        return percent(self.managed, self.environment)


def environment_managed(scope: KpiScope, day: date) -> list[EnvironmentRow]:
    """Per client at the end of `day`: devices covered by a managed contract / (devices not retired + discovered
    devices neither matched nor ignored), as a percentage."""
    t = aware(day + timedelta(days=1))
    managed = dict(device_coverage(scope).filter(_covered_at(t)).values("client_id")
                   .annotate(n=Count("device_id", distinct=True)).order_by().values_list("client_id", "n"))
    devices = dict(_environment_devices(scope, t).values("client_id").annotate(n=Count("pk")).order_by()
                   .values_list("client_id", "n"))
    discovered = dict(scope.restrict(DiscoveredDevice.objects.all())
                      .filter(first_seen_at__lte=t, matched_device__isnull=True, ignored=False)
                      .values("client_id").annotate(n=Count("pk")).order_by().values_list("client_id", "n"))
    ids = sorted(set(managed) | set(devices) | set(discovered))
    return [EnvironmentRow(cid, managed.get(cid, 0), devices.get(cid, 0), discovered.get(cid, 0)) for cid in ids]


def backup_service() -> Service | None:
    """The service cross-sell follows by default: the first active service that includes backup."""
    return (Service.objects.filter(active=True, includes_backup=True).order_by("-is_addon", "name", "pk").first()
            or Service.objects.filter(active=True).order_by("name", "pk").first())


def service_revenue_lines(scope: KpiScope, start: date, end: date) -> QuerySet[InvoiceLine]:
    """Lines of booked invoices naming a service, dated (their period's start, else the invoice date) in
    [start, end)."""
    return (scope.restrict(InvoiceLine.objects.all())
            .filter(invoice__kind=InvoiceKind.INVOICE, invoice__status__in=BOOKED, service__isnull=False)
            .annotate(day=Coalesce("period_start", "invoice__issue_date"))
            .filter(day__gte=start, day__lt=end))


@dataclass
class CrossSellReport:
    service: Service | None
    months: list[date]
    by_service: dict[int, dict[date, Decimal]]
    names: dict[int, str]
    coverage: list[dict[str, Any]]

    def service_total(self, service_id: int) -> Decimal:
        return sum(self.by_service.get(service_id, {}).values(), ZERO)

    @property
    def value(self) -> Decimal:
        return self.service_total(self.service.pk) if self.service else ZERO


def service_revenue(scope: KpiScope, start: date, end: date) -> dict[int, dict[date, Decimal]]:
    """{service id: {month: revenue}} between two days."""
    rows = (service_revenue_lines(scope, start, end).annotate(month=TruncMonth("day"))
            .values("service_id", "month").annotate(total=Sum("amount")).order_by())
    result: dict[int, dict[date, Decimal]] = defaultdict(dict)
    for row in rows:
        result[row["service_id"]][_as_date(row["month"])] = cents(Decimal(row["total"]))
    return dict(result)


def environment_units(scope: KpiScope, unit: str, day: date) -> dict[int, int]:
    """{client id: units of this kind in the environment at the end of `day`} (devices not retired by kind,
    contacts for users, sites for sites, 1 for a flat service)."""
    t = aware(day + timedelta(days=1))
    if unit in DEVICE_KINDS_OF_UNIT:
        qs: QuerySet[Any] = _environment_devices(scope, t).filter(kind__in=DEVICE_KINDS_OF_UNIT[unit])
    elif unit == UnitKind.USER:
        qs = scope.restrict(Contact.objects.all()).filter(created_at__lte=t)
    elif unit == UnitKind.SITE:
        qs = scope.restrict(Site.objects.all()).filter(created_at__lte=t)
    else:
        return {cid: 1 for cid in scope.clients().values_list("pk", flat=True)}
    return dict(qs.values("client_id").annotate(n=Count("pk")).order_by().values_list("client_id", "n"))


def cross_sell(scope: KpiScope, period: Period, service: Service | None = None) -> CrossSellReport:
    """Revenue per service per month of the period, and per client the share of the environment the service
    covers at the period's end (units billed for it in the last month / units of its kind)."""
    scope.require(REVENUE)
    service = service or backup_service()
    months = period.months()
    by_service = service_revenue(scope, period.start, period.end)
    names = dict(Service.objects.filter(pk__in=list(by_service) + ([service.pk] if service else []))
                 .values_list("pk", "name"))
    coverage: list[dict[str, Any]] = []
    if service is not None:
        last = months[-1]
        billed = dict(recurring_lines(scope).filter(service=service, period_start__gte=last,
                                                    period_start__lt=add_months(last, 1))
                      .values("client_id").annotate(q=Sum("quantity")).order_by().values_list("client_id", "q"))
        units = environment_units(scope, service.unit, period.last_day)
        for cid in sorted(set(billed) | set(units)):
            quantity = Decimal(billed.get(cid) or 0)
            coverage.append({"client_id": cid, "billed_units": quantity, "units": units.get(cid, 0),
                             "pct": percent(quantity, units.get(cid, 0))})
    return CrossSellReport(service, months, by_service, names, coverage)


# --- Service desk -------------------------------------------------------------------------------------------


def tickets_opened(scope: KpiScope, period: Period) -> QuerySet[Ticket]:
    start, end = period.bounds()
    return scope.restrict(Ticket.objects.all()).filter(merged_into__isnull=True, created_at__gte=start,
                                                       created_at__lt=end)


@dataclass
class TicketVolume:
    count: int
    per_day: Decimal | None
    per_week: Decimal | None
    per_month: Decimal | None
    by_client: list[tuple[int, int]]


def ticket_volume(scope: KpiScope, period: Period) -> TicketVolume:
    """Tickets opened in the period (merged ones not counted twice): total, averages per day (n / days), per
    week (n × 7 / days) and per month (n / calendar months touched), and per client."""
    scope.require(SERVICE)
    by_client = list(tickets_opened(scope, period).values("client_id").annotate(n=Count("pk")).order_by()
                     .values_list("client_id", "n"))
    by_client.sort(key=lambda r: (-r[1], r[0]))
    count = sum(n for _c, n in by_client)
    return TicketVolume(count, ratio(count, period.days), ratio(count * 7, period.days),
                        ratio(count, len(period.months())), by_client)


GRAINS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


def ticket_series(scope: KpiScope, period: Period, grain: str = "month") -> list[tuple[date, int]]:
    """Tickets opened per day, week (starting Monday) or month of the period, empty buckets included."""
    trunc = GRAINS.get(grain, TruncMonth)
    counts = {_as_date(row["bucket"]): row["n"] for row in tickets_opened(scope, period)
              .annotate(bucket=trunc("created_at")).values("bucket").annotate(n=Count("pk")).order_by()}
    buckets: list[date] = []
    if grain == "day":
        day = period.start
        while day < period.end:
            buckets.append(day)
            day += timedelta(days=1)
    elif grain == "week":
        day = period.start - timedelta(days=period.start.weekday())
        while day < period.end:
            buckets.append(day)
            day += timedelta(days=7)
    else:
        buckets = period.months()
    return [(b, counts.get(b, 0)) for b in buckets]


def billed_entries(scope: KpiScope, period: Period) -> QuerySet[TimeEntry]:
    """Billable out-of-scope time started in the period and not refused or awaiting approval."""
    start, end = period.bounds()
    return scope.restrict(TimeEntry.objects.all()).filter(
        started_at__gte=start, started_at__lt=end, billable=True, coverage=Coverage.OUT_OF_SCOPE,
        approval_status__in=BILLED_APPROVALS)


@dataclass(frozen=True)
class HoursRow:
    key_id: int
    minutes: int
    amount: Decimal

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / SIXTY).quantize(CENT, rounding=ROUND_HALF_UP)


def _hours_rows(queryset: QuerySet[TimeEntry], key: str) -> list[HoursRow]:
    # Each entry's amount is its rate × minutes / 60 rounded to the cent (as billing bills it); it depends only on
    # the rate and the minutes, so the database groups by them and the rounding is done here, exactly.
    minutes: dict[int, int] = defaultdict(int)
    amounts: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for row in (queryset.values(key, "rate", "billable_minutes").annotate(n=Count("pk")).order_by()):
        minutes[row[key]] += row["billable_minutes"] * row["n"]
        amounts[row[key]] += cents(Decimal(row["rate"]) * row["billable_minutes"] / SIXTY) * row["n"]
    result = [HoursRow(k, minutes[k], amounts[k]) for k in minutes]
    result.sort(key=lambda r: (-r.minutes, r.key_id))
    return result


def billed_hours(scope: KpiScope, period: Period) -> list[HoursRow]:
    """Per client: billable minutes of billed time in the period (as hours) and their amount (each entry's
    rate × minutes / 60 rounded to the cent, as billing bills it)."""
    scope.require(SERVICE)
    return _hours_rows(billed_entries(scope, period), "client_id")


def booked_revenue(scope: KpiScope, period: Period) -> Decimal:
    """Invoiced revenue of the period: subtotals (before tax) of booked invoices issued in it."""
    total = scope.restrict(Invoice.objects.all()).filter(
        kind=InvoiceKind.INVOICE, status__in=BOOKED, issue_date__gte=period.start, issue_date__lt=period.end,
    ).aggregate(t=Sum("subtotal"))["t"]
    return cents(Decimal(total or 0))


@dataclass
class TechnicianRevenue:
    revenue: Decimal
    technicians: int
    average: Decimal | None
    rows: list[HoursRow]


def technicians_working(scope: KpiScope, period: Period) -> int:
    start, end = period.bounds()
    return (scope.restrict(TimeEntry.objects.all()).filter(started_at__gte=start, started_at__lt=end)
            .values("user_id").distinct().count())


def revenue_per_technician(scope: KpiScope, period: Period) -> TechnicianRevenue:
    """Invoiced revenue of the period / technicians who logged time in it; and per technician, the amount of the
    billed time they logged."""
    scope.require(REVENUE)
    revenue = booked_revenue(scope, period)
    technicians = technicians_working(scope, period)
    return TechnicianRevenue(revenue, technicians, ratio(revenue, technicians),
                             _hours_rows(billed_entries(scope, period), "user_id"))


@dataclass
class Workload:
    rows: list[tuple[int, str, int, Decimal | None]]  # user id, name, tickets, share %
    mean: Decimal | None
    stdev: Decimal | None
    cv: Decimal | None

    @property
    def imbalanced(self) -> bool:
        return self.cv is not None and self.cv > IMBALANCE_CV


def tasks_per_technician(scope: KpiScope, period: Period,
                         counts: dict[int, int] | None = None) -> Workload:
    """Tickets opened in the period per assignee, every active technician included (with 0); the coefficient of
    variation (population standard deviation / mean) flags an unbalanced workload above IMBALANCE_CV.
    `counts` (assignee id → tickets) may be given when already read."""
    scope.require(SERVICE)
    if counts is None:
        counts = dict(tickets_opened(scope, period).filter(assignee__isnull=False).values("assignee_id")
                      .annotate(n=Count("pk")).order_by().values_list("assignee_id", "n"))
    return workload(counts)


def workload(counts: dict[int, int]) -> Workload:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    technicians = set(user_model.objects.filter(role=Role.TECHNICIAN, is_active=True).values_list("pk", flat=True))
    users = {u.pk: u for u in user_model.objects.filter(pk__in=technicians | set(counts))}
    total = sum(counts.values())
    rows = sorted(((uid, str(users[uid]), counts.get(uid, 0), percent(counts.get(uid, 0), total))
                   for uid in users), key=lambda r: (-r[2], r[1], r[0]))
    if not rows:
        return Workload([], None, None, None)
    n = Decimal(len(rows))
    mean = Decimal(total) / n
    variance = sum(((Decimal(r[2]) - mean) ** 2 for r in rows), Decimal(0)) / n
    stdev = variance.sqrt()
    cv = (stdev / mean).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP) if mean else None
    return Workload(rows, mean.quantize(CENT, rounding=ROUND_HALF_UP), stdev.quantize(CENT, rounding=ROUND_HALF_UP),
                    cv)


def tickets_resolved(scope: KpiScope, period: Period) -> QuerySet[Ticket]:
    start, end = period.bounds()
    return scope.restrict(Ticket.objects.all()).filter(merged_into__isnull=True, resolved_at__gte=start,
                                                       resolved_at__lt=end)


@dataclass
class HandlingTime:
    count: int
    average_hours: Decimal | None
    by_client: list[tuple[int, int, Decimal | None]]  # client id, tickets, average hours


def handling_time(scope: KpiScope, period: Period) -> HandlingTime:
    """Tickets resolved in the period: the average time from opening to resolution, in hours, overall and per
    client."""
    scope.require(SERVICE)
    per_client: dict[int, list[timedelta]] = defaultdict(list)
    for cid, created, resolved in tickets_resolved(scope, period).values_list("client_id", "created_at",
                                                                              "resolved_at"):
        if resolved is not None:
            per_client[cid].append(resolved - created)
    rows = [(cid, len(d), average_hours(sum(d, timedelta()), len(d))) for cid, d in sorted(per_client.items())]
    every = [x for d in per_client.values() for x in d]
    return HandlingTime(len(every), average_hours(sum(every, timedelta()), len(every)), rows)


MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)


def average_hours(total: timedelta, count: int) -> Decimal | None:
    """A total duration / a count, in hours rounded to 0.01 (exact to the microsecond before rounding)."""
    return ratio(Decimal(total // timedelta(microseconds=1)) / MICROSECONDS_PER_HOUR, count)


@dataclass
class SlaAttainment:
    resolution_met: int
    resolution_total: int
    response_met: int
    response_total: int
    by_client: list[tuple[int, int, int, Decimal | None]]  # client, met, total, % (resolution)

    @property
    def resolution_pct(self) -> Decimal | None:
        return percent(self.resolution_met, self.resolution_total)

    @property
    def response_pct(self) -> Decimal | None:
        return percent(self.response_met, self.response_total)


def sla_attainment(scope: KpiScope, period: Period) -> SlaAttainment:
    """Resolution target met among tickets resolved in the period that had one; first-response target met among
    tickets first answered in the period that had one."""
    scope.require(SERVICE)
    start, end = period.bounds()
    resolved = tickets_resolved(scope, period).filter(sla_resolution_met__isnull=False)
    rows = list(resolved.values("client_id").annotate(met=Count("pk", filter=Q(sla_resolution_met=True)),
                                                      n=Count("pk")).order_by("client_id"))
    response = scope.restrict(Ticket.objects.all()).filter(
        merged_into__isnull=True, first_responded_at__gte=start, first_responded_at__lt=end,
        sla_first_response_met__isnull=False).aggregate(met=Count("pk", filter=Q(sla_first_response_met=True)),
                                                        n=Count("pk"))
    return SlaAttainment(sum(r["met"] for r in rows), sum(r["n"] for r in rows), response["met"], response["n"],
                         [(r["client_id"], r["met"], r["n"], percent(r["met"], r["n"])) for r in rows])


@dataclass
class SurveyScores:
    answered: int
    sent: int
    professionalism: Decimal | None
    accuracy: Decimal | None
    speed: Decimal | None
    overall: Decimal | None
    by_technician: list[tuple[int | None, int, Decimal | None]]

    @property
    def response_rate(self) -> Decimal | None:
        return percent(self.answered, self.sent)


def surveys_answered(scope: KpiScope, period: Period) -> QuerySet[SurveyResponse]:
    start, end = period.bounds()
    return scope.restrict(SurveyResponse.objects.all()).filter(answered_at__gte=start, answered_at__lt=end)


def survey_scores(scope: KpiScope, period: Period) -> SurveyScores:
    """Surveys answered in the period: the mean of each 1–5 score, the overall mean of all three, answers per
    survey sent in the period, and the overall mean per technician."""
    scope.require(SERVICE)
    start, end = period.bounds()
    answered = surveys_answered(scope, period)
    row = answered.aggregate(n=Count("pk"), p=Sum("professionalism"), a=Sum("accuracy"), s=Sum("speed"))
    sent = scope.restrict(SurveyResponse.objects.all()).filter(sent_at__gte=start, sent_at__lt=end).count()
    n = row["n"]
    per_tech = (answered.values("technician_id").annotate(n=Count("pk"), t=Sum(F("professionalism") + F("accuracy")
                                                                               + F("speed"))).order_by())
    by_tech = sorted(((r["technician_id"], r["n"], ratio(r["t"] or 0, 3 * r["n"])) for r in per_tech),
                     key=lambda r: (-(r[2] or 0), r[0] or 0))
    total = (row["p"] or 0) + (row["a"] or 0) + (row["s"] or 0)
    return SurveyScores(n, sent, ratio(row["p"] or 0, n), ratio(row["a"] or 0, n), ratio(row["s"] or 0, n),
                        ratio(total, 3 * n), by_tech)


def month_ends(last_month: date, count: int = SERIES_MONTHS) -> list[date]:
    """The last day of each of the `count` months ending with `last_month`."""
    months = [add_months(last_month, -i) for i in range(count - 1, -1, -1)]
    return [m.replace(day=calendar.monthrange(m.year, m.month)[1]) for m in months]


@dataclass
class ClientNames:
    """Client names for the tables, fetched once."""

    names: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, scope: KpiScope) -> ClientNames:
        return cls(dict(scope.clients().values_list("pk", "name")))

    def __call__(self, client_id: int) -> str:
        return self.names.get(client_id, f"#{client_id}")


# --- The dashboard: each figure with its previous period and a 12-month series ------------------------------


@dataclass
class Figure:
    """One KPI as the dashboard shows it: the value of the period, of the previous period, and a series."""

    key: str
    title: Any
    sections: frozenset[str]
    unit: str  # money, count, hours, percent, score, decimal
    value: Decimal | int | None
    previous: Decimal | int | None
    series: list[tuple[str, Decimal | int | None]] = field(default_factory=list)
    series_label: Any = ""
    chart: str = "line"  # line or bar
    note: Any = ""

    @property
    def change(self) -> Decimal | int | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


FIGURES: dict[str, tuple[Any, frozenset[str]]] = {
    "average_deal_value": (_("Average deal value"), frozenset({REVENUE})),
    "new_contracts": (_("New contracts"), frozenset({REVENUE})),
    "mrr": (_("Monthly recurring revenue (MRR)"), frozenset({REVENUE})),
    "upsell": (_("Upsell revenue"), frozenset({REVENUE})),
    "managed_growth": (_("Managed services growth"), frozenset({REVENUE, SERVICE})),
    "cross_sell": (_("Cross-sell"), frozenset({REVENUE})),
    "salespeople": (_("Per salesperson"), frozenset({REVENUE})),
    "ticket_volume": (_("Ticket volume"), frozenset({SERVICE})),
    "billed_hours": (_("Billed hours"), frozenset({SERVICE})),
    "revenue_per_technician": (_("Revenue per technician"), frozenset({REVENUE})),
    "tasks_per_technician": (_("Tasks per technician"), frozenset({SERVICE})),
    "handling_time": (_("Average handling time"), frozenset({SERVICE})),
    "sla": (_("SLA attainment"), frozenset({SERVICE})),
    "surveys": (_("Survey scores"), frozenset({SERVICE})),
}


def visible_keys(scope: KpiScope) -> list[str]:
    return [key for key, (_t, sections) in FIGURES.items() if sections & scope.sections]


def require_figure(scope: KpiScope, key: str) -> None:
    """403 when the role may not read this figure; NotFound for an unknown key."""
    from tenfold.core.errors import NotFound

    if key not in FIGURES:
        raise NotFound()
    if not FIGURES[key][1] & scope.sections:
        raise PermissionDenied(_("Your role cannot see these figures."))


def _monthly(queryset: QuerySet[Any], field_name: str, **aggregates: Any) -> dict[date, dict[str, Any]]:
    rows = queryset.annotate(kpi_month=TruncMonth(field_name)).values("kpi_month").annotate(**aggregates).order_by()
    return {_as_date(row["kpi_month"]): row for row in rows}


def series_window(period: Period) -> Period:
    """The 12 months ending with the period's last month (the charts' range)."""
    last = month_start(period.last_day)
    return Period(add_months(last, -(SERIES_MONTHS - 1)), add_months(last, 1), "custom")


def _label(month: date) -> str:
    return month.strftime("%Y-%m")


def _series(window: Period, values: dict[date, Any]) -> list[tuple[str, Any]]:
    return [(_label(m), values.get(m)) for m in window.months()]


def _hours(minutes: int | None) -> Decimal:
    return (Decimal(minutes or 0) / SIXTY).quantize(CENT, rounding=ROUND_HALF_UP)


def _avg_hours(queryset: QuerySet[Ticket]) -> dict[date, Decimal | None]:
    from django.db.models import DurationField, ExpressionWrapper

    duration = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    rows = _monthly(queryset, "resolved_at", d=Sum(duration), n=Count("pk"))
    return {m: average_hours(r["d"] or timedelta(), r["n"]) for m, r in rows.items()}


@dataclass
class ServiceMonths:
    """The service desk's figures per month over a range, read in one grouped query per table, so the dashboard
    scans tickets twice whatever the number of figures (month, quarter and year periods are whole months)."""

    opened: dict[date, dict[int | None, int]]  # month → assignee → tickets opened (merged ones left out)
    resolved: dict[date, tuple[int, timedelta, int, int]]  # month → resolved, total duration, SLA met, with SLA
    billed: dict[date, int]  # month → billable minutes billed
    surveys: dict[date, tuple[int, int]]  # month → surveys answered, sum of their three scores

    def months_of(self, period: Period) -> list[date]:
        return period.months()

    def opened_total(self, months: list[date]) -> int:
        return sum(sum(self.opened.get(m, {}).values()) for m in months)

    def assignees(self, months: list[date]) -> dict[int, int]:
        counts: dict[int, int] = defaultdict(int)
        for m in months:
            for uid, n in self.opened.get(m, {}).items():
                if uid is not None:
                    counts[uid] += n
        return dict(counts)

    def _resolved(self, months: list[date]) -> tuple[int, timedelta, int, int]:
        rows = [self.resolved[m] for m in months if m in self.resolved]
        return (sum(r[0] for r in rows), sum((r[1] for r in rows), timedelta()), sum(r[2] for r in rows),
                sum(r[3] for r in rows))

    def handling(self, months: list[date]) -> Decimal | None:
        n, total, _met, _sla = self._resolved(months)
        return average_hours(total, n)

    def sla(self, months: list[date]) -> Decimal | None:
        _n, _total, met, with_sla = self._resolved(months)
        return percent(met, with_sla)

    def billed_hours(self, months: list[date]) -> Decimal:
        return _hours(sum(self.billed.get(m, 0) for m in months))

    def survey_overall(self, months: list[date]) -> Decimal | None:
        rows = [self.surveys[m] for m in months if m in self.surveys]
        return ratio(sum(r[1] for r in rows), 3 * sum(r[0] for r in rows))


def service_months(scope: KpiScope, first: date, end: date) -> ServiceMonths:
    """ServiceMonths for the months from `first` to the one before `end` (month starts)."""
    from django.db.models import DurationField, ExpressionWrapper

    start_at, end_at = aware(first), aware(end)
    tickets = scope.restrict(Ticket.objects.all()).filter(merged_into__isnull=True)
    opened: dict[date, dict[int | None, int]] = defaultdict(dict)
    for row in (tickets.filter(created_at__gte=start_at, created_at__lt=end_at)
                .annotate(kpi_month=TruncMonth("created_at")).values("kpi_month", "assignee_id")
                .annotate(n=Count("pk")).order_by()):
        opened[_as_date(row["kpi_month"])][row["assignee_id"]] = row["n"]
    duration = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    resolved = {}
    for month, row in _monthly(tickets.filter(resolved_at__gte=start_at, resolved_at__lt=end_at), "resolved_at",
                               n=Count("pk"), d=Sum(duration),
                               met=Count("pk", filter=Q(sla_resolution_met=True)),
                               sla=Count("pk", filter=Q(sla_resolution_met__isnull=False))).items():
        resolved[month] = (row["n"], row["d"] or timedelta(), row["met"], row["sla"])
    billed = {m: int(r["m"] or 0) for m, r in _monthly(
        billed_entries(scope, Period(first, end)), "started_at", m=Sum("billable_minutes")).items()}
    surveys = {m: (r["n"], int(r["t"] or 0)) for m, r in _monthly(
        surveys_answered(scope, Period(first, end)), "answered_at", n=Count("pk"),
        t=Sum(F("professionalism") + F("accuracy") + F("speed"))).items()}
    return ServiceMonths(dict(opened), resolved, billed, surveys)


SERVICE_MONTHLY = ("ticket_volume", "tasks_per_technician", "handling_time", "sla", "billed_hours", "surveys")


def _service_figure(fig: Figure, cache: ServiceMonths, period: Period, previous: Period, window: Period) -> Figure:
    """A service figure of a whole-month period from the monthly cache (same definitions as the functions)."""
    now, before, months = period.months(), previous.months(), window.months()
    key = fig.key
    if key == "ticket_volume":
        fig.value, fig.previous = cache.opened_total(now), cache.opened_total(before)
        fig.note = _("%(day)s per day") % {"day": ratio(fig.value, period.days) or 0}
        fig.series = [(_label(m), cache.opened_total([m])) for m in months]
    elif key == "tasks_per_technician":
        fig.unit, fig.chart = "decimal", "bar"
        load = workload(cache.assignees(now))
        fig.value, fig.previous = load.cv, workload(cache.assignees(before)).cv
        fig.note = _("Unbalanced workload") if load.imbalanced else _("Balanced workload")
        fig.series = [(name, n) for _uid, name, n, _pct in load.rows]
    elif key == "handling_time":
        fig.unit = "hours"
        fig.value, fig.previous = cache.handling(now), cache.handling(before)
        fig.series = [(_label(m), cache.handling([m])) for m in months]
    elif key == "sla":
        fig.unit = "percent"
        fig.value, fig.previous = cache.sla(now), cache.sla(before)
        fig.series = [(_label(m), cache.sla([m])) for m in months]
    elif key == "billed_hours":
        fig.unit = "hours"
        fig.value, fig.previous = cache.billed_hours(now), cache.billed_hours(before)
        fig.series = [(_label(m), cache.billed_hours([m]) if m in cache.billed else None) for m in months]
    else:
        fig.unit = "score"
        fig.value, fig.previous = cache.survey_overall(now), cache.survey_overall(before)
        fig.series = [(_label(m), cache.survey_overall([m])) for m in months]
    return fig


def figure(scope: KpiScope, key: str, period: Period, *, with_series: bool = True,
           mrr_cache: dict[date, dict[int, Decimal]] | None = None,
           service_cache: ServiceMonths | None = None) -> Figure:
    """One figure for the period, its previous period and (optionally) its 12-month series."""
    require_figure(scope, key)
    title, sections = FIGURES[key]
    previous = period.previous()
    window = series_window(period)
    series: list[tuple[str, Any]] = []
    fig = Figure(key, title, sections, "count", None, None)
    if service_cache is not None and period.kind != "custom" and key in SERVICE_MONTHLY:
        return _service_figure(fig, service_cache, period, previous, window)
    if key == "average_deal_value":
        fig.unit = "money"
        fig.value, fig.previous = (average_deal_value(scope, p).average for p in (period, previous))
        if with_series:
            start, end = window.bounds()
            rows = _monthly(scope.deals().filter(stage=DealStage.WON, closed_at__gte=start, closed_at__lt=end),
                            "closed_at", n=Count("pk"), t=Sum(DEAL_VALUE, output_field=DecimalField()))
            series = _series(window, {m: ratio(r["t"] or 0, r["n"]) for m, r in rows.items()})
    elif key == "new_contracts":
        fig.value, fig.previous = (new_contracts_queryset(scope, p).count() for p in (period, previous))
        fig.note = _("Average value: %(value)s") % {"value": new_contracts(scope, period).average or "—"}
        if with_series:
            rows = _monthly(new_contracts_queryset(scope, window), "start_date", n=Count("pk"))
            series = _series(window, {m: r["n"] for m, r in rows.items()})
    elif key in ("mrr", "upsell"):
        fig.unit = "money"
        first = add_months(min(month_start(previous.start), window.start), -1)
        by_month = mrr_cache if mrr_cache is not None else mrr_by_month(scope, first, month_start(period.last_day))
        if key == "mrr":
            fig.value, fig.previous = (mrr_report(scope, p, by_month).mrr for p in (period, previous))
            series = [(_label(m.month), m.mrr) for m in mrr_months(by_month, window.months())]
        else:
            fig.value, fig.previous = (upsell(scope, p, by_month).expansion for p in (period, previous))
            series = [(_label(m.month), m.expansion) for m in mrr_months(by_month, window.months())]
    elif key == "managed_growth":
        now, before = managed_counts(scope, [period.last_day, previous.last_day])
        fig.value, fig.previous = now.total, before.total
        fig.note = _("%(servers)s servers, %(workstations)s workstations") % {
            "servers": now.servers, "workstations": now.workstations}
        if with_series:
            series = [(c.at.strftime("%Y-%m"), c.total) for c in managed_counts(scope, month_ends(
                month_start(period.last_day)))]
    elif key == "cross_sell":
        fig.unit = "money"
        report = cross_sell(scope, period)
        fig.value = report.value
        fig.previous = cross_sell(scope, previous, report.service).value if report.service else ZERO
        fig.note = str(report.service) if report.service else _("No service in the catalog.")
        if with_series and report.service:
            by_service = service_revenue(scope, window.start, window.end).get(report.service.pk, {})
            series = _series(window, by_service)
    elif key == "salespeople":
        fig.unit = "money"
        rows_now = per_salesperson(scope, period)
        fig.value = rows_now[0].total if rows_now else None
        rows_before = per_salesperson(scope, previous)
        fig.previous = rows_before[0].total if rows_before else None
        fig.note = rows_now[0].name if rows_now else ""
        fig.chart = "bar"
        series = [(r.name, r.total) for r in rows_now]
    elif key == "ticket_volume":
        fig.value, fig.previous = (tickets_opened(scope, p).count() for p in (period, previous))
        fig.note = _("%(day)s per day") % {"day": ratio(fig.value, period.days) or 0}
        if with_series:
            start, end = window.bounds()
            rows = _monthly(scope.restrict(Ticket.objects.all()).filter(
                merged_into__isnull=True, created_at__gte=start, created_at__lt=end), "created_at", n=Count("pk"))
            series = _series(window, {m: r["n"] for m, r in rows.items()})
    elif key == "billed_hours":
        fig.unit = "hours"
        fig.value, fig.previous = (_hours(billed_entries(scope, p).aggregate(m=Sum("billable_minutes"))["m"])
                                   for p in (period, previous))
        if with_series:
            rows = _monthly(billed_entries(scope, window), "started_at", m=Sum("billable_minutes"))
            series = _series(window, {m: _hours(r["m"]) for m, r in rows.items()})
    elif key == "revenue_per_technician":
        fig.unit = "money"
        fig.value, fig.previous = (ratio(booked_revenue(scope, p), technicians_working(scope, p))
                                   for p in (period, previous))
        if with_series:
            start, end = window.bounds()
            revenue = _monthly(scope.restrict(Invoice.objects.all()).filter(
                kind=InvoiceKind.INVOICE, status__in=BOOKED, issue_date__gte=window.start,
                issue_date__lt=window.end), "issue_date", t=Sum("subtotal"))
            techs = _monthly(scope.restrict(TimeEntry.objects.all()).filter(started_at__gte=start, started_at__lt=end),
                             "started_at", n=Count("user_id", distinct=True))
            series = _series(window, {m: ratio(revenue[m]["t"] or 0, techs.get(m, {}).get("n", 0))
                                      for m in revenue})
    elif key == "tasks_per_technician":
        fig.unit = "decimal"
        now_load, before_load = tasks_per_technician(scope, period), tasks_per_technician(scope, previous)
        fig.value, fig.previous = now_load.cv, before_load.cv
        fig.note = _("Unbalanced workload") if now_load.imbalanced else _("Balanced workload")
        fig.chart = "bar"
        series = [(name, n) for _uid, name, n, _pct in now_load.rows]
    elif key == "handling_time":
        fig.unit = "hours"
        fig.value, fig.previous = (handling_time(scope, p).average_hours for p in (period, previous))
        if with_series:
            start, end = window.bounds()
            series = _series(window, _avg_hours(scope.restrict(Ticket.objects.all()).filter(
                merged_into__isnull=True, resolved_at__gte=start, resolved_at__lt=end)))
    elif key == "sla":
        fig.unit = "percent"
        fig.value, fig.previous = (sla_attainment(scope, p).resolution_pct for p in (period, previous))
        if with_series:
            start, end = window.bounds()
            rows = _monthly(scope.restrict(Ticket.objects.all()).filter(
                merged_into__isnull=True, resolved_at__gte=start, resolved_at__lt=end,
                sla_resolution_met__isnull=False), "resolved_at", met=Count("pk", filter=Q(sla_resolution_met=True)),
                n=Count("pk"))
            series = _series(window, {m: percent(r["met"], r["n"]) for m, r in rows.items()})
    elif key == "surveys":
        fig.unit = "score"
        fig.value, fig.previous = (survey_scores(scope, p).overall for p in (period, previous))
        if with_series:
            rows = _monthly(surveys_answered(scope, window), "answered_at", n=Count("pk"),
                            t=Sum(F("professionalism") + F("accuracy") + F("speed")))
            series = _series(window, {m: ratio(r["t"] or 0, 3 * r["n"]) for m, r in rows.items()})
    fig.series = series
    return fig


def dashboard(scope: KpiScope, period: Period, *, with_series: bool = True) -> list[Figure]:
    """Every figure the actor may read, for the period (MRR read once for MRR and upsell)."""
    keys = visible_keys(scope)
    cache = None
    if "mrr" in keys:
        previous, window = period.previous(), series_window(period)
        first = add_months(min(month_start(previous.start), window.start), -1)
        cache = mrr_by_month(scope, first, month_start(period.last_day))
    services = None
    if scope.can(SERVICE) and period.kind != "custom":
        previous, window = period.previous(), series_window(period)
        services = service_months(scope, min(month_start(previous.start), window.start), period.end)
    return [figure(scope, key, period, with_series=with_series, mrr_cache=cache, service_cache=services)
            for key in keys]
