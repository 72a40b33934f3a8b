"""People screens: parse, check access, call a service, render."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from tenfold.clients.models import Client
from tenfold.core.errors import Conflict, PermissionDenied, TenfoldError, ValidationError
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.roles import has_capability, has_privilege, require
from tenfold.people import compensation, reports, selectors, services
from tenfold.people.forms import (
    CycleForm,
    EmployeeForm,
    PlanEndForm,
    PlanForm,
    ReviewForm,
    RuleForm,
    SettingsForm,
    SplitForm,
    StatementDraftForm,
    TargetForm,
    TeamDeleteForm,
    TeamForm,
    TrainingForm,
    add_service_errors,
    rule_error_field,
)
from tenfold.people.measures import Period, peer_review_aggregate, people_settings, previous_quarter, quarter_of
from tenfold.people.models import (
    CRITERIA,
    PeerReview,
    PlanRole,
    RoleTarget,
    Statement,
    StatementStatus,
    Team,
    TrainingKind,
)


def _staff_only(request: HttpRequest) -> None:
    if getattr(request.user, "is_portal", True):
        raise PermissionDenied()


def _form_page(request: HttpRequest, form: Any, *, title: str, cancel_url: str, **extra: Any) -> HttpResponse:
    return render(request, "people/form.html", {"form": form, "title": title, "cancel_url": cancel_url, **extra})


def _quarter(request: HttpRequest) -> Period:
    value = request.GET.get("quarter", "")
    try:
        return quarter_of(date.fromisoformat(value))
    except ValueError:
        return previous_quarter()


# --- Employees --------------------------------------------------------------------------------------------------


def _team_choices(request: HttpRequest) -> list[tuple[str, Any]]:
    return [(str(pk), name) for pk, name in Team.objects.order_by("name").values_list("pk", "name")]


def _tabs(request: HttpRequest) -> dict[str, Any]:
    return {"can_plans": has_capability(request.user, "compensation", "view"),
            "can_kpis": has_capability(request.user, "kpis", "view")}


EMPLOYEE_LIST = ListSpec(
    columns=[
        Column("name", gettext_lazy("Name"), accessor=str, sort="user__first_name",
               link=lambda e: reverse("people:employee_detail", args=[e.pk])),
        Column("team", gettext_lazy("Team"), accessor=lambda e: e.team or "—", sort="team__name"),
        Column("manager", gettext_lazy("Reports to"), accessor=lambda e: e.manager or "—"),
        Column("plan_role", gettext_lazy("Plan role"), sort="plan_role"),
        Column("start_date", gettext_lazy("Start date"), sort="start_date"),
        Column("active", gettext_lazy("Status"), accessor=lambda e: _("Active") if e.active else _("Left"), badge=True,
               badge_key=lambda e: "active" if e.active else "inactive"),
    ],
    search_fields=["user__first_name", "user__last_name", "user__email"],
    filters=[ChoiceFilter("team", gettext_lazy("Team"), "team_id", _team_choices),
             ChoiceFilter("plan_role", gettext_lazy("Plan role"), "plan_role", lambda r: list(PlanRole.choices)),
             ChoiceFilter("active", gettext_lazy("Status"), "active",
                          lambda r: [("True", _("Active")), ("False", _("Left"))])],
    default_sort="name",
)


@login_required
def employee_list(request: HttpRequest) -> HttpResponse:
    """The employees whose people data you see: yourself, your team, or everyone; searched, filtered by team, plan
    role and status, sorted and paginated."""
    _staff_only(request)
    employees = selectors.employees_visible(request.user)
    return render_list(request, employees, EMPLOYEE_LIST, template="people/employee_list.html", context={
        "me": selectors.employee_of(request.user), "can_add": has_capability(request.user, "compensation", "add"),
        **_tabs(request)})


@login_required
@require_http_methods(["GET", "POST"])
def employee_create(request: HttpRequest) -> HttpResponse:
    """Make a staff user an employee."""
    _staff_only(request)
    require(request.user, "compensation", "add")
    form = EmployeeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            employee = services.employee_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Employee added."))
            return redirect("people:employee_detail", employee_id=employee.pk)
    return _form_page(request, form, title=_("New employee"), cancel_url=reverse("people:employee_list"))


@login_required
def employee_detail(request: HttpRequest, employee_id: int) -> HttpResponse:
    """An employee: details, trainings against the target, peer reviews in aggregate, statements."""
    employee = selectors.access_employee(request.user, employee_id)
    year_start = date(timezone.localdate().year, 1, 1)
    trainings = employee.trainings.order_by("-date", "pk")
    hours = sum((t.hours for t in trainings if t.date >= year_start), Decimal("0.00"))
    target = RoleTarget.objects.filter(plan_role=employee.plan_role).first()
    today = timezone.localdate()
    valid_certifications = sum(1 for t in trainings if t.kind == TrainingKind.CERTIFICATION
                               and (t.expires_on is None or t.expires_on >= today))
    cycles = (PeerReview.objects.filter(reviewee=employee).values_list("cycle_id", "cycle__name")
              .distinct().order_by("-cycle_id"))
    reviews = [{"name": name, **peer_review_aggregate(employee, cycle_id=cycle_id)} for cycle_id, name in cycles]
    labels = dict(CRITERIA)
    for review in reviews:
        review["rows"] = [(labels[k], v) for k, v in review["criteria"].items()]
    return render(request, "people/employee_detail.html", {
        "employee": employee, "trainings": trainings, "hours_this_year": hours, "target": target,
        "valid_certifications": valid_certifications,
        "reviews": reviews, "statements": employee.statements.order_by("-period_start"),
        "can_change": has_capability(request.user, "compensation", "change"),
        "can_train": services.may_record_training(request.user, employee),
        "quarter": previous_quarter()})


@login_required
@require_http_methods(["GET", "POST"])
def employee_edit(request: HttpRequest, employee_id: int) -> HttpResponse:
    """Change an employee's team, manager, plan role or pay."""
    employee = selectors.access_employee(request.user, employee_id)
    require(request.user, "compensation", "change")
    form = EmployeeForm(request.POST or None, instance=employee)
    if request.method == "POST" and form.is_valid():
        try:
            services.employee_update(actor=request.user, employee=employee, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Employee saved."))
            return redirect("people:employee_detail", employee_id=employee.pk)
    return _form_page(request, form, title=_("Edit %(name)s") % {"name": employee},
                      cancel_url=reverse("people:employee_detail", args=[employee.pk]))


@login_required
def employee_scorecard(request: HttpRequest, employee_id: int) -> HttpResponse:
    """The technician scorecard of a quarter (?quarter=YYYY-MM-DD)."""
    employee = selectors.access_employee(request.user, employee_id)
    quarter = _quarter(request)
    visible = Client.objects.visible_to(request.user).values_list("pk", flat=True)
    card = reports.scorecard(employee, quarter, visible)
    from tenfold.people.forms import quarter_choices

    return render(request, "people/scorecard.html", {
        "employee": employee, "card": card, "quarters": quarter_choices(timezone.localdate()),
        "criteria": [(dict(CRITERIA)[k], v) for k, v in card["peer_review"]["criteria"].items()]})


@login_required
@require_http_methods(["GET", "POST"])
def training_create(request: HttpRequest, employee_id: int) -> HttpResponse:
    """Record a training or certification."""
    employee = selectors.access_employee(request.user, employee_id)
    form = TrainingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.training_create(actor=request.user, employee=employee, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Training recorded."))
            return redirect(reverse("people:employee_detail", args=[employee.pk]) + "#trainings")
    return _form_page(request, form, title=_("New training for %(name)s") % {"name": employee},
                      cancel_url=reverse("people:employee_detail", args=[employee.pk]))


@login_required
@require_POST
def training_delete(request: HttpRequest, training_id: int) -> HttpResponse:
    """Remove a training record."""
    training = selectors.access_training(request.user, training_id)
    employee_id = training.employee_id
    services.training_delete(actor=request.user, training=training)
    messages.success(request, _("Training removed."))
    return redirect(reverse("people:employee_detail", args=[employee_id]) + "#trainings")


# --- Plans ------------------------------------------------------------------------------------------------------


PLAN_LIST = ListSpec(
    columns=[
        Column("name", gettext_lazy("Name"), sort="name", link=lambda p: reverse("people:plan_detail", args=[p.pk])),
        Column("plan_role", gettext_lazy("Plan role"), sort="plan_role"),
        Column("effective_from", gettext_lazy("In force from"), sort="effective_from"),
        Column("effective_to", gettext_lazy("In force until"), accessor=lambda p: p.effective_to or "—",
               sort="effective_to"),
    ],
    search_fields=["name", "notes"],
    filters=[ChoiceFilter("plan_role", gettext_lazy("Plan role"), "plan_role", lambda r: list(PlanRole.choices))],
    default_sort="-effective_from",
)


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """Compensation plans by role and dates; searched, filtered by role, sorted and paginated."""
    _staff_only(request)
    plans = selectors.plans_visible(request.user)
    return render_list(request, plans, PLAN_LIST, template="people/plan_list.html", context={
        "can_add": has_capability(request.user, "compensation", "add")})


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    """New compensation plan."""
    _staff_only(request)
    require(request.user, "compensation", "add")
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Plan created: add its rules."))
            return redirect("people:plan_detail", plan_id=plan.pk)
    return _form_page(request, form, title=_("New compensation plan"), cancel_url=reverse("people:plan_list"))


@login_required
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    """A plan: its rules, the rule builder, the alignment check and the preview of last quarter."""
    _staff_only(request)
    plan = selectors.access_plan(request.user, plan_id)
    can_change = has_capability(request.user, "compensation", "change")
    return render(request, "people/plan_detail.html", {
        "plan": plan, "rules": plan.rules.select_related("service").order_by("position", "pk"),
        "warnings": compensation.alignment_warnings(plan), "can_change": can_change,
        "can_delete": has_capability(request.user, "compensation", "delete"),
        "rule_form": RuleForm() if can_change else None, "quarter": previous_quarter()})


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Change a plan's name, role or dates."""
    _staff_only(request)
    plan = selectors.access_plan(request.user, plan_id)
    require(request.user, "compensation", "change")
    form = PlanForm(request.POST or None, instance=plan)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_update(actor=request.user, plan=plan, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Plan saved."))
            return redirect("people:plan_detail", plan_id=plan.pk)
    return _form_page(request, form, title=_("Edit %(name)s") % {"name": plan.name},
                      cancel_url=reverse("people:plan_detail", args=[plan.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def plan_delete(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Delete a plan after confirmation; a plan that statements were computed with is ended instead."""
    _staff_only(request)
    plan = selectors.access_plan(request.user, plan_id)
    require(request.user, "compensation", "delete")
    if request.method == "POST":
        try:
            services.plan_delete(actor=request.user, plan=plan)
        except Conflict as exc:
            messages.error(request, str(exc.message))
            return redirect("people:plan_delete", plan_id=plan.pk)
        messages.success(request, _("Plan deleted."))
        return redirect("people:plan_list")
    return render(request, "people/plan_delete.html", {
        "plan": plan, "used": services.plan_statement_count(plan), "rules": plan.rules.count(),
        "end_form": PlanEndForm(initial={"effective_to": plan.effective_to or timezone.localdate()})})


@login_required
@require_http_methods(["GET", "POST"])
def plan_end(request: HttpRequest, plan_id: int) -> HttpResponse:
    """End a plan: set its last day in force."""
    _staff_only(request)
    plan = selectors.access_plan(request.user, plan_id)
    require(request.user, "compensation", "change")
    form = PlanEndForm(request.POST or None, initial={"effective_to": plan.effective_to or timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_end(actor=request.user, plan=plan, last_day=form.cleaned_data["effective_to"])
        except ValidationError as exc:
            plan.refresh_from_db()
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Plan ended."))
            return redirect("people:plan_detail", plan_id=plan.pk)
    return _form_page(request, form, title=_("End %(name)s") % {"name": plan.name},
                      cancel_url=reverse("people:plan_detail", args=[plan.pk]))


@login_required
def plan_preview(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Every employee's variable pay last quarter under this plan (a fragment for HTMX, else a page)."""
    _staff_only(request)
    plan = selectors.access_plan(request.user, plan_id)
    quarter = _quarter(request)
    rows = compensation.preview(plan, quarter)
    context = {"plan": plan, "rows": rows, "quarter": quarter,
               "total": sum((row["total"] for row in rows), Decimal("0.00"))}
    if request.headers.get("HX-Request"):
        return render(request, "people/partials/preview.html", context)
    return render(request, "people/plan_preview.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Add a rule with the builder."""
    _staff_only(request)
    plan = selectors.access_plan(request.user, plan_id)
    require(request.user, "compensation", "change")
    form = RuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.rule_create(actor=request.user, plan=plan, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc, rename=rule_error_field)
        else:
            messages.success(request, _("Rule added."))
            return redirect("people:plan_detail", plan_id=plan.pk)
    return render(request, "people/rule_form.html", {
        "form": form, "plan": plan, "title": _("New rule"), "action": reverse("people:rule_create", args=[plan.pk])})


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Change a rule."""
    _staff_only(request)
    rule = selectors.access_rule(request.user, rule_id)
    require(request.user, "compensation", "change")
    form = RuleForm(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            services.rule_update(actor=request.user, rule=rule, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc, rename=rule_error_field)
        else:
            messages.success(request, _("Rule saved."))
            return redirect("people:plan_detail", plan_id=rule.plan_id)
    return render(request, "people/rule_form.html", {
        "form": form, "plan": rule.plan, "title": _("Edit rule"), "action": reverse("people:rule_edit", args=[rule.pk]),
        "delete_url": reverse("people:rule_delete", args=[rule.pk])})


@login_required
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Remove a rule."""
    _staff_only(request)
    rule = selectors.access_rule(request.user, rule_id)
    plan_id = rule.plan_id
    services.rule_delete(actor=request.user, rule=rule)
    messages.success(request, _("Rule removed."))
    return redirect("people:plan_detail", plan_id=plan_id)


# --- Peer reviews -----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def cycle_list(request: HttpRequest) -> HttpResponse:
    """Review cycles; the owner opens new ones here."""
    _staff_only(request)
    can_add = has_capability(request.user, "compensation", "add")
    form = CycleForm(request.POST or None) if can_add else None
    if request.method == "POST":
        require(request.user, "compensation", "add")
        assert form is not None
        if form.is_valid():
            try:
                cycle = services.cycle_create(actor=request.user, data=form.service_data())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Review cycle opened."))
                return redirect("people:cycle_detail", cycle_id=cycle.pk)
    return render(request, "people/cycle_list.html", {"cycles": selectors.cycles_visible(request.user), "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def cycle_detail(request: HttpRequest, cycle_id: int) -> HttpResponse:
    """A cycle: review chosen colleagues; see the reviews you wrote (never the ones about you, by author)."""
    cycle = selectors.access_cycle(request.user, cycle_id)
    me = selectors.employee_of(request.user)
    form = ReviewForm(request.POST or None, reviewer=me)
    if request.method == "POST":
        if not has_privilege(request.user, "peer_reviews.write"):
            raise PermissionDenied()
        if form.is_valid():
            try:
                services.review_submit(actor=request.user, cycle=cycle, data=form.service_data())
            except ValidationError as exc:
                add_service_errors(form, exc)
            except TenfoldError as exc:
                if exc.status == 403:
                    raise
                messages.error(request, str(exc.message))
            else:
                messages.success(request, _("Review saved. The person reviewed sees only averages."))
                return redirect("people:cycle_detail", cycle_id=cycle.pk)
    written = (PeerReview.objects.filter(cycle=cycle, reviewer=me).select_related("reviewee__user")
               if me else PeerReview.objects.none())
    return render(request, "people/cycle_detail.html", {
        "cycle": cycle, "form": form, "me": me, "written": written,
        "mine": peer_review_aggregate(me, cycle_id=cycle.pk) if me else None,
        "criteria": CRITERIA, "can_close": has_capability(request.user, "compensation", "change")})


@login_required
@require_POST
def cycle_close(request: HttpRequest, cycle_id: int) -> HttpResponse:
    """Close a cycle."""
    cycle = selectors.access_cycle(request.user, cycle_id)
    try:
        services.cycle_close(actor=request.user, cycle=cycle)
    except TenfoldError as exc:
        if exc.status == 403:
            raise
        messages.error(request, str(exc.message))
    return redirect("people:cycle_detail", cycle_id=cycle.pk)


# --- Statements -------------------------------------------------------------------------------------------------


STATEMENT_LIST = ListSpec(
    columns=[
        Column("employee", gettext_lazy("Employee"), accessor=lambda s: s.employee, sort="employee__user__first_name"),
        Column("period_start", gettext_lazy("Quarter"),
               accessor=lambda s: f"{s.period_start.year} Q{(s.period_start.month - 1) // 3 + 1}",
               sort="period_start", link=lambda s: reverse("people:statement_detail", args=[s.pk])),
        Column("total", gettext_lazy("Variable pay"), sort="total"),
        Column("status", gettext_lazy("Status"), badge=True, sort="status"),
    ],
    search_fields=["employee__user__first_name", "employee__user__last_name"],
    filters=[ChoiceFilter("status", gettext_lazy("Status"), "status", lambda r: list(StatementStatus.choices)),
             ChoiceFilter("team", gettext_lazy("Team"), "employee__team_id", _team_choices)],
    default_sort="-period_start",
)


@login_required
@require_http_methods(["GET", "POST"])
def statement_list(request: HttpRequest) -> HttpResponse:
    """Statements you may see, searched, filtered by status and team, sorted and paginated; the owner drafts new
    ones here."""
    _staff_only(request)
    statements = selectors.statements_visible(request.user)
    can_add = has_capability(request.user, "statements", "add")
    form = StatementDraftForm(request.POST or None, employees=selectors.employees_visible(request.user),
                              today=timezone.localdate()) if can_add else None
    if request.method == "POST":
        require(request.user, "statements", "add")
        assert form is not None
        if form.is_valid():
            try:
                statement = services.statement_draft(actor=request.user, employee=form.cleaned_data["employee"],
                                                     quarter_start=date.fromisoformat(form.cleaned_data["quarter"]))
            except ValidationError as exc:
                add_service_errors(form, exc, rename=lambda name: "quarter" if name == "period_start" else name)
            else:
                messages.success(request, _("Statement drafted."))
                return redirect("people:statement_detail", statement_id=statement.pk)
    return render_list(request, statements, STATEMENT_LIST, template="people/statement_list.html",
                       context={"form": form})


@login_required
def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
    """A statement: every line with its measure, value, rule and records."""
    statement = selectors.access_statement(request.user, statement_id)
    return render(request, "people/statement_detail.html", {
        "statement": statement, "lines": statement.lines.order_by("position", "pk"),
        "can_change": has_capability(request.user, "statements", "change"), "Status": StatementStatus})


def _statement_action(request: HttpRequest, statement_id: int, action: Any, done: str) -> HttpResponse:
    statement: Statement = selectors.access_statement(request.user, statement_id)
    try:
        action(actor=request.user, statement=statement)
    except TenfoldError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, done)
    return redirect("people:statement_detail", statement_id=statement.pk)


@login_required
@require_POST
def statement_recompute(request: HttpRequest, statement_id: int) -> HttpResponse:
    """Compute a draft again."""
    return _statement_action(request, statement_id, services.statement_recompute, _("Statement computed again."))


@login_required
@require_POST
def statement_review(request: HttpRequest, statement_id: int) -> HttpResponse:
    """Mark a draft reviewed."""
    return _statement_action(request, statement_id, services.statement_review, _("Statement reviewed."))


@login_required
@require_POST
def statement_lock(request: HttpRequest, statement_id: int) -> HttpResponse:
    """Lock a reviewed statement."""
    return _statement_action(request, statement_id, services.statement_lock, _("Statement locked."))


# --- Teams and training targets -------------------------------------------------------------------------------


TEAM_LIST = ListSpec(
    columns=[
        Column("name", gettext_lazy("Name"), sort="name", link=lambda t: reverse("people:team_detail", args=[t.pk])),
        Column("member_count", gettext_lazy("Members"), sort="member_count"),
    ],
    search_fields=["name"],
    default_sort="name",
)


@login_required
@require_http_methods(["GET", "POST"])
def team_list(request: HttpRequest) -> HttpResponse:
    """Teams with the number of members you see; the owner adds teams here."""
    _staff_only(request)
    teams = selectors.teams_visible(request.user)
    can_add = has_capability(request.user, "compensation", "add")
    form = TeamForm(request.POST or None) if can_add else None
    if request.method == "POST":
        require(request.user, "compensation", "add")
        assert form is not None
        if form.is_valid():
            try:
                team = services.team_create(actor=request.user, name=form.cleaned_data["name"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Team added."))
                return redirect("people:team_detail", team_id=team.pk)
    return render_list(request, teams, TEAM_LIST, template="people/team_list.html",
                       context={"form": form, **_tabs(request)})


@login_required
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    """A team and those of its members whose people data you see."""
    _staff_only(request)
    team = selectors.access_team(request.user, team_id)
    return render(request, "people/team_detail.html", {
        "team": team, "members": selectors.team_members(request.user, team),
        "can_change": has_capability(request.user, "compensation", "change"),
        "can_delete": has_capability(request.user, "compensation", "delete")})


@login_required
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    """Rename a team."""
    _staff_only(request)
    team = selectors.access_team(request.user, team_id)
    require(request.user, "compensation", "change")
    form = TeamForm(request.POST or None, instance=team)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_rename(actor=request.user, team=team, name=form.cleaned_data["name"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Team renamed."))
            return redirect("people:team_detail", team_id=team.pk)
    return _form_page(request, form, title=_("Rename %(name)s") % {"name": team.name},
                      cancel_url=reverse("people:team_detail", args=[team.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def team_delete(request: HttpRequest, team_id: int) -> HttpResponse:
    """Delete a team after confirmation: refused while it has members unless the owner chooses to take them out
    of the team."""
    _staff_only(request)
    team = selectors.access_team(request.user, team_id)
    require(request.user, "compensation", "delete")
    form = TeamDeleteForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.team_delete(actor=request.user, team=team,
                                         unassign_members=form.cleaned_data["unassign_members"])
        except Conflict as exc:
            error = str(exc.message)
        else:
            messages.success(request, ngettext("Team deleted; %(n)s employee is now without a team.",
                                               "Team deleted; %(n)s employees are now without a team.", moved)
                             % {"n": moved} if moved else _("Team deleted."))
            return redirect("people:team_list")
    return render(request, "people/team_delete.html", {
        "team": team, "form": form, "error": error, "members": team.members.count()},
        status=409 if error else 200)


@login_required
def target_list(request: HttpRequest) -> HttpResponse:
    """Personal-development targets per plan role."""
    _staff_only(request)
    return render(request, "people/target_list.html", {
        "rows": selectors.role_targets(request.user),
        "can_change": has_capability(request.user, "compensation", "change"), **_tabs(request)})


@login_required
@require_http_methods(["GET", "POST"])
def target_edit(request: HttpRequest, plan_role: str) -> HttpResponse:
    """Set a plan role's yearly training hours and certifications to hold."""
    _staff_only(request)
    role = selectors.access_plan_role(request.user, plan_role)
    require(request.user, "compensation", "change")
    current = RoleTarget.objects.filter(plan_role=role).first() or RoleTarget(plan_role=role)
    form = TargetForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.role_target_set(actor=request.user, plan_role=role, **form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Target saved."))
            return redirect("people:target_list")
    return _form_page(request, form, title=_("Training target: %(role)s") % {"role": PlanRole(role).label},
                      cancel_url=reverse("people:target_list"))


# --- Clients, splits, settings ----------------------------------------------------------------------------------


@login_required
def satisfied_clients(request: HttpRequest) -> HttpResponse:
    """Clients by satisfaction, with the services they buy."""
    _staff_only(request)
    require(request.user, "kpis", "view")
    return render(request, "people/satisfied_clients.html", {"rows": reports.most_satisfied_clients(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def deal_splits(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Share a deal's commission between employees."""
    deal = selectors.access_deal_for_splits(request.user, deal_id)
    current = list(selectors.splits_of_deal(deal))
    initial: dict[str, Any] = {}
    for i, split in enumerate(current, start=1):
        initial[f"employee{i}"], initial[f"share{i}"] = split.employee_id, split.share_pct
    form = SplitForm(request.POST or None, initial=initial)
    if request.method == "POST":
        require(request.user, "compensation", "change")
        if form.is_valid():
            try:
                services.splits_set(actor=request.user, deal=deal, shares=form.shares())
            except ValidationError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Split saved."))
                return redirect("people:deal_splits", deal_id=deal.pk)
    return render(request, "people/deal_splits.html", {
        "deal": deal, "form": form, "splits": current,
        "can_change": has_capability(request.user, "compensation", "change")})


@login_required
@require_http_methods(["GET", "POST"])
def people_settings_view(request: HttpRequest) -> HttpResponse:
    """Minimum number of reviewers, working hours per day."""
    _staff_only(request)
    require(request.user, "compensation", "change")
    form = SettingsForm(request.POST or None, instance=people_settings())
    if request.method == "POST" and form.is_valid():
        try:
            services.settings_update(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("people:settings")
    return _form_page(request, form, title=_("People settings"), cancel_url=reverse("people:employee_list"))
