"""Report subscriptions: the edit page, enable/disable, delete, the API (list, create, detail, change, delete),
recipients limited to staff and the client's own contacts, and delivery of the inventory and patch reports as PDF
or CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.assets.models import Device
from tenfold.clients.models import Client, Contact
from tenfold.core.errors import NotFound, PermissionDenied, ValidationError
from tenfold.core.events import deliver_pending
from tenfold.core.models import AuditEntry, OutboxEvent
from tenfold.reporting import inventory
from tenfold.reporting.kpi_models import ReportSubscription

pytestmark = pytest.mark.django_db
API = "/api/v1/report-subscriptions"


def logged_in(user: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def tomorrow() -> date:
    return timezone.localdate() + timedelta(days=1)


@pytest.fixture
def world() -> dict[str, Any]:
    alpha = Client.objects.create(name="Alpha Bakery", status="active")
    beta = Client.objects.create(name="Beta Garage", status="active")
    claire = Contact.objects.create(client=alpha, first_name="Claire", last_name="Client",
                                    email="Claire@alpha.example")
    other = Contact.objects.create(client=beta, first_name="Otto", last_name="Other", email="otto@beta.example")
    owner = make_staff("owner", email="owner@msp.example")
    finance = make_staff("finance", email="finance@msp.example")
    restricted = make_staff("account_manager", clients=[beta], restricted=True, email="am-beta@msp.example")
    sub = inventory.subscription_create(actor=owner, report="inventory", client_id=alpha.pk,
                                        recipients="claire@alpha.example", cadence="monthly",
                                        first_send_on=tomorrow())
    return {"alpha": alpha, "beta": beta, "claire": claire, "other": other, "owner": owner, "finance": finance,
            "restricted": restricted, "sub": sub}


def stored(sub: ReportSubscription) -> tuple[Any, ...]:
    sub.refresh_from_db()
    return (sub.report, sub.recipients, sub.cadence, sub.format, sub.enabled, sub.next_send_on)


def test_edit_page_changes_recipients_schedule_format_and_disables(world: dict[str, Any]) -> None:
    # given the owner on the subscription's edit page
    http = logged_in(world["owner"])
    sub = world["sub"]
    page = http.get(reverse("reporting:subscription_edit", args=[sub.pk]))
    assert page.status_code == 200
    assert "claire@alpha.example" in page.content.decode()
    # when they change everything but the client
    day = timezone.localdate() + timedelta(days=10)
    response = http.post(reverse("reporting:subscription_edit", args=[sub.pk]), {
        "report": "patch", "recipients": "finance@msp.example\nclaire@alpha.example", "cadence": "weekly",
        "format": "csv", "next_send_on": day.isoformat()})
    # then it is saved (unticked "enabled" disables it) and audited with what changed
    assert response.status_code == 302 and response["Location"] == reverse("reporting:subscription_list")
    assert stored(sub) == ("patch", "finance@msp.example\nclaire@alpha.example", "weekly", "csv", False, day)
    entry = AuditEntry.objects.get(action="report_subscription.updated")
    assert entry.changes == {"report": ["inventory", "patch"],
                             "recipients": ["claire@alpha.example", "finance@msp.example\nclaire@alpha.example"],
                             "cadence": ["monthly", "weekly"], "format": ["pdf", "csv"], "enabled": [True, False],
                             "next_send_on": [tomorrow().isoformat(), day.isoformat()]}
    listing = http.get(reverse("reporting:subscription_list")).content.decode()
    assert "Disabled" in listing and "CSV" in listing


def test_edit_refuses_a_contact_of_another_client_and_saves_nothing(world: dict[str, Any]) -> None:
    http = logged_in(world["owner"])
    sub = world["sub"]
    before = stored(sub)
    response = http.post(reverse("reporting:subscription_edit", args=[sub.pk]), {
        "report": "inventory", "recipients": "otto@beta.example", "cadence": "monthly", "format": "pdf",
        "next_send_on": tomorrow().isoformat(), "enabled": "on"})
    assert response.status_code == 422
    assert ("otto@beta.example is neither a staff member who sees this report&#x27;s clients nor a contact of the "
            "client.") in response.content.decode()
    assert stored(sub) == before
    assert not AuditEntry.objects.filter(action="report_subscription.updated").exists()
    # a past date is refused too
    response = http.post(reverse("reporting:subscription_edit", args=[sub.pk]), {
        "report": "inventory", "recipients": "claire@alpha.example", "cadence": "monthly", "format": "pdf",
        "next_send_on": "2020-01-01", "enabled": "on"})
    assert response.status_code == 422 and stored(sub) == before


def test_roles_and_scope_on_edit_and_delete(world: dict[str, Any]) -> None:
    sub = world["sub"]
    before = stored(sub)
    # finance reads reports but may not change them: 403; the account manager of Beta only: 404
    assert logged_in(world["finance"]).get(reverse("reporting:subscription_edit", args=[sub.pk])).status_code == 403
    assert logged_in(world["restricted"]).post(reverse("reporting:subscription_delete", args=[sub.pk])
                                               ).status_code == 404
    # an all-clients report does not exist for staff restricted to some clients, and they cannot change it
    every = inventory.subscription_create(actor=world["owner"], report="patch", client_id=None,
                                          recipients="finance@msp.example", cadence="weekly", first_send_on=tomorrow())
    assert list(inventory.subscriptions_visible(world["restricted"])) == []
    assert list(inventory.subscriptions_visible(world["owner"])) == [sub, every]
    with pytest.raises(NotFound):
        inventory.access_subscription(world["restricted"], every.pk)
    assert logged_in(world["restricted"]).get(reverse("reporting:subscription_edit", args=[every.pk])
                                              ).status_code == 404
    with pytest.raises(PermissionDenied):
        inventory.subscription_update(actor=world["restricted"], subscription=every, data={"enabled": False})
    with pytest.raises(PermissionDenied):
        inventory.subscription_delete(actor=world["restricted"], subscription=every)
    assert stored(sub) == before and ReportSubscription.objects.count() == 2
    # the owner deletes
    assert logged_in(world["owner"]).post(reverse("reporting:subscription_delete", args=[sub.pk])).status_code == 302
    assert list(ReportSubscription.objects.values_list("pk", flat=True)) == [every.pk]
    assert AuditEntry.objects.filter(action="report_subscription.deleted").count() == 1


def test_unknown_field_or_value_changes_nothing(world: dict[str, Any]) -> None:
    sub = world["sub"]
    before = stored(sub)
    for data in ({"client": world["beta"].pk}, {"cadence": "daily"}, {"format": "xlsx"}, {"report": "sales"},
                 {"recipients": ""}, {"recipients": "not-an-address"}):
        with pytest.raises(ValidationError):
            inventory.subscription_update(actor=world["owner"], subscription=sub, data=data)
    assert stored(sub) == before
    # nothing changed: no audit row, no event
    events = OutboxEvent.objects.count()
    inventory.subscription_update(actor=world["owner"], subscription=sub, data={"cadence": "monthly"})
    assert OutboxEvent.objects.count() == events
    assert not AuditEntry.objects.filter(action="report_subscription.updated").exists()


def test_api_list_create_detail_update_delete(world: dict[str, Any]) -> None:
    http = logged_in(world["owner"])
    # create
    body = {"report": "patch", "client_id": world["alpha"].pk, "recipients": ["CLAIRE@alpha.example"],
            "cadence": "quarterly", "format": "csv", "next_send_on": tomorrow().isoformat()}
    created = http.post(API, body, content_type="application/json")
    assert created.status_code == 201
    out = created.json()
    new_id = out.pop("id")
    out.pop("created_at")
    assert out == {"report": "patch", "client_id": world["alpha"].pk, "client": "Alpha Bakery",
                   "recipients": ["claire@alpha.example"], "cadence": "quarterly", "format": "csv", "enabled": True,
                   "next_send_on": tomorrow().isoformat(), "last_sent_at": None}
    # list, filtered
    listing = http.get(API + "?report=patch").json()
    assert (listing["count"], [i["id"] for i in listing["items"]]) == (1, [new_id])
    assert http.get(API).json()["count"] == 2
    # detail
    assert http.get(f"{API}/{new_id}").json()["cadence"] == "quarterly"
    # update
    changed = http.patch(f"{API}/{new_id}", {"enabled": False, "recipients": ["finance@msp.example"]},
                         content_type="application/json")
    assert changed.status_code == 200
    assert (changed.json()["enabled"], changed.json()["recipients"]) == (False, ["finance@msp.example"])
    assert http.get(API + "?enabled=false").json()["count"] == 1
    # delete
    assert http.delete(f"{API}/{new_id}").status_code == 204
    assert http.get(f"{API}/{new_id}").status_code == 404
    assert list(ReportSubscription.objects.values_list("pk", flat=True)) == [world["sub"].pk]


def test_api_refuses_forged_recipients_and_other_clients(world: dict[str, Any]) -> None:
    http = logged_in(world["owner"])
    count = ReportSubscription.objects.count()
    # another client's contact as recipient: 422, nothing saved
    body = {"client_id": world["alpha"].pk, "recipients": ["otto@beta.example"], "next_send_on": tomorrow().isoformat()}
    response = http.post(API, body, content_type="application/json")
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert response.json()["errors"] == {"recipients": [
        "otto@beta.example is neither a staff member who sees this report's clients nor a contact of the client."]}
    # a contact of the client is refused on a report of all clients
    body = {"client_id": None, "recipients": ["claire@alpha.example"], "next_send_on": tomorrow().isoformat()}
    assert http.post(API, body, content_type="application/json").status_code == 422
    # an unknown field, an empty list, a bad cadence: 422
    for bad in ({"recipients": ["finance@msp.example"], "next_send_on": tomorrow().isoformat(), "client": 1},
                {"recipients": [], "next_send_on": tomorrow().isoformat()},
                {"recipients": ["finance@msp.example"], "next_send_on": tomorrow().isoformat(), "cadence": "daily"}):
        assert http.post(API, bad, content_type="application/json").status_code == 422
    sub = world["sub"]
    before = stored(sub)
    patch = http.patch(f"{API}/{sub.pk}", {"recipients": ["otto@beta.example"]}, content_type="application/json")
    assert patch.status_code == 422 and stored(sub) == before
    assert ReportSubscription.objects.count() == count
    # a user restricted to Beta: Alpha's subscription does not exist, nor can one be made for Alpha
    other = logged_in(world["restricted"])
    assert other.get(f"{API}/{sub.pk}").status_code == 404
    assert other.patch(f"{API}/{sub.pk}", {"enabled": False}, content_type="application/json").status_code == 404
    assert other.delete(f"{API}/{sub.pk}").status_code == 404
    body = {"client_id": world["alpha"].pk, "recipients": ["owner@msp.example"], "next_send_on": tomorrow().isoformat()}
    assert other.post(API, body, content_type="application/json").status_code == 404
    assert [i["id"] for i in other.get(API).json()["items"]] == []
    assert stored(sub) == before and ReportSubscription.objects.count() == count


def test_disabled_subscription_is_not_sent(world: dict[str, Any]) -> None:
    sub = world["sub"]
    ReportSubscription.objects.filter(pk=sub.pk).update(next_send_on=timezone.localdate(), enabled=False)
    mail.outbox.clear()
    assert inventory.send_due_reports.call() == {"claimed": 0}
    deliver_pending()
    assert mail.outbox == []
    ReportSubscription.objects.filter(pk=sub.pk).update(enabled=True)
    assert inventory.send_due_reports.call() == {"claimed": 1}


def test_inventory_csv_delivery_one_file_per_client(world: dict[str, Any]) -> None:
    # given an all-clients inventory report as CSV, due today
    Device.objects.create(client=world["alpha"], name="A-SRV1", kind="server", state="active", managed=True)
    Device.objects.create(client=world["beta"], name="B-WS1", kind="workstation", state="active", managed=False)
    sub = inventory.subscription_create(actor=world["owner"], report="inventory", client_id=None,
                                        recipients="finance@msp.example", cadence="weekly",
                                        first_send_on=timezone.localdate(), format="csv")
    ReportSubscription.objects.filter(pk=world["sub"].pk).update(enabled=False)
    mail.outbox.clear()
    # when the day's deliveries run
    assert inventory.send_due_reports.call() == {"claimed": 1}
    deliver_pending()
    # then one message with one CSV per client, each its client's devices
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    day = timezone.localdate().isoformat()
    assert message.to == ["finance@msp.example"]
    assert message.subject == f"Inventory report — All clients — {day}"
    names = [(name, mimetype) for name, _content, mimetype in message.attachments]
    assert names == [(f"inventory-{world['alpha'].pk}-{day}.csv", "text/csv"),
                     (f"inventory-{world['beta'].pk}-{day}.csv", "text/csv")]
    alpha_rows = list(csv.reader(io.StringIO(message.attachments[0][1])))
    assert alpha_rows[2][:4] == ["A-SRV1", "server", "active", "yes"] and alpha_rows[3] == []
    sub.refresh_from_db()
    assert sub.last_sent_at is not None


def test_patch_report_delivery_as_csv(world: dict[str, Any]) -> None:
    Device.objects.create(client=world["alpha"], name="A-SRV1", kind="server", state="active", managed=True)
    sub = world["sub"]
    inventory.subscription_update(actor=world["owner"], subscription=sub, data={"report": "patch", "format": "csv"})
    ReportSubscription.objects.filter(pk=sub.pk).update(next_send_on=timezone.localdate())
    mail.outbox.clear()
    inventory.send_due_reports.call()
    deliver_pending()
    message = mail.outbox[0]
    day = timezone.localdate().isoformat()
    assert message.subject == f"Patch report — Alpha Bakery — {day}"
    name, content, mimetype = message.attachments[0]
    assert (name, mimetype) == (f"patch-report-{world['alpha'].pk}-{day}.csv", "text/csv")
    # the device has never listed its updates: reported apart; nothing counted
    assert content == (
        "client,device,up_to_date,missing,approved_missing,critical_missing,failed,installed,last_listed\r\n"
        "Alpha Bakery,A-SRV1,not reported,,,,,,\r\n\r\ndevices_up_to_date,0,of,0,\r\n")


def test_recipient_no_longer_allowed_is_left_out_at_delivery(world: dict[str, Any]) -> None:
    sub = world["sub"]
    inventory.subscription_update(actor=world["owner"], subscription=sub,
                                  data={"recipients": "claire@alpha.example\nfinance@msp.example"})
    world["claire"].delete()
    ReportSubscription.objects.filter(pk=sub.pk).update(next_send_on=timezone.localdate())
    mail.outbox.clear()
    inventory.send_due_reports.call()
    deliver_pending()
    assert [m.to for m in mail.outbox] == [["finance@msp.example"]]
    assert AuditEntry.objects.get(action="report.sent").changes == {"to": ["finance@msp.example"],
                                                                     "refused": ["claire@alpha.example"]}
