"""Business time on calendars: exact values across lunch breaks, weekends, holidays and DST changes, and
properties over generated calendars and instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tenfold.contracts.businesstime import (
    CalendarError,
    CalendarSpec,
    add_business_time,
    always_open,
    business_seconds_between,
    format_intervals,
    is_open,
    local_to_utc,
    next_open,
    parse_intervals,
)

PARIS = ZoneInfo("Europe/Paris")
OFFICE = parse_intervals("08:30-12:30, 13:30-18:00")
# Mon–Fri 8:30–12:30 and 13:30–18:00 in Paris (8 h a day), Easter Monday 2026 (6 April) off.
PARIS_OFFICE = CalendarSpec("Europe/Paris", (OFFICE,) * 5 + ((), ()), frozenset({date(2026, 4, 6)}))
HOUR = 3600


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def test_parse_and_format_intervals() -> None:
    assert OFFICE == ((510, 750), (810, 1080))
    assert format_intervals(OFFICE) == "08:30-12:30, 13:30-18:00"
    assert parse_intervals("00:00-24:00") == ((0, 1440),)
    assert parse_intervals("") == ()
    assert parse_intervals("09:00-12:00, 11:00-13:00") == ((540, 780),)  # overlapping ones merge
    for bad in ("9-12", "12:00-09:00", "08:60-09:00", "25:00-26:00", "10:00-10:00"):
        with pytest.raises(CalendarError):
            parse_intervals(bad)


def test_seconds_within_one_day_skip_the_lunch_break() -> None:
    # Monday 2 March 2026, 10:00 to 15:00 Paris: 2 h 30 before lunch, 1 h 30 after
    assert business_seconds_between(PARIS_OFFICE, paris(2026, 3, 2, 10), paris(2026, 3, 2, 15)) == 4 * HOUR


def test_seconds_over_a_weekend_count_nothing_on_saturday_and_sunday() -> None:
    # Friday 6 March 17:00 to Monday 9 March 09:30: 1 h on Friday, 1 h on Monday
    assert business_seconds_between(PARIS_OFFICE, paris(2026, 3, 6, 17), paris(2026, 3, 9, 9, 30)) == 2 * HOUR


def test_a_holiday_counts_nothing() -> None:
    # Friday 3 April 17:00 → Tuesday 7 April 09:00 (Monday 6 April is Easter Monday): 1 h + 0 + 0.5 h
    assert business_seconds_between(PARIS_OFFICE, paris(2026, 4, 3, 17), paris(2026, 4, 7, 9)) == 90 * 60


def test_sla_due_time_of_four_business_hours_from_friday_afternoon() -> None:
    # a P1 opened Friday 6 March 2026 at 16:00 with a 4 h target: 2 h on Friday, 2 h on Monday morning
    due = add_business_time(PARIS_OFFICE, paris(2026, 3, 6, 16), 4 * HOUR)
    assert due == paris(2026, 3, 9, 10, 30)
    assert due.tzinfo is UTC


def test_due_time_opened_outside_hours_starts_at_the_next_opening() -> None:
    # opened Saturday: the clock starts Monday 08:30; during lunch: it starts at 13:30
    assert add_business_time(PARIS_OFFICE, paris(2026, 3, 7, 11), HOUR) == paris(2026, 3, 9, 9, 30)
    assert add_business_time(PARIS_OFFICE, paris(2026, 3, 9, 12, 45), 30 * 60) == paris(2026, 3, 9, 14)


def test_a_due_time_ending_exactly_at_closing_is_the_closing_time() -> None:
    assert add_business_time(PARIS_OFFICE, paris(2026, 3, 9, 8, 30), 4 * HOUR) == paris(2026, 3, 9, 12, 30)


def test_business_hours_on_a_dst_change_day_stay_wall_clock_hours() -> None:
    # Paris goes to summer time on Sunday 29 March 2026 at 02:00; Friday 27 → Monday 30 March, 10:00 to
    # 10:00: Friday 10:00-18:00 (7 h) + Monday 08:30-10:00 (1.5 h), whatever the clocks did on Sunday
    assert business_seconds_between(PARIS_OFFICE, paris(2026, 3, 27, 10), paris(2026, 3, 30, 10)) == 8.5 * HOUR
    # and the winter change (Sunday 25 October 2026)
    assert business_seconds_between(PARIS_OFFICE, paris(2026, 10, 23, 10), paris(2026, 10, 26, 10)) == 8.5 * HOUR


def test_a_247_calendar_counts_real_elapsed_time_across_dst() -> None:
    always_paris = always_open("Europe/Paris")
    # the spring-forward day has 23 hours, the fall-back day 25
    assert business_seconds_between(always_paris, paris(2026, 3, 29), paris(2026, 3, 30)) == 23 * HOUR
    assert business_seconds_between(always_paris, paris(2026, 10, 25), paris(2026, 10, 26)) == 25 * HOUR
    assert add_business_time(always_paris, paris(2026, 3, 28, 12), 24 * HOUR) == paris(2026, 3, 29, 13)


def test_working_hours_in_the_skipped_hour_start_when_the_clocks_jump() -> None:
    # a night calendar open 01:00-04:00 every day: on 29 March 2026 02:00-03:00 does not exist in Paris,
    # so that night has 2 real hours
    night = CalendarSpec("Europe/Paris", (((60, 240),),) * 7)
    assert business_seconds_between(night, paris(2026, 3, 29), paris(2026, 3, 29, 5)) == 2 * HOUR
    assert local_to_utc(date(2026, 3, 29), 150, PARIS) == datetime(2026, 3, 29, 1, tzinfo=UTC)
    # and the repeated hour on 25 October is counted twice (4 real hours between 01:00 and 04:00)
    assert business_seconds_between(night, paris(2026, 10, 25), paris(2026, 10, 25, 5)) == 4 * HOUR


def test_is_open_and_next_open() -> None:
    assert is_open(PARIS_OFFICE, paris(2026, 3, 9, 9))
    assert not is_open(PARIS_OFFICE, paris(2026, 3, 9, 13))
    assert not is_open(PARIS_OFFICE, paris(2026, 3, 9, 18))  # closing time is closed
    assert next_open(PARIS_OFFICE, paris(2026, 3, 9, 13)) == paris(2026, 3, 9, 13, 30)
    assert next_open(PARIS_OFFICE, paris(2026, 4, 4, 10)) == paris(2026, 4, 7, 8, 30)  # weekend, Easter Monday


def test_bad_input_is_refused() -> None:
    with pytest.raises(CalendarError):
        business_seconds_between(PARIS_OFFICE, datetime(2026, 3, 9, 9), paris(2026, 3, 9, 10))  # naive
    with pytest.raises(CalendarError):
        add_business_time(PARIS_OFFICE, paris(2026, 3, 9, 9), -1)
    with pytest.raises(TypeError):
        add_business_time(PARIS_OFFICE, paris(2026, 3, 9, 9), 1.5)  # type: ignore[arg-type]
    closed = CalendarSpec("UTC", ((),) * 7)
    with pytest.raises(CalendarError):
        add_business_time(closed, paris(2026, 3, 9, 9), 60)
    assert business_seconds_between(closed, paris(2026, 3, 9), paris(2026, 3, 19)) == 0
    # a calendar whose every working day is a holiday for years cannot give a due time
    one_day = CalendarSpec("UTC", (((0, 60),),) + ((),) * 6,
                           frozenset(date(2026, 1, 5) + timedelta(weeks=w) for w in range(300)))
    with pytest.raises(CalendarError):
        add_business_time(one_day, datetime(2026, 1, 1, tzinfo=UTC), 60)


# --- Properties ------------------------------------------------------------------------------------------

ZONES = st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"])


@st.composite
def day_intervals(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    cuts = sorted(draw(st.sets(st.integers(0, 1440), max_size=6)))
    return tuple((cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2))


@st.composite
def calendars(draw: st.DrawFn) -> CalendarSpec:
    week = tuple(draw(day_intervals()) for _ in range(7))
    assume(any(week))
    holidays = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=20))
    return CalendarSpec(draw(ZONES), week, holidays)


INSTANTS = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC))


@given(calendars(), INSTANTS, st.integers(0, 400 * HOUR))
def test_adding_then_measuring_gives_back_the_seconds(calendar: CalendarSpec, start: datetime, seconds: int) -> None:
    due = add_business_time(calendar, start, seconds)
    assert due >= start
    assert business_seconds_between(calendar, start, due) == seconds


@given(calendars(), INSTANTS, INSTANTS, INSTANTS)
def test_measuring_is_monotonic_and_additive(calendar: CalendarSpec, a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted([a, b, c])
    ab, bc = business_seconds_between(calendar, a, b), business_seconds_between(calendar, b, c)
    ac = business_seconds_between(calendar, a, c)
    assert 0 <= ab <= ac
    assert ac - 1 <= ab + bc <= ac + 1  # whole seconds, each rounded down
    assert ac <= int((c - a).total_seconds())


@given(calendars(), INSTANTS, st.integers(1, 100 * HOUR), st.integers(1, 100 * HOUR))
def test_more_business_time_never_ends_earlier(calendar: CalendarSpec, start: datetime, x: int, y: int) -> None:
    small, large = sorted([x, y])
    assert add_business_time(calendar, start, small) <= add_business_time(calendar, start, large)
    assert is_open(calendar, add_business_time(calendar, start, small) - timedelta(microseconds=1))


@given(ZONES, INSTANTS, INSTANTS)
def test_a_247_calendar_counts_every_second(zone: str, a: datetime, b: datetime) -> None:
    a, b = sorted([a, b])
    assert business_seconds_between(always_open(zone), a, b) == int((b - a).total_seconds())
