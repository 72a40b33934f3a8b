"""Agent release screens (list, upload, detail, publish, withdraw, roll-out) and the agents' download endpoint:
parse, check access, call `releases`, render."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tenfold.agents import auth as agent_auth
from tenfold.agents.models import Agent
from tenfold.assets.models import Device, DeviceState
from tenfold.automation import releases, signing
from tenfold.automation.models import AgentRelease, ReleaseStatus
from tenfold.clients.models import Client
from tenfold.core.errors import NotFound, TenfoldError, ValidationError
from tenfold.core.forms import add_service_errors
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.roles import has_capability, has_privilege, require

RELEASE_LIST = ListSpec(
    columns=[
        Column("version", gettext_lazy("Version"), sort="version",
               link=lambda r: reverse("automation:release_detail", args=[r.pk])),
        Column("status", gettext_lazy("Status"), sort="status", badge=True,
               accessor=lambda r: r.get_status_display(), badge_key=lambda r: r.status),
        Column("file_name", gettext_lazy("File"), accessor=lambda r: r.file_name),
        Column("size", gettext_lazy("Size"), sort="size", accessor=lambda r: f"{r.size / 1024:.0f} KB"),
        Column("created_at", gettext_lazy("Uploaded"), sort="created_at",
               accessor=lambda r: r.created_at.strftime("%Y-%m-%d %H:%M")),
    ],
    search_fields=["version", "file_name", "notes"],
    filters=[ChoiceFilter("status", gettext_lazy("Status"), "status", lambda r: list(ReleaseStatus.choices))],
    default_sort="-created_at",
)


class ReleaseUploadForm(forms.Form):
    """A wheel of the agent and its version; the service checks the wheel."""

    version = forms.CharField(label=gettext_lazy("version"), max_length=50,
                              help_text=gettext_lazy("As in the wheel, e.g. 0.2.0 or 0.3.0rc1."))
    file = forms.FileField(label=gettext_lazy("wheel (.whl)"),
                           help_text=gettext_lazy("The tenfold-agent wheel, at most 50 MB."))
    notes = forms.CharField(label=gettext_lazy("release notes"), required=False, max_length=5000,
                            widget=forms.Textarea(attrs={"rows": 4}))


class RolloutForm(forms.Form):
    """Devices whose agent is older, or one client (all of its devices whose agent is older)."""

    devices = forms.MultipleChoiceField(label=gettext_lazy("devices"), required=False,
                                        widget=forms.SelectMultiple(attrs={"size": 8}))
    client = forms.ChoiceField(label=gettext_lazy("or every older agent of a client"), required=False)

    def __init__(self, *args: Any, devices: list[tuple[Device, str]], clients: list[Client], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["devices"].choices = [  # type: ignore[attr-defined]
            (str(d.pk), f"{d.client.name} · {d.name} ({version})") for d, version in devices]
        self.fields["client"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (str(c.pk), c.name) for c in clients]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("devices")) == bool(data.get("client")):
            raise forms.ValidationError(_("Choose devices, or one client."))
        return data


def _staff_only(request: HttpRequest) -> None:
    if getattr(request.user, "is_portal", True):
        require(None, "scripts", "view")


def _unrestricted(user: Any) -> bool:
    return bool(getattr(user, "client_scope", lambda: ())() is None)


def _older_devices(actor: Any, release: AgentRelease) -> list[tuple[Device, str]]:
    """Managed devices the actor sees whose agent is older than the release (what the form offers)."""
    target = signing.release_version_key(release.version)
    versions = dict(Agent.objects.visible_to(actor).values_list("device_id", "agent_version"))
    devices = (Device.objects.visible_to(actor).filter(managed=True, pk__in=list(versions))
               .exclude(state=DeviceState.RETIRED).select_related("client").order_by("client__name", "name"))
    found = []
    for device in devices:
        try:
            older = signing.release_version_key(versions[device.pk]) < target
        except signing.SigningError:
            older = False
        if older:
            found.append((device, versions[device.pk]))
    return found


@login_required
def release_list(request: HttpRequest) -> HttpResponse:
    """Agent releases: status filter, search, sort, pages."""
    _staff_only(request)
    return render_list(request, releases.releases_visible(request.user), RELEASE_LIST,
                       template="automation/release_list.html", context={
                           "can_add": has_capability(request.user, "scripts", "add")
                           and _unrestricted(request.user),
                           "pending": releases.releases_awaiting_signature(request.user).count()})


@login_required
@require_http_methods(["GET", "POST"])
def release_upload(request: HttpRequest) -> HttpResponse:
    """Upload a wheel: it awaits an approver's signature."""
    _staff_only(request)
    releases.require_library_write(request.user, "add")
    form = ReleaseUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > releases.MAX_RELEASE_BYTES:
                raise ValidationError(_("A release is at most %(limit)d MB.")
                                      % {"limit": releases.MAX_RELEASE_BYTES // 1048576}, field="file")
            release = releases.release_upload(actor=request.user, version=form.cleaned_data["version"],
                                              file_name=upload.name, data=upload.read(),
                                              notes=form.cleaned_data["notes"])
        except TenfoldError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Release uploaded: it awaits an approver's signature (tenfold sign pending)."))
            return redirect("automation:release_detail", release.pk)
    return render(request, "automation/release_form.html", {"form": form})


@login_required
def release_detail(request: HttpRequest, release_id: int) -> HttpResponse:
    """A release: its document, hash, signatures, status, and its roll-out."""
    release = releases.access_release(request.user, release_id)
    _staff_only(request)
    can_rollout = release.status == ReleaseStatus.PUBLISHED and has_capability(request.user, "jobs", "add")
    form = None
    if can_rollout:
        form = RolloutForm(devices=_older_devices(request.user, release),
                           clients=list(Client.objects.visible_to(request.user).order_by("name")))
    jobs = list(releases.rollout_jobs(request.user, release)[:100]) \
        if has_capability(request.user, "jobs", "view") else []
    return render(request, "automation/release_detail.html", {
        "release": release, "signatures": releases.release_signatures(release), "jobs": jobs, "form": form,
        "active_signatures": releases.active_signatures(release),
        "can_publish": has_privilege(request.user, "scripts.sign") and _unrestricted(request.user),
        "can_sign": has_privilege(request.user, "scripts.sign")})


@login_required
@require_POST
def release_publish(request: HttpRequest, release_id: int) -> HttpResponse:
    """Publish a signed release."""
    release = releases.access_release(request.user, release_id)
    _staff_only(request)
    try:
        releases.release_publish(actor=request.user, release=release)
    except TenfoldError as exc:
        if exc.status == 403:
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Release %(version)s published: roll it out to devices.")
                         % {"version": release.version})
    return redirect("automation:release_detail", release.pk)


@login_required
@require_POST
def release_withdraw(request: HttpRequest, release_id: int) -> HttpResponse:
    """Withdraw a release: agents can no longer download it."""
    release = releases.access_release(request.user, release_id)
    _staff_only(request)
    try:
        releases.release_withdraw(actor=request.user, release=release)
    except TenfoldError as exc:
        if exc.status == 403:
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Release %(version)s withdrawn.") % {"version": release.version})
    return redirect("automation:release_detail", release.pk)


@login_required
@require_POST
def release_rollout(request: HttpRequest, release_id: int) -> HttpResponse:
    """Queue the update on the chosen devices, or on every older agent of a client."""
    # A posted device or client the user may not see is a 404 (as for a missing one), before any other check.
    posted = [v for v in request.POST.getlist("devices") if v.isdigit()]
    if Device.objects.visible_to(request.user).filter(pk__in=posted).count() != len(set(posted)):
        raise NotFound()
    client_id = request.POST.get("client", "")
    if client_id and not (client_id.isdigit() and Client.objects.visible_to(request.user).filter(
            pk=int(client_id)).exists()):
        raise NotFound()
    release = releases.access_release_for_rollout(request.user, release_id)
    _staff_only(request)
    require(request.user, "jobs", "add")
    require(request.user, "scripts", "view")
    form = RolloutForm(request.POST, devices=_older_devices(request.user, release),
                       clients=list(Client.objects.visible_to(request.user).order_by("name")))
    if form.is_valid():
        try:
            jobs = releases.release_rollout(
                actor=request.user, release=release,
                device_ids=[int(d) for d in form.cleaned_data["devices"]] or None,
                client_id=int(form.cleaned_data["client"]) if form.cleaned_data["client"] else None)
        except TenfoldError as exc:
            if exc.status in (403, 404):
                raise
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Update queued on %(n)d device(s).") % {"n": len(jobs)})
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("automation:release_detail", release.pk)


# --- The agents' download ----------------------------------------------------------------------


@never_cache
def agent_release_file(request: HttpRequest, release_id: int) -> HttpResponse | FileResponse:
    """GET /agent/v1/releases/<id>/file: a published release's wheel, to any agent with a valid credential
    (releases are the MSP's, not a client's); 401 without one, 404 for a release that is not published."""
    if request.method != "GET":
        refusal = JsonResponse({"code": "method_not_allowed", "message": "Use GET."}, status=405)
        refusal["Allow"] = "GET"
        return refusal
    try:
        agent_auth.authenticate(request)
        release = releases.published_release_for_agent(release_id)
    except TenfoldError as exc:
        return JsonResponse({"code": exc.code, "message": str(exc.message)}, status=exc.status)
    response = FileResponse(release.file.open("rb"), content_type="application/octet-stream")
    response["Content-Length"] = str(release.size)
    response["Content-Disposition"] = f'attachment; filename="{release.file_name}"'
    return response
