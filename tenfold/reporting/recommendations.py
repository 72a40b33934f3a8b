"""Recommendations (product P1.4): rules that turn a client's scorecard gaps into catalog services with prices,
and the quote they become in one click.

Rules, each over the client's live records:
- **backup**: devices in service without a backup tool → the catalog's backup service for their unit (the Best
  tier's item when a Best plan includes one, its price there; else an active backup add-on at list price),
  quantity = those devices.
- **warranty**: devices whose warranty has ended or ends within 90 days → a replacement project, one-off,
  `REPLACEMENT_HOURS` per device at the MSP's project hourly rate.
- **coverage**: discovered devices no managed device matches → the monitoring service of the Good tier for
  workstations (its price there), quantity = those devices.
- **alerts**: `REPEATED_ALERTS` or more alerts of one check type in the last 90 days → a remediation project,
  one-off, `PROJECT_HOURS` at the project hourly rate.
Prices go through `catalog.pricing` (`line_for`, `money`); nothing is rounded per unit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from tenfold.assets.models import Device, DeviceState, DiscoveredDevice
from tenfold.catalog.models import Plan, PlanItem, Service
from tenfold.catalog.pricing import UnitCounts, line_for, money
from tenfold.clients.models import Client
from tenfold.contracts.selectors import UNIT_OF_DEVICE_KIND
from tenfold.core.tiers import Tier
from tenfold.monitoring.models import Alert
from tenfold.reporting.models import QbrMeeting, QbrRecommendation, RecommendationKind

WARRANTY_HORIZON_DAYS = 90
ALERT_WINDOW_DAYS = 90
REPEATED_ALERTS = 3
REPLACEMENT_HOURS = Decimal(3)
PROJECT_HOURS = Decimal(4)
UNIT_COUNT_FIELD = {"workstation": "workstations", "server": "servers", "network_device": "network_devices",
                    "mobile": "mobiles"}


@dataclass(frozen=True)
class Proposal:
    """A priced proposal before it is stored on a review."""

    rule: str
    title: str
    reason: str
    kind: str
    quantity: Decimal
    unit_price: Decimal
    service_id: int | None = None
    offering_id: int | None = None

    @property
    def amount(self) -> Decimal:
        return money(self.quantity * self.unit_price)


def _tier_item(service_filter: dict[str, Any], unit: str, tier: str) -> PlanItem | None:
    return (PlanItem.objects.filter(plan__tier=tier, plan__active=True, plan__offering__active=True,
                                    service__active=True, service__unit=unit,
                                    **{f"service__{k}": v for k, v in service_filter.items()})
            .select_related("service", "plan").order_by("plan__offering_id", "pk").first())


def _priced(rule: str, title: str, reason: str, service: Service, unit: str, count: int, unit_price: Decimal,
            offering_id: int | None) -> Proposal:
    line = line_for(service, UnitCounts(**{UNIT_COUNT_FIELD[unit]: count}), unit_price)
    return Proposal(rule, title, reason, RecommendationKind.RECURRING, line.quantity, line.unit_price, service.pk,
                    offering_id)


def _backup(client: Client) -> list[Proposal]:
    rows = (Device.objects.filter(client=client, backup_tool="", kind__in=["server", "workstation", "laptop"])
            .exclude(state=DeviceState.RETIRED).values("kind").annotate(n=Count("pk")).order_by())
    by_unit: Counter[str] = Counter()
    for row in rows:
        by_unit[str(UNIT_OF_DEVICE_KIND[row["kind"]])] += row["n"]
    result = []
    for unit, count in sorted(by_unit.items()):
        reason = _("%(count)s devices without backup.") % {"count": count}
        item = _tier_item({"includes_backup": True}, unit, Tier.BEST)
        if item is not None:
            result.append(_priced("backup", _("%(service)s (Best tier)") % {"service": item.service.name}, reason,
                                  item.service, unit, count, item.unit_price, item.plan.offering_id))
            continue
        addon = Service.objects.filter(includes_backup=True, is_addon=True, active=True, unit=unit).first()
        if addon is not None:
            result.append(_priced("backup", addon.name, reason, addon, unit, count, addon.list_price, None))
    return result


def _warranty(client: Client, rate: Decimal, now: datetime) -> list[Proposal]:
    horizon = now.date() + timedelta(days=WARRANTY_HORIZON_DAYS)
    count = (Device.objects.filter(client=client, warranty_end__isnull=False, warranty_end__lte=horizon)
             .exclude(state=DeviceState.RETIRED).count())
    if not count:
        return []
    return [Proposal("warranty", _("Replacement project: %(count)s devices out of warranty") % {"count": count},
                     _("Warranty ended or ending within %(days)s days.") % {"days": WARRANTY_HORIZON_DAYS},
                     RecommendationKind.ONE_OFF, REPLACEMENT_HOURS * count, rate)]


def _coverage(client: Client) -> list[Proposal]:
    managed = set(Device.objects.filter(client=client, managed=True).exclude(state=DeviceState.RETIRED)
                  .values_list("pk", flat=True))
    count = sum(1 for matched in DiscoveredDevice.objects.filter(client=client, ignored=False)
                .values_list("matched_device_id", flat=True) if matched not in managed)
    if not count:
        return []
    item = _tier_item({"includes_monitoring": True}, "workstation", Tier.GOOD)
    if item is None:
        return []
    return [_priced("coverage", _("%(service)s for unmanaged devices") % {"service": item.service.name},
                    _("%(count)s devices seen on the network are not managed.") % {"count": count},
                    item.service, "workstation", count, item.unit_price, item.plan.offering_id)]


def _alerts(client: Client, rate: Decimal, now: datetime) -> list[Proposal]:
    since = now - timedelta(days=ALERT_WINDOW_DAYS)
    rows = (Alert.objects.filter(client=client, opened_at__gte=since, check_definition__isnull=False)
            .values("check_definition__check_type").annotate(n=Count("pk")).order_by("-n"))
    result = []
    for row in rows:
        if row["n"] < REPEATED_ALERTS:
            continue
        kind = row["check_definition__check_type"]
        result.append(Proposal(f"alerts_{kind}"[:40],
                               _("Remediation project: repeated %(kind)s alerts") % {"kind": kind},
                               _("%(count)s alerts in %(days)s days.") % {"count": row["n"], "days": ALERT_WINDOW_DAYS},
                               RecommendationKind.ONE_OFF, PROJECT_HOURS, rate))
    return result


def propose(client: Client, *, rate: Decimal, now: datetime | None = None) -> list[Proposal]:
    """Every rule's proposals for the client, in rule order."""
    now = now or timezone.now()
    return [*_backup(client), *_warranty(client, rate, now), *_coverage(client), *_alerts(client, rate, now)]


def _offering_for(client: Client, rows: list[QbrRecommendation]) -> int:
    from tenfold.contracts.models import Contract, ContractStatus

    for row in rows:
        if row.offering_id:
            return row.offering_id
    contract_plan = (Contract.objects.filter(client=client, status=ContractStatus.ACTIVE, plan__isnull=False)
                     .values_list("plan__offering_id", flat=True).first())
    if contract_plan:
        return int(contract_plan)
    plan = Plan.objects.filter(active=True, offering__active=True).order_by("offering_id").first()
    if plan is None:
        from tenfold.core.errors import ValidationError

        raise ValidationError(_("The catalog has no active offering to quote."))
    return plan.offering_id


def make_quote(*, actor: Any, meeting: QbrMeeting, rows: list[QbrRecommendation]) -> Any:
    """A deal (source: business review) and its draft quote: the offering's tiers at the client's counts plus the
    unmanaged devices, add-on services as add-ons, projects as one-off items."""
    from tenfold.sales.models import DealSource
    from tenfold.sales.selectors import live_counts
    from tenfold.sales.services import deal_create, quote_addon_add, quote_create, quote_item_add

    client = meeting.client
    monthly = sum((r.amount for r in rows if r.kind == RecommendationKind.RECURRING), Decimal(0))
    one_off = sum((r.amount for r in rows if r.kind == RecommendationKind.ONE_OFF), Decimal(0))
    deal = deal_create(actor=actor, client=client, data={
        "title": _("Business review of %(date)s: recommendations") % {"date": f"{meeting.scheduled_at:%Y-%m-%d}"},
        "owner_id": meeting.account_manager_id, "source": DealSource.QBR, "monthly_value": monthly,
        "one_off_value": one_off, "close_date": timezone.localdate() + timedelta(days=30)})
    counts = live_counts(client)
    extra = sum(int(r.quantity) for r in rows if r.rule == "coverage")
    introduction = "\n".join(f"- {r.title}: {r.reason}" for r in rows)
    quote = quote_create(actor=actor, deal=deal, data={
        "offering_id": _offering_for(client, rows), "contact_id": meeting.decision_maker_id,
        "introduction": introduction, "workstations": counts.workstations + extra})
    for row in rows:
        if row.kind == RecommendationKind.ONE_OFF:
            quote_item_add(actor=actor, quote=quote, data={"description": row.title[:300], "quantity": row.quantity,
                                                           "unit_price": row.unit_price})
        elif row.service is not None and row.service.is_addon:
            quote_addon_add(actor=actor, quote=quote, data={"service_id": row.service_id, "per_unit": True,
                                                            "quantity": row.quantity, "unit_price": row.unit_price})
    return quote
