"""The measures variable pay and scorecards are computed from, read from the service desk, sales, contracts and
assets (never from reporting). Each returns its value, a text that explains it and links to the records behind
it. Definitions: docs/people.md."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tenfold.assets.models import Device, DeviceKind, DeviceState
from tenfold.clients.models import Client
from tenfold.contracts.models import Contract, ContractStatus
from tenfold.contracts.selectors import contract_lines
from tenfold.people.models import Employee, Measure, PeerReview, PeopleSettings, Training
from tenfold.sales.models import Deal, DealSource, DealStage, Lead, Quote, QuoteStatus
from tenfold.sales.selectors import quote_counts, tier_lines
from tenfold.servicedesk.models import Ticket, TimeEntry
from tenfold.servicedesk.models_surveys import SurveyResponse

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
HUNDRED = Decimal(100)
BACKUP_WINDOW = timedelta(days=7)
CRITERIA_FIELDS = ("sharing", "stepping_in", "communication", "reliability")


@dataclass(frozen=True)
class Period:
    """A range of days, both ends included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """Aware datetimes [start 00:00, day after end 00:00) in the current time zone."""
        tz = timezone.get_current_timezone()
        return (datetime.combine(self.start, time.min, tzinfo=tz),
                datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz))

    def overlap(self, start: date, end: date | None) -> Period | None:
        """The part of this period within [start, end] (end None: open), or None."""
        lo, hi = max(self.start, start), min(self.end, end) if end is not None else self.end
        return Period(lo, hi) if lo <= hi else None


def quarter_of(day: date) -> Period:
    """The calendar quarter holding `day`."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    nxt = date(day.year + (first_month + 3 > 12), (first_month + 2) % 12 + 1, 1)
    return Period(start, nxt - timedelta(days=1))


def previous_quarter(today: date | None = None) -> Period:
    """The last full quarter before the one holding today."""
    current = quarter_of(today or timezone.localdate())
    return quarter_of(current.start - timedelta(days=1))


@dataclass
class Measured:
    """A measure's value for one employee and period; `value` None means it could not be measured."""

    value: Decimal | None
    text: str
    records: list[dict[str, str]] = field(default_factory=list)


def people_settings() -> PeopleSettings:
    """The settings row (created with its defaults on first use)."""
    row, _created = PeopleSettings.objects.get_or_create(pk=1)
    return row


def _link(label: str, url: str) -> dict[str, str]:
    return {"label": label, "url": url}


def _ticket_links(ticket_ids: Iterable[int], limit: int = 25) -> list[dict[str, str]]:
    return [_link(_("Ticket #%(id)s") % {"id": pk}, reverse("servicedesk:ticket_detail", args=[pk]))
            for pk in list(ticket_ids)[:limit]]


def deal_link(deal_id: int) -> dict[str, str]:
    return _link(_("Deal #%(id)s") % {"id": deal_id}, reverse("sales:deal_detail", args=[deal_id]))


# --- Sales: what was sold, line by line ------------------------------------------------------------------------


@dataclass(frozen=True)
class SoldLine:
    """One service of a won deal, as the employee's share of its monthly recurring value."""

    deal_id: int
    won_on: date
    service_id: int | None
    service_name: str
    category: str
    monthly: Decimal
    share: Decimal  # a fraction: 1 for the whole deal
    is_new: bool


def _accepted_quote(deal: Deal) -> Quote | None:
    return (Quote.objects.filter(deal=deal, status=QuoteStatus.ACCEPTED, accepted_plan__isnull=False)
            .select_related("accepted_plan").order_by("-accepted_at", "-pk").first())


def _quote_lines(quote: Quote) -> list[Any]:
    addons = list(quote.addons.select_related("service").order_by("service__name", "pk"))
    return tier_lines(quote.accepted_plan, quote_counts(quote), addons)  # type: ignore[arg-type]


def _services_before(deal: Deal) -> tuple[set[int], bool]:
    """The services the client already bought before this deal was won (earlier won deals' accepted quotes and
    the client's other contracts that started before), and whether it had any contract then."""
    won_at = deal.closed_at or timezone.now()
    services: set[int] = set()
    earlier = Deal.objects.filter(client_id=deal.client_id, stage=DealStage.WON, closed_at__lt=won_at).exclude(
        pk=deal.pk)
    for other in earlier:
        quote = _accepted_quote(other)
        if quote is not None:
            services |= {line.service_id for line in _quote_lines(quote)}
    contracts = Contract.objects.filter(client_id=deal.client_id, start_date__lt=won_at.date(),
                                        status__in=[ContractStatus.ACTIVE, ContractStatus.ENDED])
    if deal.contract_id:
        contracts = contracts.exclude(pk=deal.contract_id)
    had_contract = False
    for contract in contracts.select_related("plan"):
        had_contract = True
        if contract.is_managed:
            services |= {line.service_id for line in contract_lines(contract)}
    return services, had_contract


def credited_deals(employee: Employee, period: Period) -> list[tuple[Deal, Decimal]]:
    """Deals won in the period credited to the employee, each with their share (a fraction): the deal's split
    rows when it has any, else the whole deal to its owner."""
    from tenfold.people.models import DealSplit

    lo, hi = period.bounds()
    won = Deal.objects.filter(stage=DealStage.WON, closed_at__gte=lo, closed_at__lt=hi)
    split_deals = set(DealSplit.objects.filter(deal__in=won).values_list("deal_id", flat=True))
    shares = {row.deal_id: row.share_pct / HUNDRED for row in
              DealSplit.objects.filter(deal__in=won, employee=employee)}
    result = []
    for deal in won.order_by("closed_at", "pk"):
        if deal.pk in split_deals:
            if deal.pk in shares:
                result.append((deal, shares[deal.pk]))
        elif deal.owner_id == employee.user_id:
            result.append((deal, Decimal(1)))
    return result


def sold_lines(employee: Employee, period: Period) -> list[SoldLine]:
    """The employee's share of every service of the deals won in the period: the accepted quote's tier and
    add-ons at the quote's counts, or the deal's monthly value as one line when it has no accepted quote."""
    lines: list[SoldLine] = []
    for deal, share in credited_deals(employee, period):
        won_on = timezone.localtime(deal.closed_at).date() if deal.closed_at else period.end
        before, had_contract = _services_before(deal)
        quote = _accepted_quote(deal)
        if quote is None:
            existing = had_contract or deal.source == DealSource.EXISTING_CLIENT
            lines.append(SoldLine(deal.pk, won_on, None, deal.title, "", deal.monthly_value, share, not existing))
            continue
        services = {line.service_id: line for line in _quote_lines(quote)}
        from tenfold.catalog.models import Service

        categories = dict(Service.objects.filter(pk__in=services).values_list("pk", "category"))
        for service_id, line in services.items():
            lines.append(SoldLine(deal.pk, won_on, service_id, line.name, categories.get(service_id, ""),
                                  line.revenue, share, service_id not in before))
    return lines


# --- Measures ---------------------------------------------------------------------------------------------------


def _pct(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def measure_csat(employee: Employee, period: Period) -> Measured:
    """Average of the answered surveys' scores (1–5) of tickets the employee closed."""
    lo, hi = period.bounds()
    rows = [(t, p or 0, a or 0, s or 0) for t, p, a, s in SurveyResponse.objects.filter(
        technician_id=employee.user_id, answered_at__gte=lo, answered_at__lt=hi).values_list(
        "ticket_id", "professionalism", "accuracy", "speed")]
    if not rows:
        return Measured(None, _("no survey answered"))
    total = sum((Decimal(p + a + s) for _t, p, a, s in rows), Decimal(0))
    value = (total / (3 * len(rows))).quantize(CENT, rounding=ROUND_HALF_UP)
    return Measured(value, _("%(value)s / 5 from %(n)s surveys") % {"value": value, "n": len(rows)},
                    _ticket_links(r[0] for r in rows))


def measure_sla(employee: Employee, period: Period) -> Measured:
    """Share of the employee's tickets resolved in the period under an SLA that met the resolution target."""
    lo, hi = period.bounds()
    tickets = list(Ticket.objects.filter(assignee_id=employee.user_id, resolved_at__gte=lo, resolved_at__lt=hi,
                                         sla_resolution_met__isnull=False).values_list("pk", "sla_resolution_met"))
    met = sum(1 for _pk, ok in tickets if ok)
    value = _pct(met, len(tickets))
    if value is None:
        return Measured(None, _("no ticket resolved under an SLA"))
    return Measured(value, _("%(met)s of %(n)s tickets within target") % {"met": met, "n": len(tickets)},
                    _ticket_links(pk for pk, _ok in tickets))


def assigned_clients(employee: Employee) -> list[int]:
    """The clients the employee is assigned to (their assigned clients, and those they are account manager of)."""
    user = employee.user
    ids = set(user.assigned_clients.values_list("pk", flat=True))  # type: ignore[attr-defined]
    ids |= set(Client.objects.filter(account_manager_id=user.pk).values_list("pk", flat=True))
    return sorted(ids)


def _client_links(client_ids: list[int]) -> list[dict[str, str]]:
    return [_link(_("Client #%(id)s") % {"id": pk}, reverse("clients:client_detail", args=[pk]))
            for pk in client_ids[:25]]


def measure_devices_managed(employee: Employee, period: Period) -> Measured:
    """Managed devices out of the assigned clients' devices in service (not retired), as they stand."""
    clients = assigned_clients(employee)
    devices = Device.objects.filter(client_id__in=clients).exclude(state=DeviceState.RETIRED)
    counts = devices.aggregate(total=Count("pk"), managed=Count("pk", filter=Q(managed=True)))
    value = _pct(counts["managed"], counts["total"])
    if value is None:
        return Measured(None, _("no device at the assigned clients"))
    return Measured(value, _("%(managed)s of %(total)s devices managed") % counts, _client_links(clients))


def measure_backed_up(employee: Employee, period: Period) -> Measured:
    """Servers and workstations of the assigned clients with a successful backup in the 7 days before the end of
    the period (or since)."""
    clients = assigned_clients(employee)
    _lo, hi = period.bounds()
    since = min(hi, timezone.now()) - BACKUP_WINDOW
    devices = Device.objects.filter(client_id__in=clients, kind__in=[
        DeviceKind.SERVER, DeviceKind.WORKSTATION, DeviceKind.LAPTOP]).exclude(state=DeviceState.RETIRED)
    counts = devices.aggregate(total=Count("pk"), backed=Count("pk", filter=Q(last_backup_at__gte=since)))
    value = _pct(counts["backed"], counts["total"])
    if value is None:
        return Measured(None, _("no server or workstation at the assigned clients"))
    return Measured(value, _("%(backed)s of %(total)s servers and workstations backed up") % counts,
                    _client_links(clients))


def measure_upsell_leads_won(employee: Employee, period: Period) -> Measured:
    """Leads credited to the employee whose deal was won in the period."""
    lo, hi = period.bounds()
    deals = list(Deal.objects.filter(lead__technician_id=employee.user_id, stage=DealStage.WON, closed_at__gte=lo,
                                     closed_at__lt=hi).values_list("pk", flat=True))
    return Measured(Decimal(len(deals)), _("%(n)s leads won") % {"n": len(deals)}, [deal_link(d) for d in deals])


def peer_review_aggregate(employee: Employee, period: Period | None = None,
                          cycle_id: int | None = None) -> dict[str, Any]:
    """Per-criterion averages of the reviews of the employee in the cycles ending in the period (or one cycle),
    with the number of reviewers; `shown` is False below the minimum, and then no score is given at all."""
    reviews = PeerReview.objects.filter(reviewee=employee)
    if cycle_id is not None:
        reviews = reviews.filter(cycle_id=cycle_id)
    if period is not None:
        reviews = reviews.filter(cycle__end_date__gte=period.start, cycle__end_date__lte=period.end)
    reviewers = reviews.values("reviewer_id").distinct().count()
    minimum = people_settings().min_reviewers
    if reviewers < minimum:
        return {"shown": False, "reviewers": reviewers, "minimum": minimum, "criteria": {}, "score": None}
    sums = reviews.aggregate(n=Count("pk"), **{name: Sum(name) for name in CRITERIA_FIELDS})
    n = sums["n"]
    criteria = {name: (Decimal(sums[name]) / n).quantize(CENT, rounding=ROUND_HALF_UP) for name in CRITERIA_FIELDS}
    score = (sum(Decimal(sums[name]) for name in CRITERIA_FIELDS) / (n * len(CRITERIA_FIELDS))).quantize(
        CENT, rounding=ROUND_HALF_UP)
    return {"shown": True, "reviewers": reviewers, "minimum": minimum, "criteria": criteria, "score": score}


def measure_peer_review(employee: Employee, period: Period) -> Measured:
    """Average of every criterion of the reviews received in the cycles ending in the period (shown only from
    the minimum number of reviewers)."""
    agg = peer_review_aggregate(employee, period)
    link = [_link(_("Peer-review summary"), reverse("people:employee_detail", args=[employee.pk]) + "#reviews")]
    if not agg["shown"]:
        return Measured(None, _("not enough reviewers (%(n)s, minimum %(min)s)") % {
            "n": agg["reviewers"], "min": agg["minimum"]}, link)
    return Measured(agg["score"], _("%(score)s / 5 from %(n)s reviewers") % {
        "score": agg["score"], "n": agg["reviewers"]}, link)


def measure_training_hours(employee: Employee, period: Period) -> Measured:
    """Hours of the trainings and certifications dated in the period."""
    hours = Training.objects.filter(employee=employee, date__gte=period.start, date__lte=period.end).aggregate(
        h=Sum("hours"))["h"] or Decimal("0.00")
    return Measured(Decimal(hours), _("%(h)s hours") % {"h": hours},
                    [_link(_("Trainings"), reverse("people:employee_detail", args=[employee.pk]) + "#trainings")])


def measure_recurring_value(employee: Employee, period: Period) -> Measured:
    """The employee's share of the monthly recurring value of the deals won in the period."""
    lines = sold_lines(employee, period)
    value = sum((line.monthly * line.share for line in lines), Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)
    deals = sorted({line.deal_id for line in lines})
    return Measured(value, _("%(value)s per month from %(n)s deals") % {"value": value, "n": len(deals)},
                    [deal_link(d) for d in deals])


MEASURES = {
    Measure.CSAT: measure_csat,
    Measure.SLA: measure_sla,
    Measure.DEVICES_MANAGED: measure_devices_managed,
    Measure.BACKED_UP: measure_backed_up,
    Measure.UPSELL_LEADS_WON: measure_upsell_leads_won,
    Measure.PEER_REVIEW: measure_peer_review,
    Measure.TRAINING_HOURS: measure_training_hours,
    Measure.RECURRING_VALUE: measure_recurring_value,
}


def measure(name: str, employee: Employee, period: Period) -> Measured:
    """One measure of one employee over a period."""
    return MEASURES[name](employee, period)  # type: ignore[index]


# --- Scorecard -------------------------------------------------------------------------------------------------


def working_days(period: Period) -> int:
    """Monday to Friday days in the period."""
    return sum(1 for i in range(period.days) if (period.start + timedelta(days=i)).weekday() < 5)


def scorecard(employee: Employee, period: Period, visible_clients: Iterable[int] | None = None) -> dict[str, Any]:
    """The technician scorecard: tickets handled, average handling time per client (only clients in
    `visible_clients` are named), SLA, CSAT, upsell leads raised and won, peer review, training, utilisation."""
    lo, hi = period.bounds()
    handled = Ticket.objects.filter(assignee_id=employee.user_id, resolved_at__gte=lo, resolved_at__lt=hi)
    entries = TimeEntry.objects.filter(user_id=employee.user_id, started_at__gte=lo, started_at__lt=hi)
    per_client = (entries.exclude(ticket__isnull=True).values("client_id", "client__name")
                  .annotate(minutes=Sum("actual_minutes"), tickets=Count("ticket_id", distinct=True))
                  .order_by("client__name"))
    visible = None if visible_clients is None else set(visible_clients)
    handling = [{"client_id": row["client_id"], "client": row["client__name"], "tickets": row["tickets"],
                 "average_minutes": (Decimal(row["minutes"] or 0) / row["tickets"]).quantize(TENTH, ROUND_HALF_UP)}
                for row in per_client if row["tickets"] and (visible is None or row["client_id"] in visible)]
    billable_minutes = entries.filter(billable=True).aggregate(m=Sum("billable_minutes"))["m"] or 0
    settings_row = people_settings()
    available = Decimal(working_days(period)) * settings_row.hours_per_day
    billable_hours = (Decimal(billable_minutes) / 60).quantize(CENT, ROUND_HALF_UP)
    raised = Lead.objects.filter(technician_id=employee.user_id, created_at__gte=lo, created_at__lt=hi).count()
    return {
        "period": period,
        "tickets_handled": handled.count(),
        "handling": handling,
        "sla": measure_sla(employee, period),
        "csat": measure_csat(employee, period),
        "leads_raised": raised,
        "leads_won": measure_upsell_leads_won(employee, period),
        "peer_review": peer_review_aggregate(employee, period),
        "training_hours": measure_training_hours(employee, period),
        "billable_hours": billable_hours,
        "available_hours": available,
        "utilisation": (billable_hours * HUNDRED / available).quantize(TENTH, ROUND_HALF_UP) if available else None,
    }
