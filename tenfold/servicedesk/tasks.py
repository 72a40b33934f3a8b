"""The service desk's background work: idempotent, safe to run twice."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def sla_tick() -> dict[str, Any]:
    """Emit the SLA warnings and breaches whose time came (every minute; each once per ticket and clock)."""
    from tenfold.servicedesk.services import sla_tick as tick

    return tick()


@task()
def open_recurring_tickets() -> dict[str, Any]:
    """Open the tickets of due recurring schedules (every minute; once per schedule and due time)."""
    from tenfold.servicedesk.services import run_due_recurring

    return {"opened": run_due_recurring()}
