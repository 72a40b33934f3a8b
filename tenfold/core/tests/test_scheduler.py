"""Cron-style schedules: built-in rows, due schedules enqueued once, cron validation."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django_tasks.signals import task_enqueued

from tenfold.core import scheduler
from tenfold.core.errors import ValidationError
from tenfold.core.models import Schedule, WorkerHeartbeat

T0 = dt.datetime(2025, 3, 3, 9, 0, 30, tzinfo=dt.UTC)
PRUNE = "tenfold.core.tasks.prune_workers"
CRON_MESSAGE = "Enter a cron expression of five fields, e.g. '0 6 * * 1' for Mondays at 06:00."


@pytest.fixture
def enqueued() -> Iterator[list[str]]:
    """The module paths of the tasks enqueued during the test, in order."""
    seen: list[str] = []

    def on_enqueued(sender: Any, task_result: Any, **kwargs: Any) -> None:
        seen.append(task_result.task.module_path)

    task_enqueued.connect(on_enqueued, weak=False)
    yield seen
    task_enqueued.disconnect(on_enqueued)


@pytest.mark.django_db
def test_sync_builtin_creates_the_core_schedules():
    # given
    assert Schedule.objects.count() == 0

    # when
    with time_machine.travel(T0, tick=False):
        scheduler.sync_builtin()

    # then
    assert set(Schedule.objects.values_list("name", flat=True)) == set(scheduler.BUILTIN)
    core = Schedule.objects.filter(name__in=["audit.seal", "outbox.sweep", "workers.prune"]).order_by("name")
    assert list(core.values_list("name", "task_path", "cron", "builtin", "enabled", "next_run_at")) == [
        ("audit.seal", "tenfold.core.tasks.seal_audit", "* * * * *", True, True,
         T0.replace(minute=1, second=0)),
        ("outbox.sweep", "tenfold.core.tasks.deliver_outbox", "* * * * *", True, True,
         T0.replace(minute=1, second=0)),
        ("workers.prune", PRUNE, "17 * * * *", True, True, T0.replace(minute=17, second=0)),
    ]


@pytest.mark.django_db
def test_sync_builtin_twice_keeps_one_row_each_and_restores_a_changed_cron():
    # given
    with time_machine.travel(T0, tick=False):
        scheduler.sync_builtin()
    Schedule.objects.filter(name="workers.prune").update(cron="0 0 1 1 *")

    # when
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        scheduler.sync_builtin()

    # then
    assert Schedule.objects.count() == len(scheduler.BUILTIN)
    prune = Schedule.objects.get(name="workers.prune")
    assert (prune.cron, prune.next_run_at) == ("17 * * * *", T0.replace(hour=10, minute=17, second=0))


@pytest.mark.django_db
def test_tick_enqueues_a_due_schedule_once(enqueued, django_capture_on_commit_callbacks):
    # given
    schedule = Schedule.objects.create(name="test.prune", task_path=PRUNE, cron="*/5 * * * *", next_run_at=T0)
    stale = WorkerHeartbeat.objects.create(worker_id="gone-1-abc", hostname="gone", pid=1, backend="database",
                                           last_seen_at=T0 - dt.timedelta(days=2))

    # when
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        first = scheduler.tick("worker-a")
        again = scheduler.tick("worker-a")

    # then
    assert (first, again) == (["test.prune"], [])
    assert enqueued == [PRUNE]
    assert not WorkerHeartbeat.objects.filter(pk=stale.pk).exists()  # the task itself ran
    schedule.refresh_from_db()
    assert (schedule.run_count, schedule.last_run_at, schedule.last_worker, schedule.next_run_at) == (
        1, T0, "worker-a", T0.replace(minute=5, second=0))


@pytest.mark.django_db
def test_tick_leaves_schedules_that_are_not_due_or_disabled(enqueued, django_capture_on_commit_callbacks):
    # given
    Schedule.objects.create(name="test.later", task_path=PRUNE, cron="* * * * *",
                            next_run_at=T0 + dt.timedelta(seconds=1))
    Schedule.objects.create(name="test.off", task_path=PRUNE, cron="* * * * *", next_run_at=T0, enabled=False)

    # when
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        won = scheduler.tick("worker-a")

    # then
    assert won == []
    assert enqueued == []
    assert sorted(Schedule.objects.values_list("name", "run_count")) == [("test.later", 0), ("test.off", 0)]


@pytest.mark.django_db
def test_two_workers_ticking_at_the_same_instant_enqueue_a_schedule_once(enqueued,
                                                                         django_capture_on_commit_callbacks):
    # given
    Schedule.objects.create(name="test.prune", task_path=PRUNE, cron="0 * * * *", next_run_at=T0)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        won_by_a = scheduler.tick("worker-a", now=T0)
        won_by_b = scheduler.tick("worker-b", now=T0)

    # then
    assert (won_by_a, won_by_b) == (["test.prune"], [])
    assert enqueued == [PRUNE]
    assert Schedule.objects.values_list("run_count", "last_worker").get() == (1, "worker-a")


@pytest.mark.django_db(transaction=True)
def test_concurrent_ticks_claim_each_due_schedule_exactly_once(enqueued):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: threads share one in-memory SQLite test database and cannot race "
                    "on it (processes racing on a SQLite file are covered by test_worker.py)")
    # given
    for n in range(30):
        Schedule.objects.create(name=f"test.race.{n:02}", task_path=PRUNE, cron="0 * * * *", next_run_at=T0)
    workers = [f"worker-{n}" for n in range(4)]
    start = threading.Barrier(len(workers))
    won: dict[str, list[str]] = {}

    def run(worker_id: str) -> None:
        try:
            start.wait()
            won[worker_id] = scheduler.tick(worker_id, now=T0)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    all_won = sorted(name for names in won.values() for name in names)
    assert all_won == [f"test.race.{n:02}" for n in range(30)]
    assert len(enqueued) == 30
    assert set(Schedule.objects.values_list("run_count", flat=True)) == {1}
    by_worker = dict(Schedule.objects.values_list("name", "last_worker"))
    assert all(by_worker[name] == worker for worker, names in won.items() for name in names)


@pytest.mark.django_db
def test_a_schedule_whose_task_does_not_exist_is_skipped_without_blocking_the_others(
        enqueued, django_capture_on_commit_callbacks):
    """Regression: a schedule naming a missing task raised out of tick(), so every later due schedule
    was never enqueued and the same error came back at every tick."""
    # given
    Schedule.objects.create(name="test.broken", task_path="tenfold.core.tasks.no_such_task", cron="* * * * *",
                            next_run_at=T0 - dt.timedelta(minutes=1))
    Schedule.objects.create(name="test.prune", task_path=PRUNE, cron="* * * * *", next_run_at=T0)

    # when
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        won = scheduler.tick("worker-a")

    # then
    assert won == ["test.prune"]
    assert enqueued == [PRUNE]
    broken = Schedule.objects.get(name="test.broken")
    assert (broken.run_count, broken.next_run_at) == (0, T0.replace(minute=1, second=0))


@pytest.mark.parametrize(("given", "expected"), [
    ("0 6 * * 1", "0 6 * * 1"),
    ("  */15   *  * * *  ", "*/15 * * * *"),
    ("30 2 1 1-6 mon-fri", "30 2 1 1-6 mon-fri"),
])
def test_validate_cron_accepts_five_field_expressions(given, expected):
    # when
    result = scheduler.validate_cron(given)

    # then
    assert result == expected


@pytest.mark.parametrize("given", ["", "* * * *", "* * * * * *", "61 * * * *", "* 25 * * *", "every monday",
                                   "0 6 * * funday"])
def test_validate_cron_rejects_bad_input_with_a_clear_message(given):
    # when
    with pytest.raises(ValidationError) as raised:
        scheduler.validate_cron(given)

    # then
    assert raised.value.errors == {"cron": [CRON_MESSAGE]}
    assert raised.value.as_body() == {"code": "validation_error", "message": CRON_MESSAGE,
                                      "errors": {"cron": [CRON_MESSAGE]}}
