"""Outbound webhooks: signed bodies checked by a real receiver on 127.0.0.1, retries with exponential backoff,
the delivery log, disabling after repeated failures with a notice, and the refusal of private targets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.automation import webhooks
from tenfold.automation.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from tenfold.automation.tests.workflow_helpers import deliver
from tenfold.clients.models import Client
from tenfold.core import events
from tenfold.core.errors import PermissionDenied, ValidationError
from tenfold.core.roles import Role

pytestmark = pytest.mark.django_db


class Receiver:
    """An HTTP server on 127.0.0.1 that records what it receives and answers a chosen status."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append({"headers": dict(self.headers), "body": body, "path": self.path})
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/tenfold"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.TENFOLD_WEBHOOKS_ALLOW_PRIVATE = True  # the local receiver only: production refuses loopback
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def admin() -> Any:
    return make_staff(Role.ADMIN, mfa=False, email="admin@msp.test")


def _raise_event(client: Client) -> None:
    events.emit("alert.raised", client_id=client.pk, payload={
        "alert_id": 41, "client_id": client.pk, "device_id": None, "kind": "check", "check_id": None,
        "check_type": "disk_free", "severity": "warning", "title": "Disk C: 6 % free"})


def test_a_delivery_is_signed_and_the_receiver_verifies_it(receiver: Receiver, admin: Any) -> None:
    client = Client.objects.create(name="Boulangerie Martin", status="active")
    _subscription, secret = webhooks.subscription_create(actor=admin, data={
        "name": "NOC", "url": receiver.url, "events": ["alert.raised"]})
    _raise_event(client)
    deliver()
    assert webhooks.deliver_due() == 1
    [got] = receiver.received
    headers = got["headers"]
    assert got["path"] == "/hooks/tenfold" and headers["X-Tenfold-Event"] == "alert.raised"
    # the receiver's check: HMAC-SHA256 of "<timestamp>.<body>" with the secret shown at creation
    assert webhooks.verify(secret, headers["X-Tenfold-Timestamp"], got["body"], headers["X-Tenfold-Signature"])
    assert not webhooks.verify("wrong-secret", headers["X-Tenfold-Timestamp"], got["body"],
                               headers["X-Tenfold-Signature"])
    assert not webhooks.verify(secret, headers["X-Tenfold-Timestamp"], got["body"] + b" ",
                               headers["X-Tenfold-Signature"])
    body = json.loads(got["body"])
    delivery = WebhookDelivery.objects.get()
    assert body["event"] == "alert.raised" and body["id"] == delivery.pk
    assert body["data"]["title"] == "Disk C: 6 % free"
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    [log] = WebhookAttempt.objects.all()
    assert (log.number, log.status_code, log.error) == (1, 200, "")
    # the secret is stored for signing but never shown again (the serialised subscription omits it)
    assert "secret" not in {f.name for f in WebhookSubscription._meta.fields if f.editable}
    # a second sweep sends nothing more
    assert webhooks.deliver_due() == 0 and len(receiver.received) == 1


def test_failures_are_retried_with_exponential_backoff_then_given_up(receiver: Receiver, admin: Any) -> None:
    receiver.status = 503
    _subscription, _secret = webhooks.subscription_create(actor=admin, data={
        "name": "NOC", "url": receiver.url, "events": ["alert.raised"]})
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        _raise_event(Client.objects.create(name="Fournil", status="active"))
        deliver()
        assert webhooks.deliver_due() == 1
        delivery = WebhookDelivery.objects.get()
        assert (delivery.attempts, delivery.next_attempt_at) == (1, start + timedelta(seconds=60))
        # not before it is due
        clock.move_to(start + timedelta(seconds=59))
        assert webhooks.deliver_due() == 0
        waits = []
        for _ in range(webhooks.MAX_ATTEMPTS - 1):
            delivery.refresh_from_db()
            waits.append(int((delivery.next_attempt_at - timezone.now()).total_seconds()))
            clock.move_to(delivery.next_attempt_at)
            assert webhooks.deliver_due() == 1
    assert waits == [1, 120, 240, 480, 960, 1920, 3840]  # 1 s left of the first minute, then doubling
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 8, None)
    assert [a.number for a in delivery.attempt_log.order_by("number")] == list(range(1, 9))
    assert set(delivery.attempt_log.values_list("error", flat=True)) == {"The receiver answered 503."}
    assert len(receiver.received) == 8


def test_a_subscription_is_disabled_after_repeated_failures_with_a_notice(receiver: Receiver, admin: Any) -> None:
    receiver.status = 500
    subscription, _secret = webhooks.subscription_create(actor=admin, data={
        "name": "NOC", "url": receiver.url, "events": ["alert.raised"]})
    client = Client.objects.create(name="Fournil", status="active")
    for _ in range(webhooks.DISABLE_AFTER_FAILURES):
        _raise_event(client)
    deliver()
    assert webhooks.deliver_due() == webhooks.DISABLE_AFTER_FAILURES
    subscription.refresh_from_db()
    assert (subscription.enabled, subscription.consecutive_failures) == (False, 10)
    assert subscription.disabled_reason == "Disabled after 10 failed deliveries in a row."
    deliver()
    assert [(m.to, m.subject) for m in mail.outbox] == [(["admin@msp.test"], "[Tenfold] Webhook disabled: NOC")]
    # a disabled subscription receives nothing more, and enabling it again clears the count
    _raise_event(client)
    deliver()
    assert webhooks.deliver_due() == 0
    webhooks.subscription_update(actor=admin, subscription=subscription, data={"enabled": True})
    subscription.refresh_from_db()
    assert (subscription.consecutive_failures, subscription.disabled_reason) == (0, "")


@pytest.mark.parametrize("url", [
    "http://example.com/hook", "https://10.0.0.8/hook", "https://192.168.1.1/hook", "https://127.0.0.1/hook",
    "https://169.254.169.254/latest/meta-data", "https://[::1]/hook", "https://localhost/hook",
    "ftp://example.com/", "https://user:pw@example.com/hook", "https://[fe80::1]/x"])
def test_private_loopback_and_non_https_targets_are_refused(admin: Any, url: str) -> None:
    with pytest.raises(ValidationError):
        webhooks.subscription_create(actor=admin, data={"name": "Bad", "url": url, "events": ["alert.raised"]})
    assert not WebhookSubscription.objects.exists()


def test_a_name_that_resolves_to_a_private_address_is_refused_when_called(admin: Any, monkeypatch: Any) -> None:
    # a public-looking name accepted at subscription time, whose address turns out private when called
    _subscription, _secret = webhooks.subscription_create(actor=admin, data={
        "name": "Rebinding", "url": "https://hooks.example.com/x", "events": ["alert.raised"]})

    def private_answer(host: str, port: int, **kwargs: Any) -> list[Any]:
        return [(2, 1, 6, "", ("10.1.2.3", port))]

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", private_answer)
    _raise_event(Client.objects.create(name="Fournil", status="active"))
    deliver()
    assert webhooks.deliver_due() == 1
    log = WebhookAttempt.objects.get()
    assert (log.status_code, log.error) == (
        None, "hooks.example.com resolves to a private, loopback or link-local address: refused.")
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING  # retried later, still checked


def test_a_technician_cannot_manage_webhooks(admin: Any) -> None:
    with pytest.raises(PermissionDenied):
        webhooks.subscription_create(actor=make_staff(Role.TECHNICIAN, mfa=False), data={
            "name": "NOC", "url": "https://hooks.example.com/x", "events": ["alert.raised"]})
    assert not WebhookSubscription.objects.exists()


def test_a_workflow_step_calls_a_webhook(receiver: Receiver, admin: Any) -> None:
    from tenfold.automation import workflow_services
    from tenfold.automation.models import Workflow, WorkflowRun
    from tenfold.monitoring.evaluation import emit_raised
    from tenfold.monitoring.models import Alert
    from tenfold.monitoring.tests.factories import make_device

    Workflow.objects.filter(builtin_key="alert-ticket").update(enabled=False)
    subscription, secret = webhooks.subscription_create(actor=admin, data={
        "name": "Chat", "url": receiver.url, "events": ["ticket.created"]})
    workflow_services.workflow_create(actor=admin, data={"name": "Tell the chat", "definition": {
        "trigger": {"event": "alert.raised"}, "steps": [
            {"id": "hook", "action": "call_webhook", "params": {"subscription_id": subscription.pk}}]}})
    client = Client.objects.create(name="Fournil", status="active")
    alert = Alert.objects.create(client=client, device=make_device(client, name="PC-7"), kind="offline",
                                 title="PC-7 is offline")
    emit_raised(alert)
    deliver()
    assert webhooks.deliver_due() == 1
    [got] = receiver.received
    body = json.loads(got["body"])
    assert (body["event"], body["data"]["workflow"], body["data"]["event"]["alert_id"]) == (
        "workflow.step", "Tell the chat", alert.pk)
    assert webhooks.verify(secret, got["headers"]["X-Tenfold-Timestamp"], got["body"],
                           got["headers"]["X-Tenfold-Signature"])
    assert WorkflowRun.objects.get(workflow__name="Tell the chat").status == "succeeded"
