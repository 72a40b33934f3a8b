"""The demo seed's workflows: the shipped ones enabled, a custom disk workflow with recorded runs, a disabled
webhook subscription with its delivery log."""

from __future__ import annotations

import pytest

from tenfold.automation.models import WebhookAttempt, WebhookSubscription, Workflow, WorkflowRun
from tenfold.conftest import DemoDatabase

pytestmark = pytest.mark.django_db


def test_demo_workflows(demo: DemoDatabase) -> None:
    assert set(Workflow.objects.filter(enabled=True).exclude(builtin_key="").values_list("builtin_key", flat=True)) \
        == {"alert-ticket", "alert-resolved-close"}
    custom = Workflow.objects.get(name="Disk alert → clean-up → ticket on failure")
    runs = list(WorkflowRun.objects.filter(workflow=custom).order_by("trigger_key"))
    assert len(runs) == 4 and {r.status for r in runs} == {"succeeded"}
    failed_first = runs[0]
    assert [(s.step_id, s.status) for s in failed_first.steps.order_by("sequence")] == [
        ("cleanup", "failed"), ("ticket", "succeeded")]
    assert all([s.step_id for s in r.steps.all()] == ["cleanup"] for r in runs[1:])
    hook = WebhookSubscription.objects.get()
    assert (hook.enabled, hook.url) == (False, "https://hooks.example.com/tenfold")
    assert WebhookAttempt.objects.filter(delivery__subscription=hook).count() == 1 + 2 * 8
