"""The inventory report (page, CSV, PDF) and the report subscriptions screens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenfold.core.errors import ValidationError
from tenfold.reporting import inventory
from tenfold.reporting.kpi_forms import SubscriptionEditForm, SubscriptionForm


@login_required
@require_GET
def inventory_index(request: HttpRequest) -> HttpResponse:
    """Clients with a link to each inventory report."""
    return render(request, "reporting/inventory_index.html", {
        "clients": inventory.inventory_clients(request.user), "can_schedule": inventory.can_schedule(request.user)})


@login_required
@require_GET
def inventory_report(request: HttpRequest, client_id: int) -> HttpResponse:
    """A client's hardware, software and licences; ?format=csv or ?format=pdf downloads it."""
    return inventory_response(request, inventory.inventory_for(request.user, client_id), "reporting/inventory.html")


def inventory_response(request: HttpRequest, report: inventory.InventoryReport, template: str) -> HttpResponse:
    """The report as a page, or as a download with ?format=csv or ?format=pdf (the staff and portal pages)."""
    fmt = request.GET.get("format")
    day = report.generated_at.date()
    if fmt == "csv":
        response = HttpResponse(inventory.inventory_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="inventory-{report.client.pk}-{day}.csv"'
        return response
    if fmt == "pdf":
        response = HttpResponse(inventory.inventory_pdf([report]), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{inventory.pdf_filename(report.client, day)}"'
        return response
    return render(request, template, {"report": report})


@login_required
@require_GET
def subscription_list(request: HttpRequest) -> HttpResponse:
    """Scheduled report deliveries."""
    return render(request, "reporting/subscription_list.html", {
        "subscriptions": inventory.subscriptions_visible(request.user),
        "can_schedule": inventory.can_schedule(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def subscription_create(request: HttpRequest) -> HttpResponse:
    """Schedule a report by e-mail."""
    clients = inventory.inventory_clients(request.user)
    form = SubscriptionForm(request.POST or None, clients=clients)
    if request.method == "POST":
        inventory.require(request.user, "scorecards", "add")
        if form.is_valid():
            data = form.cleaned_data
            try:
                inventory.subscription_create(actor=request.user, report=data["report"], client_id=data["client"],
                                              recipients=data["recipients"], cadence=data["cadence"],
                                              first_send_on=data["next_send_on"], format=data["format"],
                                              enabled=data["enabled"])
            except ValidationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                messages.success(request, _("The report is scheduled."))
                return redirect("reporting:subscription_list")
        return render(request, "reporting/subscription_form.html", {"form": form}, status=422)
    inventory.require(request.user, "scorecards", "add")
    return render(request, "reporting/subscription_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def subscription_edit(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """Change a scheduled report's recipients, cadence, format or next delivery, or enable/disable it."""
    subscription = inventory.access_subscription(request.user, subscription_id)
    inventory.require(request.user, "scorecards", "change")
    form = SubscriptionEditForm(request.POST or None, initial=SubscriptionEditForm.initial_of(subscription))
    if request.method == "POST":
        if form.is_valid():
            try:
                inventory.subscription_update(actor=request.user, subscription=subscription, data=form.cleaned_data)
            except ValidationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                messages.success(request, _("The scheduled report is saved."))
                return redirect("reporting:subscription_list")
        return render(request, "reporting/subscription_form.html", {"form": form, "subscription": subscription},
                      status=422)
    return render(request, "reporting/subscription_form.html", {"form": form, "subscription": subscription})


@login_required
@require_POST
def subscription_delete(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """Stop a scheduled delivery."""
    subscription = inventory.access_subscription(request.user, subscription_id)
    inventory.subscription_delete(actor=request.user, subscription=subscription)
    messages.success(request, _("The scheduled report is deleted."))
    return redirect("reporting:subscription_list")
