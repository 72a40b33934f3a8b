"""A worker killed in the middle of a task leaves it "running" in the database backend; the scheduler
tick of any live worker puts it back in the queue once the dead worker's heartbeat is stale."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tenfold.core.management.commands.worker import requeue_orphaned_tasks
from tenfold.core.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def _running(worker_id: str, started_minutes_ago: float) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING, args_kwargs={"args": [], "kwargs": {}}, priority=0,
        task_path="tenfold.core.tests.worker_tasks.record_heartbeats", worker_ids=[worker_id],
        queue_name="default", backend_name="default", run_after=now,
        started_at=now - timedelta(minutes=started_minutes_ago), exception_class_path="", traceback="")


def _heartbeat(worker_id: str, seen_minutes_ago: float) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id=worker_id, hostname="h", pid=1, backend="database",
                                   started_at=now - timedelta(hours=1),
                                   last_seen_at=now - timedelta(minutes=seen_minutes_ago))


def test_a_task_of_a_dead_worker_goes_back_to_the_queue_and_others_stay() -> None:
    # given a worker killed 10 minutes ago (stale heartbeat), one gone without a trace, and a live one
    _heartbeat("dead-1", seen_minutes_ago=10)
    _heartbeat("alive-1", seen_minutes_ago=0.1)
    orphan = _running("dead-1", started_minutes_ago=12)
    vanished = _running("never-seen", started_minutes_ago=5)
    busy = _running("alive-1", started_minutes_ago=30)
    just_started = _running("dead-1", started_minutes_ago=0.2)

    # when
    requeued = requeue_orphaned_tasks()

    # then the dead and vanished workers' long-running tasks are ready again; the others are untouched
    assert sorted(requeued) == sorted([str(orphan.pk), str(vanished.pk)])
    states = {r.pk: (r.status, r.started_at) for r in DBTaskResult.objects.all()}
    assert states[orphan.pk] == (TaskResultStatus.READY, None)
    assert states[vanished.pk] == (TaskResultStatus.READY, None)
    assert states[busy.pk][0] == TaskResultStatus.RUNNING
    assert states[just_started.pk][0] == TaskResultStatus.RUNNING
    # and a second tick finds nothing more to do
    assert requeue_orphaned_tasks() == []
