"""The demo MSP's patching: updates on demo devices, decisions, a global policy auto-approving security
updates after 3 days, and a patch report around the seed's 67 %."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tenfold.accounts.testing import make_staff
from tenfold.conftest import DemoDatabase
from tenfold.core.roles import Role
from tenfold.patching.models import ApprovalDecision, ApprovalPolicy, DeviceUpdate
from tenfold.patching.report import patch_report

pytestmark = pytest.mark.django_db


def test_demo_seeds_a_patch_report_near_67_percent(demo: DemoDatabase) -> None:
    policy = ApprovalPolicy.objects.get(scope="global")
    assert (policy.auto_approve_categories, policy.auto_approve_after_days) == (["security", "critical"], 3)
    assert set(ApprovalDecision.objects.values_list("decision", flat=True)) == {"approved", "rejected", "deferred"}
    assert set(DeviceUpdate.objects.values_list("state", flat=True)) >= {"missing", "installed", "failed"}
    report = patch_report(make_staff(Role.OWNER, mfa=False))
    share = report.share_up_to_date
    assert share is not None and Decimal("60") <= share <= Decimal("70"), share
    assert report.critical_by_age["8_30"] > 0 and report.approvals["awaiting"] > 0
