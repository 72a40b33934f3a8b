"""Alert console, policies and checks, maintenance windows, and the fragments other apps' pages load."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenfold.assets.selectors import access_device
from tenfold.clients.models import Client
from tenfold.clients.selectors import access_client
from tenfold.core.errors import TenfoldError, ValidationError
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.roles import has_capability, require
from tenfold.monitoring import selectors, services
from tenfold.monitoring.checktypes import CheckType
from tenfold.monitoring.forms import BaselineForm, CheckForm, PolicyForm, WindowForm, add_service_errors
from tenfold.monitoring.history import RANGES, metric_series
from tenfold.monitoring.models import AlertKind, AlertStatus, PolicyScope, Severity
from tenfold.monitoring.policies import effective_policy


def _clients(request: HttpRequest) -> list[tuple[str, Any]]:
    return [(str(pk), name) for pk, name in Client.objects.visible_to(request.user).order_by("name")
            .values_list("pk", "name")]


ALERT_LIST = ListSpec(
    columns=[
        Column("select", "", accessor=lambda a: format_html(
            '<input type="checkbox" name="alert" value="{}" form="bulk-form" aria-label="{}">', a.pk, a.title)
            if a.status == AlertStatus.OPEN else ""),
        Column("severity", gettext_lazy("Severity"), sort="severity", badge=True),
        Column("title", gettext_lazy("Alert"), sort="title",
               link=lambda a: reverse("monitoring:alert_detail", args=[a.pk])),
        Column("client", gettext_lazy("Client"), sort="client__name", accessor=lambda a: a.client.name),
        Column("device", gettext_lazy("Device"), sort="device__name", accessor=lambda a: a.device.name,
               link=lambda a: reverse("assets:device_detail", args=[a.device_id])),
        Column("status", gettext_lazy("Status"), sort="status", badge=True),
        Column("occurrences", gettext_lazy("Occurrences"), sort="occurrences"),
        Column("opened_at", gettext_lazy("Opened"), sort="opened_at",
               accessor=lambda a: a.opened_at.strftime("%Y-%m-%d %H:%M")),
        Column("last_seen_at", gettext_lazy("Last seen"), sort="last_seen_at",
               accessor=lambda a: a.last_seen_at.strftime("%Y-%m-%d %H:%M")),
    ],
    search_fields=["title", "message", "device__name", "client__name"],
    filters=[ChoiceFilter("status", gettext_lazy("Status"), "status", lambda r: list(AlertStatus.choices)),
             ChoiceFilter("severity", gettext_lazy("Severity"), "severity", lambda r: list(Severity.choices)),
             ChoiceFilter("kind", gettext_lazy("Kind"), "kind", lambda r: list(AlertKind.choices)),
             ChoiceFilter("client", gettext_lazy("Client"), "client_id", _clients)],
    default_sort="-opened_at",
)

POLICY_LIST = ListSpec(
    columns=[
        Column("name", gettext_lazy("Name"), sort="name",
               link=lambda p: reverse("monitoring:policy_detail", args=[p.pk])),
        Column("scope", gettext_lazy("Applies to"), sort="scope", badge=True),
        Column("target", gettext_lazy("Target"), accessor=lambda p: p.target_label),
        Column("check_count", gettext_lazy("Checks"), sort="check_count"),
        Column("enabled", gettext_lazy("Enabled"), sort="enabled",
               accessor=lambda p: _("Yes") if p.enabled else _("No")),
    ],
    search_fields=["name", "description", "client__name", "device__name", "site__name", "tag__name"],
    filters=[ChoiceFilter("scope", gettext_lazy("Applies to"), "scope", lambda r: list(PolicyScope.choices)),
             ChoiceFilter("client", gettext_lazy("Client"), "client_id", _clients)],
    default_sort="name",
)

WINDOW_LIST = ListSpec(
    columns=[
        Column("reason", gettext_lazy("Reason"), sort="reason"),
        Column("client", gettext_lazy("Client"), sort="client__name", accessor=lambda w: w.client.name),
        Column("target", gettext_lazy("Covers"),
               accessor=lambda w: w.device or w.site or _("Every device of the client")),
        Column("starts_at", gettext_lazy("Starts"), sort="starts_at",
               accessor=lambda w: w.starts_at.strftime("%Y-%m-%d %H:%M")),
        Column("ends_at", gettext_lazy("Ends"), sort="ends_at",
               accessor=lambda w: w.ends_at.strftime("%Y-%m-%d %H:%M")),
        Column("remove", "", accessor=lambda w: format_html(
            '<button type="submit" form="window-delete-form" formaction="{}" class="danger small">{}</button>',
            reverse("monitoring:window_delete", args=[w.pk]), _("Remove"))),
    ],
    search_fields=["reason", "client__name"],
    filters=[ChoiceFilter("client", gettext_lazy("Client"), "client_id", _clients)],
    default_sort="-starts_at",
)


def _staff_only(request: HttpRequest, capability: str = "devices") -> None:
    # The staff console is not the portal. Called after the object is fetched: another client's
    # record is a 404 for a portal user, their own a 403.
    if getattr(request.user, "is_portal", True):
        require(None, capability, "view")


# --- alerts -----------------------------------------------------------------------------------


@login_required
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    """The alert console: every visible alert, filterable, searchable, sortable, paginated."""
    _staff_only(request)
    queryset = selectors.alerts_visible(request.user)
    return render_list(request, queryset, ALERT_LIST, template="monitoring/alert_list.html", context={
        "counts": selectors.alert_counts(request.user),
        "can_change": has_capability(request.user, "devices", "change")})


@login_required
@require_GET
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    """One alert with its device's check state."""
    alert = selectors.access_alert(request.user, alert_id)
    _staff_only(request)
    return render(request, "monitoring/alert_detail.html", {
        "alert": alert, "can_change": has_capability(request.user, "devices", "change"),
        "states": selectors.device_check_states(alert.device)})


def _alert_action(request: HttpRequest, alert_id: int, verb: str) -> HttpResponse:
    alert = selectors.access_alert(request.user, alert_id)
    _staff_only(request)
    try:
        if verb == "acknowledge":
            services.alert_acknowledge(actor=request.user, alert=alert)
            messages.success(request, _("Alert acknowledged."))
        else:
            services.alert_resolve(actor=request.user, alert=alert)
            messages.success(request, _("Alert resolved."))
    except TenfoldError as exc:
        if exc.status == 403:
            raise
        messages.error(request, str(exc.message))
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("monitoring:alert_detail", alert_id=alert.pk)


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Acknowledge one alert."""
    return _alert_action(request, alert_id, "acknowledge")


@login_required
@require_POST
def alert_resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Resolve one alert by hand."""
    return _alert_action(request, alert_id, "resolve")


@login_required
@require_POST
def alert_bulk_acknowledge(request: HttpRequest) -> HttpResponse:
    """Acknowledge the selected open alerts."""
    _staff_only(request)
    require(request.user, "devices", "change")
    ids = [int(v) for v in request.POST.getlist("alert") if v.isdigit()][:500]
    count = services.alert_bulk_acknowledge(actor=request.user, alert_ids=ids)
    messages.success(request, _("%(count)s alert(s) acknowledged.") % {"count": count})
    return redirect("monitoring:alert_list")


# --- policies ---------------------------------------------------------------------------------


@login_required
@require_GET
def policy_list(request: HttpRequest) -> HttpResponse:
    """Every visible policy: MSP-wide, baselines, and those of the user's clients."""
    _staff_only(request, "policies")
    return render_list(request, selectors.policies_visible(request.user), POLICY_LIST,
                       template="monitoring/policy_list.html",
                       context={"can_add": has_capability(request.user, "policies", "add")})


@login_required
@require_GET
def policy_detail(request: HttpRequest, policy_id: int) -> HttpResponse:
    """A policy with its checks and collectors."""
    policy = selectors.access_policy(request.user, policy_id)
    _staff_only(request, "policies")
    can_change = has_capability(request.user, "policies", "change") and (
        policy.client_id is not None or request.user.client_scope() is None)  # type: ignore[union-attr]
    return render(request, "monitoring/policy_detail.html", {
        "policy": policy, "checks": selectors.policy_checks(policy), "can_change": can_change,
        "can_delete": can_change and not policy.baseline_tier and has_capability(request.user, "policies",
                                                                                 "delete")})


def _form_page(request: HttpRequest, form: Any, *, title: str, cancel_url: str, **extra: Any) -> HttpResponse:
    return render(request, "monitoring/form.html", {"form": form, "title": title, "cancel_url": cancel_url,
                                                    **extra})


@login_required
@require_http_methods(["GET", "POST"])
def policy_create(request: HttpRequest) -> HttpResponse:
    """New policy: for every device, a client, a site or a device."""
    _staff_only(request, "policies")
    require(request.user, "policies", "add")
    initial = {k: request.GET[k] for k in ("scope", "client", "tag", "site", "device") if request.GET.get(k)}
    form = PolicyForm(request.POST or None, actor=request.user, creating=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            policy = services.policy_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Policy “%(name)s” created.") % {"name": policy.name})
            return redirect("monitoring:policy_detail", policy_id=policy.pk)
    return _form_page(request, form, title=_("New policy"), cancel_url=reverse("monitoring:policy_list"))


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, policy_id: int) -> HttpResponse:
    """Change a policy's name, description, collectors, or switch it off."""
    policy = selectors.access_policy(request.user, policy_id)
    _staff_only(request, "policies")
    require(request.user, "policies", "change")
    form = PolicyForm(request.POST or None, actor=request.user, creating=False,
                      initial={"name": policy.name, "description": policy.description, "enabled": policy.enabled})
    form.initial_collectors(policy.collectors)
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_update(actor=request.user, policy=policy, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Policy saved."))
            return redirect("monitoring:policy_detail", policy_id=policy.pk)
    return _form_page(request, form, title=_("Edit %(name)s") % {"name": policy.name},
                      cancel_url=reverse("monitoring:policy_detail", args=[policy.pk]), policy=policy)


@login_required
@require_POST
def policy_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    """Delete a policy (not a baseline)."""
    policy = selectors.access_policy(request.user, policy_id)
    _staff_only(request, "policies")
    try:
        services.policy_delete(actor=request.user, policy=policy)
    except TenfoldError as exc:
        if exc.status == 403:
            raise
        messages.error(request, str(exc.message))
        return redirect("monitoring:policy_detail", policy_id=policy.pk)
    messages.success(request, _("Policy deleted."))
    return redirect("monitoring:policy_list")


def _check_form_page(request: HttpRequest, form: CheckForm, *, title: str, policy: Any) -> HttpResponse:
    return render(request, "monitoring/check_form.html", {
        "form": form, "title": title, "policy": policy,
        "cancel_url": reverse("monitoring:policy_detail", args=[policy.pk])})


@login_required
@require_http_methods(["GET", "POST"])
def check_create(request: HttpRequest, policy_id: int) -> HttpResponse:
    """Add a check to a policy (the parameter fields follow the chosen type)."""
    policy = selectors.access_policy(request.user, policy_id)
    _staff_only(request, "policies")
    require(request.user, "policies", "change")
    data = request.POST if request.method == "POST" else None
    check_type = (data or request.GET).get("check_type", CheckType.CPU)
    form = CheckForm(data, check_type=check_type)
    if data is None and request.GET.get("check_type"):
        form.initial.update({k: v for k, v in request.GET.items() if k in form.fields and k != "check_type"})
    if data is not None and form.is_valid():
        try:
            services.check_create(actor=request.user, policy=policy, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Check added."))
            return redirect("monitoring:policy_detail", policy_id=policy.pk)
    return _check_form_page(request, form, title=_("New check in %(name)s") % {"name": policy.name}, policy=policy)


@login_required
@require_http_methods(["GET", "POST"])
def check_edit(request: HttpRequest, check_id: int) -> HttpResponse:
    """Change a check."""
    check = selectors.access_check(request.user, check_id)
    _staff_only(request, "policies")
    require(request.user, "policies", "change")
    data = request.POST if request.method == "POST" else None
    check_type = (data or request.GET).get("check_type", check.check_type)
    form = CheckForm(data, check_type=check_type)
    if data is None:
        form.initial_from_check(check)
        if request.GET.get("check_type"):
            form.initial["check_type"] = check_type
    if data is not None and form.is_valid():
        try:
            services.check_update(actor=request.user, check=check, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Check saved."))
            return redirect("monitoring:policy_detail", policy_id=check.policy_id)
    return _check_form_page(request, form, title=_("Edit check %(name)s") % {"name": check.name},
                            policy=check.policy)


@login_required
@require_POST
def check_delete(request: HttpRequest, check_id: int) -> HttpResponse:
    """Remove a check from its policy."""
    check = selectors.access_check(request.user, check_id)
    _staff_only(request, "policies")
    policy_id = check.policy_id
    services.check_delete(actor=request.user, check=check)
    messages.success(request, _("Check removed."))
    return redirect("monitoring:policy_detail", policy_id=policy_id)


# --- maintenance windows ----------------------------------------------------------------------


@login_required
@require_GET
def window_list(request: HttpRequest) -> HttpResponse:
    """Maintenance windows, latest first."""
    _staff_only(request)
    return render_list(request, selectors.windows_visible(request.user), WINDOW_LIST,
                       template="monitoring/window_list.html",
                       context={"can_add": has_capability(request.user, "devices", "add"),
                                "can_delete": has_capability(request.user, "devices", "delete")})


@login_required
@require_http_methods(["GET", "POST"])
def window_create(request: HttpRequest) -> HttpResponse:
    """Plan a maintenance window."""
    _staff_only(request)
    require(request.user, "devices", "add")
    initial = {k: request.GET[k] for k in ("client", "site", "device") if request.GET.get(k)}
    form = WindowForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        client = access_client(request.user, form.cleaned_data["client"].pk)
        try:
            services.window_create(actor=request.user, client=client, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Maintenance window planned."))
            return redirect("monitoring:window_list")
    return _form_page(request, form, title=_("New maintenance window"), cancel_url=reverse("monitoring:window_list"))


@login_required
@require_POST
def window_delete(request: HttpRequest, window_id: int) -> HttpResponse:
    """Remove a maintenance window."""
    window = selectors.access_window(request.user, window_id)
    _staff_only(request)
    services.window_delete(actor=request.user, window=window)
    messages.success(request, _("Maintenance window removed."))
    return redirect("monitoring:window_list")


# --- fragments of other apps' pages (architecture rule 2) ----------------------------------------


@login_required
@require_GET
def device_policy(request: HttpRequest, device_id: int) -> HttpResponse:
    """The device's effective policy, where each check comes from, its check states and open alerts."""
    device = access_device(request.user, device_id)
    _staff_only(request)
    effective = effective_policy(device)
    return render(request, "monitoring/partials/device_policy.html", {
        "device": device, "effective": effective, "states": selectors.device_check_states(device),
        "alerts": selectors.device_alerts(device), "chart_ranges": CHART_RANGES,
        "can_policies": has_capability(request.user, "policies", "add")})


CHART_RANGES = [("24h", gettext_lazy("24 hours")), ("7d", gettext_lazy("7 days")), ("30d", gettext_lazy("30 days")),
                ("1y", gettext_lazy("1 year"))]


@login_required
@require_GET
def device_metrics(request: HttpRequest, device_id: int) -> HttpResponse:
    """The device's metric series for the Performance chart (JSON); `range` is 24h, 7d, 30d or 1y."""
    device = access_device(request.user, device_id)
    _staff_only(request)
    range_key = request.GET.get("range", "24h")
    if range_key not in RANGES:
        return JsonResponse({"code": "invalid", "message": _("Unknown range."),
                             "errors": {"range": [", ".join(RANGES)]}}, status=400)
    return JsonResponse(metric_series(device, range_key))


@login_required
@require_GET
def client_baseline(request: HttpRequest, client_id: int) -> HttpResponse:
    """The client's tier baseline and compliance (a fragment of the client page)."""
    client = access_client(request.user, client_id)
    _staff_only(request, "policies")
    require(request.user, "policies", "view")
    return render(request, "monitoring/partials/client_baseline.html", {
        "client": client, "compliance": selectors.baseline_compliance(client),
        "form": BaselineForm(initial={"tier": getattr(selectors.client_baseline(client), "tier", "good")}),
        "can_change": has_capability(request.user, "policies", "change")})


@login_required
@require_POST
def baseline_apply(request: HttpRequest, client_id: int) -> HttpResponse:
    """Apply a tier's baseline to a client."""
    client = access_client(request.user, client_id)
    _staff_only(request, "policies")
    form = BaselineForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a tier: good, better or best."))
    else:
        services.baseline_apply(actor=request.user, client=client, tier=form.cleaned_data["tier"])
        messages.success(request, _("Baseline applied."))
    return redirect("clients:client_detail", client_id=client.pk)
