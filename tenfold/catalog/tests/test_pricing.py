"""The pricing rules with exact Decimal values: lines, lower-tier inheritance, add-ons, rounding, the cost
model, sensitivity and the tier ladder."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tenfold.catalog import pricing
from tenfold.catalog.pricing import Line, UnitCounts, cost_model, ladder, plan_items, plan_lines, sensitivity
from tenfold.catalog.tests.factories import include, make_offering, make_plan, make_service

D = Decimal
RATE = D("45.00")
REFERENCE = UnitCounts(workstations=20, servers=2, users=20, sites=1)


@pytest.fixture
def workplace(db: object) -> dict:
    """Good: monitoring + server monitoring; Better: + antivirus, patching, monitoring at 27 €; Best: + backup."""
    mon = make_service("mon", price="25.00", cost="3.00", minutes="10")
    srv = make_service("srv-mon", price="60.00", cost="6.00", minutes="30", unit="server")
    av = make_service("av", price="7.00", cost="2.50", minutes="3")
    patch = make_service("patch", price="5.00", cost="0.50", minutes="6")
    backup = make_service("backup", price="40.00", cost="15.00", minutes="20", unit="server")
    m365 = make_service("m365-backup", price="3.00", cost="1.20", minutes="0.5", unit="user", is_addon=True)
    offering = make_offering()
    good, better, best = (make_plan(offering, t) for t in ("good", "better", "best"))
    include(good, mon)
    include(good, srv)
    include(better, av)
    include(better, patch)
    include(better, mon, "27.00")
    include(best, backup)
    return {"good": good, "better": better, "best": best, "mon": mon, "m365": m365, "av": av, "offering": offering}


def test_unit_counts_quantity_per_unit_and_flat_is_one() -> None:
    counts = UnitCounts(workstations=12, servers=3, network_devices=4, mobiles=5, users=14, sites=2)
    assert [counts.quantity(u) for u in ("workstation", "server", "network_device", "mobile", "user", "site",
                                         "flat")] == [D(12), D(3), D(4), D(5), D(14), D(2), D(1)]
    with pytest.raises(ValueError):
        counts.quantity("printer")


def test_unit_counts_refuse_negative_and_non_integer_counts() -> None:
    with pytest.raises(ValueError):
        UnitCounts(workstations=-1)
    with pytest.raises(TypeError):
        UnitCounts(users=D("1.5"))  # type: ignore[arg-type]


def test_plan_items_include_lower_tiers_and_nearest_tier_sets_the_price(workplace: dict) -> None:
    # when listing each tier's items
    good = [(i.service.code, i.unit_price, i.plan.tier) for i in plan_items(workplace["good"])]
    better = [(i.service.code, i.unit_price, i.plan.tier) for i in plan_items(workplace["better"])]
    best = [(i.service.code, i.unit_price, i.plan.tier) for i in plan_items(workplace["best"])]
    # then Good has its own, Better overrides monitoring at 27 € and Best inherits Better's price
    assert good == [("mon", D("25.00"), "good"), ("srv-mon", D("60.00"), "good")]
    assert better == [("mon", D("27.00"), "better"), ("srv-mon", D("60.00"), "good"), ("av", D("7.00"), "better"),
                      ("patch", D("5.00"), "better")]
    assert best == [*better, ("backup", D("40.00"), "best")]


def test_plan_items_ignore_other_offerings(workplace: dict) -> None:
    other = make_offering("Servers only")
    include(make_plan(other, "good"), workplace["av"], "9.00")
    assert [i.service.code for i in plan_items(workplace["good"])] == ["mon", "srv-mon"]


def test_cost_model_of_each_tier_at_reference_counts(workplace: dict) -> None:
    # Good: 20×25 + 2×60 = 620; tools 20×3 + 2×6 = 72; labour 260 min = 4.333 h × 45 = 195.00
    good = cost_model(plan_lines(workplace["good"], REFERENCE), RATE)
    assert good == pricing.CostModel(revenue=D("620.00"), tool_cost=D("72.00"), labour_cost=D("195.00"),
                                     margin=D("353.00"), margin_pct=D("56.9"), labour_hours=D("4.33"))
    better = cost_model(plan_lines(workplace["better"], REFERENCE), RATE)
    assert (better.revenue, better.tool_cost, better.labour_cost, better.margin, better.margin_pct) == (
        D("900.00"), D("132.00"), D("330.00"), D("438.00"), D("48.7"))
    best = cost_model(plan_lines(workplace["best"], REFERENCE), RATE)
    assert (best.revenue, best.tool_cost, best.labour_cost, best.margin, best.margin_pct) == (
        D("980.00"), D("162.00"), D("360.00"), D("458.00"), D("46.7"))


def test_addons_at_list_price_or_given_price_and_never_twice(workplace: dict) -> None:
    # given the Good plan with the Microsoft 365 backup add-on (20 users) and, wrongly, monitoring again
    lines = plan_lines(workplace["good"], REFERENCE, [(workplace["m365"], None), (workplace["mon"], D("1.00"))])
    # then the add-on is one line at 20 × 3.00 and monitoring is charged once, at the plan's price
    assert [(line.name, line.quantity, line.unit_price, line.is_addon) for line in lines] == [
        ("Mon", D(20), D("25.00"), False), ("Srv mon", D(2), D("60.00"), False),
        ("M365 backup", D(20), D("3.00"), True)]
    discounted = plan_lines(workplace["good"], REFERENCE, [(workplace["m365"], D("2.50"))])
    assert cost_model(discounted, RATE).revenue == D("670.00")


def test_rounding_happens_once_at_the_end_half_up() -> None:
    # three lines of 1 minute at 0.40 €/h: 0.00667 each; rounded per line it would be 0.03
    lines = [Line(service_id=i, name="x", unit="flat", quantity=D(1), unit_price=D("0"), unit_cost=D("0"),
                  labour_minutes=D(1)) for i in range(3)]
    assert cost_model(lines, D("0.40")).labour_cost == D("0.02")
    # a half cent rounds up (0.745 → 0.75), not to even
    one = [Line(service_id=1, name="x", unit="flat", quantity=D(1), unit_price=D("1.00"), unit_cost=D("0"),
                labour_minutes=D(1))]
    model = cost_model(one, D("44.70"))
    assert (model.labour_cost, model.margin, model.margin_pct) == (D("0.75"), D("0.25"), D("25.0"))


def test_empty_plan_has_no_margin_percentage() -> None:
    model = cost_model([], RATE)
    assert (model.revenue, model.margin, model.margin_pct) == (D("0.00"), D("0.00"), None)
    assert pricing.profit_leverage(model) is None


def test_seed_point_one_euro_on_hundred_is_ten_percent_profit() -> None:
    # given a flat service sold 100 € that costs 90 €: a 10 € (10 %) margin
    lines = [Line(service_id=1, name="Support", unit="flat", quantity=D(1), unit_price=D("100.00"),
                  unit_cost=D("90.00"), labour_minutes=D(0))]
    model = cost_model(lines, RATE)
    rows = {row.key: (row.profit_change, row.profit_change_pct) for row in sensitivity(lines, RATE)}
    # then +1 € (= +1 %) is +10 % profit, and the leverage says so
    assert (model.margin, model.margin_pct) == (D("10.00"), D("10.0"))
    assert rows["+1"] == (D("1.00"), D("10.0"))
    assert rows["+1%"] == (D("1.00"), D("10.0"))
    assert rows["-1%"] == (D("-1.00"), D("-10.0"))
    assert pricing.profit_leverage(model) == D("10.0")


def test_sensitivity_of_good_plan(workplace: dict) -> None:
    lines = plan_lines(workplace["good"], REFERENCE)
    rows = {row.key: (row.revenue, row.profit_change, row.profit_change_pct) for row in sensitivity(lines, RATE)}
    # ±1 % of 620 is ±6.20 (1.8 % of 353); ±1 € on 22 units (20 workstations, 2 servers) is ±22 (6.2 %)
    assert rows == {"-1%": (D("613.80"), D("-6.20"), D("-1.8")), "+1%": (D("626.20"), D("6.20"), D("1.8")),
                    "-1": (D("598.00"), D("-22.00"), D("-6.2")), "+1": (D("642.00"), D("22.00"), D("6.2"))}


def test_sensitivity_percent_is_of_the_size_of_a_loss() -> None:
    # given a plan losing 10 € a month, +1 € is a 10 % improvement (not −10 %)
    lines = [Line(service_id=1, name="x", unit="flat", quantity=D(1), unit_price=D("50.00"), unit_cost=D("60.00"),
                  labour_minutes=D(0))]
    rows = {row.key: row.profit_change_pct for row in sensitivity(lines, RATE)}
    assert rows["+1"] == D("10.0")
    assert pricing.profit_leverage(cost_model(lines, RATE)) is None


def test_ladder_steps_between_tiers(workplace: dict) -> None:
    rungs = ladder([workplace["best"], workplace["good"], workplace["better"]], REFERENCE, RATE)
    assert [(r.plan.tier, r.model.revenue, r.step, r.step_pct) for r in rungs] == [
        ("good", D("620.00"), None, None), ("better", D("900.00"), D("280.00"), D("45.2")),
        ("best", D("980.00"), D("80.00"), D("8.9"))]


def test_loaded_hourly_cost_drives_labour(workplace: dict) -> None:
    lines = plan_lines(workplace["good"], REFERENCE)
    assert cost_model(lines, D("60.00")).labour_cost == D("260.00")
    assert cost_model(lines, D("0")).margin == D("548.00")
