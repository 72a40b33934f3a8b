"""Writes of people data: validate, write, audit, emit — in one transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, ProtectedError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tenfold.catalog.models import Service, ServiceCategory
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tenfold.core.roles import STAFF_ROLES, has_privilege, require
from tenfold.core.writes import apply_fields, clean_or_raise, save_or_unique_error
from tenfold.people.compensation import compute_pay
from tenfold.people.measures import Period, people_settings, quarter_of
from tenfold.people.models import (
    CRITERIA,
    CompensationPlan,
    CycleStatus,
    DealSplit,
    Employee,
    Measure,
    PeerReview,
    PeopleSettings,
    PlanRole,
    PlanRule,
    ReviewCycle,
    RoleTarget,
    RuleKind,
    Statement,
    StatementLine,
    StatementStatus,
    Team,
    Training,
)
from tenfold.people.selectors import employee_of, people_ids, team_of

EMPLOYEE_FIELDS = ("user_id", "team_id", "manager_id", "plan_role", "base_pay", "start_date", "active")
PLAN_FIELDS = ("name", "plan_role", "effective_from", "effective_to", "notes")
RULE_FIELDS = ("label", "kind", "measure", "rate_pct", "basis", "applies_to", "service_id", "category", "steps",
               "linear_start", "linear_end", "linear_amount", "cap", "floor", "position")
TRAINING_FIELDS = ("kind", "title", "provider", "hours", "date", "expires_on")
CYCLE_FIELDS = ("name", "frequency", "start_date", "end_date")
MAX_STEPS = 10


# --- Employees --------------------------------------------------------------------------------------------------


def _check_manager(employee: Employee) -> None:
    if employee.manager_id is None:
        return
    if not Employee.objects.filter(pk=employee.manager_id).exists():
        raise ValidationError(_("Choose an existing employee."), field="manager")
    if employee.pk and (employee.manager_id == employee.pk or employee.manager_id in team_of(employee.pk)):
        raise ValidationError(_("An employee cannot report to themselves or to someone in their own team."),
                              field="manager")


@transaction.atomic
def employee_create(*, actor: Any, data: dict[str, Any]) -> Employee:
    """Make a staff user an employee (owner)."""
    require(actor, "compensation", "add")
    user_id: Any = data.get("user_id")
    staff = get_user_model().objects.filter(role__in=list(STAFF_ROLES))
    if not isinstance(user_id, int) or not staff.filter(pk=user_id).exists():
        raise ValidationError(_("Choose a staff user."), field="user")
    employee = Employee()
    apply_fields(employee, EMPLOYEE_FIELDS, data)
    _check_manager(employee)
    if employee.team_id is not None and not Team.objects.filter(pk=employee.team_id).exists():
        raise ValidationError(_("Choose an existing team."), field="team")
    clean_or_raise(employee)
    save_or_unique_error(employee, unique_message=_("This user is already an employee."), unique_field="user")
    audit.record(actor, "employee.created", employee, changes=audit.snapshot(employee, list(EMPLOYEE_FIELDS)))
    events.emit("employee.created", payload={"employee_id": employee.pk, "user_id": employee.user_id})
    return employee


@transaction.atomic
def employee_update(*, actor: Any, employee: Employee, data: dict[str, Any]) -> Employee:
    """Change an employee's team, manager, plan role, base pay or dates (owner)."""
    require(actor, "compensation", "change")
    data = {k: v for k, v in data.items() if k != "user_id"}
    before = audit.snapshot(employee)
    apply_fields(employee, EMPLOYEE_FIELDS, data)
    _check_manager(employee)
    if employee.team_id is not None and not Team.objects.filter(pk=employee.team_id).exists():
        raise ValidationError(_("Choose an existing team."), field="team")
    clean_or_raise(employee)
    employee.save()
    changes = audit.diff(before, audit.snapshot(employee))
    if changes:
        audit.record(actor, "employee.updated", employee, changes=changes)
    return employee


@transaction.atomic
def team_create(*, actor: Any, name: str) -> Team:
    """Add a team (owner)."""
    require(actor, "compensation", "add")
    team = Team(name=(name or "").strip())
    clean_or_raise(team)
    save_or_unique_error(team, unique_message=_("A team with this name already exists."), unique_field="name")
    audit.record(actor, "team.created", team, changes={"name": team.name})
    return team


@transaction.atomic
def settings_update(*, actor: Any, data: dict[str, Any]) -> PeopleSettings:
    """Change the minimum number of reviewers and the working hours per day (owner)."""
    require(actor, "compensation", "change")
    row = people_settings()
    before = audit.snapshot(row)
    apply_fields(row, ("min_reviewers", "hours_per_day"), data)
    clean_or_raise(row)
    row.save()
    audit.record(actor, "people_settings.updated", row, changes=audit.diff(before, audit.snapshot(row)))
    return row


@transaction.atomic
def team_rename(*, actor: Any, team: Team, name: str) -> Team:
    """Rename a team (owner)."""
    require(actor, "compensation", "change")
    before = team.name
    team.name = (name or "").strip()
    clean_or_raise(team)
    save_or_unique_error(team, unique_message=_("A team with this name already exists."), unique_field="name")
    if team.name != before:
        audit.record(actor, "team.renamed", team, changes={"name": [before, team.name]})
    return team


@transaction.atomic
def team_delete(*, actor: Any, team: Team, unassign_members: bool = False) -> int:
    """Delete a team (owner). Refused while employees belong to it, unless the owner asks to take them out of the
    team first (they stay employees, without a team). Returns how many were taken out."""
    require(actor, "compensation", "delete")
    team = Team.objects.select_for_update().get(pk=team.pk)
    members = list(Employee.objects.filter(team=team).order_by("pk").values_list("pk", flat=True))
    if members and not unassign_members:
        raise Conflict(ngettext(
            "%(n)s employee belongs to “%(name)s”: move them to another team first, or choose to take them out "
            "of the team.",
            "%(n)s employees belong to “%(name)s”: move them to another team first, or choose to take them out "
            "of the team.", len(members)) % {"n": len(members), "name": team.name}, code="team_has_members")
    Employee.objects.filter(pk__in=members).update(team=None, updated_at=timezone.now())
    snapshot, team_id = {"name": team.name, "members_unassigned": members}, team.pk
    team.delete()
    audit.record(actor, "team.deleted", object_type="people.team", object_id=str(team_id), changes=snapshot)
    return len(members)


def _target_number(value: Any, field: str, *, integer: bool) -> Any:
    if value is None or value == "" or isinstance(value, bool):
        raise ValidationError(_("Enter a number."), field=field)
    if integer:
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        raise ValidationError(_("Enter a whole number."), field=field)
    return _decimal(value, field)


@transaction.atomic
def role_target_set(*, actor: Any, plan_role: str, hours: Any, certifications: Any = 0) -> RoleTarget:
    """Set a plan role's yearly training hours and the valid certifications its people should hold (owner)."""
    require(actor, "compensation", "change")
    if plan_role not in PlanRole.values:
        raise ValidationError(_("Choose a plan role."), field="plan_role")
    hours = _target_number(hours, "training_hours_per_year", integer=False)
    certifications = _target_number(certifications, "certifications_required", integer=True)
    if hours < 0:
        raise ValidationError(_("Hours cannot be negative."), field="training_hours_per_year")
    if hours > 2000:
        raise ValidationError(_("At most 2000 hours a year."), field="training_hours_per_year")
    if hours != hours.quantize(Decimal("0.01")):
        raise ValidationError(_("Hours have at most two decimals."), field="training_hours_per_year")
    if not 0 <= certifications <= 50:
        raise ValidationError(_("Between 0 and 50 certifications."), field="certifications_required")
    clean_or_raise(RoleTarget(plan_role=plan_role, training_hours_per_year=hours,
                              certifications_required=certifications))
    previous = RoleTarget.objects.filter(plan_role=plan_role).values_list(
        "training_hours_per_year", "certifications_required").first()
    target, _created = RoleTarget.objects.update_or_create(plan_role=plan_role, defaults={
        "training_hours_per_year": hours, "certifications_required": certifications})
    after = [str(target.training_hours_per_year), target.certifications_required]
    before = [str(previous[0]), previous[1]] if previous else None
    if before != after:
        audit.record(actor, "role_target.set", target, changes={
            "plan_role": plan_role, "hours": [before[0] if before else None, after[0]],
            "certifications": [before[1] if before else None, after[1]]})
    return target


# --- Plans and rules --------------------------------------------------------------------------------------------


def _check_plan_overlap(plan: CompensationPlan) -> None:
    others = CompensationPlan.objects.filter(plan_role=plan.plan_role).exclude(pk=plan.pk)
    for other in others:
        starts_before_other_ends = other.effective_to is None or plan.effective_from <= other.effective_to
        ends_after_other_starts = plan.effective_to is None or plan.effective_to >= other.effective_from
        if starts_before_other_ends and ends_after_other_starts:
            raise ValidationError(_("“%(name)s” is already in force for this role over these dates: end it the "
                                    "day before this plan starts.") % {"name": other.name}, field="effective_from")


def _check_statements_covered(plan: CompensationPlan) -> None:
    """A plan's dates must keep covering the quarters of the reviewed and locked statements computed with it."""
    if plan.pk is None:
        return
    lines = StatementLine.objects.filter(plan=plan).exclude(statement__status=StatementStatus.DRAFT)
    bounds = lines.aggregate(first=Min("segment_start"), last=Max("segment_end"))
    if bounds["first"] is not None and plan.effective_from > bounds["first"]:
        raise ValidationError(_("Statements already reviewed or locked were computed with this plan from %(day)s: "
                                "it must start on that day or before.") % {"day": date_format(bounds["first"])},
                              field="effective_from")
    if bounds["last"] is not None and plan.effective_to is not None and plan.effective_to < bounds["last"]:
        raise ValidationError(_("Statements already reviewed or locked were computed with this plan up to %(day)s: "
                                "end it on that day or later.") % {"day": date_format(bounds["last"])},
                              field="effective_to")


def _save_plan(plan: CompensationPlan) -> None:
    clean_or_raise(plan)
    if plan.effective_to is not None and plan.effective_to < plan.effective_from:
        raise ValidationError(_("The end date cannot be before the start date."), field="effective_to")
    _check_plan_overlap(plan)
    _check_statements_covered(plan)
    plan.save()


@transaction.atomic
def plan_create(*, actor: Any, data: dict[str, Any]) -> CompensationPlan:
    """Create a compensation plan for a plan role (owner); plans of a role may not overlap in time."""
    require(actor, "compensation", "add")
    plan = CompensationPlan()
    apply_fields(plan, PLAN_FIELDS, data)
    _save_plan(plan)
    audit.record(actor, "compensation_plan.created", plan, changes=audit.snapshot(plan, list(PLAN_FIELDS)))
    events.emit("compensation_plan.created", payload={"plan_id": plan.pk, "plan_role": plan.plan_role})
    return plan


@transaction.atomic
def plan_update(*, actor: Any, plan: CompensationPlan, data: dict[str, Any]) -> CompensationPlan:
    """Change a plan's name, role or dates (owner)."""
    require(actor, "compensation", "change")
    before = audit.snapshot(plan)
    apply_fields(plan, PLAN_FIELDS, data)
    _save_plan(plan)
    changes = audit.diff(before, audit.snapshot(plan))
    if changes:
        audit.record(actor, "compensation_plan.updated", plan, changes=changes)
    return plan


@transaction.atomic
def plan_end(*, actor: Any, plan: CompensationPlan, last_day: date | None) -> CompensationPlan:
    """End a plan: its last day in force (owner). The way out for a plan that statements were computed with."""
    require(actor, "compensation", "change")
    if not isinstance(last_day, date):
        raise ValidationError(_("Enter the plan's last day in force."), field="effective_to")
    return plan_update(actor=actor, plan=plan, data={"effective_to": last_day})


def plan_statement_count(plan: CompensationPlan) -> int:
    """How many statements (any status) were computed with the plan."""
    return StatementLine.objects.filter(plan=plan).values("statement_id").distinct().count()


@transaction.atomic
def plan_delete(*, actor: Any, plan: CompensationPlan) -> None:
    """Delete a plan and its rules (owner). Refused when a statement was computed with it: statements keep what
    they were computed with, and a locked one never changes; the plan can be ended instead."""
    require(actor, "compensation", "delete")
    plan = CompensationPlan.objects.select_for_update().get(pk=plan.pk)
    used = plan_statement_count(plan)
    if used:
        raise Conflict(ngettext(
            "“%(name)s” was used to compute %(n)s statement: it cannot be deleted. End it instead: set its last "
            "day in force.",
            "“%(name)s” was used to compute %(n)s statements: it cannot be deleted. End it instead: set its last "
            "day in force.", used) % {"name": plan.name, "n": used}, code="plan_in_statements")
    snapshot, plan_id = audit.snapshot(plan), plan.pk
    try:
        with transaction.atomic():
            plan.delete()
    except (ProtectedError, IntegrityError):
        # A statement drafted with the plan since the count above.
        raise Conflict(_("“%(name)s” was used to compute a statement: it cannot be deleted. End it instead: set "
                         "its last day in force.") % {"name": plan.name}, code="plan_in_statements") from None
    audit.record(actor, "compensation_plan.deleted", object_type="people.compensationplan", object_id=str(plan_id),
                 changes=snapshot)


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Enter a number."), field=field) from None
    if not result.is_finite() or abs(result) >= Decimal("1e10"):
        raise ValidationError(_("Enter a number."), field=field)
    return result


def validate_rule(data: dict[str, Any]) -> dict[str, Any]:
    """A rule's fields checked and normalised; every refusal names its field with a clear message."""
    clean = dict(data)
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: Any) -> None:
        errors.setdefault(field, []).append(str(message))

    for name in ("rate_pct", "linear_start", "linear_end", "linear_amount", "cap", "floor"):
        if name in clean:
            try:
                clean[name] = _decimal(clean[name], name)
            except ValidationError as exc:
                refuse(name, exc.message)
                clean[name] = None
    kind, measure = clean.get("kind"), clean.get("measure")
    if kind not in RuleKind.values:
        refuse("kind", _("Choose commission, thresholds or linear scale."))
    if measure not in Measure.values:
        refuse("measure", _("Choose a measure."))
    if kind == RuleKind.COMMISSION:
        if measure != Measure.RECURRING_VALUE:
            refuse("measure", _("A commission is a percentage of the recurring value of won deals."))
        rate = clean.get("rate_pct")
        if rate is None:
            refuse("rate_pct", _("Enter the commission rate."))
        elif rate < 0:
            refuse("rate_pct", _("A rate cannot be negative."))
        elif rate > 100:
            refuse("rate_pct", _("A rate cannot be more than 100 %."))
        if clean.get("service_id") and clean.get("category"):
            refuse("category", _("Choose a service or a category, not both."))
        if clean.get("service_id") and not Service.objects.filter(pk=clean["service_id"]).exists():
            refuse("service_id", _("Choose an existing service."))
        if clean.get("category") and clean["category"] not in ServiceCategory.values:
            refuse("category", _("Choose a service category."))
        clean["steps"] = []
    elif kind == RuleKind.THRESHOLD:
        raw_steps = clean.get("steps") or []
        steps = []
        if not isinstance(raw_steps, list) or not raw_steps:
            refuse("steps", _("Enter at least one step: from this value, this amount."))
        elif len(raw_steps) > MAX_STEPS:
            refuse("steps", _("At most %(n)s steps.") % {"n": MAX_STEPS})
        else:
            for step in raw_steps:
                try:
                    low, amount = Decimal(str(step["from"])), Decimal(str(step["amount"]))
                    if not (low.is_finite() and amount.is_finite()) or abs(low) >= Decimal("1e10") \
                            or abs(amount) >= Decimal("1e10"):
                        raise InvalidOperation
                except (KeyError, TypeError, InvalidOperation, ValueError):
                    refuse("steps", _("Each step needs a threshold and an amount, both numbers."))
                    break
                if amount < 0:
                    refuse("steps", _("A step's amount cannot be negative."))
                    break
                steps.append((low, amount))
            lows = [low for low, _a in steps]
            if len(set(lows)) != len(lows):
                refuse("steps", _("Two steps start at the same value: thresholds cannot overlap."))
            elif lows != sorted(lows):
                refuse("steps", _("Enter the steps from the lowest threshold to the highest: they cannot overlap."))
            clean["steps"] = [{"from": str(low), "amount": str(amount)} for low, amount in steps]
        clean["rate_pct"] = None
    elif kind == RuleKind.LINEAR:
        start, end, top = clean.get("linear_start"), clean.get("linear_end"), clean.get("linear_amount")
        if start is None or end is None or top is None:
            refuse("linear_end", _("Enter where the scale starts, where it ends and the amount at its end."))
        else:
            if end <= start:
                refuse("linear_end", _("The scale must end above where it starts."))
            if top < 0:
                refuse("linear_amount", _("The amount cannot be negative."))
        clean["steps"] = []
        clean["rate_pct"] = None
    cap, floor = clean.get("cap"), clean.get("floor")
    if cap is not None and cap < 0:
        refuse("cap", _("A cap cannot be negative."))
    if floor is not None and floor < 0:
        refuse("floor", _("A floor cannot be negative."))
    if cap is not None and floor is not None and cap < floor:
        refuse("cap", _("The cap cannot be below the floor."))
    if not str(clean.get("label") or "").strip():
        refuse("label", _("Give the rule a label."))
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationError(first, errors=errors)
    if kind != RuleKind.COMMISSION:
        clean["service_id"], clean["category"] = None, ""
    return clean


@transaction.atomic
def rule_create(*, actor: Any, plan: CompensationPlan, data: dict[str, Any]) -> PlanRule:
    """Add a rule to a plan (owner)."""
    require(actor, "compensation", "change")
    clean = validate_rule(data)
    if clean.get("position") is None:
        clean["position"] = plan.rules.count() + 1
    rule = PlanRule(plan=plan)
    apply_fields(rule, RULE_FIELDS, clean)
    clean_or_raise(rule)
    rule.save()
    audit.record(actor, "plan_rule.created", rule, changes=audit.snapshot(rule, list(RULE_FIELDS)))
    return rule


@transaction.atomic
def rule_update(*, actor: Any, rule: PlanRule, data: dict[str, Any]) -> PlanRule:
    """Change a plan rule (owner)."""
    require(actor, "compensation", "change")
    current = {name: getattr(rule, name) for name in RULE_FIELDS}
    current.update(data)
    clean = validate_rule(current)
    before = audit.snapshot(rule)
    apply_fields(rule, RULE_FIELDS, clean)
    clean_or_raise(rule)
    rule.save()
    audit.record(actor, "plan_rule.updated", rule, changes=audit.diff(before, audit.snapshot(rule)))
    return rule


@transaction.atomic
def rule_delete(*, actor: Any, rule: PlanRule) -> None:
    """Remove a rule from its plan (owner)."""
    require(actor, "compensation", "change")
    snapshot, rule_id = audit.snapshot(rule), rule.pk
    rule.delete()
    audit.record(actor, "plan_rule.deleted", object_type="people.planrule", object_id=str(rule_id), changes=snapshot)


# --- Deal splits ------------------------------------------------------------------------------------------------


@transaction.atomic
def splits_set(*, actor: Any, deal: Any, shares: list[dict[str, Any]]) -> list[DealSplit]:
    """Replace a deal's commission split: shares of distinct employees adding up to 100 % (an empty list gives
    the whole deal back to its owner)."""
    require(actor, "compensation", "change")
    seen: set[int] = set()
    total = Decimal(0)
    rows = []
    for share in shares:
        employee_id: Any = share.get("employee_id")
        if not isinstance(employee_id, int):
            raise ValidationError(_("Choose an existing employee."), field="employee_id")
        pct = _decimal(share.get("share_pct"), "share_pct")
        if pct is None or pct <= 0 or pct > 100:
            raise ValidationError(_("A share must be above 0 and at most 100 percent."), field="share_pct")
        if employee_id in seen:
            raise ValidationError(_("Each employee appears once in a split."), field="employee_id")
        if not Employee.objects.filter(pk=employee_id).exists():
            raise ValidationError(_("Choose an existing employee."), field="employee_id")
        seen.add(employee_id)
        total += pct
        rows.append(DealSplit(client_id=deal.client_id, deal=deal, employee_id=employee_id, share_pct=pct))
    if rows and total != 100:
        raise ValidationError(_("The shares add up to %(total)s %%, not 100 %%.") % {"total": total},
                              field="share_pct")
    before = [(s.employee_id, str(s.share_pct)) for s in DealSplit.objects.filter(deal=deal)]
    DealSplit.objects.filter(deal=deal).delete()
    DealSplit.objects.bulk_create(rows)
    audit.record(actor, "deal_split.set", deal, changes={
        "before": before, "after": [(r.employee_id, str(r.share_pct)) for r in rows]})
    events.emit("deal_split.set", client_id=deal.client_id, payload={"deal_id": deal.pk})
    return list(DealSplit.objects.filter(deal=deal))


# --- Peer reviews -----------------------------------------------------------------------------------------------


@transaction.atomic
def cycle_create(*, actor: Any, data: dict[str, Any]) -> ReviewCycle:
    """Open a review cycle (owner)."""
    require(actor, "compensation", "add")
    cycle = ReviewCycle()
    apply_fields(cycle, CYCLE_FIELDS, data)
    clean_or_raise(cycle)
    if cycle.end_date < cycle.start_date:
        raise ValidationError(_("The end date cannot be before the start date."), field="end_date")
    cycle.save()
    audit.record(actor, "review_cycle.created", cycle, changes=audit.snapshot(cycle, list(CYCLE_FIELDS)))
    return cycle


@transaction.atomic
def cycle_close(*, actor: Any, cycle: ReviewCycle) -> ReviewCycle:
    """Close a cycle: no more reviews (owner)."""
    require(actor, "compensation", "change")
    if not ReviewCycle.objects.filter(pk=cycle.pk, status=CycleStatus.OPEN).update(status=CycleStatus.CLOSED):
        raise Conflict(_("This cycle is already closed."))
    cycle.refresh_from_db()
    audit.record(actor, "review_cycle.closed", cycle, changes={"status": ["open", "closed"]})
    return cycle


@transaction.atomic
def review_submit(*, actor: Any, cycle: ReviewCycle, data: dict[str, Any]) -> PeerReview:
    """Rate a chosen peer (1–5 per criterion) with a comment, once per cycle. The review is audited without its
    scores or comment, and the audit row names no reviewee, so that nothing outside ties the two together."""
    if not has_privilege(actor, "peer_reviews.write"):
        raise PermissionDenied()
    reviewer = employee_of(actor)
    if reviewer is None:
        raise ValidationError(_("You need an employee record to review colleagues."))
    if cycle.status != CycleStatus.OPEN:
        raise Conflict(_("This review cycle is closed."))
    reviewee_id = data.get("reviewee_id")
    reviewee = Employee.objects.filter(pk=reviewee_id, active=True).first() if isinstance(reviewee_id, int) else None
    if reviewee is None:
        raise ValidationError(_("Choose a colleague to review."), field="reviewee")
    if reviewee.pk == reviewer.pk:
        raise ValidationError(_("You cannot review yourself."), field="reviewee")
    review = PeerReview(cycle=cycle, reviewer=reviewer, reviewee=reviewee,
                        comment=str(data.get("comment") or "").strip())
    for name, _label in CRITERIA:
        value = data.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise ValidationError(_("Each score is between 1 and 5."), field=name)
        setattr(review, name, value)
    clean_or_raise(review)
    try:
        with transaction.atomic():
            review.save()
    except IntegrityError:
        raise ValidationError(_("You already reviewed this colleague in this cycle."), field="reviewee") from None
    audit.record(actor, "peer_review.submitted", object_type="people.reviewcycle", object_id=str(cycle.pk),
                 changes={"cycle": cycle.pk})
    return review


# --- Training ---------------------------------------------------------------------------------------------------


def may_record_training(actor: Any, employee: Employee) -> bool:
    """Personal development is recorded by whoever sees the person's people data: themselves, their managers,
    and the roles that see everyone's."""
    ids = people_ids(actor)
    return ids is None or employee.pk in ids


@transaction.atomic
def training_create(*, actor: Any, employee: Employee, data: dict[str, Any]) -> Training:
    """Record a training or certification (the employee, their manager, or the owner)."""
    if not may_record_training(actor, employee):
        raise NotFound()
    training = Training(employee=employee)
    apply_fields(training, TRAINING_FIELDS, data)
    clean_or_raise(training)
    if training.expires_on is not None and training.expires_on < training.date:
        raise ValidationError(_("A certification cannot expire before it was obtained."), field="expires_on")
    training.save()
    audit.record(actor, "training.created", training, changes=audit.snapshot(training, list(TRAINING_FIELDS)))
    return training


@transaction.atomic
def training_delete(*, actor: Any, training: Training) -> None:
    """Remove a training record."""
    if not may_record_training(actor, training.employee):
        raise NotFound()
    snapshot, training_id = audit.snapshot(training), training.pk
    training.delete()
    audit.record(actor, "training.deleted", object_type="people.training", object_id=str(training_id),
                 changes=snapshot)


# --- Statements -------------------------------------------------------------------------------------------------


def _store_lines(statement: Statement) -> None:
    quarter = Period(statement.period_start, statement.period_end)
    lines = compute_pay(statement.employee, quarter)
    statement.lines.all().delete()
    StatementLine.objects.bulk_create([
        StatementLine(statement=statement, position=i, plan_id=line.plan_id, plan_name=line.plan_name[:200],
                      rule_label=line.rule_label[:200], kind=line.kind, measure=line.measure, value=line.value,
                      value_text=line.value_text[:300], rule_text=line.rule_text[:500],
                      segment_start=line.segment.start, segment_end=line.segment.end, amount=line.amount,
                      records=line.records)
        for i, line in enumerate(lines, start=1)])
    statement.total = sum((line.amount for line in lines), Decimal("0.00"))
    statement.computed_at = timezone.now()


@transaction.atomic
def statement_draft(*, actor: Any, employee: Employee, quarter_start: date) -> Statement:
    """Compute an employee's statement of a quarter as a draft (owner)."""
    require(actor, "statements", "add")
    quarter = quarter_of(quarter_start)
    if quarter.start != quarter_start:
        raise ValidationError(_("A statement starts on the first day of a quarter."), field="period_start")
    statement = Statement(employee=employee, period_start=quarter.start, period_end=quarter.end,
                          computed_at=timezone.now())
    save_or_unique_error(statement, unique_message=_("This employee already has a statement for this quarter."),
                         unique_field="period_start")
    _store_lines(statement)
    statement.save(update_fields=["total", "computed_at", "updated_at"])
    audit.record(actor, "statement.drafted", statement, changes={"total": str(statement.total)})
    return statement


def _locked_row(statement: Statement) -> Statement:
    return Statement.objects.select_for_update().get(pk=statement.pk)


@transaction.atomic
def statement_recompute(*, actor: Any, statement: Statement) -> Statement:
    """Compute a draft again from today's data; a reviewed or locked statement is not recomputed."""
    require(actor, "statements", "change")
    statement = _locked_row(statement)
    if statement.status != StatementStatus.DRAFT:
        raise Conflict(_("Only a draft statement is computed again."))
    before = str(statement.total)
    _store_lines(statement)
    statement.save(update_fields=["total", "computed_at", "updated_at"])
    audit.record(actor, "statement.recomputed", statement, changes={"total": [before, str(statement.total)]})
    return statement


@transaction.atomic
def statement_review(*, actor: Any, statement: Statement) -> Statement:
    """The owner has reviewed the draft."""
    require(actor, "statements", "change")
    statement = _locked_row(statement)
    if statement.status != StatementStatus.DRAFT:
        raise Conflict(_("Only a draft statement can be marked reviewed."))
    statement.status, statement.reviewed_by, statement.reviewed_at = StatementStatus.REVIEWED, actor, timezone.now()
    statement.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
    audit.record(actor, "statement.reviewed", statement, changes={"status": ["draft", "reviewed"]})
    return statement


@transaction.atomic
def statement_lock(*, actor: Any, statement: Statement) -> Statement:
    """Lock a reviewed statement: from now on it never changes."""
    require(actor, "statements", "change")
    statement = _locked_row(statement)
    if statement.status != StatementStatus.REVIEWED:
        raise Conflict(_("Only a reviewed statement can be locked."))
    statement.status, statement.locked_by, statement.locked_at = StatementStatus.LOCKED, actor, timezone.now()
    statement.save(update_fields=["status", "locked_by", "locked_at", "updated_at"])
    audit.record(actor, "statement.locked", statement, changes={"status": ["reviewed", "locked"],
                                                               "total": str(statement.total)})
    events.emit("statement.locked", payload={"statement_id": statement.pk, "employee_id": statement.employee_id})
    return statement




