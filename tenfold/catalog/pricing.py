"""The price and cost of a plan at given unit counts: lines, cost model, sensitivity, tier ladder.

Rules (docs/architecture.md, "Pricing"):
- A plan includes the items of the lower tiers of its offering (Better = Good + its own items). When
  several tiers list the same service, the item of the tier nearest the plan (the plan itself first)
  sets the price.
- Quantities come from the unit counts by the service's unit; a flat service counts 1.
- An add-on is charged at the given price, or its list price when none is given; an add-on that the
  plan already includes is not charged twice.
- Money is Decimal throughout. Nothing is rounded per line: revenue, tool cost and labour cost are
  summed exactly and each rounded once, at the end, to the cent with ROUND_HALF_UP; the margin is
  the difference of those rounded totals (so the figures shown add up), and the margin percentage is
  rounded to 0.1 with ROUND_HALF_UP.
- Labour cost = Σ(quantity × labour minutes) / 60 × loaded hourly cost (organization settings).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from tenfold.core.tiers import Tier

if TYPE_CHECKING:
    from tenfold.catalog.models import Plan, PlanItem, Service

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
ZERO = Decimal("0")
HUNDRED = Decimal("100")
SIXTY = Decimal("60")


def money(value: Decimal) -> Decimal:
    """A sum of money rounded to the cent, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole in percent, to 0.1 half up; None when whole is 0."""
    if whole == 0:
        return None
    return (part * HUNDRED / whole).quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class UnitCounts:
    """How many units of each kind a client has (or a quote assumes)."""

    workstations: int = 0
    servers: int = 0
    network_devices: int = 0
    mobiles: int = 0
    users: int = 0
    sites: int = 0

    def __post_init__(self) -> None:
        for name in ("workstations", "servers", "network_devices", "mobiles", "users", "sites"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
            if value < 0:
                raise ValueError(f"{name} cannot be negative ({value})")

    def quantity(self, unit: str) -> Decimal:
        """The quantity billed for a service counted by `unit` (a UnitKind value); flat is 1."""
        if unit == "flat":
            return Decimal(1)
        field = _UNIT_FIELDS.get(unit)
        if field is None:
            raise ValueError(f"unknown unit {unit!r}")
        return Decimal(getattr(self, field))


_UNIT_FIELDS = {"workstation": "workstations", "server": "servers", "network_device": "network_devices",
                "mobile": "mobiles", "user": "users", "site": "sites"}

DEFAULT_REFERENCE = UnitCounts(workstations=20, servers=2, users=20, sites=1)


@dataclass(frozen=True)
class Line:
    """One service at a quantity, with its price and what one unit costs to deliver per month."""

    service_id: int
    name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    unit_cost: Decimal
    labour_minutes: Decimal
    is_addon: bool = False
    tier: str = ""

    @property
    def revenue(self) -> Decimal:
        """quantity × unit price (exact, not rounded)."""
        return self.quantity * self.unit_price

    @property
    def tool_cost(self) -> Decimal:
        """quantity × tool cost per unit (exact)."""
        return self.quantity * self.unit_cost

    @property
    def total_labour_minutes(self) -> Decimal:
        """quantity × labour minutes per unit (exact)."""
        return self.quantity * self.labour_minutes


@dataclass(frozen=True)
class CostModel:
    """Monthly revenue, costs and margin of a set of lines."""

    revenue: Decimal
    tool_cost: Decimal
    labour_cost: Decimal
    margin: Decimal
    margin_pct: Decimal | None
    labour_hours: Decimal = ZERO

    @property
    def total_cost(self) -> Decimal:
        """Tool cost plus labour cost."""
        return self.tool_cost + self.labour_cost


def plan_items(plan: Plan) -> list[PlanItem]:
    """The plan's own items plus those of the lower tiers of its offering; for a service listed by
    several tiers, the item of the tier nearest the plan wins. Ordered from the lowest tier up, then by
    service name."""
    return nearest_items(plan, offering_items([plan.offering_id]))


def offering_items(offering_ids: Iterable[int]) -> list[PlanItem]:
    """Every plan item of these offerings, with plan and service (one query)."""
    from tenfold.catalog.models import PlanItem

    return list(PlanItem.objects.filter(plan__offering_id__in=list(offering_ids)).select_related("plan", "service"))


def nearest_items(plan: Plan, items: Iterable[PlanItem]) -> list[PlanItem]:
    """plan_items() computed from already fetched items (those of other offerings are ignored)."""
    rank = Tier.rank(plan.tier)
    own = [i for i in items if i.plan.offering_id == plan.offering_id and Tier.rank(i.plan.tier) <= rank]
    chosen: dict[int, PlanItem] = {}
    first_rank: dict[int, int] = {}
    for item in sorted(own, key=lambda i: Tier.rank(i.plan.tier)):
        chosen[item.service_id] = item  # a nearer tier replaces a lower one
        first_rank.setdefault(item.service_id, Tier.rank(item.plan.tier))
    return sorted(chosen.values(), key=lambda i: (first_rank[i.service_id], i.service.name.lower(), i.service_id))


def line_for(service: Service, counts: UnitCounts, unit_price: Decimal, *, is_addon: bool = False,
             tier: str = "") -> Line:
    """One service's line at the given counts and price."""
    return Line(service_id=service.pk, name=service.name, unit=service.unit, quantity=counts.quantity(service.unit),
                unit_price=Decimal(unit_price), unit_cost=service.unit_cost, labour_minutes=service.labour_minutes,
                is_addon=is_addon, tier=tier)


def plan_lines(plan: Plan, counts: UnitCounts,
               addons: Iterable[tuple[Service, Decimal | None]] = (),
               items: Iterable[PlanItem] | None = None) -> list[Line]:
    """The lines of a plan (its items and its lower tiers') at the given counts, then the add-ons.
    `items`, when given, are the offering's items already fetched (see offering_items)."""
    chosen = plan_items(plan) if items is None else nearest_items(plan, items)
    lines = [line_for(item.service, counts, item.unit_price, tier=item.plan.tier) for item in chosen]
    included = {line.service_id for line in lines}
    for service, price in addons:
        if service.pk in included:
            continue
        included.add(service.pk)
        lines.append(line_for(service, counts, service.list_price if price is None else price, is_addon=True))
    return lines


def cost_model(lines: Iterable[Line], loaded_hourly_cost: Decimal) -> CostModel:
    """Revenue, tool cost, labour cost and margin of the lines (rounded once, see the module docstring)."""
    lines = list(lines)
    revenue = money(sum((line.revenue for line in lines), ZERO))
    tool_cost = money(sum((line.tool_cost for line in lines), ZERO))
    minutes = sum((line.total_labour_minutes for line in lines), ZERO)
    labour_cost = money(minutes / SIXTY * Decimal(loaded_hourly_cost))
    margin = revenue - tool_cost - labour_cost
    return CostModel(revenue=revenue, tool_cost=tool_cost, labour_cost=labour_cost, margin=margin,
                     margin_pct=percent(margin, revenue), labour_hours=money(minutes / SIXTY))


@dataclass(frozen=True)
class Sensitivity:
    """How profit moves when every price moves: change in money and in percent of current profit."""

    label: str
    key: str
    revenue: Decimal
    profit_change: Decimal
    profit_change_pct: Decimal | None


def sensitivity(lines: list[Line], loaded_hourly_cost: Decimal) -> list[Sensitivity]:
    """Profit change for every unit price −1 %, +1 %, −1 € and +1 € (costs unchanged).

    The percentage is of the current profit's size (|margin|), so a rise reads as a positive change
    even when the current margin is negative; None when the margin is 0. A price below 1 € moved by −1 €
    stops at 0."""
    base = cost_model(lines, loaded_hourly_cost)
    moves = [
        ("-1%", "−1\u00a0%", lambda p: p * Decimal("0.99")),
        ("+1%", "+1\u00a0%", lambda p: p * Decimal("1.01")),
        ("-1", "−1", lambda p: max(p - 1, ZERO)),
        ("+1", "+1", lambda p: p + 1),
    ]
    result = []
    for key, label, move in moves:
        moved = cost_model([replace(line, unit_price=move(line.unit_price)) for line in lines], loaded_hourly_cost)
        change = moved.margin - base.margin
        result.append(Sensitivity(label=label, key=key, revenue=moved.revenue, profit_change=change,
                                  profit_change_pct=percent(change, abs(base.margin))))
    return result


def profit_leverage(model: CostModel) -> Decimal | None:
    """The profit change in percent for a 1 % price rise: revenue / margin (10 at a 10 % margin); None
    when there is no profit to speak of."""
    if model.margin <= 0:
        return None
    return percent(model.revenue, model.margin * HUNDRED)


@dataclass(frozen=True)
class Rung:
    """One tier of an offering at reference counts, and how much more it costs than the tier below."""

    plan: Plan
    model: CostModel
    step: Decimal | None
    step_pct: Decimal | None


def ladder(plans: Iterable[Plan], counts: UnitCounts, loaded_hourly_cost: Decimal,
           items: Iterable[PlanItem] | None = None) -> list[Rung]:
    """The plans of one offering from Good up, each priced at `counts`, with the step over the one below."""
    plans = sorted(plans, key=lambda p: Tier.rank(p.tier))
    fetched = list(items) if items is not None else offering_items({p.offering_id for p in plans})
    rungs: list[Rung] = []
    for plan in plans:
        model = cost_model(plan_lines(plan, counts, items=fetched), loaded_hourly_cost)
        below = rungs[-1].model.revenue if rungs else None
        step = None if below is None else model.revenue - below
        rungs.append(Rung(plan=plan, model=model, step=step,
                          step_pct=None if below is None or step is None else percent(step, below)))
    return rungs
