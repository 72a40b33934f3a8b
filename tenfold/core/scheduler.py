"""Cron-style schedules run by the worker. Several workers may tick at once: a due schedule is
claimed with a conditional UPDATE on its `next_run_at`, so exactly one of them enqueues it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from croniter import croniter
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from tenfold.core.errors import ValidationError
from tenfold.core.models import Schedule

logger = logging.getLogger("tenfold.scheduler")


@dataclass(frozen=True)
class BuiltinSchedule:
    """A schedule every deployment has (created by the worker at start)."""

    name: str
    task_path: str
    cron: str
    kwargs: dict[str, Any] = field(default_factory=dict)


BUILTIN: dict[str, BuiltinSchedule] = {}


def register_builtin(schedule: BuiltinSchedule) -> None:
    """Declare a built-in schedule (called from an app's ready())."""
    BUILTIN[schedule.name] = schedule


def register_builtin_schedules() -> None:
    """Core's own periodic work."""
    register_builtin(BuiltinSchedule("audit.seal", "tenfold.core.tasks.seal_audit", "* * * * *"))
    register_builtin(BuiltinSchedule("outbox.sweep", "tenfold.core.tasks.deliver_outbox", "* * * * *"))
    register_builtin(BuiltinSchedule("workers.prune", "tenfold.core.tasks.prune_workers", "17 * * * *"))


def validate_cron(expression: str) -> str:
    """The expression if croniter accepts it (5 fields), else a ValidationError naming the field."""
    expression = " ".join(expression.split())
    if len(expression.split(" ")) != 5 or not croniter.is_valid(expression):
        raise ValidationError(field="cron", message=_cron_message())
    return expression


def _cron_message() -> Any:
    from django.utils.translation import gettext_lazy as _

    return _("Enter a cron expression of five fields, e.g. '0 6 * * 1' for Mondays at 06:00.")


def next_run(expression: str, after: datetime) -> datetime:
    """The first time strictly after `after` that matches the expression (UTC)."""
    result: datetime = croniter(expression, after).get_next(datetime)
    return result


def sync_builtin() -> None:
    """Create missing built-in schedules; keep their task and cron in step with the code."""
    now = timezone.now()
    for spec in BUILTIN.values():
        schedule, created = Schedule.objects.get_or_create(
            name=spec.name,
            defaults={"task_path": spec.task_path, "cron": spec.cron, "kwargs": spec.kwargs,
                      "builtin": True, "next_run_at": next_run(spec.cron, now)},
        )
        if not created and (schedule.task_path != spec.task_path or schedule.cron != spec.cron):
            Schedule.objects.filter(pk=schedule.pk).update(
                task_path=spec.task_path, cron=spec.cron, next_run_at=next_run(spec.cron, now))


def tick(worker_id: str, now: datetime | None = None) -> list[str]:
    """Enqueue every due schedule this worker wins; returns the names it enqueued."""
    now = now or timezone.now()
    won: list[str] = []
    due = Schedule.objects.filter(enabled=True, next_run_at__lte=now).order_by("next_run_at")
    for schedule in due:
        following = next_run(schedule.cron, now)
        try:
            task = import_string(schedule.task_path)
        except ImportError:
            # Claimed all the same (below), so one broken row is logged once per due time instead of
            # stopping every tick at the same place.
            logger.error("schedule %r: task %r does not exist; skipped", schedule.name, schedule.task_path)
            task = None
        with transaction.atomic():
            claimed = Schedule.objects.filter(pk=schedule.pk, next_run_at=schedule.next_run_at).update(
                next_run_at=following, last_run_at=now, last_worker=worker_id[:100],
                run_count=F("run_count") + (1 if task is not None else 0))
            if claimed != 1 or task is None:
                continue  # another worker won it, or there is nothing to run
            # robust: a queue that cannot be reached loses this run only, not the rest of the tick.
            transaction.on_commit(partial(_enqueue, task, schedule.kwargs), robust=True)
        won.append(schedule.name)
    return won


def _enqueue(task: Any, kwargs: dict[str, Any]) -> None:
    task.enqueue(**kwargs)
