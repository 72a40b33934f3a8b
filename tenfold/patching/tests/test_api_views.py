"""Patching API and pages: lists and filters, decisions one by one and in bulk, policies, and bad input
(unknown update, another client's device, invalid window) refused with nothing changed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import make_staff
from tenfold.core.models import AuditEntry
from tenfold.core.roles import Role
from tenfold.patching.models import ApprovalDecision, ApprovalPolicy
from tenfold.patching.tests.factories import make_client, make_device, make_update, missing

pytestmark = pytest.mark.django_db


def logged_in(role: str = Role.SERVICE_MANAGER, **kwargs: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(make_staff(role, **kwargs))
    return http


@pytest.fixture
def world() -> dict[str, Any]:
    client, other = make_client("Cabinet Durand"), make_client("Garage Petit")
    compta, garage = make_device(client, name="PC-COMPTA-01"), make_device(other, name="PC-GARAGE")
    kb = make_update("KB5046617", source="windows_update", version="", category="security", severity="critical",
                     title="2026-11 Cumulative Update (KB5046617)", released_on=date(2026, 11, 10))
    tz = make_update("tzdata", category="bugfix")
    garage_only = make_update("Zoom.Zoom", source="winget", category="application")
    missing(compta, kb), missing(garage, kb), missing(compta, tz), missing(garage, garage_only)
    return {"client": client, "other": other, "compta": compta, "garage": garage, "kb": kb, "tz": tz,
            "garage_only": garage_only}


def test_update_list_api_filters_and_counts(world: dict[str, Any]) -> None:
    http = logged_in()
    body = http.get("/api/v1/updates?ordering=title").json()
    # (sorted here: the database's collation orders mixed case its own way)
    assert sorted((u["identifier"], u["missing_count"], u["approval"]) for u in body["items"]) == [
        ("KB5046617", 2, "none"), ("Zoom.Zoom", 1, "none"), ("tzdata", 1, "none")]
    assert [u["identifier"] for u in http.get("/api/v1/updates?category=security").json()["items"]] == ["KB5046617"]
    scoped = http.get(f"/api/v1/updates?client_id={world['client'].pk}&ordering=title").json()["items"]
    assert sorted((u["identifier"], u["missing_count"]) for u in scoped) == [("KB5046617", 1), ("tzdata", 1)]
    # a user restricted to the garage sees the updates its devices reported, counted on its devices only
    garage_tech = logged_in(Role.TECHNICIAN, clients=[world["other"]], restricted=True)
    theirs = garage_tech.get("/api/v1/updates?ordering=title").json()["items"]
    assert sorted((u["identifier"], u["missing_count"]) for u in theirs) == [("KB5046617", 1), ("Zoom.Zoom", 1)]
    assert garage_tech.get(f"/api/v1/updates/{world['tz'].pk}").status_code == 404


def test_bulk_approval_for_every_client_then_the_approval_filter(world: dict[str, Any]) -> None:
    http = logged_in()
    answer = http.post("/api/v1/update-decisions/bulk", {"update_ids": [world["kb"].pk, world["tz"].pk],
                                                         "decision": "approved"}, content_type="application/json")
    assert answer.status_code == 201
    assert [(d["client_id"], d["decision"]) for d in answer.json()] == [(None, "approved"), (None, "approved")]
    assert sorted(u["identifier"] for u in http.get("/api/v1/updates?approval=approved").json()["items"]) \
        == ["KB5046617", "tzdata"]
    rows = http.get(f"/api/v1/device-updates?device_id={world['compta'].pk}").json()["items"]
    assert sorted((r["update"], r["state"], r["approval"]) for r in rows) == [
        ("2026-11 Cumulative Update (KB5046617)", "missing", "approved"), ("tzdata", "missing", "approved")]


def test_unknown_update_and_another_clients_records_are_404_with_nothing_decided(world: dict[str, Any]) -> None:
    http = logged_in()
    before = AuditEntry.objects.count()
    assert http.get("/api/v1/updates/999999").status_code == 404
    assert http.post("/api/v1/update-decisions", {"update_id": 999999, "decision": "approved"},
                     content_type="application/json").status_code == 404
    assert http.post("/api/v1/update-decisions/bulk", {"update_ids": [world["kb"].pk, 999999],
                                                       "decision": "approved"},
                     content_type="application/json").status_code == 404
    # a manager restricted to the accountants' client: the garage (client, device) does not exist for them
    restricted = logged_in(clients=[world["client"]], restricted=True)
    assert restricted.post("/api/v1/update-decisions", {"update_id": world["kb"].pk, "client_id": world["other"].pk,
                                                        "decision": "approved"},
                           content_type="application/json").status_code == 404
    assert restricted.post("/api/v1/approval-policies", {
        "name": "Garage PC", "scope": "device", "client_id": world["client"].pk,
        "device_id": world["garage"].pk}, content_type="application/json").status_code == 404
    assert restricted.get(f"/patching/devices/{world['garage'].pk}/panel/").status_code == 404
    # and may not decide for every client
    assert restricted.post("/api/v1/update-decisions", {"update_id": world["kb"].pk, "decision": "approved"},
                           content_type="application/json").status_code == 403
    assert (ApprovalDecision.objects.count(), ApprovalPolicy.objects.count(), AuditEntry.objects.count()) == \
        (0, 0, before)


@pytest.mark.parametrize(("window", "field"), [
    ({"window_days": [1], "window_start": "22:00"}, "window_end"),
    ({"window_days": [9], "window_start": "22:00", "window_end": "04:00"}, "window_days"),
    ({"window_days": [1], "window_start": "22:00", "window_end": "22:00"}, "window_end"),
    ({"window_start": "22:00", "window_end": "04:00"}, "window_days"),
])
def test_an_invalid_window_is_a_422_and_nothing_is_created(world: dict[str, Any], window: dict[str, Any],
                                                           field: str) -> None:
    http = logged_in()
    answer = http.post("/api/v1/approval-policies", {"name": "Nightly", "scope": "global", **window},
                       content_type="application/json")
    assert answer.status_code == 422
    assert field in answer.json()["errors"]
    assert ApprovalPolicy.objects.count() == 0


def test_policy_api_round_trip(world: dict[str, Any]) -> None:
    http = logged_in()
    created = http.post("/api/v1/approval-policies", {
        "name": "Security after 3 days", "scope": "client", "client_id": world["client"].pk,
        "auto_approve_categories": ["security", "critical"], "auto_approve_after_days": 3, "window_days": [3, 1],
        "window_start": "22:00", "window_end": "04:00", "reboot": "if_required", "reboot_deferrals": 2},
        content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["window_days"], body["window_start"], body["window_end"], body["auto_approve_categories"]) == \
        ([1, 3], "22:00:00", "04:00:00", ["critical", "security"])
    patched = http.patch(f"/api/v1/approval-policies/{body['id']}", {"auto_approve_after_days": 7},
                         content_type="application/json")
    assert patched.json()["auto_approve_after_days"] == 7
    assert http.patch(f"/api/v1/approval-policies/{body['id']}", {"auto_approve_after_days": 999},
                      content_type="application/json").status_code == 422
    assert ApprovalPolicy.objects.get().auto_approve_after_days == 7


def test_pages_render_and_forms_show_errors(world: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    http = logged_in()
    with django_assert_max_num_queries(25):
        page = http.get("/patching/?category=security")
    assert page.status_code == 200 and b"KB5046617" in page.content and b"tzdata" not in page.content
    assert b"PC-COMPTA-01" in http.get(f"/patching/updates/{world['kb'].pk}/").content
    refused = http.post(f"/patching/updates/{world['kb'].pk}/decide/", {"decision": "deferred"})
    assert refused.status_code == 422 and "Give the date the deferral ends." in refused.content.decode()
    panel = http.get(f"/patching/devices/{world['compta'].pk}/panel/")
    assert panel.status_code == 200 and b"2 updates not installed" in panel.content
    bad = http.post("/patching/policies/new/", {"name": "Nightly", "scope": "global", "window_days": ["1"],
                                                "window_start": "22:00", "reboot": "never", "reboot_deferrals": "0"})
    assert bad.status_code == 422 and "Give the time the window closes." in bad.content.decode()
    assert ApprovalPolicy.objects.count() == 0
    assert http.get("/patching/policies/").status_code == 200
    assert http.get("/patching/bulk/?category=security").status_code == 200
