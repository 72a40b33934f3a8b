"""Script library, run and signing-key screens: parse, check access, call a service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tenfold.assets.models import Device, DeviceState
from tenfold.automation import actions, selectors, services
from tenfold.automation.forms import (
    ActionRunForm,
    GroupForm,
    KeyForm,
    RetryForm,
    RevokeForm,
    RunForm,
    ScheduledActionForm,
    ScheduledScriptForm,
    ScriptForm,
    TargetForm,
    add_service_errors,
    rename_group_field,
    rename_service_field,
    scheduled_initial,
)
from tenfold.automation.models import DeviceGroup, GroupKind, RunKind, ScriptCategory, ScriptLanguage
from tenfold.clients.models import Client
from tenfold.core.errors import NotFound, PermissionDenied, TenfoldError
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.roles import STAFF_ROLES, has_capability, has_privilege, require

SCRIPT_LIST = ListSpec(
    columns=[
        Column("name", gettext_lazy("Name"), sort="name",
               link=lambda s: reverse("automation:script_detail", args=[s.pk])),
        Column("category", gettext_lazy("Category"), sort="category"),
        Column("language", gettext_lazy("Language"), sort="language"),
        Column("os_families", gettext_lazy("Systems"), accessor=lambda s: ", ".join(s.os_families)),
        Column("signed_count", gettext_lazy("Signed versions"), sort="signed_count",
               accessor=lambda s: f"{s.signed_count} / {s.version_count}"),
        Column("updated_at", gettext_lazy("Changed"), sort="updated_at", accessor=lambda s: s.updated_at.date()),
    ],
    search_fields=["name", "description"],
    filters=[ChoiceFilter("category", gettext_lazy("Category"), "category", lambda r: list(ScriptCategory.choices)),
             ChoiceFilter("language", gettext_lazy("Language"), "language", lambda r: list(ScriptLanguage.choices))],
    default_sort="name",
)

def _run_what(run: Any) -> str:
    if run.version_id:
        return f"{run.version.script.name} v{run.version.number}"
    return str(actions.ACTIONS[run.action].label) if run.action in actions.ACTIONS else run.action


RUN_LIST = ListSpec(
    columns=[
        Column("created_at", gettext_lazy("Started"), sort="created_at",
               accessor=lambda r: r.created_at.strftime("%Y-%m-%d %H:%M"),
               link=lambda r: reverse("automation:run_detail", args=[r.pk])),
        Column("what", gettext_lazy("Script or action"), accessor=_run_what),
        Column("target_label", gettext_lazy("Target"), sort="target_label"),
        Column("client", gettext_lazy("Client"), sort="client__name", accessor=lambda r: r.client.name),
        Column("device_count", gettext_lazy("Devices"), sort="device_count"),
        Column("succeeded_count", gettext_lazy("Succeeded"), sort="succeeded_count"),
        Column("failed_count", gettext_lazy("Failed"), sort="failed_count"),
        Column("open_count", gettext_lazy("Open"), sort="open_count"),
    ],
    search_fields=["target_label", "version__script__name", "action", "client__name"],
    filters=[ChoiceFilter("kind", gettext_lazy("Kind"), "kind", lambda r: list(RunKind.choices))],
    default_sort="-created_at",
)

GROUP_LIST = ListSpec(
    columns=[
        Column("name", gettext_lazy("Name"), sort="name",
               link=lambda g: reverse("automation:group_detail", args=[g.pk])),
        Column("kind", gettext_lazy("Kind"), sort="kind"),
        Column("client", gettext_lazy("Owned by"), sort="client__name",
               accessor=lambda g: g.client.name if g.client_id else gettext_lazy("The MSP")),
        Column("description", gettext_lazy("Description")),
    ],
    search_fields=["name", "description"],
    filters=[ChoiceFilter("kind", gettext_lazy("Kind"), "kind", lambda r: list(GroupKind.choices))],
    default_sort="name",
)

SCHEDULED_LIST = ListSpec(
    columns=[
        Column("name", gettext_lazy("Name"), sort="name",
               link=lambda r: reverse("automation:scheduled_detail", args=[r.pk])),
        Column("what", gettext_lazy("Script or action"), accessor=_run_what),
        Column("schedule_kind", gettext_lazy("Repeat"), sort="schedule_kind"),
        Column("enabled", gettext_lazy("Enabled"), sort="enabled",
               accessor=lambda r: gettext_lazy("Yes") if r.enabled else gettext_lazy("No")),
        Column("next_run_at", gettext_lazy("Next run"), sort="next_run_at",
               accessor=lambda r: r.next_run_at.strftime("%Y-%m-%d %H:%M") if r.next_run_at else "—"),
        Column("last_run_at", gettext_lazy("Last run"), sort="last_run_at",
               accessor=lambda r: r.last_run_at.strftime("%Y-%m-%d %H:%M") if r.last_run_at else "—"),
    ],
    search_fields=["name"],
    filters=[ChoiceFilter("kind", gettext_lazy("Kind"), "kind", lambda r: list(RunKind.choices))],
    default_sort="name",
)


def _staff_only(request: HttpRequest) -> None:
    if getattr(request.user, "is_portal", True):
        require(None, "scripts", "view")


@login_required
def script_list(request: HttpRequest) -> HttpResponse:
    """The script library: search, category and language filters, sort, pages."""
    _staff_only(request)
    return render_list(request, selectors.script_list(request.user), SCRIPT_LIST,
                       template="automation/script_list.html", context={
                           "can_add": has_capability(request.user, "scripts", "add"),
                           "can_manage_keys": has_capability(request.user, "settings", "change"),
                           "pending": selectors.versions_awaiting_signature(request.user).count()})


@login_required
@require_http_methods(["GET", "POST"])
def script_create(request: HttpRequest) -> HttpResponse:
    """A new script: version 1 awaits signature."""
    _staff_only(request)
    services.require_library_write(request.user, "add")
    form = ScriptForm(request.POST or None, initial={"os_families": ["linux"], "language": "shell"})
    if request.method == "POST" and form.is_valid():
        try:
            script = services.script_create(actor=request.user, data=form.service_data())
        except TenfoldError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Script created: version 1 awaits an approver's signature."))
            return redirect("automation:script_detail", script.pk)
    return render(request, "automation/script_form.html", {"form": form, "title": _("New script"),
                                                            "cancel_url": reverse("automation:script_list")})


@login_required
def script_detail(request: HttpRequest, script_id: int) -> HttpResponse:
    """A script, its versions with their signatures, and its latest runs."""
    script = selectors.access_script(request.user, script_id)
    _staff_only(request)
    runs = []
    if has_capability(request.user, "jobs", "view"):
        runs = list(selectors.items_visible(request.user).filter(version__script=script)
                    .order_by("-created_at", "-pk")[:20])
    return render(request, "automation/script_detail.html", {
        "script": script, "versions": selectors.script_versions(script), "runs": runs,
        "signed": selectors.latest_signed_version(script),
        "can_change": has_capability(request.user, "scripts", "change"),
        "can_run": has_capability(request.user, "jobs", "add"),
        "can_sign": has_privilege(request.user, "scripts.sign")})


@login_required
@require_http_methods(["GET", "POST"])
def script_edit(request: HttpRequest, script_id: int) -> HttpResponse:
    """Change a script; a new body (or signed field) makes a new version awaiting signature."""
    script = selectors.access_script(request.user, script_id)
    _staff_only(request)
    services.require_library_write(request.user, "change")
    current = selectors.latest_version(script)
    initial = {"name": script.name, "description": script.description, "category": script.category,
               "language": script.language, "os_families": script.os_families,
               "timeout_seconds": script.timeout_seconds, "body": current.body if current else "",
               "parameters": _json(script.parameters)}
    form = ScriptForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.script_update(actor=request.user, script=script, data=form.service_data())
        except TenfoldError as exc:
            add_service_errors(form, exc)
        else:
            if version is not None:
                messages.success(request, _("Saved: version %(n)d awaits an approver's signature.")
                                 % {"n": version.number})
            else:
                messages.success(request, _("Saved."))
            return redirect("automation:script_detail", script.pk)
    return render(request, "automation/script_form.html", {
        "form": form, "title": _("Edit %(name)s") % {"name": script.name}, "script": script,
        "cancel_url": reverse("automation:script_detail", args=[script.pk])})


def _json(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, ensure_ascii=False)


def _deny_unseen_targets(request: HttpRequest) -> None:
    """A posted device, group or client the user may not see is a 404 (as a missing one), before any other
    check, and nothing is queued."""
    if request.method != "POST":
        return
    user = request.user
    posted = [v for v in request.POST.getlist("devices") if v.isdigit()]
    if Device.objects.visible_to(user).filter(pk__in=posted).count() != len(set(posted)):
        raise NotFound()
    group, client = request.POST.get("group", ""), request.POST.get("client", "")
    if group.isdigit() and not DeviceGroup.objects.visible_to(user).filter(pk=int(group)).exists():
        raise NotFound()
    if client.isdigit() and not Client.objects.visible_to(user).filter(pk=int(client)).exists():
        raise NotFound()


def _target_choices(request: HttpRequest, families: Any = None) -> dict[str, Any]:
    devices = list(Device.objects.visible_to(request.user).filter(managed=True).exclude(state=DeviceState.RETIRED)
                   .select_related("client").order_by("client__name", "name"))
    if families is not None:
        devices = [d for d in devices if d.os_family in families]
    return {"devices": devices, "groups": list(DeviceGroup.objects.visible_to(request.user)
                                               .select_related("client").order_by("name", "pk")),
            "clients": list(Client.objects.visible_to(request.user).order_by("name"))}


def _start_or_schedule(request: HttpRequest, form: TargetForm, *, script: Any = None, version: Any = None,
                       action: str = "", parameters: dict[str, Any]) -> HttpResponse | None:
    """Run now (one run per client) or save a scheduled run; None when the service refused (errors on the form)."""
    target = form.target_ids()
    try:
        if form.cleaned_data["when"] != "now":
            data = {**form.schedule_data(), **target, "parameters": parameters}
            if script is not None:
                data.update(script_id=script.pk, version=version.number if version else None)
            else:
                data["action"] = action
            scheduled = services.scheduled_run_create(actor=request.user, data=data)
            messages.success(request, _("Scheduled: the first run is due %(at)s.")
                             % {"at": scheduled.next_run_at.strftime("%Y-%m-%d %H:%M UTC")
                                if scheduled.next_run_at else "—"})
            return redirect("automation:scheduled_detail", scheduled.pk)
        if script is not None:
            items = services.script_run(actor=request.user, script=script, parameters=parameters,
                                        version_number=version.number if version else None, **target)
            runs = sorted({item.run_id for item in items})
            count = len(items)
        else:
            started = services.action_run(actor=request.user, action=action, payload=parameters,
                                          target=services.Target(**target))
            runs = [r.pk for r in started]
            count = sum(r.items.count() for r in started)
    except TenfoldError as exc:
        add_service_errors(form, exc, rename=rename_service_field)
        return None
    messages.success(request, _("Queued on %(n)d device(s).") % {"n": count})
    if len(runs) == 1:
        return redirect("automation:run_detail", runs[0])
    return redirect("automation:run_list")


@login_required
@require_http_methods(["GET", "POST"])
def script_run(request: HttpRequest, script_id: int) -> HttpResponse:
    """Run the latest signed version on devices, a group or a client, now or on a schedule."""
    _deny_unseen_targets(request)
    script = selectors.access_script(request.user, script_id)
    _staff_only(request)
    require(request.user, "jobs", "add")
    version = selectors.latest_signed_version(script)
    choices = _target_choices(request, version.os_families if version else None)
    form = RunForm(request.POST or None, schema=version.parameters if version else [], **choices)
    if request.method == "POST" and version is not None and form.is_valid():
        done = _start_or_schedule(request, form, script=script, version=version,
                                  parameters=form.parameter_values())
        if done is not None:
            return done
    return render(request, "automation/script_run.html", {"script": script, "version": version, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def action_run(request: HttpRequest) -> HttpResponse:
    """Send a built-in agent action (chosen with ?action=) to devices, a group or a client, now or later."""
    _staff_only(request)
    _deny_unseen_targets(request)
    require(request.user, "jobs", "add")
    kind = request.POST.get("action") or request.GET.get("action") or ""
    action = actions.ACTIONS.get(kind)
    if action is None:
        return render(request, "automation/action_choose.html", {"actions": list(actions.ACTIONS.values())})
    form = ActionRunForm(request.POST or None, action=action, **_target_choices(request, action.os_families),
                         initial={"target": request.GET.get("target", "devices"), "group": request.GET.get("group")})
    if request.method == "POST" and form.is_valid():
        done = _start_or_schedule(request, form, action=action.kind, parameters=form.payload())
        if done is not None:
            return done
    return render(request, "automation/action_run.html", {"action": action, "form": form})


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    """Runs of visible clients (scripts and actions), for one script or one device when asked."""
    _staff_only(request)
    queryset = selectors.runs_visible(request.user)
    script_id, device_id = request.GET.get("script", ""), request.GET.get("device", "")
    if script_id.isdigit():
        queryset = queryset.filter(version__script_id=int(script_id))
    if device_id.isdigit():
        queryset = queryset.filter(items__device_id=int(device_id))
    return render_list(request, queryset, RUN_LIST, template="automation/run_list.html", context={
        "can_run": has_capability(request.user, "jobs", "add")})


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """One run: each device's status, exit code, duration; cancel and retry."""
    run = selectors.access_run(request.user, run_id)
    _staff_only(request)
    page = Paginator(selectors.run_items(run), 100).get_page(request.GET.get("page"))
    items = list(page.object_list)
    statuses = [i.job.status for i in run.items.select_related("job")]
    return render(request, "automation/run_detail.html", {
        "run": run, "items": items, "page": page, "what": _run_what(run),
        "can_run": has_capability(request.user, "jobs", "add"),
        "has_open": any(s in services.CANCELLABLE for s in statuses),
        "has_failed": any(s in services.RETRYABLE for s in statuses)})


@login_required
def run_item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    """One device's part of a run: its status, exit code and output (secret values were redacted when stored)."""
    item = selectors.access_run_item(request.user, item_id)
    _staff_only(request)
    return render(request, "automation/run_item_detail.html", {
        "run": item, "item": item, "job": item.job, "can_run": has_capability(request.user, "jobs", "add")})


@login_required
@require_POST
def run_item_cancel(request: HttpRequest, item_id: int) -> HttpResponse:
    """Cancel one device's job (at once when queued; through the agent when sent or running)."""
    item = selectors.access_run_item(request.user, item_id)
    _staff_only(request)
    require(request.user, "jobs", "add")
    try:
        outcome = services.run_item_cancel(actor=request.user, item=item)
    except TenfoldError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Cancelled.") if outcome == "cancelled"
                         else _("Cancelling: the agent stops the job and reports it."))
    return redirect("automation:run_detail", item.run_id)


@login_required
@require_POST
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    """Cancel every open job of a run."""
    run = selectors.access_run(request.user, run_id)
    _staff_only(request)
    require(request.user, "jobs", "add")
    try:
        counts = services.run_cancel(actor=request.user, run=run)
    except TenfoldError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("%(cancelled)d job(s) cancelled, %(cancelling)d cancelling.") % counts)
    return redirect("automation:run_detail", run.pk)


@login_required
@require_http_methods(["GET", "POST"])
def run_retry(request: HttpRequest, run_id: int) -> HttpResponse:
    """Run again on the devices whose job failed or timed out; secret parameters are asked again."""
    run = selectors.access_run(request.user, run_id)
    _staff_only(request)
    require(request.user, "jobs", "add")
    form = RetryForm(request.POST if request.method == "POST" else None,
                     secret_parameters=services.secret_parameters_of(run))
    if request.method == "POST" and form.is_valid():
        try:
            new = services.run_retry(actor=request.user, run=run, secrets=form.secrets())
        except TenfoldError as exc:
            add_service_errors(form, exc, rename=rename_service_field)
        else:
            messages.success(request, _("Retried on %(n)d device(s).") % {"n": new.items.count()})
            return redirect("automation:run_detail", new.pk)
    return render(request, "automation/run_retry.html", {"run": run, "form": form, "what": _run_what(run)})


# --- Device groups ---------------------------------------------------------------------------------


def _group_form(request: HttpRequest, data: Any = None, *, initial: Any = None, editing: bool = False) -> GroupForm:
    from tenfold.assets.models import Tag
    from tenfold.clients.models import Site

    user = request.user
    return GroupForm(data, initial=initial, editing=editing,
                     clients=list(Client.objects.visible_to(user).order_by("name")),
                     sites=list(Site.objects.visible_to(user).select_related("client").order_by("client__name",
                                                                                                  "name")),
                     tags=list(Tag.objects.order_by("name")),
                     devices=list(Device.objects.visible_to(user).exclude(state=DeviceState.RETIRED)
                                  .select_related("client").order_by("client__name", "name")))


def _deny_unseen_group_fields(request: HttpRequest) -> None:
    """A posted owner, client, site or device the user may not see is a 404, before any other check."""
    from tenfold.clients.models import Site

    if request.method != "POST":
        return
    _deny_unseen_targets(request)
    for name, model in (("owner", Client), ("filter_client", Client), ("site", Site)):
        value = request.POST.get(name, "")
        if value.isdigit() and not model.objects.visible_to(request.user).filter(  # type: ignore[attr-defined]
                pk=int(value)).exists():
            raise NotFound()


@login_required
def group_list(request: HttpRequest) -> HttpResponse:
    """Device groups: the MSP's and those of visible clients; search and kind filter."""
    _staff_only(request)
    return render_list(request, selectors.groups_visible(request.user), GROUP_LIST,
                       template="automation/group_list.html",
                       context={"can_add": has_capability(request.user, "jobs", "add")})


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest) -> HttpResponse:
    """A new device group."""
    _staff_only(request)
    _deny_unseen_group_fields(request)
    require(request.user, "jobs", "add")
    form = _group_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.group_create(actor=request.user, data=form.service_data())
        except PermissionDenied:
            raise
        except TenfoldError as exc:
            add_service_errors(form, exc, rename=rename_group_field)
        else:
            messages.success(request, _("Group created."))
            return redirect("automation:group_detail", group.pk)
    return render(request, "automation/group_form.html", {"form": form, "title": _("New device group"),
                                                           "cancel_url": reverse("automation:group_list")})


@login_required
def group_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    """A group and its members now (the devices you may see), paginated."""
    group = selectors.access_group(request.user, group_id)
    _staff_only(request)
    members = selectors.group_members(request.user, group).order_by("client__name", "name", "pk")
    page = Paginator(members, 50).get_page(request.GET.get("page"))
    return render(request, "automation/group_detail.html", {
        "group": group, "page": page, "members": list(page.object_list),
        "can_change": has_capability(request.user, "jobs", "change"),
        "can_delete": has_capability(request.user, "jobs", "delete"),
        "can_run": has_capability(request.user, "jobs", "add")})


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(request: HttpRequest, group_id: int) -> HttpResponse:
    """Change a group's name, kind, filters or devices."""
    group = selectors.access_group(request.user, group_id)
    _staff_only(request)
    _deny_unseen_group_fields(request)
    require(request.user, "jobs", "change")
    filters = group.filters or {}
    initial = {"name": group.name, "description": group.description, "kind": group.kind,
               "os_family": filters.get("os_family", ""), "filter_client": filters.get("client_id"),
               "site": filters.get("site_id"), "tag": filters.get("tag_id"), "software": filters.get("software", ""),
               "device_kind": filters.get("device_kind", ""), "online": filters.get("online", ""),
               "devices": [str(pk) for pk in group.devices.values_list("pk", flat=True)]}
    form = _group_form(request, request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(actor=request.user, group=group, data=form.service_data())
        except TenfoldError as exc:
            add_service_errors(form, exc, rename=rename_group_field)
        else:
            messages.success(request, _("Saved."))
            return redirect("automation:group_detail", group.pk)
    return render(request, "automation/group_form.html", {
        "form": form, "title": _("Edit %(name)s") % {"name": group.name}, "group": group,
        "cancel_url": reverse("automation:group_detail", args=[group.pk])})


@login_required
@require_POST
def group_delete(request: HttpRequest, group_id: int) -> HttpResponse:
    """Delete a group."""
    group = selectors.access_group(request.user, group_id)
    _staff_only(request)
    require(request.user, "jobs", "delete")
    try:
        services.group_delete(actor=request.user, group=group)
    except TenfoldError as exc:
        messages.error(request, str(exc.message))
        return redirect("automation:group_detail", group.pk)
    messages.success(request, _("Group deleted."))
    return redirect("automation:group_list")


# --- Scheduled runs --------------------------------------------------------------------------------


@login_required
def scheduled_list(request: HttpRequest) -> HttpResponse:
    """Scheduled runs: what, how often, next and last run."""
    _staff_only(request)
    return render_list(request, selectors.scheduled_runs_visible(request.user), SCHEDULED_LIST,
                       template="automation/scheduled_list.html")


@login_required
def scheduled_detail(request: HttpRequest, scheduled_id: int) -> HttpResponse:
    """A scheduled run, its schedule and the runs it started."""
    scheduled = selectors.access_scheduled_run(request.user, scheduled_id)
    _staff_only(request)
    runs = list(selectors.runs_visible(request.user).filter(scheduled_run=scheduled).order_by("-created_at")[:20])
    devices = list(Device.objects.visible_to(request.user).filter(pk__in=scheduled.device_ids or [])
                   .order_by("name"))
    return render(request, "automation/scheduled_detail.html", {
        "scheduled": scheduled, "runs": runs, "devices": devices, "what": _run_what(scheduled),
        "can_change": has_capability(request.user, "jobs", "change"),
        "can_delete": has_capability(request.user, "jobs", "delete")})


@login_required
@require_http_methods(["GET", "POST"])
def scheduled_edit(request: HttpRequest, scheduled_id: int) -> HttpResponse:
    """Change a scheduled run's name, target, schedule and parameters (what runs stays); checked as a new one."""
    scheduled = selectors.access_scheduled_run(request.user, scheduled_id)
    _deny_unseen_targets(request)
    _staff_only(request)
    require(request.user, "jobs", "change")
    initial = scheduled_initial(services.scheduled_run_data(scheduled))
    form: ScheduledScriptForm | ScheduledActionForm
    if scheduled.version is not None:
        choices = _target_choices(request, scheduled.version.os_families)
        form = ScheduledScriptForm(request.POST or None, schema=scheduled.version.parameters, initial=initial,
                                   **choices)
    else:
        choices = _target_choices(request, actions.action_of(scheduled.action).os_families)
        form = ScheduledActionForm(request.POST or None, action=actions.action_of(scheduled.action),
                                   initial=initial, **choices)
    if request.method == "POST" and form.is_valid():
        values = form.parameter_values() if isinstance(form, ScheduledScriptForm) else form.payload()
        data = {**form.schedule_data(), **form.target_ids(), "parameters": values}
        try:
            scheduled = services.scheduled_run_update(actor=request.user, scheduled=scheduled, data=data)
        except TenfoldError as exc:
            add_service_errors(form, exc, rename=rename_service_field)
        else:
            messages.success(request, _("Saved: the next run is due %(at)s.")
                             % {"at": scheduled.next_run_at.strftime("%Y-%m-%d %H:%M UTC")
                                if scheduled.next_run_at else "—"})
            return redirect("automation:scheduled_detail", scheduled.pk)
    return render(request, "automation/scheduled_form.html", {
        "scheduled": scheduled, "form": form, "what": _run_what(scheduled)})


@login_required
@require_POST
def scheduled_toggle(request: HttpRequest, scheduled_id: int) -> HttpResponse:
    """Pause or resume a scheduled run."""
    scheduled = selectors.access_scheduled_run(request.user, scheduled_id)
    _staff_only(request)
    require(request.user, "jobs", "change")
    try:
        services.scheduled_run_set_enabled(actor=request.user, scheduled=scheduled,
                                           enabled=request.POST.get("enabled") == "1")
    except TenfoldError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Saved."))
    return redirect("automation:scheduled_detail", scheduled.pk)


@login_required
@require_POST
def scheduled_delete(request: HttpRequest, scheduled_id: int) -> HttpResponse:
    """Delete a scheduled run (the runs it started stay)."""
    scheduled = selectors.access_scheduled_run(request.user, scheduled_id)
    _staff_only(request)
    require(request.user, "jobs", "delete")
    try:
        services.scheduled_run_delete(actor=request.user, scheduled=scheduled)
    except TenfoldError as exc:
        messages.error(request, str(exc.message))
        return redirect("automation:scheduled_detail", scheduled.pk)
    messages.success(request, _("Scheduled run deleted."))
    return redirect("automation:scheduled_list")


@login_required
def key_list(request: HttpRequest) -> HttpResponse:
    """Signing keys (owners and administrators): register, revoke."""
    _staff_only(request)
    require(request.user, "settings", "change")
    owners = [u for u in get_user_model().objects.filter(role__in=list(STAFF_ROLES), is_active=True)
              .order_by("first_name", "last_name", "pk") if has_privilege(u, "scripts.sign")]
    return render(request, "automation/key_list.html", {
        "keys": list(selectors.keys_visible(request.user).order_by("created_at", "pk")),
        "form": KeyForm(owners=owners, initial={"owner": request.user.pk}),
        "revoke_form": RevokeForm(), "has_active": selectors.active_keys().exists()})


@login_required
@require_POST
def key_register(request: HttpRequest) -> HttpResponse:
    """Register a public key (the first one, or one countersigned by an active key)."""
    _staff_only(request)
    require(request.user, "settings", "change")
    owners = list(get_user_model().objects.filter(role__in=list(STAFF_ROLES), is_active=True))
    form = KeyForm(request.POST, owners=owners)
    if form.is_valid():
        owner = next(u for u in owners if u.pk == form.cleaned_data["owner"])
        try:
            services.signing_key_register(
                actor=request.user, name=form.cleaned_data["name"], public_key=form.cleaned_data["public_key"],
                owner=owner, countersigned_by=form.cleaned_data["countersigned_by"] or None,
                countersignature=form.cleaned_data["countersignature"] or None)
        except TenfoldError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Key registered: agents receive it at their next check-in."))
    else:
        messages.error(request, _("Some fields are not valid."))
    return redirect("automation:key_list")


@login_required
@require_POST
def key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    """Revoke a key with a revocation signed by another active key."""
    key = selectors.access_key(request.user, key_id)
    _staff_only(request)
    require(request.user, "settings", "change")
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            services.signing_key_revoke(actor=request.user, key=key, revoked_by=form.cleaned_data["revoked_by"],
                                        signature=form.cleaned_data["signature"])
        except TenfoldError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Key revoked: agents drop it at their next check-in."))
    else:
        messages.error(request, _("Some fields are not valid."))
    return redirect("automation:key_list")
