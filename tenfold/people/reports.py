"""People reports: the technician scorecard and the profile of the most satisfied clients."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Sum
from django.utils import timezone

from tenfold.clients.models import Client
from tenfold.contracts.models import Contract, ContractStatus
from tenfold.contracts.selectors import contract_lines
from tenfold.people.measures import CENT, scorecard
from tenfold.servicedesk.models_surveys import SurveyResponse

__all__ = ["most_satisfied_clients", "scorecard"]


def most_satisfied_clients(actor: Any, days: int = 365, limit: int = 50) -> list[dict[str, Any]]:
    """The clients the actor sees, by average satisfaction over the last `days` (answered surveys), best first,
    each with the services of its active managed contracts."""
    since = timezone.now() - timedelta(days=days)
    visible = Client.objects.visible_to(actor).values_list("pk", flat=True)
    rows = (SurveyResponse.objects.filter(client_id__in=visible, answered_at__gte=since)
            .values("client_id", "client__name")
            .annotate(n=Count("pk"), points=Sum(F("professionalism") + F("accuracy") + F("speed")))
            .order_by())
    result = []
    for row in rows:
        csat = (Decimal(row["points"]) / (3 * row["n"])).quantize(CENT, rounding=ROUND_HALF_UP)
        result.append({"client_id": row["client_id"], "client": row["client__name"], "surveys": row["n"],
                       "csat": csat})
    result.sort(key=lambda r: (-r["csat"], -r["surveys"], r["client"]))
    result = result[:limit]
    contracts = (Contract.objects.visible_to(actor).filter(client_id__in=[r["client_id"] for r in result],
                                                            status=ContractStatus.ACTIVE)
                 .select_related("plan"))
    services: dict[int, set[str]] = {}
    for contract in contracts:
        names = services.setdefault(contract.client_id, set())
        if contract.plan is not None:
            names.add(contract.plan.name)
        if contract.is_managed:
            names |= {line.name for line in contract_lines(contract)}
    for row in result:
        row["services"] = sorted(services.get(row["client_id"], set()))
    return result
