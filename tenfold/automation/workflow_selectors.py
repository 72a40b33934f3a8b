"""Reads of workflows (MSP-level: staff with the jobs right read them), runs (scoped by client) and webhooks
(the builders' page; restricted staff see only deliveries of their clients' events)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from tenfold.automation.models import WebhookDelivery, WebhookSubscription, Workflow, WorkflowRun
from tenfold.automation.selectors import _get_msp
from tenfold.automation.workflow_services import require_build
from tenfold.core.errors import PermissionDenied
from tenfold.core.roles import require
from tenfold.core.tenancy import get_visible


def _staff(actor: Any) -> None:
    if getattr(actor, "is_portal", False):
        raise PermissionDenied()


def workflows_visible(actor: Any) -> QuerySet[Workflow]:
    require(actor, "jobs", "view")
    _staff(actor)
    return Workflow.objects.visible_to(actor).select_related("current_version")


def access_workflow(actor: Any, workflow_id: Any) -> Workflow:
    workflow: Workflow = _get_msp(Workflow.objects.select_related("current_version"), actor, workflow_id)
    require(actor, "jobs", "view")
    _staff(actor)
    return workflow


def runs_visible(actor: Any) -> QuerySet[WorkflowRun]:
    """Runs of the clients the actor sees (a technician restricted to client B never sees client A's)."""
    require(actor, "jobs", "view")
    _staff(actor)
    return WorkflowRun.objects.visible_to(actor).select_related("workflow", "version", "client", "device")


def access_run(actor: Any, run_id: Any) -> WorkflowRun:
    run: WorkflowRun = get_visible(WorkflowRun.objects.select_related("workflow", "version", "client", "device"),
                                   actor, run_id)
    require(actor, "jobs", "view")
    _staff(actor)
    return run


def webhooks_visible(actor: Any) -> QuerySet[WebhookSubscription]:
    require_build(actor)
    return WebhookSubscription.objects.visible_to(actor)


def access_webhook(actor: Any, webhook_id: Any) -> WebhookSubscription:
    subscription: WebhookSubscription = _get_msp(WebhookSubscription.objects.all(), actor, webhook_id)
    require_build(actor)
    return subscription


def deliveries_of(actor: Any, subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    """The subscription's deliveries, newest first; those of an event of a client the actor cannot see are left
    out."""
    queryset = subscription.deliveries.all()
    scope = actor.client_scope()
    if scope is not None:
        queryset = queryset.filter(Q(client__isnull=True) | Q(client_id__in=scope))
    return queryset.prefetch_related("attempt_log").order_by("-created_at", "-pk")
