"""The demo seed's automation: the starter library signed by a key whose private half is nowhere."""

from __future__ import annotations

import pytest

from tenfold.agents.models import Job
from tenfold.automation import signing
from tenfold.automation.models import ScriptRun, Signature, SigningKey, VersionStatus
from tenfold.conftest import DemoDatabase

pytestmark = pytest.mark.django_db


def test_demo_automation(demo: DemoDatabase) -> None:
    # given the demo MSP
    # then one key, owned by the service manager, signed all eight starter scripts, and every signature verifies
    key = SigningKey.objects.get()
    assert (key.owner.email.split("@")[0], key.countersigned_by) == ("service", None)
    signatures = list(Signature.objects.select_related("version"))
    assert len(signatures) == 8
    for row in signatures:
        assert row.version.status == VersionStatus.SIGNED
        signing.verify(key.public_key, row.version.document.encode(), row.signature)
    # and a few finished runs on demo devices of the right systems
    # (the demo's workflow runs add script runs of their own, by no person: see test_workflow_demo)
    runs = list(ScriptRun.objects.filter(created_by__isnull=False, version__isnull=False)
                .select_related("device", "version__script", "job"))
    assert len(runs) == 12
    for run in runs:
        expected = "windows" if run.version.script.language == "powershell" else "linux"
        assert run.device.os_family == expected and run.job.status == "succeeded"
    assert Job.objects.filter(kind="run_script", created_by__isnull=False).count() == 12


def test_demo_groups_scheduled_run_and_a_past_action_run(demo: DemoDatabase) -> None:
    from tenfold.automation.models import DeviceGroup, Run, ScheduledRun

    # given the demo MSP
    # then two groups, a weekly clean-up on the Linux servers, and a past spooler restart with mixed results
    assert sorted(g.name.split(" of ")[0] for g in DeviceGroup.objects.all()) == ["All Linux servers",
                                                                                 "Workstations"]
    scheduled = ScheduledRun.objects.get()
    assert (scheduled.cron, scheduled.group.name, scheduled.parameters, scheduled.enabled) == (
        "0 3 * * 0", "All Linux servers", {"older_than_days": 7, "dry_run": True}, True)
    run = Run.objects.get(action="restart_service")
    statuses = sorted(set(run.items.values_list("job__status", flat=True)))
    assert run.items.count() >= 3 and statuses == ["failed", "succeeded", "timed_out"]
