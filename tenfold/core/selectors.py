"""Reads of core records."""

from __future__ import annotations

from collections.abc import Callable
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


# Figures of the answering process that a higher app keeps, shown by /healthz under their name (the agents'
# check-in shedding: `tenfold.agents.apps`). Counters only: no secret, no personal data.
HealthSection = Callable[[], dict[str, Any]]
_health_sections: dict[str, HealthSection] = {}


def register_health_section(name: str, figures: HealthSection) -> None:
    """Show `name: figures()` in /healthz (a higher app registers in its `apps.py`)."""
    _health_sections[name] = figures


def health() -> dict[str, Any]:
    """The database and worker state for /healthz, then the registered sections of this process (shown even
    when the database is down: the check-in shedding matters most then)."""
    state = _database_and_workers()
    for name, figures in _health_sections.items():
        state[name] = figures()
    return state


def _database_and_workers() -> dict[str, Any]:
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
