"""Sales' background work: idempotent, safe to run twice."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def expire_quotes() -> dict[str, Any]:
    """Mark the sent quotes whose validity date has passed as expired (daily)."""
    from tenfold.sales.services import expire_quotes as expire

    return {"expired": expire()}
