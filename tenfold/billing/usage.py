"""Hours used on a block-of-hours contract over a period: purchased, carried in, used, remaining, overrun.

Rules (docs/architecture.md, "Billing"):
- `hours_purchased` is the block for each monthly period (the month of the contract's start is its first).
- Hours used are the billable minutes of the time entries logged against the contract and covered by it
  (out-of-scope time is invoiced at its own rate instead), billable, and approved or not needing approval,
  whose start falls in the period (in the deployment's time zone). Minutes are summed first and turned into
  hours once, to the hundredth, half up.
- Unused hours: `expire` — lost at the end of the period; `roll_over` — the unused hours of the purchased
  block carry into the next period only. Carried-in hours are used first, and what is left of them at the
  end of that next period expires (so hours never pile up beyond two blocks).
- Overrun = hours used beyond purchased + carried in; the billing run invoices it at the overage rate.

Pure reads: the contract page's hours panel and the billing run both call `block_usage`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from tenfold.contracts.models import Contract, UnusedHours
from tenfold.servicedesk.models import ApprovalStatus, Coverage, TimeEntry

ZERO = Decimal("0.00")
HUNDREDTH = Decimal("0.01")
SIXTY = Decimal(60)

__all__ = ["BlockUsage", "block_usage", "hours_from_minutes", "month_start", "next_month", "usage_entries"]


@dataclass(frozen=True)
class BlockUsage:
    """Hours of a block over one period (all Decimal hours to the hundredth)."""

    purchased: Decimal
    carried_in: Decimal
    used: Decimal
    remaining: Decimal
    overrun: Decimal

    @property
    def available(self) -> Decimal:
        """Purchased plus carried in."""
        return self.purchased + self.carried_in

    @property
    def used_pct(self) -> Decimal | None:
        """Used as a share of what was available, in percent to 0.1 (None when nothing was available)."""
        if not self.available:
            return None
        return (self.used * 100 / self.available).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def hours_from_minutes(minutes: int) -> Decimal:
    """Minutes as hours to the hundredth, half up."""
    return (Decimal(minutes) / SIXTY).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def month_start(day: date) -> date:
    """The first day of day's month."""
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after day's month."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def usage_entries(contract: Contract) -> Any:
    """The time entries that consume a block: covered, billable, approved or not needing approval."""
    return TimeEntry.objects.filter(contract=contract, coverage=Coverage.COVERED, billable=True,
                                    is_running=False,
                                    approval_status__in=[ApprovalStatus.APPROVED, ApprovalStatus.NOT_REQUIRED])


def _minutes_by_month(contract: Contract, before: date) -> dict[date, int]:
    """Used minutes per month, for every month from the contract's start up to (not including) `before`."""
    totals: dict[date, int] = defaultdict(int)
    rows = usage_entries(contract).filter(started_at__lt=_aware(before)).values_list("started_at", "billable_minutes")
    zone = timezone.get_default_timezone()
    for started_at, minutes in rows:
        totals[month_start(timezone.localtime(started_at, zone).date())] += minutes
    return totals


def _carried_in(contract: Contract, purchased: Decimal, period_start: date) -> Decimal:
    if contract.unused_hours != UnusedHours.ROLL_OVER or not purchased:
        return ZERO
    first = month_start(contract.start_date)
    target = month_start(period_start)
    if target <= first:
        return ZERO
    by_month = _minutes_by_month(contract, target)
    carried, month = ZERO, first
    while month < target:
        used = hours_from_minutes(by_month.get(month, 0))
        used_from_block = max(used - carried, ZERO)
        carried = max(purchased - used_from_block, ZERO)
        month = next_month(month)
    return carried


def block_usage(contract: Contract, period_start: date, period_end: date) -> BlockUsage:
    """The block's hours over [period_start, period_end] (whole days, inclusive)."""
    if period_end < period_start:
        raise ValueError("the period ends before it starts")
    purchased = (contract.hours_purchased or ZERO).quantize(HUNDREDTH)
    carried_in = _carried_in(contract, purchased, period_start)
    minutes = usage_entries(contract).filter(
        started_at__gte=_aware(period_start), started_at__lt=_aware(period_end + timedelta(days=1)),
    ).aggregate(total=Sum("billable_minutes"))["total"] or 0
    used = hours_from_minutes(minutes)
    available = purchased + carried_in
    return BlockUsage(purchased=purchased, carried_in=carried_in, used=used,
                      remaining=max(available - used, ZERO), overrun=max(used - available, ZERO))
