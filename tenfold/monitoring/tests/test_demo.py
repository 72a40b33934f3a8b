"""The demo MSP has baselines, client policies, alerts in every state and a maintenance window."""

from __future__ import annotations

import pytest

from tenfold.conftest import DemoDatabase
from tenfold.monitoring.evaluation import detect_offline
from tenfold.monitoring.models import Alert, ClientBaseline, MaintenanceWindow, Policy

pytestmark = pytest.mark.django_db


def test_demo_seeds_monitoring_records_consistently(demo: DemoDatabase) -> None:
    # when the demo is seeded
    # then
    assert sorted(set(ClientBaseline.objects.values_list("tier", flat=True))) == ["best", "better", "good"]
    assert Policy.objects.filter(scope="client").count() == 3
    # two tags on some devices (two devices carry both), each with a tag policy that reaches them
    from tenfold.assets.models import Tag
    from tenfold.monitoring.policies import effective_policy

    counts = {t.name: t.devices.count() for t in Tag.objects.all()}
    assert counts == {"VIP": 8, "Point of sale": 10}
    assert Policy.objects.filter(scope="tag").count() == 2
    vip_device = Tag.objects.get(name="VIP").devices.order_by("pk").first()
    assert vip_device is not None
    assert any(s.scope == "tag" and s.check.name == "CPU (VIP)" for s in effective_policy(vip_device).sources)
    assert set(Alert.objects.values_list("status", flat=True)) == {"open", "acknowledged", "resolved"}
    assert MaintenanceWindow.objects.count() == 1
    # and offline detection adds no duplicate of the seeded offline alerts
    seeded_offline = Alert.objects.filter(kind="offline").count()
    detect_offline()
    assert Alert.objects.filter(kind="offline", status__in=["open", "acknowledged"]).values("device").distinct() \
        .count() == Alert.objects.filter(kind="offline", status__in=["open", "acknowledged"]).count()
    assert seeded_offline > 0
