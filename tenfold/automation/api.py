"""REST endpoints of the script library, signing keys, signatures and script runs.

`tenfold sign` uses `GET /script-versions/pending`, `GET /script-versions/{id}` and
`POST /script-versions/{id}/signatures` with the approver's own API token.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from tenfold.accounts.models import User
from tenfold.automation import selectors, services
from tenfold.automation.schemas import (
    KeyRevokeIn,
    ScriptIn,
    ScriptOut,
    ScriptPatch,
    ScriptRunIn,
    ScriptRunOut,
    ScriptVersionOut,
    SignatureIn,
    SignatureOut,
    SigningKeyIn,
    SigningKeyOut,
)
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate
from tenfold.core.errors import NotFound, ValidationError

keys_router = Router(tags=["automation"])
scripts_router = Router(tags=["automation"])
versions_router = Router(tags=["automation"])
runs_router = Router(tags=["automation"])


class ListParams(Schema):
    page: int = 1
    page_size: int | None = None


class ScriptFilters(Schema):
    q: str | None = None
    category: str | None = None
    language: str | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class RunFilters(Schema):
    device_id: int | None = None
    script_id: int | None = None
    status: str | None = None
    page: int = 1
    page_size: int | None = None


# --- Signing keys ------------------------------------------------------------------------------


@keys_router.get("", response={200: Page[SigningKeyOut], **ERRORS}, summary="List signing keys")
def list_keys(request: HttpRequest, params: Query[ListParams]) -> Any:
    """Every registered public key, active and revoked (private keys are never on the server)."""
    return paginate(selectors.keys_visible(actor_of(request)).order_by("created_at", "pk"), params.page,
                    params.page_size)


@keys_router.post("", response={201: SigningKeyOut, **ERRORS}, summary="Register a signing key")
def register_key(request: HttpRequest, payload: SigningKeyIn) -> Any:
    """Register an approver's public key: the first one as is, later ones with a countersignature by an
    active key (`tenfold sign countersign`). Owners and administrators only."""
    actor = actor_of(request)
    owner = actor
    if payload.owner_id is not None:
        owner = User.objects.filter(pk=payload.owner_id).first()
        if owner is None:
            raise ValidationError("No user with this id.", field="owner_id")
    key = services.signing_key_register(actor=actor, name=payload.name, public_key=payload.public_key, owner=owner,
                                        countersigned_by=payload.countersigned_by,
                                        countersignature=payload.countersignature)
    return Status(201, key)


@keys_router.post("/{key_pk}/revoke", response={200: SigningKeyOut, **ERRORS}, summary="Revoke a signing key")
def revoke_key(request: HttpRequest, key_pk: int, payload: KeyRevokeIn) -> Any:
    """Revoke a key with a revocation signed by another active key (`tenfold sign revoke`)."""
    actor = actor_of(request)
    key = selectors.access_key(actor, key_pk)
    return services.signing_key_revoke(actor=actor, key=key, revoked_by=payload.revoked_by,
                                       signature=payload.signature)


# --- Scripts -----------------------------------------------------------------------------------


@scripts_router.get("", response={200: Page[ScriptOut], **ERRORS}, summary="List scripts")
def list_scripts(request: HttpRequest, filters: Query[ScriptFilters]) -> Any:
    """The script library, filtered by `q` (name), `category` and `language`, sorted by `ordering`."""
    queryset = selectors.scripts_visible(actor_of(request))
    if filters.q:
        queryset = queryset.filter(name__icontains=filters.q.strip()[:200])
    if filters.category:
        queryset = queryset.filter(category=filters.category[:20])
    if filters.language:
        queryset = queryset.filter(language=filters.language[:12])
    queryset = queryset.order_by(*ordering_param(filters.ordering, {"name": "name", "category": "category",
                                                                    "updated_at": "updated_at"}, "name"))
    return paginate(queryset, filters.page, filters.page_size)


@scripts_router.post("", response={201: ScriptOut, **ERRORS}, summary="Create a script")
def create_script(request: HttpRequest, payload: ScriptIn) -> Any:
    """A new library entry; its body is version 1, awaiting signature."""
    return Status(201, services.script_create(actor=actor_of(request), data=payload.model_dump()))


@scripts_router.get("/{script_id}", response={200: ScriptOut, **ERRORS}, summary="Get a script")
def get_script(request: HttpRequest, script_id: int) -> Any:
    return selectors.access_script(actor_of(request), script_id)


@scripts_router.patch("/{script_id}", response={200: ScriptOut, **ERRORS}, summary="Change a script")
def update_script(request: HttpRequest, script_id: int, payload: ScriptPatch) -> Any:
    """A change of the body, language, systems, timeout or parameters makes a new version awaiting signature."""
    actor = actor_of(request)
    script = selectors.access_script(actor, script_id)
    services.script_update(actor=actor, script=script, data=payload.model_dump(exclude_unset=True))
    script.refresh_from_db()
    return script


@scripts_router.delete("/{script_id}", response={204: None, **ERRORS}, summary="Delete a script")
def delete_script(request: HttpRequest, script_id: int) -> Any:
    actor = actor_of(request)
    services.script_delete(actor=actor, script=selectors.access_script(actor, script_id))
    return Status(204, None)


@scripts_router.get("/{script_id}/versions", response={200: list[ScriptVersionOut], **ERRORS},
                    summary="List a script's versions")
def list_versions(request: HttpRequest, script_id: int) -> Any:
    return selectors.script_versions(selectors.access_script(actor_of(request), script_id))


@scripts_router.post("/{script_id}/run", response={201: list[ScriptRunOut], **ERRORS}, summary="Run a script")
def run_script(request: HttpRequest, script_id: int, payload: ScriptRunIn) -> Any:
    """Queue the latest signed version (or `version`) on `device_ids`, or on every managed device of
    `client_id`: one job per device. A device you may not see is a 404 and nothing is queued."""
    actor = actor_of(request)
    script = selectors.access_script_for_run(actor, script_id)
    runs = services.script_run(actor=actor, script=script, device_ids=payload.device_ids, client_id=payload.client_id,
                               group_id=payload.group_id, parameters=payload.parameters,
                               version_number=payload.version)
    return Status(201, runs)


@scripts_router.get("/{script_id}/runs", response={200: Page[ScriptRunOut], **ERRORS}, summary="List a script's runs")
def list_script_runs(request: HttpRequest, script_id: int, params: Query[ListParams]) -> Any:
    actor = actor_of(request)
    script = selectors.access_script(actor, script_id)
    return paginate(selectors.items_visible(actor).filter(version__script=script), params.page, params.page_size)


# --- Versions and signatures -------------------------------------------------------------------


@versions_router.get("/pending", response={200: Page[ScriptVersionOut], **ERRORS},
                     summary="List versions awaiting signature")
def pending_versions(request: HttpRequest, params: Query[ListParams]) -> Any:
    return paginate(selectors.versions_awaiting_signature(actor_of(request)), params.page, params.page_size)


@versions_router.get("/{version_id}", response={200: ScriptVersionOut, **ERRORS}, summary="Get a script version")
def get_version(request: HttpRequest, version_id: int) -> Any:
    return selectors.access_version(actor_of(request), version_id)


@versions_router.post("/{version_id}/signatures", response={201: SignatureOut, **ERRORS},
                      summary="Upload a signature")
def upload_signature(request: HttpRequest, version_id: int, payload: SignatureIn) -> Any:
    """The approver's Ed25519 signature of the version's document, made with `tenfold sign approve`. It is
    verified with the approver's registered public key before it is stored (422 when it does not verify)."""
    actor = actor_of(request)
    version = selectors.access_version(actor, version_id)
    return Status(201, services.signature_upload(actor=actor, version=version, key_id=payload.key_id,
                                                 signature=payload.signature))


@versions_router.post("/{version_id}/revoke", response={200: ScriptVersionOut, **ERRORS}, summary="Revoke a version")
def revoke_version(request: HttpRequest, version_id: int) -> Any:
    actor = actor_of(request)
    return services.version_revoke(actor=actor, version=selectors.access_version(actor, version_id))


# --- Runs --------------------------------------------------------------------------------------


@runs_router.get("", response={200: Page[ScriptRunOut], **ERRORS}, summary="List script runs")
def list_runs(request: HttpRequest, filters: Query[RunFilters]) -> Any:
    """Runs on devices of clients you may see, newest first; output has secret values redacted."""
    queryset = selectors.items_visible(actor_of(request)).filter(version__isnull=False)
    if filters.device_id:
        queryset = queryset.filter(device_id=filters.device_id)
    if filters.script_id:
        queryset = queryset.filter(version__script_id=filters.script_id)
    if filters.status:
        queryset = queryset.filter(job__status=filters.status[:12])
    return paginate(queryset.order_by("-created_at", "-pk"), filters.page, filters.page_size)


@runs_router.get("/{run_id}", response={200: ScriptRunOut, **ERRORS}, summary="Get a script run")
def get_run(request: HttpRequest, run_id: int) -> Any:
    item = selectors.access_run_item(actor_of(request), run_id)
    if item.version_id is None:
        raise NotFound()  # an agent action: see /runs
    return item


# --- Workflows, workflow runs, webhooks ------------------------------------------------------------

from tenfold.automation import webhooks as webhook_services  # noqa: E402
from tenfold.automation import workflow_selectors, workflow_services, workflows  # noqa: E402
from tenfold.automation.workflow_schemas import (  # noqa: E402
    DefinitionIn,
    DeliveryOut,
    EnabledIn,
    ValidationOut,
    WebhookCreatedOut,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
    WorkflowIn,
    WorkflowOut,
    WorkflowPatch,
    WorkflowRunDetailOut,
    WorkflowRunOut,
    WorkflowVersionOut,
)

workflows_router = Router(tags=["workflows"])
workflow_runs_router = Router(tags=["workflows"])
webhooks_router = Router(tags=["webhooks"])


class WorkflowFilters(Schema):
    q: str | None = None
    enabled: bool | None = None
    trigger: str | None = None
    ordering: str | None = None
    page: int = 1
    page_size: int | None = None


class WorkflowRunFilters(Schema):
    workflow_id: int | None = None
    status: str | None = None
    client_id: int | None = None
    page: int = 1
    page_size: int | None = None


@workflows_router.get("", response={200: Page[WorkflowOut], **ERRORS}, summary="List workflows")
def list_workflows(request: HttpRequest, filters: Query[WorkflowFilters]) -> Any:
    """Workflows filtered by `q` (name), `enabled` and `trigger`, sorted by `ordering` (name, updated_at)."""
    queryset = workflow_selectors.workflows_visible(actor_of(request))
    if filters.q:
        queryset = queryset.filter(name__icontains=filters.q.strip()[:200])
    if filters.enabled is not None:
        queryset = queryset.filter(enabled=filters.enabled)
    if filters.trigger:
        queryset = queryset.filter(trigger_event=filters.trigger[:60])
    queryset = queryset.order_by(*ordering_param(filters.ordering, {"name": "name", "updated_at": "updated_at"},
                                                 "name"))
    return paginate(queryset, filters.page, filters.page_size)


@workflows_router.post("", response={201: WorkflowOut, **ERRORS}, summary="Create a workflow")
def create_workflow(request: HttpRequest, payload: WorkflowIn) -> Any:
    """A new workflow: its definition is validated (422 with `errors` naming each refused step) and becomes
    version 1."""
    return Status(201, workflow_services.workflow_create(actor=actor_of(request), data=payload.model_dump()))


@workflows_router.post("/validate", response={200: ValidationOut, **ERRORS}, summary="Validate a definition")
def validate_workflow(request: HttpRequest, payload: DefinitionIn) -> Any:
    """Check a definition without saving it: `valid`, the `errors` by place, or the cleaned definition."""
    workflow_services.require_build(actor_of(request))
    try:
        clean = workflows.validate_definition(payload.definition)
    except ValidationError as exc:
        return {"valid": False, "errors": exc.errors or {"definition": [str(exc.message)]}, "definition": None}
    return {"valid": True, "errors": {}, "definition": workflows.masked(clean)}


@workflows_router.get("/{workflow_id}", response={200: WorkflowOut, **ERRORS}, summary="Get a workflow")
def get_workflow(request: HttpRequest, workflow_id: int) -> Any:
    return workflow_selectors.access_workflow(actor_of(request), workflow_id)


@workflows_router.patch("/{workflow_id}", response={200: WorkflowOut, **ERRORS}, summary="Change a workflow")
def update_workflow(request: HttpRequest, workflow_id: int, payload: WorkflowPatch) -> Any:
    """A new `definition` (validated first) makes a new version; runs keep the version they used."""
    actor = actor_of(request)
    workflow = workflow_selectors.access_workflow(actor, workflow_id)
    workflow_services.workflow_update(actor=actor, workflow=workflow, data=payload.model_dump(exclude_unset=True))
    return workflow_selectors.access_workflow(actor, workflow_id)


@workflows_router.delete("/{workflow_id}", response={204: None, **ERRORS}, summary="Delete a workflow")
def delete_workflow(request: HttpRequest, workflow_id: int) -> Any:
    """Only a workflow that never ran (409 otherwise: disable it to keep its history)."""
    actor = actor_of(request)
    workflow_services.workflow_delete(actor=actor, workflow=workflow_selectors.access_workflow(actor, workflow_id))
    return Status(204, None)


@workflows_router.post("/{workflow_id}/enabled", response={200: WorkflowOut, **ERRORS},
                       summary="Enable or disable a workflow")
def set_workflow_enabled(request: HttpRequest, workflow_id: int, payload: EnabledIn) -> Any:
    actor = actor_of(request)
    workflow = workflow_selectors.access_workflow(actor, workflow_id)
    return workflow_services.workflow_set_enabled(actor=actor, workflow=workflow, enabled=payload.enabled)


@workflows_router.get("/{workflow_id}/versions", response={200: list[WorkflowVersionOut], **ERRORS},
                      summary="List a workflow's versions")
def list_workflow_versions(request: HttpRequest, workflow_id: int) -> Any:
    workflow = workflow_selectors.access_workflow(actor_of(request), workflow_id)
    return list(workflow.versions.order_by("-number")[:100])


@workflow_runs_router.get("", response={200: Page[WorkflowRunOut], **ERRORS}, summary="List workflow runs")
def list_workflow_runs(request: HttpRequest, filters: Query[WorkflowRunFilters]) -> Any:
    """Runs of the clients you may see, newest first."""
    queryset = workflow_selectors.runs_visible(actor_of(request))
    if filters.workflow_id:
        queryset = queryset.filter(workflow_id=filters.workflow_id)
    if filters.client_id:
        queryset = queryset.filter(client_id=filters.client_id)
    if filters.status:
        queryset = queryset.filter(status=filters.status[:12])
    return paginate(queryset.order_by("-created_at", "-pk"), filters.page, filters.page_size)


@workflow_runs_router.get("/{run_id}", response={200: WorkflowRunDetailOut, **ERRORS},
                          summary="Get a workflow run")
def get_workflow_run(request: HttpRequest, run_id: int) -> Any:
    """A run step by step: inputs (secrets redacted), outputs, status and why each branch was taken."""
    return workflow_selectors.access_run(actor_of(request), run_id)


@webhooks_router.get("", response={200: Page[WebhookOut], **ERRORS}, summary="List webhook subscriptions")
def list_webhooks(request: HttpRequest, params: Query[ListParams]) -> Any:
    return paginate(workflow_selectors.webhooks_visible(actor_of(request)).order_by("name", "pk"), params.page,
                    params.page_size)


@webhooks_router.post("", response={201: WebhookCreatedOut, **ERRORS}, summary="Create a webhook subscription")
def create_webhook(request: HttpRequest, payload: WebhookIn) -> Any:
    """Subscribe an https URL to events; the answer carries the signing secret, shown this once only."""
    subscription, secret = webhook_services.subscription_create(actor=actor_of(request), data=payload.model_dump())
    subscription.secret = secret
    return Status(201, subscription)


@webhooks_router.get("/{webhook_id}", response={200: WebhookOut, **ERRORS}, summary="Get a webhook subscription")
def get_webhook(request: HttpRequest, webhook_id: int) -> Any:
    return workflow_selectors.access_webhook(actor_of(request), webhook_id)


@webhooks_router.patch("/{webhook_id}", response={200: WebhookOut, **ERRORS},
                       summary="Change a webhook subscription")
def update_webhook(request: HttpRequest, webhook_id: int, payload: WebhookPatch) -> Any:
    actor = actor_of(request)
    subscription = workflow_selectors.access_webhook(actor, webhook_id)
    return webhook_services.subscription_update(actor=actor, subscription=subscription,
                                                data=payload.model_dump(exclude_unset=True))


@webhooks_router.delete("/{webhook_id}", response={204: None, **ERRORS}, summary="Delete a webhook subscription")
def delete_webhook(request: HttpRequest, webhook_id: int) -> Any:
    actor = actor_of(request)
    webhook_services.subscription_delete(actor=actor, subscription=workflow_selectors.access_webhook(actor,
                                                                                                     webhook_id))
    return Status(204, None)


@webhooks_router.get("/{webhook_id}/deliveries", response={200: Page[DeliveryOut], **ERRORS},
                     summary="List a subscription's deliveries")
def list_webhook_deliveries(request: HttpRequest, webhook_id: int, params: Query[ListParams]) -> Any:
    """The delivery log: status, attempts, and each attempt's status code, duration and error."""
    actor = actor_of(request)
    subscription = workflow_selectors.access_webhook(actor, webhook_id)
    return paginate(workflow_selectors.deliveries_of(actor, subscription), params.page, params.page_size)


@webhooks_router.post("/{webhook_id}/ping", response={202: DeliveryOut, **ERRORS}, summary="Send a test ping")
def ping_webhook(request: HttpRequest, webhook_id: int) -> Any:
    """Queue a signed `ping` delivery (sent by the worker within a minute)."""
    actor = actor_of(request)
    subscription = workflow_selectors.access_webhook(actor, webhook_id)
    return Status(202, webhook_services.subscription_ping(actor=actor, subscription=subscription))


# --- Runs (scripts and agent actions), device groups, scheduled runs ----------------------------------

from tenfold.assets.models import Device  # noqa: E402
from tenfold.automation import actions  # noqa: E402
from tenfold.automation.schemas import (  # noqa: E402
    ActionOut,
    CancelOut,
    DeviceBriefOut,
    GroupIn,
    GroupOut,
    GroupPatch,
    RetryIn,
    RunDeviceOut,
    RunIn,
    RunOut,
    ScheduledRunIn,
    ScheduledRunOut,
    ScheduledRunPatch,
)

batches_router = Router(tags=["runs"])
groups_router = Router(tags=["runs"])
scheduled_router = Router(tags=["runs"])


class BatchFilters(Schema):
    kind: str | None = None
    client_id: int | None = None
    script_id: int | None = None
    scheduled_run_id: int | None = None
    page: int = 1
    page_size: int | None = None


class GroupListFilters(Schema):
    q: str | None = None
    kind: str | None = None
    client_id: int | None = None
    page: int = 1
    page_size: int | None = None


@batches_router.get("/actions", response={200: list[ActionOut], **ERRORS}, summary="List the agent actions")
def list_actions(request: HttpRequest) -> Any:
    """The built-in agent actions a run can send, with their parameters."""
    selectors.runs_visible(actor_of(request))  # the jobs capability
    return actions.catalogue()


@batches_router.get("", response={200: Page[RunOut], **ERRORS}, summary="List runs")
def list_batches(request: HttpRequest, filters: Query[BatchFilters]) -> Any:
    """Runs of the clients you may see, newest first, each with its devices' status."""
    queryset = selectors.runs_visible(actor_of(request))
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind[:10])
    if filters.client_id:
        queryset = queryset.filter(client_id=filters.client_id)
    if filters.script_id:
        queryset = queryset.filter(version__script_id=filters.script_id)
    if filters.scheduled_run_id:
        queryset = queryset.filter(scheduled_run_id=filters.scheduled_run_id)
    return paginate(queryset.order_by("-created_at", "-pk"), filters.page, filters.page_size)


@batches_router.post("", response={201: list[RunOut], **ERRORS}, summary="Start a run")
def start_batch(request: HttpRequest, payload: RunIn) -> Any:
    """Queue a script (`script_id`) or an agent action (`action`) on devices, a group or a client: one run per
    client, one job per device. A device, group or client you may not see is a 404 and nothing is queued."""
    actor = actor_of(request)
    target = services.Target(device_ids=payload.device_ids, group_id=payload.group_id, client_id=payload.client_id)
    if payload.script_id is not None:
        if payload.action:
            raise ValidationError("Choose a script or an action, not both.", field="action")
        script = selectors.access_script_for_run(actor, payload.script_id)
        items = services.script_run(actor=actor, script=script, parameters=payload.parameters,
                                    version_number=payload.version, device_ids=payload.device_ids,
                                    group_id=payload.group_id, client_id=payload.client_id)
        runs = sorted({i.run for i in items}, key=lambda r: r.pk)
    else:
        runs = services.action_run(actor=actor, action=payload.action or "", target=target,
                                   payload=payload.parameters)
    return Status(201, runs)


@batches_router.get("/{run_id}", response={200: RunOut, **ERRORS}, summary="Get a run")
def get_batch(request: HttpRequest, run_id: int) -> Any:
    return selectors.access_run(actor_of(request), run_id)


@batches_router.post("/{run_id}/cancel", response={200: CancelOut, **ERRORS}, summary="Cancel a run")
def cancel_batch(request: HttpRequest, run_id: int) -> Any:
    """Queued jobs are cancelled at once; sent or running ones get a `cancel_job` job (status cancelling)."""
    actor = actor_of(request)
    return services.run_cancel(actor=actor, run=selectors.access_run(actor, run_id))


@batches_router.post("/{run_id}/retry", response={201: RunOut, **ERRORS}, summary="Retry a run's failed devices")
def retry_batch(request: HttpRequest, run_id: int, payload: RetryIn) -> Any:
    """A new run on the devices whose job failed or timed out; secret parameters must be given again."""
    actor = actor_of(request)
    return Status(201, services.run_retry(actor=actor, run=selectors.access_run(actor, run_id),
                                          secrets=payload.secrets))


@batches_router.post("/devices/{item_id}/cancel", response={200: RunDeviceOut, **ERRORS},
                     summary="Cancel one device's job")
def cancel_batch_device(request: HttpRequest, item_id: int) -> Any:
    actor = actor_of(request)
    item = selectors.access_run_item(actor, item_id)
    services.run_item_cancel(actor=actor, item=item)
    return selectors.access_run_item(actor, item_id)


def _group_out(actor: Any, group: Any) -> Any:
    group.visible_device_ids = list(group.devices.filter(pk__in=Device.objects.visible_to(actor).values("pk"))
                                    .order_by("pk").values_list("pk", flat=True))
    return group


@groups_router.get("", response={200: Page[GroupOut], **ERRORS}, summary="List device groups")
def list_groups(request: HttpRequest, filters: Query[GroupListFilters]) -> Any:
    actor = actor_of(request)
    queryset = selectors.groups_visible(actor)
    if filters.q:
        queryset = queryset.filter(name__icontains=filters.q.strip()[:200])
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind[:10])
    if filters.client_id:
        queryset = queryset.filter(client_id=filters.client_id)
    page = paginate(queryset.order_by("name", "pk"), filters.page, filters.page_size)
    page["items"] = [_group_out(actor, g) for g in page["items"]]
    return page


@groups_router.post("", response={201: GroupOut, **ERRORS}, summary="Create a device group")
def create_group(request: HttpRequest, payload: GroupIn) -> Any:
    actor = actor_of(request)
    return Status(201, _group_out(actor, services.group_create(actor=actor, data=payload.model_dump())))


@groups_router.get("/{group_id}", response={200: GroupOut, **ERRORS}, summary="Get a device group")
def get_group(request: HttpRequest, group_id: int) -> Any:
    actor = actor_of(request)
    return _group_out(actor, selectors.access_group(actor, group_id))


@groups_router.patch("/{group_id}", response={200: GroupOut, **ERRORS}, summary="Change a device group")
def update_group(request: HttpRequest, group_id: int, payload: GroupPatch) -> Any:
    actor = actor_of(request)
    group = selectors.access_group(actor, group_id)
    return _group_out(actor, services.group_update(actor=actor, group=group,
                                                   data=payload.model_dump(exclude_unset=True)))


@groups_router.delete("/{group_id}", response={204: None, **ERRORS}, summary="Delete a device group")
def delete_group(request: HttpRequest, group_id: int) -> Any:
    actor = actor_of(request)
    services.group_delete(actor=actor, group=selectors.access_group(actor, group_id))
    return Status(204, None)


@groups_router.get("/{group_id}/members", response={200: Page[DeviceBriefOut], **ERRORS},
                   summary="List a group's devices now")
def list_group_members(request: HttpRequest, group_id: int, params: Query[ListParams]) -> Any:
    """The group's devices now: the chosen ones, or those matching its filters; only those you may see."""
    actor = actor_of(request)
    group = selectors.access_group(actor, group_id)
    return paginate(selectors.group_members(actor, group).order_by("name", "pk"), params.page, params.page_size)


@scheduled_router.get("", response={200: Page[ScheduledRunOut], **ERRORS}, summary="List scheduled runs")
def list_scheduled(request: HttpRequest, params: Query[ListParams]) -> Any:
    return paginate(selectors.scheduled_runs_visible(actor_of(request)).order_by("name", "pk"), params.page,
                    params.page_size)


@scheduled_router.post("", response={201: ScheduledRunOut, **ERRORS}, summary="Schedule a run")
def create_scheduled(request: HttpRequest, payload: ScheduledRunIn) -> Any:
    """A run once later or recurring; the worker starts each due occurrence once."""
    return Status(201, services.scheduled_run_create(actor=actor_of(request), data=payload.model_dump()))


@scheduled_router.get("/{scheduled_id}", response={200: ScheduledRunOut, **ERRORS}, summary="Get a scheduled run")
def get_scheduled(request: HttpRequest, scheduled_id: int) -> Any:
    return selectors.access_scheduled_run(actor_of(request), scheduled_id)


@scheduled_router.patch("/{scheduled_id}", response={200: ScheduledRunOut, **ERRORS},
                        summary="Change, pause or resume a scheduled run")
def update_scheduled(request: HttpRequest, scheduled_id: int, payload: ScheduledRunPatch) -> Any:
    """`enabled` alone pauses or resumes; any other field changes the scheduled run (checked as on creation)."""
    actor = actor_of(request)
    scheduled = selectors.access_scheduled_run(actor, scheduled_id)
    data = payload.model_dump(exclude_unset=True)
    if set(data) == {"enabled"} and data["enabled"] is not None:
        return services.scheduled_run_set_enabled(actor=actor, scheduled=scheduled, enabled=data["enabled"])
    return services.scheduled_run_update(actor=actor, scheduled=scheduled, data=data)


@scheduled_router.delete("/{scheduled_id}", response={204: None, **ERRORS}, summary="Delete a scheduled run")
def delete_scheduled(request: HttpRequest, scheduled_id: int) -> Any:
    actor = actor_of(request)
    services.scheduled_run_delete(actor=actor, scheduled=selectors.access_scheduled_run(actor, scheduled_id))
    return Status(204, None)
