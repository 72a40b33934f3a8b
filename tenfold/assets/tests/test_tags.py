"""Device tags: the MSP's tags (services, roles), a device's tags (service, page, list filter), the API."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from tenfold.accounts.testing import bearer, make_api_token, make_portal_user, make_staff
from tenfold.assets import services
from tenfold.assets.models import Device, Tag
from tenfold.clients.models import Client
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry, OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_a() -> Client:
    return Client.objects.create(name="Boulangerie Martin", status="active")


@pytest.fixture
def client_b() -> Client:
    return Client.objects.create(name="Garage Perrin", status="active")


def logged_in(user: object) -> HttpClient:
    http = HttpClient()
    http.force_login(user)  # type: ignore[arg-type]
    return http


# --- the MSP's tags -------------------------------------------------------------------------------


def test_a_service_manager_creates_renames_and_deletes_a_tag_with_audit() -> None:
    manager = make_staff("service_manager")
    tag = services.tag_create(actor=manager, data={"name": "  VIP ", "colour": "amber", "description": "Direction"})
    assert (tag.name, tag.colour, tag.description) == ("VIP", "amber", "Direction")
    services.tag_update(actor=manager, tag=tag, data={"name": "Direction", "colour": "red"})
    tag.refresh_from_db()
    assert (tag.name, tag.colour) == ("Direction", "red")
    services.tag_delete(actor=manager, tag=tag)
    assert not Tag.objects.exists()
    actions = list(AuditEntry.objects.filter(object_type="assets.tag").order_by("pk").values_list("action", "changes"))
    assert [a for a, _c in actions] == ["tag.created", "tag.updated", "tag.deleted"]
    assert actions[1][1] == {"colour": ["amber", "red"], "name": ["VIP", "Direction"]}


def test_tag_names_are_unique_in_any_case() -> None:
    admin = make_staff("admin")
    services.tag_create(actor=admin, data={"name": "Point of sale"})
    with pytest.raises(ValidationError) as error:
        services.tag_create(actor=admin, data={"name": "POINT OF SALE"})
    assert error.value.errors == {"name": ["A tag with this name already exists."]}
    assert Tag.objects.count() == 1


@pytest.mark.parametrize("role, restricted", [("technician", False), ("admin", True)])
def test_technicians_and_restricted_staff_cannot_define_tags(role: str, restricted: bool, client_a: Client) -> None:
    tag = Tag.objects.create(name="VIP")
    user = make_staff(role, clients=[client_a] if restricted else None, restricted=restricted)
    audits = AuditEntry.objects.count()
    for call in (lambda: services.tag_create(actor=user, data={"name": "Other"}),
                 lambda: services.tag_update(actor=user, tag=tag, data={"name": "Renamed"}),
                 lambda: services.tag_delete(actor=user, tag=tag)):
        with pytest.raises(PermissionDenied):
            call()
    assert list(Tag.objects.values_list("name", flat=True)) == ["VIP"]
    assert AuditEntry.objects.count() == audits


def test_deleting_a_tag_removes_it_from_its_devices_and_says_which(client_a: Client) -> None:
    tag = Tag.objects.create(name="VIP")
    tag_id = tag.pk
    device = Device.objects.create(client=client_a, name="PC-DIRECTION")
    device.tags.add(tag)
    services.tag_delete(actor=make_staff("admin"), tag=tag)
    assert not device.tags.exists()
    event = OutboxEvent.objects.get(name="tag.deleted")
    assert event.payload == {"tag_id": tag_id, "device_ids": [device.pk]}


# --- a device's tags ------------------------------------------------------------------------------


def test_setting_a_devices_tags_records_the_change_and_emits_it(client_a: Client) -> None:
    vip, pos = Tag.objects.create(name="VIP"), Tag.objects.create(name="Point of sale")
    device = Device.objects.create(client=client_a, name="CAISSE-01")
    technician = make_staff("technician")
    services.device_set_tags(actor=technician, device=device, tag_ids=[vip.pk, pos.pk])
    services.device_set_tags(actor=technician, device=device, tag_ids=[pos.pk])
    assert list(device.tags.values_list("name", flat=True)) == ["Point of sale"]
    changes = list(AuditEntry.objects.filter(action="device.tags_changed").order_by("pk")
                   .values_list("changes", flat=True))
    assert changes == [{"tags": [[], ["Point of sale", "VIP"]]},
                       {"tags": [["Point of sale", "VIP"], ["Point of sale"]]}]
    payloads = list(OutboxEvent.objects.filter(name="device.tags_changed").order_by("pk")
                    .values_list("payload", "client_id"))
    assert payloads == [
        ({"device_id": device.pk, "client_id": client_a.pk, "added": sorted([vip.pk, pos.pk]), "removed": []},
         client_a.pk),
        ({"device_id": device.pk, "client_id": client_a.pk, "added": [], "removed": [vip.pk]}, client_a.pk)]
    # the same set again changes nothing and says nothing
    services.device_set_tags(actor=technician, device=device, tag_ids=[pos.pk])
    assert OutboxEvent.objects.filter(name="device.tags_changed").count() == 2


def test_unknown_tags_and_readers_change_nothing(client_a: Client) -> None:
    vip = Tag.objects.create(name="VIP")
    device = Device.objects.create(client=client_a, name="CAISSE-01")
    with pytest.raises(ValidationError) as error:
        services.device_set_tags(actor=make_staff("admin"), device=device, tag_ids=[vip.pk, vip.pk + 999])
    assert error.value.errors == {"tags": ["Choose existing tags."]}
    with pytest.raises(PermissionDenied):
        services.device_set_tags(actor=make_staff("account_manager"), device=device, tag_ids=[vip.pk])
    assert not device.tags.exists() and not OutboxEvent.objects.filter(name="device.tags_changed").exists()


# --- screens ----------------------------------------------------------------------------------------


def test_device_page_shows_and_edits_the_tags(client_a: Client) -> None:
    vip, pos = Tag.objects.create(name="VIP", colour="amber"), Tag.objects.create(name="Point of sale")
    device = Device.objects.create(client=client_a, name="CAISSE-01")
    http = logged_in(make_staff("technician"))
    page = http.get(f"/devices/{device.pk}/").content.decode()
    assert 'data-testid="tags-form"' in page and "No tag." in page
    response = http.post(f"/devices/{device.pk}/tags/", {"tags": [str(vip.pk), str(pos.pk)]})
    assert response.status_code == 302
    page = http.get(f"/devices/{device.pk}/").content.decode()
    assert 'class="tag tag-amber"' in page and ">VIP</a>" in page and ">Point of sale</a>" in page
    # an unknown tag is refused and nothing changes
    response = http.post(f"/devices/{device.pk}/tags/", {"tags": ["999999"]})
    assert response.status_code == 302
    assert set(device.tags.values_list("name", flat=True)) == {"VIP", "Point of sale"}


def test_device_list_filters_by_tag_and_shows_tags_without_a_query_per_row(client_a: Client) -> None:
    vip = Tag.objects.create(name="VIP", colour="red")
    tagged = Device.objects.create(client=client_a, name="PC-DIRECTION")
    tagged.tags.add(vip)
    Device.objects.create(client=client_a, name="PC-ACCUEIL")
    http = logged_in(make_staff("admin"))
    filtered = http.get(f"/devices/?tag={vip.pk}").content.decode()
    assert "PC-DIRECTION" in filtered and "PC-ACCUEIL" not in filtered
    assert '<span class="tag tag-red">VIP</span>' in filtered

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert http.get("/devices/").status_code == 200
        return len(captured)

    small = queries()
    for n in range(20):
        Device.objects.create(client=client_a, name=f"PC-{n:02d}").tags.add(vip)
    assert queries() == small


def test_tag_list_counts_only_devices_the_user_may_see(client_a: Client, client_b: Client) -> None:
    vip = Tag.objects.create(name="VIP")
    for client in (client_a, client_a, client_b):
        Device.objects.create(client=client, name="PC").tags.add(vip)
    everyone = logged_in(make_staff("admin")).get("/devices/tags/").content.decode()
    restricted = logged_in(make_staff("technician", clients=[client_b], restricted=True)).get(
        "/devices/tags/").content.decode()
    assert f'href="/devices/?tag={vip.pk}">3</a>' in everyone
    assert f'href="/devices/?tag={vip.pk}">1</a>' in restricted


def test_tag_forms_show_errors_and_delete_is_refused_while_a_policy_uses_the_tag() -> None:
    from tenfold.monitoring.models import Policy

    vip = Tag.objects.create(name="VIP")
    http = logged_in(make_staff("admin"))
    response = http.post("/devices/tags/new/", {"name": "vip", "colour": "blue"})
    assert response.status_code == 200 and "A tag with this name already exists." in response.content.decode()
    Policy.objects.create(name="VIP devices", scope="tag", tag=vip)
    response = http.post(f"/devices/tags/{vip.pk}/delete/", follow=True)
    assert "Policies are attached to this tag" in response.content.decode()
    assert Tag.objects.filter(pk=vip.pk).exists()
    with pytest.raises(Conflict):
        services.tag_delete(actor=make_staff("admin"), tag=vip)


# --- API ----------------------------------------------------------------------------------------


def test_api_lists_filters_and_sets_device_tags(client_a: Client) -> None:
    vip, pos = Tag.objects.create(name="VIP"), Tag.objects.create(name="Point of sale", colour="teal")
    tagged = Device.objects.create(client=client_a, name="CAISSE-01")
    tagged.tags.add(pos)
    Device.objects.create(client=client_a, name="PC-ACCUEIL")
    http, auth = HttpClient(), bearer(make_api_token(make_staff("admin")))
    body = http.get(f"/api/v1/devices?tag_id={pos.pk}", **auth).json()
    assert [d["name"] for d in body["items"]] == ["CAISSE-01"]
    assert body["items"][0]["tags"] == [{"id": pos.pk, "name": "Point of sale", "colour": "teal"}]
    response = http.patch(f"/api/v1/devices/{tagged.pk}", data=json.dumps({"tag_ids": [vip.pk]}),
                          content_type="application/json", **auth)
    assert response.status_code == 200 and [t["name"] for t in response.json()["tags"]] == ["VIP"]
    # unknown tag: 422, nothing changed (the other field of the same request neither)
    response = http.patch(f"/api/v1/devices/{tagged.pk}", data=json.dumps({"notes": "x", "tag_ids": [999999]}),
                          content_type="application/json", **auth)
    assert response.status_code == 422 and response.json()["errors"] == {"tags": ["Choose existing tags."]}
    tagged.refresh_from_db()
    assert tagged.notes == "" and list(tagged.tags.values_list("name", flat=True)) == ["VIP"]


def test_api_manages_tags_for_staff_only(client_a: Client) -> None:
    http, auth = HttpClient(), bearer(make_api_token(make_staff("admin")))
    created = http.post("/api/v1/tags", data=json.dumps({"name": "VIP", "colour": "amber"}),
                        content_type="application/json", **auth)
    assert created.status_code == 201 and created.json()["device_count"] == 0
    tag_id = created.json()["id"]
    duplicate = http.post("/api/v1/tags", data=json.dumps({"name": "vip"}), content_type="application/json", **auth)
    assert duplicate.status_code == 422
    bad = http.post("/api/v1/tags", data=json.dumps({"name": "X", "colour": "pink"}),
                    content_type="application/json", **auth)
    assert bad.status_code == 422
    patched = http.patch(f"/api/v1/tags/{tag_id}", data=json.dumps({"colour": "green"}),
                         content_type="application/json", **auth)
    assert patched.json()["colour"] == "green"
    portal = bearer(make_api_token(make_portal_user(client_a, "portal_admin")))
    assert http.get("/api/v1/tags", **portal).status_code == 403
    assert http.delete(f"/api/v1/tags/{tag_id}", **auth).status_code == 204
    assert http.get(f"/api/v1/tags/{tag_id}", **auth).status_code == 404
