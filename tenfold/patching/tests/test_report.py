"""The patch report's figures (exact), its CSV (exact), its PDF (read back) and its page and API."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from pypdf import PdfReader

from tenfold.accounts.testing import make_staff
from tenfold.core.roles import Role
from tenfold.patching import services
from tenfold.patching.report import patch_report, report_csv, report_pdf
from tenfold.patching.tests.factories import make_client, make_device, make_policy, make_update, missing

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def world() -> dict[str, Any]:
    """Three reporting devices of one client, one never reported, one retired, and a device of another client."""
    with time_machine.travel(datetime(2026, 11, 1, 9, 0, tzinfo=UTC), tick=False):
        client = make_client("Cabinet Durand")
        other = make_client("Garage Petit")
        compta = make_device(client, name="PC-COMPTA-01")
        accueil = make_device(client, name="PC-ACCUEIL-01")
        serveur = make_device(client, name="SRV-FICHIERS")
        make_device(client, name="PC-NEUF", scanned=False)
        make_device(client, name="PC-ANCIEN", state="retired")
        garage = make_device(other, name="PC-GARAGE")
        kernel = make_update("linux-image-amd64", category="security", released_on=date(2026, 10, 1))
        openssl = make_update("openssl", category="security", severity="critical")
        tzdata = make_update("tzdata", category="bugfix")
        drivers = make_update("KB-DRV", category="driver", source="windows_update", version="")
    # the policy auto-approves security updates three days after release or first sight
    make_policy(auto_approve_categories=["security"], auto_approve_after_days=3)
    with time_machine.travel(datetime(2026, 11, 1, 9, 0, tzinfo=UTC), tick=False):
        missing(compta, kernel)                                  # approved (policy), critical, 56 days old
        missing(compta, tzdata)                                  # awaiting
        missing(accueil, tzdata)                                 # awaiting: accueil stays up to date
        missing(serveur, drivers, state="installed")             # installed
        missing(garage, kernel)                                  # another client's
    with time_machine.travel(datetime(2026, 11, 20, 9, 0, tzinfo=UTC), tick=False):
        missing(serveur, openssl)                                # critical, first seen 6 days ago
    manager = make_staff(Role.SERVICE_MANAGER, mfa=False)
    with time_machine.travel(NOW, tick=False):
        services.decision_set(actor=manager, update=openssl, client=None, decision="rejected")
    return {"client": client, "other": other, "manager": manager, "openssl": openssl}


def test_report_figures_for_one_client(world: dict[str, Any]) -> None:
    report = patch_report(world["manager"], world["client"], now=NOW)
    # compta misses an approved update; accueil and the server miss none that is approved (tzdata awaits,
    # openssl was rejected): 2 of 3 devices up to date
    assert (report.devices_counted, report.devices_up_to_date, report.share_up_to_date) == (3, 2, Decimal("66.7"))
    assert [d.name for d in report.not_reported] == ["PC-NEUF"]
    assert report.states == {"installed": 1, "missing": 4, "pending_install": 0, "failed": 0}
    assert report.approvals == {"approved": 1, "rejected": 1, "deferred": 0, "awaiting": 2}
    assert report.critical_by_age == {"0_7": 1, "8_30": 0, "over_30": 1}
    assert [(r.device.name, r.missing, r.approved_missing, r.critical_missing, r.up_to_date) for r in report.devices] \
        == [("PC-ACCUEIL-01", 1, 0, 0, True), ("PC-COMPTA-01", 2, 1, 1, False), ("SRV-FICHIERS", 1, 0, 1, True)]


def test_approving_in_bulk_changes_the_share(world: dict[str, Any]) -> None:
    with time_machine.travel(NOW, tick=False):
        services.decision_bulk(actor=world["manager"], updates=[world["openssl"]], clients=None, decision="approved")
    report = patch_report(world["manager"], world["client"], now=NOW)
    assert (report.devices_up_to_date, report.share_up_to_date) == (1, Decimal("33.3"))


def test_report_across_clients_and_for_a_restricted_user(world: dict[str, Any]) -> None:
    everything = patch_report(world["manager"], now=NOW)
    assert (everything.devices_counted, everything.devices_up_to_date, everything.share_up_to_date) == \
        (4, 2, Decimal("50.0"))
    restricted = make_staff(Role.TECHNICIAN, mfa=False, clients=[world["other"]], restricted=True)
    theirs = patch_report(restricted, now=NOW)
    assert [r.device.name for r in theirs.devices] == ["PC-GARAGE"]
    assert (theirs.devices_counted, theirs.devices_up_to_date) == (1, 0)


def test_report_csv_is_exact(world: dict[str, Any]) -> None:
    text = report_csv(patch_report(world["manager"], world["client"], now=NOW))
    assert text == (
        "client,device,up_to_date,missing,approved_missing,critical_missing,failed,installed,last_listed\r\n"
        "Cabinet Durand,PC-ACCUEIL-01,yes,1,0,0,0,0,2026-11-01T09:00:00Z\r\n"
        "Cabinet Durand,PC-COMPTA-01,no,2,1,1,0,0,2026-11-01T09:00:00Z\r\n"
        "Cabinet Durand,SRV-FICHIERS,yes,1,0,1,0,1,2026-11-01T09:00:00Z\r\n"
        "Cabinet Durand,PC-NEUF,not reported,,,,,,\r\n"
        "\r\n"
        "devices_up_to_date,2,of,3,66.7 %\r\n")


def test_report_pdf_carries_the_figure(world: dict[str, Any]) -> None:
    pdf = report_pdf(patch_report(world["manager"], world["client"], now=NOW))
    assert pdf.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "66.7 %" in text and "2 of 3 devices" in text and "Cabinet Durand" in text
    assert "PC-COMPTA-01" in text.replace("\n", "")  # a narrow column wraps the name


def test_report_page_csv_pdf_and_api(world: dict[str, Any], client: Any) -> None:
    client.force_login(make_staff(Role.SERVICE_MANAGER))
    with time_machine.travel(NOW, tick=True):
        page = client.get(f"/patching/report/?client={world['client'].pk}")
        assert page.status_code == 200
        assert b'data-testid="share-up-to-date">66.7 %' in page.content
        csv_answer = client.get(f"/patching/report/csv/?client={world['client'].pk}")
        assert csv_answer["Content-Type"].startswith("text/csv")
        assert csv_answer.content.decode().endswith("devices_up_to_date,2,of,3,66.7 %\r\n")
        pdf_answer = client.get("/patching/report/pdf/")
        assert pdf_answer.content.startswith(b"%PDF")
        api = client.get(f"/api/v1/patch-report?client_id={world['client'].pk}")
    assert api.status_code == 200
    body = api.json()
    assert (body["devices_counted"], body["devices_up_to_date"], body["share_up_to_date"],
            body["devices_not_reported"]) == (3, 2, "66.7", 1)
    assert body["critical_by_age"] == {"0_7": 1, "8_30": 0, "over_30": 1}
    # another client's id for a user restricted elsewhere: 404
    restricted = make_staff(Role.TECHNICIAN, clients=[world["other"]], restricted=True)
    client.force_login(restricted)
    assert client.get(f"/api/v1/patch-report?client_id={world['client'].pk}").status_code == 404
    assert client.get(f"/patching/report/?client={world['client'].pk}").status_code == 404
