"""Patching screens: updates, decisions (one by one and in bulk), approval policies, the device panel and the
patch report (page, CSV, PDF). Parse, check access, call a service or selector, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Value
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from tenfold.assets.models import Device
from tenfold.assets.selectors import access_device
from tenfold.clients.models import Client, Site
from tenfold.clients.selectors import access_client
from tenfold.core.errors import ValidationError
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.roles import has_capability, require
from tenfold.patching import selectors, services
from tenfold.patching.forms import (
    BulkDecisionForm,
    DecisionForm,
    PolicyForm,
    ReportFilterForm,
    add_service_errors,
    policy_initial,
)
from tenfold.patching.models import NOT_INSTALLED, Approval, UpdateCategory, UpdateSeverity
from tenfold.patching.report import patch_report, report_csv, report_pdf


def _approval_label(value: str) -> Any:
    return dict(Approval.choices).get(value, gettext_lazy("No decision"))


def _visible_clients(request: HttpRequest) -> Any:
    return Client.objects.visible_to(request.user).order_by("name")


UPDATE_LIST = ListSpec(
    columns=[
        Column("title", gettext_lazy("Update"), sort="title",
               link=lambda u: reverse("patching:update_detail", args=[u.pk])),
        Column("source", gettext_lazy("Source"), sort="source"),
        Column("category", gettext_lazy("Category"), sort="category", badge=True),
        Column("severity", gettext_lazy("Severity"), sort="severity",
               accessor=lambda u: u.get_severity_display() or "—"),
        Column("released_on", gettext_lazy("Released"), sort="released_on", accessor=lambda u: u.released_on or "—"),
        Column("missing_count", gettext_lazy("Devices missing it"), sort="missing_count"),
        Column("approval", gettext_lazy("Approval (every client)"), sort="approval", badge=True,
               accessor=lambda u: _approval_label(u.approval), badge_key=lambda u: u.approval),
    ],
    search_fields=["title", "identifier", "version"],
    filters=[
        ChoiceFilter("category", gettext_lazy("Category"), "category", lambda r: list(UpdateCategory.choices)),
        ChoiceFilter("severity", gettext_lazy("Severity"), "severity", lambda r: list(UpdateSeverity.choices)),
        ChoiceFilter("approval", gettext_lazy("Approval"), "approval",
                     lambda r: [*Approval.choices, ("none", _("No decision"))]),
        # The view narrows the list to the chosen client; this filter only offers the choice.
        ChoiceFilter("client", gettext_lazy("Client"), "chosen_client",
                     lambda r: [(c.pk, c.name) for c in _visible_clients(r)]),
    ],
    default_sort="-missing_count",
)

POLICY_LIST = ListSpec(
    columns=[
        Column("name", gettext_lazy("Name"), sort="name", link=lambda p: reverse("patching:policy_edit", args=[p.pk])),
        Column("scope", gettext_lazy("Applies to"), sort="scope", accessor=lambda p: p.target_label),
        Column("auto", gettext_lazy("Auto-approval"), accessor=lambda p: _auto_label(p)),
        Column("window", gettext_lazy("Install window"), accessor=lambda p: _window_label(p)),
        Column("reboot", gettext_lazy("Reboot"), sort="reboot"),
        Column("enabled", gettext_lazy("Enabled"), sort="enabled",
               accessor=lambda p: _("Yes") if p.enabled else _("No")),
    ],
    search_fields=["name", "client__name"],
    default_sort="name",
)


def _auto_label(policy: Any) -> str:
    if policy.auto_approve_after_days is None:
        return "—"
    categories = ", ".join(str(UpdateCategory(c).label) for c in policy.auto_approve_categories)
    return _("%(categories)s after %(days)s days") % {"categories": categories, "days": policy.auto_approve_after_days}


def _window_label(policy: Any) -> str:
    if not policy.has_window:
        return "—"
    days = ", ".join(str(d) for d in policy.window_days)
    return _("days %(days)s, %(start)s–%(end)s") % {"days": days, "start": policy.window_start.strftime("%H:%M"),
                                                     "end": policy.window_end.strftime("%H:%M")}


def _staff_only(request: HttpRequest) -> None:
    # The staff console, not the portal: called after the fetch, so another client's record stays a 404.
    if getattr(request.user, "is_portal", True):
        require(None, "policies", "view")


# --- Updates -------------------------------------------------------------------------------------------


@login_required
def update_list(request: HttpRequest) -> HttpResponse:
    """Updates the agents reported, searchable, filterable (category, severity, approval, client), sortable."""
    _staff_only(request)
    clients = _visible_clients(request)
    client_id = request.GET.get("client", "")
    chosen = clients.filter(pk=int(client_id)).first() if client_id.isdigit() else None
    queryset = selectors.update_list(request.user, client_id=chosen.pk if chosen else None)
    if chosen is not None:
        queryset = queryset.annotate(chosen_client=Value(chosen.pk))
    return render_list(request, queryset, UPDATE_LIST, template="patching/update_list.html", context={
        "client": chosen, "can_decide": has_capability(request.user, "policies", "change")})


@login_required
def update_detail(request: HttpRequest, update_id: int) -> HttpResponse:
    """One update: its facts, the decisions on it, the devices missing it, and the decision form."""
    update = selectors.access_update(request.user, update_id)
    _staff_only(request)
    return _update_page(request, update, DecisionForm(clients=_visible_clients(request)))


def _update_page(request: HttpRequest, update: Any, form: DecisionForm, status: int = 200) -> HttpResponse:
    return render(request, "patching/update_detail.html", {
        "update": update, "form": form, "missing": selectors.devices_missing(request.user, update),
        "decisions": selectors.decisions_visible(request.user).filter(update=update).order_by("client__name"),
        "can_decide": has_capability(request.user, "policies", "change")}, status=status)


@login_required
@require_POST
def update_decide(request: HttpRequest, update_id: int) -> HttpResponse:
    """Approve, reject or defer the update for one client or every client."""
    update = selectors.access_update(request.user, update_id)
    _staff_only(request)
    require(request.user, "policies", "change")
    form = DecisionForm(request.POST, clients=_visible_clients(request))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.decision_set(actor=request.user, update=update, client=data["client"],
                                  decision=data["decision"], deferred_until=data["deferred_until"],
                                  note=data["note"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect("patching:update_detail", update_id=update.pk)
    return _update_page(request, update, form, status=422)


@login_required
@require_POST
def decision_delete(request: HttpRequest, decision_id: int) -> HttpResponse:
    """Withdraw a decision."""
    decision = selectors.access_decision(request.user, decision_id)
    _staff_only(request)
    update_id = decision.update_id
    services.decision_delete(actor=request.user, decision=decision)
    messages.success(request, _("Decision withdrawn."))
    return redirect("patching:update_detail", update_id=update_id)


@login_required
@require_http_methods(["GET", "POST"])
def bulk_decide(request: HttpRequest) -> HttpResponse:
    """The same decision on several updates across clients (every client, or the chosen ones)."""
    _staff_only(request)
    require(request.user, "policies", "change")
    clients = _visible_clients(request)
    updates = selectors.update_list(request.user).filter(missing_count__gt=0)  # type: ignore[misc]
    category = request.GET.get("category", "")
    if category in UpdateCategory.values:
        updates = updates.filter(category=category)
    updates = updates.order_by("-missing_count", "title", "pk")[:200]
    choices = [(u.pk, u.title) for u in updates]
    form = BulkDecisionForm(request.POST or None, clients=clients, update_choices=choices)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = list(selectors.updates_visible(request.user).filter(pk__in=data["updates"]))
        try:
            decided = services.decision_bulk(actor=request.user, updates=chosen,
                                             clients=list(data["clients"]) or None, decision=data["decision"],
                                             deferred_until=data["deferred_until"], note=data["note"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, ngettext("%(count)s decision recorded.", "%(count)s decisions recorded.",
                                               len(decided)) % {"count": len(decided)})
            return redirect("patching:update_list")
    return render(request, "patching/bulk_decide.html", {"form": form, "updates": updates,
                                                         "category": category,
                                                         "categories": UpdateCategory.choices},
                  status=422 if request.method == "POST" else 200)


# --- Approval policies -------------------------------------------------------------------------------------


@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    """Approval policies: MSP-level ones and those of visible clients."""
    _staff_only(request)
    return render_list(request, selectors.policies_visible(request.user), POLICY_LIST,
                       template="patching/policy_list.html",
                       context={"can_add": has_capability(request.user, "policies", "add")})


def _policy_form(request: HttpRequest, data: Any = None, initial: Any = None) -> PolicyForm:
    user = request.user
    return PolicyForm(data, initial=initial, clients=_visible_clients(request),
                      sites=Site.objects.visible_to(user).select_related("client").order_by("client__name", "name"),
                      devices=Device.objects.visible_to(user).select_related("client").order_by("client__name",
                                                                                                 "name"))


def _policy_page(request: HttpRequest, form: PolicyForm, title: str, policy: Any = None,
                 status: int = 200) -> HttpResponse:
    return render(request, "patching/policy_form.html", {
        "form": form, "title": title, "policy": policy, "cancel_url": reverse("patching:policy_list"),
        "can_delete": policy is not None and has_capability(request.user, "policies", "delete")}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def policy_create(request: HttpRequest) -> HttpResponse:
    """New approval policy."""
    _staff_only(request)
    require(request.user, "policies", "add")
    form = _policy_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            policy = services.policy_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Policy “%(name)s” created.") % {"name": policy.name})
            return redirect("patching:policy_list")
    return _policy_page(request, form, _("New approval policy"), status=422 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, policy_id: int) -> HttpResponse:
    """Change an approval policy."""
    policy = selectors.access_policy(request.user, policy_id)
    _staff_only(request)
    if request.method == "POST":
        require(request.user, "policies", "change")
    form = _policy_form(request, request.POST or None, initial=policy_initial(policy))
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_update(actor=request.user, policy=policy, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Policy “%(name)s” saved.") % {"name": policy.name})
            return redirect("patching:policy_list")
    return _policy_page(request, form, policy.name, policy, status=422 if request.method == "POST" else 200)


@login_required
@require_POST
def policy_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    """Delete an approval policy."""
    policy = selectors.access_policy(request.user, policy_id)
    _staff_only(request)
    services.policy_delete(actor=request.user, policy=policy)
    messages.success(request, _("Policy deleted."))
    return redirect("patching:policy_list")


# --- Device panel and report -------------------------------------------------------------------------------


@login_required
def device_panel(request: HttpRequest, device_id: int) -> HttpResponse:
    """The device page's patch panel (loaded by hx-get): its updates, their approval, policy and install runs."""
    device = access_device(request.user, device_id)
    _staff_only(request)
    return render(request, "patching/partials/device_panel.html", {
        "device": device, **selectors.device_patch_status(request.user, device),
        "not_installed": NOT_INSTALLED})


def _report_client(request: HttpRequest) -> Client | None:
    value = request.GET.get("client", "")
    return access_client(request.user, value) if value else None


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """The patch report page, for one client (?client=) or every client the reader sees."""
    _staff_only_devices(request)
    client = _report_client(request)
    data = patch_report(request.user, client)
    form = ReportFilterForm(initial={"client": client.pk if client else None}, clients=_visible_clients(request))
    return render(request, "patching/report.html", {"report": data, "form": form, "client": client,
                                                    "query": f"?client={client.pk}" if client else ""})


@login_required
def report_csv_view(request: HttpRequest) -> HttpResponse:
    """The patch report as CSV."""
    _staff_only_devices(request)
    client = _report_client(request)
    response = HttpResponse(report_csv(patch_report(request.user, client)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(client, "csv")}"'
    return response


@login_required
def report_pdf_view(request: HttpRequest) -> HttpResponse:
    """The patch report as PDF."""
    _staff_only_devices(request)
    client = _report_client(request)
    response = HttpResponse(report_pdf(patch_report(request.user, client)), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(client, "pdf")}"'
    return response


def _filename(client: Client | None, extension: str) -> str:
    return f"patch-report-{client.pk if client else 'all'}-{timezone.localdate():%Y-%m-%d}.{extension}"


def _staff_only_devices(request: HttpRequest) -> None:
    if getattr(request.user, "is_portal", True):
        require(None, "devices", "view")

