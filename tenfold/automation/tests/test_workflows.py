"""Workflows: validation before saving (exact messages, nothing stored), conditions, execution with branches on a
real job result reported through the agent's check-in, idempotency, versions, time-outs, secrets."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.agents.models import Job
from tenfold.assets.models import Tag
from tenfold.automation import workflow_services as wf_services
from tenfold.automation import workflows
from tenfold.automation.models import (
    RunStatus,
    Workflow,
    WorkflowRun,
    WorkflowRunStep,
    WorkflowVersion,
)
from tenfold.automation.tests.workflow_helpers import (
    Agent,
    deliver,
    disk_check,
    disk_workflow_definition,
    raise_alert,
    signed_cleanup,
)
from tenfold.clients.models import Client
from tenfold.core import events
from tenfold.core.errors import PermissionDenied, ValidationError
from tenfold.core.models import EventDelivery, OutboxEvent
from tenfold.core.roles import Role
from tenfold.monitoring.tests.factories import make_device
from tenfold.servicedesk.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner() -> Any:
    return make_staff(Role.OWNER, mfa=False)


@pytest.fixture
def approver() -> Any:
    return make_staff(Role.SERVICE_MANAGER, mfa=False)


@pytest.fixture
def client() -> Client:
    return Client.objects.create(name="Boulangerie Martin", status="active")


def _without_builtin_alert_ticket() -> None:
    # The MSP replaces the shipped alert → ticket path by its own disk workflow in these tests.
    Workflow.objects.filter(builtin_key="alert-ticket").update(enabled=False)


def _refusal(owner: Any, definition: dict[str, Any]) -> dict[str, list[str]]:
    before = (Workflow.objects.count(), WorkflowVersion.objects.count())
    with pytest.raises(ValidationError) as refused:
        wf_services.workflow_create(actor=owner, data={"name": "Refused", "definition": definition})
    assert (Workflow.objects.count(), WorkflowVersion.objects.count()) == before
    return refused.value.errors


# --- Validation ------------------------------------------------------------------------------------------


def test_a_missing_script_is_refused_naming_the_step(owner: Any) -> None:
    definition = {"trigger": {"event": "alert.raised"}, "conditions": [], "steps": [
        {"id": "cleanup", "action": "run_script", "params": {"script_id": 999999}}]}
    assert _refusal(owner, definition) == {
        "steps.cleanup.params.script_id": ["Step “cleanup”: the script #999999 does not exist."]}


def test_an_unsigned_script_is_refused(owner: Any) -> None:
    from tenfold.automation.tests.factories import make_script

    script = make_script(owner, name="Unsigned cleanup", parameters=[])
    definition = {"trigger": {"event": "alert.raised"}, "steps": [
        {"id": "cleanup", "action": "run_script", "params": {"script_id": script.pk}}]}
    assert _refusal(owner, definition) == {"steps.cleanup.params.script_id": [
        "Step “cleanup”: the script “Unsigned cleanup” has no signed version: an approver must sign it first."]}


def test_an_invalid_script_parameter_is_refused(owner: Any, approver: Any) -> None:
    script = signed_cleanup(owner, approver)
    definition = {"trigger": {"event": "alert.raised"}, "steps": [
        {"id": "cleanup", "action": "run_script", "params": {"script_id": script.pk,
                                                             "parameters": {"min_free": "lots"}}}]}
    assert _refusal(owner, definition) == {"steps.cleanup.params.parameters.min_free": [
        "Step “cleanup”: script parameter “min_free”: Enter a number."]}
    definition["steps"][0]["params"]["parameters"] = {"colour": "blue"}
    assert _refusal(owner, definition) == {"steps.cleanup.params.parameters.colour": [
        "Step “cleanup”: script parameter “colour”: This script has no parameter colour."]}


def test_an_invalid_action_parameter_is_refused(owner: Any) -> None:
    definition = {"trigger": {"event": "alert.raised"}, "steps": [
        {"id": "ticket", "action": "open_ticket", "params": {"priority": "urgent"}}]}
    assert _refusal(owner, definition) == {
        "steps.ticket.params.priority": ["Step “ticket”: the priority is auto or p1 to p4."]}
    definition = {"trigger": {"event": "alert.raised"}, "steps": [
        {"id": "mail", "action": "send_email", "params": {"to": "not-an-address", "subject": "x", "body": "y"}}]}
    assert _refusal(owner, definition) == {
        "steps.mail.params.to": ["Step “mail”: give one to ten email addresses."]}
    definition = {"trigger": {"event": "alert.raised"}, "steps": [
        {"id": "field", "action": "set_device_field", "params": {"field": "client_id", "value": 3}}]}
    assert _refusal(owner, definition) == {
        "steps.field.params.field": ["Step “field”: only these device fields may be set: kind, notes."]}


def test_any_loop_is_refused_and_so_is_a_branch_to_a_missing_step(owner: Any) -> None:
    note = {"action": "note_ticket", "params": {"body": "x"}}
    back = {"trigger": {"event": "alert.raised"}, "steps": [
        {"id": "a", **note}, {"id": "b", **note}, {"id": "c", **note, "on_success": "a"}]}
    assert _refusal(owner, back) == {"steps.c": ["Step “c” leads back to “a”: a workflow cannot loop."]}
    # a loop through a failure branch and "next" (c fails → b, b → next → c)
    sideways = {"trigger": {"event": "alert.raised"}, "steps": [
        {"id": "a", **note}, {"id": "b", **note}, {"id": "c", **note, "on_success": "end", "on_failure": "b"}]}
    assert _refusal(owner, sideways) == {"steps.c": ["Step “c” leads back to “b”: a workflow cannot loop."]}
    missing = {"trigger": {"event": "alert.raised"}, "steps": [{"id": "a", **note, "on_failure": "ghost"}]}
    assert _refusal(owner, missing) == {
        "steps.a": ["Step “a” goes to “ghost”, which is not a step of this workflow."]}


def test_conditions_on_fields_the_trigger_lacks_and_device_steps_without_a_device_are_refused(owner: Any) -> None:
    definition = {"trigger": {"event": "ticket.created"},
                  "conditions": [{"field": "check_type", "op": "in", "value": ["disk_free"]}],
                  "steps": [{"id": "tag", "action": "add_device_tag", "params": {"tag_id": 1}}]}
    assert _refusal(owner, definition) == {
        "conditions.0": ["Condition 1: the trigger ticket.created has no field “check_type” (it offers: client, "
                         "business_hours, priority, source)."],
        "steps.tag": ["Step “tag”: “Add a device tag” acts on the event's device, and this trigger has none."]}
    assert _refusal(owner, {"trigger": {"event": "printer.jammed"}, "steps": [
        {"id": "a", "action": "note_ticket", "params": {"body": "x"}}]})["trigger"][0].startswith(
        "Unknown trigger event “printer.jammed”.")
    assert _refusal(owner, {"trigger": {"schedule": "every day"}, "steps": [
        {"id": "a", "action": "note_ticket", "params": {"body": "x"}}]}) == {
        "trigger": ["The schedule is not a valid cron expression (five fields, e.g. “0 7 * * 1”)."]}


def test_a_technician_may_read_but_not_build(owner: Any) -> None:
    technician = make_staff(Role.TECHNICIAN, mfa=False)
    with pytest.raises(PermissionDenied):
        wf_services.workflow_create(actor=technician, data={"name": "Mine", "definition": {}})
    assert not Workflow.objects.filter(name="Mine").exists()


# --- Versions ----------------------------------------------------------------------------------------------


def test_each_save_is_a_new_version_and_runs_record_theirs(owner: Any, approver: Any, client: Client) -> None:
    _without_builtin_alert_ticket()
    script = signed_cleanup(owner, approver)
    workflow = wf_services.workflow_create(actor=owner, data={
        "name": "Disk clean-up", "definition": disk_workflow_definition(script)})
    assert workflow.current_version.number == 1
    changed = disk_workflow_definition(script)
    changed["steps"][0]["params"]["parameters"]["min_free"] = 30
    version = wf_services.workflow_update(actor=owner, workflow=workflow, data={"definition": changed})
    assert version is not None and version.number == 2
    # saving the same definition again makes no version
    assert wf_services.workflow_update(actor=owner, workflow=workflow, data={"definition": changed}) is None
    # the secret kept as [secret] in the page comes back from the previous version
    masked = workflows.masked(version.definition)
    assert masked["steps"][0]["params"]["parameters"]["token"] == "[secret]"
    masked["steps"][0]["params"]["parameters"]["min_free"] = 25
    third = wf_services.workflow_update(actor=owner, workflow=workflow, data={"definition": masked})
    assert third.definition["steps"][0]["params"]["parameters"]["token"] == "s3cr3t-t0ken"
    agent = Agent(client)
    raise_alert(agent.device, disk_check(client))
    deliver()
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.version.number == 3


# --- Conditions --------------------------------------------------------------------------------------------


def test_conditions_match_on_the_event_and_the_device(client: Client) -> None:
    other = Client.objects.create(name="Fournil", status="active")
    tag = Tag.objects.create(name="servers")
    device = make_device(client, os_family="windows")
    device.tags.add(tag)
    now = timezone.now()
    ctx = workflows.build_context("alert.raised", {"client_id": client.pk, "device_id": device.pk,
                                                   "check_type": "disk_free", "severity": "critical",
                                                   "kind": "check"}, now)
    assert workflows.matches([{"field": "check_type", "op": "in", "value": ["disk_free"]},
                              {"field": "severity", "op": "in", "value": ["critical"]},
                              {"field": "os_family", "op": "in", "value": ["windows"]},
                              {"field": "device_tag", "op": "in", "value": [tag.pk]},
                              {"field": "client", "op": "not_in", "value": [other.pk]}], ctx)
    assert not workflows.matches([{"field": "check_type", "op": "in", "value": ["cpu"]}], ctx)
    assert not workflows.matches([{"field": "os_family", "op": "not_in", "value": ["windows"]}], ctx)
    assert not workflows.matches([{"field": "client", "op": "in", "value": [other.pk]}], ctx)


def test_business_hours_follow_the_clients_calendar(client: Client) -> None:
    from zoneinfo import ZoneInfo

    from tenfold.contracts.selectors import sla_terms_for_client

    # the client's contract calendar (here the default policy's) opens 9:00-17:00 on weekdays in Paris
    calendar = sla_terms_for_client(client.pk).calendar
    calendar.time_zone = "Europe/Paris"
    calendar.hours = [[[540, 1020]]] * 5 + [[], []]
    calendar.save()
    zone = ZoneInfo(calendar.time_zone)
    tuesday_10 = timezone.datetime(2026, 3, 10, 10, 0, tzinfo=zone)
    sunday_10 = timezone.datetime(2026, 3, 8, 10, 0, tzinfo=zone)
    condition = [{"field": "business_hours", "op": "is", "value": True}]
    ctx = {"client_id": client.pk}
    assert workflows.matches(condition, {**ctx, "at": tuesday_10})
    assert not workflows.matches(condition, {**ctx, "at": sunday_10})
    assert not workflows.matches(condition, {**ctx, "at": tuesday_10.replace(hour=18)})
    assert workflows.matches([{"field": "business_hours", "op": "is", "value": False}], {**ctx, "at": sunday_10})


# --- Execution ---------------------------------------------------------------------------------------------


def _disk_setup(owner: Any, approver: Any, client: Client) -> tuple[Workflow, Agent, Any]:
    _without_builtin_alert_ticket()
    script = signed_cleanup(owner, approver)
    workflow = wf_services.workflow_create(actor=owner, data={
        "name": "Disk alert → clean-up → ticket", "definition": disk_workflow_definition(script)})
    agent = Agent(client)
    return workflow, agent, disk_check(client)


def test_a_failed_clean_up_opens_a_ticket_and_every_step_is_recorded(owner: Any, approver: Any,
                                                                     client: Client) -> None:
    workflow, agent, check = _disk_setup(owner, approver, client)
    # when a disk alert is raised and its event delivered
    alert = raise_alert(agent.device, check)
    deliver()
    # then the run waits on the clean-up job queued on the alert's device, without a ticket yet
    run = WorkflowRun.objects.get(workflow=workflow)
    job = Job.objects.get(pk=run.waiting_job_id)
    assert (run.status, run.current_step, job.device_id, job.kind) == ("waiting", "cleanup", agent.device.pk,
                                                                       "run_script")
    assert not Ticket.objects.exists()
    # when the agent reports the job failed
    agent.report_job(job, "failed", 1, stdout="", stderr="rm: cannot remove: busy")
    deliver()
    # then the failure branch opened the alert's ticket and the run is recorded step by step
    run.refresh_from_db()
    ticket = Ticket.objects.get()
    assert (ticket.alert_id, run.status, run.ticket_id) == (alert.pk, "succeeded", ticket.pk)
    steps = list(run.steps.order_by("sequence"))
    assert [(s.step_id, s.status, s.branch) for s in steps] == [("cleanup", "failed", "ticket"),
                                                                ("ticket", "succeeded", "end")]
    assert steps[0].reason == "The job ended Failed (exit code 1). · the step failed: next is “ticket”."
    assert steps[0].outputs["stderr"] == "rm: cannot remove: busy" and steps[0].outputs["exit_code"] == 1
    # the secret parameter is redacted in the step's inputs, and appears in no run record
    assert steps[0].inputs["parameters"] == {"min_free": 20, "token": "[secret]"}
    assert "s3cr3t-t0ken" not in json.dumps(list(WorkflowRunStep.objects.values("inputs", "outputs")))
    assert steps[1].outputs == {"ticket_id": ticket.pk, "number": ticket.number}


def test_a_successful_clean_up_ends_the_run_without_a_ticket(owner: Any, approver: Any, client: Client) -> None:
    workflow, agent, check = _disk_setup(owner, approver, client)
    raise_alert(agent.device, check)
    deliver()
    run = WorkflowRun.objects.get(workflow=workflow)
    agent.report_job(Job.objects.get(pk=run.waiting_job_id), "succeeded", 0, stdout="freed 2 GiB")
    deliver()
    run.refresh_from_db()
    assert run.status == "succeeded" and not Ticket.objects.exists()
    [step] = run.steps.all()
    assert (step.status, step.branch, step.outputs["stdout"]) == ("succeeded", "end", "freed 2 GiB")


def test_a_non_matching_alert_starts_nothing(owner: Any, approver: Any, client: Client) -> None:
    from tenfold.monitoring.tests.factories import make_check, make_policy

    workflow, agent, _check = _disk_setup(owner, approver, client)
    cpu = make_check(make_policy("client", client=client), "cpu", failures_before_alert=2)
    raise_alert(agent.device, cpu)
    deliver()
    assert not WorkflowRun.objects.filter(workflow=workflow).exists() and not Job.objects.exists()


def test_a_redelivered_event_starts_nothing_twice(owner: Any, approver: Any, client: Client) -> None:
    workflow, agent, check = _disk_setup(owner, approver, client)
    raise_alert(agent.device, check)
    deliver()
    event = OutboxEvent.objects.get(name="alert.raised")
    # when the event is delivered again (the handler's delivery record lost, as after a crash)
    EventDelivery.objects.filter(event=event).delete()
    OutboxEvent.objects.filter(pk=event.pk).update(delivered_at=None)
    events.deliver_event(OutboxEvent.objects.get(pk=event.pk))
    # and the handler is called directly once more
    workflows.on_event(event)
    assert WorkflowRun.objects.filter(workflow=workflow).count() == 1
    assert Job.objects.count() == 1


def test_a_job_that_never_answers_times_out_into_the_failure_branch(owner: Any, approver: Any,
                                                                     client: Client) -> None:
    workflow, agent, check = _disk_setup(owner, approver, client)
    raise_alert(agent.device, check)
    deliver()
    run = WorkflowRun.objects.get(workflow=workflow)
    assert workflows.sweep_waiting() == 0  # not yet due
    with time_machine.travel(timezone.now() + timedelta(seconds=60 + 600 + 5), tick=False):
        assert workflows.sweep_waiting() == 1
    run.refresh_from_db()
    assert [(s.step_id, s.status, s.branch) for s in run.steps.order_by("sequence")] == [
        ("cleanup", "timed_out", "ticket"), ("ticket", "succeeded", "end")]
    assert Ticket.objects.count() == 1


def test_a_disabled_workflow_starts_nothing(owner: Any, approver: Any, client: Client) -> None:
    workflow, agent, check = _disk_setup(owner, approver, client)
    wf_services.workflow_set_enabled(actor=owner, workflow=workflow, enabled=False)
    raise_alert(agent.device, check)
    deliver()
    assert not WorkflowRun.objects.exists()


def test_email_and_device_steps_act_through_the_apps_services(owner: Any, client: Client) -> None:
    _without_builtin_alert_ticket()
    tag = Tag.objects.create(name="disk-trouble")
    device = make_device(client, name="SRV-MAIL")
    wf_services.workflow_create(actor=owner, data={"name": "Tag and tell", "definition": {
        "trigger": {"event": "alert.raised"}, "steps": [
            {"id": "tag", "action": "add_device_tag", "params": {"tag_id": tag.pk}},
            {"id": "notes", "action": "set_device_field", "params": {"field": "notes", "value": "Alert: {title}"}},
            {"id": "mail", "action": "send_email", "params": {
                "to": ["noc@msp.test"], "subject": "{client}: {title}", "body": "Device {device}"}}]}})
    from tenfold.monitoring.evaluation import emit_raised
    from tenfold.monitoring.models import Alert

    alert = Alert.objects.create(client=client, device=device, kind="offline", severity="warning",
                                 title="SRV-MAIL is offline")
    emit_raised(alert)
    deliver()
    device.refresh_from_db()
    assert list(device.tags.values_list("name", flat=True)) == ["disk-trouble"]
    assert device.notes == "Alert: SRV-MAIL is offline"
    assert [(m.to, m.subject, m.body) for m in mail.outbox] == [
        (["noc@msp.test"], "Boulangerie Martin: SRV-MAIL is offline", "Device SRV-MAIL")]
    run = WorkflowRun.objects.get(workflow__name="Tag and tell")
    assert run.status == RunStatus.SUCCEEDED
    assert [s.status for s in run.steps.order_by("sequence")] == ["succeeded", "succeeded", "succeeded"]
