"""The "to date" panel of a contract page: hours used, remaining and overrun of a block, revenue, cost and the
effective hourly rate. An HTMX fragment served by billing: contracts sits below billing and imports nothing
of it (the contract page loads this by hx-get)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tenfold.billing import reports
from tenfold.billing.payment_views import staff_only
from tenfold.billing.usage import block_usage, month_start
from tenfold.catalog.selectors import currency
from tenfold.contracts.models import ContractType
from tenfold.contracts.selectors import access_contract


@login_required
@require_GET
def contract_figures_panel(request: HttpRequest, contract_id: int) -> HttpResponse:
    """Staff who may see the contract see its hours; money only for roles with invoices or catalog."""
    contract = access_contract(request.user, contract_id)
    staff_only(request)
    today = timezone.localdate()
    usage = None
    period = None
    if contract.type == ContractType.BLOCK_HOURS:
        period = (month_start(today), today)
        usage = block_usage(contract, *period)
    figures = reports.contract_to_date(contract)
    return render(request, "billing/fragment_contract.html", {
        "contract": contract, "usage": usage, "period": period, "figures": figures,
        "show_money": reports.can_see_money(request.user), "currency": currency()})
