"""How long a reboot deferral lasts (validated, sent in the install payload), the outcome of the scripts run
before and after installing recorded on the install run, and queued install jobs losing the updates whose
approval was withdrawn (or cancelled when nothing is left)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from typing import Any

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import make_staff
from tenfold.agents.models import Job
from tenfold.agents.tests.helpers import checkin_body, enroll, post
from tenfold.assets.models import Device
from tenfold.clients.models import Site
from tenfold.core.errors import ValidationError
from tenfold.core.models import AuditEntry
from tenfold.core.roles import Role
from tenfold.patching import services
from tenfold.patching.models import ApprovalDecision, ApprovalPolicy, DeviceUpdate, InstallRun
from tenfold.patching.tests.factories import make_client, make_policy, make_update, missing

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def manager() -> Any:
    return make_staff(Role.SERVICE_MANAGER)


# --- Reboot deferral length ----------------------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [0, 14, 1441, 10_000])
def test_a_deferral_outside_15_to_1440_minutes_is_refused_and_nothing_is_written(minutes: int) -> None:
    # given a service manager
    actor = manager()
    # when they create a policy whose deferrals last `minutes`
    with pytest.raises(ValidationError) as caught:
        services.policy_create(actor=actor, data={"name": "Nightly", "scope": "global", "reboot_deferrals": 2,
                                                  "reboot_defer_minutes": minutes})
    # then it is refused on that field, with the range, and no policy exists
    assert caught.value.errors == {
        "reboot_defer_minutes": ["A deferral lasts between 15 and 1440 minutes (24 hours)."]}
    assert ApprovalPolicy.objects.count() == 0


@pytest.mark.parametrize("minutes", [15, 1440])
def test_the_bounds_of_a_deferral_are_accepted(minutes: int) -> None:
    policy = services.policy_create(actor=manager(), data={"name": "Nightly", "scope": "global",
                                                           "reboot_deferrals": 1, "reboot_defer_minutes": minutes})
    assert ApprovalPolicy.objects.get(pk=policy.pk).reboot_defer_minutes == minutes


def test_a_new_policy_defers_for_an_hour_by_default() -> None:
    policy = services.policy_create(actor=manager(), data={"name": "Nightly", "scope": "global"})
    assert ApprovalPolicy.objects.get(pk=policy.pk).reboot_defer_minutes == 60


def test_the_api_and_the_form_take_and_check_the_deferral_length() -> None:
    http = HttpClient()
    http.force_login(manager())
    # given a policy created through the API with 2 deferrals of 2 hours
    answer = http.post("/api/v1/approval-policies", {"name": "API policy", "scope": "global", "reboot_deferrals": 2,
                                                      "reboot_defer_minutes": 120}, content_type="application/json")
    assert answer.status_code == 201 and answer.json()["reboot_defer_minutes"] == 120
    policy = ApprovalPolicy.objects.get()
    # when the API is given 10 minutes, or null
    too_short = http.patch(f"/api/v1/approval-policies/{policy.pk}", {"reboot_defer_minutes": 10},
                           content_type="application/json")
    null = http.patch(f"/api/v1/approval-policies/{policy.pk}", {"reboot_defer_minutes": None},
                      content_type="application/json")
    # then both are refused and the policy is unchanged
    assert (too_short.status_code, null.status_code) == (422, 422)
    assert null.json()["errors"] == {
        "reboot_defer_minutes": ["A deferral lasts between 15 and 1440 minutes (24 hours)."]}
    # when the form is given 2000 minutes
    page = http.post(f"/patching/policies/{policy.pk}/", {
        "name": "API policy", "scope": "global", "enabled": "on", "reboot": "if_required", "reboot_deferrals": "2",
        "reboot_defer_minutes": "2000"})
    # then the page says why, beside the field, and nothing changed
    assert page.status_code == 422
    assert "A deferral lasts between 15 and 1440 minutes (24 hours)." in page.content.decode()
    assert ApprovalPolicy.objects.get().reboot_defer_minutes == 120
    # and the form shows the current length, and saves a new one
    assert 'name="reboot_defer_minutes" value="120"' in http.get(f"/patching/policies/{policy.pk}/").content.decode()
    saved = http.post(f"/patching/policies/{policy.pk}/", {
        "name": "API policy", "scope": "global", "enabled": "on", "reboot": "if_required", "reboot_deferrals": "2",
        "reboot_defer_minutes": "45"})
    assert saved.status_code == 302 and ApprovalPolicy.objects.get().reboot_defer_minutes == 45


# --- Installs ---------------------------------------------------------------------------------------------------


@pytest.fixture
def enrolled() -> dict[str, Any]:
    client = make_client("Boulangerie Martin")
    answer = enroll(client)
    device = Device.objects.get(pk=answer["device_id"])
    device.site = Site.objects.create(client=client, name="Montréal", time_zone="America/Toronto")
    device.save(update_fields=["site"])
    make_policy("client", client=client, window_days=[0, 1, 2, 3, 4, 5, 6], window_start=time(22, 0),
                window_end=time(4, 0), reboot="if_required", reboot_deferrals=3, reboot_defer_minutes=240)
    return {"answer": answer, "device": device, "client": client}


def job_result(enrolled: dict[str, Any], job: Job, status: str, output: dict[str, Any]) -> None:
    body = checkin_body({"seq": 1, "kind": "job_result", "at": "2026-11-26T04:10:00Z", "data": {
        "job_id": job.pk, "status": status, "exit_code": 1 if status == "failed" else 0,
        "stdout": json.dumps(output), "stderr": "", "duration_ms": 5300}})
    assert post(HttpClient(), "/agent/v1/checkin", body, enrolled["answer"]["credential"]).status_code == 200


def test_the_install_payload_carries_the_deferral_length(enrolled: dict[str, Any]) -> None:
    update = make_update("openssl", category="security")
    missing(enrolled["device"], update)
    services.decision_set(actor=manager(), update=update, client=None, decision="approved")
    assert len(services.schedule_installs(utc(2026, 11, 26, 4, 0))) == 1
    assert Job.objects.get().payload == {
        "updates": [{"source": "apt", "identifier": "openssl", "version": "1.0"}], "reboot": "if_required",
        "reboot_deferrals": 3, "reboot_defer_minutes": 240, "window_ends_at": "2026-11-26T09:00:00Z"}


def test_a_failed_pre_install_script_is_recorded_on_the_run_and_shown(enrolled: dict[str, Any]) -> None:
    # given an install job for two approved updates
    openssl, curl = make_update("openssl", category="security"), make_update("curl", category="security")
    du_openssl, du_curl = missing(enrolled["device"], openssl), missing(enrolled["device"], curl)
    services.decision_bulk(actor=manager(), updates=[openssl, curl], clients=None, decision="approved")
    services.schedule_installs(utc(2026, 11, 26, 4, 0))
    job = Job.objects.get()
    # when the agent reports the script before installing failed: one update named, the other not
    job_result(enrolled, job, "failed", {
        "results": [{"identifier": "openssl", "status": "failed",
                     "message": "The script before installing failed: nothing was installed."}],
        "pre_script": {"status": "failed", "exit_code": 3, "stdout": "stopping postgresql", "stderr": "db busy"},
        "reboot": "not_needed"})
    assert services.record_install_results() == 1
    # then the run keeps the script's outcome and each update says why it failed
    run = InstallRun.objects.get()
    assert (run.status, run.scripts) == ("failed", {"pre_script": {
        "status": "failed", "exit_code": 3, "stdout": "stopping postgresql", "stderr": "db busy"}})
    du_openssl.refresh_from_db()
    du_curl.refresh_from_db()
    assert (du_openssl.state, du_openssl.message) == (
        "failed", "The script before installing failed: nothing was installed.")
    assert (du_curl.state, du_curl.message) == ("failed", "The script before installing failed (exit code 3).")
    # and the device's patch panel shows it
    http = HttpClient()
    http.force_login(manager())
    html = http.get(f"/patching/devices/{enrolled['device'].pk}/panel/").content.decode()
    assert 'data-testid="run-pre_script">Before installing: <span class="badge badge-failed">Failed</span> ' \
           'exit code 3<pre class="output">db busy</pre>' in html


def test_post_script_outcome_is_bounded_and_odd_entries_are_left_out(enrolled: dict[str, Any]) -> None:
    update = make_update("openssl", category="security")
    missing(enrolled["device"], update)
    services.decision_set(actor=manager(), update=update, client=None, decision="approved")
    services.schedule_installs(utc(2026, 11, 26, 4, 0))
    job_result(enrolled, Job.objects.get(), "succeeded", {
        "results": [{"identifier": "openssl", "status": "installed"}],
        "pre_script": "not an object",
        "post_script": {"status": "succeeded", "exit_code": True, "stdout": "x" * 5000, "stderr": None}})
    services.record_install_results()
    run = InstallRun.objects.get()
    assert run.status == "succeeded"
    assert run.scripts == {"post_script": {"status": "succeeded", "exit_code": None, "stdout": "x" * 2000,
                                           "stderr": ""}}


# --- Withdrawn approvals ------------------------------------------------------------------------------------


def test_withdrawing_and_rejecting_take_updates_out_of_a_queued_job_then_cancel_it(enrolled: dict[str, Any]) -> None:
    client, device, actor = enrolled["client"], enrolled["device"], manager()
    # given a queued install job with openssl (approved for every client and for the client) and curl (approved
    # for the client only)
    openssl, curl = make_update("openssl", category="security"), make_update("curl", category="security")
    du_openssl, du_curl = missing(device, openssl), missing(device, curl)
    services.decision_set(actor=actor, update=openssl, client=None, decision="approved")
    services.decision_set(actor=actor, update=openssl, client=client, decision="approved")
    services.decision_set(actor=actor, update=curl, client=client, decision="approved")
    [run] = services.schedule_installs(utc(2026, 11, 26, 4, 0))
    job = Job.objects.get()
    assert [u["identifier"] for u in job.payload["updates"]] == ["openssl", "curl"]
    # when the client's approval of openssl is withdrawn (the approval for every client still stands)
    services.decision_delete(actor=actor, decision=ApprovalDecision.objects.get(update=openssl, client=client))
    # then the job is untouched
    job.refresh_from_db()
    assert [u["identifier"] for u in job.payload["updates"]] == ["openssl", "curl"]
    # when the client's approval of curl is withdrawn
    services.decision_delete(actor=actor, decision=ApprovalDecision.objects.get(update=curl, client=client))
    # then curl leaves the queued job and the run, and is missing again; audited
    job.refresh_from_db()
    run.refresh_from_db()
    du_curl.refresh_from_db()
    assert job.status == "queued"
    assert job.payload["updates"] == [{"source": "apt", "identifier": "openssl", "version": "1.0"}]
    assert job.payload["reboot_defer_minutes"] == 240
    assert run.updates == [du_openssl.pk]
    assert (du_curl.state, du_curl.last_job_id) == ("missing", job.pk)
    entry = AuditEntry.objects.get(action="install_job.updates_withdrawn")
    assert (entry.object_id, entry.changes["removed"], entry.changes["run_id"]) == (str(job.pk), ["apt:curl"], run.pk)
    # when openssl is rejected for the client
    services.decision_set(actor=actor, update=openssl, client=client, decision="rejected")
    # then nothing is left: the job is cancelled, the run says so, openssl is missing again; audited
    job.refresh_from_db()
    run.refresh_from_db()
    du_openssl.refresh_from_db()
    assert job.status == "cancelled" and job.finished_at is not None
    assert (run.status, run.message) == (
        "cancelled", "Cancelled before it was sent: no approved update was left to install.")
    assert run.recorded_at is not None and du_openssl.state == "missing"
    cancelled = AuditEntry.objects.get(action="job.cancelled")
    assert (cancelled.object_id, cancelled.changes["removed"]) == (str(job.pk), ["apt:openssl"])
    # and the agent is never sent it
    answer = post(HttpClient(), "/agent/v1/checkin", checkin_body(), enrolled["answer"]["credential"]).json()
    assert answer.get("jobs", []) == []
    # and recording results leaves the cancelled run as it is
    assert services.record_install_results() == 0


def test_a_deferral_for_every_client_takes_the_update_out_and_a_sent_job_is_left_alone(
        enrolled: dict[str, Any]) -> None:
    client, device, actor = enrolled["client"], enrolled["device"], manager()
    # given two devices of the client, each with a queued job for openssl
    other = enroll(client, machine_id="4c4c4544-0042-9999", hostname="pc-compta-02")
    second = Device.objects.get(pk=other["device_id"])
    second.site = device.site
    second.save(update_fields=["site"])
    openssl, curl = make_update("openssl", category="security"), make_update("curl", category="security")
    missing(device, openssl), missing(device, curl), missing(second, openssl)
    services.decision_bulk(actor=actor, updates=[openssl, curl], clients=None, decision="approved")
    services.schedule_installs(utc(2026, 11, 26, 4, 0))
    first_job, second_job = Job.objects.get(device=device), Job.objects.get(device=second)
    # when the second device's agent checks in (its job is sent), then openssl is deferred for every client
    post(HttpClient(), "/agent/v1/checkin", checkin_body(), other["credential"])
    services.decision_set(actor=actor, update=openssl, client=None, decision="deferred",
                          deferred_until=datetime.now(UTC).date().replace(year=2099))
    # then the queued job loses openssl, the sent one is the agent's and keeps it
    first_job.refresh_from_db()
    second_job.refresh_from_db()
    assert first_job.payload["updates"] == [{"source": "apt", "identifier": "curl", "version": "1.0"}]
    assert (second_job.status, [u["identifier"] for u in second_job.payload["updates"]]) == ("sent", ["openssl"])
    assert DeviceUpdate.objects.get(device=second, update=openssl).state == "pending_install"
