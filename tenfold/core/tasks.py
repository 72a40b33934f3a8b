"""Core's background tasks: idempotent, safe to run twice, take ids only."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from tenfold.core import audit, events
from tenfold.core.models import WorkerHeartbeat


@task()
def deliver_outbox() -> int:
    """Deliver pending domain events to their handlers."""
    return events.deliver_pending()


@task()
def seal_audit() -> int:
    """Link new audit rows into the hash chain."""
    total = 0
    while True:
        sealed = audit.seal()
        total += sealed
        if sealed < 1000:
            return total


@task()
def prune_workers() -> int:
    """Forget workers not seen for a day."""
    deleted, _ = WorkerHeartbeat.objects.filter(last_seen_at__lt=timezone.now() - timedelta(days=1)).delete()
    return deleted
