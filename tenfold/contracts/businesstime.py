"""Business time: how many working seconds lie between two instants, and when a number of working
seconds after an instant ends (an SLA due time), on a calendar of weekly working hours in a time zone,
minus holidays.

Pure functions, no database: a `BusinessCalendar` row turns into a `CalendarSpec` with `.spec()`, and
every function here accepts either.

How local hours become instants (the part that matters across DST changes):
- Working hours are wall-clock minutes of a local day, `0 <= start < end <= 1440` (1440 is midnight at the
  end of the day, i.e. 00:00 of the next day).
- A wall-clock time that exists once maps to that instant. A time that exists twice (the hour repeated when
  clocks go back) maps to its first occurrence. A time that does not exist (the hour skipped when clocks go
  forward) maps to the instant the clocks jumped, i.e. the first instant whose wall clock is later.
- This mapping never goes backwards, so the intervals of one day, then of the next, come in order. A 24/7
  calendar therefore counts exactly the elapsed seconds, 23 h or 25 h on a DST day.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 1440
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# A calendar open for at least a minute every few years is usable; one that never opens is an error,
# not an infinite loop.
MAX_CLOSED_DAYS = 3 * 366
_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")

Interval = tuple[int, int]  # minutes since local midnight, [start, end)


class CalendarError(ValueError):
    """A calendar that cannot answer: naive datetimes, no working hours at all, bad intervals."""


@dataclass(frozen=True)
class CalendarSpec:
    """Weekly working hours (Monday first) in a time zone, and holidays (whole local days closed)."""

    time_zone: str
    week: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise CalendarError("a week has 7 days of intervals, Monday first")
        object.__setattr__(self, "week", tuple(normalise_day(day) for day in self.week))

    @property
    def zone(self) -> tzinfo:
        return ZoneInfo(self.time_zone)

    @property
    def is_always_open(self) -> bool:
        """Open around the clock every day, with no holiday (a 24/7 calendar)."""
        return not self.holidays and all(day == ((0, MINUTES_PER_DAY),) for day in self.week)

    @property
    def weekly_minutes(self) -> int:
        """Working minutes in an ordinary week."""
        return sum(end - start for day in self.week for start, end in day)


class HasSpec(Protocol):
    """Anything that can describe itself as a CalendarSpec (the BusinessCalendar model)."""

    def spec(self) -> CalendarSpec:
        """The calendar as plain values."""


CalendarLike = CalendarSpec | HasSpec


def always_open(time_zone: str = "UTC") -> CalendarSpec:
    """The 24/7 calendar: every second counts."""
    return CalendarSpec(time_zone, tuple(((0, MINUTES_PER_DAY),) for _ in range(7)))


def normalise_day(intervals: Iterable[Iterable[int]]) -> tuple[Interval, ...]:
    """One day's intervals, checked, sorted and with overlapping or touching ones merged."""
    cleaned: list[Interval] = []
    for pair in intervals:
        start, end = (int(v) for v in pair)
        if not 0 <= start < end <= MINUTES_PER_DAY:
            raise CalendarError(f"interval {start}-{end} is not within a day or ends before it starts")
        cleaned.append((start, end))
    merged: list[Interval] = []
    for start, end in sorted(cleaned):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def parse_intervals(text: str) -> tuple[Interval, ...]:
    """"08:30-12:30, 13:30-18:00" → ((510, 750), (810, 1080)); "" → closed; "00:00-24:00" → all day."""
    result: list[Interval] = []
    for part in (p for p in re.split(r"[,;]", text or "") if p.strip()):
        match = _INTERVAL.match(part)
        if not match:
            raise CalendarError(f"“{part.strip()}” is not of the form 08:30-12:30")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if m1 > 59 or m2 > 59 or h1 > 24 or h2 > 24:
            raise CalendarError(f"“{part.strip()}” is not a time of day")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start >= end or end > MINUTES_PER_DAY:
            raise CalendarError(f"“{part.strip()}” ends before it starts")
        result.append((start, end))
    return normalise_day(result)


def format_intervals(intervals: Iterable[Interval]) -> str:
    """((510, 750), (810, 1080)) → "08:30-12:30, 13:30-18:00"."""
    return ", ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in intervals)


def as_spec(calendar: CalendarLike) -> CalendarSpec:
    """The CalendarSpec of a spec or of a BusinessCalendar row."""
    return calendar if isinstance(calendar, CalendarSpec) else calendar.spec()


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise CalendarError("business time needs time-zone-aware datetimes")


def _wall(moment: datetime, zone: tzinfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def local_to_utc(day: date, minute: int, zone: tzinfo) -> datetime:
    """The instant a local wall-clock time happens (see the module docstring for repeated and skipped
    times); `minute` may be 1440 (midnight ending the day)."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(first, zone) == naive:
        return first
    # A skipped time: the clocks jumped over it. The transition lies between the two readings; find the
    # first minute whose wall clock is later than `naive` (transitions happen on whole minutes).
    other = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = min(first, other), max(first, other)
    while high - low > timedelta(minutes=1):
        middle = low + timedelta(minutes=((high - low) // timedelta(minutes=1)) // 2)
        if _wall(middle, zone) > naive:
            high = middle
        else:
            low = middle
    return high if _wall(low, zone) <= naive else low


def _day_intervals(spec: CalendarSpec, zone: tzinfo, day: date) -> list[tuple[datetime, datetime]]:
    if day in spec.holidays:
        return []
    result = []
    for start, end in spec.week[day.weekday()]:
        utc_start, utc_end = local_to_utc(day, start, zone), local_to_utc(day, end, zone)
        if utc_end > utc_start:  # an interval wholly inside a skipped hour is empty
            result.append((utc_start, utc_end))
    return result


def open_intervals(calendar: CalendarLike, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The calendar's open intervals (UTC, disjoint, ordered; one may end where the next begins, e.g. at
    midnight) that end after `since`, the first one clipped to start no earlier than `since`. Endless for a
    calendar that opens at all."""
    spec = as_spec(calendar)
    _require_aware(since)
    if spec.weekly_minutes == 0:
        raise CalendarError("the calendar has no working hours")
    zone = spec.zone
    since = since.astimezone(UTC)
    day = _wall(since, zone).date() - timedelta(days=1)
    previous_end = since
    closed_days = 0
    while True:
        intervals = _day_intervals(spec, zone, day)
        closed_days = 0 if intervals else closed_days + 1
        if closed_days > MAX_CLOSED_DAYS:
            raise CalendarError("the calendar stays closed for years (holidays cover every working day)")
        for start, end in intervals:
            # The mapping never goes backwards, so this only clips the first interval to `since`.
            start = max(start, previous_end)
            if end <= start:
                continue
            yield start, end
            previous_end = end
        day += timedelta(days=1)


def business_seconds_between(calendar: CalendarLike, start: datetime, end: datetime) -> int:
    """Working seconds from `start` to `end` (whole seconds, rounded down); 0 when `end` is not after
    `start`."""
    _require_aware(start, end)
    if end <= start:
        return 0
    spec = as_spec(calendar)
    if spec.weekly_minutes == 0:
        return 0
    end = end.astimezone(UTC)
    total = timedelta()
    for opens, closes in open_intervals(spec, start):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return int(total // timedelta(seconds=1))


def add_business_time(calendar: CalendarLike, start: datetime, seconds: int) -> datetime:
    """The instant at which `seconds` working seconds after `start` have passed (an SLA due time), in
    UTC. 0 seconds gives `start` itself; a positive amount always ends inside or at the close of an open
    interval, never in closed time."""
    _require_aware(start)
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise TypeError("seconds must be an int")
    if seconds < 0:
        raise CalendarError("cannot add a negative business time")
    if seconds == 0:
        return start.astimezone(UTC)
    left = timedelta(seconds=seconds)
    for opens, closes in open_intervals(calendar, start):
        length = closes - opens
        if left <= length:
            return opens + left
        left -= length
    raise AssertionError("open_intervals is endless")  # pragma: no cover


def is_open(calendar: CalendarLike, at: datetime) -> bool:
    """Whether `at` falls within working hours."""
    _require_aware(at)
    spec = as_spec(calendar)
    if spec.weekly_minutes == 0:
        return False
    opens, _closes = next(open_intervals(spec, at))
    return opens <= at.astimezone(UTC)


def next_open(calendar: CalendarLike, at: datetime) -> datetime:
    """`at` itself when open, otherwise the instant working hours next begin (UTC)."""
    _require_aware(at)
    opens, _closes = next(open_intervals(calendar, at))
    return max(opens, at.astimezone(UTC))


def week_from_json(value: Any) -> tuple[tuple[Interval, ...], ...]:
    """The stored form (a list of 7 lists of [start, end] minutes) as a week of intervals."""
    days = list(value or [])
    if len(days) != 7:
        raise CalendarError("working hours need 7 days, Monday first")
    return tuple(normalise_day(day) for day in days)


def week_to_json(week: Iterable[Iterable[Interval]]) -> list[list[list[int]]]:
    """A week of intervals in its stored form."""
    return [[[start, end] for start, end in normalise_day(day)] for day in week]
