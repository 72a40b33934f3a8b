"""MSP settings screens: organization, tax rates, schedules, audit log (owner/admin)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods

from tenfold.core import services
from tenfold.core.errors import ValidationError
from tenfold.core.forms import OrganizationForm, ScheduleForm, TaxRateForm, add_service_errors
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.models import AuditEntry, Schedule, TaxRate
from tenfold.core.roles import require
from tenfold.core.selectors import organization, tax_rates

AUDIT_LIST = ListSpec(
    columns=[
        Column("at", gettext_lazy("When"), sort="at", accessor=lambda e: e.at.strftime("%Y-%m-%d %H:%M:%S")),
        Column("actor_label", gettext_lazy("Who"), sort="actor_label"),
        Column("action", gettext_lazy("Action"), sort="action"),
        Column("object", gettext_lazy("Record"), accessor=lambda e: f"{e.object_type} #{e.object_id}"
               if e.object_type else ""),
        Column("ip", pgettext_lazy("audit log: the address a change came from", "From")),
        Column("sealed", gettext_lazy("Sealed"), accessor=lambda e: "✓" if e.sealed_at else "…"),
    ],
    search_fields=["action", "actor_label", "object_type", "object_id"],
    filters=[ChoiceFilter("kind", gettext_lazy("Actor"), "actor_kind",
                          lambda r: [("user", _("User")), ("token", _("API token")), ("agent", _("Agent")),
                                     ("system", _("System"))])],
    default_sort="-at",
)


@login_required
@require_http_methods(["GET", "POST"])
def organization_settings(request: HttpRequest) -> HttpResponse:
    """The MSP's name, currency, labour cost, defaults; and its tax rates."""
    require(request.user, "settings", "view")
    form = OrganizationForm(request.POST or None, instance=organization())
    if request.method == "POST":
        require(request.user, "settings", "change")
        if form.is_valid():
            try:
                services.organization_update(actor=request.user, data=dict(form.cleaned_data))
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Settings saved."))
                return redirect("core:settings")
    return render(request, "core/settings.html", {"form": form, "tax_rates": tax_rates()})


@login_required
@require_http_methods(["GET", "POST"])
def tax_rate_edit(request: HttpRequest, tax_rate_id: int | None = None) -> HttpResponse:
    """Create or change a tax rate."""
    require(request.user, "settings", "change")
    rate = get_object_or_404(TaxRate, pk=tax_rate_id) if tax_rate_id else None
    form = TaxRateForm(request.POST or None, instance=rate)
    if request.method == "POST" and form.is_valid():
        try:
            services.tax_rate_save(actor=request.user, data=dict(form.cleaned_data), tax_rate=rate)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Tax rate saved."))
            return redirect("core:settings")
    return render(request, "core/simple_form.html", {"form": form, "title": _("Tax rate"),
                                                     "cancel_url": "/settings/"})


@login_required
def schedule_list(request: HttpRequest) -> HttpResponse:
    """Every schedule, when it last and next runs."""
    require(request.user, "settings", "view")
    return render(request, "core/schedules.html", {"schedules": Schedule.objects.order_by("name")})


@login_required
@require_http_methods(["GET", "POST"])
def schedule_edit(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """Pause, resume or re-time a schedule."""
    require(request.user, "settings", "change")
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    form = ScheduleForm(request.POST or None, initial={"enabled": schedule.enabled, "cron": schedule.cron})
    if request.method == "POST" and form.is_valid():
        try:
            services.schedule_update(actor=request.user, schedule=schedule, enabled=form.cleaned_data["enabled"],
                                     cron=form.cleaned_data["cron"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Schedule saved."))
            return redirect("core:schedule_list")
    return render(request, "core/simple_form.html", {"form": form, "title": schedule.name,
                                                     "cancel_url": "/settings/schedules/"})


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit log, newest first, searchable."""
    require(request.user, "audit", "view")
    return render_list(request, AuditEntry.objects.all(), AUDIT_LIST, template="core/audit_log.html")
