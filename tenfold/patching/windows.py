"""Install windows: days of the week and opening hours on the device's wall clock, as UTC intervals.

Pure (no database). A window whose closing time is at or before its opening time ends the next day. Across
DST, hours are wall-clock hours: an opening time the clocks skip opens when they jump (02:30 on the night
clocks go from 02:00 to 03:00 opens at 03:00), a repeated one opens at its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext_lazy as _

from tenfold.core.errors import ValidationError

MAX_GAP_MINUTES = 24 * 60


@dataclass(frozen=True)
class WindowSpec:
    """Days (0 = Monday) and the opening and closing wall-clock times."""

    days: tuple[int, ...]
    start: time
    end: time


def clean_window(days: object, start: time | None, end: time | None) -> WindowSpec | None:
    """A valid spec, None for no window (nothing set), or ValidationError (422) naming the wrong field."""
    if not days and start is None and end is None:
        return None
    errors: dict[str, list[str]] = {}
    if not isinstance(days, (list, tuple)) or not days or any(
            isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        errors["window_days"] = [str(_("Choose at least one day of the week (0 = Monday … 6 = Sunday)."))]
    if start is None:
        errors["window_start"] = [str(_("Give the time the window opens."))]
    if end is None:
        errors["window_end"] = [str(_("Give the time the window closes."))]
    if start is not None and end is not None and start == end:
        errors["window_end"] = [str(_("The window must close at another time than it opens."))]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationError(first, errors=errors)
    assert start is not None and end is not None and isinstance(days, (list, tuple))
    return WindowSpec(tuple(sorted(set(days))), start, end)


def zone(name: str) -> ZoneInfo:
    """The time zone by its IANA name, UTC when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def wall_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The first instant whose wall-clock time in `tz` is `day` `at` or later (a skipped time opens at the jump)."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz)  # fold=0: a repeated time is its first occurrence
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive:
        return aware.astimezone(UTC)
    # Skipped by the clocks: walk from before the gap to the first minute past it.
    probe = naive.replace(tzinfo=tz, fold=1).astimezone(UTC).replace(second=0, microsecond=0)
    for _step in range(MAX_GAP_MINUTES):
        if probe.astimezone(tz).replace(tzinfo=None) >= naive:
            return probe
        probe += timedelta(minutes=1)
    return aware.astimezone(UTC)


def occurrence(spec: WindowSpec, day: date, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The window opening on `day` (local) as a UTC interval, or None when it does not open that day."""
    if day.weekday() not in spec.days:
        return None
    end_day = day if spec.end > spec.start else day + timedelta(days=1)
    return wall_to_utc(day, spec.start, tz), wall_to_utc(end_day, spec.end, tz)


def window_at(spec: WindowSpec, tz: ZoneInfo, now: datetime) -> tuple[datetime, datetime] | None:
    """The window occurrence (UTC start, end) that contains `now`, or None when `now` is outside every one."""
    today = now.astimezone(tz).date()
    for day in (today - timedelta(days=1), today):
        found = occurrence(spec, day, tz)
        if found is not None and found[0] <= now < found[1]:
            return found
    return None


def next_window(spec: WindowSpec, tz: ZoneInfo, now: datetime) -> tuple[datetime, datetime] | None:
    """The window occurrence containing `now`, else the next one to open (within two weeks)."""
    current = window_at(spec, tz, now)
    if current is not None:
        return current
    today = now.astimezone(tz).date()
    for offset in range(0, 15):
        found = occurrence(spec, today + timedelta(days=offset), tz)
        if found is not None and found[0] > now:
            return found
    return None
