"""Block-hour usage: hours used in a period, roll-over of unused hours, expiry, overrun."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tenfold.accounts.testing import make_staff
from tenfold.billing.tests.factories import at, log_time, make_client, make_contract, make_ticket
from tenfold.billing.usage import block_usage, hours_from_minutes
from tenfold.core.roles import Role

pytestmark = pytest.mark.django_db


def block(unused: str = "expire", hours: str = "10"):  # type: ignore[no-untyped-def]
    client = make_client()
    contract = make_contract(client, type="block_hours", hours_purchased=Decimal(hours), unused_hours=unused,
                             overage_rate=Decimal("95.00"))
    return contract, make_ticket(client, contract), make_staff(Role.TECHNICIAN, mfa=False)


def test_hours_used_count_only_approved_covered_billable_time_of_the_period():
    # given a 10-hour block with time in and around March
    contract, ticket, tech = block()
    log_time(tech, ticket, 120, at(2026, 3, 2))
    log_time(tech, ticket, 45, at(2026, 3, 31, 23))  # last hour of the period still counts
    log_time(tech, ticket, 60, at(2026, 4, 1, 0))  # next period
    log_time(tech, ticket, 60, at(2026, 3, 5), approval="pending")
    log_time(tech, ticket, 60, at(2026, 3, 6), approval="rejected")
    log_time(tech, ticket, 60, at(2026, 3, 7), coverage="out_of_scope")
    log_time(tech, ticket, 60, at(2026, 3, 8), billable=False, billable_minutes=0, approval="not_required")
    # when usage is measured for March
    usage = block_usage(contract, date(2026, 3, 1), date(2026, 3, 31))
    # then 165 minutes = 2.75 h are used of 10
    assert usage == type(usage)(purchased=Decimal("10.00"), carried_in=Decimal("0.00"), used=Decimal("2.75"),
                                remaining=Decimal("7.25"), overrun=Decimal("0.00"))
    assert usage.used_pct == Decimal("27.5")


def test_overrun_with_expiring_hours():
    # given 10 h purchased, 4 h used in February (expired), 12.5 h in March
    contract, ticket, tech = block()
    log_time(tech, ticket, 240, at(2026, 2, 10))
    log_time(tech, ticket, 750, at(2026, 3, 10))
    # when March is measured
    usage = block_usage(contract, date(2026, 3, 1), date(2026, 3, 31))
    # then nothing was carried and 2.5 h overran
    assert (usage.carried_in, usage.used, usage.remaining, usage.overrun) == (
        Decimal("0.00"), Decimal("12.50"), Decimal("0.00"), Decimal("2.50"))


def test_unused_hours_roll_over_one_period_and_are_used_first():
    # given 10 h a month rolling over: January uses 4 h (6 carried), February uses 7 h (carried first: all
    # 6 carried + 1 of February's block, so 9 carried into March), March uses 20.25 h
    contract, ticket, tech = block("roll_over")
    log_time(tech, ticket, 240, at(2026, 1, 15))
    log_time(tech, ticket, 420, at(2026, 2, 15))
    log_time(tech, ticket, 1215, at(2026, 3, 15))
    # when each month is measured
    january = block_usage(contract, date(2026, 1, 1), date(2026, 1, 31))
    february = block_usage(contract, date(2026, 2, 1), date(2026, 2, 28))
    march = block_usage(contract, date(2026, 3, 1), date(2026, 3, 31))
    # then carry-in follows the rule and March overran by 20.25 − 19 = 1.25 h
    assert (january.carried_in, january.remaining) == (Decimal("0.00"), Decimal("6.00"))
    assert (february.carried_in, february.used, february.remaining) == (
        Decimal("6.00"), Decimal("7.00"), Decimal("9.00"))
    assert (march.carried_in, march.available, march.overrun) == (Decimal("9.00"), Decimal("19.00"),
                                                                  Decimal("1.25"))


def test_carried_hours_expire_after_one_period():
    # given 10 h rolling over, nothing used for three months
    contract, _ticket, _tech = block("roll_over")
    # when April is measured
    april = block_usage(contract, date(2026, 4, 1), date(2026, 4, 30))
    # then only March's unused block is carried, not every earlier month's
    assert (april.carried_in, april.remaining) == (Decimal("10.00"), Decimal("20.00"))


def test_minutes_are_summed_before_rounding_to_hours():
    # three entries of 10 minutes are 0.50 h, not 3 × 0.17
    contract, ticket, tech = block()
    for day in (2, 3, 4):
        log_time(tech, ticket, 10, at(2026, 3, day))
    assert block_usage(contract, date(2026, 3, 1), date(2026, 3, 31)).used == Decimal("0.50")
    assert hours_from_minutes(10) == Decimal("0.17")


def test_a_period_ending_before_it_starts_is_refused():
    contract, _ticket, _tech = block()
    with pytest.raises(ValueError, match="ends before"):
        block_usage(contract, date(2026, 3, 31), date(2026, 3, 1))
