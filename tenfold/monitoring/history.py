"""History of the raw time series: daily rollups (kept forever) and retention of the raw rows.

`rollup_day(day)` aggregates one UTC day of `assets.MetricSample` and `assets.CheckResult` into
`DeviceMetricDaily` and `CheckDaily` with two set-based statements (`INSERT … SELECT … GROUP BY …
ON CONFLICT DO UPDATE`, the same SQL on SQLite and PostgreSQL): run twice, it writes the same rows.
It counts only raw ids up to the highest id present when it starts, and records them in `HistoryDay`.

`prune_raw()` deletes raw rows older than `TENFOLD_RAW_RETENTION_DAYS`, in batches of `DELETE_BATCH`
ids, and only rows a final rollup counted (a day rolled up after it ended, ids at or below the ones it
recorded) and, for check results, only ids the alert evaluator has passed (`EvaluationCursor`). A day
whose pruning started is never rolled up again, so a rollup is never recomputed from partial raw data.

On PostgreSQL the raw tables are partitioned by day (`partitions.py`): `prune_raw()` drops a whole expired
day's partition instead, under the same guards, checked while the table is locked against inserts (every
row in it counted by a final rollup, every result evaluated); a day whose partition holds rows its last
rollup did not count is rolled up again first. Rows of days without a partition (the default partition)
are deleted in batches as on SQLite.

Known limit (the evaluator's, see evaluation.py): on PostgreSQL a check-in transaction holding a lower id
may commit just after a rollup read the highest id; the row is counted by the next rollup of its day
(hourly for today and yesterday), but if it was the day's last rollup it is pruned uncounted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import DateField, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tenfold.assets.models import CheckResult, Device, MetricSample
from tenfold.monitoring import partitions
from tenfold.monitoring.models import CheckDaily, DeviceMetricDaily, EvaluationCursor, HistoryDay

DELETE_BATCH = 10_000
CATCH_UP_DAYS = 3  # un-rolled past days rolled up per hourly run (after the worker was down)
RAW_MAX = timedelta(days=7)  # the charts read raw samples up to this range, daily rollups beyond


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of a day."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def today() -> date:
    return timezone.now().astimezone(UTC).date()


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _metric_sql() -> str:
    daily, raw = _q(DeviceMetricDaily._meta.db_table), _q(MetricSample._meta.db_table)
    columns = ["client_id", "device_id", "day", "samples", "cpu_avg", "cpu_max", "mem_avg", "mem_max",
               "disk_min_free", "computed_at"]
    updates = ", ".join(f"{_q(c)} = EXCLUDED.{_q(c)}" for c in columns if c not in ("device_id", "day"))
    # Only quoted model table and column names are formatted in; every value is a parameter.
    return (f"INSERT INTO {daily} ({', '.join(_q(c) for c in columns)}) "  # noqa: S608  # nosec B608
            f"SELECT MAX(client_id), device_id, %s, COUNT(*), AVG(cpu_pct), MAX(cpu_pct), AVG(mem_pct), "
            f"MAX(mem_pct), MIN(disk_min_free_pct), %s FROM {raw} "
            f"WHERE {_q('at')} >= %s AND {_q('at')} < %s AND id <= %s GROUP BY device_id "
            f"ON CONFLICT ({_q('device_id')}, {_q('day')}) DO UPDATE SET {updates}")


def _check_sql() -> str:
    daily, raw = _q(CheckDaily._meta.db_table), _q(CheckResult._meta.db_table)
    columns = ["client_id", "device_id", "check_id", "day", "runs", "passes", "warns", "fails", "errors",
               "computed_at"]
    updates = ", ".join(f"{_q(c)} = EXCLUDED.{_q(c)}" for c in columns
                        if c not in ("device_id", "check_id", "day"))
    counts = ", ".join(f"SUM(CASE WHEN status = {s} THEN 1 ELSE 0 END)" for s in (0, 1, 2, 3))
    return (f"INSERT INTO {daily} ({', '.join(_q(c) for c in columns)}) "  # noqa: S608  # nosec B608
            f"SELECT MAX(client_id), device_id, check_id, %s, COUNT(*), {counts}, %s FROM {raw} "
            f"WHERE {_q('at')} >= %s AND {_q('at')} < %s AND id <= %s GROUP BY device_id, check_id "
            f"ON CONFLICT ({_q('device_id')}, {_q('check_id')}, {_q('day')}) DO UPDATE SET {updates}")


@dataclass
class RollupReport:
    """What one `rollup_day` did."""

    day: date
    skipped: bool = False
    metric_rows: int = 0
    check_rows: int = 0


def _marker(day: date) -> HistoryDay:
    """The day's marker row, locked (created first if missing: concurrent callers do not collide)."""
    HistoryDay.objects.bulk_create([HistoryDay(day=day)], ignore_conflicts=True)
    return HistoryDay.objects.select_for_update().get(day=day)


def rollup_day(day: date) -> RollupReport:
    """Roll one UTC day up into the daily tables; idempotent. A day whose raw rows pruning has started
    is left as it is (its rollups stay what they were when the raw rows were whole)."""
    report = RollupReport(day)
    start, end = day_bounds(day)
    now = timezone.now()
    ops = connection.ops
    with transaction.atomic():
        marker = _marker(day)
        if marker.pruned_at is not None:
            report.skipped = True
            return report
        max_sample = MetricSample.objects.aggregate(m=Max("pk"))["m"] or 0
        max_result = CheckResult.objects.aggregate(m=Max("pk"))["m"] or 0
        day_param = DateField().get_db_prep_value(day, connection)
        bounds = [ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)]
        computed = ops.adapt_datetimefield_value(now)
        with connection.cursor() as cursor:
            cursor.execute(_metric_sql(), [day_param, computed, *bounds, max_sample])
            report.metric_rows = max(cursor.rowcount, 0)
            cursor.execute(_check_sql(), [day_param, computed, *bounds, max_result])
            report.check_rows = max(cursor.rowcount, 0)
        marker.rolled_up_at, marker.max_sample_id, marker.max_result_id = now, max_sample, max_result
        marker.save(update_fields=["rolled_up_at", "max_sample_id", "max_result_id"])
    return report


def is_final(marker: HistoryDay) -> bool:
    """Whether the day's last rollup ran after the day ended (so it counted the whole day)."""
    return marker.rolled_up_at is not None and marker.rolled_up_at >= day_bounds(marker.day)[1]


def rollup_recent(now_day: date | None = None) -> list[RollupReport]:
    """The hourly run: today, yesterday (late check-ins), and up to CATCH_UP_DAYS older days within the
    retention period that have no final rollup yet (the worker was down), oldest first."""
    now_day = now_day or today()
    yesterday = now_day - timedelta(days=1)
    oldest = now_day - timedelta(days=settings.TENFOLD_RAW_RETENTION_DAYS + 7)
    markers = {m.day: m for m in HistoryDay.objects.filter(day__gte=oldest, day__lt=yesterday)}
    missing = [d for d in _days(oldest, yesterday) if d not in markers
               or (not is_final(markers[d]) and markers[d].pruned_at is None)]
    return [rollup_day(d) for d in [*missing[:CATCH_UP_DAYS], yesterday, now_day]]


def _days(first: date, stop: date) -> Iterable[date]:
    day = first
    while day < stop:
        yield day
        day += timedelta(days=1)


@dataclass
class PruneReport:
    """What one `prune_raw` run deleted."""

    samples: int = 0
    results: int = 0
    days: list[date] = field(default_factory=list)
    waiting: list[date] = field(default_factory=list)  # rolled-up days not (wholly) prunable yet


def _delete_batches(queryset: Any) -> int:
    deleted = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:DELETE_BATCH])
        if not ids:
            return deleted
        deleted += queryset.model.objects.filter(pk__in=ids).delete()[0]


def prune_raw(now_day: date | None = None) -> PruneReport:
    """Delete raw rows older than the retention that a final rollup counted (check results only up to the
    evaluation cursor), in batches; days not rolled up after they ended are left whole."""
    now_day = now_day or today()
    cutoff = now_day - timedelta(days=settings.TENFOLD_RAW_RETENTION_DAYS)
    evaluated = EvaluationCursor.objects.filter(pk=1).values_list("last_result_id", flat=True).first() or 0
    report = PruneReport()
    kept: set[date] = set()
    if partitions.is_partitioned(partitions.RESULTS) and partitions.is_partitioned(partitions.SAMPLES):
        kept = _drop_expired_partitions(cutoff, evaluated, report)
    for marker in HistoryDay.objects.filter(day__lt=cutoff, prune_done=False).exclude(day__in=kept).order_by("day"):
        if not is_final(marker):
            report.waiting.append(marker.day)
            continue
        with transaction.atomic():
            marker = _marker(marker.day)
            if marker.pruned_at is None:
                marker.pruned_at = timezone.now()
                marker.save(update_fields=["pruned_at"])
        start, end = day_bounds(marker.day)
        report.samples += _delete_batches(MetricSample.objects.filter(
            at__gte=start, at__lt=end, pk__lte=marker.max_sample_id))
        report.results += _delete_batches(CheckResult.objects.filter(
            at__gte=start, at__lt=end, pk__lte=min(marker.max_result_id, evaluated)))
        if marker.max_result_id <= evaluated or not CheckResult.objects.filter(
                at__gte=start, at__lt=end, pk__lte=marker.max_result_id).exists():
            HistoryDay.objects.filter(pk=marker.pk).update(prune_done=True)
            report.days.append(marker.day)
        else:
            report.waiting.append(marker.day)
    return report


def _drop_expired_partitions(cutoff: date, evaluated: int, report: PruneReport) -> set[date]:
    """PostgreSQL: drop the day partitions older than `cutoff` whose rows are all counted and evaluated;
    returns the days whose partitions are kept for a later run."""
    by_table = {table: set(partitions.partition_days(table)) for table in partitions.RAW_TABLES}
    kept: set[date] = set()
    for day in sorted({d for days in by_table.values() for d in days if d < cutoff}):
        samples, results, done = _drop_day(day, evaluated, [t for t in partitions.RAW_TABLES if day in by_table[t]])
        report.samples += samples
        report.results += results
        if done:
            report.days.append(day)
        else:
            kept.add(day)
            report.waiting.append(day)
    return kept


def _drop_day(day: date, evaluated: int, present: list[str]) -> tuple[int, int, bool]:
    """Drop one expired day's partitions (of the tables in `present`): (samples dropped, results dropped,
    whether the day is done); a partition whose rows are not all counted and evaluated waits."""
    tops = {t: partitions.max_id(t, day) for t in present}
    marker = HistoryDay.objects.filter(day=day).first()
    if any(top is not None for top in tops.values()) and (marker is None or (marker.pruned_at is None and (
            not is_final(marker) or (tops.get(partitions.SAMPLES) or 0) > marker.max_sample_id
            or (tops.get(partitions.RESULTS) or 0) > marker.max_result_id))):
        # Not rolled up after it ended, or rows arrived after its last rollup: the day ended long ago, so
        # rolling it up now counts every row before the partition goes.
        rollup_day(day)
    counts = {t: partitions.row_count(t, day) for t in present}
    dropped = {t: 0 for t in partitions.RAW_TABLES}
    done = True
    for table in present:
        try:
            with transaction.atomic():
                partitions.lock_for_drop(table)
                top = partitions.max_id(table, day)
                marker = HistoryDay.objects.select_for_update().filter(day=day).first()
                if top is not None:
                    counted = (marker.max_sample_id if table == partitions.SAMPLES else marker.max_result_id) \
                        if marker is not None else 0
                    if marker is None or (marker.pruned_at is None and top > counted) or (
                            table == partitions.RESULTS and top > evaluated):
                        done = False  # not counted or not evaluated yet: the next run looks again
                        continue
                partitions.drop_day_partition(table, day)
                dropped[table] = counts[table]
                if marker is not None and marker.pruned_at is None:
                    HistoryDay.objects.filter(pk=marker.pk).update(pruned_at=timezone.now())
        except OperationalError:  # the table's lock could not be had in time: the next run tries again
            done = False
    if done:
        HistoryDay.objects.filter(day=day).update(prune_done=True)
    return dropped[partitions.SAMPLES], dropped[partitions.RESULTS], done


# --- Charts --------------------------------------------------------------------------------------

RANGES: dict[str, timedelta] = {"24h": timedelta(hours=24), "7d": timedelta(days=7),
                                "30d": timedelta(days=30), "1y": timedelta(days=365)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def metric_series(device: Device, range_key: str, now: datetime | None = None) -> dict[str, Any]:
    """The device's CPU, memory and lowest free disk over a range, for a line chart.

    24 h: every raw sample; 7 days: raw samples averaged per hour; 30 days and 1 year: the daily rollups
    (average CPU and memory, lowest free disk of the day). Labels are UTC ISO instants or days."""
    now = now or timezone.now()
    delta = RANGES[range_key]
    labels: list[str] = []
    cpu: list[float | None] = []
    mem: list[float | None] = []
    disk: list[float | None] = []
    if delta <= RAW_MAX:
        source = "raw" if range_key == "24h" else "hourly"
        rows = MetricSample.objects.filter(device=device, at__gt=now - delta, at__lte=now).order_by(
            "at", "pk").values_list("at", "cpu_pct", "mem_pct", "disk_min_free_pct")
        if source == "raw":
            for at, c, m, d in rows:
                labels.append(at.astimezone(UTC).isoformat().replace("+00:00", "Z"))
                cpu.append(_round(c))
                mem.append(_round(m))
                disk.append(_round(d))
        else:
            buckets: dict[datetime, list[tuple[float | None, float | None, float | None]]] = {}
            for at, c, m, d in rows:
                buckets.setdefault(at.astimezone(UTC).replace(minute=0, second=0, microsecond=0), []).append(
                    (c, m, d))
            for hour, values in buckets.items():
                labels.append(hour.isoformat().replace("+00:00", "Z"))
                cpu.append(_round(_mean([v[0] for v in values])))
                mem.append(_round(_mean([v[1] for v in values])))
                disk.append(_round(_mean([v[2] for v in values])))
    else:
        source = "daily"
        first = (now - delta).astimezone(UTC).date() + timedelta(days=1)
        for day, c, m, d in DeviceMetricDaily.objects.filter(device=device, day__gte=first).order_by(
                "day").values_list("day", "cpu_avg", "mem_avg", "disk_min_free"):
            labels.append(day.isoformat())
            cpu.append(_round(c))
            mem.append(_round(m))
            disk.append(_round(d))
    return {"range": range_key, "source": source, "labels": labels, "series": [
        {"key": "cpu", "label": _("CPU %"), "data": cpu},
        {"key": "memory", "label": _("Memory %"), "data": mem},
        {"key": "disk", "label": _("Lowest free disk %"), "data": disk},
    ]}
