"""Contracts' background work: idempotent, safe to run twice."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def apply_due_addenda() -> dict[str, Any]:
    """Apply the addenda whose effective date has come (hourly; an applied one is never applied again)."""
    from tenfold.contracts.services import apply_due_addenda as apply_due

    return {"applied": apply_due()}


@task()
def reconcile_coverage() -> dict[str, Any]:
    """Re-sync every managed contract's coverage with the RMM (the safety net behind the events)."""
    from tenfold.contracts.services import reconcile_all_coverage

    return reconcile_all_coverage()
