"""The demo seed's contracts: the default SLA on the Paris office calendar, contracts on each active client's
baseline tier with coverage synced from its devices, a block of hours and a project with milestones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tenfold.conftest import DemoDatabase
from tenfold.contracts.models import Contract, Milestone, RoundingRule, SlaPolicy
from tenfold.contracts.selectors import billable_minutes, sla_deadlines, unit_counts
from tenfold.monitoring.models import ClientBaseline

pytestmark = pytest.mark.django_db


def test_demo_contracts(demo: DemoDatabase) -> None:
    # given the demo MSP
    # then the default SLA runs on the Paris office hours: a P3 opened on Thursday 30 April 2026 at 17:00 (Paris)
    # gets 1 h that day, nothing on 1 May (holiday) nor the weekend, 3 h on Monday 4 May: 11:30 Paris
    default = SlaPolicy.objects.get(is_default=True)
    assert default.calendar.name == "Bureau Paris (heures ouvrées)"
    due = sla_deadlines(default, "p3", datetime(2026, 4, 30, 15, 0, tzinfo=UTC)).first_response_due
    assert due == datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
    assert billable_minutes(RoundingRule.objects.get(name="Quart d'heure entamé"), 7) == 15
    # and each managed contract is on its client's baseline tier, covering its devices
    managed = list(Contract.objects.filter(type="managed").select_related("plan"))
    assert len(managed) >= 4
    tiers = dict(ClientBaseline.objects.values_list("client_id", "tier"))
    assert all(c.plan.tier == tiers[c.client_id] for c in managed)
    assert {c.plan.tier for c in managed} == {"good", "better", "best"}
    assert sum(unit_counts(c).workstations for c in managed) > 0
    assert Contract.objects.filter(type="block_hours").count() == 1
    assert Milestone.objects.filter(status="reached").count() == 1
