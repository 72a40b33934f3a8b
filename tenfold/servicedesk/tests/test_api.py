"""The service desk API: every operation's happy path with exact bodies, bad input (types, unknown fields,
negative durations, oversized bodies, forged ids of another client) and the OpenAPI schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client as HttpClient

from tenfold.accounts import testing
from tenfold.accounts.testing import make_staff
from tenfold.assets.models import Device
from tenfold.clients.models import Client, Contact
from tenfold.core.models import AuditEntry, OutboxEvent
from tenfold.core.roles import Role
from tenfold.servicedesk.models import (
    Queue,
    RecurringTicket,
    Ticket,
    TicketChecklistItem,
    TicketEntry,
    TicketTemplate,
    TimeEntry,
)
from tenfold.servicedesk.tests.factories import make_client

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW_ISO = "2026-03-02T09:00:00Z"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


class Api:
    """Django's test client with a user's bearer token, speaking JSON."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.headers = testing.bearer(testing.make_api_token(user))
        self.http = HttpClient()

    def get(self, path: str) -> Any:
        return self.http.get(path, **self.headers)

    def send(self, method: str, path: str, body: Any = None, raw: bytes | None = None) -> Any:
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return getattr(self.http, method)(path, data=data, content_type="application/json", **self.headers)

    def post(self, path: str, body: Any = None, raw: bytes | None = None) -> Any:
        return self.send("post", path, body, raw)

    def patch(self, path: str, body: Any) -> Any:
        return self.send("patch", path, body)

    def delete(self, path: str) -> Any:
        return self.send("delete", path)


def pick(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: body[key] for key in keys}


def snapshot() -> tuple[Any, ...]:
    """Everything the service desk writes, to prove a refused request changed nothing."""
    models = (Ticket, TicketEntry, TicketChecklistItem, TimeEntry, Queue, TicketTemplate, RecurringTicket)
    return (*(sorted(json.dumps(row, sort_keys=True, default=str) for row in m.objects.values()) for m in models),
            AuditEntry.objects.count(), OutboxEvent.objects.count())


@pytest.fixture
def admin() -> Any:
    return make_staff(Role.ADMIN)


@pytest.fixture
def api(admin: Any) -> Api:
    return Api(admin)


@pytest.fixture
def client() -> Client:
    return make_client("Boulangerie Martin")


def open_ticket(api: Api, client: Client, **fields: Any) -> dict[str, Any]:
    response = api.post("/api/v1/tickets", {"client_id": client.pk, "title": "Printer jams", **fields})
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


# --- Tickets --------------------------------------------------------------------------------------------


def test_open_get_change_and_delete_a_ticket(api: Api, admin: Any, client: Client) -> None:
    # given a contact and a device of the client
    contact = Contact.objects.create(client=client, first_name="Ana", last_name="Lopez")
    device = Device.objects.create(client=client, name="PC-ANA")
    # when a ticket is opened with them
    created = open_ticket(api, client, description="Paper jam in tray 2", priority="p2", type="incident",
                          contact_id=contact.pk, device_ids=[device.pk], tags=["Printer", "vip"])
    # then the answer is exact
    pk = created["id"]
    assert created == {
        "id": pk, "number": f"T-{pk:06d}", "client_id": client.pk, "contact_id": contact.pk, "device_ids": [device.pk],
        "title": "Printer jams", "description": "Paper jam in tray 2", "priority": "p2", "type": "incident",
        "status": "new", "queue_id": None, "assignee_id": None, "watcher_ids": [admin.pk],
        "tags": ["printer", "vip"], "due_at": None, "source": "api", "contract_id": None, "alert_id": None,
        "template_id": None, "merged_into_id": None, "resolution": "",
        # the default SLA policy, P2 on the default calendar: 1 h to respond, 8 h to resolve
        "first_response_due_at": "2026-03-02T10:00:00Z", "resolution_due_at": "2026-03-02T17:00:00Z",
        "first_responded_at": None, "resolved_at": None, "paused_seconds": 0, "paused_at": None,
        "sla_state": "ok", "sla_first_response_met": None, "sla_resolution_met": None,
        "opportunity_flagged": False, "opportunity_note": "", "created_at": NOW_ISO, "updated_at": NOW_ISO}
    # and reading it gives the same body
    assert api.get(f"/api/v1/tickets/{pk}").json() == created
    # when changed
    changed = api.patch(f"/api/v1/tickets/{pk}", {"title": "Printer fixed?", "priority": "p1", "tags": []})
    assert changed.status_code == 200
    assert pick(changed.json(), "title", "priority", "tags", "contact_id") == {
        "title": "Printer fixed?", "priority": "p1", "tags": [], "contact_id": contact.pk}
    # when deleted
    deleted = api.delete(f"/api/v1/tickets/{pk}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert not Ticket.objects.filter(pk=pk).exists()
    assert api.get(f"/api/v1/tickets/{pk}").status_code == 404


def test_create_and_change_answer_due_at_in_utc_like_a_read(api: Api, client: Client) -> None:
    # when a ticket is opened with a due time in a +02:00 offset
    created = open_ticket(api, client, due_at="2026-03-05T18:30:00+02:00")
    # then the answer is the stored value, in UTC, as a read gives it
    assert created["due_at"] == "2026-03-05T16:30:00Z"
    assert api.get(f"/api/v1/tickets/{created['id']}").json()["due_at"] == "2026-03-05T16:30:00Z"
    # when the due time is changed in a -05:00 offset
    changed = api.patch(f"/api/v1/tickets/{created['id']}", {"due_at": "2026-03-06T08:15:00-05:00"})
    # then the answer is UTC too, and equal to a read
    assert changed.status_code == 200, changed.content
    assert changed.json()["due_at"] == "2026-03-06T13:15:00Z"
    assert changed.json() == api.get(f"/api/v1/tickets/{created['id']}").json()
    assert Ticket.objects.get(pk=created["id"]).due_at == datetime(2026, 3, 6, 13, 15, tzinfo=UTC)


def test_list_filters_sorts_and_paginates(api: Api, client: Client) -> None:
    other = make_client("Garage Durand")
    first = open_ticket(api, client, title="VPN drops", priority="p1")
    second = open_ticket(api, client, title="New laptop", priority="p3", type="request")
    third = open_ticket(api, other, title="Printer toner", priority="p3", description="vpn token")

    def ids(query: str) -> list[int]:
        response = api.get(f"/api/v1/tickets?{query}")
        assert response.status_code == 200, response.content
        return [t["id"] for t in response.json()["items"]]

    assert ids("q=vpn&ordering=number") == [first["id"], third["id"]]
    assert ids(f"q={second['number']}") == [second["id"]]
    assert ids(f"client_id={client.pk}&ordering=-number") == [second["id"], first["id"]]
    assert ids("priority=p3&ordering=number") == [second["id"], third["id"]]
    assert ids("type=request") == [second["id"]]
    assert ids("status=resolved") == []
    assert ids("sla=ok&ordering=number") == [first["id"], second["id"], third["id"]]
    assert ids("sla=breached") == []
    page = api.get("/api/v1/tickets?ordering=number&page_size=2&page=2").json()
    assert ([t["id"] for t in page["items"]], page["count"], page["pages"], page["page"], page["page_size"]) == (
        [third["id"]], 3, 2, 2, 2)


@pytest.mark.parametrize(("query", "field"), [("sla=late", "sla"), ("ordering=password", "ordering"),
                                              ("priority=p9", "priority"), ("client_id=abc", "client_id")])
def test_bad_list_parameters_are_422(api: Api, query: str, field: str) -> None:
    response = api.get(f"/api/v1/tickets?{query}")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert field in json.dumps(response.json()["errors"])


def test_timeline_reply_status_assign_opportunity(api: Api, admin: Any, client: Client) -> None:
    tech = make_staff(Role.TECHNICIAN)
    pk = open_ticket(api, client)["id"]
    reply = api.post(f"/api/v1/tickets/{pk}/entries", {"body": "I restarted the spooler.", "public": True})
    assert reply.status_code == 201
    assert pick(reply.json(), "ticket_id", "kind", "author_id", "body", "visible_to_client", "created_at") == {
        "ticket_id": pk, "kind": "reply_public", "author_id": admin.pk, "body": "I restarted the spooler.",
        "visible_to_client": True, "created_at": NOW_ISO}
    note = api.post(f"/api/v1/tickets/{pk}/entries", {"body": "Driver is old."})
    assert pick(note.json(), "kind", "visible_to_client") == {"kind": "note_internal", "visible_to_client": False}
    status = api.post(f"/api/v1/tickets/{pk}/status", {"status": "waiting_client"})
    assert pick(status.json(), "status", "sla_state", "paused_at") == {
        "status": "waiting_client", "sla_state": "paused", "paused_at": NOW_ISO}
    assigned = api.post(f"/api/v1/tickets/{pk}/assign", {"assignee_id": tech.pk})
    assert assigned.json()["assignee_id"] == tech.pk
    unassigned = api.post(f"/api/v1/tickets/{pk}/assign", {"assignee_id": None})
    assert unassigned.json()["assignee_id"] is None
    flagged = api.post(f"/api/v1/tickets/{pk}/opportunity", {"note": "Firewall out of support"})
    assert pick(flagged.json(), "opportunity_flagged", "opportunity_note") == {
        "opportunity_flagged": True, "opportunity_note": "Firewall out of support"}
    timeline = api.get(f"/api/v1/tickets/{pk}/entries").json()
    # the first public reply moved the new ticket to "in progress"
    assert [(e["kind"], e["body"], e["data"]) for e in timeline["items"]] == [
        ("system", "", {"event": "created", "source": "api"}),
        ("reply_public", "I restarted the spooler.", {}),
        ("status_change", "", {"from": "new", "to": "in_progress"}),
        ("note_internal", "Driver is old.", {}),
        ("status_change", "", {"from": "in_progress", "to": "waiting_client"}),
        ("system", "", {"event": "assigned", "from": None, "to": tech.pk}),
        ("system", "", {"event": "assigned", "from": tech.pk, "to": None}),
        ("system", "Firewall out of support", {"event": "opportunity"})]
    assert timeline["count"] == 8


def test_resolving_with_open_required_steps_is_409_then_ticking_allows_it(api: Api, admin: Any,
                                                                          client: Client) -> None:
    pk = open_ticket(api, client)["id"]
    item = TicketChecklistItem.objects.create(client=client, ticket_id=pk, position=1, text="Check the tray")
    assert api.get(f"/api/v1/tickets/{pk}/checklist").json() == [
        {"id": item.pk, "ticket_id": pk, "position": 1, "text": "Check the tray", "required": True,
         "done_by_id": None, "done_at": None}]
    refused = api.post(f"/api/v1/tickets/{pk}/status", {"status": "resolved", "resolution": "Done"})
    assert refused.status_code == 409
    assert Ticket.objects.get(pk=pk).status == "new"
    ticked = api.post(f"/api/v1/ticket-checklist/{item.pk}", {"done": True})
    assert ticked.json() == {"id": item.pk, "ticket_id": pk, "position": 1, "text": "Check the tray",
                             "required": True, "done_by_id": admin.pk, "done_at": NOW_ISO}
    resolved = api.post(f"/api/v1/tickets/{pk}/status", {"status": "resolved", "resolution": "Done"})
    assert pick(resolved.json(), "status", "resolution", "resolved_at") == {
        "status": "resolved", "resolution": "Done", "resolved_at": NOW_ISO}


def test_merge_and_bulk(api: Api, admin: Any, client: Client) -> None:
    target = open_ticket(api, client, title="Printer")
    duplicate = open_ticket(api, client, title="Printer again")
    merged = api.post(f"/api/v1/tickets/{duplicate['id']}/merge", {"target_id": target["id"]})
    assert (merged.status_code, merged.json()["id"]) == (200, target["id"])
    assert Ticket.objects.filter(pk=duplicate["id"]).values_list("merged_into_id", "status").get() == (
        target["id"], "closed")
    third = open_ticket(api, client, title="Mouse")
    bulk = api.post("/api/v1/tickets/bulk", {"ticket_ids": [target["id"], third["id"]], "priority": "p1",
                                             "assignee_id": admin.pk})
    assert bulk.json() == {"updated": 2}
    assert sorted(Ticket.objects.filter(pk__in=[target["id"], third["id"]]).values_list("priority", "assignee_id")) \
        == [("p1", admin.pk), ("p1", admin.pk)]


def test_forged_ids_of_another_client_are_refused_and_change_nothing(client: Client) -> None:
    # given a technician restricted to one client, and another client's ticket, contact and device
    other = make_client("Garage Durand")
    admin_api = Api(make_staff(Role.ADMIN))
    own = open_ticket(admin_api, client)
    foreign = open_ticket(admin_api, other, title="Theirs")
    foreign_contact = Contact.objects.create(client=other, first_name="Eve", last_name="Other")
    foreign_device = Device.objects.create(client=other, name="OTHER-PC")
    api = Api(make_staff(Role.TECHNICIAN, restricted=True, clients=[client]))
    before = snapshot()
    # then every forged id is a 404 (not visible) or a 422 (not this client's), and nothing changed
    assert api.post("/api/v1/tickets", {"client_id": other.pk, "title": "x"}).status_code == 404
    contact = api.post("/api/v1/tickets", {"client_id": client.pk, "title": "x", "contact_id": foreign_contact.pk})
    assert (contact.status_code, list(contact.json()["errors"])) == (422, ["contact"])
    device = api.post("/api/v1/tickets", {"client_id": client.pk, "title": "x", "device_ids": [foreign_device.pk]})
    assert (device.status_code, list(device.json()["errors"])) == (422, ["devices"])
    assert api.patch(f"/api/v1/tickets/{own['id']}", {"contact_id": foreign_contact.pk}).status_code == 422
    assert api.post("/api/v1/tickets/bulk", {"ticket_ids": [own["id"], foreign["id"]],
                                             "priority": "p1"}).status_code == 404
    assert api.post(f"/api/v1/tickets/{own['id']}/merge", {"target_id": foreign["id"]}).status_code == 404
    assert api.post("/api/v1/time-entries", {"ticket_id": foreign["id"], "actual_minutes": 10}).status_code == 404
    assert api.get(f"/api/v1/tickets/{foreign['id']}").status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize(("raw", "status"), [
    (b"{not json", 400),
    (b"[]", 422),
    (b'{"client_id": "one", "title": "x"}', 422),
    (b'{"client_id": CLIENT, "title": 12}', 422),
    (b'{"client_id": CLIENT, "title": ""}', 422),
    (b'{"client_id": CLIENT, "title": "x", "status": "closed"}', 422),
    (b'{"client_id": CLIENT, "title": "x", "created_by_id": 1}', 422),
    (b'{"client_id": CLIENT, "title": "x", "priority": "urgent"}', 422),
    (b'{"client_id": CLIENT, "title": "x", "device_ids": "all"}', 422),
    (b'{"client_id": CLIENT, "title": "x", "queue_id": -1}', 422),
    (b'{"client_id": 99999999999999999999999, "title": "x"}', 422),
    (b'{"client_id": CLIENT}', 422),
])
def test_bad_ticket_bodies_are_refused_and_write_nothing(api: Api, client: Client, raw: bytes, status: int) -> None:
    before = snapshot()
    response = api.post("/api/v1/tickets", raw=raw.replace(b"CLIENT", str(client.pk).encode()))
    assert response.status_code == status
    assert set(response.json()) >= {"code", "message"}
    assert snapshot() == before


def test_oversized_body_is_413(api: Api, client: Client, settings: Any) -> None:
    settings.TENFOLD_MAX_REQUEST_BYTES = 1024
    before = snapshot()
    response = api.post("/api/v1/tickets", {"client_id": client.pk, "title": "Big", "description": "x" * 2048})
    assert (response.status_code, response.json()["code"]) == (413, "request_too_large")
    assert snapshot() == before


def test_a_portal_user_cannot_bulk_or_assign(client: Client) -> None:
    pk = open_ticket(Api(make_staff(Role.ADMIN)), client)["id"]
    portal = Api(testing.make_portal_user(client))
    before = snapshot()
    assert portal.post("/api/v1/tickets/bulk", {"ticket_ids": [pk], "priority": "p1"}).status_code == 403
    assert portal.post(f"/api/v1/tickets/{pk}/assign", {"assignee_id": None}).status_code == 403
    assert snapshot() == before


# --- Time -----------------------------------------------------------------------------------------------


def test_time_entries_timer_and_approval(api: Api, admin: Any, client: Client) -> None:
    pk = open_ticket(api, client)["id"]
    logged = api.post("/api/v1/time-entries", {"ticket_id": pk, "actual_minutes": 25, "notes": "Driver update"})
    assert logged.status_code == 201
    entry = logged.json()
    assert pick(entry, "client_id", "ticket_id", "project_id", "user_id", "started_at", "is_running",
                "actual_minutes", "billable_minutes", "billable", "coverage", "work_type", "rate", "cost_rate",
                "notes", "approval_status") == {
        "client_id": client.pk, "ticket_id": pk, "project_id": None, "user_id": admin.pk,
        "started_at": "2026-03-02T08:35:00Z", "is_running": False, "actual_minutes": 25, "billable_minutes": 25,
        "billable": True,
        "coverage": "out_of_scope", "work_type": "remote", "rate": "90.00", "cost_rate": "40.00",
        "notes": "Driver update", "approval_status": "pending"}
    assert api.get(f"/api/v1/time-entries/{entry['id']}").json() == entry
    assert [e["id"] for e in api.get("/api/v1/time-entries/approval-queue").json()["items"]] == [entry["id"]]
    assert [e["id"] for e in api.get(f"/api/v1/time-entries?ticket_id={pk}").json()["items"]] == [entry["id"]]
    patched = api.patch(f"/api/v1/time-entries/{entry['id']}", {"actual_minutes": 40})
    assert pick(patched.json(), "actual_minutes", "billable_minutes") == {"actual_minutes": 40,
                                                                          "billable_minutes": 40}
    approved = api.post(f"/api/v1/time-entries/{entry['id']}/approve")
    assert pick(approved.json(), "approval_status", "approved_by_id", "approved_at") == {
        "approval_status": "approved", "approved_by_id": admin.pk, "approved_at": NOW_ISO}
    second = api.post("/api/v1/time-entries", {"ticket_id": pk, "actual_minutes": 5}).json()
    rejected = api.post(f"/api/v1/time-entries/{second['id']}/reject", {"reason": "Covered"})
    assert pick(rejected.json(), "approval_status", "rejection_reason") == {
        "approval_status": "rejected", "rejection_reason": "Covered"}
    assert api.delete(f"/api/v1/time-entries/{second['id']}").status_code == 204
    # the timer
    started = api.post(f"/api/v1/tickets/{pk}/timer", {})
    assert started.status_code == 201
    assert pick(started.json(), "is_running", "started_at", "actual_minutes") == {
        "is_running": True, "started_at": NOW_ISO, "actual_minutes": 0}
    assert api.post(f"/api/v1/tickets/{pk}/timer", {}).status_code == 422
    with time_machine.travel(datetime(2026, 3, 2, 9, 12, 10, tzinfo=UTC), tick=False):
        stopped = api.post(f"/api/v1/time-entries/{started.json()['id']}/stop", {"notes": "Done"})
    assert pick(stopped.json(), "is_running", "ended_at", "actual_minutes", "notes") == {
        "is_running": False, "ended_at": "2026-03-02T09:12:10Z", "actual_minutes": 13, "notes": "Done"}


@pytest.mark.parametrize("body", [
    {"actual_minutes": -30}, {"actual_minutes": 0}, {"actual_minutes": 1441}, {"actual_minutes": "ten"},
    {"actual_minutes": 10, "rate": "0.01"}, {"actual_minutes": 10, "approval_status": "approved"},
    {"actual_minutes": 10, "coverage": "free"}, {}])
def test_bad_time_bodies_are_422_and_write_nothing(api: Api, client: Client, body: dict[str, Any]) -> None:
    pk = open_ticket(api, client)["id"]
    before = snapshot()
    response = api.post("/api/v1/time-entries", {"ticket_id": pk, **body})
    assert response.status_code == 422
    assert snapshot() == before


def test_negative_duration_on_change_is_422(api: Api, client: Client) -> None:
    pk = open_ticket(api, client)["id"]
    entry = api.post("/api/v1/time-entries", {"ticket_id": pk, "actual_minutes": 10}).json()
    before = snapshot()
    assert api.patch(f"/api/v1/time-entries/{entry['id']}", {"actual_minutes": -5}).status_code == 422
    assert snapshot() == before


def test_a_technician_cannot_approve_time(api: Api, client: Client) -> None:
    pk = open_ticket(api, client)["id"]
    entry = api.post("/api/v1/time-entries", {"ticket_id": pk, "actual_minutes": 10}).json()
    tech = Api(make_staff(Role.TECHNICIAN))
    before = snapshot()
    assert tech.post(f"/api/v1/time-entries/{entry['id']}/approve").status_code == 403
    assert tech.get("/api/v1/time-entries/approval-queue").status_code == 403
    assert snapshot() == before
    finance = Api(make_staff(Role.FINANCE))
    assert finance.post(f"/api/v1/time-entries/{entry['id']}/approve").json()["approval_status"] == "approved"


# --- Queues, templates, recurring -----------------------------------------------------------------------


def test_queues_crud(api: Api) -> None:
    created = api.post("/api/v1/queues", {"name": "Onboarding", "description": "New starters"})
    pk = created.json()["id"]
    assert (created.status_code, created.json()) == (201, {"id": pk, "name": "Onboarding",
                                                           "description": "New starters", "is_default": False,
                                                           "is_active": True})
    assert api.get(f"/api/v1/queues/{pk}").json() == created.json()
    assert [q["name"] for q in api.get("/api/v1/queues").json()["items"]] == ["Onboarding"]
    assert api.patch(f"/api/v1/queues/{pk}", {"is_default": True}).json()["is_default"] is True
    duplicate = api.post("/api/v1/queues", {"name": "onboarding"})
    assert duplicate.status_code == 422
    assert api.delete(f"/api/v1/queues/{pk}").status_code == 204
    assert Queue.objects.count() == 0


def test_templates_crud(api: Api) -> None:
    queue = Queue.objects.create(name="Desk")
    created = api.post("/api/v1/ticket-templates", {"name": "New PC", "title": "Set up a workstation",
                                                    "queue_id": queue.pk})
    pk = created.json()["id"]
    assert (created.status_code, created.json()) == (201, {
        "id": pk, "name": "New PC", "title": "Set up a workstation", "description": "", "type": "request",
        "priority": "p3", "queue_id": queue.pk, "runbook_id": None, "is_active": True})
    assert api.get(f"/api/v1/ticket-templates/{pk}").json() == created.json()
    assert [t["id"] for t in api.get("/api/v1/ticket-templates").json()["items"]] == [pk]
    assert api.patch(f"/api/v1/ticket-templates/{pk}", {"priority": "p1"}).json()["priority"] == "p1"
    assert api.post("/api/v1/ticket-templates", {"name": "x", "title": "y", "runbook_id": 999999}).status_code == 422
    assert api.delete(f"/api/v1/ticket-templates/{pk}").status_code == 204
    assert TicketTemplate.objects.count() == 0


def test_recurring_tickets_crud(api: Api, client: Client) -> None:
    template = TicketTemplate.objects.create(name="Monthly check", title="Monthly health check")
    contact = Contact.objects.create(client=client, first_name="Ana", last_name="Lopez")
    tech = make_staff(Role.TECHNICIAN)
    created = api.post("/api/v1/recurring-tickets", {
        "client_id": client.pk, "template_id": template.pk, "contact_id": contact.pk, "assignee_id": tech.pk,
        "unit": "weeks", "interval": 2, "next_run_at": "2026-03-09T08:00:00+01:00"})
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json() == {"id": pk, "client_id": client.pk, "template_id": template.pk, "contact_id": contact.pk,
                              "assignee_id": tech.pk, "unit": "weeks", "interval": 2, "cron": "",
                              "next_run_at": "2026-03-09T07:00:00Z", "last_run_at": None, "is_active": True}
    assert AuditEntry.objects.filter(action="recurring_ticket.created", object_id=str(pk)).count() == 1
    assert api.get(f"/api/v1/recurring-tickets/{pk}").json() == created.json()
    listed = api.get(f"/api/v1/recurring-tickets?client_id={client.pk}").json()
    assert ([r["id"] for r in listed["items"]], listed["count"]) == ([pk], 1)
    assert api.get("/api/v1/recurring-tickets?is_active=false").json()["count"] == 0
    cron = api.patch(f"/api/v1/recurring-tickets/{pk}", {"unit": "cron", "cron": "0 8 * * 1"})
    assert pick(cron.json(), "unit", "cron", "interval") == {"unit": "cron", "cron": "0 8 * * 1", "interval": 2}
    paused = api.patch(f"/api/v1/recurring-tickets/{pk}", {"is_active": False})
    assert paused.json()["is_active"] is False
    assert api.delete(f"/api/v1/recurring-tickets/{pk}").status_code == 204
    assert RecurringTicket.objects.count() == 0
    assert api.get(f"/api/v1/recurring-tickets/{pk}").status_code == 404


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"interval": 0}, 422, "interval"),
    ({"interval": -1}, 422, "interval"),
    ({"interval": 366}, 422, "interval"),
    ({"interval": "two"}, 422, "interval"),
    ({"unit": "years"}, 422, "unit"),
    ({"unit": "cron", "cron": "every monday"}, 422, "cron"),
    ({"template_id": 999999}, 422, "template"),
    ({"next_run_at": "tomorrow"}, 422, "next_run_at"),
    ({"next_run_at": None}, 422, "next_run_at"),
    ({"last_run_at": "2026-03-01T00:00:00Z"}, 422, "last_run_at"),
    ({"client_id": "x"}, 422, "client_id"),
])
def test_bad_recurring_bodies_are_refused_and_write_nothing(api: Api, client: Client, body: dict[str, Any],
                                                            status: int, field: str) -> None:
    template = TicketTemplate.objects.create(name="Monthly check", title="Monthly health check")
    before = snapshot()
    response = api.post("/api/v1/recurring-tickets", {
        "client_id": client.pk, "template_id": template.pk, "next_run_at": "2026-03-09T08:00:00Z", **body})
    assert response.status_code == status, response.content
    assert field in json.dumps(response.json().get("errors", {}))
    assert snapshot() == before


def test_recurring_forged_ids_are_refused(client: Client) -> None:
    other = make_client("Garage Durand")
    template = TicketTemplate.objects.create(name="Monthly check", title="Monthly health check")
    foreign_contact = Contact.objects.create(client=other, first_name="Eve", last_name="Other")
    admin = Api(make_staff(Role.ADMIN))
    theirs = admin.post("/api/v1/recurring-tickets", {"client_id": other.pk, "template_id": template.pk,
                                                      "next_run_at": "2026-03-09T08:00:00Z"}).json()
    mine = admin.post("/api/v1/recurring-tickets", {"client_id": client.pk, "template_id": template.pk,
                                                    "next_run_at": "2026-03-09T08:00:00Z"}).json()
    tech = Api(make_staff(Role.TECHNICIAN, restricted=True, clients=[client]))
    before = snapshot()
    assert tech.post("/api/v1/recurring-tickets", {"client_id": other.pk, "template_id": template.pk,
                                                   "next_run_at": "2026-03-09T08:00:00Z"}).status_code == 404
    contact = tech.post("/api/v1/recurring-tickets", {"client_id": client.pk, "template_id": template.pk,
                                                      "contact_id": foreign_contact.pk,
                                                      "next_run_at": "2026-03-09T08:00:00Z"})
    assert (contact.status_code, list(contact.json()["errors"])) == (422, ["contact"])
    assert tech.patch(f"/api/v1/recurring-tickets/{mine['id']}", {"contact_id": foreign_contact.pk}).status_code \
        == 422
    assert tech.get(f"/api/v1/recurring-tickets/{theirs['id']}").status_code == 404
    assert tech.patch(f"/api/v1/recurring-tickets/{theirs['id']}", {"interval": 5}).status_code == 404
    assert tech.delete(f"/api/v1/recurring-tickets/{theirs['id']}").status_code == 404
    assert [r["id"] for r in tech.get("/api/v1/recurring-tickets").json()["items"]] == [mine["id"]]
    # a technician may not delete a schedule (roles.md: tickets, delete is for managers)
    assert tech.delete(f"/api/v1/recurring-tickets/{mine['id']}").status_code == 403
    assert snapshot() == before


# --- The schema -----------------------------------------------------------------------------------------


def test_openapi_lists_every_service_desk_operation_with_examples(api: Api) -> None:
    schema = api.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    expected = {
        "/api/v1/tickets": {"get", "post"}, "/api/v1/tickets/bulk": {"post"},
        "/api/v1/tickets/{ticket_id}": {"get", "patch", "delete"},
        "/api/v1/tickets/{ticket_id}/entries": {"get", "post"}, "/api/v1/tickets/{ticket_id}/status": {"post"},
        "/api/v1/tickets/{ticket_id}/assign": {"post"}, "/api/v1/tickets/{ticket_id}/merge": {"post"},
        "/api/v1/tickets/{ticket_id}/opportunity": {"post"}, "/api/v1/tickets/{ticket_id}/checklist": {"get"},
        "/api/v1/tickets/{ticket_id}/timer": {"post"}, "/api/v1/ticket-checklist/{item_id}": {"post"},
        "/api/v1/time-entries": {"get", "post"}, "/api/v1/time-entries/approval-queue": {"get"},
        "/api/v1/time-entries/{entry_id}": {"get", "patch", "delete"},
        "/api/v1/time-entries/{entry_id}/stop": {"post"}, "/api/v1/time-entries/{entry_id}/approve": {"post"},
        "/api/v1/time-entries/{entry_id}/reject": {"post"},
        "/api/v1/queues": {"get", "post"}, "/api/v1/queues/{queue_id}": {"get", "patch", "delete"},
        "/api/v1/ticket-templates": {"get", "post"},
        "/api/v1/ticket-templates/{template_id}": {"get", "patch", "delete"},
        "/api/v1/recurring-tickets": {"get", "post"},
        "/api/v1/recurring-tickets/{recurring_id}": {"get", "patch", "delete"},
    }
    assert {path: set(paths[path]) & {"get", "post", "patch", "delete"} for path in expected} == expected
    assert paths["/api/v1/recurring-tickets"]["post"]["summary"] == "Create a recurring ticket"
    components = schema["components"]["schemas"]
    assert components["RecurringIn"]["properties"]["cron"]["examples"] == ["0 8 * * 1"]
    assert components["TicketIn"]["properties"]["title"]["examples"] == ["VPN does not connect"]
    assert components["TimeEntryIn"]["properties"]["actual_minutes"]["examples"] == [25]
    assert components["TicketOut"]["properties"]["number"]["examples"] == ["T-000123"]
    assert components["RecurringIn"]["additionalProperties"] is False
