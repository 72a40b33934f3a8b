"""Retiring a device revokes its agent's credentials (through the `device.state_changed` event)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import make_staff
from tenfold.agents import services
from tenfold.agents.models import AgentCredential, Job, JobStatus
from tenfold.agents.tests.helpers import checkin_body, enroll, heartbeat, post
from tenfold.assets import services as asset_services
from tenfold.assets.models import Device, DeviceState
from tenfold.clients.models import Client
from tenfold.core import events
from tenfold.core.errors import Conflict
from tenfold.core.models import AuditEntry, OutboxEvent

pytestmark = pytest.mark.django_db
CHECKIN = "/agent/v1/checkin"


@pytest.fixture
def client_a() -> Client:
    return Client.objects.create(name="Boulangerie Martin", status="active")


def deliver(capture: Any) -> None:
    with capture(execute=True):
        events.deliver_pending()


def test_retiring_a_device_revokes_its_credential_and_cancels_its_jobs(
        client_a: Client, django_capture_on_commit_callbacks: Any) -> None:
    # given an enrolled agent that checks in, with a job queued for it
    agent = enroll(client_a)
    assert post(HttpClient(), CHECKIN, checkin_body(heartbeat(1)), agent["credential"]).status_code == 200
    device = Device.objects.get(pk=agent["device_id"])
    admin = make_staff("admin")
    job = services.job_create(actor=admin, device=device, kind="script", payload={"script": "uptime"})
    # when staff retire the device and the worker delivers the event
    asset_services.device_retire(actor=admin, device=device, reason="Replaced")
    deliver(django_capture_on_commit_callbacks)
    # then its next check-in is refused as revoked, and nothing was written for it
    refused = post(HttpClient(), CHECKIN, checkin_body(heartbeat(2)), agent["credential"])
    assert (refused.status_code, refused.json()["code"]) == (401, "credential_revoked")
    assert not AgentCredential.objects.filter(device=device, revoked_at__isnull=True).exists()
    # and its open job is cancelled, new jobs are refused
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.finished_at is not None
    with pytest.raises(Conflict):
        services.job_create(actor=admin, device=device, kind="script", payload={})
    assert Job.objects.filter(device=device).count() == 1
    entry = AuditEntry.objects.get(action="agent_credential.revoked")
    assert entry.actor_kind == "system" and entry.changes["reason"] == "device retired"
    assert entry.changes["cancelled_jobs"] == 1 and len(entry.changes["prefixes"]) == 1


def test_other_moves_and_a_device_enrolled_again_keep_their_credentials(
        client_a: Client, django_capture_on_commit_callbacks: Any) -> None:
    agent = enroll(client_a)
    device = Device.objects.get(pk=agent["device_id"])
    admin = make_staff("admin")
    # a move to maintenance revokes nothing
    asset_services.device_set_state(actor=admin, device=device, state=DeviceState.MAINTENANCE)
    deliver(django_capture_on_commit_callbacks)
    assert post(HttpClient(), CHECKIN, checkin_body(heartbeat(1)), agent["credential"]).status_code == 200
    # retired, then enrolled again before the event is delivered: the new credential stays valid
    asset_services.device_retire(actor=admin, device=device)
    again = enroll(client_a)
    assert Device.objects.get(pk=device.pk).state == DeviceState.ONBOARDING
    deliver(django_capture_on_commit_callbacks)
    assert post(HttpClient(), CHECKIN, checkin_body(heartbeat(1)), again["credential"]).status_code == 200
    # and a late second delivery of the retirement changes nothing either
    retired = OutboxEvent.objects.filter(name="device.state_changed", payload__to="retired").get()
    services.on_device_retired(retired)
    assert AgentCredential.objects.filter(device=device, revoked_at__isnull=True).count() == 1
    assert not AuditEntry.objects.filter(action="agent_credential.revoked").exists()
