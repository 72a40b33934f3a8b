"""The monitoring API: shapes, filters, bad input refused with nothing written."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.core.models import AuditEntry
from tenfold.monitoring.models import Alert, CheckDefinition, MaintenanceWindow, Policy, PolicyScope
from tenfold.monitoring.policies import effective_policy
from tenfold.monitoring.tests.factories import make_check, make_client, make_device, make_policy

pytestmark = pytest.mark.django_db


def auth(role: str = "admin", **kwargs) -> dict[str, str]:
    return bearer(make_api_token(make_staff(role, **kwargs)))


def call(method: str, path: str, headers: dict[str, str], body=None, raw: bytes | None = None):
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    return getattr(HttpClient(), method)(path, data=data, content_type="application/json", **headers)


def test_create_policy_add_checks_and_read_them_back() -> None:
    # given a client and an admin token
    client = make_client()
    headers = auth()
    # when
    created = call("post", "/api/v1/policies", headers, {"name": "Servers", "scope": "client", "client_id": client.pk,
                                                         "collectors": {"backup_tools": ["restic"]}})
    policy_id = created.json()["id"]
    check = call("post", f"/api/v1/policies/{policy_id}/checks", headers, {
        "check_type": "http", "name": "Intranet", "params": {"url": "https://intranet.example"},
        "severity": "critical", "failures_before_alert": 2})
    detail = call("get", f"/api/v1/policies/{policy_id}", headers).json()
    # then
    assert created.status_code == 201
    assert check.status_code == 201
    assert check.json()["params"] == {"url": "https://intranet.example", "expect_status": 200, "timeout_s": 10}
    assert (detail["scope"], detail["client_id"], detail["collectors"]) == ("client", client.pk,
                                                                           {"backup_tools": ["restic"]})
    assert [(c["name"], c["severity"], c["failures_before_alert"]) for c in detail["checks"]] == [
        ("Intranet", "critical", 2)]


@pytest.mark.parametrize(("body", "field"), [
    ({"check_type": "cpu", "name": "CPU", "params": {"warn_pct": "lots"}}, "params.warn_pct"),
    ({"check_type": "ping", "name": "GW", "params": {}}, "params.host"),
    ({"check_type": "teleport", "name": "X", "params": {}}, "check_type"),
    ({"check_type": "cpu", "name": "CPU", "interval_s": 5}, "interval_s"),
    ({"check_type": "cpu", "name": "CPU", "failures_before_alert": 0}, "failures_before_alert"),
    ({"check_type": "cpu", "name": "CPU", "surprise": True}, "surprise"),
])
def test_bad_check_input_is_422_naming_the_field_and_writes_nothing(body, field) -> None:
    policy = make_policy(PolicyScope.GLOBAL)
    audits = AuditEntry.objects.count()
    response = call("post", f"/api/v1/policies/{policy.pk}/checks", auth(), body)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]
    assert CheckDefinition.objects.filter(policy=policy).count() == 0
    assert AuditEntry.objects.count() == audits


def test_bad_policy_input_and_garbage_bodies() -> None:
    headers = auth()
    site_without_client = call("post", "/api/v1/policies", headers, {"name": "X", "scope": "site"})
    baseline = call("post", "/api/v1/policies", headers, {"name": "X", "scope": "baseline"})
    collectors = call("post", "/api/v1/policies", headers, {"name": "X", "scope": "global",
                                                            "collectors": {"inventory_hours": 0, "vpn": True}})
    garbage = call("post", "/api/v1/policies", headers, raw=b"{not json")
    assert (site_without_client.status_code, site_without_client.json()["errors"]) == (
        422, {"site": ["Choose one of the sites you may see."]})
    assert baseline.json()["errors"] == {"scope": ["Baseline policies come with Tenfold; choose another scope."]}
    assert collectors.json()["errors"] == {"collectors.vpn": ["Unknown collector setting."],
                                           "collectors.inventory_hours": [
                                               "Enter a whole number of hours between 1 and 744."]}
    assert garbage.status_code in (400, 422)
    assert Policy.objects.exclude(scope="baseline").count() == 0


def test_technician_reads_policies_but_writes_are_403() -> None:
    policy = make_policy(PolicyScope.GLOBAL, name="Everywhere")
    headers = auth("technician")
    assert call("get", f"/api/v1/policies/{policy.pk}", headers).status_code == 200
    response = call("patch", f"/api/v1/policies/{policy.pk}", headers, {"name": "Mine"})
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    policy.refresh_from_db()
    assert policy.name == "Everywhere"


def test_alert_list_filters_sorts_and_acknowledges() -> None:
    client = make_client()
    device = make_device(client)
    old = Alert.objects.create(client=client, device=device, title="Old", severity="warning", occurrences=9)
    new = Alert.objects.create(client=client, device=device, title="New", severity="critical", kind="offline")
    headers = auth("technician")
    by_occurrences = call("get", "/api/v1/alerts?ordering=-occurrences", headers).json()
    critical = call("get", "/api/v1/alerts?severity=critical", headers).json()
    bad_ordering = call("get", "/api/v1/alerts?ordering=secret", headers)
    ack = call("post", f"/api/v1/alerts/{new.pk}/acknowledge", headers)
    again = call("post", f"/api/v1/alerts/{new.pk}/acknowledge", headers)
    resolved = call("post", f"/api/v1/alerts/{old.pk}/resolve", headers)
    assert [a["title"] for a in by_occurrences["items"]] == ["Old", "New"]
    assert [a["id"] for a in critical["items"]] == [new.pk]
    assert bad_ordering.status_code == 422
    assert (ack.status_code, ack.json()["status"]) == (200, "acknowledged")
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    assert resolved.json()["status"] == "resolved"


def test_maintenance_window_crud_and_bad_times() -> None:
    client = make_client()
    headers = auth("service_manager")
    bad = call("post", "/api/v1/maintenance-windows", headers, {
        "client_id": client.pk, "starts_at": "2026-05-01T10:00:00Z", "ends_at": "2026-05-01T09:00:00Z",
        "reason": "Backwards"})
    created = call("post", "/api/v1/maintenance-windows", headers, {
        "client_id": client.pk, "starts_at": "2026-05-01T08:00:00Z", "ends_at": "2026-05-01T12:00:00Z",
        "reason": "Switch swap"})
    window_id = created.json()["id"]
    patched = call("patch", f"/api/v1/maintenance-windows/{window_id}", headers, {"reason": "Switch + firewall"})
    deleted = call("delete", f"/api/v1/maintenance-windows/{window_id}", headers)
    assert (bad.status_code, bad.json()["errors"]) == (422, {"ends_at": ["The end must be after the start."]})
    assert (created.status_code, patched.json()["reason"], deleted.status_code) == (201, "Switch + firewall", 204)
    assert MaintenanceWindow.objects.count() == 0


def test_device_effective_policy_and_baseline_endpoints() -> None:
    client = make_client()
    device = make_device(client, os_family="windows")
    override = make_check(make_policy(PolicyScope.DEVICE, device=device, name="Own"), "cpu", name="CPU strict",
                          params={"warn_pct": 60, "fail_pct": 80, "samples": 1})
    headers = auth()
    applied = call("put", f"/api/v1/clients/{client.pk}/baseline", headers, {"tier": "good"})
    effective = call("get", f"/api/v1/devices/{device.pk}/policy", headers).json()
    bad_tier = call("put", f"/api/v1/clients/{client.pk}/baseline", headers, {"tier": "gold"})
    assert applied.json() == {"client_id": client.pk, "tier": "good", "managed": 1, "compliant": 1, "share": 1.0,
                              "non_compliant_device_ids": []}
    assert sorted(c["type"] for c in effective["checks"]) == ["cpu", "disk_free", "memory"]
    cpu = next(s for s in effective["sources"] if s["check_type"] == "cpu")
    assert (cpu["check_id"], cpu["scope"], len(cpu["replaces"])) == (override.pk, "device", 1)
    assert len(effective["version"]) == 64
    assert bad_tier.status_code == 422


@pytest.mark.parametrize("value", [899, 604801, 0, -900, 3600.5, "3600", True])
def test_an_updates_interval_out_of_bounds_is_refused_and_nothing_written(value) -> None:
    # given an admin token
    headers = auth()
    audits = AuditEntry.objects.count()
    # when a policy sets how often the agent lists updates to a value out of 15 minutes .. 7 days
    response = call("post", "/api/v1/policies", headers, {"name": "Patching", "scope": "global",
                                                          "collectors": {"updates_interval": value}})
    # then
    assert response.status_code == 422
    assert response.json()["errors"] == {"collectors.updates_interval": [
        "Enter a whole number of seconds between 900 (15 minutes) and 604800 (7 days)."]}
    assert not Policy.objects.filter(name="Patching").exists()
    assert AuditEntry.objects.count() == audits


@pytest.mark.parametrize("value", [900, 3600, 604800])
def test_an_updates_interval_within_bounds_reaches_the_effective_policy(value) -> None:
    # given a client's device
    client = make_client()
    device = make_device(client)
    # when a client policy sets the updates interval
    response = call("post", "/api/v1/policies", auth(), {"name": "Patching", "scope": "client",
                                                         "client_id": client.pk,
                                                         "collectors": {"updates_interval": value}})
    # then the policy keeps it and the device's effective policy (what the agent receives) carries it
    assert response.status_code == 201
    assert response.json()["collectors"] == {"updates_interval": value}
    assert effective_policy(device).collectors["updates_interval"] == value
