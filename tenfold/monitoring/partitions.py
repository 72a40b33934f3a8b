"""Time partitioning of the raw telemetry tables on PostgreSQL: `assets_metricsample` and
`assets_checkresult` (migration monitoring 0005 makes them partitioned; nothing here runs on SQLite).

Each table is `PARTITION BY RANGE (at)` with one partition per UTC day, `<table>_pYYYYMMDD`, and a default
partition, `<table>_default`, which takes any row whose day has no partition: an insert never fails. The
primary key is `(id, at)` in the database (PostgreSQL wants the partition key in every unique index);
Django keeps `id` alone as the primary key, which stays unique because every id comes from the table's one
identity sequence. Columns, types and the other indexes are those of the unpartitioned tables.

- `ensure_partitions()` (the hourly `monitoring.partitions` schedule) creates the partitions of yesterday,
  today and the next `AHEAD_DAYS` days, moving any row of those days out of the default partition first.
- Retention (`history.prune_raw`) drops a whole day's partition instead of deleting its rows, once the
  guards of the batched delete hold for every row in it (see `drop_day_partition`).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from tenfold.assets.models import CheckResult, MetricSample

logger = logging.getLogger("tenfold.monitoring")

SAMPLES = MetricSample._meta.db_table
RESULTS = CheckResult._meta.db_table
RAW_TABLES = (SAMPLES, RESULTS)
AHEAD_DAYS = 7
# A partition is created or dropped under a short lock of its table: if the lock cannot be had within
# this time (a long query is reading the table), the statement fails and the next run tries again,
# instead of making the check-ins queue behind it.
LOCK_TIMEOUT_MS = 2000


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def partition_name(table: str, day: date) -> str:
    """The name of a table's partition of one UTC day."""
    return f"{table}_p{day:%Y%m%d}"


def default_name(table: str) -> str:
    """The name of a table's default partition (rows of days without a partition)."""
    return f"{table}_default"


def _bound(day: date) -> str:
    # A literal built from a date (never from input): DDL takes no bind parameters.
    return datetime.combine(day, time.min, tzinfo=UTC).isoformat(sep=" ")


def is_partitioned(table: str = RESULTS) -> bool:
    """Whether the table is a partitioned table here (PostgreSQL after the migration)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def partition_days(table: str) -> list[date]:
    """The days that have a partition of this table, oldest first (from the catalog)."""
    pattern = re.compile(rf"^{re.escape(table)}_p(\d{{8}})$")
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                       "WHERE i.inhparent = to_regclass(%s)", [table])
        names = [row[0] for row in cursor.fetchall()]
    days = []
    for name in names:
        match = pattern.match(name)
        if match:
            days.append(datetime.strptime(match.group(1), "%Y%m%d").date())
    return sorted(days)


def _set_lock_timeout(cursor: object) -> None:
    cursor.execute(f"SET LOCAL lock_timeout = {int(LOCK_TIMEOUT_MS)}")  # type: ignore[attr-defined]


def create_day_partition(table: str, day: date) -> bool:
    """Create the table's partition of one day if it is missing; True when created.

    Rows of that day already in the default partition are moved into it first (PostgreSQL refuses to
    attach a partition whose range the default partition holds rows of): create a plain table like the
    parent, move the rows, attach it. One transaction; the default partition is locked while it is
    checked, which is instant when it is empty (the usual case)."""
    name = partition_name(table, day)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            return False
        _set_lock_timeout(cursor)
        start, end = _bound(day), _bound(day + timedelta(days=1))
        cursor.execute(f"CREATE TABLE {_q(name)} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                       "INCLUDING STORAGE)")
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [default_name(table)])
        if cursor.fetchone()[0]:
            # Quoted catalog names and literals built from dates only.
            moved = (f"DELETE FROM {_q(default_name(table))} "  # noqa: S608  # nosec B608
                     f"WHERE at >= '{start}' AND at < '{end}' RETURNING *")
            cursor.execute(f"WITH moved AS ({moved}) INSERT INTO {_q(name)} SELECT * FROM moved")  # noqa: S608  # nosec B608
        cursor.execute(f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(name)} "
                       f"FOR VALUES FROM ('{start}') TO ('{end}')")
    return True


def create_default_partition(table: str) -> bool:
    """Create the table's default partition if it is missing; True when created."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [default_name(table)])
        if cursor.fetchone()[0]:
            return False
        _set_lock_timeout(cursor)
        cursor.execute(f"CREATE TABLE {_q(default_name(table))} PARTITION OF {_q(table)} DEFAULT")
    return True


def ensure_partitions(today: date | None = None, ahead: int = AHEAD_DAYS) -> list[str]:
    """Yesterday's, today's and the next `ahead` days' partitions of both raw tables, and their default
    partitions; returns the names it created. Nothing on SQLite or before the migration."""
    if not is_partitioned(RESULTS) or not is_partitioned(SAMPLES):
        return []
    today = today or timezone.now().astimezone(UTC).date()
    created = []
    for table in RAW_TABLES:
        if create_default_partition(table):
            created.append(default_name(table))
        for offset in range(-1, ahead + 1):
            day = today + timedelta(days=offset)
            try:
                if create_day_partition(table, day):
                    created.append(partition_name(table, day))
            except OperationalError:  # its lock could not be had in time: the next hourly run creates it
                logger.warning("partition %s not created this time (lock timeout)", partition_name(table, day))
    return created


def max_id(table: str, day: date) -> int | None:
    """The highest id in the table's partition of that day (None: empty)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {_q(partition_name(table, day))}")  # noqa: S608  # nosec B608
        value = cursor.fetchone()[0]
    return int(value) if value is not None else None


def row_count(table: str, day: date) -> int:
    """The rows in the table's partition of that day."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {_q(partition_name(table, day))}")  # noqa: S608  # nosec B608
        return int(cursor.fetchone()[0])


def lock_for_drop(table: str) -> None:
    """Lock the parent table (only it, not its partitions) against writes until the transaction ends.

    Taken before the guards are read, so no row can arrive in the partition between the check and the
    DROP; the parent first, then the partition (by DROP), the order a check-in's insert takes them."""
    with connection.cursor() as cursor:
        _set_lock_timeout(cursor)
        cursor.execute(f"LOCK TABLE ONLY {_q(table)} IN ACCESS EXCLUSIVE MODE")


def drop_day_partition(table: str, day: date) -> None:
    """Drop the table's partition of one day, and its rows with it (inside `lock_for_drop`'s transaction)."""
    with connection.cursor() as cursor:
        # Foreign keys are checked at commit: rows written earlier in this same transaction (never the case
        # for the scheduled run) would leave checks pending on the table, which PostgreSQL will not drop.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DROP TABLE {_q(partition_name(table, day))}")
