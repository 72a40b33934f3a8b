"""Applying inbound email: idempotence, client matching, triage, attachments, HTML, loops; SMTP receiving."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse

from tenfold.accounts.testing import make_staff
from tenfold.clients.models import Client, Contact
from tenfold.core.errors import NotFound
from tenfold.servicedesk.email_inbound import apply_email, triage_assign
from tenfold.servicedesk.email_parse import html_to_text, parse_email
from tenfold.servicedesk.mailbox import smtp_controller
from tenfold.servicedesk.models import EntryKind, Ticket, TicketStatus
from tenfold.servicedesk.models_email import ClientEmailDomain, InboundEmail, TicketAttachment
from tenfold.servicedesk.tests.mailservers import free_port


def _raw(sender: str = "alice@martin.test", subject: str = "Help", body: str = "Text", mid: str = "<x1@martin.test>",
         attachments: tuple[tuple[str, str, bytes], ...] = (), **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, "support@msp.test", subject, mid
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    for filename, ctype, data in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


@pytest.fixture
def martin(db: None) -> Client:
    client = Client.objects.create(name="Boulangerie Martin", status="active")
    Contact.objects.create(client=client, first_name="Alice", last_name="Martin", email="alice@martin.test")
    return client


def test_the_same_message_is_applied_once(martin: Client) -> None:
    first = apply_email(_raw())
    second = apply_email(_raw(body="changed, same id"))
    assert first.pk == second.pk
    assert Ticket.objects.count() == 1 and InboundEmail.objects.count() == 1


def test_unknown_sender_waits_in_triage_and_is_filed_by_staff(martin: Client) -> None:
    record = apply_email(_raw(sender="Zoe Inconnue <zoe@elsewhere.test>", subject="Hello"))
    assert (record.status, Ticket.objects.count()) == ("triage", 0)
    other = Client.objects.create(name="Other", status="active")
    restricted = make_staff("technician", clients=[other], restricted=True, mfa=False)
    with pytest.raises(NotFound):
        triage_assign(actor=restricted, inbound=record, client=martin)
    assert Ticket.objects.count() == 0
    ticket = triage_assign(actor=make_staff("service_manager", mfa=False), inbound=record, client=martin)
    record.refresh_from_db()
    assert (record.status, record.ticket, record.raw) == ("assigned", ticket, b"")
    assert (ticket.client, ticket.title, ticket.contact.email) == (martin, "Hello", "zoe@elsewhere.test")


@override_settings(TENFOLD_MAIL_UNKNOWN_SENDERS="refuse")
def test_unknown_sender_refused_by_setting(martin: Client) -> None:
    record = apply_email(_raw(sender="zoe@elsewhere.test"))
    assert (record.status, bytes(record.raw), Ticket.objects.count()) == ("refused", b"", 0)


def test_domain_match_when_the_address_is_not_a_contact(martin: Client) -> None:
    ClientEmailDomain.objects.create(client=martin, domain="martin.test")
    apply_email(_raw(sender="Bob Baker <bob@MARTIN.test>"))
    ticket = Ticket.objects.get()
    assert (ticket.client, ticket.contact.first_name, ticket.contact.last_name) == (martin, "Bob", "Baker")


def test_same_address_at_two_clients_goes_to_triage(martin: Client) -> None:
    other = Client.objects.create(name="Other", status="active")
    Contact.objects.create(client=other, first_name="Alice", last_name="Other", email="alice@martin.test")
    assert apply_email(_raw()).status == "triage"


@override_settings(TENFOLD_MAIL_MAX_ATTACHMENT_BYTES=1024)
def test_attachments_stored_or_refused_with_a_clear_note(martin: Client) -> None:
    apply_email(_raw(attachments=(("photo.png", "image/png", b"\x89PNG" + b"0" * 100),
                                  ("big.pdf", "application/pdf", b"%PDF" + b"0" * 4000),
                                  ("run.exe", "application/octet-stream", b"MZ"),
                                  ("invoice.pdf.exe", "application/pdf", b"MZ"),
                                  ("data.bin", "application/octet-stream", b"\x00"))))
    ticket = Ticket.objects.get()
    assert list(TicketAttachment.objects.values_list("filename", "content_type", "size")) == [
        ("photo.png", "image/png", 104)]
    assert TicketAttachment.objects.get().file.read() == b"\x89PNG" + b"0" * 100
    note = ticket.entries.get(kind=EntryKind.NOTE_INTERNAL)
    assert note.visible_to_client is False
    assert note.body == (
        "Attachments refused from the email:\n"
        "- “big.pdf” was not attached: 4 KB is over the 1 KB limit.\n"
        "- “run.exe” was not attached: .exe files are not accepted.\n"
        "- “invoice.pdf.exe” was not attached: .exe files are not accepted.\n"
        "- “data.bin” was not attached: files of type application/octet-stream are not accepted.")
    # and staff see the kept file on the ticket page and download it
    http = HttpClient()
    http.force_login(make_staff("technician"))
    page = http.get(f"/tickets/{ticket.pk}/").content.decode()
    attachment = TicketAttachment.objects.get()
    url = reverse("servicedesk_email:attachment_download", args=[attachment.pk])
    assert f'<a href="{url}">photo.png</a>' in page
    download = http.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"\x89PNG" + b"0" * 100


def test_html_is_reduced_to_text_without_script() -> None:
    html = ("<html><head><style>p{}</style><script>steal()</script></head><body><p>Hello&nbsp;<b>team</b></p>"
            "<ul><li>one</li><li>two</li></ul><img src=x onerror=alert(1)><iframe>x</iframe></body></html>")
    assert html_to_text(html) == "Hello team\n\n- one\n\n- two"


@pytest.mark.parametrize("headers", [{"Auto_Submitted": "auto-replied"}, {"Precedence": "bulk"},
                                     {"X_Autoreply": "yes"}, {"List_Id": "<news.example>"}])
def test_automatic_messages_are_ignored(martin: Client, headers: dict[str, str]) -> None:
    record = apply_email(_raw(**headers))
    assert (record.status, Ticket.objects.count()) == ("ignored", 0)


@override_settings(TENFOLD_MAIL_ADDRESS="support@msp.test")
def test_our_own_mail_coming_back_is_ignored(martin: Client) -> None:
    assert apply_email(_raw(sender="support@msp.test")).status == "ignored"


def test_a_reply_to_a_closed_ticket_opens_a_new_one(martin: Client) -> None:
    apply_email(_raw())
    ticket = Ticket.objects.get()
    Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.CLOSED)
    apply_email(_raw(subject=f"Re: [{ticket.number}] Help", mid="<x2@martin.test>", In_Reply_To="<x1@martin.test>"))
    assert Ticket.objects.count() == 2


def test_parse_without_message_id_gets_a_stable_one() -> None:
    raw = b"From: a@b.test\r\nSubject: x\r\n\r\nbody\r\n"
    assert parse_email(raw).message_id == parse_email(raw).message_id
    assert parse_email(raw).message_id.endswith("@tenfold.invalid>")


@pytest.mark.django_db(transaction=True)
def test_smtp_receiving_opens_a_ticket_and_refuses_other_recipients() -> None:
    client = Client.objects.create(name="Boulangerie Martin", status="active")
    Contact.objects.create(client=client, first_name="Alice", last_name="Martin", email="alice@martin.test")
    port = free_port()
    controller = smtp_controller("127.0.0.1", port, accept={"support@msp.test"})
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            refused = smtp.sendmail("alice@martin.test", ["support@msp.test", "nobody@msp.test"],
                                    _raw(subject="Over SMTP", mid="<smtp1@martin.test>"))
    finally:
        controller.stop()
    assert list(refused) == ["nobody@msp.test"]
    ticket = Ticket.objects.get()
    assert (ticket.client, ticket.title) == (client, "Over SMTP")
    assert InboundEmail.objects.get().channel == "smtp"


def test_a_nul_in_the_subject_body_or_names_is_dropped_and_the_ticket_opened(martin: Client) -> None:
    # given a message whose subject, sender name and body carry NUL characters (PostgreSQL cannot store them)
    raw = (b"From: =?utf-8?q?Alice=00_Martin?= <alice@martin.test>\r\nTo: support@msp.test\r\n"
           b"Subject: =?utf-8?q?Printer=00_down?=\r\nMessage-ID: <nul-1@martin.test>\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"It stopped=00 at nine.\r\n")
    # when it is applied
    record = apply_email(raw)
    # then the ticket opens with the text minus the NULs, nothing lost but them
    ticket = Ticket.objects.get()
    assert (record.status, record.subject, record.sender_name) == ("created", "Printer down", "Alice Martin")
    assert (ticket.title, ticket.description.strip()) == ("Printer down", "It stopped at nine.")
