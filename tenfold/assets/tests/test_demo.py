"""The demo MSP's simulated devices."""

from __future__ import annotations

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from tenfold.assets.models import Device, DeviceStateChange, SoftwareItem, online_cutoff
from tenfold.clients.models import Client
from tenfold.conftest import DemoDatabase

pytestmark = pytest.mark.django_db


def test_demo_gives_every_active_client_15_to_40_devices_mostly_online(demo: DemoDatabase) -> None:
    # when the demo is seeded (online as of the seed's start: the seed may be minutes older than this test)
    cutoff = online_cutoff() - (timezone.now() - demo.started_at)
    # then each active client has 15–40 devices, prospects and former clients none
    per_client = dict(Device.objects.values_list("client__status").annotate(n=Count("pk")).values_list(
        "client__status", "n"))
    assert set(per_client) == {"active"}
    counts = Client.objects.filter(status="active").annotate(
        n=Count("devices", filter=~Q(devices__state="retired"))).values_list("n", flat=True)
    assert all(15 <= n <= 40 for n in counts)
    # and a few old workstations were retired along the way
    assert Device.objects.filter(state="retired", kind="workstation").count() >= len(counts)
    # and most managed devices are online, a few offline; each has a history row; managed ones have software
    managed = Device.objects.filter(managed=True).exclude(state="retired")  # a retired device no longer checks in
    online = managed.filter(last_seen_at__gte=cutoff).count()
    assert 0.7 < online / managed.count() < 0.97
    # every device's history starts at its arrival, and its last move is its current state
    first = DeviceStateChange.objects.order_by("device_id", "at", "pk")
    starts = {c.device_id: c for c in reversed(list(first))}
    assert len(starts) == Device.objects.count()
    assert all(starts[d.pk].at == d.created_at and starts[d.pk].from_state == "" for d in Device.objects.all())
    latest = {c.device_id: c.to_state for c in first}
    assert all(latest[pk] == state for pk, state in Device.objects.values_list("pk", "state"))
    assert not managed.annotate(n=Count("software")).filter(n__lt=3).exists()
    assert SoftwareItem.objects.filter(device__managed=False).count() == 0
    assert Device.objects.filter(name__startswith="SRV-", kind="server").exists()


def test_demo_has_discovered_devices_and_licences_below_and_above_installed(demo: DemoDatabase) -> None:
    # when the demo is seeded
    # then every active client has discovered devices, some not managed, none of an inactive client
    from tenfold.assets.models import DiscoveredDevice
    from tenfold.assets.selectors import client_licences, managed_vs_discovered

    active = list(Client.objects.filter(status="active"))
    assert set(DiscoveredDevice.objects.values_list("client__status", flat=True)) == {"active"}
    assert all(managed_vs_discovered(c.pk)[1] >= 1 for c in active)
    # and licences exist for the three products, some over-deployed and some with spare seats
    licences = [licence for c in active for licence in client_licences(c.pk)]
    assert {licence.product for licence in licences} == {"Microsoft 365 Business Standard", "Sage 100",
                                                         "Adobe Acrobat"}
    assert any(licence.installed > licence.seats for licence in licences)  # type: ignore[attr-defined]
    assert any(licence.installed < licence.seats for licence in licences)  # type: ignore[attr-defined]
