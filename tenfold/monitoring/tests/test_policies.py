"""Effective policy: merge order, overrides, version stability, and the cached check-in provider."""

from __future__ import annotations

import pytest

from tenfold.agents import hooks
from tenfold.monitoring import policies
from tenfold.monitoring.models import ClientBaseline, PolicyScope
from tenfold.monitoring.policies import effective_policy, policy_for_device
from tenfold.monitoring.tests.factories import make_check, make_client, make_device, make_policy, make_site

pytestmark = pytest.mark.django_db


def _no_baselines() -> None:
    # The data migration's baseline policies only apply through ClientBaseline; nothing here attaches one.
    assert not ClientBaseline.objects.exists()


def test_effective_policy_merges_global_client_site_and_device_with_narrowest_winning() -> None:
    # given a global CPU and disk check, a client memory check, a site disk override, a device CPU override
    _no_baselines()
    client = make_client()
    site = make_site(client)
    device = make_device(client, site=site)
    global_policy = make_policy(PolicyScope.GLOBAL, collectors={"inventory_hours": 24})
    global_cpu = make_check(global_policy, "cpu", name="CPU global")
    global_disk = make_check(global_policy, "disk_free", {"mount": "/", "warn_pct": 20, "fail_pct": 10})
    client_memory = make_check(make_policy(PolicyScope.CLIENT, client=client, collectors={"inventory_hours": 6}),
                               "memory")
    site_disk = make_check(make_policy(PolicyScope.SITE, site=site), "disk_free",
                           {"mount": "/", "warn_pct": 30, "fail_pct": 15})
    device_cpu = make_check(make_policy(PolicyScope.DEVICE, device=device), "cpu",
                            {"warn_pct": 70, "fail_pct": 90, "samples": 2})
    # when
    effective = effective_policy(device)
    # then each type+target comes from the narrowest policy, and collectors are overridden key by key
    assert [c["id"] for c in effective.checks] == sorted([client_memory.pk, site_disk.pk, device_cpu.pk])
    by_check = {s.check.pk: s for s in effective.sources}
    assert by_check[device_cpu.pk].scope == "device"
    assert [c.pk for c in by_check[device_cpu.pk].replaces] == [global_cpu.pk]
    assert [c.pk for c in by_check[site_disk.pk].replaces] == [global_disk.pk]
    assert effective.collectors == {"inventory_hours": 6, "backup_tools": [], "network_discovery": False}
    assert {c["id"]: c["params"] for c in effective.checks}[site_disk.pk] == {"mount": "/", "warn_pct": 30,
                                                                              "fail_pct": 15}


def test_a_disabled_narrower_check_switches_the_broader_one_off() -> None:
    # given a global CPU check and a device policy with a disabled CPU check
    client = make_client()
    device = make_device(client)
    make_check(make_policy(PolicyScope.GLOBAL), "cpu")
    make_check(make_policy(PolicyScope.DEVICE, device=device), "cpu", enabled=False)
    # when
    effective = effective_policy(device)
    # then no CPU check runs on the device
    assert effective.checks == []
    assert [s.active for s in effective.sources] == [False]


def test_other_clients_sites_devices_and_other_os_checks_do_not_apply() -> None:
    # given policies of another client, another site, another device, and a Windows-only check
    client, other = make_client(), make_client()
    device = make_device(client, site=make_site(client), os_family="linux")
    make_check(make_policy(PolicyScope.CLIENT, client=other), "memory")
    make_check(make_policy(PolicyScope.SITE, site=make_site(client, "Annex")), "memory")
    make_check(make_policy(PolicyScope.DEVICE, device=make_device(client)), "memory")
    windows = make_policy(PolicyScope.GLOBAL)
    make_check(windows, "disk_free", {"mount": "C:\\", "warn_pct": 20, "fail_pct": 10}, os_family="windows")
    linux_disk = make_check(windows, "disk_free", {"mount": "/", "warn_pct": 20, "fail_pct": 10}, os_family="linux")
    # when
    effective = effective_policy(device)
    # then only the Linux disk check applies
    assert [c["id"] for c in effective.checks] == [linux_disk.pk]


def test_version_is_stable_and_changes_with_the_policy() -> None:
    # given a device with a global check
    device = make_device(make_client())
    check = make_check(make_policy(PolicyScope.GLOBAL), "cpu")
    # when computed twice, then once more after a threshold change
    first, second = effective_policy(device).version, effective_policy(device).version
    check.params = {"warn_pct": 80, "fail_pct": 95, "samples": 1}
    check.save()
    third = effective_policy(device).version
    # then the version is a sha256 that is the same for the same policy and differs after a change
    assert first == second
    assert len(first) == 64
    assert third != first


def test_a_disabled_policy_does_not_apply() -> None:
    device = make_device(make_client())
    make_check(make_policy(PolicyScope.GLOBAL, enabled=False), "cpu")
    assert effective_policy(device).checks == []


def test_provider_is_registered_and_cached_until_the_generation_changes(django_assert_num_queries) -> None:
    # given a device with a global CPU check, its policy asked once through the agents hook
    device = make_device(make_client())
    policy = make_policy(PolicyScope.GLOBAL)
    make_check(policy, "cpu")
    version, answer = hooks.policy_for_device(device)  # type: ignore[misc]
    # when asked again, then it comes from the cache without any query
    with django_assert_num_queries(0):
        assert policy_for_device(device) == (version, answer)
    # when a check is added and the generation bumped, then the new policy is served
    make_check(policy, "memory")
    policies._bump()
    new_version, new_answer = policy_for_device(device.pk)
    assert new_version != version
    assert [c["type"] for c in new_answer["checks"]] == ["cpu", "memory"]
    assert new_answer["version"] == new_version


def test_services_bump_the_generation_on_commit(django_capture_on_commit_callbacks) -> None:
    from tenfold.accounts.testing import make_staff
    from tenfold.monitoring import services

    admin = make_staff("admin", mfa=False)
    before = policies.generation()
    with django_capture_on_commit_callbacks(execute=True):
        services.policy_create(actor=admin, data={"name": "Everywhere", "scope": "global"})
    assert policies.generation() == before + 1
