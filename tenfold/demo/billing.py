"""Demo billing: the real billing engine run for the last three months, so invoices, credit notes and the
ageing report have a history. The demo's coverage is dated from each contract's start (the contracts seed
syncs it today), with a few devices added and one removed last month so this month's invoices show prorated
lines. The two older months' invoices are issued on their run dates; this month's stay drafts. One older
invoice is voided by a credit note. Payments are the payments seed's."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from tenfold.billing.engine import billing_run
from tenfold.billing.models import Invoice, InvoiceKind, InvoiceStatus
from tenfold.billing.services import invoice_issue, invoice_void
from tenfold.billing.usage import month_start
from tenfold.contracts.models import Contract, ContractCoverage, ContractType


def _aware(day: Any, hour: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)), timezone.get_default_timezone())


def _shape_coverage(rng: random.Random, last_month: Any) -> None:
    contracts = list(Contract.objects.filter(type=ContractType.MANAGED, status="active").order_by("pk"))
    for contract in contracts:
        ContractCoverage.objects.filter(contract=contract, started_at__gte=_aware(contract.start_date)).update(
            started_at=_aware(contract.start_date))
    for contract in contracts[:3]:
        rows = list(ContractCoverage.objects.filter(contract=contract, kind="device", ended_at__isnull=True)
                    .order_by("-pk")[:2])
        added = last_month + timedelta(days=rng.randint(5, 20))
        for row in rows:
            row.started_at = _aware(added, 10)
            row.save(update_fields=["started_at"])
        removed = (ContractCoverage.objects.filter(contract=contract, kind="device", ended_at__isnull=True)
                   .exclude(pk__in=[r.pk for r in rows]).order_by("pk").first())
        if removed is not None:
            # A device retired last month (the coverage sync re-adds a replacement later).
            removed.ended_at = _aware(last_month + timedelta(days=rng.randint(8, 25)), 17)
            removed.save(update_fields=["ended_at"])


def seed_billing(rng: random.Random, actor: Any) -> dict[str, int]:
    """Run billing for the month two months ago, last month and this month; issue the older invoices."""
    this_month = month_start(timezone.localdate())
    last_month = month_start(this_month - timedelta(days=1))
    two_ago = month_start(last_month - timedelta(days=1))
    _shape_coverage(rng, last_month)
    issued = 0
    for period in (two_ago, last_month, this_month):
        run = billing_run(actor=actor, period_start=period, run_date=period)
        if period == this_month:
            continue
        for invoice in Invoice.objects.filter(billing_run=run, kind=InvoiceKind.INVOICE,
                                              status=InvoiceStatus.DRAFT).order_by("pk"):
            invoice_issue(actor=actor, invoice=invoice, issue_date=period)
            issued += 1
    first = Invoice.objects.filter(kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED).order_by("-pk").first()
    voided = 0
    if first is not None:
        invoice_void(actor=actor, invoice=first, reason="Facturé en double.", issue_date=first.issue_date)
        voided = 1
    return {"issued": issued, "voided": voided, "drafts": Invoice.objects.filter(status=InvoiceStatus.DRAFT).count()}
