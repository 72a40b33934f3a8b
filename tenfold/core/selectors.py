"""Reads of core records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from tenfold.core.models import Organization, TaxRate, WorkerHeartbeat


def organization() -> Organization:
    """The MSP's settings row (created with defaults the first time)."""
    org = Organization.objects.order_by("pk").first()
    if org is None:
        org, _ = Organization.objects.get_or_create(pk=1)
    return org


def tax_rates() -> list[TaxRate]:
    """Every tax rate, default first."""
    return list(TaxRate.objects.order_by("-is_default", "name"))


def health() -> dict[str, Any]:
    """The database and worker state for /healthz."""
    state: dict[str, Any] = {"status": "ok", "database": "ok", "database_vendor": connection.vendor}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any database failure is reported, not raised
        state.update(status="error", database=f"error: {type(exc).__name__}")
        return state
    stale_after = timezone.now() - timedelta(seconds=settings.TENFOLD_WORKER_STALE_SECONDS)
    try:
        alive = WorkerHeartbeat.objects.filter(last_seen_at__gte=stale_after).count()
        last = WorkerHeartbeat.objects.order_by("-last_seen_at").values_list("last_seen_at", flat=True).first()
    except Exception as exc:  # noqa: BLE001 - e.g. before migrations
        state.update(status="error", database=f"error: {type(exc).__name__}")
        return state
    state["workers"] = alive
    state["worker"] = "ok" if alive else ("stale" if last else "none")
    state["worker_last_seen"] = last.isoformat() if last else None
    if not alive:
        state["status"] = "degraded"
    return state
