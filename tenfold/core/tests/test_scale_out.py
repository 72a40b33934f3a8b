"""Scale-out as production runs it (docs/operations.md): two `tenfold serve` processes and two `tenfold
worker` processes sharing one PostgreSQL database and one Redis (cache and RQ task queue). Every due
schedule runs once; every outbox event written through either web process is delivered, and applied
once by each of its handlers.

Runs in the PostgreSQL pass (TENFOLD_TEST_DATABASE_URL) when Redis answers; it uses Redis database 14
(TENFOLD_TEST_SCALE_REDIS_URL), which it empties before and after.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tenfold.agents.tests.live import STAFF_AND_CLIENT, Api, Server, _stop_group, free_port, tail, wait_until

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("TENFOLD_TEST_SCALE_REDIS_URL", "redis://127.0.0.1:6379/14")
SCHEDULES = 12
DEVICES = 16

DELIVERY_FACTS = """
from collections import Counter
from tenfold.core import events
from tenfold.core.models import EventDelivery, OutboxEvent
rows = list(OutboxEvent.objects.values_list("pk", "name", "delivered_at"))
expected = sorted((pk, h.name) for pk, name, _at in rows for h in events.handlers_for(name))
applied = sorted(EventDelivery.objects.values_list("event_id", "handler"))
result = {"names": dict(Counter(name for _pk, name, _at in rows)),
          "undelivered": sum(1 for _pk, _name, at in rows if at is None),
          "expected": expected, "applied": applied}
"""


def _redis() -> Any:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except (OSError, redis.RedisError):
        return None
    return client


def _start_worker(instance: Any, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen([sys.executable, "-m", "tenfold", "worker"], env=instance.env, cwd=instance.root,
                                stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True)


def test_two_web_processes_and_two_workers_share_postgresql_and_redis(make_instance: Any, tmp_path: Path) -> None:
    if not os.environ.get("TENFOLD_TEST_DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the scale-out configuration is PostgreSQL + Redis (runs in the PostgreSQL pass)")
    redis_client = _redis()
    if redis_client is None:
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    redis_client.flushdb()
    # given one PostgreSQL database, one Redis, an administrator's token, a client, and due schedules
    instance = make_instance(TENFOLD_REDIS_URL=REDIS_URL, TENFOLD_SCHEDULER_TICK_SECONDS="1")
    facts = instance.query(STAFF_AND_CLIENT)
    lines = tmp_path / "lines.txt"
    names = [f"test.append.{n:02d}" for n in range(SCHEDULES)]
    for name in names:
        instance.add_schedule(name, "tenfold.core.tests.worker_tasks.append_line", path=str(lines), line=name)
    servers = [Server(instance, free_port(), tmp_path / f"web-{n}.log") for n in range(2)]
    worker_logs = [tmp_path / f"worker-{n}.log" for n in range(2)]
    workers: list[subprocess.Popen[bytes]] = []

    def details() -> str:
        return "\n".join(tail(path) for path in [*worker_logs, *(s.log_path for s in servers)])

    try:
        for server in servers:
            server.start()
        workers = [_start_worker(instance, log) for log in worker_logs]
        wait_until(lambda: len(instance.heartbeats()) == 2, 60, "two workers' heartbeats", details, interval=2)
        # when devices are added through both web processes, then half of them retired
        apis = [Api(server.url, facts["token"]) for server in servers]
        device_ids = [apis[n % 2].post("/devices", {"client_id": facts["client_id"], "name": f"PC-{n:02d}",
                                                    "kind": "workstation"})["id"] for n in range(DEVICES)]
        for n, device_id in enumerate(device_ids[: DEVICES // 2]):
            apis[n % 2].post(f"/devices/{device_id}/state", {"state": "retired"})
        # then every event is delivered, and each handler applied each event exactly once
        delivered = wait_until(
            lambda: (lambda f: f if f["undelivered"] == 0 and f["applied"] == f["expected"] else None)(
                instance.query(DELIVERY_FACTS)), 120, "every outbox event delivered", details, interval=2)
        assert delivered["names"]["device.created"] == DEVICES
        assert delivered["names"]["device.state_changed"] == DEVICES // 2
        handlers = {handler for _event, handler in delivered["applied"]}
        assert {"contracts.coverage_follows_device.created", "agents.revoke_retired"} <= handlers
        # and every due schedule ran once, on one worker or the other, through the Redis queue
        wait_until(lambda: lines.exists() and len(lines.read_text().splitlines()) >= SCHEDULES, 60,
                   "the scheduled tasks", details)
        assert sorted(lines.read_text().splitlines()) == names
        assert instance.query(
            "from tenfold.core.models import Schedule\n"
            "result = sorted(Schedule.objects.filter(name__startswith='test.').values_list('name', 'run_count'))"
        ) == [[name, 1] for name in names]
        backends = instance.query("from tenfold.core.models import WorkerHeartbeat\n"
                                  "result = sorted(WorkerHeartbeat.objects.values_list('backend', flat=True))")
        assert backends == ["rq", "rq"]
    finally:
        for worker in workers:
            _stop_group(worker, signal.SIGTERM, grace=20)
        for server in servers:
            server.stop()
        with contextlib.suppress(Exception):
            redis_client.flushdb()
