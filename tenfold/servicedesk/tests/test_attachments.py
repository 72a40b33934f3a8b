"""Files attached from the portal (opening a ticket, replying) and from the staff pages (reply or internal note):
the email channel's limits (size, allowed types, blocked extensions) plus a content check; a refused file is
named beside the field and nothing is written; files are stored like email attachments and shown to whom
may see them."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse

from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.clients.models import Client, Contact
from tenfold.core.errors import NotFound, ValidationError
from tenfold.core.models import AuditEntry
from tenfold.servicedesk import selectors, services
from tenfold.servicedesk.attachments import FileInput
from tenfold.servicedesk.models import Ticket, TicketEntry
from tenfold.servicedesk.models_email import TicketAttachment

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _stored_files() -> list[str]:
    """Every file under the attachments' folder of the storage."""
    found: list[str] = []

    def walk(path: str) -> None:
        if not default_storage.exists(path):
            return
        dirs, files = default_storage.listdir(path)
        found.extend(f"{path}/{f}" for f in files)
        for d in dirs:
            walk(f"{path}/{d}")

    walk("tickets")
    return found


def _world() -> dict[str, Any]:
    client = Client.objects.create(name="Boulangerie Martin", status="active")
    other = Client.objects.create(name="Garage Dupont", status="active")
    alice = Contact.objects.create(client=client, first_name="Alice", last_name="Martin", email="alice@martin.test")
    tech = make_staff("technician", first_name="Thomas", last_name="Tech")
    portal_user = make_portal_user(client, "portal_user", contact=alice)
    ticket = services.ticket_create(actor=portal_user, client=client, data={
        "title": "Printer offline", "description": "The shop printer is offline.", "type": "incident",
        "priority": "p3"})
    foreign = services.ticket_create(actor=tech, client=other, data={
        "title": "Garage server", "description": "Slow.", "type": "incident", "priority": "p3"})
    portal = HttpClient()
    portal.force_login(portal_user)
    staff = HttpClient()
    staff.force_login(tech)
    return {"client": client, "other": other, "alice": alice, "tech": tech, "portal_user": portal_user,
            "ticket": ticket, "foreign": foreign, "portal": portal, "staff": staff}


def _new_ticket(http: HttpClient, *files: SimpleUploadedFile) -> Any:
    return http.post("/portal/tickets/new/", {"title": "Broken screen", "description": "See the photo.",
                                              "type": "incident", "priority": "p3", "attachments": list(files)})


def test_portal_user_opens_a_ticket_with_a_photo_that_staff_and_portal_then_see() -> None:
    # given a portal user
    w = _world()

    # when they open a ticket with a photo and a PDF (the browser declaring a wrong type for the photo)
    response = _new_ticket(w["portal"], SimpleUploadedFile("screen.png", PNG, content_type="application/x-whatever"),
                           SimpleUploadedFile("invoice.pdf", PDF, content_type="application/pdf"))

    # then the ticket is opened with both files stored like email attachments, typed by name and content
    assert response.status_code == 302, response.content.decode()
    ticket = Ticket.objects.get(title="Broken screen")
    files = list(TicketAttachment.objects.filter(ticket=ticket).order_by("pk"))
    assert [(f.filename, f.content_type, f.size, f.entry_id, f.client_id) for f in files] == [
        ("screen.png", "image/png", len(PNG), None, w["client"].pk),
        ("invoice.pdf", "application/pdf", len(PDF), None, w["client"].pk)]
    assert files[0].file.name.startswith("tickets/") and files[0].file.read() == PNG
    audit = AuditEntry.objects.get(action="ticket.attached", object_id=str(ticket.pk))
    assert (audit.actor_id, audit.changes) == (w["portal_user"].pk, {"files": ["screen.png", "invoice.pdf"],
                                                                     "entry_id": None})

    # and both the portal and the staff see the files and can download them
    portal_page = w["portal"].get(f"/portal/tickets/{ticket.pk}/").content.decode()
    staff_page = w["staff"].get(f"/tickets/{ticket.pk}/").content.decode()
    url = reverse("servicedesk_email:attachment_download", args=[files[0].pk])
    assert "screen.png" in portal_page and "invoice.pdf" in portal_page and url in portal_page
    assert "screen.png" in staff_page and url in staff_page
    for http in (w["portal"], w["staff"]):
        download = http.get(url)
        assert download.status_code == 200 and b"".join(download.streaming_content) == PNG


@pytest.mark.parametrize(("upload", "message"), [
    (SimpleUploadedFile("setup.exe", b"MZ\x90\x00" + b"\x00" * 60, content_type="image/png"),
     "“setup.exe” was not attached: .exe files are not accepted."),
    (SimpleUploadedFile("holiday.png", b"MZ\x90\x00this is a program", content_type="image/png"),
     "“holiday.png” was not attached: its content does not match its type (image/png)."),
    (SimpleUploadedFile("notes.rtf", b"{\\rtf1 hello}", content_type="text/plain"),
     "“notes.rtf” was not attached: files of type application/rtf are not accepted."),
])
def test_a_refused_file_refuses_the_new_ticket_beside_the_field_and_nothing_is_created(
        upload: SimpleUploadedFile, message: str) -> None:
    # given a portal user and what is already stored
    w = _world()
    tickets, files, stored = Ticket.objects.count(), TicketAttachment.objects.count(), _stored_files()

    # when they open a ticket with a good photo and a refused file
    response = _new_ticket(w["portal"], SimpleUploadedFile("screen.png", PNG), upload)

    # then the form comes back with the reason beside the attachments field; no ticket, no file, no audit
    page = response.content.decode()
    assert response.status_code == 400
    assert f'<small class="error" role="alert">{message}</small>' in page.replace("&quot;", '"')
    assert (Ticket.objects.count(), TicketAttachment.objects.count(), _stored_files()) == (tickets, files, stored)
    assert not AuditEntry.objects.filter(action__in=["ticket.created", "ticket.attached"],
                                         actor_id=w["portal_user"].pk).exclude(
        object_id=str(w["ticket"].pk)).exists()


@override_settings(TENFOLD_MAIL_MAX_ATTACHMENT_BYTES=2048)
def test_an_oversized_file_is_refused_with_the_limit_named() -> None:
    # given the size limit lowered to 2 KB
    w = _world()
    stored = _stored_files()
    big = SimpleUploadedFile("scan.pdf", PDF + b"0" * 3000)

    # when a portal user replies with a 3 KB file
    response = w["portal"].post(f"/portal/tickets/{w['ticket'].pk}/reply/", {"body": "The scan.", "attachments": [big]})

    # then the reply page comes back with the size and the limit beside the field; no reply, no file
    assert response.status_code == 400
    assert "“scan.pdf” was not attached: 2 KB is over the 2 KB limit." not in response.content.decode()
    assert "“scan.pdf” was not attached: 3 KB is over the 2 KB limit." in response.content.decode()
    assert "The scan." in response.content.decode()  # what they wrote is kept
    assert not TicketEntry.objects.filter(body="The scan.").exists()
    assert (TicketAttachment.objects.count(), _stored_files()) == (0, stored)


def test_portal_reply_with_a_file_attaches_it_to_the_reply() -> None:
    # given a ticket of the portal user
    w = _world()

    # when they reply with a PDF
    response = w["portal"].post(f"/portal/tickets/{w['ticket'].pk}/reply/", {
        "body": "Here is the error report.", "attachments": [SimpleUploadedFile("report.pdf", PDF)]})

    # then the reply carries the file, which staff and the portal see
    assert response.status_code == 302
    entry = TicketEntry.objects.get(ticket=w["ticket"], body="Here is the error report.")
    item = TicketAttachment.objects.get(ticket=w["ticket"])
    assert (item.entry_id, item.filename, item.content_type, entry.visible_to_client) == (
        entry.pk, "report.pdf", "application/pdf", True)
    assert "report.pdf" in w["staff"].get(f"/tickets/{w['ticket'].pk}/").content.decode()
    assert "report.pdf" in w["portal"].get(f"/portal/tickets/{w['ticket'].pk}/").content.decode()


def test_a_forged_ticket_of_another_client_is_404_and_nothing_is_stored() -> None:
    # given a portal user and another client's ticket
    w = _world()
    entries, stored = TicketEntry.objects.count(), _stored_files()

    # when they post a reply with a file to the other client's ticket
    response = w["portal"].post(f"/portal/tickets/{w['foreign'].pk}/reply/", {
        "body": "Let me in.", "attachments": [SimpleUploadedFile("report.pdf", PDF)]})

    # then: not found, and nothing written
    assert response.status_code == 404
    assert (TicketEntry.objects.count(), TicketAttachment.objects.count(), _stored_files()) == (entries, 0, stored)


def test_staff_attach_files_to_a_note_that_stays_staff_only() -> None:
    # given a technician on a portal user's ticket
    w = _world()

    # when they add an internal note with a screenshot, then a public reply with a PDF
    note = w["staff"].post(f"/tickets/{w['ticket'].pk}/reply/", {
        "body": "Driver log attached.", "attachments": [SimpleUploadedFile("driver.png", PNG)]})
    reply = w["staff"].post(f"/tickets/{w['ticket'].pk}/reply/", {
        "body": "Here is the procedure.", "public": "on", "attachments": [SimpleUploadedFile("procedure.pdf", PDF)]})

    # then both are stored on their entries; the portal sees the public one only, and cannot fetch the other
    assert (note.status_code, reply.status_code) == (302, 302)
    internal = TicketAttachment.objects.get(filename="driver.png")
    public = TicketAttachment.objects.get(filename="procedure.pdf")
    assert (internal.entry.visible_to_client, public.entry.visible_to_client) == (False, True)
    staff_page = w["staff"].get(f"/tickets/{w['ticket'].pk}/").content.decode()
    assert "driver.png" in staff_page and "procedure.pdf" in staff_page
    portal_page = w["portal"].get(f"/portal/tickets/{w['ticket'].pk}/").content.decode()
    assert "procedure.pdf" in portal_page and "driver.png" not in portal_page
    assert w["portal"].get(reverse("servicedesk_email:attachment_download", args=[internal.pk])).status_code == 404
    assert w["portal"].get(reverse("servicedesk_email:attachment_download", args=[public.pk])).status_code == 200


def test_staff_reply_with_a_refused_file_shows_the_error_and_writes_nothing() -> None:
    # given a technician on a ticket
    w = _world()
    entries, stored = TicketEntry.objects.count(), _stored_files()

    # when they send a reply with a script
    response = w["staff"].post(f"/tickets/{w['ticket'].pk}/reply/", {
        "body": "Run this.", "public": "on", "attachments": [SimpleUploadedFile("fix.ps1", b"Remove-Item C:\\")]})

    # then the page comes back with the reason beside the field and the text kept; nothing written
    page = response.content.decode()
    assert response.status_code == 400
    assert "“fix.ps1” was not attached: .ps1 files are not accepted." in page and "Run this." in page
    assert (TicketEntry.objects.count(), TicketAttachment.objects.count(), _stored_files()) == (entries, 0, stored)


def test_the_service_refuses_every_file_when_one_is_wrong_and_scopes_by_ticket() -> None:
    # given a ticket and a technician restricted to another client
    w = _world()
    outsider = make_staff("technician", mfa=False, clients=[w["other"]], restricted=True)

    # when the service is given a good file and a disguised one
    with pytest.raises(ValidationError) as refused:
        services.ticket_attach(actor=w["tech"], ticket=w["ticket"], files=[
            FileInput("ok.png", "image/png", PNG), FileInput("fake.pdf", "application/pdf", b"MZ not a pdf")])

    # then nothing is stored and the reason names the disguised file
    assert refused.value.errors == {"attachments": [
        "“fake.pdf” was not attached: its content does not match its type (application/pdf)."]}
    assert TicketAttachment.objects.count() == 0
    # and a technician of another client does not reach the ticket at all
    with pytest.raises(NotFound):
        selectors.access_ticket(outsider, w["ticket"].pk)
    assert w["portal"].get(reverse("servicedesk_email:attachment_download", args=[999999])).status_code == 404
