"""`tenfold worker` end to end: real processes on a throw-away database (a SQLite file, or a PostgreSQL
database when the suite runs on PostgreSQL), and Redis for the RQ backend when one answers.

`make_instance` (tenfold/core/tests/instances.py) builds those deployments."""

from __future__ import annotations

import json
import os
import re
import signal
import socket

import pytest

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("TENFOLD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except (OSError, redis.RedisError):
        return False


def test_worker_once_runs_a_due_schedule_while_its_heartbeat_is_up(make_instance, tmp_path):
    # given
    instance = make_instance()
    seen = tmp_path / "heartbeats.json"
    instance.add_schedule("test.heartbeats", "tenfold.core.tests.worker_tasks.record_heartbeats",
                          path=str(seen))

    # when
    worker = instance.popen("worker", "--once")
    output, _ = worker.communicate(timeout=180)

    # then
    assert worker.returncode == 0, output
    heartbeats = json.loads(seen.read_text())
    assert len(heartbeats) == 1, heartbeats
    worker_id = heartbeats[0]["worker_id"]
    hostname = socket.gethostname()
    assert heartbeats == [{"worker_id": worker_id, "hostname": hostname[:200], "pid": worker.pid,
                           "backend": "database", "fresh": True}]
    assert re.fullmatch(rf"{re.escape(hostname[:40])}.*-{worker.pid}-[0-9a-f]{{6}}", worker_id)
    assert f"worker {worker_id} enqueued: test.heartbeats" in output
    assert instance.query(
        "from tenfold.core.models import Schedule\n"
        "s = Schedule.objects.get(name='test.heartbeats')\n"
        "from tenfold.core.scheduler import BUILTIN\n"
        "result = [s.run_count, s.last_worker, sorted(Schedule.objects.filter(builtin=True)"
        ".values_list('name', flat=True)) == sorted(BUILTIN), 'audit.seal' in BUILTIN]"
    ) == [1, worker_id, True, True]
    assert instance.heartbeats() == []


def test_two_workers_at_once_run_each_due_schedule_once(make_instance, tmp_path):
    # given
    instance = make_instance()
    lines = tmp_path / "lines.txt"
    names = [f"test.append.{n}" for n in range(8)]
    for name in names:
        instance.add_schedule(name, "tenfold.core.tests.worker_tasks.append_line", path=str(lines), line=name)

    # when
    workers = [instance.popen("worker", "--once") for _ in range(2)]
    outputs = [w.communicate(timeout=180)[0] for w in workers]

    # then
    assert [w.returncode for w in workers] == [0, 0], outputs
    assert sorted(lines.read_text().splitlines()) == names
    assert instance.query(
        "from tenfold.core.models import Schedule\n"
        "result = sorted(Schedule.objects.filter(name__startswith='test.').values_list('name', 'run_count'))"
    ) == [[name, 1] for name in names]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_worker_cleanly_and_removes_its_heartbeat(make_instance, stop_signal):
    # given
    instance = make_instance()
    worker = instance.popen("worker")
    assert worker.stdout is not None
    started = worker.stdout.readline()
    match = re.fullmatch(r"worker (\S+) started \(database backend\)\n", started)
    assert match, started
    assert instance.heartbeats() == [match.group(1)]

    # when
    worker.send_signal(stop_signal)
    output, _ = worker.communicate(timeout=60)

    # then
    assert worker.returncode == 0, output
    assert f"worker {match.group(1)} stopped" in output
    assert instance.heartbeats() == []


def test_rq_backend_runs_an_enqueued_task_in_a_burst_worker(make_instance, tmp_path):
    if not _redis_answers():
        pytest.skip(f"Redis does not answer at {REDIS_URL} "
                    "(start redis-server or point TENFOLD_TEST_REDIS_URL at one)")
    # given
    instance = make_instance(TENFOLD_REDIS_URL=REDIS_URL)
    marker = tmp_path / "marker.txt"
    task_id = instance.query(
        "from tenfold.core.tests.worker_tasks import write_text\n"
        f"result = write_text.enqueue(path={str(marker)!r}, text='ran on rq').id")

    # when
    worker = instance.popen("worker", "--once")
    output, _ = worker.communicate(timeout=180)

    # then
    assert worker.returncode == 0, output
    assert "(rq backend)" in output
    assert marker.read_text() == "ran on rq"
    assert instance.query(
        "from tenfold.core.tests.worker_tasks import write_text\n"
        f"result = write_text.get_result({task_id!r}).status") == "SUCCESSFUL"
