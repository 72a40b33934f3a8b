"""Workflow screens (list, builder, detail, runs) and webhook screens (list, form, delivery log)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tenfold.automation import webhooks, workflow_selectors, workflow_services, workflows
from tenfold.automation.models import RunStatus, Script, VersionStatus, WebhookSubscription, Workflow
from tenfold.automation.workflow_forms import WebhookForm, WorkflowForm
from tenfold.core.errors import TenfoldError, ValidationError
from tenfold.core.forms import add_service_errors
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list

WORKFLOW_LIST = ListSpec(
    columns=[
        Column("name", gettext_lazy("Name"), sort="name",
               link=lambda w: reverse("automation:workflow_detail", args=[w.pk])),
        Column("trigger_event", gettext_lazy("Trigger"), sort="trigger_event",
               accessor=lambda w: w.schedule or w.trigger_event),
        Column("enabled", gettext_lazy("Status"), sort="enabled", badge=True,
               accessor=lambda w: _("Enabled") if w.enabled else _("Disabled"),
               badge_key=lambda w: "enabled" if w.enabled else "disabled"),
        Column("version", gettext_lazy("Version"),
               accessor=lambda w: f"v{w.current_version.number}" if w.current_version_id else "—"),
        Column("builtin_key", gettext_lazy("Built-in"), accessor=lambda w: _("Yes") if w.builtin_key else ""),
        Column("updated_at", gettext_lazy("Changed"), sort="updated_at", accessor=lambda w: w.updated_at.date()),
    ],
    search_fields=["name", "description"],
    filters=[ChoiceFilter("enabled", gettext_lazy("Status"), "enabled",
                          lambda r: [("True", _("Enabled")), ("False", _("Disabled"))])],
    default_sort="name",
)

RUN_LIST = ListSpec(
    columns=[
        Column("created_at", gettext_lazy("Started"), sort="created_at",
               accessor=lambda r: r.created_at.strftime("%Y-%m-%d %H:%M"),
               link=lambda r: reverse("automation:workflow_run_detail", args=[r.pk])),
        Column("workflow", gettext_lazy("Workflow"), sort="workflow__name",
               accessor=lambda r: f"{r.workflow.name} v{r.version.number}"),
        Column("trigger", gettext_lazy("Trigger"), sort="trigger"),
        Column("client", gettext_lazy("Client"), sort="client__name", accessor=lambda r: r.client.name),
        Column("device", gettext_lazy("Device"), accessor=lambda r: r.device.name if r.device else "—"),
        Column("status", gettext_lazy("Status"), sort="status", badge=True),
    ],
    search_fields=["workflow__name", "client__name", "device__name"],
    filters=[ChoiceFilter("status", gettext_lazy("Status"), "status", lambda r: list(RunStatus.choices))],
    default_sort="-created_at",
)


def _staff(request: HttpRequest) -> None:
    if getattr(request.user, "is_portal", True):
        workflow_services.require_build(None)


def _can_build(user: Any) -> bool:
    try:
        workflow_services.require_build(user)
    except TenfoldError:
        return False
    return True


@login_required
def workflow_list(request: HttpRequest) -> HttpResponse:
    """Workflows: search, enabled filter, sort, pages."""
    queryset = workflow_selectors.workflows_visible(request.user)
    return render_list(request, queryset, WORKFLOW_LIST, template="automation/workflow_list.html",
                       context={"can_build": _can_build(request.user)})


def _scripts_for_builder() -> list[dict[str, Any]]:
    """Scripts with a signed version and their parameter forms (the builder's script picker)."""
    result = []
    for script in Script.objects.order_by("name").prefetch_related("versions"):
        signed = [v for v in script.versions.all() if v.status == VersionStatus.SIGNED]
        if signed:
            latest = max(signed, key=lambda v: v.number)
            result.append({"id": script.pk, "name": script.name, "version": latest.number,
                           "os": latest.os_families, "parameters": latest.parameters})
    return result


def _builder_context(form: WorkflowForm, errors: dict[str, list[str]] | None) -> dict[str, Any]:
    catalogue = workflows.catalogue()
    catalogue["scripts"] = _scripts_for_builder()
    catalogue["webhooks"] = [[s.pk, s.name] for s in WebhookSubscription.objects.order_by("name")]
    from tenfold.assets.models import Tag

    catalogue["tags"] = [[t.pk, t.name] for t in Tag.objects.order_by("name")]
    catalogue["labels"] = _builder_labels()
    return {"form": form, "catalogue": catalogue, "builder_errors": errors or {},
            "error_list": [m for messages in (errors or {}).values() for m in messages]}


def _builder_labels() -> dict[str, str]:
    return {
        "trigger": _("Trigger"), "schedule": _("A schedule (cron)"), "cron": _("Cron expression"),
        "fields": _("Fields of this event:"), "conditions": _("Conditions (all must hold)"), "field": _("Field"),
        "operator": _("Operator"), "value": _("Value"), "yes": _("Yes"), "no": _("No"),
        "is_one_of": _("is one of"), "is_none_of": _("is none of"), "remove": _("Remove"),
        "add_condition": _("Add a condition"), "steps": _("Steps"), "script": _("Script"),
        "agent_action": _("Agent action"), "title": _("Ticket title"), "priority": _("Priority"),
        "auto": _("From the alert's severity"), "reuse_open": _("Add to the open ticket of the same device and check"),
        "note": _("Note"), "public": _("Visible to the client"), "status": _("Status"), "closed": _("Closed"),
        "resolved": _("Resolved"), "only_if_untouched": _("Only if nobody worked on it"), "to": _("To"),
        "subject": _("Subject"), "message": _("Message"), "webhook": _("Webhook subscription"),
        "device_field": _("Device field"), "tag": _("Tag"), "next": _("Next step"), "end": _("End the run"),
        "go_to": _("Go to"), "up": _("Move up"), "down": _("Move down"), "step_id": _("Step identifier"),
        "on_success": _("On success"), "then": _("Then"), "on_failure": _("On failure"), "action": _("Action"),
        "add_step": _("Add the step"),
    }


def _save(request: HttpRequest, form: WorkflowForm, workflow: Workflow | None) -> tuple[Any, dict[str, Any]]:
    data = {"name": form.cleaned_data["name"], "description": form.cleaned_data["description"],
            "enabled": form.cleaned_data["enabled"], "definition": form.cleaned_data["definition"]}
    try:
        if workflow is None:
            return workflow_services.workflow_create(actor=request.user, data=data), {}
        workflow_services.workflow_update(actor=request.user, workflow=workflow, data=data)
        return workflow, {}
    except ValidationError as exc:
        if set(exc.errors) <= {"name", "description", "enabled"} and exc.errors:
            add_service_errors(form, exc)
            return None, {}
        form.add_error(None, _("The workflow was not saved: correct the steps marked below."))
        return None, exc.errors or {"definition": [str(exc.message)]}
    except TenfoldError as exc:
        add_service_errors(form, exc)
        return None, {}


@login_required
@require_http_methods(["GET", "POST"])
def workflow_create(request: HttpRequest) -> HttpResponse:
    """The builder for a new workflow."""
    _staff(request)
    workflow_services.require_build(request.user)
    initial_definition = {"trigger": {"event": "alert.raised"}, "conditions": [], "steps": []}
    form = WorkflowForm(request.POST or None, initial={"enabled": True,
                                                       "definition": json.dumps(initial_definition)})
    errors: dict[str, Any] = {}
    if request.method == "POST" and form.is_valid():
        saved, errors = _save(request, form, None)
        if saved is not None:
            messages.success(request, _("Workflow saved (version 1)."))
            return redirect("automation:workflow_detail", saved.pk)
    return render(request, "automation/workflow_builder.html", {
        **_builder_context(form, errors), "title": _("New workflow"),
        "cancel_url": reverse("automation:workflow_list")})


@login_required
@require_http_methods(["GET", "POST"])
def workflow_edit(request: HttpRequest, workflow_id: int) -> HttpResponse:
    """The builder for an existing workflow: saving makes a new version."""
    workflow = workflow_selectors.access_workflow(request.user, workflow_id)
    workflow_services.require_build(request.user)
    definition = workflows.masked(workflow.current_version.definition) if workflow.current_version else {}
    form = WorkflowForm(request.POST or None, initial={
        "name": workflow.name, "description": workflow.description, "enabled": workflow.enabled,
        "definition": json.dumps(definition)})
    errors: dict[str, Any] = {}
    if request.method == "POST" and form.is_valid():
        saved, errors = _save(request, form, workflow)
        if saved is not None:
            workflow.refresh_from_db()
            messages.success(request, _("Workflow saved (version %(n)d).")
                             % {"n": workflow.current_version.number if workflow.current_version else 0})
            return redirect("automation:workflow_detail", workflow.pk)
    return render(request, "automation/workflow_builder.html", {
        **_builder_context(form, errors), "title": _("Edit %(name)s") % {"name": workflow.name},
        "workflow": workflow, "cancel_url": reverse("automation:workflow_detail", args=[workflow.pk])})


@login_required
def workflow_detail(request: HttpRequest, workflow_id: int) -> HttpResponse:
    """A workflow: its current definition in words, its versions and its latest runs."""
    workflow = workflow_selectors.access_workflow(request.user, workflow_id)
    definition = workflows.masked(workflow.current_version.definition) if workflow.current_version else {}
    actions = {a.name: a.label for a in workflows.ACTIONS.values()}
    steps = [{**s, "label": actions.get(s["action"], s["action"]),
              "params_json": json.dumps(s.get("params", {}), ensure_ascii=False)} for s in definition.get("steps", [])]
    runs = list(workflow_selectors.runs_visible(request.user).filter(workflow=workflow)
                .order_by("-created_at", "-pk")[:20])
    return render(request, "automation/workflow_detail.html", {
        "workflow": workflow, "definition": definition, "steps": steps, "runs": runs,
        "versions": list(workflow.versions.select_related("saved_by").order_by("-number")[:20]),
        "can_build": _can_build(request.user)})


@login_required
@require_POST
def workflow_toggle(request: HttpRequest, workflow_id: int) -> HttpResponse:
    """Enable or disable a workflow."""
    workflow = workflow_selectors.access_workflow(request.user, workflow_id)
    enabled = request.POST.get("enabled") == "true"
    workflow_services.workflow_set_enabled(actor=request.user, workflow=workflow, enabled=enabled)
    messages.success(request, _("Workflow enabled.") if enabled else _("Workflow disabled."))
    return redirect("automation:workflow_detail", workflow.pk)


@login_required
def workflow_run_list(request: HttpRequest) -> HttpResponse:
    """Workflow runs of the clients the user sees."""
    return render_list(request, workflow_selectors.runs_visible(request.user), RUN_LIST,
                       template="automation/workflow_run_list.html")


@login_required
def workflow_run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """A run step by step."""
    run = workflow_selectors.access_run(request.user, run_id)
    ticket = None
    if run.ticket_id:
        from tenfold.servicedesk.models import Ticket

        ticket = Ticket.objects.visible_to(request.user).filter(pk=run.ticket_id).first()
    steps = [{"step": s, "inputs": json.dumps(s.inputs, indent=1, ensure_ascii=False),
              "outputs": json.dumps(s.outputs, indent=1, ensure_ascii=False)}
             for s in run.steps.order_by("sequence")]
    return render(request, "automation/workflow_run_detail.html", {"run": run, "steps": steps, "ticket": ticket})


# --- Webhooks --------------------------------------------------------------------------------------


@login_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    subscriptions = list(workflow_selectors.webhooks_visible(request.user).order_by("name", "pk"))
    return render(request, "automation/webhook_list.html", {"subscriptions": subscriptions})


@login_required
@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest) -> HttpResponse:
    """A new subscription; its signing secret is shown on the next page, once."""
    _staff(request)
    workflow_services.require_build(request.user)
    form = WebhookForm(request.POST or None, initial={"enabled": True})
    if request.method == "POST" and form.is_valid():
        try:
            subscription, secret = webhooks.subscription_create(actor=request.user, data=form.cleaned_data)
        except TenfoldError as exc:
            add_service_errors(form, exc)
        else:
            return render(request, "automation/webhook_secret.html", {"subscription": subscription,
                                                                      "secret": secret})
    return render(request, "automation/webhook_form.html", {"form": form, "title": _("New webhook subscription"),
                                                            "cancel_url": reverse("automation:webhook_list")})


@login_required
@require_http_methods(["GET", "POST"])
def webhook_detail(request: HttpRequest, webhook_id: int) -> HttpResponse:
    """A subscription: its settings (editable) and its delivery log."""
    subscription = workflow_selectors.access_webhook(request.user, webhook_id)
    form = WebhookForm(request.POST or None, initial={
        "name": subscription.name, "url": subscription.url, "events": subscription.events,
        "enabled": subscription.enabled})
    if request.method == "POST" and form.is_valid():
        try:
            webhooks.subscription_update(actor=request.user, subscription=subscription, data=form.cleaned_data)
        except TenfoldError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("automation:webhook_detail", subscription.pk)
    deliveries = list(workflow_selectors.deliveries_of(request.user, subscription)[:50])
    return render(request, "automation/webhook_detail.html", {
        "subscription": subscription, "form": form, "deliveries": deliveries})


@login_required
@require_POST
def webhook_ping(request: HttpRequest, webhook_id: int) -> HttpResponse:
    subscription = workflow_selectors.access_webhook(request.user, webhook_id)
    try:
        webhooks.subscription_ping(actor=request.user, subscription=subscription)
    except TenfoldError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Test ping queued: it appears in the log below within a minute."))
    return redirect("automation:webhook_detail", subscription.pk)
