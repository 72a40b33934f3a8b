"""The demo seed's knowledge: versioned runbooks, documented clients, check links and fake vault entries."""

from __future__ import annotations

import pytest

from tenfold.conftest import DemoDatabase
from tenfold.knowledge import selectors, services
from tenfold.knowledge.models import ClientDoc, Credential, NetworkItem, Runbook
from tenfold.monitoring.models import CheckDefinition

pytestmark = pytest.mark.django_db


def test_demo_knowledge(demo: DemoDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the demo MSP
    # then the workstation set-up runbook has three versions and a diff between the first and the last
    setup = Runbook.objects.get(slug="workstation-setup")
    assert setup.current_version == 3
    lines = selectors.version_diff(selectors.access_version(setup, 1), selectors.access_version(setup, 3))
    assert next(line.text for line in lines if line.kind == "add").startswith("+## Printers")
    # and six clients are documented, half of them reviewed, each with four network rows
    assert ClientDoc.objects.count() == 6
    assert ClientDoc.objects.exclude(last_reviewed_at=None).count() == 3
    assert NetworkItem.objects.count() == 24
    # and one client's documentation and one of its runbooks are shared with its portal
    shared_doc = ClientDoc.objects.get(shared_with_client=True)
    shared_runbook = Runbook.objects.get(shared_with_client=True)
    assert shared_runbook.client_id == shared_doc.client_id
    assert shared_runbook.title == f"{shared_doc.client.name}: month-end backup check"
    # and a disk check opens the disk-space runbook
    disk_check = CheckDefinition.objects.filter(check_type="disk_free").first()
    assert disk_check is not None
    runbook = selectors.runbook_for_check(disk_check.pk)
    assert runbook is not None and runbook.title == "Disk space low"
    # and the vault's demo secrets are obviously fake and decrypt (with the key the seed used)
    monkeypatch.setenv("TENFOLD_VAULT_KEY", demo.vault_key)
    credential = Credential.objects.get(name="Distributor portal")
    revealed = services.credential_reveal(actor=setup.updated_by, credential=credential, recent_auth=True)
    assert revealed.secret == "DEMO-fake-msp-secret"
    assert Credential.objects.count() == 13
