"""The approval policy page's panel "Scripts before and after installing" (loaded by hx-get from patching's
policy page, which does not import automation)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tenfold.automation import patch_scripts
from tenfold.automation.models import Script
from tenfold.core.errors import ValidationError
from tenfold.core.forms import add_service_errors
from tenfold.core.roles import has_capability, require


class PolicyScriptsForm(forms.Form):
    """Choose the scripts run before and after installing; only scripts the policy may use are offered."""

    pre_script = forms.ModelChoiceField(label=gettext_lazy("script before installing"),
                                        queryset=Script.objects.none(), required=False,
                                        empty_label=gettext_lazy("None"),
                                        help_text=gettext_lazy("When it fails, no update is installed."))
    post_script = forms.ModelChoiceField(label=gettext_lazy("script after installing"),
                                         queryset=Script.objects.none(), required=False,
                                         empty_label=gettext_lazy("None"))

    def __init__(self, *args: Any, scripts: list[Script] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids = [s.pk for s in scripts or []]
        for name in ("pre_script", "post_script"):
            self.fields[name].queryset = Script.objects.filter(pk__in=ids).order_by("name", "pk")  # type: ignore[attr-defined]


def _staff_only(request: HttpRequest) -> None:
    # The staff console, not the portal: called after the fetch, so another client's policy stays a 404.
    if getattr(request.user, "is_portal", True):
        require(None, "policies", "view")


@login_required
@require_http_methods(["GET", "POST"])
def policy_scripts(request: HttpRequest, policy_id: int) -> HttpResponse:
    """The panel (GET) and its form (POST): the scripts a policy's install jobs run before and after installing."""
    policy, row = patch_scripts.access_policy_scripts(request.user, policy_id)
    _staff_only(request)
    can_change = has_capability(request.user, "policies", "change")
    if request.method == "POST":
        require(request.user, "policies", "change")
    scripts = patch_scripts.eligible_scripts(policy) if can_change else []
    # A script chosen earlier stays shown even when it no longer qualifies (so the page says what is set).
    current = [s for s in (row.pre_script if row else None, row.post_script if row else None) if s is not None]
    offered = scripts + [s for s in current if s.pk not in {x.pk for x in scripts}]
    initial = {"pre_script": row.pre_script_id if row else None, "post_script": row.post_script_id if row else None}
    form = PolicyScriptsForm(request.POST or None, initial=initial, scripts=scripts if request.method == "POST"
                             else offered)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                patch_scripts.policy_scripts_set(actor=request.user, policy=policy,
                                                 pre_script=form.cleaned_data["pre_script"],
                                                 post_script=form.cleaned_data["post_script"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Scripts before and after installing saved."))
                url = reverse("patching:policy_edit", args=[policy.pk])
                if request.headers.get("HX-Request"):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = url
                    return response
                return redirect(url)
        status = 422
    versions = {s.pk: patch_scripts.newest_signed_version(s) for s in current}
    return render(request, "automation/patch_scripts/panel.html", {
        "policy": policy, "row": row, "form": form, "can_change": can_change,
        "families": patch_scripts.policy_os_families(policy), "eligible_count": len(scripts),
        "pre_version": versions.get(row.pre_script_id) if row and row.pre_script_id else None,
        "post_version": versions.get(row.post_script_id) if row and row.post_script_id else None}, status=status)
