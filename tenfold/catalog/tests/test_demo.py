"""The demo catalog follows the seed: Good = monitoring; Better = + antivirus and patching; Best = + backup;
25 / 35 / 45 € per workstation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tenfold.catalog.models import Plan, Service
from tenfold.catalog.pricing import UnitCounts, plan_items, plan_lines
from tenfold.demo.catalog import seed_catalog

pytestmark = pytest.mark.django_db


def test_demo_tiers_follow_the_seed() -> None:
    # given the demo catalog
    seed_catalog()
    one_workstation = UnitCounts(workstations=1)
    plans = {p.tier: p for p in Plan.objects.filter(offering__name="Infogérance PME")}
    # then each tier's policies and per-workstation price are the seed's
    policies = {tier: sorted({name for item in plan_items(plan) for name in item.service.policies})
                for tier, plan in plans.items()}
    prices = {tier: sum((line.revenue for line in plan_lines(plan, one_workstation)), Decimal(0))
              for tier, plan in plans.items()}
    assert policies == {"good": ["monitoring"], "better": ["antivirus", "monitoring", "patching"],
                        "best": ["antivirus", "backup", "monitoring", "patching"]}
    assert prices == {"good": Decimal("25.00"), "better": Decimal("35.00"), "best": Decimal("45.00")}
    assert set(Service.objects.filter(is_addon=True, active=True).values_list("code", flat=True)) == {
        "m365-backup", "dark-web", "after-hours", "mdm", "phishing"}
