"""Variable pay, exactly: each rule type, thresholds, caps, floors, splits, new vs existing services, a plan
changed mid-quarter, and a locked statement that no later data changes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tenfold.accounts.testing import make_staff
from tenfold.core.errors import Conflict, ValidationError
from tenfold.core.models import AuditEntry
from tenfold.people import services
from tenfold.people.compensation import alignment_warnings, compute_pay, preview
from tenfold.people.measures import Period
from tenfold.people.models import DealSplit, PeerReview, PlanRule, ReviewCycle, StatementLine, Training
from tenfold.people.tests.factories import (
    Q1,
    add_rule,
    answered_survey,
    at,
    make_client,
    make_employee,
    make_plan,
    won_deal,
)
from tenfold.sales.models import QuoteStatus
from tenfold.sales.tests.factories import make_catalog, make_quote

pytestmark = pytest.mark.django_db
QUARTER = Period(*Q1)


def amounts(lines: list) -> list[Decimal]:
    return [line.amount for line in lines]


def test_commission_weighs_new_services_above_existing_ones_per_service_and_category() -> None:
    # given a salesperson, the catalog (12 workstations, 2 servers) with backup in the backup category
    catalog = make_catalog()
    catalog["best"].items.get().service.__class__.objects.filter(code="srv-backup").update(category="backup")
    seller = make_employee("account_manager", plan_role="salesperson")
    client = make_client()
    # and a first deal won on 10 February in the Better tier: 300 + 120 + 72 + 48 = 540 € a month, all new
    first = won_deal(client, seller.user, date(2026, 2, 10), "540.00")
    make_quote(first, catalog["offering"], status=QuoteStatus.ACCEPTED, accepted_plan=catalog["better"],
               accepted_tier="better", accepted_at=at(date(2026, 2, 10)))
    # and an upsell on 5 March to Best: 650 € a month, of which only server backup (110 €) is new
    second = won_deal(client, seller.user, date(2026, 3, 5), "650.00")
    make_quote(second, catalog["offering"], status=QuoteStatus.ACCEPTED, accepted_plan=catalog["best"],
               accepted_tier="best", accepted_at=at(date(2026, 3, 5)))
    plan = make_plan("salesperson")
    add_rule(plan, "commission", "recurring_value", rate_pct="10", basis="first_year", applies_to="new")
    add_rule(plan, "commission", "recurring_value", rate_pct="2", basis="monthly", applies_to="existing")
    add_rule(plan, "commission", "recurring_value", rate_pct="5", basis="monthly", category="backup")

    # when the quarter is computed
    lines = compute_pay(seller, QUARTER)

    # then new: (540 + 110) × 12 × 10 % = 780.00; existing: 540 × 2 % = 10.80; backup: 110 × 5 % = 5.50
    assert amounts(lines) == [Decimal("780.00"), Decimal("10.80"), Decimal("5.50")]
    assert [line.value for line in lines] == [Decimal("7800.00"), Decimal("540.00"), Decimal("110.00")]
    assert lines[0].records[0]["url"] == f"/sales/deals/{first.pk}/"


def test_split_shares_a_deal_and_the_owner_without_a_share_gets_nothing() -> None:
    # given a 1 000 € monthly deal owned by A, split 60 / 40 between B and C
    a, b, c = (make_employee("account_manager", plan_role="salesperson") for _ in range(3))
    deal = won_deal(make_client(), a.user, date(2026, 1, 20), "1000.00")
    owner = make_staff("owner", mfa=False)
    services.splits_set(actor=owner, deal=deal, shares=[{"employee_id": b.pk, "share_pct": "60"},
                                                        {"employee_id": c.pk, "share_pct": "40"}])
    plan = make_plan("salesperson")
    add_rule(plan, "commission", "recurring_value", rate_pct="10")

    # then 10 % of each share
    assert amounts(compute_pay(b, QUARTER)) == [Decimal("60.00")]
    assert amounts(compute_pay(c, QUARTER)) == [Decimal("40.00")]
    assert amounts(compute_pay(a, QUARTER)) == [Decimal("0.00")]


def test_split_not_adding_up_to_100_is_refused_and_changes_nothing() -> None:
    a, b = make_employee(plan_role="salesperson"), make_employee(plan_role="salesperson")
    deal = won_deal(make_client(), a.user, date(2026, 1, 20), "1000.00")
    owner = make_staff("owner", mfa=False)
    services.splits_set(actor=owner, deal=deal, shares=[{"employee_id": a.pk, "share_pct": "100"}])
    for shares in ([{"employee_id": a.pk, "share_pct": "60"}, {"employee_id": b.pk, "share_pct": "30"}],
                   [{"employee_id": a.pk, "share_pct": "-10"}],
                   [{"employee_id": a.pk, "share_pct": "50"}, {"employee_id": a.pk, "share_pct": "50"}]):
        with pytest.raises(ValidationError):
            services.splits_set(actor=owner, deal=deal, shares=shares)
    assert list(DealSplit.objects.values_list("employee_id", "share_pct")) == [(a.pk, Decimal("100.00"))]


def test_threshold_pays_the_highest_step_reached() -> None:
    # given CSAT steps: from 4.0 → 100 €, from 4.5 → 300 €
    tech = make_employee()
    client = make_client()
    plan = make_plan()
    add_rule(plan, "threshold", "csat", steps=[{"from": "4.0", "amount": "100"}, {"from": "4.5", "amount": "300"}])
    for scores in ((5, 5, 4), (4, 4, 4), (5, 4, 5)):
        answered_survey(client, tech.user, date(2026, 2, 1), scores)
    # then 40 / 9 = 4.44 → the first step
    line = compute_pay(tech, QUARTER)[0]
    assert (line.value, line.amount) == (Decimal("4.44"), Decimal("100.00"))
    # when one more perfect survey comes: 55 / 12 = 4.58 → the second step
    answered_survey(client, tech.user, date(2026, 3, 1), (5, 5, 5))
    line = compute_pay(tech, QUARTER)[0]
    assert (line.value, line.amount) == (Decimal("4.58"), Decimal("300.00"))
    # and a survey of another quarter does not count
    answered_survey(client, tech.user, date(2026, 4, 2), (1, 1, 1))
    assert compute_pay(tech, QUARTER)[0].amount == Decimal("300.00")


def test_linear_scale_cap_and_floor() -> None:
    # given training hours paid 0 € at 0 h up to 400 € at 40 h
    tech = make_employee()
    plan = make_plan()
    linear = add_rule(plan, "linear", "training_hours", linear_start="0", linear_end="40", linear_amount="400")
    Training.objects.create(employee=tech, title="Windows Server", hours=Decimal("13.5"), date=date(2026, 2, 3))
    assert amounts(compute_pay(tech, QUARTER)) == [Decimal("135.00")]
    # when capped at 120
    PlanRule.objects.filter(pk=linear.pk).update(cap=Decimal("120.00"))
    assert amounts(compute_pay(tech, QUARTER)) == [Decimal("120.00")]
    # and above the end of the scale it stays at the end amount (then the cap)
    Training.objects.create(employee=tech, title="Networking", hours=Decimal("50"), date=date(2026, 3, 3))
    PlanRule.objects.filter(pk=linear.pk).update(cap=None)
    assert amounts(compute_pay(tech, QUARTER)) == [Decimal("400.00")]
    # and a floor pays its minimum when the measure is low
    Training.objects.all().delete()
    PlanRule.objects.filter(pk=linear.pk).update(floor=Decimal("50.00"))
    assert amounts(compute_pay(tech, QUARTER)) == [Decimal("50.00")]


def test_plan_changed_mid_quarter_is_paid_per_segment() -> None:
    """Commissions follow the plan in force on the day the deal is won; bonuses are measured over the quarter
    and paid pro rata of the days each plan is in force; caps are pro-rated the same way."""
    seller = make_employee("account_manager", plan_role="salesperson")
    old = make_plan("salesperson", date(2025, 1, 1), date(2026, 2, 9), name="Old")  # 1 Jan–9 Feb: 40 days
    new = make_plan("salesperson", date(2026, 2, 10), name="New")  # 10 Feb–31 Mar: 50 days
    add_rule(old, "commission", "recurring_value", rate_pct="10")
    add_rule(old, "threshold", "training_hours", steps=[{"from": "0", "amount": "300"}], cap="90")
    add_rule(new, "commission", "recurring_value", rate_pct="20")
    add_rule(new, "threshold", "training_hours", steps=[{"from": "0", "amount": "600"}])
    client = make_client()
    won_deal(client, seller.user, date(2026, 2, 9), "1000.00")
    won_deal(client, seller.user, date(2026, 2, 10), "500.00")

    lines = compute_pay(seller, QUARTER)

    # old: 1 000 × 10 % = 100.00; 300 capped at 90, × 40/90 = 40.00
    # new: 500 × 20 % = 100.00; 600 × 50/90 = 333.33
    assert [(line.plan_name, line.amount) for line in lines] == [
        ("Old", Decimal("100.00")), ("Old", Decimal("40.00")), ("New", Decimal("100.00")), ("New", Decimal("333.33"))]
    assert (lines[1].segment.days, lines[3].segment.days) == (40, 50)


def test_overlapping_plans_of_a_role_are_refused() -> None:
    owner = make_staff("owner", mfa=False)
    services.plan_create(actor=owner, data={"name": "A", "plan_role": "technician",
                                            "effective_from": date(2026, 1, 1), "effective_to": None, "notes": ""})
    with pytest.raises(ValidationError, match="already in force"):
        services.plan_create(actor=owner, data={"name": "B", "plan_role": "technician",
                                                "effective_from": date(2026, 3, 1), "effective_to": None,
                                                "notes": ""})


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"kind": "commission", "measure": "recurring_value", "rate_pct": "-1"}, "rate_pct", "cannot be negative"),
    ({"kind": "threshold", "measure": "csat", "steps": [{"from": "4", "amount": "1"}, {"from": "4", "amount": "2"}]},
     "steps", "cannot overlap"),
    ({"kind": "threshold", "measure": "csat", "steps": [{"from": "4.5", "amount": "1"}, {"from": "4", "amount": "2"}]},
     "steps", "cannot overlap"),
    ({"kind": "threshold", "measure": "csat", "steps": [{"from": "4", "amount": "-5"}]}, "steps", "negative"),
    ({"kind": "linear", "measure": "sla", "linear_start": "90", "linear_end": "80", "linear_amount": "100"},
     "linear_end", "end above"),
    ({"kind": "linear", "measure": "sla", "linear_start": "80", "linear_end": "100", "linear_amount": "100",
      "cap": "50", "floor": "80"}, "cap", "cap cannot be below the floor"),
    ({"kind": "commission", "measure": "csat", "rate_pct": "5"}, "measure", "percentage of the recurring value"),
])
def test_bad_rules_are_refused_with_a_clear_message_and_change_nothing(data: dict, field: str, message: str) -> None:
    owner = make_staff("owner", mfa=False)
    plan = make_plan()
    audits = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.rule_create(actor=owner, plan=plan, data={"label": "Bad", **data})
    assert message in " ".join(caught.value.errors[field])
    assert PlanRule.objects.count() == 0
    assert AuditEntry.objects.count() == audits


def test_peer_review_score_needs_the_minimum_number_of_reviewers() -> None:
    tech = make_employee()
    plan = make_plan()
    add_rule(plan, "threshold", "peer_review", steps=[{"from": "3", "amount": "200"}])
    cycle = ReviewCycle.objects.create(name="Q1", start_date=date(2026, 1, 1), end_date=date(2026, 3, 31))
    for _ in range(2):
        PeerReview.objects.create(cycle=cycle, reviewer=make_employee(), reviewee=tech, sharing=4, stepping_in=4,
                                  communication=4, reliability=4)
    line = compute_pay(tech, QUARTER)[0]
    assert (line.value, line.amount) == (None, Decimal("0.00"))
    assert "not enough reviewers (2, minimum 3)" in line.value_text
    PeerReview.objects.create(cycle=cycle, reviewer=make_employee(), reviewee=tech, sharing=5, stepping_in=3,
                              communication=2, reliability=4)
    line = compute_pay(tech, QUARTER)[0]
    # (16 + 16 + 14) / 12 = 3.83
    assert (line.value, line.amount) == (Decimal("3.83"), Decimal("200.00"))


def test_locked_statement_never_changes_when_the_data_does() -> None:
    # given a technician paid on CSAT and a statement drafted, reviewed and locked
    owner = make_staff("owner", mfa=False)
    tech = make_employee()
    plan = make_plan()
    add_rule(plan, "threshold", "csat", steps=[{"from": "4", "amount": "250"}])
    client = make_client()
    answered_survey(client, tech.user, date(2026, 2, 1), (5, 5, 5))
    statement = services.statement_draft(actor=owner, employee=tech, quarter_start=date(2026, 1, 1))
    services.statement_review(actor=owner, statement=statement)
    services.statement_lock(actor=owner, statement=statement)
    before = list(StatementLine.objects.filter(statement=statement).values())

    # when the data behind it changes (a bad survey, a rule changed)
    answered_survey(client, tech.user, date(2026, 3, 1), (1, 1, 1))
    PlanRule.objects.update(steps=[{"from": "4", "amount": "999"}])
    assert compute_pay(tech, QUARTER)[0].amount == Decimal("0.00")  # the data did change

    # then the locked statement cannot be computed again, and its lines and total are as they were
    with pytest.raises(Conflict):
        services.statement_recompute(actor=owner, statement=statement)
    statement.refresh_from_db()
    assert statement.total == Decimal("250.00")
    assert list(StatementLine.objects.filter(statement=statement).values()) == before
    assert before[0]["value"] == Decimal("5.00")


def test_statement_workflow_draft_review_lock_and_only_a_draft_recomputes() -> None:
    owner = make_staff("owner", mfa=False)
    finance = make_staff("finance", mfa=False)
    tech = make_employee()
    statement = services.statement_draft(actor=owner, employee=tech, quarter_start=date(2026, 1, 1))
    with pytest.raises(ValidationError):
        services.statement_draft(actor=owner, employee=tech, quarter_start=date(2026, 1, 1))
    with pytest.raises(ValidationError):
        services.statement_draft(actor=owner, employee=tech, quarter_start=date(2026, 2, 1))
    with pytest.raises(Conflict):
        services.statement_lock(actor=owner, statement=statement)  # not reviewed yet
    from tenfold.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.statement_review(actor=finance, statement=statement)
    services.statement_review(actor=owner, statement=statement)
    with pytest.raises(Conflict):
        services.statement_recompute(actor=owner, statement=statement)


def test_preview_computes_every_employee_of_the_role_under_the_edited_plan() -> None:
    a, b = make_employee(), make_employee()
    make_employee("account_manager", plan_role="salesperson")
    plan = make_plan(start=date(2027, 1, 1))  # not yet in force: the preview still uses it over the quarter
    add_rule(plan, "linear", "training_hours", linear_start="0", linear_end="10", linear_amount="100")
    Training.objects.create(employee=a, title="Course", hours=Decimal("4"), date=date(2026, 1, 10))
    rows = preview(plan, QUARTER)
    assert sorted((row["employee"].pk, row["total"]) for row in rows) == [(a.pk, Decimal("40.00")),
                                                                          (b.pk, Decimal("0.00"))]
    assert compute_pay(a, QUARTER) == []  # nothing is in force: only the preview pays


def test_alignment_warns_when_sales_and_technicians_reward_different_services() -> None:
    from tenfold.catalog.tests.factories import make_service

    pentest = make_service("pentest", category="security", unit="flat")
    sales = make_plan("salesperson", name="Sales 2026")
    add_rule(sales, "commission", "recurring_value", rate_pct="15", service=pentest)
    techs = make_plan("technician", name="Technicians 2026")
    add_rule(techs, "threshold", "backed_up", steps=[{"from": "90", "amount": "200"}])
    warnings = alignment_warnings(sales)
    assert [(w["plan"].name, w["mine"], w["theirs"]) for w in warnings] == [
        ("Technicians 2026", ["security"], ["backup"])]
    # when sales are also paid on backup, the plans pull the same way
    add_rule(sales, "commission", "recurring_value", rate_pct="5", category="backup")
    assert alignment_warnings(sales) == []
    assert alignment_warnings(techs) == []
