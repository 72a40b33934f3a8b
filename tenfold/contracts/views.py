"""Contract, SLA, calendar, rounding and project screens: parse, check access, call a service, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenfold.clients.selectors import access_client, clients_visible
from tenfold.contracts import selectors, services
from tenfold.contracts.businesstime import WEEKDAYS, format_intervals, week_from_json
from tenfold.contracts.forms import (
    DAY_LABELS,
    AddendumAddOnFormSet,
    AddendumForm,
    AddOnForm,
    CalendarForm,
    ContractForm,
    CoverageUserForm,
    EndContractForm,
    MilestoneForm,
    ProjectForm,
    RoundingRuleForm,
    SlaPolicyForm,
    TaskForm,
    add_service_errors,
    addon_changes,
)
from tenfold.contracts.models import (
    AddendumStatus,
    ContractStatus,
    ContractType,
    MilestoneStatus,
    ProjectKind,
    ProjectStatus,
)
from tenfold.core.errors import PermissionDenied, TenfoldError
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.roles import has_capability, require


def _contract_columns(portal: bool) -> list[Column]:
    columns = [
        Column("number", gettext_lazy("Number"), sort="number",
               link=lambda c: reverse("contracts:contract_detail", args=[c.pk])),
        Column("title", gettext_lazy("Title"), sort="title"),
        Column("client", gettext_lazy("Client"), sort="client__name",
               link=None if portal else (lambda c: reverse("clients:client_detail", args=[c.client_id]))),
        Column("type", gettext_lazy("Type"), sort="type"),
        Column("plan", gettext_lazy("Plan"), sort="plan__name", accessor=lambda c: c.plan or "—"),
        Column("status", gettext_lazy("Status"), sort="status", badge=True),
        Column("start_date", gettext_lazy("Start"), sort="start_date"),
        Column("end_date", gettext_lazy("End"), sort="end_date", accessor=lambda c: c.end_date or "—"),
    ]
    return columns


_CONTRACT_FILTERS = [
    ChoiceFilter("status", gettext_lazy("Status"), "status", lambda r: list(ContractStatus.choices)),
    ChoiceFilter("type", gettext_lazy("Type"), "type", lambda r: list(ContractType.choices)),
]
CONTRACT_LIST = ListSpec(columns=_contract_columns(False), filters=[
    *_CONTRACT_FILTERS, ChoiceFilter("client", gettext_lazy("Client"), "client_id", lambda r: [
        (str(pk), name) for pk, name in clients_visible(r.user).values_list("pk", "name")])],
    search_fields=["number", "title", "client__name", "plan__name", "notes"], default_sort="-start_date")
PORTAL_CONTRACT_LIST = ListSpec(columns=_contract_columns(True), filters=_CONTRACT_FILTERS,
                                search_fields=["number", "title"], default_sort="-start_date")

PROJECT_LIST = ListSpec(
    columns=[
        Column("name", gettext_lazy("Name"), sort="name", link=lambda p: reverse("contracts:project_detail",
                                                                                  args=[p.pk])),
        Column("client", gettext_lazy("Client"), sort="client__name",
               link=lambda p: reverse("clients:client_detail", args=[p.client_id])),
        Column("kind", gettext_lazy("Kind"), sort="kind"),
        Column("billing", gettext_lazy("Billing"), sort="billing"),
        Column("budgeted_hours", gettext_lazy("Budgeted hours"), sort="budgeted_hours"),
        Column("status", gettext_lazy("Status"), sort="status", badge=True),
        Column("due_date", gettext_lazy("Due"), sort="due_date", accessor=lambda p: p.due_date or "—"),
    ],
    search_fields=["name", "description", "client__name"],
    filters=[ChoiceFilter("status", gettext_lazy("Status"), "status", lambda r: list(ProjectStatus.choices)),
             ChoiceFilter("kind", gettext_lazy("Kind"), "kind", lambda r: list(ProjectKind.choices))],
    default_sort="-created_at",
)


def _is_portal(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_portal", True))


def _staff_only(request: HttpRequest) -> None:
    # Called after the object is fetched: another client's record is a 404 for a portal user, their own a 403.
    if _is_portal(request):
        raise PermissionDenied()


def _form_page(request: HttpRequest, form: Any, *, title: str, cancel_url: str, status: int = 200,
               **extra: Any) -> HttpResponse:
    return render(request, "contracts/form.html", {"form": form, "title": title, "cancel_url": cancel_url, **extra},
                  status=status)


def _run_form(request: HttpRequest, form: Any, write: Callable[[dict[str, Any]], Any], *, success: str,
              redirect_to: Callable[[Any], str], title: str, cancel_url: str, **extra: Any) -> HttpResponse:
    """Validate the form, call the service, show its errors beside the fields or redirect."""
    if request.method == "POST" and form.is_valid():
        try:
            result = write(form.service_data())
        except TenfoldError as exc:
            if exc.status in (403, 404):
                raise
            add_service_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect(redirect_to(result))
    status = 422 if request.method == "POST" else 200
    return _form_page(request, form, title=title, cancel_url=cancel_url, status=status, **extra)


def _post_action(request: HttpRequest, action: Callable[[], Any], *, success: str, back: str) -> HttpResponse:
    try:
        action()
    except TenfoldError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, success)
    return redirect(back)


# --- Contracts -------------------------------------------------------------------------------------------


@login_required
def contract_list(request: HttpRequest) -> HttpResponse:
    """Every visible contract (a portal administrator sees their own company's), searchable and sortable."""
    queryset = selectors.contracts_visible(request.user)
    portal = _is_portal(request)
    return render_list(request, queryset, PORTAL_CONTRACT_LIST if portal else CONTRACT_LIST,
                       template="contracts/contract_list.html", context={
                           "portal": portal,
                           "can_add": has_capability(request.user, "contracts", "add") and not portal})


@login_required
@require_http_methods(["GET", "POST"])
def contract_create(request: HttpRequest) -> HttpResponse:
    """New contract (for the client given in ?client=, or chosen in the form)."""
    _staff_only(request)
    require(request.user, "contracts", "add")
    client = None
    if request.GET.get("client"):
        client = access_client(request.user, request.GET["client"])
    if request.method == "POST" and request.POST.get("client"):
        client = access_client(request.user, request.POST["client"])
    form = ContractForm(request.POST or None, clients=clients_visible(request.user).order_by("name"), client=client,
                        initial={"start_date": timezone.localdate()})

    def write(data: dict[str, Any]) -> Any:
        assert client is not None
        return services.contract_create(actor=request.user, client=client, data=data)

    return _run_form(request, form, write, success=_("Contract drafted."),
                     redirect_to=lambda c: reverse("contracts:contract_detail", args=[c.pk]),
                     title=_("New contract"), cancel_url=reverse("contracts:contract_list"))


@login_required
@require_GET
def contract_detail(request: HttpRequest, contract_id: int) -> HttpResponse:
    """A contract: scope, coverage with the devices behind each count, monthly figures, SLA, addenda."""
    contract = selectors.access_contract(request.user, contract_id)
    portal = _is_portal(request)
    user = request.user
    can_change = has_capability(user, "contracts", "change") and not portal
    sla = contract.sla_policy or selectors.default_sla_policy()
    calendar = contract.calendar or sla.calendar
    week = week_from_json(calendar.hours)
    figures = selectors.contract_figures(contract) if contract.is_managed else None
    return render(request, "contracts/contract_detail.html", {
        "contract": contract, "portal": portal, "can_change": can_change,
        "can_delete": has_capability(user, "contracts", "delete") and not portal,
        "show_prices": selectors.can_see_prices(user), "show_costs": selectors.can_see_costs(user),
        "groups": selectors.coverage_groups(contract) if contract.is_managed else [],
        "figures": figures, "sla": sla, "sla_is_default": contract.sla_policy is None, "calendar": calendar,
        "hours": [{"day": DAY_LABELS[i], "text": format_intervals(week[i])} for i in range(len(WEEKDAYS))],
        "holidays": calendar.holidays.filter(date__gte=timezone.localdate()).order_by("date")[:12],
        "addons": contract.addons.select_related("service").order_by("service__name"),
        "addenda": contract.addenda.select_related("new_plan").prefetch_related("addon_changes__service")
        .order_by("-effective_date", "-pk"),
        "projects": contract.projects.order_by("-created_at"), "notice_deadline": selectors.notice_deadline(contract),
        "end_form": EndContractForm(initial={"end_date": timezone.localdate()}),
        "user_form": CoverageUserForm(client=contract.client) if can_change and contract.is_managed else None,
        "staff_links": not portal,
    })


@login_required
@require_http_methods(["GET", "POST"])
def contract_edit(request: HttpRequest, contract_id: int) -> HttpResponse:
    """Edit a contract (commercial terms only while it is a draft)."""
    contract = selectors.access_contract(request.user, contract_id)
    _staff_only(request)
    require(request.user, "contracts", "change")
    form = ContractForm(request.POST or None, instance=contract, clients=clients_visible(request.user))
    return _run_form(request, form, lambda data: services.contract_update(actor=request.user, contract=contract,
                                                                          data=data),
                     success=_("Contract saved."), redirect_to=lambda c: reverse("contracts:contract_detail",
                                                                                 args=[c.pk]),
                     title=_("Edit contract %(number)s") % {"number": contract.number},
                     cancel_url=reverse("contracts:contract_detail", args=[contract.pk]))


@login_required
@require_POST
def contract_delete(request: HttpRequest, contract_id: int) -> HttpResponse:
    """Delete a draft contract."""
    contract = selectors.access_contract(request.user, contract_id)
    _staff_only(request)
    try:
        services.contract_delete(actor=request.user, contract=contract)
    except TenfoldError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
        return redirect("contracts:contract_detail", contract_id=contract.pk)
    messages.success(request, _("Contract deleted."))
    return redirect("contracts:contract_list")


@login_required
@require_POST
def contract_sign(request: HttpRequest, contract_id: int) -> HttpResponse:
    """Sign a draft contract: it becomes active and applies its tier's baseline."""
    contract = selectors.access_contract(request.user, contract_id)
    _staff_only(request)
    return _post_action(request, lambda: services.contract_sign(actor=request.user, contract=contract),
                        success=_("Contract signed: the plan's baseline applies to the client's devices."),
                        back=reverse("contracts:contract_detail", args=[contract.pk]))


@login_required
@require_POST
def contract_end(request: HttpRequest, contract_id: int) -> HttpResponse:
    """End an active contract on a date."""
    contract = selectors.access_contract(request.user, contract_id)
    _staff_only(request)
    require(request.user, "contracts", "change")
    form = EndContractForm(request.POST)
    end = form.cleaned_data["end_date"] if form.is_valid() else None
    return _post_action(request, lambda: services.contract_end(actor=request.user, contract=contract, end_date=end),
                        success=_("Contract ended."), back=reverse("contracts:contract_detail", args=[contract.pk]))


@login_required
@require_POST
def contract_cancel(request: HttpRequest, contract_id: int) -> HttpResponse:
    """Cancel a draft contract."""
    contract = selectors.access_contract(request.user, contract_id)
    _staff_only(request)
    return _post_action(request, lambda: services.contract_cancel(actor=request.user, contract=contract),
                        success=_("Contract cancelled."), back=reverse("contracts:contract_detail", args=[contract.pk]))


@login_required
@require_GET
def client_contracts_panel(request: HttpRequest, client_id: int) -> HttpResponse:
    """The contracts panel of a client's page (an HTMX fragment: clients sits below contracts)."""
    client = access_client(request.user, client_id)
    _staff_only(request)
    require(request.user, "contracts", "view")
    return render(request, "contracts/partials/client_contracts.html", {
        "client": client, "contracts": selectors.client_contract_summary(client.pk),
        "can_add": has_capability(request.user, "contracts", "add"),
        "projects": client.projects.exclude(status__in=[ProjectStatus.DONE, ProjectStatus.CANCELLED])
        .order_by("-created_at")[:10]})


# --- Add-ons, coverage, addenda ------------------------------------------------------------------------------


def _back_to(contract_id: int) -> str:
    return reverse("contracts:contract_detail", args=[contract_id])


@login_required
@require_http_methods(["GET", "POST"])
def addon_create(request: HttpRequest, contract_id: int) -> HttpResponse:
    """Add an add-on to a draft contract."""
    contract = selectors.access_contract(request.user, contract_id)
    _staff_only(request)
    require(request.user, "contracts", "change")
    form = AddOnForm(request.POST or None)
    return _run_form(request, form, lambda data: services.addon_create(actor=request.user, contract=contract,
                                                                       data=data),
                     success=_("Add-on added."), redirect_to=lambda a: _back_to(contract.pk),
                     title=_("Add-on for %(number)s") % {"number": contract.number}, cancel_url=_back_to(contract.pk))


@login_required
@require_http_methods(["GET", "POST"])
def addon_edit(request: HttpRequest, addon_id: int) -> HttpResponse:
    """Change an add-on of a draft contract."""
    addon = selectors.access_addon(request.user, addon_id)
    _staff_only(request)
    require(request.user, "contracts", "change")
    form = AddOnForm(request.POST or None, instance=addon)
    return _run_form(request, form, lambda data: services.addon_update(actor=request.user, addon=addon, data=data),
                     success=_("Add-on saved."), redirect_to=lambda a: _back_to(addon.contract_id),
                     title=str(addon.service), cancel_url=_back_to(addon.contract_id),
                     delete_url=reverse("contracts:addon_delete", args=[addon.pk]))


@login_required
@require_POST
def addon_delete(request: HttpRequest, addon_id: int) -> HttpResponse:
    """Remove an add-on from a draft contract."""
    addon = selectors.access_addon(request.user, addon_id)
    _staff_only(request)
    return _post_action(request, lambda: services.addon_delete(actor=request.user, addon=addon),
                        success=_("Add-on removed."), back=_back_to(addon.contract_id))


@login_required
@require_POST
def coverage_add(request: HttpRequest, contract_id: int) -> HttpResponse:
    """Cover one of the client's contacts as a user."""
    contract = selectors.access_contract(request.user, contract_id)
    _staff_only(request)
    require(request.user, "contracts", "change")
    return _post_action(request, lambda: services.coverage_add_user(
        actor=request.user, contract=contract, contact_id=request.POST.get("contact")),
        success=_("User covered."), back=_back_to(contract.pk))


@login_required
@require_POST
def coverage_end(request: HttpRequest, coverage_id: int) -> HttpResponse:
    """Stop covering a user."""
    row = selectors.access_coverage(request.user, coverage_id)
    _staff_only(request)
    return _post_action(request, lambda: services.coverage_end(actor=request.user, coverage=row),
                        success=_("User no longer covered."), back=_back_to(row.contract_id))


def _addendum_page(request: HttpRequest, contract: Any, addendum: Any = None) -> HttpResponse:
    form = AddendumForm(request.POST or None, instance=addendum)
    initial = [{"service": c.service_id, "remove": c.remove, "per_unit": c.per_unit, "quantity": c.quantity,
                "unit_price": c.unit_price} for c in addendum.addon_changes.all()] if addendum else []
    formset = AddendumAddOnFormSet(request.POST or None, initial=initial, prefix="addons")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = {**form.service_data(), "addon_changes": addon_changes(formset)}
        try:
            if addendum is None:
                services.addendum_create(actor=request.user, contract=contract, data=data)
            else:
                services.addendum_update(actor=request.user, addendum=addendum, data=data)
        except TenfoldError as exc:
            if exc.status in (403, 404):
                raise
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Addendum saved."))
            return redirect(_back_to(contract.pk))
    title = _("Addendum to %(number)s") % {"number": contract.number}
    return _form_page(request, form, title=title, cancel_url=_back_to(contract.pk), formset=formset,
                      status=422 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def addendum_create(request: HttpRequest, contract_id: int) -> HttpResponse:
    """A new addendum: plan, add-ons, prices from an effective date."""
    contract = selectors.access_contract(request.user, contract_id)
    _staff_only(request)
    require(request.user, "contracts", "change")
    return _addendum_page(request, contract)


@login_required
@require_http_methods(["GET", "POST"])
def addendum_edit(request: HttpRequest, addendum_id: int) -> HttpResponse:
    """Change a pending addendum."""
    addendum = selectors.access_addendum(request.user, addendum_id)
    _staff_only(request)
    require(request.user, "contracts", "change")
    if addendum.status != AddendumStatus.PENDING:
        messages.error(request, _("Only a pending addendum can be changed."))
        return redirect(_back_to(addendum.contract_id))
    return _addendum_page(request, addendum.contract, addendum)


@login_required
@require_POST
def addendum_cancel(request: HttpRequest, addendum_id: int) -> HttpResponse:
    """Cancel a pending addendum."""
    addendum = selectors.access_addendum(request.user, addendum_id)
    _staff_only(request)
    return _post_action(request, lambda: services.addendum_cancel(actor=request.user, addendum=addendum),
                        success=_("Addendum cancelled."), back=_back_to(addendum.contract_id))


# --- SLA policies, calendars, rounding rules ----------------------------------------------------------------


def _sla_settings_url() -> str:
    return reverse("contracts:sla_settings")


@login_required
@require_GET
def sla_settings(request: HttpRequest) -> HttpResponse:
    """SLA policies, business-hours calendars and time rounding rules, on one page."""
    _staff_only(request)
    user = request.user
    calendars = []
    for calendar in selectors.calendars_visible(user).order_by("name"):
        week = week_from_json(calendar.hours)
        calendars.append({"calendar": calendar, "hours": [(DAY_LABELS[i], format_intervals(week[i]))
                                                          for i in range(len(WEEKDAYS)) if week[i]]})
    return render(request, "contracts/sla_settings.html", {
        "policies": selectors.sla_policies_visible(user), "calendars": calendars,
        "rules": selectors.rounding_rules_visible(user).order_by("name"),
        "can_add": has_capability(user, "contracts", "add"), "can_change": has_capability(user, "contracts", "change"),
        "can_delete": has_capability(user, "contracts", "delete")})


def _msp_form(request: HttpRequest, form: Any, write: Callable[[dict[str, Any]], Any], *, title: str,
              delete_url: str = "") -> HttpResponse:
    return _run_form(request, form, write, success=_("Saved."), redirect_to=lambda _obj: _sla_settings_url(),
                     title=title, cancel_url=_sla_settings_url(), delete_url=delete_url)


@login_required
@require_http_methods(["GET", "POST"])
def sla_create(request: HttpRequest) -> HttpResponse:
    """New SLA policy."""
    _staff_only(request)
    require(request.user, "contracts", "add")
    return _msp_form(request, SlaPolicyForm(request.POST or None),
                     lambda data: services.sla_policy_create(actor=request.user, data=data), title=_("New SLA policy"))


@login_required
@require_http_methods(["GET", "POST"])
def sla_edit(request: HttpRequest, policy_id: int) -> HttpResponse:
    """Change an SLA policy."""
    policy = selectors.access_sla_policy(request.user, policy_id)
    _staff_only(request)
    require(request.user, "contracts", "change")
    return _msp_form(request, SlaPolicyForm(request.POST or None, instance=policy),
                     lambda data: services.sla_policy_update(actor=request.user, policy=policy, data=data),
                     title=policy.name, delete_url=reverse("contracts:sla_delete", args=[policy.pk])
                     if has_capability(request.user, "contracts", "delete") else "")


@login_required
@require_POST
def sla_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    """Delete an SLA policy."""
    policy = selectors.access_sla_policy(request.user, policy_id)
    _staff_only(request)
    return _post_action(request, lambda: services.sla_policy_delete(actor=request.user, policy=policy),
                        success=_("Deleted."), back=_sla_settings_url())


@login_required
@require_http_methods(["GET", "POST"])
def calendar_create(request: HttpRequest) -> HttpResponse:
    """New business-hours calendar."""
    _staff_only(request)
    require(request.user, "contracts", "add")
    return _msp_form(request, CalendarForm(request.POST or None),
                     lambda data: services.calendar_create(actor=request.user, data=data), title=_("New calendar"))


@login_required
@require_http_methods(["GET", "POST"])
def calendar_edit(request: HttpRequest, calendar_id: int) -> HttpResponse:
    """Change a calendar's hours and holidays."""
    calendar = selectors.access_calendar(request.user, calendar_id)
    _staff_only(request)
    require(request.user, "contracts", "change")
    return _msp_form(request, CalendarForm(request.POST or None, instance=calendar),
                     lambda data: services.calendar_update(actor=request.user, calendar=calendar, data=data),
                     title=calendar.name, delete_url=reverse("contracts:calendar_delete", args=[calendar.pk])
                     if has_capability(request.user, "contracts", "delete") else "")


@login_required
@require_POST
def calendar_delete(request: HttpRequest, calendar_id: int) -> HttpResponse:
    """Delete a calendar nothing uses."""
    calendar = selectors.access_calendar(request.user, calendar_id)
    _staff_only(request)
    return _post_action(request, lambda: services.calendar_delete(actor=request.user, calendar=calendar),
                        success=_("Deleted."), back=_sla_settings_url())


@login_required
@require_http_methods(["GET", "POST"])
def rounding_create(request: HttpRequest) -> HttpResponse:
    """New time rounding rule."""
    _staff_only(request)
    require(request.user, "contracts", "add")
    return _msp_form(request, RoundingRuleForm(request.POST or None),
                     lambda data: services.rounding_rule_create(actor=request.user, data=data),
                     title=_("New rounding rule"))


@login_required
@require_http_methods(["GET", "POST"])
def rounding_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Change a time rounding rule."""
    rule = selectors.access_rounding_rule(request.user, rule_id)
    _staff_only(request)
    require(request.user, "contracts", "change")
    return _msp_form(request, RoundingRuleForm(request.POST or None, instance=rule),
                     lambda data: services.rounding_rule_update(actor=request.user, rule=rule, data=data),
                     title=rule.name, delete_url=reverse("contracts:rounding_delete", args=[rule.pk])
                     if has_capability(request.user, "contracts", "delete") else "")


@login_required
@require_POST
def rounding_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Delete a rounding rule nothing uses."""
    rule = selectors.access_rounding_rule(request.user, rule_id)
    _staff_only(request)
    return _post_action(request, lambda: services.rounding_rule_delete(actor=request.user, rule=rule),
                        success=_("Deleted."), back=_sla_settings_url())


# --- Projects --------------------------------------------------------------------------------------------------


def _project_url(project_id: int) -> str:
    return reverse("contracts:project_detail", args=[project_id])


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    """Every visible project."""
    _staff_only(request)
    return render_list(request, selectors.projects_visible(request.user), PROJECT_LIST,
                       template="contracts/project_list.html",
                       context={"can_add": has_capability(request.user, "contracts", "add")})


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    """New project (for the client given in ?client=, or chosen in the form)."""
    _staff_only(request)
    require(request.user, "contracts", "add")
    client = None
    key = request.POST.get("client") if request.method == "POST" else request.GET.get("client")
    if key:
        client = access_client(request.user, key)
    form = ProjectForm(request.POST or None, clients=clients_visible(request.user).order_by("name"), client=client)

    def write(data: dict[str, Any]) -> Any:
        assert client is not None
        return services.project_create(actor=request.user, client=client, data=data)

    return _run_form(request, form, write, success=_("Project created."), redirect_to=lambda p: _project_url(p.pk),
                     title=_("New project"), cancel_url=reverse("contracts:project_list"))


@login_required
@require_GET
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    """A project: budget, tasks, milestones."""
    project = selectors.access_project(request.user, project_id)
    _staff_only(request)
    return render(request, "contracts/project_detail.html", {
        "project": project, "totals": selectors.project_totals(project),
        "tasks": project.tasks.order_by("done", "pk"), "milestones": project.milestones.order_by("due_date", "pk"),
        "can_change": has_capability(request.user, "contracts", "change"),
        "can_delete": has_capability(request.user, "contracts", "delete"),
        "show_prices": selectors.can_see_prices(request.user), "invoiced": MilestoneStatus.INVOICED})


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, project_id: int) -> HttpResponse:
    """Change a project."""
    project = selectors.access_project(request.user, project_id)
    _staff_only(request)
    require(request.user, "contracts", "change")
    form = ProjectForm(request.POST or None, instance=project, clients=clients_visible(request.user))
    return _run_form(request, form, lambda data: services.project_update(actor=request.user, project=project,
                                                                         data=data),
                     success=_("Project saved."), redirect_to=lambda p: _project_url(p.pk), title=project.name,
                     cancel_url=_project_url(project.pk))


@login_required
@require_POST
def project_delete(request: HttpRequest, project_id: int) -> HttpResponse:
    """Delete a project."""
    project = selectors.access_project(request.user, project_id)
    _staff_only(request)
    try:
        services.project_delete(actor=request.user, project=project)
    except TenfoldError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
        return redirect(_project_url(project.pk))
    messages.success(request, _("Project deleted."))
    return redirect("contracts:project_list")


@login_required
@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest, project_id: int) -> HttpResponse:
    """Add a task."""
    project = selectors.access_project(request.user, project_id)
    _staff_only(request)
    require(request.user, "contracts", "change")
    return _run_form(request, TaskForm(request.POST or None),
                     lambda data: services.task_create(actor=request.user, project=project, data=data),
                     success=_("Task added."), redirect_to=lambda t: _project_url(project.pk),
                     title=_("New task for %(name)s") % {"name": project.name}, cancel_url=_project_url(project.pk))


@login_required
@require_http_methods(["GET", "POST"])
def task_edit(request: HttpRequest, task_id: int) -> HttpResponse:
    """Change a task."""
    task = selectors.access_task(request.user, task_id)
    _staff_only(request)
    require(request.user, "contracts", "change")
    return _run_form(request, TaskForm(request.POST or None, instance=task),
                     lambda data: services.task_update(actor=request.user, task=task, data=data),
                     success=_("Task saved."), redirect_to=lambda t: _project_url(task.project_id), title=task.title,
                     cancel_url=_project_url(task.project_id),
                     delete_url=reverse("contracts:task_delete", args=[task.pk]))


@login_required
@require_POST
def task_delete(request: HttpRequest, task_id: int) -> HttpResponse:
    """Remove a task."""
    task = selectors.access_task(request.user, task_id)
    _staff_only(request)
    return _post_action(request, lambda: services.task_delete(actor=request.user, task=task),
                        success=_("Task removed."), back=_project_url(task.project_id))


@login_required
@require_http_methods(["GET", "POST"])
def milestone_create(request: HttpRequest, project_id: int) -> HttpResponse:
    """Add a milestone."""
    project = selectors.access_project(request.user, project_id)
    _staff_only(request)
    require(request.user, "contracts", "change")
    return _run_form(request, MilestoneForm(request.POST or None),
                     lambda data: services.milestone_create(actor=request.user, project=project, data=data),
                     success=_("Milestone added."), redirect_to=lambda m: _project_url(project.pk),
                     title=_("New milestone for %(name)s") % {"name": project.name},
                     cancel_url=_project_url(project.pk))


@login_required
@require_http_methods(["GET", "POST"])
def milestone_edit(request: HttpRequest, milestone_id: int) -> HttpResponse:
    """Change a milestone or mark it reached."""
    milestone = selectors.access_milestone(request.user, milestone_id)
    _staff_only(request)
    require(request.user, "contracts", "change")
    return _run_form(request, MilestoneForm(request.POST or None, instance=milestone),
                     lambda data: services.milestone_update(actor=request.user, milestone=milestone, data=data),
                     success=_("Milestone saved."), redirect_to=lambda m: _project_url(milestone.project_id),
                     title=milestone.name, cancel_url=_project_url(milestone.project_id),
                     delete_url=reverse("contracts:milestone_delete", args=[milestone.pk]))


@login_required
@require_POST
def milestone_delete(request: HttpRequest, milestone_id: int) -> HttpResponse:
    """Remove a milestone not yet invoiced."""
    milestone = selectors.access_milestone(request.user, milestone_id)
    _staff_only(request)
    return _post_action(request, lambda: services.milestone_delete(actor=request.user, milestone=milestone),
                        success=_("Milestone removed."), back=_project_url(milestone.project_id))

