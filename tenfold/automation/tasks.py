"""Automation's background work: idempotent, safe to run twice."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def deliver_webhooks() -> dict[str, Any]:
    """Send the webhook deliveries that are due (after commit, and every minute for retries)."""
    from tenfold.automation.webhooks import deliver_due

    return {"attempted": deliver_due()}


@task()
def workflow_sweep() -> dict[str, Any]:
    """Time out workflow runs whose job never answered; start the scheduled workflows that are due."""
    from tenfold.automation.workflows import run_schedules, sweep_waiting

    return {"timed_out": sweep_waiting(), "scheduled": run_schedules()}


@task()
def run_sweep() -> dict[str, Any]:
    """Mark timed out the jobs whose agent never answered in time; start the scheduled runs that are due."""
    from tenfold.automation.services import run_due_schedules, time_out_jobs

    return {"timed_out": time_out_jobs(), "scheduled": run_due_schedules()}
