"""The check-in's fast path: the common check-in (heartbeat, metrics, check results from an agent whose
credential is in use and not being rotated) written with raw SQL in as few round trips as the database
allows, and answered after commit.

On PostgreSQL it is **one statement** in autocommit, so one round trip and one commit: the credential
is matched by prefix and SHA-256, the agent row is locked and its acknowledged seq moved on, the items
above the previous seq are inserted, the device's last-seen fields updated, due jobs marked sent and
returned, all in data-modifying CTEs that write nothing unless the credential and agent matched. On
SQLite the same steps are a handful of statements in one IMMEDIATE transaction.

Anything else (an inventory, a posture, a job result or a discovery item; a credential never used yet,
revoked or unknown; a rotation asked for) returns None having written nothing, and the full path in
`services.checkin_apply` takes the check-in: it gives the precise error or does the rare work. Items
the fast path acknowledged are at or below the agent's seq, so a check-in retried through either path
is never applied twice.

Jobs marked sent are sent again while no result came back for them two check-in intervals later (the
answer carrying them may have been lost); the agent runs a job id once.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from django.db import connection, transaction
from django.utils import timezone

from tenfold.agents import hooks, secrets
from tenfold.agents.protocol import Checkin
from tenfold.assets.models import CheckStatus

logger = logging.getLogger("tenfold.agents")

CHECKIN_JITTER = 10
LAST_USED_PRECISION = timedelta(minutes=10)  # how stale a credential's last-used time may get
JOBS_PER_CHECKIN = 20
RESEND_AFTER_INTERVALS = 2
STATUS_CODES = {"pass": int(CheckStatus.PASS), "warn": int(CheckStatus.WARN), "fail": int(CheckStatus.FAIL),
                "error": int(CheckStatus.ERROR)}


def checkin_jitter(interval: int) -> int:
    """The jitter around a check-in interval: 10 s, or a fifth of a short interval."""
    return min(CHECKIN_JITTER, interval // 5)


@dataclass
class _Rows:
    """The check-in's items as columns, ready for one multi-row insert each."""

    max_seq: int = 0
    heartbeat_seq: int = 0
    uptime: int | None = None
    user: str | None = None
    r_check: list[int] = field(default_factory=list)
    r_at: list[datetime] = field(default_factory=list)
    r_status: list[int] = field(default_factory=list)
    r_value: list[float | None] = field(default_factory=list)
    r_message: list[str] = field(default_factory=list)
    r_seq: list[int] = field(default_factory=list)
    m_at: list[datetime] = field(default_factory=list)
    m_cpu: list[float | None] = field(default_factory=list)
    m_mem: list[float | None] = field(default_factory=list)
    m_disk: list[float | None] = field(default_factory=list)
    m_seq: list[int] = field(default_factory=list)


def _columns(checkin: Checkin) -> _Rows | None:
    rows = _Rows()
    for item in checkin.items:
        kind, data = item.kind, item.data
        if kind == "check_result":
            rows.r_check.append(data.check_id)
            rows.r_at.append(item.at)
            rows.r_status.append(STATUS_CODES[data.status])
            rows.r_value.append(data.value)
            rows.r_message.append(data.message)
            rows.r_seq.append(item.seq)
        elif kind == "metrics":
            rows.m_at.append(item.at)
            rows.m_cpu.append(data.cpu_pct)
            rows.m_mem.append(data.mem_pct)
            rows.m_disk.append(min((d.free_pct for d in data.disks), default=None))
            rows.m_seq.append(item.seq)
        elif kind == "heartbeat":
            rows.heartbeat_seq = item.seq
            if data.uptime_s is not None:
                rows.uptime = data.uptime_s
            if data.logged_in_user is not None:
                rows.user = data.logged_in_user
            if data.dropped:
                logger.info("agent check-in: the agent dropped spooled items: %s", data.dropped)
        else:
            return None
        rows.max_seq = item.seq
    return rows


@dataclass(frozen=True)
class _Applied:
    old_seq: int
    interval: int
    device_id: int
    client_id: int
    site_id: int | None
    os_family: str
    jobs: list[dict[str, Any]]


_PG_SQL = """
WITH cred AS (
    SELECT id, device_id FROM agents_agentcredential
    WHERE prefix = %(prefix)s AND secret_hash = %(hash)s AND revoked_at IS NULL AND last_used_at IS NOT NULL
), old AS (
    SELECT ag.id, ag.last_seq FROM agents_agent ag JOIN cred ON ag.device_id = cred.device_id
    WHERE ag.rotation_requested_at IS NULL
    FOR UPDATE OF ag
), a AS (
    UPDATE agents_agent ag
    SET last_seq = GREATEST(old.last_seq, %(max_seq)s), last_checkin_at = %(now)s, agent_version = %(version)s
    FROM old WHERE ag.id = old.id
    RETURNING ag.device_id, ag.client_id, old.last_seq AS old_seq, ag.checkin_interval
), touch AS (
    UPDATE agents_agentcredential c SET last_used_at = %(now)s
    FROM cred, a WHERE c.id = cred.id AND c.last_used_at < %(used_before)s
), d AS (
    UPDATE assets_device dv SET
        last_seen_at = %(now)s,
        last_ip = CASE WHEN %(ip)s::text = '' THEN dv.last_ip ELSE %(ip)s::text END,
        uptime_seconds = CASE WHEN %(hb_seq)s::bigint > a.old_seq AND %(uptime)s::bigint IS NOT NULL
                              THEN %(uptime)s::bigint ELSE dv.uptime_seconds END,
        logged_in_user = CASE WHEN %(hb_seq)s::bigint > a.old_seq AND %(user)s::text IS NOT NULL
                              THEN %(user)s::text ELSE dv.logged_in_user END
    FROM a WHERE dv.id = a.device_id
    RETURNING dv.site_id, dv.os_family
), r AS (
    INSERT INTO assets_checkresult (client_id, device_id, check_id, at, status, value, message, seq)
    SELECT a.client_id, a.device_id, t.check_id, t.at, t.status, t.value, t.message, t.seq
    FROM a, unnest(%(r_check)s::integer[], %(r_at)s::timestamptz[], %(r_status)s::smallint[],
                   %(r_value)s::float8[], %(r_message)s::text[], %(r_seq)s::bigint[])
         AS t(check_id, at, status, value, message, seq)
    WHERE t.seq > a.old_seq
), m AS (
    INSERT INTO assets_metricsample (client_id, device_id, at, cpu_pct, mem_pct, disk_min_free_pct)
    SELECT a.client_id, a.device_id, t.at, t.cpu, t.mem, t.disk
    FROM a, unnest(%(m_at)s::timestamptz[], %(m_cpu)s::float8[], %(m_mem)s::float8[], %(m_disk)s::float8[],
                   %(m_seq)s::bigint[]) AS t(at, cpu, mem, disk, seq)
    WHERE t.seq > a.old_seq
), due AS (
    SELECT jq.id FROM agents_job jq, a
    WHERE jq.device_id = a.device_id
      AND (jq.status = 'queued'
           OR (jq.status = 'sent' AND jq.sent_at < %(now)s - make_interval(secs => a.checkin_interval * %(resend)s)))
    ORDER BY jq.id LIMIT %(jobs_limit)s
    FOR UPDATE OF jq
), j AS (
    UPDATE agents_job jb SET status = 'sent', sent_at = %(now)s, updated_at = %(now)s,
                             first_sent_at = coalesce(jb.first_sent_at, %(now)s)
    FROM due WHERE jb.id = due.id
    RETURNING jb.id, jb.kind, jb.payload
)
SELECT a.old_seq, a.checkin_interval, a.device_id, a.client_id, d.site_id, d.os_family,
       (SELECT coalesce(json_agg(json_build_object('id', j.id, 'kind', j.kind, 'payload', j.payload)
                                 ORDER BY j.id), '[]'::json)::text FROM j)
FROM a, d
"""


def _execute_prepared(cursor: Any, sql: str, params: dict[str, Any]) -> Any:
    """Run a prepared statement through Django's execute wrappers and query log (so query counts and
    instrumentation see it like any other query); return its first row. A driver error becomes Django's
    (a `DatabaseError`, the connection marked as having failed), as through Django's own cursors: so the
    lane and the view hand it on or answer 503, and a connection the database dropped is not kept."""

    def run(sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        with connection.wrap_database_errors:
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchone()

    executor = functools.reduce(lambda inner, wrapper: functools.partial(wrapper, inner),
                                reversed(connection.execute_wrappers), run)
    started = time.monotonic()
    try:
        return executor(sql, params, False, {"connection": connection, "cursor": cursor})
    finally:
        if connection.queries_logged:
            connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})


def _apply_postgresql(prefix: str, digest: str, version: str, rows: _Rows, ip: str,
                      now: datetime) -> _Applied | None:
    params = {"prefix": prefix, "hash": digest, "now": now, "version": version, "max_seq": rows.max_seq,
              "used_before": now - LAST_USED_PRECISION, "ip": ip, "hb_seq": rows.heartbeat_seq,
              "uptime": rows.uptime, "user": rows.user, "r_check": rows.r_check, "r_at": rows.r_at,
              "r_status": rows.r_status, "r_value": rows.r_value, "r_message": rows.r_message,
              "r_seq": rows.r_seq, "m_at": rows.m_at, "m_cpu": rows.m_cpu, "m_mem": rows.m_mem,
              "m_disk": rows.m_disk, "m_seq": rows.m_seq, "resend": RESEND_AFTER_INTERVALS,
              "jobs_limit": JOBS_PER_CHECKIN}
    connection.ensure_connection()
    raw = connection.connection
    # A server-side prepared statement on the raw psycopg connection: parsed and planned once per
    # connection. Autocommit (Django's default outside atomic): the statement is its own transaction,
    # committed, and durable with synchronous_commit, before execute() returns.
    with psycopg.Cursor(raw) as cursor:  # server-side binding (Django's own cursors bind client-side)
        row = _execute_prepared(cursor, _PG_SQL, params)
    if row is None:
        return None
    old_seq, interval, device_id, client_id, site_id, os_family, jobs = row
    return _Applied(old_seq, interval, device_id, client_id, site_id, os_family or "", json.loads(jobs))


def _apply_sqlite(prefix: str, digest: str, version: str, rows: _Rows, ip: str, now: datetime) -> _Applied | None:
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic(), connection.cursor() as cursor:  # BEGIN IMMEDIATE: the agent row is ours
        cursor.execute(
            "SELECT c.id, ag.id, ag.last_seq, ag.checkin_interval, ag.device_id, ag.client_id "
            "FROM agents_agentcredential c JOIN agents_agent ag ON ag.device_id = c.device_id "
            "WHERE c.prefix = %s AND c.secret_hash = %s AND c.revoked_at IS NULL AND c.last_used_at IS NOT NULL "
            "AND ag.rotation_requested_at IS NULL", [prefix, digest])
        found = cursor.fetchone()
        if found is None:
            return None
        credential_id, agent_id, old_seq, interval, device_id, client_id = found
        cursor.execute("UPDATE agents_agent SET last_seq = %s, last_checkin_at = %s, agent_version = %s "
                       "WHERE id = %s", [max(old_seq, rows.max_seq), adapt(now), version, agent_id])
        cursor.execute("UPDATE agents_agentcredential SET last_used_at = %s WHERE id = %s AND last_used_at < %s",
                       [adapt(now), credential_id, adapt(now - LAST_USED_PRECISION)])
        fresh_heartbeat = rows.heartbeat_seq > old_seq
        cursor.execute(
            "UPDATE assets_device SET last_seen_at = %s, last_ip = CASE WHEN %s = '' THEN last_ip ELSE %s END, "
            "uptime_seconds = COALESCE(%s, uptime_seconds), logged_in_user = COALESCE(%s, logged_in_user) "
            "WHERE id = %s RETURNING site_id, os_family",
            [adapt(now), ip, ip, rows.uptime if fresh_heartbeat else None,
             rows.user if fresh_heartbeat else None, device_id])
        site_id, os_family = cursor.fetchone()
        results = [(client_id, device_id, check, adapt(at), status, value, message, seq)
                   for check, at, status, value, message, seq in zip(
                       rows.r_check, rows.r_at, rows.r_status, rows.r_value,
                       rows.r_message, rows.r_seq, strict=True) if seq > old_seq]
        if results:
            cursor.executemany("INSERT INTO assets_checkresult (client_id, device_id, check_id, at, status, value, "
                               "message, seq) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", results)
        metrics = [(client_id, device_id, adapt(at), cpu, mem, disk)
                   for at, cpu, mem, disk, seq in zip(rows.m_at, rows.m_cpu, rows.m_mem,
                                                      rows.m_disk, rows.m_seq, strict=True)
                   if seq > old_seq]
        if metrics:
            cursor.executemany("INSERT INTO assets_metricsample (client_id, device_id, at, cpu_pct, mem_pct, "
                               "disk_min_free_pct) VALUES (%s, %s, %s, %s, %s, %s)", metrics)
        cursor.execute(
            "SELECT id, kind, payload FROM agents_job WHERE device_id = %s AND (status = 'queued' OR "
            "(status = 'sent' AND sent_at < %s)) ORDER BY id LIMIT %s",
            [device_id, adapt(now - timedelta(seconds=interval * RESEND_AFTER_INTERVALS)), JOBS_PER_CHECKIN])
        jobs = [{"id": pk, "kind": kind, "payload": json.loads(payload)} for pk, kind, payload in cursor.fetchall()]
        if jobs:
            cursor.executemany("UPDATE agents_job SET status = 'sent', sent_at = %s, updated_at = %s, "
                               "first_sent_at = COALESCE(first_sent_at, %s) WHERE id = %s",
                               [(adapt(now), adapt(now), adapt(now), job["id"]) for job in jobs])
    return _Applied(old_seq, interval, device_id, client_id, site_id, os_family or "", jobs)


@dataclass(frozen=True)
class DeviceRef:
    """What the policy provider needs of a device, from the check-in's own statement (no extra query)."""

    pk: int
    client_id: int
    site_id: int | None
    os_family: str


def checkin_fast(credential: str, checkin: Checkin, ip: str = "") -> dict[str, Any] | None:
    """Apply a common check-in and return its answer (after commit), or None having written nothing
    when the full path must take it."""
    prefix = secrets.prefix_of(credential, secrets.CREDENTIAL)
    if prefix is None:
        return None
    rows = _columns(checkin)
    if rows is None:
        return None
    now = timezone.now()
    apply = _apply_postgresql if connection.vendor == "postgresql" else _apply_sqlite
    applied = apply(prefix, secrets.hash_secret(credential), checkin.envelope.agent_version, rows, ip[:64], now)
    if applied is None:
        return None
    answer: dict[str, Any] = {
        "ack_seq": max(applied.old_seq, rows.max_seq), "server_time": now.isoformat().replace("+00:00", "Z"),
        "checkin_interval": applied.interval, "checkin_jitter": checkin_jitter(applied.interval),
        "policy": None, "jobs": applied.jobs}
    current = hooks.policy_for_device(DeviceRef(applied.device_id, applied.client_id, applied.site_id,
                                                applied.os_family))
    if current is not None and current[0] != checkin.envelope.policy_version:
        answer["policy"] = current[1]
    keys = hooks.signing_keys()  # cached per process: no SQL
    if keys is not None:
        answer["signing_keys"] = keys
    return answer
