"""The demo seed's automation: the starter library signed by a key whose private half is nowhere."""

from __future__ import annotations

import pytest

from tenfold.agents.models import Job
from tenfold.automation import signing
from tenfold.automation.models import ScriptRun, Signature, SigningKey, VersionStatus
from tenfold.demo.seed import seed_demo

pytestmark = pytest.mark.django_db


def test_demo_automation() -> None:
    # given the demo MSP
    seed_demo()
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
    runs = list(ScriptRun.objects.filter(created_by__isnull=False).select_related("device", "version__script", "job"))
    assert len(runs) == 12
    for run in runs:
        expected = "windows" if run.version.script.language == "powershell" else "linux"
        assert run.device.os_family == expected and run.job.status == "succeeded"
    assert Job.objects.filter(kind="run_script", created_by__isnull=False).count() == 12
