"""Catalog screens: services, offerings with their three tiers, and the plan builder.

Parse, fetch, check the role, call a service or selector, render. The plan builder's price inputs post
with HTMX and get back the plan's economics (lines, cost model, sensitivity), so the margin moves as
the price changes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenfold.catalog import selectors, services
from tenfold.catalog.forms import (
    CountsForm,
    OfferingForm,
    PlanForm,
    PlanItemAddForm,
    PlanItemPriceForm,
    ServiceForm,
    add_service_errors,
)
from tenfold.catalog.models import Plan, ServiceCategory, UnitKind
from tenfold.catalog.templatetags.catalog import money, quantity
from tenfold.core.errors import TenfoldError, ValidationError
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.roles import has_capability, require


def _yes(value: bool) -> str:
    return _("Yes") if value else ""


def service_list_spec(currency: str) -> ListSpec:
    """The services table, with amounts in the organization's currency."""
    columns = [
        Column("name", gettext_lazy("Name"), sort="name",
               link=lambda s: reverse("catalog:service_detail", args=[s.pk])),
        Column("category", gettext_lazy("Category"), sort="category"),
        Column("unit", gettext_lazy("Unit"), sort="unit"),
        Column("list_price", gettext_lazy("List price"), sort="list_price",
               accessor=lambda s: money(s.list_price, currency)),
        Column("unit_cost", gettext_lazy("Tool cost"), sort="unit_cost",
               accessor=lambda s: money(s.unit_cost, currency)),
        Column("labour_minutes", gettext_lazy("Labour (min)"), sort="labour_minutes",
               accessor=lambda s: quantity(s.labour_minutes)),
        Column("is_addon", gettext_lazy("Add-on"), sort="is_addon", accessor=lambda s: _yes(s.is_addon)),
        Column("plan_count", gettext_lazy("Plans"), sort="plan_count"),
        Column("active", gettext_lazy("Status"), sort="active", badge=True,
               accessor=lambda s: _("Active") if s.active else _("Inactive"),
               badge_key=lambda s: "active" if s.active else "inactive"),
    ]
    filters = [
        ChoiceFilter("category", gettext_lazy("Category"), "category", lambda r: list(ServiceCategory.choices)),
        ChoiceFilter("unit", gettext_lazy("Unit"), "unit", lambda r: list(UnitKind.choices)),
        ChoiceFilter("addon", gettext_lazy("Add-on"), "is_addon",
                     lambda r: [("True", _("Add-ons")), ("False", _("Plan services"))]),
        ChoiceFilter("active", gettext_lazy("Status"), "active",
                     lambda r: [("True", _("Active")), ("False", _("Inactive"))]),
    ]
    return ListSpec(columns=columns, search_fields=["name", "code", "description"], filters=filters,
                    default_sort="name")


def _staff_only(request: HttpRequest) -> None:
    # The catalog is the MSP's own: portal users never reach it (403, as a menu they may not use).
    if getattr(request.user, "is_portal", True):
        require(None, "catalog", "view")


def _form_page(request: HttpRequest, form: Any, *, title: str, cancel_url: str, **extra: Any) -> HttpResponse:
    return render(request, "catalog/form.html", {"form": form, "title": title, "cancel_url": cancel_url, **extra})


def _done(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect, as HX-Redirect for an HTMX request."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


# --- Services ---------------------------------------------------------------------------------------

@login_required
@require_GET
def service_list(request: HttpRequest) -> HttpResponse:
    """Every service: search, filter by category, unit, add-on and status, sort, paginate."""
    _staff_only(request)
    queryset = selectors.service_list(request.user)
    return render_list(request, queryset, service_list_spec(selectors.currency()), template="catalog/service_list.html",
                       context={"can_add": has_capability(request.user, "catalog", "add")})


@login_required
@require_GET
def service_detail(request: HttpRequest, service_id: int) -> HttpResponse:
    """A service: price, cost per unit, the policy it implies, the plans that include it."""
    service = selectors.access_service(request.user, service_id)
    _staff_only(request)
    items = service.plan_items.select_related("plan", "plan__offering").order_by("plan__offering__name", "pk")
    return render(request, "catalog/service_detail.html", {
        "service": service, "items": items, "currency": selectors.currency(),
        "hourly_cost": selectors.loaded_hourly_cost(),
        "can_change": has_capability(request.user, "catalog", "change"),
        "can_delete": has_capability(request.user, "catalog", "delete"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def service_create(request: HttpRequest) -> HttpResponse:
    """New service form."""
    _staff_only(request)
    require(request.user, "catalog", "add")
    form = ServiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service = services.service_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Service “%(name)s” created.") % {"name": service.name})
            return redirect("catalog:service_detail", service_id=service.pk)
    return _form_page(request, form, title=_("New service"), cancel_url=reverse("catalog:service_list"))


@login_required
@require_http_methods(["GET", "POST"])
def service_edit(request: HttpRequest, service_id: int) -> HttpResponse:
    """Edit a service."""
    service = selectors.access_service(request.user, service_id)
    _staff_only(request)
    require(request.user, "catalog", "change")
    form = ServiceForm(request.POST or None, instance=service)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_update(actor=request.user, service=service, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Service saved."))
            return redirect("catalog:service_detail", service_id=service.pk)
    return _form_page(request, form, title=_("Edit %(name)s") % {"name": service.name},
                      cancel_url=reverse("catalog:service_detail", args=[service.pk]))


@login_required
@require_POST
def service_delete(request: HttpRequest, service_id: int) -> HttpResponse:
    """Delete a service that no plan includes."""
    service = selectors.access_service(request.user, service_id)
    _staff_only(request)
    try:
        services.service_delete(actor=request.user, service=service)
    except TenfoldError as exc:
        if exc.status == 403:
            raise
        messages.error(request, str(exc.message))
        return redirect("catalog:service_detail", service_id=service.pk)
    messages.success(request, _("Service deleted."))
    return redirect("catalog:service_list")


# --- Offerings --------------------------------------------------------------------------------------

@login_required
@require_GET
def offering_list(request: HttpRequest) -> HttpResponse:
    """Every offering with its tiers and their price at the reference counts."""
    _staff_only(request)
    counts_form = CountsForm.from_query(request.GET)
    offerings = list(selectors.offerings_visible(request.user))
    return render(request, "catalog/offering_list.html", {
        "summaries": selectors.offering_summaries(offerings, counts_form.counts()),
        "counts_form": counts_form, "currency": selectors.currency(),
        "counts_query": urlencode(counts_form.as_query()),
        "can_add": has_capability(request.user, "catalog", "add"),
    })


@login_required
@require_GET
def offering_detail(request: HttpRequest, offering_id: int) -> HttpResponse:
    """The offering's three tiers side by side: price, cost model, margin, and the price ladder."""
    offering = selectors.access_offering(request.user, offering_id)
    _staff_only(request)
    counts_form = CountsForm.from_query(request.GET)
    counts = counts_form.counts()
    rungs = selectors.offering_ladder(offering, counts)
    taken = {rung.plan.tier for rung in rungs}
    return render(request, "catalog/offering_detail.html", {
        "offering": offering, "rungs": rungs, "counts_form": counts_form, "currency": selectors.currency(),
        "hourly_cost": selectors.loaded_hourly_cost(), "counts_query": urlencode(counts_form.as_query()),
        "missing_tiers": [t for t in Plan._meta.get_field("tier").choices or [] if t[0] not in taken],
        "can_change": has_capability(request.user, "catalog", "change"),
        "can_add": has_capability(request.user, "catalog", "add"),
        "can_delete": has_capability(request.user, "catalog", "delete"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def offering_create(request: HttpRequest) -> HttpResponse:
    """New offering form."""
    _staff_only(request)
    require(request.user, "catalog", "add")
    form = OfferingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            offering = services.offering_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Offering “%(name)s” created.") % {"name": offering.name})
            return redirect("catalog:offering_detail", offering_id=offering.pk)
    return _form_page(request, form, title=_("New offering"), cancel_url=reverse("catalog:offering_list"))


@login_required
@require_http_methods(["GET", "POST"])
def offering_edit(request: HttpRequest, offering_id: int) -> HttpResponse:
    """Edit an offering."""
    offering = selectors.access_offering(request.user, offering_id)
    _staff_only(request)
    require(request.user, "catalog", "change")
    form = OfferingForm(request.POST or None, instance=offering)
    if request.method == "POST" and form.is_valid():
        try:
            services.offering_update(actor=request.user, offering=offering, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Offering saved."))
            return redirect("catalog:offering_detail", offering_id=offering.pk)
    return _form_page(request, form, title=_("Edit %(name)s") % {"name": offering.name},
                      cancel_url=reverse("catalog:offering_detail", args=[offering.pk]), offering=offering)


@login_required
@require_POST
def offering_delete(request: HttpRequest, offering_id: int) -> HttpResponse:
    """Delete an offering and its plans."""
    offering = selectors.access_offering(request.user, offering_id)
    _staff_only(request)
    try:
        services.offering_delete(actor=request.user, offering=offering)
    except TenfoldError as exc:
        if exc.status == 403:
            raise
        messages.error(request, str(exc.message))
        return redirect("catalog:offering_detail", offering_id=offering.pk)
    messages.success(request, _("Offering deleted."))
    return redirect("catalog:offering_list")


# --- Plans ------------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest, offering_id: int) -> HttpResponse:
    """Add the plan of one tier to an offering."""
    offering = selectors.access_offering(request.user, offering_id)
    _staff_only(request)
    require(request.user, "catalog", "add")
    form = PlanForm(request.POST or None, initial={"tier": request.GET.get("tier", "")})
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(actor=request.user, offering=offering, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Plan “%(name)s” created.") % {"name": plan.name})
            return redirect("catalog:plan_detail", plan_id=plan.pk)
    return _form_page(request, form, title=_("New plan for %(name)s") % {"name": offering.name},
                      cancel_url=reverse("catalog:offering_detail", args=[offering.pk]), offering=offering)


def _plan_context(request: HttpRequest, plan: Plan, counts_form: CountsForm) -> dict[str, Any]:
    economics = selectors.plan_economics(plan, counts_form.counts())
    own_items = selectors.plan_own_items(plan)
    return {
        "plan": plan, "offering": plan.offering, "economics": economics, "model": economics.model,
        "counts_form": counts_form, "counts_query": urlencode(counts_form.as_query()),
        "currency": selectors.currency(), "own_items": own_items,
        "inherited": [line for line in economics.lines if line.tier and line.tier != plan.tier],
        "can_change": has_capability(request.user, "catalog", "change"),
        "can_delete": has_capability(request.user, "catalog", "delete"),
    }


@login_required
@require_GET
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The plan builder: its services and prices, and its cost model and sensitivity at reference counts."""
    plan = selectors.access_plan(request.user, plan_id)
    _staff_only(request)
    counts_form = CountsForm.from_query(request.GET)
    context = _plan_context(request, plan, counts_form)
    context["add_form"] = PlanItemAddForm(plan=plan)
    return render(request, "catalog/plan_detail.html", context)


@login_required
@require_GET
def plan_economics(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The plan's economics fragment at the counts in the query (HTMX, when the counts change)."""
    plan = selectors.access_plan(request.user, plan_id)
    _staff_only(request)
    return render(request, "catalog/partials/plan_economics.html",
                  _plan_context(request, plan, CountsForm.from_query(request.GET)))


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Edit a plan's tier, name, description or status."""
    plan = selectors.access_plan(request.user, plan_id)
    _staff_only(request)
    require(request.user, "catalog", "change")
    form = PlanForm(request.POST or None, instance=plan)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if not data.get("name"):
            data.pop("name")
        try:
            services.plan_update(actor=request.user, plan=plan, data=data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Plan saved."))
            return redirect("catalog:plan_detail", plan_id=plan.pk)
    return _form_page(request, form, title=_("Edit %(name)s") % {"name": plan.name},
                      cancel_url=reverse("catalog:plan_detail", args=[plan.pk]), offering=plan.offering)


@login_required
@require_POST
def plan_delete(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Delete a plan and its items."""
    plan = selectors.access_plan(request.user, plan_id)
    _staff_only(request)
    offering_id = plan.offering_id
    try:
        services.plan_delete(actor=request.user, plan=plan)
    except TenfoldError as exc:
        if exc.status == 403:
            raise
        messages.error(request, str(exc.message))
        return redirect("catalog:plan_detail", plan_id=plan.pk)
    messages.success(request, _("Plan deleted."))
    return redirect("catalog:offering_detail", offering_id=offering_id)


@login_required
@require_POST
def plan_item_add(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Include a service in the plan (at its list price unless a price is given)."""
    plan = selectors.access_plan(request.user, plan_id)
    _staff_only(request)
    require(request.user, "catalog", "change")
    form = PlanItemAddForm(request.POST, plan=plan)
    if form.is_valid():
        try:
            services.plan_item_add(actor=request.user, plan=plan, service=form.cleaned_data["service"],
                                   unit_price=form.cleaned_data["unit_price"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("“%(name)s” added to the plan.") % {"name": form.cleaned_data["service"].name})
            return redirect(reverse("catalog:plan_detail", args=[plan.pk]) + _counts_suffix(request))
    counts_form = CountsForm.from_query(request.POST)
    context = _plan_context(request, plan, counts_form)
    context["add_form"] = form
    return render(request, "catalog/plan_detail.html", context, status=422)


def _counts_suffix(request: HttpRequest) -> str:
    form = CountsForm.from_query(request.POST)
    return "?" + urlencode(form.as_query()) if form.is_bound else ""


@login_required
@require_POST
def plan_item_price(request: HttpRequest, item_id: int) -> HttpResponse:
    """Change a service's unit price in the plan; for HTMX, answer with the updated economics."""
    item = selectors.access_plan_item(request.user, item_id)
    _staff_only(request)
    require(request.user, "catalog", "change")
    form = PlanItemPriceForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.plan_item_update(actor=request.user, item=item, unit_price=form.cleaned_data["unit_price"])
        except ValidationError as exc:
            error = str(exc.message)
    else:
        error = "; ".join(str(e) for e in form.errors.get("unit_price", [])) or _("Enter a valid price.")
    if not getattr(request, "htmx", False):
        if error:
            messages.error(request, _("%(service)s: %(error)s") % {"service": item.service.name, "error": error})
        else:
            messages.success(request, _("Price saved."))
        return redirect(reverse("catalog:plan_detail", args=[item.plan_id]) + _counts_suffix(request))
    item.refresh_from_db()
    context = _plan_context(request, item.plan, CountsForm.from_query(request.POST))
    context.update({"changed_item": item, "item_error": error})
    return render(request, "catalog/partials/plan_economics.html", context)


@login_required
@require_POST
def plan_item_remove(request: HttpRequest, item_id: int) -> HttpResponse:
    """Take a service out of the plan."""
    item = selectors.access_plan_item(request.user, item_id)
    _staff_only(request)
    plan_id, name = item.plan_id, item.service.name
    services.plan_item_remove(actor=request.user, item=item)
    messages.success(request, _("“%(name)s” removed from the plan.") % {"name": name})
    return redirect(reverse("catalog:plan_detail", args=[plan_id]) + _counts_suffix(request))

