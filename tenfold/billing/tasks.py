"""Billing's background work: idempotent, safe to run twice."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django_tasks import task


@task()
def monthly_run() -> dict[str, Any]:
    """Run billing for the month that starts today (scheduled on the 1st; running it again creates nothing
    twice)."""
    from tenfold.billing.engine import billing_run
    from tenfold.billing.usage import month_start

    today = timezone.localdate()
    run = billing_run(actor=None, period_start=month_start(today), run_date=today)
    return {"billing_run": run.pk, "period": run.period_start.isoformat(), "invoices": run.invoice_count,
            "total": str(run.total)}
