"""Tag policies: precedence (global < baseline < client < tag < site < device), the batch resolution, the
service and its roles, cache invalidation when a device's tags change, the device page and the API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.assets import services as asset_services
from tenfold.assets.models import Device, Tag
from tenfold.core import events
from tenfold.core.errors import PermissionDenied, ValidationError
from tenfold.monitoring import policies, services
from tenfold.monitoring.models import ClientBaseline, Policy, PolicyScope
from tenfold.monitoring.policies import effective_policies, effective_policy, policy_for_device
from tenfold.monitoring.tests.factories import make_check, make_client, make_device, make_policy, make_site

pytestmark = pytest.mark.django_db

CPU = {"warn_pct": 85, "fail_pct": 95, "samples": 1}


def tag_policy(tag: Tag, **fields: Any) -> Policy:
    return Policy.objects.create(scope=PolicyScope.TAG, tag=tag, name=fields.pop("name", f"Tag {tag.name}"),
                                 **fields)


def cpu(policy: Policy, warn: int) -> Any:
    return make_check(policy, "cpu", {**CPU, "warn_pct": warn}, name=f"CPU {warn}")


def winner(device: Device) -> tuple[int, str]:
    (check,) = [c for c in effective_policy(device).checks if c["type"] == "cpu"]
    source = next(s for s in effective_policy(device).sources if s.check.pk == check["id"])
    return check["params"]["warn_pct"], source.scope


def test_a_tag_policy_overrides_global_baseline_and_client_and_yields_to_site_and_device() -> None:
    # given a tagged device of a client on the Good baseline, with global, client and tag CPU checks
    client = make_client()
    site = make_site(client)
    tagged = make_device(client, site=site)
    untagged = make_device(client, site=site)
    vip = Tag.objects.create(name="VIP")
    tagged.tags.add(vip)
    ClientBaseline.objects.create(client=client, tier="good")
    cpu(make_policy(PolicyScope.GLOBAL), 50)
    cpu(make_policy(PolicyScope.CLIENT, client=client), 60)
    tag_cpu = cpu(tag_policy(vip), 70)
    # then the tag's check wins over the broader ones, on the tagged device only
    assert winner(tagged) == (70, "tag")
    assert winner(untagged) == (60, "client")
    source = next(s for s in effective_policy(tagged).sources if s.check.pk == tag_cpu.pk)
    assert [c.name for c in source.replaces] == ["CPU 50", "CPU load", "CPU 60"]  # global, Good baseline, client
    # when a site policy and then a device policy configure the same check, they win over the tag's
    cpu(make_policy(PolicyScope.SITE, site=site), 80)
    assert winner(tagged) == (80, "site")
    cpu(make_policy(PolicyScope.DEVICE, device=tagged), 90)
    assert winner(tagged) == (90, "device")


def test_between_two_tag_policies_the_one_created_last_wins_and_a_disabled_one_counts_for_nothing() -> None:
    device = make_device(make_client())
    vip, pos = Tag.objects.create(name="VIP"), Tag.objects.create(name="Point of sale")
    device.tags.add(vip, pos)
    cpu(tag_policy(pos), 71)
    cpu(tag_policy(vip), 72)
    assert winner(device) == (72, "tag")
    cpu(tag_policy(pos, name="Disabled", enabled=False), 73)
    assert winner(device) == (72, "tag")


def test_the_batch_resolution_agrees_with_one_device_at_a_time(django_assert_max_num_queries: Any) -> None:
    client = make_client()
    devices = [make_device(client) for _ in range(6)]
    vip, pos = Tag.objects.create(name="VIP"), Tag.objects.create(name="Point of sale")
    for device in devices[:3]:
        device.tags.add(vip)
    devices[2].tags.add(pos)
    cpu(tag_policy(vip), 70)
    make_check(tag_policy(pos), "memory")
    cpu(make_policy(PolicyScope.CLIENT, client=client), 60)
    # a bounded number of queries whatever the number of devices
    with django_assert_max_num_queries(5):
        batch = effective_policies(devices)
    for device in devices:
        assert batch[device.pk].version == effective_policy(device).version
    assert batch[devices[0].pk].version != batch[devices[3].pk].version
    assert {c["type"] for c in batch[devices[2].pk].checks} == {"cpu", "memory"}


def test_a_change_of_a_devices_tags_reaches_the_cached_check_in_policy(
        django_capture_on_commit_callbacks: Any) -> None:
    # given a tag policy and an untagged device whose policy the check-in has cached
    device = make_device(make_client())
    vip = Tag.objects.create(name="VIP")
    cpu(tag_policy(vip), 70)
    before_version, before = policy_for_device(device)
    assert before["checks"] == []
    generation = policies.generation()
    # when staff tag it and the worker delivers the event
    with django_capture_on_commit_callbacks(execute=True):
        asset_services.device_set_tags(actor=make_staff("technician"), device=device, tag_ids=[vip.pk])
    with django_capture_on_commit_callbacks(execute=True):
        events.deliver_pending()
    # then the generation moved and the check-in answer carries the tag's check
    assert policies.generation() == generation + 1
    version, answer = policy_for_device(device)
    assert version != before_version and [c["type"] for c in answer["checks"]] == ["cpu"]


def test_the_service_creates_msp_level_tag_policies_for_unrestricted_staff_only() -> None:
    vip = Tag.objects.create(name="VIP")
    admin = make_staff("admin")
    policy = services.policy_create(actor=admin, data={"name": "VIP", "scope": "tag", "tag_id": vip.pk})
    assert (policy.scope, policy.tag_id, policy.client_id, policy.is_msp_level) == ("tag", vip.pk, None, True)
    assert policy.target_label == "Tag VIP"
    with pytest.raises(ValidationError) as missing:
        services.policy_create(actor=admin, data={"name": "No tag", "scope": "tag"})
    assert missing.value.errors == {"tag": ["Choose one of the tags you may see."]}
    client = make_client()
    with pytest.raises(ValidationError) as mixed:
        services.policy_create(actor=admin, data={"name": "Mixed", "scope": "tag", "tag_id": vip.pk,
                                                  "client_id": client.pk})
    assert list(mixed.value.errors) == ["scope"]
    with pytest.raises(ValidationError):
        services.policy_create(actor=admin, data={"name": "Client", "scope": "client", "client_id": client.pk,
                                                  "tag_id": vip.pk})
    restricted = make_staff("service_manager", clients=[client], restricted=True)
    with pytest.raises(PermissionDenied):
        services.policy_create(actor=restricted, data={"name": "VIP 2", "scope": "tag", "tag_id": vip.pk})
    assert Policy.objects.filter(scope="tag").count() == 1


def test_the_device_page_names_the_tag_a_check_comes_from() -> None:
    device = make_device(make_client())
    vip = Tag.objects.create(name="VIP", colour="amber")
    device.tags.add(vip)
    cpu(tag_policy(vip, name="Direction devices"), 70)
    http = HttpClient()
    http.force_login(make_staff("technician"))
    page = http.get(f"/monitoring/devices/{device.pk}/policy/").content.decode()
    assert "Direction devices" in page
    assert '<span class="tag tag-amber" data-testid="source-tag">VIP</span>' in page


def test_the_api_creates_tag_policies_and_shows_the_tag_of_each_source() -> None:
    device = make_device(make_client())
    vip = Tag.objects.create(name="VIP")
    device.tags.add(vip)
    http, auth = HttpClient(), bearer(make_api_token(make_staff("admin")))
    created = http.post("/api/v1/policies", data=json.dumps({"name": "VIP", "scope": "tag", "tag_id": vip.pk}),
                        content_type="application/json", **auth)
    assert created.status_code == 201 and created.json()["tag_id"] == vip.pk
    policy_id = created.json()["id"]
    check = http.post(f"/api/v1/policies/{policy_id}/checks", data=json.dumps({
        "check_type": "cpu", "name": "CPU", "params": CPU}), content_type="application/json", **auth)
    assert check.status_code == 201
    listed = http.get(f"/api/v1/policies?tag_id={vip.pk}", **auth).json()
    assert [p["id"] for p in listed["items"]] == [policy_id]
    sources = http.get(f"/api/v1/devices/{device.pk}/policy", **auth).json()["sources"]
    assert [(s["scope"], s["tag_id"], s["policy_id"]) for s in sources] == [("tag", vip.pk, policy_id)]
