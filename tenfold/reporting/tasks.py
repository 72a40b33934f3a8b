"""Reporting's background work: idempotent, safe to run twice."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def snapshot_closed_periods() -> dict[str, Any]:
    """Snapshot every active client's last closed quarter and month (kept snapshots are never rewritten)."""
    from tenfold.reporting.services import snapshot_closed_periods as snapshot

    return snapshot()
