"""`tenfold manage smtp_receive` run as a real process on a throw-away deployment (its own data directory and
database): a message sent to it with smtplib opens a ticket in that deployment's database, mail for another
address is refused at RCPT, and SIGTERM stops it cleanly (exit status 0) within a deadline. Every process the
test starts is killed whatever happens."""

from __future__ import annotations

import signal
import smtplib
import socket
import subprocess
import time
from email.message import EmailMessage
from typing import Any

import pytest

from tenfold.servicedesk.tests.mailservers import free_port

START_TIMEOUT = 60
STOP_TIMEOUT = 15


def _wait_for_smtp(proc: subprocess.Popen[str], port: int) -> None:
    """Until the server greets on the port (220), or fail with what the process printed."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"smtp_receive exited with {proc.returncode}:\n{proc.communicate()[0]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(100).startswith(b"220"):
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"smtp_receive did not listen on port {port} within {START_TIMEOUT}s")


def _message(sender: str, to: str, subject: str, body: str, message_id: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, to, subject, message_id
    msg.set_content(body)
    return msg


def test_smtp_receive_process_opens_a_ticket_and_stops_on_sigterm(make_instance: Any) -> None:
    # given a deployment of its own with a client whose contact writes to the support address
    instance = make_instance(TENFOLD_MAIL_ADDRESS="support@msp.test")
    client_id = instance.query(
        "from tenfold.clients.models import Client, Contact\n"
        "client = Client.objects.create(name='Boulangerie Martin', status='active')\n"
        "Contact.objects.create(client=client, first_name='Alice', last_name='Martin',"
        " email='alice@boulangerie-martin.test')\n"
        "result = client.pk")
    port = free_port()
    proc = instance.popen("manage", "smtp_receive", "--host", "127.0.0.1", "--port", str(port))
    try:
        _wait_for_smtp(proc, port)

        # when the contact's message is sent to the support address, and another one to a stranger's mailbox
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            refused = smtp.send_message(_message(
                "Alice Martin <alice@boulangerie-martin.test>", "support@msp.test", "Scanner jammed",
                "The scanner in the back office is jammed again.", "<scanner-1@boulangerie-martin.test>"))
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                smtp.send_message(_message("alice@boulangerie-martin.test", "someone@elsewhere.test",
                                           "Not ours", "Wrong mailbox.", "<elsewhere-1@boulangerie-martin.test>"))

        # then the first opened one email ticket for the client, in that deployment's database; the second
        # left nothing
        assert refused == {}
        tickets = instance.query(
            "from tenfold.servicedesk.models import Ticket\n"
            "from tenfold.servicedesk.models_email import InboundEmail\n"
            "result = {'tickets': [[t.client_id, t.title, t.source, t.contact.email, t.description]"
            " for t in Ticket.objects.select_related('contact').order_by('pk')],"
            " 'inbound': sorted([m.message_id, m.channel, m.status] for m in InboundEmail.objects.all())}")
        assert tickets == {
            "tickets": [[client_id, "Scanner jammed", "email", "alice@boulangerie-martin.test",
                         "The scanner in the back office is jammed again."]],
            "inbound": [["<scanner-1@boulangerie-martin.test>", "smtp", "created"]]}

        # when the process is asked to stop
        proc.send_signal(signal.SIGTERM)

        # then it exits cleanly within the deadline, and the port is free again
        output, _err = proc.communicate(timeout=STOP_TIMEOUT)
        assert proc.returncode == 0, output
        assert f"on 127.0.0.1:{port}" in output
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)
