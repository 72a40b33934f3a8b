"""Time partitioning of the raw tables on PostgreSQL (migration 0005, partitions.py, retention by partition).

The PostgreSQL tests run in the PostgreSQL pass (TENFOLD_TEST_DATABASE_URL); on SQLite only the no-op is
checked."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from tenfold.assets.models import CheckResult, Device, MetricSample
from tenfold.monitoring import partitions
from tenfold.monitoring.history import day_bounds, prune_raw, rollup_day
from tenfold.monitoring.models import CheckDaily, DeviceMetricDaily, EvaluationCursor, HistoryDay
from tenfold.monitoring.partitions import RESULTS, SAMPLES
from tenfold.monitoring.tests.factories import make_client, make_device

pytestmark = pytest.mark.django_db

DAY = date(2025, 1, 10)  # far from the days the migration created partitions for (around the real today)
START = datetime(2025, 1, 10, tzinfo=UTC)
RETENTION_RUN = DAY + timedelta(days=35)  # with the default 30 days, DAY and DAY + 1 are expired


@pytest.fixture
def pg() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("partitioning is PostgreSQL only (run with TENFOLD_TEST_DATABASE_URL)")


def rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return list(cursor.fetchall())


def home(table: str, pk: int) -> str:
    """The partition a row is stored in."""
    return str(rows(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])[0][0])


def sample(device: Device, at: datetime, cpu: float = 10.0) -> MetricSample:
    return MetricSample.objects.create(client_id=device.client_id, device=device, at=at, cpu_pct=cpu, mem_pct=50.0,
                                       disk_min_free_pct=40.0)


def result(device: Device, at: datetime, status: int = 0, check_id: int = 7) -> CheckResult:
    return CheckResult.objects.create(client_id=device.client_id, device=device, check_id=check_id, at=at,
                                      status=status, seq=1)


def evaluated_up_to(result_id: int) -> None:
    EvaluationCursor.objects.update_or_create(pk=1, defaults={"last_result_id": result_id})


def test_on_sqlite_nothing_is_partitioned_and_the_schedule_does_nothing() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("the SQLite pass checks the no-op")
    assert not partitions.is_partitioned(RESULTS) and not partitions.is_partitioned(SAMPLES)
    assert partitions.ensure_partitions() == []


def test_the_migration_made_both_tables_partitioned_with_the_same_columns_and_indexes(pg: None) -> None:
    # then both parents are partitioned by range of `at`, with the primary key (id, at)
    for table in (SAMPLES, RESULTS):
        assert partitions.is_partitioned(table)
        assert rows("SELECT pg_get_partkeydef(to_regclass(%s))", [table]) == [("RANGE (at)",)]
        key = rows("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(%s) "
                   "AND contype = 'p'", [table])
        assert key == [("PRIMARY KEY (id, at)",)]
        # a default partition, and today's and the next days' partitions
        today = datetime.now(UTC).date()
        days = partitions.partition_days(table)
        assert {today - timedelta(days=1), today, today + timedelta(days=partitions.AHEAD_DAYS)} <= set(days)
        assert rows("SELECT to_regclass(%s) IS NOT NULL", [partitions.default_name(table)]) == [(True,)]
        # the foreign keys to the client and the device are kept
        targets = {r[0] for r in rows("SELECT confrelid::regclass::text FROM pg_constraint "
                                      "WHERE conrelid = to_regclass(%s) AND contype = 'f'", [table])}
        assert targets == {"clients_client", "assets_device"}
    # columns and types exactly as before (the check-in inserts into them with its own SQL)
    columns = rows("SELECT table_name, column_name, data_type, is_nullable, column_default IS NOT NULL "
                   "FROM information_schema.columns WHERE table_name IN (%s, %s) ORDER BY table_name, "
                   "ordinal_position", [RESULTS, SAMPLES])
    assert columns == [
        (RESULTS, "id", "bigint", "NO", False), (RESULTS, "check_id", "integer", "NO", False),
        (RESULTS, "at", "timestamp with time zone", "NO", False), (RESULTS, "status", "smallint", "NO", False),
        (RESULTS, "value", "double precision", "YES", False), (RESULTS, "message", "character varying", "NO", False),
        (RESULTS, "seq", "bigint", "NO", False), (RESULTS, "client_id", "bigint", "NO", False),
        (RESULTS, "device_id", "bigint", "NO", False),
        (SAMPLES, "id", "bigint", "NO", False), (SAMPLES, "at", "timestamp with time zone", "NO", False),
        (SAMPLES, "cpu_pct", "double precision", "YES", False), (SAMPLES, "mem_pct", "double precision", "YES", False),
        (SAMPLES, "disk_min_free_pct", "double precision", "YES", False),
        (SAMPLES, "client_id", "bigint", "NO", False), (SAMPLES, "device_id", "bigint", "NO", False),
    ]
    assert rows("SELECT is_identity FROM information_schema.columns WHERE table_name IN (%s, %s) "
                "AND column_name = 'id'", [RESULTS, SAMPLES]) == [("YES",), ("YES",)]
    # every index the unpartitioned tables had, on the parent (so on every partition)
    indexes = {r[0]: r[1] for r in rows("SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN (%s, %s)",
                                        [RESULTS, SAMPLES])}
    assert {"assets_metric_device_at", "assets_metric_client_at", "monitoring_metricsample_at",
            "assets_result_device_check_at", "assets_result_client_at", "monitoring_checkresult_at",
            f"{RESULTS}_pkey", f"{SAMPLES}_pkey"} <= set(indexes)
    assert "USING brin (at)" in indexes["monitoring_checkresult_at"]
    assert "(device_id, check_id, at)" in indexes["assets_result_device_check_at"]


def test_inserts_land_in_the_partition_of_their_day_or_in_the_default(pg: None) -> None:
    # given a partition for DAY only
    device = make_device(make_client())
    assert partitions.create_day_partition(RESULTS, DAY) and partitions.create_day_partition(SAMPLES, DAY)
    # when rows are inserted by the ORM and by plain SQL (as the check-in's fast path does)
    in_day = result(device, START + timedelta(hours=5))
    other_day = result(device, START + timedelta(days=3))
    metric = sample(device, START + timedelta(hours=23, minutes=59))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {RESULTS} (client_id, device_id, check_id, at, status, value, message, seq) "
                       "VALUES (%s, %s, 7, %s, 2, NULL, 'refused', 9) RETURNING id",
                       [device.client_id, device.pk, START + timedelta(hours=6)])
        raw_id = cursor.fetchone()[0]
    # then each row is in its day's partition, or in the default one, and reads back through the model
    assert home(RESULTS, in_day.pk) == partitions.partition_name(RESULTS, DAY)
    assert home(RESULTS, raw_id) == partitions.partition_name(RESULTS, DAY)
    assert home(RESULTS, other_day.pk) == partitions.default_name(RESULTS)
    assert home(SAMPLES, metric.pk) == partitions.partition_name(SAMPLES, DAY)
    assert CheckResult.objects.get(pk=raw_id).message == "refused"
    assert raw_id > other_day.pk > in_day.pk  # one sequence for all partitions: ids stay unique


def test_a_new_partition_takes_over_the_rows_of_its_day_from_the_default(pg: None) -> None:
    # given rows of a day that has no partition yet (the worker was stopped): they are in the default
    device = make_device(make_client())
    kept = [result(device, START + timedelta(hours=h)) for h in (1, 2)]
    other = result(device, START + timedelta(days=1, hours=1))
    assert {home(RESULTS, r.pk) for r in kept} == {partitions.default_name(RESULTS)}
    # when the day's partition is created
    assert partitions.create_day_partition(RESULTS, DAY)
    # then its rows moved into it (same ids), the others stayed; a second call creates nothing
    assert {home(RESULTS, r.pk) for r in kept} == {partitions.partition_name(RESULTS, DAY)}
    assert home(RESULTS, other.pk) == partitions.default_name(RESULTS)
    assert CheckResult.objects.count() == 3
    assert not partitions.create_day_partition(RESULTS, DAY)


def test_the_schedule_creates_the_days_ahead_once(pg: None) -> None:
    created = partitions.ensure_partitions(today=date(2031, 5, 1), ahead=2)
    assert created == [partitions.partition_name(t, date(2031, 4, 30) + timedelta(days=n))
                       for t in (SAMPLES, RESULTS) for n in range(4)]
    assert partitions.ensure_partitions(today=date(2031, 5, 1), ahead=2) == []


def _day_with_data(device: Device, day_start: datetime) -> tuple[list[MetricSample], list[CheckResult]]:
    samples = [sample(device, day_start + timedelta(hours=h), cpu=float(10 * h)) for h in (1, 2, 3)]
    results = [result(device, day_start + timedelta(hours=h), status=s) for h, s in ((1, 0), (2, 2))]
    return samples, results


def test_retention_drops_whole_expired_partitions_once_counted_and_evaluated(pg: None) -> None:
    # given two expired days with partitions, rolled up after they ended, and a recent day
    device = make_device(make_client())
    second = DAY + timedelta(days=1)
    for day in (DAY, second, RETENTION_RUN - timedelta(days=1)):
        for table in (SAMPLES, RESULTS):
            partitions.create_day_partition(table, day)
    _day_with_data(device, START)
    _s2, results_2 = _day_with_data(device, day_bounds(second)[0])
    recent = sample(device, day_bounds(RETENTION_RUN - timedelta(days=1))[0])
    rollup_day(DAY)
    rollup_day(second)
    # and the evaluator has read DAY's results but not all of the second day's
    evaluated_up_to(results_2[0].pk)
    # when retention runs
    report = prune_raw(RETENTION_RUN)
    # then DAY's partitions are gone with their rows, counted in the report; its rollups stay
    assert report.days == [DAY] and report.samples == 3 + 3 and report.results == 2
    assert DAY not in partitions.partition_days(SAMPLES) and DAY not in partitions.partition_days(RESULTS)
    assert not MetricSample.objects.filter(at__lt=day_bounds(DAY)[1]).exists()
    assert DeviceMetricDaily.objects.get(device=device, day=DAY).samples == 3
    assert CheckDaily.objects.get(device=device, day=DAY).fails == 1
    assert HistoryDay.objects.get(day=DAY).prune_done
    # and the second day waits for the evaluator: its samples are dropped, its results kept
    assert report.waiting == [second]
    assert second not in partitions.partition_days(SAMPLES) and second in partitions.partition_days(RESULTS)
    assert CheckResult.objects.filter(pk__in=[r.pk for r in results_2]).count() == 2
    marker = HistoryDay.objects.get(day=second)
    assert marker.pruned_at is not None and not marker.prune_done
    # and the recent day is untouched
    assert MetricSample.objects.filter(pk=recent.pk).exists()
    # when the evaluator has passed them, the next run drops the rest; the rollups never changed
    evaluated_up_to(results_2[-1].pk)
    again = prune_raw(RETENTION_RUN)
    assert again.days == [second] and again.results == 2 and again.samples == 0
    assert second not in partitions.partition_days(RESULTS)
    assert HistoryDay.objects.get(day=second).prune_done
    assert CheckDaily.objects.get(device=device, day=second).runs == 2


def test_rows_that_arrived_after_the_last_rollup_are_counted_before_the_partition_goes(pg: None) -> None:
    # given an expired day rolled up after it ended, then a late row from an agent's spool
    device = make_device(make_client())
    for table in (SAMPLES, RESULTS):
        partitions.create_day_partition(table, DAY)
    _day_with_data(device, START)
    rollup_day(DAY)
    assert DeviceMetricDaily.objects.get(device=device, day=DAY).samples == 3
    sample(device, START + timedelta(hours=20), cpu=90.0)
    evaluated_up_to(CheckResult.objects.order_by("-pk").values_list("pk", flat=True)[0])
    # when retention drops the day
    report = prune_raw(RETENTION_RUN)
    # then the late row was rolled up first
    assert report.days == [DAY] and report.samples == 4
    daily = DeviceMetricDaily.objects.get(device=device, day=DAY)
    assert daily.samples == 4 and daily.cpu_max == 90.0


def test_an_expired_day_never_rolled_up_is_rolled_up_then_dropped(pg: None) -> None:
    device = make_device(make_client())
    for table in (SAMPLES, RESULTS):
        partitions.create_day_partition(table, DAY)
    _day_with_data(device, START)
    evaluated_up_to(CheckResult.objects.order_by("-pk").values_list("pk", flat=True)[0])
    report = prune_raw(RETENTION_RUN)
    assert report.days == [DAY]
    assert DeviceMetricDaily.objects.get(device=device, day=DAY).samples == 3
    assert CheckDaily.objects.get(device=device, day=DAY).runs == 2


def test_rows_in_the_default_partition_are_still_deleted_in_batches(pg: None) -> None:
    # given an expired day without a partition (its rows in the default), rolled up and evaluated
    device = make_device(make_client())
    samples, results = _day_with_data(device, START)
    assert home(SAMPLES, samples[0].pk) == partitions.default_name(SAMPLES)
    rollup_day(DAY)
    evaluated_up_to(results[-1].pk)
    # when retention runs, then they are deleted as on SQLite
    report = prune_raw(RETENTION_RUN)
    assert report.days == [DAY] and report.samples == 3 and report.results == 2
    assert not MetricSample.objects.filter(device=device).exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_copies_existing_rows_and_can_be_reversed(pg: None) -> None:
    from django.db.migrations.executor import MigrationExecutor

    latest = ("monitoring", "0005_partition_raw_tables")
    before = ("monitoring", "0004_policy_tag_scope")
    device = make_device(make_client())
    day = datetime.now(UTC).date() - timedelta(days=20)  # within the days the migration makes partitions for
    start = day_bounds(day)[0]
    # given the unpartitioned tables of an earlier version, with rows of two days
    MigrationExecutor(connection).migrate([before])
    try:
        assert not partitions.is_partitioned(RESULTS)
        old = [result(device, start + timedelta(hours=1)), result(device, start + timedelta(days=1, hours=2))]
        old_sample = sample(device, start + timedelta(hours=4))
        # when the migration runs
        MigrationExecutor(connection).migrate([latest])
        # then the rows are in their days' partitions, with their ids, and new ids follow the old ones
        assert partitions.is_partitioned(RESULTS) and partitions.is_partitioned(SAMPLES)
        assert home(RESULTS, old[0].pk) == partitions.partition_name(RESULTS, day)
        assert home(RESULTS, old[1].pk) == partitions.partition_name(RESULTS, day + timedelta(days=1))
        assert home(SAMPLES, old_sample.pk) == partitions.partition_name(SAMPLES, day)
        newer = result(device, start + timedelta(hours=3))
        assert newer.pk > old[1].pk
        # when it is reversed, then the rows are back in plain tables, still with their ids
        MigrationExecutor(connection).migrate([before])
        assert not partitions.is_partitioned(RESULTS) and not partitions.is_partitioned(SAMPLES)
        assert sorted(CheckResult.objects.values_list("pk", flat=True)) == [old[0].pk, old[1].pk, newer.pk]
        key = rows("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(%s) "
                   "AND contype = 'p'", [RESULTS])
        assert key == [("PRIMARY KEY (id)",)]
        assert result(device, start).pk > newer.pk
    finally:
        # Back to the latest state of every app: going back to 0004 also unapplied the migrations of other
        # apps that depend on later monitoring ones (the service desk's), which later tests need.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert partitions.is_partitioned(RESULTS)
    assert "servicedesk_ticket" in connection.introspection.table_names()


def test_the_hourly_schedule_creates_missing_partitions() -> None:
    from tenfold.core import scheduler
    from tenfold.monitoring.tasks import maintain_partitions

    assert scheduler.BUILTIN["monitoring.partitions"].task_path == "tenfold.monitoring.tasks.maintain_partitions"
    if connection.vendor != "postgresql":
        assert maintain_partitions.call() == {"created": []}
        return
    # given the partitions of the last day ahead are missing (the worker was stopped)
    last = datetime.now(UTC).date() + timedelta(days=partitions.AHEAD_DAYS)
    with connection.cursor() as cursor:
        for table in (SAMPLES, RESULTS):
            cursor.execute(f"DROP TABLE {partitions.partition_name(table, last)}")
    # when the schedule's task runs, then it creates them again
    assert maintain_partitions.call() == {"created": [partitions.partition_name(SAMPLES, last),
                                                      partitions.partition_name(RESULTS, last)]}
