"""E-mail of raised critical alerts to service managers, through the outbox; one test over real SMTP."""

from __future__ import annotations

import socket

import pytest
from django.core import mail
from django.test import override_settings

from tenfold.accounts.testing import make_staff
from tenfold.core import events
from tenfold.monitoring.evaluation import evaluate_new_results
from tenfold.monitoring.models import PolicyScope
from tenfold.monitoring.tests.factories import add_results, make_check, make_client, make_device, make_policy

pytestmark = pytest.mark.django_db


def _raise(severity: str) -> None:
    client = make_client("Boulangerie Martin")
    device = make_device(client, name="SRV-SAGE-01")
    check = make_check(make_policy(PolicyScope.CLIENT, client=client), "service", {"name": "MSSQLSERVER"},
                       name="SQL Server", severity=severity, failures_before_alert=1)
    add_results(device, check, ["fail"])
    evaluate_new_results()


def test_a_critical_alert_is_mailed_to_each_active_service_manager_once() -> None:
    # given two service managers (one inactive), a technician, and a critical alert raised
    make_staff("service_manager", email="sm@msp.test", mfa=False)
    make_staff("service_manager", email="gone@msp.test", mfa=False, is_active=False)
    make_staff("technician", email="tech@msp.test", mfa=False)
    _raise("critical")
    # when the outbox is delivered twice
    events.deliver_pending()
    events.deliver_pending()
    # then one mail to the active service manager
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["sm@msp.test"], "[Tenfold] Critical alert: SQL Server failing on SRV-SAGE-01")]
    assert "Client: Boulangerie Martin" in mail.outbox[0].body


def test_a_warning_alert_is_not_mailed() -> None:
    make_staff("service_manager", email="sm@msp.test", mfa=False)
    _raise("warning")
    events.deliver_pending()
    assert mail.outbox == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_mail_reaches_a_real_smtp_server() -> None:
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.handlers import Sink

    class Recorder(Sink):
        def __init__(self) -> None:
            self.messages: list[tuple[str, list[str], bytes]] = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            return "250 OK"

    handler = Recorder()
    port = _free_port()
    controller = aiosmtpd.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                               EMAIL_PORT=port, EMAIL_USE_TLS=False, DEFAULT_FROM_EMAIL="tenfold@msp.test"):
            make_staff("service_manager", email="sm@msp.test", mfa=False)
            _raise("critical")
            events.deliver_pending()
    finally:
        controller.stop()
    assert [(frm, to) for frm, to, _body in handler.messages] == [("tenfold@msp.test", ["sm@msp.test"])]
    assert b"SQL Server failing on SRV-SAGE-01" in handler.messages[0][2]
