"""Effective approval (decision for the client, then for every client, then the policy's auto-approval after N
days), policy precedence, install windows across time zones and DST, and install jobs once per window."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client as HttpClient

from tenfold.accounts.testing import make_staff
from tenfold.agents.models import Job
from tenfold.agents.tests.helpers import checkin_body, enroll, post
from tenfold.assets.models import Device, Tag
from tenfold.clients.models import Site
from tenfold.core.errors import PermissionDenied, ValidationError
from tenfold.core.roles import Role
from tenfold.patching import services
from tenfold.patching.approvals import PolicyIndex, statuses_for
from tenfold.patching.models import ApprovalDecision, DeviceUpdate, InstallRun
from tenfold.patching.tests.factories import make_client, make_device, make_policy, make_update, missing
from tenfold.patching.windows import WindowSpec, clean_window, next_window, window_at, zone

pytestmark = pytest.mark.django_db


def status_of(du: DeviceUpdate, now: datetime | None = None) -> str:
    du = DeviceUpdate.objects.select_related("update", "device").get(pk=du.pk)
    return statuses_for([du], now)[du.pk]


def test_the_client_decision_beats_the_all_clients_decision_which_beats_the_policy() -> None:
    manager = make_staff(Role.SERVICE_MANAGER, mfa=False)
    client, other = make_client("Cabinet Durand"), make_client("Garage Petit")
    update = make_update("openssl", category="security", released_on=date(2026, 1, 1))
    du, du_other = missing(make_device(client), update), missing(make_device(other), update)
    make_policy(auto_approve_categories=["security"], auto_approve_after_days=3)
    # the policy approves it (released long ago)
    assert (status_of(du), status_of(du_other)) == ("approved", "approved")
    # a rejection for every client overrides the policy
    services.decision_set(actor=manager, update=update, client=None, decision="rejected")
    assert (status_of(du), status_of(du_other)) == ("rejected", "rejected")
    # an approval for one client overrides the decision for every client, for that client only
    services.decision_set(actor=manager, update=update, client=client, decision="approved", note="tested")
    assert (status_of(du), status_of(du_other)) == ("approved", "rejected")
    # a second decision for the same client replaces the first (one row)
    services.decision_set(actor=manager, update=update, client=client, decision="deferred",
                          deferred_until=date.today() + timedelta(days=7))
    assert ApprovalDecision.objects.filter(update=update, client=client).count() == 1
    assert status_of(du) == "deferred"


def test_an_expired_deferral_hands_over_to_the_next_rule() -> None:
    manager = make_staff(Role.SERVICE_MANAGER, mfa=False)
    update = make_update("curl", category="bugfix")
    du = missing(make_device(make_client()), update)
    with time_machine.travel(datetime(2026, 11, 26, 9, 0, tzinfo=UTC), tick=False):
        services.decision_set(actor=manager, update=update, client=None, decision="deferred",
                              deferred_until=date(2026, 12, 1))
        assert status_of(du) == "deferred"
    assert status_of(du, datetime(2026, 12, 1, 9, 0, tzinfo=UTC)) == "awaiting"


def test_auto_approval_after_n_days_from_first_seen() -> None:
    # given a policy approving security updates 3 days after they appear, and one seen on 20 November
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=UTC), tick=False):
        update = make_update("libssl3", category="security")
        bugfix = make_update("tzdata", category="bugfix")
        device = make_device(make_client())
        du, du_bugfix = missing(device, update), missing(device, bugfix)
    make_policy(auto_approve_categories=["security", "critical"], auto_approve_after_days=3)
    # then it awaits approval on the 22nd and is approved from the 23rd; the bug fix never by this rule
    with time_machine.travel(datetime(2026, 11, 22, 23, 0, tzinfo=UTC), tick=False):
        assert (status_of(du), status_of(du_bugfix)) == ("awaiting", "awaiting")
    with time_machine.travel(datetime(2026, 11, 23, 0, 30, tzinfo=UTC), tick=False):
        assert (status_of(du), status_of(du_bugfix)) == ("approved", "awaiting")


def test_auto_approval_counts_from_the_release_date_and_honours_severities() -> None:
    device = make_device(make_client())
    important = missing(device, make_update("KB1", source="windows_update", version="", severity="important",
                                            released_on=date(2026, 11, 10)))
    low = missing(device, make_update("KB2", source="windows_update", version="", severity="low",
                                      released_on=date(2026, 11, 10)))
    make_policy(auto_approve_categories=["security"], auto_approve_severities=["critical", "important"],
                auto_approve_after_days=5)
    assert status_of(important, datetime(2026, 11, 14, 12, tzinfo=UTC)) == "awaiting"
    assert status_of(important, datetime(2026, 11, 15, 12, tzinfo=UTC)) == "approved"
    assert status_of(low, datetime(2026, 12, 15, 12, tzinfo=UTC)) == "awaiting"


def test_the_most_specific_policy_reaches_a_device() -> None:
    client = make_client()
    site = Site.objects.create(client=client, name="Lyon")
    device = make_device(client, site=site)
    tag = Tag.objects.create(name="servers")
    device.tags.add(tag)
    everywhere = make_policy(name="Everywhere")
    of_client = make_policy("client", client=client, name="Client")
    of_tag = make_policy("tag", tag=tag, name="Tag")
    of_site = make_policy("site", client=client, site=site, name="Site")
    of_device = make_policy("device", client=client, device=device, name="Device")
    order = [of_device, of_site, of_tag, of_client, everywhere]
    for expected in order:
        assert PolicyIndex().for_device(device, {tag.pk}) == expected
        expected.enabled = False
        expected.save()
    assert PolicyIndex().for_device(device, {tag.pk}) is None


def test_denied_and_invalid_decisions_change_nothing() -> None:
    update = make_update("openssl")
    client = make_client()
    technician = make_staff(Role.TECHNICIAN, mfa=False)
    with pytest.raises(PermissionDenied):
        services.decision_set(actor=technician, update=update, client=None, decision="approved")
    manager = make_staff(Role.SERVICE_MANAGER, mfa=False)
    with pytest.raises(ValidationError) as exc:
        services.decision_set(actor=manager, update=update, client=client, decision="deferred")
    assert "deferred_until" in exc.value.errors
    with pytest.raises(ValidationError):
        services.decision_set(actor=manager, update=update, client=client, decision="deferred",
                              deferred_until=date.today())
    restricted = make_staff(Role.SERVICE_MANAGER, mfa=False, clients=[client], restricted=True)
    with pytest.raises(PermissionDenied):
        services.decision_set(actor=restricted, update=update, client=None, decision="approved")
    assert ApprovalDecision.objects.count() == 0


# --- windows -------------------------------------------------------------------------------------------


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_a_window_in_two_time_zones() -> None:
    # Tuesday 22:00 to Wednesday 04:00, wall clock
    spec = WindowSpec((1,), time(22, 0), time(4, 0))
    paris, new_york = zone("Europe/Paris"), zone("America/New_York")
    # Tuesday 24 November 2026, 21:30 UTC is 22:30 in Paris (inside) and 16:30 in New York (outside)
    now = utc(2026, 11, 24, 21, 30)
    assert window_at(spec, paris, now) == (utc(2026, 11, 24, 21, 0), utc(2026, 11, 25, 3, 0))
    assert window_at(spec, new_york, now) is None
    assert next_window(spec, new_york, now) == (utc(2026, 11, 25, 3, 0), utc(2026, 11, 25, 9, 0))
    # the window that opened the day before is still open after midnight
    assert window_at(spec, paris, utc(2026, 11, 25, 2, 59)) == (utc(2026, 11, 24, 21, 0), utc(2026, 11, 25, 3, 0))
    assert window_at(spec, paris, utc(2026, 11, 25, 3, 0)) is None


def test_windows_across_dst_are_wall_clock_hours() -> None:
    paris = zone("Europe/Paris")
    # Sunday 29 March 2026: 02:00 CET jumps to 03:00 CEST; a 02:30 opening opens at the jump (01:00 UTC)
    spring = WindowSpec((6,), time(2, 30), time(5, 0))
    assert window_at(spring, paris, utc(2026, 3, 29, 1, 0)) == (utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 3, 0))
    # Sunday 25 October 2026: 03:00 CEST goes back to 02:00 CET; 02:30 opens at its first occurrence
    autumn = WindowSpec((6,), time(2, 30), time(5, 0))
    assert window_at(autumn, paris, utc(2026, 10, 25, 0, 30)) == (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 4, 0))
    # an ordinary Sunday: 02:30–05:00 CET
    assert window_at(autumn, paris, utc(2026, 11, 1, 2, 0)) == (utc(2026, 11, 1, 1, 30), utc(2026, 11, 1, 4, 0))


@pytest.mark.parametrize(("days", "start", "end", "field"), [
    ([], time(22), time(4), "window_days"),
    ([7], time(22), time(4), "window_days"),
    ([1], None, time(4), "window_start"),
    ([1], time(22), None, "window_end"),
    ([1], time(22), time(22), "window_end"),
])
def test_invalid_windows(days: list[int], start: time | None, end: time | None, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        clean_window(days, start, end)
    assert field in exc.value.errors
    assert clean_window([], None, None) is None


# --- installs --------------------------------------------------------------------------------------------


@pytest.fixture
def enrolled() -> dict[str, Any]:
    client = make_client("Boulangerie Martin")
    answer = enroll(client)
    device = Device.objects.get(pk=answer["device_id"])
    site = Site.objects.create(client=client, name="Montréal", time_zone="America/Toronto")
    device.site = site
    device.save(update_fields=["site"])
    return {"answer": answer, "device": device, "client": client}


def test_install_jobs_once_per_window_then_results_recorded(enrolled: dict[str, Any]) -> None:
    device = enrolled["device"]
    # given a Montréal device missing an approved critical update and an unapproved one, and a nightly window
    critical = make_update("openssl", category="security", severity="critical")
    other = make_update("tzdata", category="bugfix")
    du_critical, du_other = missing(device, critical), missing(device, other)
    manager = make_staff(Role.SERVICE_MANAGER, mfa=False)
    services.decision_set(actor=manager, update=critical, client=None, decision="approved")
    make_policy("client", client=enrolled["client"], window_days=[0, 1, 2, 3, 4, 5, 6], window_start=time(22, 0),
                window_end=time(4, 0), reboot="if_required", reboot_deferrals=2, reboot_defer_minutes=30)
    # when the schedule runs at 21:30 in Montréal (closed), then at 23:00 and 23:05 (open)
    assert services.schedule_installs(utc(2026, 11, 25, 2, 30)) == []
    runs = services.schedule_installs(utc(2026, 11, 26, 4, 0))
    again = services.schedule_installs(utc(2026, 11, 26, 4, 5))
    # then one job, with the approved update only, for the window 22:00–04:00 Toronto time
    assert len(runs) == 1 and again == []
    run = InstallRun.objects.get()
    assert (run.window_start, run.window_end) == (utc(2026, 11, 26, 3, 0), utc(2026, 11, 26, 9, 0))
    job = Job.objects.get()
    assert (job.kind, job.device_id) == ("install_updates", device.pk)
    assert job.payload == {"updates": [{"source": "apt", "identifier": "openssl", "version": "1.0"}],
                           "reboot": "if_required", "reboot_deferrals": 2, "reboot_defer_minutes": 30,
                           "window_ends_at": "2026-11-26T09:00:00Z"}
    du_critical.refresh_from_db()
    du_other.refresh_from_db()
    assert (du_critical.state, du_critical.last_job_id, du_other.state) == ("pending_install", job.pk, "missing")
    # when the agent reports the job failed for that update (a simulated job result through the check-in)
    result = {"seq": 1, "kind": "job_result", "at": "2026-11-26T04:10:00Z", "data": {
        "job_id": job.pk, "status": "failed", "exit_code": 1,
        "stdout": json.dumps({"results": [{"identifier": "openssl", "status": "failed",
                                           "message": "dpkg: error processing package openssl"}]}),
        "stderr": "", "duration_ms": 5300}}
    assert post(HttpClient(), "/agent/v1/checkin", checkin_body(result),
                enrolled["answer"]["credential"]).status_code == 200
    assert services.record_install_results() == 1
    # then the failure is recorded on the device update and the run, once
    du_critical.refresh_from_db()
    run.refresh_from_db()
    assert (du_critical.state, du_critical.message) == ("failed", "dpkg: error processing package openssl")
    assert run.status == "failed" and run.recorded_at is not None
    assert services.record_install_results() == 0
    # and the next night's window retries it
    assert len(services.schedule_installs(utc(2026, 11, 27, 4, 0))) == 1
    du_critical.refresh_from_db()
    assert du_critical.state == "pending_install"


@time_machine.travel(datetime(2026, 11, 26, 17, 45, tzinfo=UTC), tick=False)
def test_a_succeeded_install_job_marks_its_updates_installed(enrolled: dict[str, Any]) -> None:
    # (on a fixed day: the update is first seen "now", which must come before the window it is installed in)
    device = enrolled["device"]
    du = missing(device, make_update("curl", category="security"))
    make_policy(auto_approve_categories=["security"], auto_approve_after_days=0, window_days=[3],
                window_start=time(12, 0), window_end=time(13, 0))
    # Thursday 26 November 2026, 12:30 in Toronto
    assert len(services.schedule_installs(utc(2026, 11, 26, 17, 30))) == 1
    job = Job.objects.get()
    body = checkin_body({"seq": 1, "kind": "job_result", "at": "2026-11-26T17:40:00Z", "data": {
        "job_id": job.pk, "status": "succeeded", "exit_code": 0, "stdout": "done", "stderr": "", "duration_ms": 900}})
    assert post(HttpClient(), "/agent/v1/checkin", body, enrolled["answer"]["credential"]).status_code == 200
    assert services.record_install_results() == 1
    du.refresh_from_db()
    assert du.state == "installed" and du.installed_at is not None
    assert InstallRun.objects.get().status == "succeeded"


def test_no_job_without_a_window_or_for_an_unmanaged_device(enrolled: dict[str, Any]) -> None:
    device = enrolled["device"]
    missing(device, make_update("curl", category="security"))
    make_policy(auto_approve_categories=["security"], auto_approve_after_days=0)
    assert services.schedule_installs(utc(2026, 11, 26, 17, 30)) == []
    unmanaged = make_device(enrolled["client"], managed=False)
    missing(unmanaged, make_update("zlib", category="security"))
    make_policy("device", client=enrolled["client"], device=unmanaged, auto_approve_categories=["security"],
                auto_approve_after_days=0, window_days=[3], window_start=time(0, 0), window_end=time(23, 59))
    assert services.schedule_installs(utc(2026, 11, 26, 17, 30)) == []
    assert Job.objects.count() == 0
