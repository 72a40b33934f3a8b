"""Variable pay: plan rules applied to measures, exact and explained line by line (docs/people.md).

A quarter is cut into segments, one per plan of the employee's plan role in force during it. Commissions count
the deals won inside the segment; bonuses are measured over the whole quarter and paid pro rata of the segment's
days. Caps and floors are per quarter and pro-rated the same way. Each line is rounded once, to the cent, half
up."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from tenfold.people.measures import CENT, HUNDRED, Measured, Period, deal_link, measure, sold_lines
from tenfold.people.models import (
    AppliesTo,
    Basis,
    CompensationPlan,
    Employee,
    Measure,
    PlanRule,
    RuleKind,
)


@dataclass
class PayLine:
    """One computed line of variable pay."""

    plan_name: str
    rule_label: str
    kind: str
    measure: str
    value: Decimal | None
    value_text: str
    rule_text: str
    segment: Period
    amount: Decimal
    records: list[dict[str, str]] = field(default_factory=list)
    plan_id: int | None = None


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP)}"


def parse_steps(steps: Any) -> list[tuple[Decimal, Decimal]]:
    """A rule's steps as (from value, amount) pairs, lowest threshold first."""
    return sorted((Decimal(str(s["from"])), Decimal(str(s["amount"]))) for s in steps or [])


def _clamp(amount: Decimal, rule: PlanRule, fraction: Decimal) -> Decimal:
    if rule.cap is not None:
        amount = min(amount, rule.cap * fraction)
    if rule.floor is not None:
        amount = max(amount, rule.floor * fraction)
    return amount


def _bonus(rule: PlanRule, value: Decimal | None) -> tuple[Decimal, str]:
    """The full-quarter bonus for a measured value, and the rule's wording."""
    if rule.kind == RuleKind.THRESHOLD:
        steps = parse_steps(rule.steps)
        text = "; ".join(_("from %(v)s: %(a)s") % {"v": v, "a": _money(a)} for v, a in steps)
        reached = [a for v, a in steps if value is not None and value >= v]
        return (reached[-1] if reached else Decimal(0)), _("Steps: %(steps)s") % {"steps": text}
    start, end, top = rule.linear_start or Decimal(0), rule.linear_end or Decimal(0), rule.linear_amount or Decimal(0)
    text = _("Linear: 0 at %(start)s up to %(amount)s at %(end)s") % {"start": start, "end": end,
                                                                     "amount": _money(top)}
    if value is None or value <= start:
        return Decimal(0), text
    if value >= end:
        return top, text
    return top * (value - start) / (end - start), text


def _matches(rule: PlanRule, line: Any) -> bool:
    if rule.applies_to == AppliesTo.NEW and not line.is_new:
        return False
    if rule.applies_to == AppliesTo.EXISTING and line.is_new:
        return False
    if rule.service_id is not None:
        return bool(line.service_id == rule.service_id)
    if rule.category:
        return bool(line.category == rule.category)
    return True


def _limits_text(rule: PlanRule) -> str:
    parts = []
    if rule.floor is not None:
        parts.append(_("floor %(v)s") % {"v": _money(rule.floor)})
    if rule.cap is not None:
        parts.append(_("cap %(v)s") % {"v": _money(rule.cap)})
    return (" (" + ", ".join(parts) + ")") if parts else ""


def evaluate_rule(rule: PlanRule, employee: Employee, quarter: Period, segment: Period,
                  cache: dict[str, Measured]) -> PayLine:
    """One rule for one employee over one segment of the quarter."""
    fraction = Decimal(segment.days) / Decimal(quarter.days)
    prorata = "" if segment == quarter else " " + _("× %(d)s/%(q)s days") % {"d": segment.days, "q": quarter.days}
    if rule.kind == RuleKind.COMMISSION:
        lines = [line for line in sold_lines(employee, quarter)
                 if segment.start <= line.won_on <= segment.end and _matches(rule, line)]
        months = Decimal(12) if rule.basis == Basis.FIRST_YEAR else Decimal(1)
        base = sum((line.monthly * line.share * months for line in lines), Decimal(0))
        raw = base * (rule.rate_pct or Decimal(0)) / HUNDRED
        amount = _clamp(raw, rule, fraction).quantize(CENT, rounding=ROUND_HALF_UP)
        scope = (rule.service.name if rule.service_id and rule.service else rule.category or _("every service"))
        rule_text = _("%(rate)s %% of %(basis)s — %(scope)s, %(applies)s") % {
            "rate": rule.rate_pct, "basis": Basis(rule.basis).label, "scope": scope,
            "applies": AppliesTo(rule.applies_to).label} + _limits_text(rule)
        deals = sorted({line.deal_id for line in lines})
        value_text = _("%(base)s from %(n)s deals") % {"base": _money(base), "n": len(deals)}
        return PayLine(rule.plan.name, rule.label, rule.kind, rule.measure, base.quantize(CENT, ROUND_HALF_UP),
                       value_text, rule_text, segment, amount, [deal_link(d) for d in deals], rule.plan_id)
    if rule.measure not in cache:
        cache[rule.measure] = measure(rule.measure, employee, quarter)
    measured = cache[rule.measure]
    full, rule_text = _bonus(rule, measured.value)
    amount = _clamp(full * fraction, rule, fraction).quantize(CENT, rounding=ROUND_HALF_UP)
    return PayLine(rule.plan.name, rule.label, rule.kind, rule.measure, measured.value, measured.text,
                   rule_text + _limits_text(rule) + prorata, segment, amount, measured.records, rule.plan_id)


def plans_in_force(plan_role: str, quarter: Period) -> list[tuple[CompensationPlan, Period]]:
    """The plans of a plan role overlapping the quarter, each with the part of the quarter it covers."""
    result = []
    for plan in CompensationPlan.objects.filter(plan_role=plan_role).order_by("effective_from", "pk"):
        segment = quarter.overlap(plan.effective_from, plan.effective_to)
        if segment is not None:
            result.append((plan, segment))
    return result


def compute_pay(employee: Employee, quarter: Period, plan: CompensationPlan | None = None) -> list[PayLine]:
    """Every line of the employee's variable pay for the quarter: under the plans in force, or under `plan` over
    the whole quarter (the preview of a plan being edited)."""
    segments = [(plan, quarter)] if plan is not None else plans_in_force(employee.plan_role, quarter)
    cache: dict[str, Measured] = {}
    lines = []
    for current, segment in segments:
        for rule in current.rules.select_related("service", "plan").order_by("position", "pk"):
            lines.append(evaluate_rule(rule, employee, quarter, segment, cache))
    return lines


def preview(plan: CompensationPlan, quarter: Period) -> list[dict[str, Any]]:
    """Every active employee of the plan's role, with their variable pay under this plan over the quarter."""
    rows = []
    for employee in Employee.objects.filter(plan_role=plan.plan_role, active=True).select_related("user"):
        lines = compute_pay(employee, quarter, plan)
        rows.append({"employee": employee, "lines": lines,
                     "total": sum((line.amount for line in lines), Decimal("0.00"))})
    return rows


# --- Alignment --------------------------------------------------------------------------------------------------

SERVICE_MEASURES: dict[str, str] = {Measure.BACKED_UP: "backup", Measure.DEVICES_MANAGED: "management"}


def rewarded_categories(plan: CompensationPlan) -> set[str]:
    """The service categories a plan rewards: its commissions' service or category ("*" for every service) and
    the categories behind service-bound bonuses (backups, managed devices)."""
    found: set[str] = set()
    for rule in plan.rules.select_related("service"):
        if rule.kind == RuleKind.COMMISSION and (rule.rate_pct or 0) > 0:
            if rule.service_id and rule.service is not None:
                found.add(rule.service.category)
            elif rule.category:
                found.add(rule.category)
            else:
                found.add("*")
        elif rule.measure in SERVICE_MEASURES:
            found.add(SERVICE_MEASURES[rule.measure])
    return found


def alignment_warnings(plan: CompensationPlan) -> list[dict[str, Any]]:
    """Plans of other roles in force at the same time that reward other services than this one (e.g. sales
    paid on penetration tests while technicians are paid on backups)."""
    mine = rewarded_categories(plan)
    if not mine or "*" in mine:
        return []
    warnings = []
    others = CompensationPlan.objects.exclude(plan_role=plan.plan_role).exclude(pk=plan.pk)
    for other in others.order_by("effective_from", "pk"):
        start = max(plan.effective_from, other.effective_from)
        ends = [d for d in (plan.effective_to, other.effective_to) if d is not None]
        end = min(ends) if ends else None
        if end is not None and start > end:
            continue
        theirs = rewarded_categories(other)
        if theirs and "*" not in theirs and not (mine & theirs):
            warnings.append({"plan": other, "mine": sorted(mine), "theirs": sorted(theirs), "from": start, "to": end})
    return warnings
