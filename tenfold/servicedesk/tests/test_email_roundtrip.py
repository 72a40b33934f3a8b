"""The email round trip over real local mail servers: dovecot (IMAP) in, aiosmtpd (SMTP) out."""

from __future__ import annotations

import ssl
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from tenfold.accounts.testing import make_staff
from tenfold.clients.models import Client, Contact
from tenfold.core import events
from tenfold.servicedesk.mailbox import poll_mailbox
from tenfold.servicedesk.models import EntryKind, Ticket, TicketSource, TicketStatus
from tenfold.servicedesk.models_email import ClientEmailDomain, InboundEmail, MailboxState
from tenfold.servicedesk.services import ticket_reply
from tenfold.servicedesk.tests.mailservers import Dovecot, SmtpRecorder, dovecot, smtp_server  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def _mail(sender: str, subject: str, body: str, message_id: str, subtype: str = "plain",
          **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@msp.test"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body, subtype=subtype)
    return msg


def _settings(server: Dovecot, smtp_port: int) -> override_settings:
    return override_settings(
        TENFOLD_MAIL_IMAP_HOST=server.host, TENFOLD_MAIL_IMAP_PORT=server.port, TENFOLD_MAIL_IMAP_SECURITY="none",
        TENFOLD_MAIL_IMAP_USER=server.user, TENFOLD_MAIL_IMAP_PASSWORD=server.password,
        TENFOLD_MAIL_ADDRESS="support@msp.test", DEFAULT_FROM_EMAIL="Tenfold <tenfold@msp.test>",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=smtp_port,
        EMAIL_USE_TLS=False, TENFOLD_BASE_URL="https://msp.test")


def test_email_opens_tickets_replies_go_out_and_answers_thread_back(
        dovecot: Dovecot, smtp_server: tuple[int, SmtpRecorder]) -> None:  # noqa: F811
    port, smtp = smtp_server
    # given two clients: one knows the sender as a contact, the other owns a mail domain
    martin = Client.objects.create(name="Boulangerie Martin", status="active")
    alice = Contact.objects.create(client=martin, first_name="Alice", last_name="Martin",
                                   email="alice@boulangerie-martin.test")
    dupont = Client.objects.create(name="Cabinet Dupont", status="active")
    ClientEmailDomain.objects.create(client=dupont, domain="cabinet-dupont.test")
    tech = make_staff("technician", email="tech@msp.test", mfa=False, first_name="Thomas", last_name="Tech")
    with _settings(dovecot, port):
        # when two emails reach the support mailbox and it is polled (twice: nothing applies twice)
        dovecot.deliver(_mail("Alice Martin <alice@boulangerie-martin.test>", "Printer offline",
                              "The printer in the shop is offline.", "<m1@boulangerie-martin.test>"))
        dovecot.deliver(_mail("Bruno Petit <bruno.petit@cabinet-dupont.test>", "VPN down",
                              "<p>The VPN <b>fails</b></p><script>alert(1)</script>", "<m2@cabinet-dupont.test>",
                              subtype="html"))
        assert poll_mailbox() == 2
        assert poll_mailbox() == 0
        # then a ticket for each client, the second sender now a contact of Dupont
        t1 = Ticket.objects.get(client=martin)
        t2 = Ticket.objects.get(client=dupont)
        assert (t1.title, t1.contact, t1.source, t1.description) == (
            "Printer offline", alice, TicketSource.EMAIL, "The printer in the shop is offline.")
        bruno = Contact.objects.get(client=dupont, email="bruno.petit@cabinet-dupont.test")
        assert (t2.contact, bruno.first_name, bruno.last_name) == (bruno, "Bruno", "Petit")
        assert InboundEmail.objects.filter(ticket__isnull=False).count() == 2
        assert all("\\Seen" in flags for _raw, flags in dovecot.messages())
        assert MailboxState.objects.get().last_error == ""
        # and each contact got the acknowledgement over SMTP, with the number and Reply-To
        events.deliver_pending()
        acks = {tuple(to): message_from_bytes(raw, policy=policy.default) for _f, to, raw in smtp.messages}
        assert set(acks) == {("alice@boulangerie-martin.test",), ("bruno.petit@cabinet-dupont.test",)}
        ack = acks[("alice@boulangerie-martin.test",)]
        assert ack["Subject"] == f"[{t1.number}] Printer offline"
        assert ack["Reply-To"] == "support@msp.test"
        assert ack["Auto-Submitted"] == "auto-replied"
        assert ack["In-Reply-To"] == "<m1@boulangerie-martin.test>"

        # when the technician replies publicly
        smtp.messages.clear()
        t1.assignee = tech
        t1.save(update_fields=["assignee"])
        entry = ticket_reply(actor=tech, ticket=t1, body="Restarted the print spooler; please try again.",
                             public=True)
        events.deliver_pending()
        # then the reply goes out to Alice with the ticket number, Reply-To, and its Message-ID is kept
        assert [to for _f, to, _r in smtp.messages] == [["alice@boulangerie-martin.test"]]
        out = message_from_bytes(smtp.messages[0][2], policy=policy.default)
        assert out["Subject"] == f"Re: [{t1.number}] Printer offline"
        assert out["Reply-To"] == "support@msp.test"
        body = out.get_body()
        assert body is not None and "Restarted the print spooler" in body.get_content()
        entry.refresh_from_db()
        assert entry.email_message_id == out["Message-ID"]

        # when Alice answers that message (In-Reply-To, and a subject without the number)
        smtp.messages.clear()
        answer = _mail("alice@boulangerie-martin.test", "Re: your message",
                       "It prints again, thanks!\n\nOn Monday, support wrote:\n> ##- Please type your reply above "
                       "this line -##\n> Restarted", "<m3@boulangerie-martin.test>",
                       In_Reply_To=out["Message-ID"], References=out["Message-ID"])
        dovecot.deliver(answer)
        assert poll_mailbox() == 1
        # then it threads onto the same ticket as Alice's public reply, and the assignee is told
        assert Ticket.objects.filter(client=martin).count() == 1
        last = t1.entries.order_by("-pk").first()
        assert last is not None
        assert (last.kind, last.author_contact, last.body, last.visible_to_client, last.email_message_id) == (
            EntryKind.REPLY_PUBLIC, alice, "It prints again, thanks!", True, "<m3@boulangerie-martin.test>")
        events.deliver_pending()
        assert [to for _f, to, _r in smtp.messages] == [["tech@msp.test"]]
        assert f"[{t1.number}]" in message_from_bytes(smtp.messages[0][2], policy=policy.default)["Subject"]
        # and the HTML-only mail became plain text with no script
        assert t2.description == "The VPN fails"


def test_subject_number_threads_and_automatic_mail_is_ignored(
        dovecot: Dovecot, smtp_server: tuple[int, SmtpRecorder]) -> None:  # noqa: F811
    port, _smtp = smtp_server
    martin = Client.objects.create(name="Boulangerie Martin", status="active")
    Contact.objects.create(client=martin, first_name="Alice", last_name="Martin", email="alice@boulangerie-martin.test")
    other = Client.objects.create(name="Other", status="active")
    Contact.objects.create(client=other, first_name="Eve", last_name="Other", email="eve@other.test")
    with _settings(dovecot, port):
        dovecot.deliver(_mail("alice@boulangerie-martin.test", "Screen broken", "Cracked.", "<a1@b.test>"))
        poll_mailbox()
        ticket = Ticket.objects.get()
        # a reply by ticket number, an out-of-office, a bounce, and a stranger using the number
        dovecot.deliver(_mail("alice@boulangerie-martin.test", f"Re: [{ticket.number}] Screen broken",
                              "Photo to follow.", "<a2@b.test>"))
        dovecot.deliver(_mail("alice@boulangerie-martin.test", f"Out of office Re: [{ticket.number}]",
                              "I am away.", "<a3@b.test>", Auto_Submitted="auto-replied"))
        dovecot.deliver(_mail("MAILER-DAEMON@mx.test", "Undelivered", "failed", "<a4@b.test>"))
        dovecot.deliver(_mail("eve@other.test", f"[{ticket.number}] let me in", "hello", "<a5@b.test>"))
        poll_mailbox()
    statuses = dict(InboundEmail.objects.values_list("message_id", "status"))
    assert statuses == {"<a1@b.test>": "created", "<a2@b.test>": "threaded", "<a3@b.test>": "ignored",
                        "<a4@b.test>": "ignored", "<a5@b.test>": "created"}
    assert list(ticket.entries.filter(kind=EntryKind.REPLY_PUBLIC).values_list("body", flat=True)) == [
        "Photo to follow."]
    assert Ticket.objects.get(client=other).title == f"[{ticket.number}] let me in"
    assert ticket.status == TicketStatus.NEW


@pytest.mark.parametrize("dovecot", [{"tls": True}], indirect=True)
def test_starttls_mailbox_verifies_the_certificate(dovecot: Dovecot, settings: Any) -> None:  # noqa: F811
    # given a mailbox offering STARTTLS with a certificate of a private CA, and a client contact
    martin = Client.objects.create(name="Boulangerie Martin", status="active")
    Contact.objects.create(client=martin, first_name="Alice", last_name="Martin", email="alice@martin.test")
    dovecot.deliver(_mail("alice@martin.test", "Over TLS", "Hello", "<tls1@martin.test>"))
    settings.TENFOLD_MAIL_IMAP_HOST, settings.TENFOLD_MAIL_IMAP_PORT = dovecot.host, dovecot.port
    settings.TENFOLD_MAIL_IMAP_USER, settings.TENFOLD_MAIL_IMAP_PASSWORD = dovecot.user, dovecot.password
    settings.TENFOLD_MAIL_IMAP_SECURITY = "starttls"
    # when polled without trusting that CA: refused, the error kept for the status page, nothing applied
    settings.TENFOLD_MAIL_IMAP_CAFILE = ""
    with pytest.raises(ssl.SSLError):
        poll_mailbox()
    assert "CERTIFICATE_VERIFY_FAILED" in MailboxState.objects.get().last_error
    assert Ticket.objects.count() == 0
    # when the CA bundle is configured: the message opens its ticket, the error is cleared
    settings.TENFOLD_MAIL_IMAP_CAFILE = str(dovecot.cafile)
    assert poll_mailbox() == 1
    assert Ticket.objects.get().title == "Over TLS"
    assert MailboxState.objects.get().last_error == ""


def test_plaintext_imap_is_refused_for_a_remote_host(settings: Any) -> None:
    settings.TENFOLD_MAIL_IMAP_HOST, settings.TENFOLD_MAIL_IMAP_USER = "imap.example.com", "support"
    settings.TENFOLD_MAIL_IMAP_SECURITY = "none"
    with pytest.raises(ImproperlyConfigured):
        poll_mailbox()
