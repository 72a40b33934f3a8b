"""Services: baselines, params validation, permissions per roles.md, alerts and windows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry, OutboxEvent
from tenfold.monitoring import services
from tenfold.monitoring.models import Alert, CheckDefinition, ClientBaseline, MaintenanceWindow, Policy, PolicyScope
from tenfold.monitoring.policies import effective_policy
from tenfold.monitoring.selectors import baseline_compliance
from tenfold.monitoring.tests.factories import make_check, make_client, make_device, make_policy

pytestmark = pytest.mark.django_db


def test_the_migration_created_the_three_baselines() -> None:
    rows = list(Policy.objects.filter(scope="baseline").order_by("pk").values_list("baseline_tier", "name"))
    assert rows == [("good", "Baseline — Good"), ("better", "Baseline — Better"), ("best", "Baseline — Best")]
    good = Policy.objects.get(baseline_tier="good")
    assert sorted(good.checks.values_list("check_type", "os_family")) == [
        ("cpu", ""), ("disk_free", "linux"), ("disk_free", "macos"), ("disk_free", "windows"), ("memory", "")]


def test_baseline_apply_attaches_the_tier_audits_and_emits() -> None:
    # given a client with a Linux device and a Windows device
    admin = make_staff("admin", mfa=False)
    client = make_client()
    linux = make_device(client, os_family="linux")
    make_device(client, os_family="windows")
    # when Better is applied
    baseline = services.baseline_apply(actor=admin, client=client, tier="better")
    # then Good's checks and Better's collectors reach the devices
    effective = effective_policy(linux)
    assert baseline.tier == "better"
    assert sorted(c["type"] for c in effective.checks) == ["cpu", "disk_free", "memory"]
    assert effective.collectors == {"inventory_hours": 12, "backup_tools": [], "network_discovery": False,
                                    "antivirus": True, "os_updates": True}
    entry = AuditEntry.objects.get(action="baseline.applied")
    assert (entry.client_id, entry.changes) == (client.pk, {"tier": [None, "better"]})
    assert [e.payload for e in OutboxEvent.objects.filter(name="baseline.applied")] == [
        {"client_id": client.pk, "tier": "better", "previous_tier": None}]


def test_baseline_apply_again_with_the_same_tier_writes_nothing() -> None:
    admin = make_staff("admin", mfa=False)
    client = make_client()
    services.baseline_apply(actor=admin, client=client, tier="good")
    audits = AuditEntry.objects.count()
    services.baseline_apply(actor=admin, client=client, tier="good")
    assert AuditEntry.objects.count() == audits
    assert OutboxEvent.objects.filter(name="baseline.applied").count() == 1


def test_baseline_compliance_counts_managed_devices_running_the_whole_baseline() -> None:
    # given a Good client with four managed devices, one of which switches the memory check off,
    # one unmanaged and one retired device
    admin = make_staff("admin", mfa=False)
    client = make_client()
    devices = [make_device(client, name=f"PC-{i}") for i in range(4)]
    make_device(client, managed=False)
    make_device(client, state="retired")
    make_check(make_policy(PolicyScope.DEVICE, device=devices[0]), "memory", enabled=False)
    before = baseline_compliance(client)
    services.baseline_apply(actor=admin, client=client, tier="good")
    # when
    compliance = baseline_compliance(client)
    # then 3 of 4 comply; before any baseline it was N/A
    assert (before.tier, before.share) == (None, None)
    assert (compliance.tier, compliance.managed, compliance.compliant) == ("good", 4, 3)
    assert compliance.share == 0.75
    assert compliance.percent == 75
    assert [d.pk for d in compliance.non_compliant] == [devices[0].pk]


def test_best_compliance_needs_the_backup_collector() -> None:
    admin = make_staff("admin", mfa=False)
    client = make_client()
    device = make_device(client)
    services.baseline_apply(actor=admin, client=client, tier="best")
    make_policy(PolicyScope.DEVICE, device=device, collectors={"backup_tools": []})
    assert baseline_compliance(client).compliant == 0


def test_baseline_apply_refused_to_a_technician_and_a_bad_tier() -> None:
    client = make_client()
    with pytest.raises(PermissionDenied):
        services.baseline_apply(actor=make_staff("technician", mfa=False), client=client, tier="good")
    with pytest.raises(ValidationError) as exc:
        services.baseline_apply(actor=make_staff("admin", mfa=False), client=client, tier="platinum")
    assert exc.value.errors == {"tier": ["Choose a tier: good, better or best."]}
    assert not ClientBaseline.objects.exists()


# --- params validation --------------------------------------------------------------------------

@pytest.mark.parametrize(("check_type", "params", "errors"), [
    ("cpu", {"warn_pct": 150}, {"params.warn_pct": ["Enter a value between 0 and 100."]}),
    ("cpu", {"warn_pct": 90, "fail_pct": 80}, {"params.fail_pct": [
        "The failure level must be at or above the warning level."]}),
    ("disk_free", {"warn_pct": 20}, {"params.mount": ["This parameter is required."]}),
    ("disk_free", {"mount": "/", "warn_pct": 10, "fail_pct": 20}, {"params.fail_pct": [
        "The failure level must be at or below the warning level (less free space is worse)."]}),
    ("tcp_port", {"host": "-oProxyCommand=x", "port": 70000}, {
        "params.host": ["Enter a host name or an IP address."], "params.port": ["Enter a value between 1 and 65535."]}),
    ("http", {"url": "ftp://example.com"}, {"params.url": ["Enter an http:// or https:// URL."]}),
    ("log_pattern", {"source": "journal", "pattern": "(unclosed"}, {"params.pattern": [
        "Not a valid regular expression: missing ), unterminated subpattern at position 0"]}),
    ("ping", {"host": "10.0.0.1", "count": 2.5}, {"params.count": ["Enter a whole number."]}),
    ("service", {"name": "spooler", "colour": "red"}, {"params.colour": ["Unknown parameter for a service check."]}),
    ("memory", {"warn_pct": True}, {"params.warn_pct": ["Enter a number."]}),
])
def test_bad_params_are_refused_with_field_errors_and_nothing_is_written(check_type, params, errors) -> None:
    admin = make_staff("admin", mfa=False)
    policy = make_policy(PolicyScope.GLOBAL)
    audits = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.check_create(actor=admin, policy=policy, data={
            "check_type": check_type, "name": "Bad", "params": params, "interval_s": 300})
    assert exc.value.errors == errors
    assert CheckDefinition.objects.filter(policy=policy).count() == 0
    assert AuditEntry.objects.count() == audits


def test_good_params_are_completed_with_defaults() -> None:
    admin = make_staff("admin", mfa=False)
    check = services.check_create(actor=admin, policy=make_policy(PolicyScope.GLOBAL), data={
        "check_type": "tcp_port", "name": "RDP", "params": {"host": "srv-ad-01", "port": "3389"}})
    assert check.params == {"host": "srv-ad-01", "port": 3389, "timeout_s": 5}
    assert (check.interval_s, check.severity, check.failures_before_alert) == (300, "warning", 3)


def test_interval_and_failures_out_of_range_are_refused() -> None:
    admin = make_staff("admin", mfa=False)
    with pytest.raises(ValidationError) as exc:
        services.check_create(actor=admin, policy=make_policy(PolicyScope.GLOBAL), data={
            "check_type": "cpu", "name": "Fast", "params": {}, "interval_s": 10, "failures_before_alert": 21})
    assert exc.value.errors == {"interval_s": ["Ensure this value is greater than or equal to 30."],
                                "failures_before_alert": ["Ensure this value is less than or equal to 20."]}


# --- permissions (roles.md: policies F owner/admin/service manager, R technician) ------------------

@pytest.mark.parametrize(("role", "allowed"), [("owner", True), ("admin", True), ("service_manager", True),
                                               ("technician", False), ("account_manager", False),
                                               ("finance", False)])
def test_who_may_create_a_client_policy(role: str, allowed: bool) -> None:
    client = make_client()
    actor = make_staff(role, mfa=False)
    data = {"name": "Servers", "scope": "client", "client_id": client.pk}
    if allowed:
        assert services.policy_create(actor=actor, data=data).client == client
    else:
        with pytest.raises(PermissionDenied):
            services.policy_create(actor=actor, data=data)
        assert not Policy.objects.filter(name="Servers").exists()


def test_restricted_staff_may_not_change_msp_wide_policies_nor_target_other_clients() -> None:
    mine, other = make_client(), make_client()
    manager = make_staff("service_manager", mfa=False, clients=[mine], restricted=True)
    global_policy = make_policy(PolicyScope.GLOBAL, name="Everywhere")
    with pytest.raises(PermissionDenied):
        services.policy_update(actor=manager, policy=global_policy, data={"name": "Mine now"})
    with pytest.raises(ValidationError) as exc:
        services.policy_create(actor=manager, data={"name": "X", "scope": "client", "client_id": other.pk})
    assert exc.value.errors == {"client": ["Choose one of the clients you may see."]}
    global_policy.refresh_from_db()
    assert global_policy.name == "Everywhere"


def test_baseline_policies_cannot_be_deleted() -> None:
    with pytest.raises(Conflict):
        services.policy_delete(actor=make_staff("owner", mfa=False), policy=Policy.objects.get(baseline_tier="good"))


def test_policy_delete_resolves_its_open_alerts() -> None:
    admin = make_staff("admin", mfa=False)
    client = make_client()
    device = make_device(client)
    policy = make_policy(PolicyScope.CLIENT, client=client)
    check = make_check(policy, "cpu")
    alert = Alert.objects.create(client=client, device=device, check_definition=check, title="CPU")
    services.policy_delete(actor=admin, policy=policy)
    alert.refresh_from_db()
    assert alert.status == "resolved"
    assert OutboxEvent.objects.get(name="alert.resolved").payload["reason"] == "check_removed"


# --- alerts ------------------------------------------------------------------------------------

def test_technician_acknowledges_then_resolves() -> None:
    client = make_client()
    alert = Alert.objects.create(client=client, device=make_device(client), title="Down")
    tech = make_staff("technician", mfa=False)
    services.alert_acknowledge(actor=tech, alert=alert)
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", tech)
    with pytest.raises(Conflict):
        services.alert_acknowledge(actor=tech, alert=alert)
    services.alert_resolve(actor=tech, alert=alert)
    assert alert.status == "resolved"
    assert list(AuditEntry.objects.filter(object_id=str(alert.pk)).order_by("pk").values_list("action", flat=True)) \
        == ["alert.acknowledged", "alert.resolved"]


def test_account_manager_may_not_acknowledge() -> None:
    client = make_client()
    alert = Alert.objects.create(client=client, device=make_device(client), title="Down")
    with pytest.raises(PermissionDenied):
        services.alert_acknowledge(actor=make_staff("account_manager", mfa=False), alert=alert)
    alert.refresh_from_db()
    assert alert.status == "open"


def test_bulk_acknowledge_skips_alerts_the_actor_cannot_see() -> None:
    mine, other = make_client(), make_client()
    tech = make_staff("technician", mfa=False, clients=[mine], restricted=True)
    a = Alert.objects.create(client=mine, device=make_device(mine), title="A")
    b = Alert.objects.create(client=other, device=make_device(other), title="B")
    assert services.alert_bulk_acknowledge(actor=tech, alert_ids=[a.pk, b.pk]) == 1
    assert dict(Alert.objects.values_list("title", "status")) == {"A": "acknowledged", "B": "open"}


# --- maintenance windows -------------------------------------------------------------------------

def test_window_must_end_after_it_starts_and_name_own_devices() -> None:
    client, other = make_client(), make_client()
    tech = make_staff("technician", mfa=False)
    now = timezone.now()
    with pytest.raises(ValidationError) as exc:
        services.window_create(actor=tech, client=client, data={"starts_at": now, "ends_at": now, "reason": "x"})
    assert exc.value.errors == {"ends_at": ["The end must be after the start."]}
    with pytest.raises(ValidationError) as exc:
        services.window_create(actor=tech, client=client, data={
            "starts_at": now, "ends_at": now + timedelta(hours=1), "reason": "x", "device_id": make_device(other).pk})
    assert exc.value.errors == {"device": ["Choose one of this client's devices."]}
    assert MaintenanceWindow.objects.count() == 0
    window = services.window_create(actor=tech, client=client, data={
        "starts_at": now, "ends_at": now + timedelta(hours=2), "reason": "Switch replacement"})
    assert (window.created_by, window.reason) == (tech, "Switch replacement")
    with pytest.raises(PermissionDenied):
        services.window_delete(actor=tech, window=window)
