"""Patching's background work: idempotent, safe to run twice."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from tenfold.patching.services import record_install_results, schedule_installs


@task()
def install_due_updates() -> dict[str, Any]:
    """Record finished install jobs, then queue install jobs in the windows open now; every five minutes."""
    recorded = record_install_results()
    runs = schedule_installs()
    return {"recorded": recorded, "queued": len(runs)}
