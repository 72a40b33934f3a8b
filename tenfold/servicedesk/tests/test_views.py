"""Service desk screens end to end with real users: the ticket list (search, filters, sort, pages, query budget),
forms with errors, forged ids, bulk actions, stored-XSS attempts, merge, watchers, checklist, timer, approval."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from tenfold.accounts.testing import make_staff
from tenfold.assets.models import Device
from tenfold.clients.models import Client, Contact
from tenfold.core.models import AuditEntry, OutboxEvent
from tenfold.core.roles import Role
from tenfold.servicedesk import services
from tenfold.servicedesk.models import Queue, Ticket, TicketChecklistItem, TicketEntry, TimeEntry
from tenfold.servicedesk.tests.factories import make_client

pytestmark = pytest.mark.django_db

NUMBER_CELL = re.compile(r'data-col="number"><a href="[^"]*">([^<]+)</a>')


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def logged_in(user: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def numbers(response: Any) -> list[str]:
    assert response.status_code == 200
    return NUMBER_CELL.findall(response.content.decode())


def flashed(response: Any) -> str:
    """The message the request added (earlier ones wait in the session until a page shows them)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def ticket(client: Client, n: int, **fields: Any) -> Ticket:
    return Ticket.objects.create(client=client, number=f"T-{n:06d}", title=fields.pop("title", f"Ticket {n}"),
                                 **fields)


def state() -> tuple[Any, ...]:
    return (sorted(Ticket.objects.values_list("pk", "title", "priority", "status", "assignee_id", "client_id")),
            TicketEntry.objects.count(), AuditEntry.objects.count(), OutboxEvent.objects.count())


@pytest.fixture
def admin() -> Any:
    return make_staff(Role.ADMIN)


# --- The list -------------------------------------------------------------------------------------------


def test_list_searches_filters_and_sorts_with_exact_rows(admin: Any) -> None:
    # given two clients and five tickets of known priority, status, queue and assignee
    martin, durand = make_client("Boulangerie Martin"), make_client("Garage Durand")
    queue = Queue.objects.create(name="Onboarding")
    tech = make_staff(Role.TECHNICIAN)
    ticket(martin, 1, title="Printer jams", priority="p2", status="new")
    ticket(martin, 2, title="VPN drops", priority="p1", status="in_progress", assignee=tech)
    ticket(durand, 3, title="New laptop", priority="p3", status="new", queue=queue, type="request")
    ticket(durand, 4, title="Printer toner", priority="p4", status="resolved", description="Order toner")
    ticket(martin, 5, title="Mailbox full", priority="p2", status="waiting_client", tags="mail,vip")
    http = logged_in(admin)
    # then search covers title, description, tags and client name; filters and sort are exact
    assert numbers(http.get("/tickets/?q=printer&sort=number")) == ["T-000001", "T-000004"]
    assert numbers(http.get("/tickets/?q=toner")) == ["T-000004"]
    assert numbers(http.get("/tickets/?q=vip")) == ["T-000005"]
    assert numbers(http.get("/tickets/?q=durand&sort=-number")) == ["T-000004", "T-000003"]
    assert numbers(http.get("/tickets/?status=new&sort=number")) == ["T-000001", "T-000003"]
    assert numbers(http.get("/tickets/?priority=p2&sort=-number")) == ["T-000005", "T-000001"]
    assert numbers(http.get("/tickets/?type=request")) == ["T-000003"]
    assert numbers(http.get(f"/tickets/?queue={queue.pk}")) == ["T-000003"]
    assert numbers(http.get(f"/tickets/?assignee={tech.pk}")) == ["T-000002"]
    assert numbers(http.get(f"/tickets/?client={martin.pk}&sort=number")) == ["T-000001", "T-000002", "T-000005"]
    assert numbers(http.get(f"/tickets/?client={martin.pk}&priority=p2&sort=number")) == ["T-000001", "T-000005"]
    assert numbers(http.get("/tickets/?sort=-priority&status=new")) == ["T-000003", "T-000001"]
    assert numbers(http.get("/tickets/?sort=title")) == ["T-000005", "T-000003", "T-000001", "T-000004",
                                                         "T-000002"]
    assert numbers(http.get("/tickets/?sort=-title")) == ["T-000002", "T-000004", "T-000001", "T-000003",
                                                          "T-000005"]
    assert numbers(http.get("/tickets/?q=nothing-like-this")) == []


def test_list_paginates_at_50(admin: Any) -> None:
    # given 55 tickets of one client
    client = make_client()
    Ticket.objects.bulk_create([Ticket(client=client, number=f"T-{n:06d}", title=f"Ticket {n}")
                                for n in range(1, 56)])
    http = logged_in(admin)
    # when reading both pages sorted by number
    first = numbers(http.get("/tickets/?sort=number"))
    second = numbers(http.get("/tickets/?sort=number&page=2"))
    # then 50 then 5, in order, none twice
    assert first == [f"T-{n:06d}" for n in range(1, 51)]
    assert second == [f"T-{n:06d}" for n in range(51, 56)]


def test_mine_and_sla_filters(admin: Any) -> None:
    client = make_client()
    ticket(client, 1, assignee=admin)
    ticket(client, 2)
    ticket(client, 3, paused_at=utc(2026, 3, 2, 10, 0), status="waiting_client", assignee=admin,
           sla_started_at=utc(2026, 3, 2, 9, 0), resolution_due_at=utc(2026, 3, 4, 9, 0))
    http = logged_in(admin)
    assert numbers(http.get("/tickets/?mine=1&sort=number")) == ["T-000001", "T-000003"]
    assert numbers(http.get("/tickets/?sla=paused")) == ["T-000003"]


def test_restricted_technician_lists_only_assigned_clients_tickets() -> None:
    mine, other = make_client("Mine"), make_client("Other")
    ticket(mine, 1)
    ticket(other, 2, title="SECRET-OTHER")
    tech = make_staff(Role.TECHNICIAN, restricted=True, clients=[mine])
    response = logged_in(tech).get("/tickets/")
    assert numbers(response) == ["T-000001"]
    assert "SECRET-OTHER" not in response.content.decode()


def _list_queries(http: HttpClient) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert http.get("/tickets/").status_code == 200
    return len(captured)


def test_list_query_count_does_not_grow_with_tickets(admin: Any, django_assert_max_num_queries: Any) -> None:
    # given 3 tickets with queue, assignee, contact and client
    client = make_client()
    queue = Queue.objects.create(name="Desk")
    contact = Contact.objects.create(client=client, first_name="Ana", last_name="Lopez")
    for n in range(1, 4):
        ticket(client, n, queue=queue, assignee=admin, contact=contact)
    http = logged_in(admin)
    http.get("/tickets/")  # warm the session and caches
    few = _list_queries(http)
    # when 40 more tickets of other clients exist
    for n in range(4, 44):
        ticket(make_client(f"Client {n}"), n, queue=queue, assignee=admin, contact=contact)
    # then the page costs the same queries, within a fixed budget
    with django_assert_max_num_queries(20):
        many = _list_queries(http)
    assert many == few


def _detail_queries(http: HttpClient, pk: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert http.get(f"/tickets/{pk}/").status_code == 200
    return len(captured)


def test_detail_query_count_does_not_grow_with_the_timeline(admin: Any, django_assert_max_num_queries: Any) -> None:
    # given a ticket with two replies, a checklist step, a time entry and a watcher
    client = make_client()
    tech = make_staff(Role.TECHNICIAN)
    t = services.ticket_create(actor=admin, client=client, data={"title": "Slow PC"})
    TicketChecklistItem.objects.create(client=client, ticket=t, position=1, text="Reboot", done_by=tech,
                                       done_at=utc(2026, 3, 2, 10, 0))
    services.ticket_reply(actor=tech, ticket=t, body="First", public=True)
    services.time_entry_create(actor=tech, ticket=t, data={"actual_minutes": 10})
    http = logged_in(admin)
    http.get(f"/tickets/{t.pk}/")
    few = _detail_queries(http, t.pk)
    # when 20 more replies, steps and time entries by several people are added
    for n in range(20):
        author = make_staff(Role.TECHNICIAN)
        services.ticket_reply(actor=author, ticket=t, body=f"Reply {n}", public=n % 2 == 0)
        TicketChecklistItem.objects.create(client=client, ticket=t, position=n + 2, text=f"Step {n}",
                                           done_by=author, done_at=utc(2026, 3, 2, 10, n))
        services.time_entry_create(actor=author, ticket=t, data={"actual_minutes": 5})
        t.watchers.add(author)
    # then the page costs the same queries, within a fixed budget
    with django_assert_max_num_queries(40):
        many = _detail_queries(http, t.pk)
    assert many == few


# --- Forms ----------------------------------------------------------------------------------------------


def test_create_form_shows_errors_then_opens_the_ticket(admin: Any) -> None:
    client = make_client()
    contact = Contact.objects.create(client=client, first_name="Ana", last_name="Lopez")
    device = Device.objects.create(client=client, name="PC-ANA")
    http = logged_in(admin)
    base = {"client": client.pk, "title": "", "description": "", "priority": "p3", "type": "incident",
            "queue": "", "assignee": "", "contact": "", "tags": "", "due_at": "", "contract": "", "template": ""}
    # when the title is missing and no template is chosen, or the priority is unknown
    missing = http.post("/tickets/new/", base)
    bad_priority = http.post("/tickets/new/", {**base, "title": "x", "priority": "p9"})
    # then the form comes back with the message beside the field, and nothing is created
    assert missing.status_code == 422
    assert "Give the ticket a title or choose a template." in missing.content.decode()
    assert bad_priority.status_code == 422
    assert "Select a valid choice. p9 is not one of the available choices." in bad_priority.content.decode()
    assert Ticket.objects.count() == 0
    # when it is complete
    response = http.post("/tickets/new/", {**base, "title": "Printer jams", "contact": contact.pk,
                                           "devices": [device.pk], "tags": "Printer, vip", "priority": "p2"})
    # then the ticket exists with these values and the page is the ticket's
    created = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/tickets/{created.pk}/"
    assert (created.title, created.priority, created.contact_id, created.tags, created.created_by_id) == (
        "Printer jams", "p2", contact.pk, "printer,vip", admin.pk)
    assert list(created.devices.values_list("pk", flat=True)) == [device.pk]
    assert flashed(response) == "Ticket opened."


def test_edit_form_shows_errors_and_saves(admin: Any) -> None:
    client = make_client()
    t = services.ticket_create(actor=admin, client=client, data={"title": "Old title"})
    http = logged_in(admin)
    body = {"title": "", "description": "", "priority": "p3", "type": "incident", "queue": "", "assignee": "",
            "contact": "", "tags": "", "due_at": "", "contract": ""}
    empty = http.post(f"/tickets/{t.pk}/edit/", body)
    assert empty.status_code == 422
    assert "This field is required." in empty.content.decode()
    assert Ticket.objects.get(pk=t.pk).title == "Old title"
    saved = http.post(f"/tickets/{t.pk}/edit/", {**body, "title": "New title", "priority": "p1"})
    assert saved.status_code == 302
    assert Ticket.objects.filter(pk=t.pk).values_list("title", "priority").get() == ("New title", "p1")


def test_forged_client_of_a_restricted_technician_is_refused_and_nothing_is_created() -> None:
    mine, other = make_client("Mine"), make_client("Other")
    tech = make_staff(Role.TECHNICIAN, restricted=True, clients=[mine])
    before = state()
    response = logged_in(tech).post("/tickets/new/", {"client": other.pk, "title": "Forged", "priority": "p3",
                                                      "type": "incident"})
    assert response.status_code == 422
    assert "Select a valid choice. That choice is not one of the available choices." in response.content.decode()
    assert state() == before


@pytest.mark.parametrize("forged", ["contact", "devices", "contract_device_mix"])
def test_forged_contact_or_device_of_another_client_is_refused(admin: Any, forged: str) -> None:
    # given a contact and a device of another client
    mine, other = make_client("Mine"), make_client("Other")
    foreign_contact = Contact.objects.create(client=other, first_name="Eve", last_name="Other")
    foreign_device = Device.objects.create(client=other, name="OTHER-PC")
    own_device = Device.objects.create(client=mine, name="MINE-PC")
    body: dict[str, Any] = {"client": mine.pk, "title": "Forged", "priority": "p3", "type": "incident"}
    if forged == "contact":
        body["contact"] = foreign_contact.pk
    elif forged == "devices":
        body["devices"] = [foreign_device.pk]
    else:
        body["devices"] = [own_device.pk, foreign_device.pk]
    before = state()
    # when the form names them on a ticket of the first client
    response = logged_in(admin).post("/tickets/new/", body)
    # then the field is in error and nothing is created
    assert response.status_code == 422
    assert "Select a valid choice." in response.content.decode()
    assert state() == before


def test_forged_contact_on_edit_is_refused(admin: Any) -> None:
    mine, other = make_client("Mine"), make_client("Other")
    foreign_contact = Contact.objects.create(client=other, first_name="Eve", last_name="Other")
    t = services.ticket_create(actor=admin, client=mine, data={"title": "Keep"})
    before = state()
    response = logged_in(admin).post(f"/tickets/{t.pk}/edit/", {
        "title": "Changed", "priority": "p3", "type": "incident", "contact": foreign_contact.pk})
    assert response.status_code == 422
    assert state() == before


# --- Bulk -----------------------------------------------------------------------------------------------


def test_bulk_changes_the_selected_tickets(admin: Any) -> None:
    client = make_client()
    one, two = ticket(client, 1), ticket(client, 2)
    ticket(client, 3)
    response = logged_in(admin).post("/tickets/bulk/", {"ticket": [one.pk, two.pk], "priority": "p1",
                                                        "assignee": admin.pk})
    assert response.status_code == 302
    assert flashed(response) == "2 ticket(s) updated."
    assert sorted(Ticket.objects.values_list("number", "priority", "assignee_id")) == [
        ("T-000001", "p1", admin.pk), ("T-000002", "p1", admin.pk), ("T-000003", "p3", None)]


@pytest.mark.parametrize("forged", ["other_client", "missing", "garbage"])
def test_bulk_with_a_ticket_the_user_cannot_see_is_refused_and_changes_nothing(forged: str) -> None:
    # given a technician restricted to one client, a ticket of theirs and one of another client
    mine, other = make_client("Mine"), make_client("Other")
    own = ticket(mine, 1)
    foreign = ticket(other, 2)
    tech = make_staff(Role.TECHNICIAN, restricted=True, clients=[mine])
    bad = {"other_client": str(foreign.pk), "missing": "999999", "garbage": "1 OR 1=1"}[forged]
    before = state()
    # when the bulk form carries their own ticket and the forged id
    response = logged_in(tech).post("/tickets/bulk/", {"ticket": [own.pk, bad], "priority": "p1"})
    # then the whole action is refused with a clear message, and nothing changed
    assert response.status_code == 302
    assert flashed(response) == "Some of the selected tickets cannot be changed by you: nothing was changed."
    assert state() == before


def test_bulk_with_nothing_selected_says_so(admin: Any) -> None:
    response = logged_in(admin).post("/tickets/bulk/", {"priority": "p1"})
    assert flashed(response) == "Select at least one ticket."


# --- Stored XSS -----------------------------------------------------------------------------------------

SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'
JS_LINK = "[click me](javascript:alert(2))"
RAW_JS_LINK = '<a href="javascript:alert(3)">raw</a>'


def test_stored_xss_in_title_description_replies_and_notes_is_inert(admin: Any) -> None:
    # given a ticket whose every text carries scripts, handlers and javascript: links
    client = make_client()
    t = services.ticket_create(actor=admin, client=client, data={
        "title": f"Broken {SCRIPT}", "description": f"{IMG}\n\n{JS_LINK}\n\n{RAW_JS_LINK}\n\n[ok](https://example.org/x)"})
    services.ticket_reply(actor=admin, ticket=t, body=f"Reply {SCRIPT} {IMG}", public=True)
    services.ticket_reply(actor=admin, ticket=t, body=f"Note {JS_LINK}", public=False)
    # when the detail page renders
    html = logged_in(admin).get(f"/tickets/{t.pk}/").content.decode()
    # then no script tag, no event handler, no javascript: URL survives; the title is shown escaped
    assert SCRIPT not in html
    assert "<script>alert" not in html
    assert "Broken &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert re.search(r"<img[^>]*onerror", html) is None
    assert re.search(r"""<a[^>]*href=["']?\s*javascript:""", html, re.IGNORECASE) is None
    assert '<p>&lt;a href="javascript:alert(3)"&gt;raw&lt;/a&gt;</p>' in html
    # and the safe Markdown link is kept
    assert 'href="https://example.org/x"' in html


def test_stored_xss_in_the_ticket_list_is_escaped(admin: Any) -> None:
    ticket(make_client(), 1, title=SCRIPT)
    html = logged_in(admin).get("/tickets/").content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


# --- Merge, watchers, checklist -------------------------------------------------------------------------


def test_merge_by_number_closes_the_duplicate(admin: Any) -> None:
    client = make_client()
    target = services.ticket_create(actor=admin, client=client, data={"title": "Printer"})
    duplicate = services.ticket_create(actor=admin, client=client, data={"title": "Printer again"})
    http = logged_in(admin)
    unknown = http.post(f"/tickets/{duplicate.pk}/merge/", {"target": "T-999999"})
    assert flashed(unknown) == "No ticket T-999999 of this client."
    assert Ticket.objects.get(pk=duplicate.pk).merged_into_id is None
    response = http.post(f"/tickets/{duplicate.pk}/merge/", {"target": target.number})
    assert flashed(response) == "Ticket merged."
    merged = Ticket.objects.get(pk=duplicate.pk)
    assert (merged.merged_into_id, merged.status) == (target.pk, "closed")
    assert list(TicketEntry.objects.filter(ticket=target, kind="merge").values_list("body", flat=True)) == [
        f"{duplicate.number} (Printer again) was merged into this ticket."]


def test_merge_into_another_clients_ticket_is_refused(admin: Any) -> None:
    mine, other = make_client("Mine"), make_client("Other")
    source = services.ticket_create(actor=admin, client=mine, data={"title": "Mine"})
    foreign = services.ticket_create(actor=admin, client=other, data={"title": "Theirs"})
    before = state()
    response = logged_in(admin).post(f"/tickets/{source.pk}/merge/", {"target": foreign.number})
    assert flashed(response) == "Choose a ticket of the same client."
    assert state() == before


def test_watch_and_unwatch(admin: Any) -> None:
    tech = make_staff(Role.TECHNICIAN)
    t = services.ticket_create(actor=admin, client=make_client(), data={"title": "Watch me"})
    http = logged_in(tech)
    watched = http.post(f"/tickets/{t.pk}/watch/", {"watching": "1"})
    assert flashed(watched) == "You watch this ticket."
    assert sorted(t.watchers.values_list("pk", flat=True)) == sorted([admin.pk, tech.pk])
    assert 'data-testid="watch">Stop watching' in http.get(f"/tickets/{t.pk}/").content.decode()
    http.post(f"/tickets/{t.pk}/watch/", {"watching": "0"})
    assert list(t.watchers.values_list("pk", flat=True)) == [admin.pk]


def test_ticking_a_step_records_who_and_when(admin: Any) -> None:
    client = make_client()
    t = services.ticket_create(actor=admin, client=client, data={"title": "Set up"})
    step = TicketChecklistItem.objects.create(client=client, ticket=t, position=1, text="Join the domain")
    with time_machine.travel(utc(2026, 3, 2, 10, 15), tick=False):
        http = logged_in(make_staff(Role.TECHNICIAN, first_name="Lea", last_name="Petit"))
        response = http.post(f"/tickets/checklist/{step.pk}/", {"done": "1"})
        page = http.get(f"/tickets/{t.pk}/").content.decode()
        step.refresh_from_db()
        assert flashed(response) == "Step ticked."
        assert (step.done_by.get_full_name(), step.done_at) == ("Lea Petit", utc(2026, 3, 2, 10, 15))
        assert re.search(r"Join the domain.*?— Lea Petit", page, re.DOTALL) is not None
        http.post(f"/tickets/checklist/{step.pk}/", {"done": "0"})
    step.refresh_from_db()
    assert (step.done_by_id, step.done_at) == (None, None)


def test_a_read_only_role_cannot_tick_a_step() -> None:
    admin = make_staff(Role.ADMIN)
    client = make_client()
    t = services.ticket_create(actor=admin, client=client, data={"title": "Set up"})
    step = TicketChecklistItem.objects.create(client=client, ticket=t, position=1, text="Join the domain")
    response = logged_in(make_staff(Role.FINANCE)).post(f"/tickets/checklist/{step.pk}/", {"done": "1"})
    assert response.status_code == 403
    assert TicketChecklistItem.objects.filter(pk=step.pk, done_at__isnull=True).exists()


# --- Timer and approval ---------------------------------------------------------------------------------


def test_timer_start_and_stop_makes_an_entry(admin: Any) -> None:
    t = services.ticket_create(actor=admin, client=make_client(), data={"title": "Timed"})
    with time_machine.travel(utc(2026, 3, 2, 9, 0), tick=False) as clock:
        tech = make_staff(Role.TECHNICIAN)
        http = logged_in(tech)
        started = http.post(f"/tickets/{t.pk}/timer/")
        assert flashed(started) == "Timer started."
        again = http.post(f"/tickets/{t.pk}/timer/")
        assert flashed(again) == "You already have a running timer: stop it first."
        entry = TimeEntry.objects.get()
        assert (entry.user_id, entry.is_running, entry.started_at) == (tech.pk, True, utc(2026, 3, 2, 9, 0))
        assert 'data-testid="timer-running"' in http.get(f"/tickets/{t.pk}/").content.decode()
        # another technician cannot stop it
        other = logged_in(make_staff(Role.TECHNICIAN)).post(f"/tickets/time/{entry.pk}/stop/")
        assert other.status_code == 404
        clock.move_to(utc(2026, 3, 2, 9, 25, 30))
        stopped = http.post(f"/tickets/time/{entry.pk}/stop/", {"notes": "Replaced the drum"})
        assert flashed(stopped) == "Timer stopped."
    entry.refresh_from_db()
    assert (entry.is_running, entry.ended_at, entry.actual_minutes, entry.notes) == (
        False, utc(2026, 3, 2, 9, 25, 30), 26, "Replaced the drum")


def test_time_form_errors(admin: Any) -> None:
    t = services.ticket_create(actor=admin, client=make_client(), data={"title": "Timed"})
    response = logged_in(admin).post(f"/tickets/{t.pk}/time/", {"actual_minutes": "-5", "work_type": "remote"})
    assert flashed(response) == "Enter between 1 and 1440 minutes."
    assert TimeEntry.objects.count() == 0


def _pending_entry(admin: Any) -> TimeEntry:
    t = services.ticket_create(actor=admin, client=make_client("Approval SARL"), data={"title": "Billable"})
    entry = services.time_entry_create(actor=admin, ticket=t, data={"actual_minutes": 30, "billable": True,
                                                                    "coverage": "out_of_scope"})
    assert entry.approval_status == "pending"
    return entry


@pytest.mark.parametrize(("role", "may"), [
    (Role.OWNER, True), (Role.ADMIN, True), (Role.SERVICE_MANAGER, True), (Role.FINANCE, True),
    (Role.TECHNICIAN, False), (Role.ACCOUNT_MANAGER, False)])
def test_who_may_approve_time(admin: Any, role: str, may: bool) -> None:
    # given billable time awaiting approval
    entry = _pending_entry(admin)
    http = logged_in(make_staff(role))
    # the queue and the approval follow roles.md: owner, admin, service manager and finance
    queue = http.get("/tickets/time/approval/")
    response = http.post(f"/tickets/time/{entry.pk}/approve/")
    entry.refresh_from_db()
    if may:
        assert queue.status_code == 200 and f'data-testid="approval-{entry.pk}"' in queue.content.decode()
        assert response.status_code == 302 and flashed(response) == "Time approved."
        assert entry.approval_status == "approved" and entry.approved_at is not None
    else:
        assert (queue.status_code, response.status_code) == (403, 403)
        assert (entry.approval_status, entry.approved_by_id) == ("pending", None)


def test_rejecting_time_needs_a_reason(admin: Any) -> None:
    entry = _pending_entry(admin)
    http = logged_in(make_staff(Role.SERVICE_MANAGER))
    empty = http.post(f"/tickets/time/{entry.pk}/reject/", {"reason": ""})
    entry.refresh_from_db()
    assert entry.approval_status == "pending"
    assert flashed(empty) == "Say why the time is rejected."
    done = http.post(f"/tickets/time/{entry.pk}/reject/", {"reason": "Covered by the contract"})
    entry.refresh_from_db()
    assert flashed(done) == "Time rejected."
    assert (entry.approval_status, entry.rejection_reason) == ("rejected", "Covered by the contract")


def test_a_nul_in_a_posted_note_is_a_clear_400_and_nothing_is_written(admin: Any) -> None:
    # given a ticket (a view that reads the posted note itself, without a Django form)
    ticket = services.ticket_create(actor=admin, client=make_client(), data={"title": "Firewall"})
    entries = TicketEntry.objects.count()
    # when a note holding a NUL is posted (PostgreSQL can neither store nor compare it)
    response = logged_in(admin).post(f"/tickets/{ticket.pk}/opportunity/", {"note": "Needs\x00 a new one"})
    # then 400 with the reason, and the ticket is unchanged
    assert (response.status_code, response.json()) == (400, {
        "code": "bad_request", "message": "Form fields cannot contain NUL characters."})
    ticket.refresh_from_db()
    assert (ticket.opportunity_flagged, ticket.opportunity_note, TicketEntry.objects.count()) == (False, "", entries)
    # and the same note without it is taken
    assert logged_in(admin).post(f"/tickets/{ticket.pk}/opportunity/", {"note": "Needs a new one"}).status_code == 302
    ticket.refresh_from_db()
    assert (ticket.opportunity_flagged, ticket.opportunity_note) == (True, "Needs a new one")
