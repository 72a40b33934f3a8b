"""Runs of scripts and agent actions on devices, groups and clients; device groups; cancel, retry, time-outs;
scheduled runs and the system actor, through the services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.agents import services as agent_services
from tenfold.agents.models import Job, JobStatus
from tenfold.assets.models import SoftwareItem, Tag
from tenfold.automation import actions, services
from tenfold.automation.models import DeviceGroup, Run, ScheduledRun, ScriptRun
from tenfold.automation.tests.factories import PARAMS, Key, make_script, managed_device, register, sign
from tenfold.clients.models import Client, Site
from tenfold.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry, OutboxEvent
from tenfold.core.roles import Role
from tenfold.core.selectors import organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner() -> Any:
    return make_staff(Role.OWNER, mfa=False)


def _client(name: str) -> Client:
    return Client.objects.create(name=name, status="active")


def _signed(owner: Any, **fields: Any) -> Any:
    key = Key()
    register(owner, key, owner)
    script = make_script(owner, **fields)
    sign(script.versions.get(), key, owner)
    return script


# --- The action catalogue ---------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "data", "field", "message"), [
    ("restart_service", {"service": "my service"}, "service",
     "Name the service: 1 to 128 letters, digits or @ . _ : - (no spaces)."),
    ("restart_service", {}, "service", "Name the service: 1 to 128 letters, digits or @ . _ : - (no spaces)."),
    ("restart_service", {"service": "x" * 129}, "service",
     "Name the service: 1 to 128 letters, digits or @ . _ : - (no spaces)."),
    ("reboot", {"delay_minutes": 1441}, "delay_minutes", "The delay is a whole number of minutes between 0 and 1440."),
    ("reboot", {"delay_minutes": -1}, "delay_minutes", "The delay is a whole number of minutes between 0 and 1440."),
    ("reboot", {"delay_minutes": True}, "delay_minutes", "The delay is a whole number of minutes between 0 and 1440."),
    ("reboot", {"message": "m" * 201}, "message", "The message is at most 200 characters."),
    ("uninstall_software", {"source": "winget"}, "name",
     "Name the software to remove (at most 300 characters), as the inventory shows it."),
    ("uninstall_software", {"name": "7-Zip", "source": "Win Get"}, "source",
     "The source is a short name such as winget, msi, apt, dnf or brew."),
    ("run_checks_now", {"now": True}, "now", "Unknown parameter(s) for run_checks_now: now."),
    ("format_disk", {}, "action",
     "Choose an action: restart_service, reboot, install_updates, uninstall_software, run_checks_now, "
     "collect_inventory_now."),
])
def test_action_payloads_are_validated_with_clear_errors(kind: str, data: dict[str, Any], field: str,
                                                         message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        actions.clean_payload(kind, data)
    assert caught.value.errors == {field: [message]}


def test_action_payloads_are_cleaned_with_their_defaults() -> None:
    assert actions.clean_payload("restart_service", {"service": " nginx.service "}) == {"service": "nginx.service"}
    assert actions.clean_payload("reboot", {}) == {"delay_minutes": 5, "message": ""}
    assert actions.clean_payload("reboot", {"delay_minutes": 0, "message": "Back in 5"}) == {
        "delay_minutes": 0, "message": "Back in 5"}
    assert actions.clean_payload("uninstall_software", {"name": "7-Zip 23.01"}) == {"name": "7-Zip 23.01"}
    assert actions.clean_payload("uninstall_software", {"name": "vlc", "source": "apt"}) == {
        "name": "vlc", "source": "apt"}
    assert actions.clean_payload("run_checks_now", None) == {}
    assert [a["kind"] for a in actions.catalogue()] == [
        "restart_service", "reboot", "install_updates", "uninstall_software", "run_checks_now",
        "collect_inventory_now"]


# --- Action runs, targets and groups ----------------------------------------------------------------


def test_an_action_on_an_msp_group_makes_one_run_per_client_and_one_job_per_device(owner: Any) -> None:
    # given Linux servers of two clients and a Windows one, and an MSP dynamic group "All Linux servers"
    first, second = _client("Boulangerie Martin"), _client("Cabinet Durand")
    a = managed_device(first, "SRV-A")
    b = managed_device(second, "SRV-B")
    managed_device(second, "PC-WIN", os_family="windows")
    group = services.group_create(actor=owner, data={"name": "All Linux servers", "kind": "dynamic",
                                                     "filters": {"os_family": "linux"}})
    # when a restart is run on the group
    runs = services.action_run(actor=owner, action="restart_service", payload={"service": "cron"},
                               target=services.Target(group_id=group.pk))
    # then one run per client, each with its device's job carrying the payload and the action's timeout
    assert [(r.client_id, r.kind, r.action, r.parameters, r.group_id, r.target_label) for r in runs] == [
        (first.pk, "action", "restart_service", {"service": "cron"}, group.pk, "group All Linux servers"),
        (second.pk, "action", "restart_service", {"service": "cron"}, group.pk, "group All Linux servers")]
    jobs = list(Job.objects.order_by("device_id").values_list("device_id", "kind", "payload", "timeout_seconds",
                                                              "status"))
    assert jobs == [(a.pk, "restart_service", {"service": "cron"}, 300, "queued"),
                    (b.pk, "restart_service", {"service": "cron"}, 300, "queued")]
    assert AuditEntry.objects.filter(action="run.started").count() == 2


def test_a_bad_payload_queues_nothing(owner: Any) -> None:
    device = managed_device(_client("Fournil"), "SRV-1")
    with pytest.raises(ValidationError) as caught:
        services.action_run(actor=owner, action="reboot", payload={"delay_minutes": 2000},
                            target=services.Target(device_ids=[device.pk]))
    assert caught.value.errors == {"delay_minutes": ["The delay is a whole number of minutes between 0 and 1440."]}
    assert not Job.objects.exists() and not Run.objects.exists()


def test_dynamic_group_filters(owner: Any) -> None:
    client, other = _client("Garage Petit"), _client("Hôtel Azur")
    site = Site.objects.create(client=client, name="Atelier")
    tag = Tag.objects.create(name="Caisse")
    laptop = managed_device(client, "LT-1", os_family="windows")
    laptop.kind, laptop.site, laptop.last_seen_at = "laptop", site, timezone.now()
    laptop.save()
    laptop.tags.add(tag)
    server = managed_device(client, "SRV-1")
    server.kind, server.last_seen_at = "server", timezone.now() - timedelta(days=2)
    server.save()
    SoftwareItem.objects.create(client=client, device=server, name="PostgreSQL 16")
    managed_device(other, "SRV-OTHER")

    def members(filters: dict[str, Any], client_id: int | None = None) -> list[str]:
        group = services.group_create(actor=owner, data={"name": f"g{DeviceGroup.objects.count()}", "kind": "dynamic",
                                                         "client_id": client_id, "filters": filters})
        from tenfold.automation import selectors
        return sorted(d.name for d in selectors.group_members(owner, group))

    assert members({"os_family": "linux"}) == ["SRV-1", "SRV-OTHER"]
    assert members({"os_family": "linux"}, client.pk) == ["SRV-1"]
    assert members({"client_id": other.pk}) == ["SRV-OTHER"]
    assert members({"site_id": site.pk}) == ["LT-1"]
    assert members({"tag_id": tag.pk}) == ["LT-1"]
    assert members({"software": "postgres"}) == ["SRV-1"]
    assert members({"device_kind": "server"}) == ["SRV-1"]
    assert members({"online": "online"}) == ["LT-1"]
    assert members({"online": "offline", "client_id": client.pk}) == ["SRV-1"]


def test_a_restricted_user_sees_and_targets_only_their_members_of_an_msp_group(owner: Any) -> None:
    mine, theirs = _client("Mine"), _client("Theirs")
    ours = managed_device(mine, "SRV-MINE")
    managed_device(theirs, "SRV-THEIRS")
    technician = make_staff(Role.TECHNICIAN, clients=[mine], restricted=True, mfa=False)
    group = services.group_create(actor=owner, data={"name": "All Linux", "kind": "dynamic",
                                                     "filters": {"os_family": "linux"}})
    runs = services.action_run(actor=technician, action="run_checks_now", target=services.Target(group_id=group.pk))
    assert [r.client_id for r in runs] == [mine.pk]
    assert list(Job.objects.values_list("device_id", flat=True)) == [ours.pk]
    # and they may not make an MSP group, nor a group of a client they cannot see (404, nothing stored)
    with pytest.raises(PermissionDenied):
        services.group_create(actor=technician, data={"name": "Mine too", "kind": "dynamic", "filters": {}})
    with pytest.raises(NotFound):
        services.group_create(actor=technician, data={"name": "Theirs", "client_id": theirs.pk, "kind": "dynamic"})
    assert DeviceGroup.objects.count() == 1


def test_forged_group_or_device_of_another_client_is_a_404_and_nothing_is_queued(owner: Any) -> None:
    mine, theirs = _client("Mine"), _client("Theirs")
    ours = managed_device(mine, "SRV-MINE")
    other_device = managed_device(theirs, "SRV-THEIRS")
    other_group = services.group_create(actor=owner, data={"name": "Theirs", "client_id": theirs.pk,
                                                           "kind": "static", "device_ids": [other_device.pk]})
    technician = make_staff(Role.TECHNICIAN, clients=[mine], restricted=True, mfa=False)
    for target in (services.Target(group_id=other_group.pk), services.Target(device_ids=[ours.pk, other_device.pk]),
                   services.Target(client_id=theirs.pk)):
        with pytest.raises(NotFound):
            services.action_run(actor=technician, action="run_checks_now", target=target)
    with pytest.raises(NotFound):
        services.scheduled_run_create(actor=technician, data={
            "name": "x", "action": "run_checks_now", "group_id": other_group.pk, "schedule_kind": "daily",
            "time": "01:00"})
    assert not Job.objects.exists() and not Run.objects.exists() and not ScheduledRun.objects.exists()


def test_a_client_group_holds_that_clients_devices_only(owner: Any) -> None:
    mine, theirs = _client("Mine"), _client("Theirs")
    other_device = managed_device(theirs, "SRV-THEIRS")
    with pytest.raises(ValidationError) as caught:
        services.group_create(actor=owner, data={"name": "Mine", "client_id": mine.pk, "kind": "static",
                                                 "device_ids": [other_device.pk]})
    assert caught.value.errors == {"device_ids": ["A client's group holds that client's devices only."]}
    with pytest.raises(ValidationError) as bad_filter:
        services.group_create(actor=owner, data={"name": "Mine", "kind": "dynamic",
                                                 "filters": {"os_family": "beos", "colour": "red"}})
    assert bad_filter.value.errors == {"filters.colour": ["Unknown filter colour."],
                                       "filters.os_family": ["Choose windows, linux, macos or other."]}
    assert not DeviceGroup.objects.exists()


def test_explicit_devices_of_another_system_are_an_error_group_members_are_left_out(owner: Any) -> None:
    client = _client("Fournil")
    linux, windows = managed_device(client, "SRV-1"), managed_device(client, "PC-1", os_family="windows")
    script = _signed(owner, parameters=[])
    with pytest.raises(ValidationError) as caught:
        services.script_run(actor=owner, script=script, device_ids=[linux.pk, windows.pk])
    assert caught.value.errors == {"device_ids": ["PC-1 runs windows; this script runs on linux."]}
    group = services.group_create(actor=owner, data={"name": "Everything", "client_id": client.pk,
                                                     "kind": "dynamic"})
    items = services.script_run(actor=owner, script=script, group_id=group.pk)
    assert [i.device_id for i in items] == [linux.pk]


# --- Cancel -----------------------------------------------------------------------------------------


def test_cancel_a_queued_job_at_once_and_a_sent_one_through_the_agent(owner: Any) -> None:
    client = _client("Fournil")
    first, second, third = (managed_device(client, n) for n in ("SRV-1", "SRV-2", "SRV-3"))
    script = _signed(owner)
    items = services.script_run(actor=owner, script=script, device_ids=[first.pk, second.pk, third.pk],
                                parameters={"service": "cups", "password": "s3cret-value"})
    queued, sent, done = items
    Job.objects.filter(pk=sent.job_id).update(status=JobStatus.SENT, sent_at=timezone.now())
    Job.objects.filter(pk=done.job_id).update(status=JobStatus.SUCCEEDED)
    # a queued job is cancelled at once, and its secret leaves the payload
    assert services.run_item_cancel(actor=owner, item=queued) == "cancelled"
    job = Job.objects.get(pk=queued.job_id)
    assert job.status == "cancelled" and job.finished_at is not None and "secret_parameters" not in job.payload
    event = OutboxEvent.objects.filter(name="job.finished").latest("pk")
    assert (event.client_id, event.payload) == (client.pk, {
        "job_id": queued.job_id, "device_id": first.pk, "status": "cancelled"})
    # a sent job gets a cancel_job job for its agent, and shows as cancelling
    assert services.run_item_cancel(actor=owner, item=sent) == "cancelling"
    sent = ScriptRun.objects.select_related("job", "cancel_job").get(pk=sent.pk)
    assert (sent.cancel_job.kind, sent.cancel_job.payload, sent.cancel_job.device_id) == (
        "cancel_job", {"job_id": sent.job_id}, second.pk)
    assert (sent.job.status, sent.display_status) == ("sent", "cancelling")
    # asking again, or cancelling a finished job, is a conflict that queues nothing
    with pytest.raises(Conflict) as again:
        services.run_item_cancel(actor=owner, item=sent)
    assert str(again.value.message) == "A cancel is already on its way to this device."
    with pytest.raises(Conflict) as finished:
        services.run_item_cancel(actor=owner, item=done)
    assert str(finished.value.message) == "This job has already finished (Succeeded)."
    assert Job.objects.filter(kind="cancel_job").count() == 1
    # the agent then reports the job cancelled
    Job.objects.filter(pk=sent.job_id).update(status=JobStatus.CANCELLED)
    sent.job.refresh_from_db()
    assert sent.display_status == "cancelled"


def test_cancel_a_whole_run(owner: Any) -> None:
    client = _client("Fournil")
    devices = [managed_device(client, n) for n in ("SRV-1", "SRV-2", "SRV-3")]
    [run] = services.action_run(actor=owner, action="run_checks_now",
                                target=services.Target(device_ids=[d.pk for d in devices]))
    items = list(run.items.order_by("device_id"))
    Job.objects.filter(pk=items[1].job_id).update(status=JobStatus.RUNNING, sent_at=timezone.now())
    Job.objects.filter(pk=items[2].job_id).update(status=JobStatus.FAILED)
    assert services.run_cancel(actor=owner, run=run) == {"cancelled": 1, "cancelling": 1}
    with pytest.raises(Conflict):
        services.run_cancel(actor=owner, run=run)
    assert list(Job.objects.filter(kind="run_checks_now").order_by("device_id").values_list("status", flat=True)) == [
        "cancelled", "running", "failed"]


def test_a_portal_user_or_a_role_without_jobs_cannot_cancel(owner: Any) -> None:
    device = managed_device(_client("Fournil"), "SRV-1")
    [run] = services.action_run(actor=owner, action="run_checks_now", target=services.Target(device_ids=[device.pk]))
    manager = make_staff(Role.ACCOUNT_MANAGER, mfa=False)
    with pytest.raises(PermissionDenied):
        services.run_cancel(actor=manager, run=run)
    assert Job.objects.get().status == "queued"


# --- Retry ------------------------------------------------------------------------------------------


def test_retry_runs_the_failed_devices_again_and_asks_for_the_secrets(owner: Any) -> None:
    client = _client("Fournil")
    ok, failed, timed_out = (managed_device(client, n) for n in ("SRV-1", "SRV-2", "SRV-3"))
    script = _signed(owner)
    items = services.script_run(actor=owner, script=script, device_ids=[ok.pk, failed.pk, timed_out.pk],
                                parameters={"service": "cups", "count": 3, "password": "first-secret"})
    run = items[0].run
    Job.objects.filter(pk=items[0].job_id).update(status=JobStatus.SUCCEEDED)
    Job.objects.filter(pk=items[1].job_id).update(status=JobStatus.FAILED, payload={"dropped": True})
    Job.objects.filter(pk=items[2].job_id).update(status=JobStatus.TIMED_OUT)
    assert [p["name"] for p in services.secret_parameters_of(run)] == ["password"]
    # without the secret again: refused, nothing queued
    with pytest.raises(ValidationError) as caught:
        services.run_retry(actor=owner, run=run)
    assert caught.value.errors == {"parameters.password": ["Enter the secret parameter again: it is never kept."]}
    assert Run.objects.count() == 1
    # with it: a new run on the failed and timed-out devices, same version and parameters
    new = services.run_retry(actor=owner, run=run, secrets={"password": "second-secret"})
    assert (new.retry_of_id, new.version_id, new.parameters) == (run.pk, run.version_id, run.parameters)
    assert new.parameters == {"service": "cups", "level": "low", "count": 3, "password": "[secret]"}
    jobs = list(Job.objects.filter(script_run__run=new).order_by("device_id"))
    assert [j.device_id for j in jobs] == [failed.pk, timed_out.pk]
    assert jobs[0].payload["secret_parameters"] == {"password": "second-secret"}
    assert jobs[0].payload["parameters"] == {"service": "cups", "level": "low", "count": 3}


def test_retry_with_nothing_failed_is_a_conflict(owner: Any) -> None:
    device = managed_device(_client("Fournil"), "SRV-1")
    [run] = services.action_run(actor=owner, action="reboot", payload={"delay_minutes": 1},
                                target=services.Target(device_ids=[device.pk]))
    with pytest.raises(Conflict):
        services.run_retry(actor=owner, run=run)
    Job.objects.update(status=JobStatus.FAILED)
    again = services.run_retry(actor=owner, run=run)
    assert (again.action, again.parameters, Job.objects.get(script_run__run=again).payload) == (
        "reboot", {"delay_minutes": 1, "message": ""}, {"delay_minutes": 1, "message": ""})


# --- Time-outs --------------------------------------------------------------------------------------


def test_jobs_past_their_timeout_and_grace_are_timed_out(owner: Any) -> None:
    device = managed_device(_client("Fournil"), "SRV-1")
    script = _signed(owner, parameters=PARAMS, timeout_seconds=60)
    late, recent, queued = services.script_run(
        actor=owner, script=script, device_ids=[device.pk], parameters={"service": "a", "password": "pw-1"}) + \
        services.script_run(actor=owner, script=script, device_ids=[device.pk], parameters={"service": "b"}) + \
        services.script_run(actor=owner, script=script, device_ids=[device.pk], parameters={"service": "c"})
    now = timezone.now()
    Job.objects.filter(pk=late.job_id).update(status=JobStatus.RUNNING, sent_at=now - timedelta(seconds=60 + 121))
    Job.objects.filter(pk=recent.job_id).update(status=JobStatus.SENT, sent_at=now - timedelta(seconds=60 + 100))
    events_before = OutboxEvent.objects.filter(name="job.finished").count()
    # when the sweep runs
    assert services.time_out_jobs(now) == 1
    # then only the late one is timed out, its secret dropped, and job.finished emitted once
    late_job = Job.objects.get(pk=late.job_id)
    assert (late_job.status, late_job.finished_at, "secret_parameters" in late_job.payload) == ("timed_out", now, False)
    assert Job.objects.get(pk=recent.job_id).status == "sent"
    assert Job.objects.get(pk=queued.job_id).status == "queued"
    event = OutboxEvent.objects.filter(name="job.finished").latest("pk")
    assert OutboxEvent.objects.filter(name="job.finished").count() == events_before + 1
    assert (event.client_id, event.payload) == (device.client_id, {
        "job_id": late.job_id, "device_id": device.pk, "status": "timed_out"})
    assert services.time_out_jobs(now) == 0


# --- Scheduled runs ---------------------------------------------------------------------------------


def test_a_weekly_scheduled_run_starts_each_occurrence_once(owner: Any) -> None:
    organization_row = organization()
    organization_row.default_time_zone = "Europe/Paris"
    organization_row.save()
    client = _client("Fournil")
    device = managed_device(client, "SRV-1")
    script = _signed(owner, parameters=[{"name": "days", "label": "Days", "type": "number", "required": False}])
    scheduled = services.scheduled_run_create(actor=owner, data={
        "name": "Weekly disk clean-up", "script_id": script.pk, "parameters": {"days": 7},
        "device_ids": [device.pk], "schedule_kind": "weekly", "time": "03:00", "weekday": 6})
    # Sunday 03:00 in Paris is "0 3 * * 0"; the next one after now
    assert (scheduled.cron, scheduled.client_id, scheduled.time_zone, scheduled.client_scope) == (
        "0 3 * * 0", client.pk, "Europe/Paris", None)
    assert scheduled.next_run_at is not None and scheduled.next_run_at > timezone.now()
    local = scheduled.next_run_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert (local.weekday(), local.hour, local.minute) == (6, 3, 0)
    due = scheduled.next_run_at
    # nothing before it is due
    assert services.run_due_schedules(due - timedelta(seconds=1)) == 0
    # at the due time: one run, the next occurrence a week later; a second sweep starts nothing more
    assert services.run_due_schedules(due) == 1
    assert services.run_due_schedules(due) == 0
    scheduled.refresh_from_db()
    assert (scheduled.next_run_at, scheduled.last_run_at, scheduled.last_error) == (due + timedelta(days=7), due, "")
    run = Run.objects.get()
    assert (run.scheduled_run_id, run.version_id, run.parameters, run.started_by) == (
        scheduled.pk, script.versions.get().pk, {"days": 7}, "scheduled run “Weekly disk clean-up”")
    entry = AuditEntry.objects.get(action="job.created")
    assert (entry.actor_kind, entry.actor_id, entry.actor_label) == (
        "system", None, "scheduled run “Weekly disk clean-up”")


def test_a_claimed_occurrence_is_not_started_again_by_another_worker(owner: Any) -> None:
    device = managed_device(_client("Fournil"), "SRV-1")
    scheduled = services.scheduled_run_create(actor=owner, data={
        "name": "Nightly checks", "action": "run_checks_now", "device_ids": [device.pk], "schedule_kind": "cron",
        "cron": "*/5 * * * *"})
    due = scheduled.next_run_at
    assert due is not None
    # another worker claimed this occurrence first (its conditional update moved next_run_at)
    ScheduledRun.objects.filter(pk=scheduled.pk).update(next_run_at=due + timedelta(minutes=5))
    assert services.run_due_schedules(due) == 0
    assert not Run.objects.exists()


def test_a_one_off_scheduled_run_runs_once_then_is_disabled(owner: Any) -> None:
    device = managed_device(_client("Fournil"), "SRV-1")
    at = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    scheduled = services.scheduled_run_create(actor=owner, data={
        "name": "Reboot tonight", "action": "reboot", "parameters": {"delay_minutes": 0},
        "device_ids": [device.pk], "schedule_kind": "once", "run_at": at})
    assert scheduled.next_run_at == at
    assert services.run_due_schedules(at) == 1
    scheduled.refresh_from_db()
    assert (scheduled.enabled, scheduled.next_run_at) == (False, None)
    assert Job.objects.get().payload == {"delay_minutes": 0, "message": ""}


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"schedule_kind": "once", "run_at": datetime(2020, 1, 1, tzinfo=UTC)}, "run_at",
     "Choose a date and time in the future."),
    ({"schedule_kind": "daily", "time": "25:00"}, "time", "Give the time as HH:MM."),
    ({"schedule_kind": "weekly", "time": "03:00", "weekday": 7}, "weekday", "Choose a day of the week."),
    ({"schedule_kind": "monthly", "time": "03:00", "day_of_month": 31}, "day_of_month",
     "Choose a day of the month between 1 and 28."),
    ({"schedule_kind": "hourly"}, "schedule_kind", "Choose once, daily, weekly, monthly or cron."),
])
def test_bad_schedules_are_refused(owner: Any, data: dict[str, Any], field: str, message: str) -> None:
    device = managed_device(_client("Fournil"), "SRV-1")
    with pytest.raises(ValidationError) as caught:
        services.scheduled_run_create(actor=owner, data={"name": "x", "action": "run_checks_now",
                                                         "device_ids": [device.pk], **data})
    assert caught.value.errors == {field: [message]}
    assert not ScheduledRun.objects.exists()


def test_a_scheduled_run_cannot_carry_secrets_and_keeps_its_creators_scope(owner: Any) -> None:
    mine, theirs = _client("Mine"), _client("Theirs")
    ours = managed_device(mine, "SRV-MINE")
    managed_device(theirs, "SRV-THEIRS")
    script = _signed(owner)
    with pytest.raises(ValidationError) as caught:
        services.scheduled_run_create(actor=owner, data={
            "name": "x", "script_id": script.pk, "parameters": {"service": "a", "password": "pw"},
            "device_ids": [ours.pk], "schedule_kind": "daily", "time": "01:00"})
    assert caught.value.errors == {"parameters": ["A scheduled run cannot carry secret parameters: they are never "
                                                  "stored."]}
    technician = make_staff(Role.TECHNICIAN, clients=[mine], restricted=True, mfa=False)
    group = services.group_create(actor=owner, data={"name": "All Linux", "kind": "dynamic",
                                                     "filters": {"os_family": "linux"}})
    scheduled = services.scheduled_run_create(actor=technician, data={
        "name": "Inventory", "action": "collect_inventory_now", "group_id": group.pk, "schedule_kind": "daily",
        "time": "01:00"})
    assert (scheduled.client_id, scheduled.client_scope) == (None, [mine.pk])
    assert scheduled.next_run_at is not None
    services.run_due_schedules(scheduled.next_run_at)
    # the MSP group spans both clients; the run reaches only the creator's client
    assert list(Job.objects.values_list("device_id", flat=True)) == [ours.pk]


# --- The system actor ---------------------------------------------------------------------------------


def test_jobs_queued_by_the_patch_schedule_or_a_workflow_are_audited_as_system(owner: Any) -> None:
    from tenfold.automation.workflows import WorkflowActor
    from tenfold.patching.services import PATCH_SCHEDULE

    device = managed_device(_client("Fournil"), "SRV-1")
    agent_services.job_create(actor=PATCH_SCHEDULE, device=device, kind="install_updates", payload={})
    agent_services.job_create(actor=WorkflowActor(label="workflow “Disk” v1"), device=device, kind="reboot",
                              payload={})
    agent_services.job_create(actor=owner, device=device, kind="run_checks_now", payload={})
    rows = list(AuditEntry.objects.filter(action="job.created").order_by("pk")
                .values_list("actor_kind", "actor_id", "actor_label"))
    assert rows == [("system", None, "patch schedule"), ("system", None, "workflow “Disk” v1"),
                    ("user", owner.pk, owner.email)]


def test_install_updates_sends_each_devices_approved_missing_updates(owner: Any) -> None:
    from tenfold.patching.tests.factories import make_device, make_policy, make_update, missing

    # given a policy auto-approving security updates, a device missing one security and one feature update,
    # and a device missing nothing
    make_policy("global", auto_approve_categories=["security"], auto_approve_after_days=0, reboot="always",
                reboot_deferrals=2)
    client = _client("Fournil")
    behind, current = make_device(client, name="SRV-BEHIND"), make_device(client, name="SRV-CURRENT")
    missing(behind, make_update("openssl", category="security", version="3.0.13"))
    missing(behind, make_update("htop", category="feature", version="3.3"))
    # when updates are installed on both
    [run] = services.action_run(actor=owner, action="install_updates",
                                target=services.Target(device_ids=[behind.pk, current.pk]))
    # then only the device missing an approved update gets a job, in the patch schedule's payload shape
    job = Job.objects.get()
    assert (job.device_id, job.kind, job.timeout_seconds) == (behind.pk, "install_updates", 4 * 3600)
    assert (job.payload["updates"], job.payload["reboot"], job.payload["reboot_deferrals"]) == (
        [{"source": "apt", "identifier": "openssl", "version": "3.0.13"}], "always", 2)
    assert job.payload["window_ends_at"].endswith("Z")
    # and a device missing nothing approved is refused with a clear error
    with pytest.raises(ValidationError) as caught:
        services.action_run(actor=owner, action="install_updates", target=services.Target(device_ids=[current.pk]))
    assert caught.value.errors == {"device_ids": ["None of these devices misses an approved update."]}
    assert Job.objects.count() == 1 and run.items.count() == 1
