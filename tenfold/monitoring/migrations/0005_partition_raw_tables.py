# PostgreSQL only: the two narrow raw tables of assets (metric samples and check results) become tables
# partitioned by range of `at`, one partition per UTC day, plus a default partition for rows of days that
# have no partition (an insert never fails). Their columns, types, defaults, check constraints, identity,
# indexes and foreign keys stay what they were; the primary key becomes (id, at) in the database, which
# PostgreSQL requires of a partitioned table (Django keeps `id` as the primary key: ids come from the one
# identity sequence). Existing rows are copied. SQLite is left as it is. Plain SQL on assets' tables read
# from the catalog, no app code (monitoring owns the retention that drops the partitions, like the time
# indexes of 0003). Reversible: the reverse copies the rows back into unpartitioned tables.
#
# Run with the web servers and workers stopped, as every upgrade (docs/operations.md): the copy takes the
# time of one INSERT ... SELECT of the raw rows (at most the retention period's).

from datetime import UTC, datetime, time, timedelta

from django.db import migrations

TABLES = ("assets_metricsample", "assets_checkresult")
AHEAD_DAYS = 7  # as tenfold.monitoring.partitions: the hourly schedule keeps this many days ahead
OLDEST_DAYS = 400  # days with rows older than this go to the default partition (retention drops them)


def _q(name):
    return '"' + name.replace('"', '""') + '"'


def _bound(day):
    return datetime.combine(day, time.min, tzinfo=UTC).isoformat(sep=" ")


def _fetch(cursor, sql, params=()):
    cursor.execute(sql, params)
    return cursor.fetchall()


def _rebuild(schema_editor, table, partitioned):
    """Rebuild `table` as a partitioned table (or back as a plain one) with the same columns, indexes and
    foreign keys, copying its rows."""
    with schema_editor.connection.cursor() as cursor:
        kind = _fetch(cursor, "SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        if not kind or kind[0][0] != ("r" if partitioned else "p"):
            return  # already done (or nothing to do)
        # What the new table must get back, as the catalog describes it: secondary indexes (a partitioned
        # table's own indexes when going back) and foreign keys.
        indexes = [row[0] for row in _fetch(
            cursor, "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = to_regclass(%s) "
                    "AND NOT indisprimary ORDER BY indexrelid", [table])]
        foreign_keys = _fetch(cursor, "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                                      "WHERE conrelid = to_regclass(%s) AND contype = 'f' ORDER BY conname", [table])
        days = []
        if partitioned:
            today = datetime.now(UTC).date()
            days = {row[0] for row in _fetch(
                cursor, f"SELECT DISTINCT ({_q('at')} AT TIME ZONE 'UTC')::date FROM {_q(table)} "  # noqa: S608  # nosec B608
                        f"WHERE {_q('at')} >= %s", [_bound(today - timedelta(days=OLDEST_DAYS))])}
            days |= {today + timedelta(days=offset) for offset in range(-1, AHEAD_DAYS + 1)}
    new = f"{table}__rebuilt"
    execute = schema_editor.execute
    suffix = ' PARTITION BY RANGE ("at")' if partitioned else ""
    execute(f"CREATE TABLE {_q(new)} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY "
            f"INCLUDING STORAGE INCLUDING COMMENTS){suffix}")
    execute(f"ALTER TABLE {_q(new)} ADD CONSTRAINT {_q(new + '_pkey')} PRIMARY KEY "
            f"({'id, ' + _q('at') if partitioned else 'id'})")
    if partitioned:
        execute(f"CREATE TABLE {_q(new + '_default')} PARTITION OF {_q(new)} DEFAULT")
        for day in sorted(days):
            execute(f"CREATE TABLE {_q(new + '_p' + day.strftime('%Y%m%d'))} PARTITION OF {_q(new)} "
                    f"FOR VALUES FROM ('{_bound(day)}') TO ('{_bound(day + timedelta(days=1))}')")
    execute(f"INSERT INTO {_q(new)} SELECT * FROM {_q(table)}")  # noqa: S608  # nosec B608 - catalog names only
    execute(f"SELECT setval(pg_get_serial_sequence('{new}', 'id'), "  # nosec B608 - catalog names only
            f"COALESCE((SELECT MAX(id) FROM {_q(new)}), 0) + 1, false)")  # noqa: S608
    execute(f"DROP TABLE {_q(table)}")
    execute(f"ALTER TABLE {_q(new)} RENAME TO {_q(table)}")
    execute(f"ALTER TABLE {_q(table)} RENAME CONSTRAINT {_q(new + '_pkey')} TO {_q(table + '_pkey')}")
    execute(f"ALTER SEQUENCE {_q(new + '_id_seq')} RENAME TO {_q(table + '_id_seq')}")
    if partitioned:
        execute(f"ALTER TABLE {_q(new + '_default')} RENAME TO {_q(table + '_default')}")
        for day in sorted(days):
            suffix_day = "_p" + day.strftime("%Y%m%d")
            execute(f"ALTER TABLE {_q(new + suffix_day)} RENAME TO {_q(table + suffix_day)}")
    for definition in indexes:  # e.g. CREATE INDEX assets_result_client_at ON public.assets_checkresult ...
        execute(definition)
    for name, definition in foreign_keys:
        execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")


def partition_raw_tables(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        _rebuild(schema_editor, table, partitioned=True)


def unpartition_raw_tables(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        _rebuild(schema_editor, table, partitioned=False)


class Migration(migrations.Migration):

    dependencies = [
        ("assets", "0003_device_tags"),
        ("monitoring", "0004_policy_tag_scope"),
    ]

    operations = [
        migrations.RunPython(partition_raw_tables, unpartition_raw_tables, elidable=False),
    ]

