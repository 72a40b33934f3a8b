"""The demo MSP's simulated devices."""

from __future__ import annotations

import pytest
from django.db.models import Count

from tenfold.assets.models import Device, DeviceStateChange, SoftwareItem, online_cutoff
from tenfold.clients.models import Client
from tenfold.demo.seed import seed_demo

pytestmark = pytest.mark.django_db


def test_demo_gives_every_active_client_15_to_40_devices_mostly_online() -> None:
    # when the demo is seeded
    seed_demo(2026)
    # then each active client has 15–40 devices, prospects and former clients none
    per_client = dict(Device.objects.values_list("client__status").annotate(n=Count("pk")).values_list(
        "client__status", "n"))
    assert set(per_client) == {"active"}
    counts = Client.objects.filter(status="active").annotate(n=Count("devices")).values_list("n", flat=True)
    assert all(15 <= n <= 40 for n in counts)
    # and most managed devices are online, a few offline; each has a history row; managed ones have software
    managed = Device.objects.filter(managed=True)
    online = managed.filter(last_seen_at__gte=online_cutoff()).count()
    assert 0.7 < online / managed.count() < 0.97
    assert DeviceStateChange.objects.count() == Device.objects.count()
    assert not managed.annotate(n=Count("software")).filter(n__lt=3).exists()
    assert SoftwareItem.objects.filter(device__managed=False).count() == 0
    assert Device.objects.filter(name__startswith="SRV-", kind="server").exists()
