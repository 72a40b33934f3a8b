"""Script library, run and signing-key screens: parse, check access, call a service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tenfold.agents.models import JobStatus
from tenfold.assets.models import Device, DeviceState
from tenfold.automation import selectors, services
from tenfold.automation.forms import KeyForm, RevokeForm, RunForm, ScriptForm, add_service_errors
from tenfold.automation.models import ScriptCategory, ScriptLanguage
from tenfold.core.errors import NotFound, TenfoldError
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

RUN_LIST = ListSpec(
    columns=[
        Column("created_at", gettext_lazy("Queued"), sort="created_at",
               accessor=lambda r: r.created_at.strftime("%Y-%m-%d %H:%M"),
               link=lambda r: reverse("automation:run_detail", args=[r.pk])),
        Column("script", gettext_lazy("Script"), sort="version__script__name",
               accessor=lambda r: f"{r.version.script.name} v{r.version.number}"),
        Column("device", gettext_lazy("Device"), sort="device__name", accessor=lambda r: r.device.name),
        Column("client", gettext_lazy("Client"), sort="client__name", accessor=lambda r: r.client.name),
        Column("job__status", gettext_lazy("Status"), sort="job__status", badge=True,
               accessor=lambda r: r.job.get_status_display(), badge_key=lambda r: r.job.status),
        Column("exit_code", gettext_lazy("Exit code"), accessor=lambda r: "" if r.job.exit_code is None
               else r.job.exit_code),
    ],
    search_fields=["device__name", "version__script__name", "client__name"],
    filters=[ChoiceFilter("status", gettext_lazy("Status"), "job__status", lambda r: list(JobStatus.choices))],
    default_sort="-created_at",
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
        runs = list(selectors.runs_visible(request.user).filter(version__script=script)
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


@login_required
@require_http_methods(["GET", "POST"])
def script_run(request: HttpRequest, script_id: int) -> HttpResponse:
    """Run the latest signed version on devices of visible clients, with its parameters."""
    if request.method == "POST":
        # A posted device the user may not see is a 404 (as for a missing one), before any other check.
        posted = [v for v in request.POST.getlist("devices") if v.isdigit()]
        if Device.objects.visible_to(request.user).filter(pk__in=posted).count() != len(set(posted)):
            raise NotFound()
    script = selectors.access_script(request.user, script_id)
    _staff_only(request)
    require(request.user, "jobs", "add")
    version = selectors.latest_signed_version(script)
    devices = list(Device.objects.visible_to(request.user).filter(managed=True)
                   .exclude(state=DeviceState.RETIRED).select_related("client").order_by("client__name", "name"))
    if version is not None:
        devices = [d for d in devices if d.os_family in version.os_families]
    form = RunForm(request.POST or None, devices=devices, schema=version.parameters if version else [])
    if request.method == "POST" and version is not None and form.is_valid():
        try:
            runs = services.script_run(actor=request.user, script=script, device_ids=form.device_ids(),
                                       parameters=form.parameter_values(), version_number=version.number)
        except TenfoldError as exc:
            add_service_errors(form, exc, rename=lambda f: "param_" + f.split(".", 1)[1]
                               if f.startswith("parameters.") else ("devices" if f == "device_ids" else f))
        else:
            messages.success(request, _("Queued on %(n)d device(s).") % {"n": len(runs)})
            return redirect(reverse("automation:run_list") + f"?script={script.pk}")
    return render(request, "automation/script_run.html", {"script": script, "version": version, "form": form})


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    """Script runs (jobs) of visible clients, for one script or one device when asked."""
    _staff_only(request)
    queryset = selectors.runs_visible(request.user)
    script_id, device_id = request.GET.get("script", ""), request.GET.get("device", "")
    if script_id.isdigit():
        queryset = queryset.filter(version__script_id=int(script_id))
    if device_id.isdigit():
        queryset = queryset.filter(device_id=int(device_id))
    return render_list(request, queryset, RUN_LIST, template="automation/run_list.html")


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """One run: its status, exit code and output (secret values were redacted when stored)."""
    run = selectors.access_run(request.user, run_id)
    _staff_only(request)
    return render(request, "automation/run_detail.html", {"run": run, "job": run.job})


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
